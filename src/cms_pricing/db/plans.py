"""Saved treatment plans: create, read, list, update, delete, with idempotency and versions.

Contract:

- Every plan has an ``owner`` (the API key id that saved it; ``legacy`` for plans saved
  before API keys). Every entry point takes the caller's ``owner`` (keyword-only, required)
  and sees only that owner's plans: another owner's plan is ``NotFound`` with the same
  message as an unknown id, is in no list page and no count. Idempotency keys are per owner
  too: the same Idempotency-Key from two owners makes two plans.
- For admins: ``list_owners`` (every owner with its plan count) and ``reassign_plans`` (moves
  one owner's plans, all or the listed ones, with their idempotency records, to another in
  one transaction; a listed id that is not the first owner's is ``NotFound`` and nothing
  moves; an idempotency key the new owner already has stays the new owner's).
- Every write is one transaction: a plan row and all its ``plan_lines`` (and, on create, the
  ``idempotency_keys`` row) are written together or not at all.
- ``version`` is the optimistic-concurrency token: ``update_plan`` / ``delete_plan`` take the
  version the caller read and apply only if it is still current, as one conditional
  ``UPDATE``/``DELETE`` (a compare-and-swap, safe between processes and on both databases).
  A mismatch raises ``PreconditionFailed`` (412); an unknown id ``NotFound`` (404).
- ``create_plan`` with an idempotency key: the first call stores its answer (status and body)
  under the key in the same transaction as the plan; a later call with the same key and the
  same request hash gets that answer back without writing; with another request hash it
  raises ``Conflict`` (409). Deleting a plan releases the keys whose answer named it (a
  replayed 201 would name a plan that no longer exists). Two concurrent first calls race on
  the key's primary key: the loser's transaction rolls back and it replays the winner's
  answer.
- On SQLite every write transaction takes the database's write lock with its first
  statement (``_write_lock``): a deferred transaction that reads first and writes later
  cannot wait for another writer (SQLite answers "database is locked" at once), whereas
  the first lock waits out the busy timeout.
- ``list_plans`` pages by the surrogate ``id`` (``after`` is the last id of the previous
  page), oldest first, over the index (owner, id); an ``after`` beyond the id column's range
  is an empty last page.
- Input no row can hold never reaches the database (``db/failures.py``): an id that is not
  printable ASCII or is longer than ``public_id`` is ``NotFound``; an ``expected`` version
  outside the ``INTEGER`` range is ``PreconditionFailed`` (no version is that large); a name,
  provider or other text with a NUL character, or longer than its column, is ``BadRequest``
  naming the field (``name``, ``lines.3.provider``); so is an owner that is empty or
  longer than the column (a caller's bug, not a client's).
- Every entry point raises ``DatabaseUnavailable`` (503, ``Retry-After``) when the database
  cannot be reached, never the driver's error.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    RowMapping,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from cms_pricing.db import models as m
from cms_pricing.db.failures import INT_MAX, in_int_range, storable_id, text_value, translated
from cms_pricing.engine.plans import Plan, PlanLine
from cms_pricing.errors import BadRequest, Conflict, NotFound, PreconditionFailed, echo

TABLES = m.Base.metadata.tables
PLANS = TABLES["plans"]
LINES = TABLES["plan_lines"]
KEYS = TABLES["idempotency_keys"]
ID_LIMIT = int(PLANS.c.public_id.type.length or 32)  # type: ignore[attr-defined]
OWNER_LIMIT = int(PLANS.c.owner.type.length or 40)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class StoredPlan:
    public_id: str
    pk: int
    name: str
    version: int
    content_sha256: str
    line_count: int
    created_at: datetime
    updated_at: datetime
    plan: Plan | None  # None in list pages, which do not read lines


@dataclass(frozen=True, slots=True)
class Replay:
    """A create answered before under the same idempotency key."""

    status: int
    body: str
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Idempotency:
    key: str
    request_sha256: str


Render = Callable[[StoredPlan], tuple[int, str]]


def _now() -> datetime:
    return datetime.now(UTC)


def _plan_values(name: str, plan: Plan, sha: str) -> dict[str, Any]:
    return {
        "name": name,
        "content_sha256": sha,
        "zip": plan.zip,
        "locality": plan.locality,
        "date_of_service": plan.on,
        "release_id": plan.release_id,
        "setting": plan.setting,
        "pos": plan.pos,
        "deductible_remaining": plan.deductible_remaining,
        "sequestration": plan.sequestration,
        "line_count": len(plan.lines),
        "cbsa": plan.cbsa,
        "wage_index": plan.wage_index,
    }


def _insert_lines(conn: Connection, pk: int, lines: tuple[PlanLine, ...]) -> None:
    records = [
        {
            "plan_pk": pk,
            "seq": seq,
            "code": line.code,
            "modifiers": ",".join(line.modifiers),
            "units": line.units,
            "setting": line.setting,
            "pos": line.pos,
            "provider": line.provider,
            "schedule": line.schedule,
            "state": line.state,
            "rural": line.rural,
            "minutes": line.minutes,
            "cbsa": line.cbsa,
            "wage_index": line.wage_index,
            "date_of_service": line.on,
        }
        for seq, line in enumerate(lines)
    ]
    conn.execute(insert(LINES), records)


def _write_lock(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(update(PLANS).where(PLANS.c.id < 0).values(version=PLANS.c.version))


@translated
def create_plan(
    engine: Engine,
    name: str,
    plan: Plan,
    *,
    owner: str,
    sha: str,
    idem: Idempotency | None,
    render: Render,
) -> Replay:
    """Store a new plan of ``owner`` (and its idempotency record); returns the answer to send."""
    _check_owner(owner)
    _check_text(name, plan)
    if idem is not None:
        text_value("Idempotency-Key", idem.key, _limit(KEYS, "key"))
    try:
        with engine.begin() as conn:
            _write_lock(conn)
            replay = _replay(conn, owner, idem)
            if replay is not None:
                return replay
            stored = _insert_plan(conn, owner, name, plan, sha)
            status, body = render(stored)
            if idem is not None:
                conn.execute(insert(KEYS).values(owner=owner, key=idem.key, status=status,
                                                 request_sha256=idem.request_sha256, body=body,
                                                 created_at=_now()))  # fmt: skip
            return Replay(status, body)
    except IntegrityError:
        if idem is None:
            raise
        with engine.connect() as conn:
            replay = _replay(conn, owner, idem)
        if replay is None:
            raise
        return replay


def _replay(conn: Connection, owner: str, idem: Idempotency | None) -> Replay | None:
    if idem is None:
        return None
    query = select(KEYS).where(KEYS.c.owner == owner, KEYS.c.key == idem.key)
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    if row["request_sha256"] != idem.request_sha256:
        raise Conflict(
            "this Idempotency-Key was already used with a different request body",
            field="Idempotency-Key",
        )
    return Replay(int(row["status"]), str(row["body"]), replayed=True)


def _insert_plan(conn: Connection, owner: str, name: str, plan: Plan, sha: str) -> StoredPlan:
    now = _now()
    values = {
        **_plan_values(name, plan, sha),
        "owner": owner,
        "public_id": "pln_" + secrets.token_hex(12),
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    key = conn.execute(insert(PLANS).values(values)).inserted_primary_key
    if key is None:
        raise RuntimeError("plans: the insert returned no primary key")
    _insert_lines(conn, int(key[0]), plan.lines)
    return _stored(values | {"id": int(key[0])}, plan)


def _stored(row: RowMapping | dict[str, Any], plan: Plan | None) -> StoredPlan:
    return StoredPlan(
        public_id=row["public_id"],
        pk=row["id"],
        name=row["name"],
        version=row["version"],
        content_sha256=row["content_sha256"],
        line_count=row["line_count"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        plan=plan,
    )


@translated
def get_plan(engine: Engine, public_id: str, *, owner: str) -> StoredPlan:
    """The owner's plan with its lines; ``NotFound`` when the owner has none by that id."""
    _check_owner(owner)
    with engine.connect() as conn:
        row = _plan_row(conn, owner, public_id)
        lines = conn.execute(
            select(LINES).where(LINES.c.plan_pk == row["id"]).order_by(LINES.c.seq)
        ).mappings()
        plan = _plan(row, tuple(_line(x) for x in lines))
    return _stored(row, plan)


