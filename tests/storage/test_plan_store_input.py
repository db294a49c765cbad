"""db/plans.py refuses input no row can hold before it reaches the database, on both databases.

PostgreSQL refuses a NUL character in text, an over-long value for a ``VARCHAR(n)`` and an
integer over 2**31-1 for ``INTEGER`` with a driver error (a 500 before issue 10); SQLite raises
``OverflowError`` at 2**63. These tests pin the typed answers instead: ``NotFound`` for an id no
plan can have, ``PreconditionFailed`` for a version no plan can be at, ``BadRequest`` naming
the field for text, an empty page after an id beyond the column.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Engine

from cms_pricing.db import plans as store
from cms_pricing.engine.plans import Plan, PlanLine
from cms_pricing.errors import BadRequest, NotFound, PreconditionFailed

PLAN = Plan(lines=(PlanLine("99213", provider="dr a"), PlanLine("27447")), zip="10001")
HUGE = [2**31, 2**63, 10**20, -(2**31) - 1]
OWNER = "0123456789ab"
BAD_IDS = ["pln_\x00", "pln_é", "pln_" + "a" * 200, "pln_\n", ""]


def _render(stored: store.StoredPlan) -> tuple[int, str]:
    return 201, stored.public_id


def _create(engine: Engine, name: str = "plan", plan: Plan = PLAN) -> str:
    answer = store.create_plan(
        engine, name, plan, owner=OWNER, sha="s" * 64, idem=None, render=_render
    )
    return answer.body


@pytest.mark.parametrize("public_id", BAD_IDS)
def test_an_id_no_plan_can_have_is_not_found(engine: Engine, public_id: str) -> None:
    """A NUL, non-ASCII, control-character, empty or over-long id: get, update and delete
    are NotFound on ``id``, as for any unknown id."""
    _create(engine)
    calls = [
        lambda: store.get_plan(engine, public_id, owner=OWNER),
        lambda: store.update_plan(
            engine, public_id, owner=OWNER, expected=1, name="x", plan=PLAN, sha="s"
        ),
        lambda: store.delete_plan(engine, public_id, 1, owner=OWNER),
    ]
    for call in calls:
        with pytest.raises(NotFound) as caught:
            call()
        assert caught.value.details == {"field": "id"}
    assert store.count_plans(engine, owner=OWNER) == 1


@pytest.mark.parametrize("version", HUGE)
def test_a_version_beyond_the_column_is_precondition_failed(engine: Engine, version: int) -> None:
    """``expected`` beyond INTEGER (or SQLite's 64 bits) is 412 with the current version, and
    the plan is left as it was."""
    public_id = _create(engine)
    with pytest.raises(PreconditionFailed) as caught:
        store.update_plan(
            engine, public_id, owner=OWNER, expected=version, name="x", plan=PLAN, sha="s"
        )
    assert caught.value.details == {"field": "If-Match", "current_version": 1}
    with pytest.raises(PreconditionFailed):
        store.delete_plan(engine, public_id, version, owner=OWNER)
    stored = store.get_plan(engine, public_id, owner=OWNER)
    assert (stored.name, stored.version) == ("plan", 1)


@pytest.mark.parametrize("after", [2**31, 2**63, 10**20])
def test_a_page_after_an_id_beyond_the_column_is_empty(engine: Engine, after: int) -> None:
    """``list_plans(after=...)`` past any id the column can hold is an empty last page."""
    _create(engine)
    assert store.list_plans(engine, after, 20, owner=OWNER) == ([], False)
    assert len(store.list_plans(engine, None, 20, owner=OWNER)[0]) == 1


def _line(**changes: str) -> Plan:
    return replace(PLAN, lines=(PLAN.lines[0], replace(PLAN.lines[1], **changes)))


TEXT_CASES = [
    ("name\x00", PLAN, "name"),
    ("plan", _line(provider="dr\x00b"), "lines.1.provider"),
    ("plan", _line(provider="p" * 65), "lines.1.provider"),
    ("plan", _line(code="99\x00213"), "lines.1.code"),
    ("plan", replace(PLAN, zip="100\x0001"), "zip"),
    ("plan", replace(PLAN, release_id="R" * 17), "release"),
]


@pytest.mark.parametrize(("name", "plan", "field"), TEXT_CASES)
def test_text_the_database_cannot_store_is_a_bad_request(
    engine: Engine, name: str, plan: Plan, field: str
) -> None:
    """A NUL character, or text longer than its column, is BadRequest naming the field, on
    create and on update; nothing is written."""
    with pytest.raises(BadRequest) as caught:
        _create(engine, name, plan)
    assert caught.value.details == {"field": field}
    public_id = _create(engine)
    with pytest.raises(BadRequest) as caught:
        store.update_plan(engine, public_id, owner=OWNER, expected=1, name=name, plan=plan, sha="s")
    assert caught.value.details == {"field": field}
    assert store.get_plan(engine, public_id, owner=OWNER).version == 1
    assert store.count_plans(engine, owner=OWNER) == 1


def test_an_idempotency_key_with_a_nul_is_a_bad_request(engine: Engine) -> None:
    """The key is stored too: a NUL in it is BadRequest on ``Idempotency-Key``."""
    idem = store.Idempotency("key\x00", "r" * 64)
    with pytest.raises(BadRequest) as caught:
        store.create_plan(
            engine, "plan", PLAN, owner=OWNER, sha="s" * 64, idem=idem, render=_render
        )
    assert caught.value.details == {"field": "Idempotency-Key"}
