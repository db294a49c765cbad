"""db/plans.py with owners: each API key sees only its own plans and idempotency keys.

On SQLite and on PostgreSQL: another owner's plan is exactly an unknown id; the same
Idempotency-Key from two owners makes two plans; admins count plans per owner and move them
(with their idempotency records) from one owner to another; and migration 0009 turns a
database of plans saved before owners (revision 0008) into plans of the owner ``legacy``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import Engine, text

from cms_pricing.db import plans as store
from cms_pricing.db.keys import LEGACY
from cms_pricing.db.repository import alembic_config, create_db_engine, migrate
from cms_pricing.engine.plans import Plan, PlanLine
from cms_pricing.errors import BadRequest, Conflict, NotFound

PLAN = Plan(lines=(PlanLine("99213", provider="dr a"), PlanLine("27447")), zip="10001")
OTHER = Plan(lines=(PlanLine("99214"),), zip="94110")
ALICE, BOB, CAROL = "a11ce0000001", "b0b000000002", "ca4010000003"


def _render(stored: store.StoredPlan) -> tuple[int, str]:
    return 201, stored.public_id


def _create(
    engine: Engine, owner: str, key: str | None = None, body: str = "r", plan: Plan = PLAN
) -> store.Replay:
    idem = None if key is None else store.Idempotency(key, body * 64)
    return store.create_plan(
        engine, "plan", plan, owner=owner, sha="s" * 64, idem=idem, render=_render
    )


def _not_found(call: Callable[[], object]) -> NotFound:
    with pytest.raises(NotFound) as caught:
        call()
    return caught.value


def _bobs_errors(engine: Engine, plan_id: str) -> list[NotFound]:
    """What Bob's get, update and delete of ``plan_id`` raise."""
    return [
        _not_found(lambda: store.get_plan(engine, plan_id, owner=BOB)),
        _not_found(
            lambda: store.update_plan(
                engine, plan_id, owner=BOB, expected=1, name="x", plan=OTHER, sha="t"
            )
        ),
        _not_found(lambda: store.delete_plan(engine, plan_id, 1, owner=BOB)),
    ]


def test_another_owners_plan_is_an_unknown_id(engine: Engine) -> None:
    """Bob's get, update and delete of Alice's plan raise the very NotFound of an unknown id;
    Bob's list and count are empty; Alice's plan is untouched."""
    public_id = _create(engine, ALICE).body
    for plan_id in (public_id, "pln_" + "0" * 24):
        for error in _bobs_errors(engine, plan_id):
            assert (error.message, error.details) == (f"no saved plan '{plan_id}'", {"field": "id"})
    assert store.list_plans(engine, None, 20, owner=BOB) == ([], False)
    assert store.count_plans(engine, owner=BOB) == 0
    stored = store.get_plan(engine, public_id, owner=ALICE)
    assert (stored.name, stored.version, stored.plan) == ("plan", 1, PLAN)
    assert [p.public_id for p in store.list_plans(engine, None, 20, owner=ALICE)[0]] == [public_id]


def test_lists_page_over_one_owners_plans(engine: Engine) -> None:
    """Interleaved plans of two owners: each owner's pages hold only theirs, in order."""
    mine = [_create(engine, owner).body for owner in (ALICE, BOB, ALICE, BOB, ALICE)][::2]
    page, more = store.list_plans(engine, None, 2, owner=ALICE)
    assert ([p.public_id for p in page], more) == (mine[:2], True)
    page, more = store.list_plans(engine, page[-1].pk, 2, owner=ALICE)
    assert ([p.public_id for p in page], more) == (mine[2:], False)
    assert (store.count_plans(engine, owner=ALICE), store.count_plans(engine, owner=BOB)) == (3, 2)


def test_idempotency_keys_are_per_owner(engine: Engine) -> None:
    """The same key and body from Alice and Bob: two plans, each replayed to its owner; the
    same key with another body conflicts only within one owner."""
    alice, bob = _create(engine, ALICE, "k"), _create(engine, BOB, "k")
    assert alice.body != bob.body and not alice.replayed and not bob.replayed
    assert _create(engine, ALICE, "k") == store.Replay(201, alice.body, replayed=True)
    assert _create(engine, BOB, "k") == store.Replay(201, bob.body, replayed=True)
    with pytest.raises(Conflict):
        _create(engine, ALICE, "k", body="x")
    carol = _create(engine, CAROL, "k", body="x")
    assert not carol.replayed and carol.body not in (alice.body, bob.body)


def test_deleting_a_plan_releases_only_its_owners_key(engine: Engine) -> None:
    """Alice deletes her plan: her key is free again (a new body makes a new plan), Bob's
    record under the same key still replays."""
    alice, bob = _create(engine, ALICE, "k"), _create(engine, BOB, "k")
    store.delete_plan(engine, alice.body, 1, owner=ALICE)
    again = _create(engine, ALICE, "k", body="x")
    assert not again.replayed and again.body != alice.body
    assert _create(engine, BOB, "k") == store.Replay(201, bob.body, replayed=True)


def test_list_owners_counts_plans(engine: Engine) -> None:
    """Every owner with plans, in owner order, with its count."""
    assert store.list_owners(engine) == []
    for owner in (BOB, ALICE, BOB, LEGACY):
        _create(engine, owner)
    assert store.list_owners(engine) == [(ALICE, 1), (BOB, 2), (LEGACY, 1)]