def _plan_row(conn: Connection, owner: str, public_id: str) -> RowMapping:
    """The owner's plan; another owner's is exactly as absent as an unknown id."""
    if storable_id(public_id, ID_LIMIT):
        query = select(PLANS).where(PLANS.c.public_id == public_id, PLANS.c.owner == owner)
        row = conn.execute(query).mappings().first()
        if row is not None:
            return row
    raise NotFound(f"no saved plan {echo(public_id)}", field="id")


def _line(row: RowMapping) -> PlanLine:
    modifiers = tuple(m for m in str(row["modifiers"]).split(",") if m)
    return PlanLine(
        row["code"], modifiers, row["units"], row["setting"], row["pos"], row["provider"],
        schedule=row["schedule"] or "mpfs", state=row["state"], rural=row["rural"],
        minutes=row["minutes"], cbsa=row["cbsa"], wage_index=row["wage_index"],
        on=row["date_of_service"],
    )  # fmt: skip


def _plan(row: RowMapping, lines: tuple[PlanLine, ...]) -> Plan:
    return Plan(
        lines=lines,
        zip=row["zip"],
        locality=row["locality"],
        on=row["date_of_service"],
        release_id=row["release_id"],
        setting=row["setting"],
        pos=row["pos"],
        deductible_remaining=row["deductible_remaining"],
        sequestration=row["sequestration"],
        cbsa=row["cbsa"],
        wage_index=row["wage_index"],
    )


