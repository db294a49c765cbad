"""API keys: create, list, rotate, revoke, and the hashes a server accepts (issue 15).

Contract:

- A key string is ``cmsp_<id>_<secret>``: ``id`` is 12 lowercase hex characters (the key's
  public name, shown by ``keys list`` and the ``owner`` of the plans it saves), ``secret`` is
  ``secrets.token_urlsafe(32)``. Only ``hash_key(key string)`` (SHA-256 hex) is stored; the
  key string is returned once, by ``create_key`` and ``rotate_key``, and never again.
- Scopes are ``SCOPES``; a quota maps an endpoint class (``read``, ``bulk``, ``plans:write``)
  to a rate that ``service.ratelimit.Rate.parse`` reads, and is stored normalised (`` 600/min``
  as ``600/min``, classes sorted). Bad input raises ``BadRequest`` naming the field:
  ``name`` (empty, over 100 characters, control characters), ``scopes`` (none, or unknown),
  ``quota`` / ``quota.<class>`` (unknown class, unreadable rate), ``expires_at`` (not after
  now, or without a time zone), ``grace_minutes`` (below 0 or over ``MAX_GRACE_MINUTES``).
- ``rotate_key`` keeps the id (so ownership stays) and makes a new secret; the old secret
  stays valid for ``grace_minutes`` (0: it stops at once). A second rotation inside the grace
  period ends the first old secret's grace at once: only the newest old secret is kept. A
  revoked or expired key cannot be rotated (``Conflict``). ``revoke_key`` is final; revoking
  a revoked key changes nothing.
- ``active_hashes(now)`` maps every hash valid at ``now`` to its key. The entry for a previous
  secret carries ``expires_at`` = the end of its grace (or the key's expiry if sooner), so a
  caller that keeps the map checks ``key.active(now)`` at lookup time and needs to rebuild it
  only when ``keys_version`` changes.
- Every entry point raises ``DatabaseUnavailable`` when the database cannot be reached.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, func, insert, select, update

from cms_pricing.db import models as m
from cms_pricing.db.failures import storable_id, translated
from cms_pricing.errors import BadRequest, Conflict, NotFound, echo
from cms_pricing.service.ratelimit import Rate

SCOPES = ("read", "bulk", "plans:write", "admin")
QUOTA_CLASSES = ("read", "bulk", "plans:write")
LEGACY = "legacy"  # the owner of every plan saved before API keys
PREFIX = "cmsp_"
MAX_GRACE_MINUTES = 10080  # one week
KEYS = m.Base.metadata.tables["api_keys"]
NAME_LIMIT = 100
ID_LENGTH = 12


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    scopes: frozenset[str]
    quota: Mapping[str, Rate]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def active(self, now: datetime) -> bool:
        """Not revoked and not past its expiry at ``now``."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at

    def state(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked`` (what ``keys list`` shows)."""
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.active(now) else "expired"


def hash_key(secret: str) -> str:
    """SHA-256 hex of the whole key string: the only form of a key that is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


@translated
def create_key(
    engine: Engine,
    name: str,
    scopes: Iterable[str],
    *,
    expires_at: datetime | None = None,
    quota: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key; returns its record and the key string (shown once, stored only hashed)."""
    now = now or _now()
    key_id = secrets.token_hex(ID_LENGTH // 2)
    values = {
        "id": key_id,
        "name": _checked_name(name),
        "scopes": " ".join(sorted(_checked_scopes(scopes))),
        "quota": json.dumps(_checked_quota(quota or {}), sort_keys=True),
        "expires_at": _checked_expiry(expires_at, now),
        "created_at": now,
        "updated_at": now,
    }
    key = _key_string(key_id)
    with engine.begin() as conn:
        conn.execute(insert(KEYS).values({**values, "secret_hash": hash_key(key)}))
    return _record(values), key


def _key_string(key_id: str) -> str:
    return f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def _checked_name(name: str) -> str:
    if not name.strip():
        raise BadRequest("name must not be empty", field="name")
    if len(name) > NAME_LIMIT:
        raise BadRequest(f"name is longer than {NAME_LIMIT} characters", field="name")
    if not name.isprintable():
        raise BadRequest("name must not contain control characters", field="name")
    return name


def _checked_scopes(scopes: Iterable[str]) -> frozenset[str]:
    chosen = frozenset([scopes] if isinstance(scopes, str) else scopes)
    if not chosen:
        raise BadRequest(f"scopes: give at least one of {', '.join(SCOPES)}", field="scopes")
    for scope in sorted(chosen):
        if scope not in SCOPES:
            raise BadRequest(
                f"scope {echo(scope)} is unknown: use {', '.join(SCOPES)}", field="scopes"
            )
    return chosen


def _checked_quota(quota: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for kind, text in quota.items():
        if kind not in QUOTA_CLASSES:
            raise BadRequest(
                f"quota class {echo(kind)} is unknown: use {', '.join(QUOTA_CLASSES)}",
                field="quota",
            )
        try:
            checked[kind] = str(Rate.parse(text))
        except ValueError as exc:
            raise BadRequest(f"quota {kind}: {exc}", field=f"quota.{kind}") from None
    return checked


def _checked_expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise BadRequest("expires_at needs a time zone (UTC)", field="expires_at")
    if expires_at <= now:
        raise BadRequest(
            f"expires_at {expires_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC is not in the future",
            field="expires_at",
        )
    return expires_at.astimezone(UTC)


def _record(row: RowMapping | Mapping[str, Any]) -> ApiKey:
    quota = json.loads(row["quota"])
    return ApiKey(
        id=row["id"],
        name=row["name"],
        scopes=frozenset(row["scopes"].split()),
        quota={kind: Rate.parse(text) for kind, text in quota.items()},
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row.get("revoked_at"),
    )


@translated
def list_keys(engine: Engine) -> list[ApiKey]:
    """Every key, revoked and expired ones too, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(KEYS).order_by(KEYS.c.created_at, KEYS.c.id)).mappings()
        return [_record(row) for row in rows]


@translated
def get_key(engine: Engine, key_id: str) -> ApiKey:
    """The key with this id; ``NotFound`` when there is none."""
    with engine.connect() as conn:
        return _record(_row(conn, key_id))


def _row(conn: Connection, key_id: str) -> RowMapping:
    if storable_id(key_id, ID_LENGTH):
        row = conn.execute(select(KEYS).where(KEYS.c.id == key_id)).mappings().first()
        if row is not None:
            return row
    raise NotFound(f"no API key {echo(key_id)}", field="id")


@translated
def rotate_key(
    engine: Engine, key_id: str, *, grace_minutes: int = 0, now: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new secret for the key (same id); the old one works ``grace_minutes`` longer."""
    now = now or _now()
    if not 0 <= grace_minutes <= MAX_GRACE_MINUTES:
        raise BadRequest(
            f"grace_minutes must be 0 to {MAX_GRACE_MINUTES} (one week), not {grace_minutes}",
            field="grace_minutes",
        )
    key = _key_string(key_id)
    with engine.begin() as conn:
        row = _row(conn, key_id)
        record = _record(row)
        if not record.active(now):
            raise Conflict(f"key {key_id} is {record.state(now)}: create a new one", field="id")
        grace = grace_minutes > 0
        values = {
            "secret_hash": hash_key(key),
            "previous_hash": row["secret_hash"] if grace else None,
            "previous_valid_until": now + timedelta(minutes=grace_minutes) if grace else None,
            "updated_at": now,
        }
        # Compare-and-swap on the old hash: of two concurrent rotations, one wins.
        done = conn.execute(
            update(KEYS)
            .where(KEYS.c.id == key_id, KEYS.c.secret_hash == row["secret_hash"])
            .values(values)
        )
        if done.rowcount != 1:
            raise Conflict(f"key {key_id} was rotated at the same time; retry", field="id")
    return record, key


@translated
def revoke_key(engine: Engine, key_id: str, *, now: datetime | None = None) -> ApiKey:
    """Revoke the key for good (its secrets stop working); a second revoke changes nothing."""
    now = now or _now()
    with engine.begin() as conn:
        row = _row(conn, key_id)
        if row["revoked_at"] is not None:
            return _record(row)
        conn.execute(
            update(KEYS)
            .where(KEYS.c.id == key_id, KEYS.c.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
        )
        return _record({**row, "revoked_at": now})


@translated
def active_hashes(engine: Engine, now: datetime) -> dict[str, ApiKey]:
    """Every hash valid at ``now``: each active key's secret and its previous one in grace."""
    query = select(KEYS).where(KEYS.c.revoked_at.is_(None))
    found: dict[str, ApiKey] = {}
    with engine.connect() as conn:
        for row in conn.execute(query).mappings():
            key = _record(row)
            if not key.active(now):
                continue
            found[row["secret_hash"]] = key
            until = row["previous_valid_until"]
            if row["previous_hash"] is not None and until is not None and now < until:
                ends = until if key.expires_at is None else min(until, key.expires_at)
                found[row["previous_hash"]] = replace(key, expires_at=ends)
    return found


@translated
def keys_version(engine: Engine) -> str:
    """A marker that changes whenever a key is created, rotated or revoked (one query)."""
    with engine.connect() as conn:
        count, latest = conn.execute(select(func.count(), func.max(KEYS.c.updated_at))).one()
    return f"{count}:{latest}"