def test_reassign_all_moves_plans_and_their_keys(engine: Engine) -> None:
    """Every plan of legacy moves to Alice, with its idempotency record (Alice replays it);
    a key Alice already had stays hers and legacy's record of it is dropped."""
    moved = _create(engine, LEGACY, "k1").body
    clash = _create(engine, LEGACY, "k2").body
    keep = _create(engine, ALICE, "k2", body="x").body
    assert store.reassign_plans(engine, LEGACY, ALICE) == 2
    assert store.list_owners(engine) == [(ALICE, 3)]
    assert store.get_plan(engine, moved, owner=ALICE).plan == PLAN
    _not_found(lambda: store.get_plan(engine, moved, owner=LEGACY))
    assert _create(engine, ALICE, "k1") == store.Replay(201, moved, replayed=True)
    assert _create(engine, ALICE, "k2", body="x") == store.Replay(201, keep, replayed=True)
    assert store.get_plan(engine, clash, owner=ALICE).version == 1
    assert not _create(engine, LEGACY, "k1").replayed  # legacy's key went with the plan


def test_reassign_some_moves_only_those(engine: Engine) -> None:
    """Listed ids move with the keys that name them; the rest stay; an id that is not the
    first owner's plan is NotFound and nothing moves."""
    first, second = _create(engine, LEGACY, "k1").body, _create(engine, LEGACY, "k2").body
    bobs = _create(engine, BOB).body
    for ids in ([first, "pln_" + "0" * 24], [first, bobs]):
        _not_found(lambda: store.reassign_plans(engine, LEGACY, ALICE, ids))  # noqa: B023
    assert store.list_owners(engine) == [(BOB, 1), (LEGACY, 2)]
    assert store.reassign_plans(engine, LEGACY, ALICE, [first, first]) == 1
    assert store.list_owners(engine) == [(ALICE, 1), (BOB, 1), (LEGACY, 1)]
    assert _create(engine, ALICE, "k1") == store.Replay(201, first, replayed=True)
    assert _create(engine, LEGACY, "k2") == store.Replay(201, second, replayed=True)
    assert store.reassign_plans(engine, LEGACY, ALICE, []) == 0


@pytest.mark.parametrize(
    ("owners", "field"),
    [((ALICE, ALICE), "to_owner"), (("", ALICE), "from_owner"), ((ALICE, "x" * 41), "to_owner")],
)
def test_reassign_refuses_bad_owners(engine: Engine, owners: tuple[str, str], field: str) -> None:
    """The same owner twice, an empty or over-long owner: BadRequest naming it."""
    with pytest.raises(BadRequest) as caught:
        store.reassign_plans(engine, *owners)
    assert caught.value.details == {"field": field}


@pytest.mark.parametrize("owner", ["", "o" * 41, "a\x00b"])
def test_an_owner_no_row_can_hold_is_a_bad_request(engine: Engine, owner: str) -> None:
    """An empty, over-long or NUL owner is the caller's bug: BadRequest on ``owner``."""
    with pytest.raises(BadRequest) as caught:
        store.count_plans(engine, owner=owner)
    assert caught.value.details == {"field": "owner"}


def _seed_0008(url: str) -> None:
    """A database at revision 0008 holding a plan with a line and an idempotency record."""
    engine = create_db_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0008")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO plans (id, public_id, name, version, content_sha256, "
                "sequestration, line_count, zip, created_at, updated_at) VALUES "
                "(7, 'pln_legacy', 'old', 3, 'c', false, 1, '10001', :now, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO plan_lines (plan_pk, seq, code, modifiers, units, "
                "provider) VALUES (7, 0, '99213', '', 1, '')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO idempotency_keys (key, request_sha256, status, body, "
                "created_at) VALUES ('k', :sha, 201, 'pln_legacy', :now)"
            ),
            {"sha": "r" * 64, "now": now},
        )
    engine.dispose()


def test_migration_0009_makes_existing_plans_legacy(db_url: str) -> None:
    """0008 -> 0009 on a database holding a plan and an idempotency record: both belong to
    ``legacy`` (lines intact, the key replays), new owners can reuse the key; downgrading
    to 0008 keeps the plans and their lines, and upgrading again works."""
    _seed_0008(db_url)
    engine = create_db_engine(db_url)
    migrate(engine)
    stored = store.get_plan(engine, "pln_legacy", owner=LEGACY)
    assert (stored.name, stored.version, stored.pk) == ("old", 3, 7)
    assert stored.plan == Plan(lines=(PlanLine("99213"),), zip="10001")
    assert store.list_owners(engine) == [(LEGACY, 1)]
    assert _create(engine, LEGACY, "k") == store.Replay(201, "pln_legacy", replayed=True)
    assert not _create(engine, ALICE, "k").replayed
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0008")
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM plan_lines WHERE plan_pk = 7")) == 1
        assert conn.scalar(text("SELECT count(*) FROM idempotency_keys")) == 1
    migrate(engine)
    assert store.get_plan(engine, "pln_legacy", owner=LEGACY).plan == stored.plan
    engine.dispose()