@translated
def list_plans(
    engine: Engine, after: int | None, limit: int, *, owner: str
) -> tuple[list[StoredPlan], bool]:
    """One page of the owner's plans after id ``after``, and whether another page follows."""
    _check_owner(owner)
    if after is not None and after > INT_MAX:
        return [], False  # no id is that large: the page after it is empty
    query = select(PLANS).where(PLANS.c.owner == owner).order_by(PLANS.c.id).limit(limit + 1)
    if after is not None:
        query = query.where(PLANS.c.id > after)
    with engine.connect() as conn:
        rows = list(conn.execute(query).mappings())
    return [_stored(r, None) for r in rows[:limit]], len(rows) > limit


@translated
def count_plans(engine: Engine, *, owner: str) -> int:
    """How many plans the owner has."""
    _check_owner(owner)
    query = select(func.count()).select_from(PLANS).where(PLANS.c.owner == owner)
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


@translated
def list_owners(engine: Engine) -> list[tuple[str, int]]:
    """Every owner that has plans, with how many, in owner order (for admins)."""
    query = select(PLANS.c.owner, func.count()).group_by(PLANS.c.owner).order_by(PLANS.c.owner)
    with engine.connect() as conn:
        return [(str(owner), int(count)) for owner, count in conn.execute(query)]


@translated
def reassign_plans(
    engine: Engine, from_owner: str, to_owner: str, public_ids: Sequence[str] | None = None
) -> int:
    """Move ``from_owner``'s plans (all, or those listed) and their idempotency records to
    ``to_owner``; returns how many plans moved."""
    _check_owner(from_owner, "from_owner")
    _check_owner(to_owner, "to_owner")
    if from_owner == to_owner:
        raise BadRequest("from_owner and to_owner are the same owner", field="to_owner")
    ids = None if public_ids is None else sorted(set(public_ids))
    if ids == []:
        return 0
    with engine.begin() as conn:
        _write_lock(conn)
        plans = PLANS.c.owner == from_owner
        if ids is not None:
            _check_owned(conn, from_owner, ids)
            plans &= PLANS.c.public_id.in_(ids)
        moved = conn.execute(update(PLANS).where(plans).values(owner=to_owner)).rowcount
        _reassign_keys(conn, from_owner, to_owner, ids)
    return int(moved)


def _check_owned(conn: Connection, owner: str, ids: list[str]) -> None:
    """``NotFound`` for the first listed id that is not one of ``owner``'s plans."""
    query = select(PLANS.c.public_id).where(PLANS.c.owner == owner, PLANS.c.public_id.in_(ids))
    found = set(conn.scalars(query))
    for public_id in ids:
        if public_id not in found:
            raise NotFound(f"no saved plan {echo(public_id)} of {echo(owner)}", field="id")


def _reassign_keys(conn: Connection, from_owner: str, to_owner: str, ids: list[str] | None) -> None:
    """Move the idempotency records of the moved plans; a key ``to_owner`` already has wins."""
    moving: ColumnElement[bool] = KEYS.c.owner == from_owner
    if ids is not None:
        moving &= or_(*(KEYS.c.body.contains(i, autoescape=True) for i in ids))
    taken = select(KEYS.c.key).where(KEYS.c.owner == to_owner).scalar_subquery()
    conn.execute(delete(KEYS).where(moving, KEYS.c.key.in_(taken)))
    conn.execute(update(KEYS).where(moving).values(owner=to_owner))


@translated
def update_plan(
    engine: Engine,
    public_id: str,
    *,
    owner: str,
    expected: int | None,
    name: str,
    plan: Plan,
    sha: str,
) -> StoredPlan:
    """Replace the owner's plan and its lines if ``expected`` is the current version (None:
    any)."""
    _check_owner(owner)
    _check_text(name, plan)
    with engine.begin() as conn:
        _write_lock(conn)
        current = _plan_row(conn, owner, public_id)
        _check_expected(public_id, current, expected)
        version = current["version"] if expected is None else expected
        values = {**_plan_values(name, plan, sha), "version": version + 1, "updated_at": _now()}
        done = conn.execute(
            update(PLANS)
            .where(PLANS.c.id == current["id"], PLANS.c.version == version)
            .values(values)
        )
        if done.rowcount != 1:
            raise _stale(public_id, current["version"], expected)
        conn.execute(delete(LINES).where(LINES.c.plan_pk == current["id"]))
        _insert_lines(conn, current["id"], plan.lines)
        return _stored({**current, **values}, plan)


@translated
def delete_plan(engine: Engine, public_id: str, expected: int | None, *, owner: str) -> None:
    """Delete the owner's plan (lines cascade) if ``expected`` is the current version (None:
    any)."""
    _check_owner(owner)
    with engine.begin() as conn:
        _write_lock(conn)
        current = _plan_row(conn, owner, public_id)
        _check_expected(public_id, current, expected)
        version = current["version"] if expected is None else expected
        conn.execute(delete(LINES).where(LINES.c.plan_pk == current["id"]))
        done = conn.execute(
            delete(PLANS).where(PLANS.c.id == current["id"], PLANS.c.version == version)
        )
        if done.rowcount != 1:
            raise _stale(public_id, current["version"], expected)
        # Public ids are random and unique, so only the keys that created this plan match.
        named = KEYS.c.body.contains(public_id, autoescape=True)
        conn.execute(delete(KEYS).where(KEYS.c.owner == owner, named))


def _stale(public_id: str, current: int, expected: int | None) -> PreconditionFailed:
    return PreconditionFailed(
        f"plan {public_id} is at version {current}, not {expected}: it changed since it "
        "was read; GET it again and retry with its ETag",
        field="If-Match",
        current_version=current,
    )


def _check_expected(public_id: str, current: RowMapping, expected: int | None) -> None:
    """A version outside the column's range is no version: 412 before it reaches SQL."""
    if expected is not None and not in_int_range(expected):
        raise _stale(public_id, current["version"], expected)


def _limit(table: Any, column: str) -> int | None:
    length = getattr(table.c[column].type, "length", None)
    return int(length) if length is not None else None


def _check_owner(owner: str, field: str = "owner") -> None:
    if not owner:
        raise BadRequest(f"{field} must not be empty", field=field)
    text_value(field, owner, OWNER_LIMIT)


def _check_text(name: str, plan: Plan) -> None:
    """``BadRequest`` naming the field for text the database cannot store or hold."""
    text_value("name", name)
    for field, column in (("zip", "zip"), ("locality", "locality"), ("release", "release_id"),
                          ("setting", "setting"), ("pos", "pos"), ("cbsa", "cbsa")):  # fmt: skip
        text_value(field, getattr(plan, column), _limit(PLANS, column))
    for index, line in enumerate(plan.lines):
        where = f"lines.{index}"
        text_value(f"{where}.code", line.code, _limit(LINES, "code"))
        text_value(f"{where}.modifiers", ",".join(line.modifiers), _limit(LINES, "modifiers"))
        text_value(f"{where}.setting", line.setting, _limit(LINES, "setting"))
        text_value(f"{where}.pos", line.pos, _limit(LINES, "pos"))
        text_value(f"{where}.provider", line.provider, _limit(LINES, "provider"))
        text_value(f"{where}.schedule", line.schedule, _limit(LINES, "schedule"))
        text_value(f"{where}.state", line.state, _limit(LINES, "state"))
        text_value(f"{where}.cbsa", line.cbsa, _limit(LINES, "cbsa"))
