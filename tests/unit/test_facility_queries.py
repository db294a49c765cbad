"""OPPS, ASC and site-of-service queries: ``cbsa``, ``wage_index`` and ``/codes/{code}/sites``."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest

from cms_pricing.engine.quote import ScheduleRequest, SitesRequest
from cms_pricing.errors import BadRequest, PricingError, Unprocessable
from cms_pricing.service import queries


def test_facility_schedules_read_cbsa_or_wage_index() -> None:
    """schedule=opps and asc take a CBSA (5 digits, or 2 for a state's rural area) or a wage
    index given directly, as exact decimals."""
    assert queries.price_query("schedule=opps&code=45378&cbsa=35614&date=2025-03-01") == (
        ScheduleRequest("opps", "45378", on=dt.date(2025, 3, 1), cbsa="35614")
    )
    assert queries.price_query("schedule=ASC&code=45378&wage_index=1.2961") == (
        ScheduleRequest("asc", "45378", wage_index=Decimal("1.2961"))
    )
    assert queries.price_query("schedule=opps&code=45378&cbsa=09") == (
        ScheduleRequest("opps", "45378", cbsa="09")
    )
    assert queries.price_query("schedule=opps&code=45378") == ScheduleRequest("opps", "45378")


@pytest.mark.parametrize(
    ("raw", "field"),
    [("schedule=opps&code=45378&cbsa=35614&wage_index=1.1", "wage_index"),
     ("schedule=asc&code=45378&zip=10001", "zip"),
     ("schedule=opps&code=45378&modifier=TC", "modifier"),
     ("code=99213&zip=10001&cbsa=35614", "cbsa"),  # the MPFS takes no wage index
     ("schedule=clfs&code=80053&wage_index=1", "wage_index")],
)  # fmt: skip
def test_facility_fields_that_do_not_combine_are_422(raw: str, field: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        queries.price_query(raw)
    assert caught.value.details["field"] == field


@pytest.mark.parametrize(
    ("raw", "field"),
    [("schedule=opps&code=45378&cbsa=356", "cbsa"),
     ("schedule=opps&code=45378&cbsa=3561A", "cbsa"),
     ("schedule=opps&code=45378&cbsa=٣٥٦١٤", "cbsa"),
     ("schedule=opps&code=45378&wage_index=0", "wage_index"),
     ("schedule=opps&code=45378&wage_index=0.0000", "wage_index"),
     ("schedule=opps&code=45378&wage_index=10", "wage_index"),
     ("schedule=opps&code=45378&wage_index=1.23456", "wage_index"),
     ("schedule=opps&code=45378&wage_index=-1", "wage_index"),
     ("schedule=opps&code=45378&wage_index=1e0", "wage_index"),
     ("schedule=opps&code=45378&wage_index=NaN", "wage_index"),
     ("schedule=opps&code=45378&wage_index=Infinity", "wage_index")],
)  # fmt: skip
def test_malformed_wage_fields_are_400(raw: str, field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        queries.price_query(raw)
    assert caught.value.details["field"] == field


def _accepted(value: str, parse: object) -> bool:
    try:
        parse(value)  # type: ignore[operator]
    except BadRequest:
        return False
    return True


def test_the_documented_patterns_are_exactly_what_the_parser_accepts() -> None:
    """The OpenAPI patterns of cbsa and wage_index accept a value iff the parser does,
    over every short string of digits and dots (and a few others)."""
    wage = re.compile(queries.PATTERNS["wage_index"])
    cbsa = re.compile(queries.PATTERNS["cbsa"])
    alphabet = "0159."
    values = ["".join(p) for n in range(1, 7) for p in itertools.product(alphabet, repeat=n)]
    values += ["1.2961", "9.9999", "0.0001", "1,5", " 1", "1 ", "+1", "1e1", "٣"]
    for value in values:
        assert (wage.fullmatch(value) is not None) == _accepted(value, queries.wage_index), value
        assert (cbsa.fullmatch(value) is not None) == _accepted(value, queries.cbsa), value


@pytest.mark.parametrize(
    "raw",
    ["schedule=opps&code=45378&cbsa=35614&date=2025-03-01",
     "schedule=asc&code=66984&wage_index=1.2000&year=2025",
     "schedule=opps&code=45378&wage_index=.5"],
)  # fmt: skip
def test_facility_canonical_forms_parse_back(raw: str) -> None:
    """Equal wage indexes have one canonical form (1.2000 and 1.2), which parses back."""
    typed = queries.price_query(raw)
    assert queries.price_query(queries.canonical(typed)) == typed


def test_equal_wage_indexes_share_one_canonical_form() -> None:
    one = queries.price_query("schedule=opps&code=45378&wage_index=1.2000")
    other = queries.price_query("schedule=opps&code=45378&wage_index=1.2")
    assert queries.canonical(one) == queries.canonical(other)
    assert "wage_index=1.2" in queries.canonical(one)


def test_sites_query() -> None:
    """``/codes/{code}/sites``: zip or locality places the professional fee; cbsa or
    wage_index the facility fees; date or year picks the datasets."""
    assert queries.sites_query("zip=10001&cbsa=35614&date=2025-02-03", "45378") == SitesRequest(
        "45378", zip="10001", on=dt.date(2025, 2, 3), cbsa="35614"
    )
    assert queries.sites_query("locality=0120201&wage_index=1", "45378") == SitesRequest(
        "45378", locality="0120201", wage_index=Decimal(1)
    )
    typed = queries.sites_query("zip=10001&wage_index=1.10", "45378")
    assert queries.canonical(typed) == "code=45378&wage_index=1.1&zip=10001"


@pytest.mark.parametrize(
    ("raw", "kind", "field"),
    [("cbsa=35614", Unprocessable, "zip"),
     ("zip=10001&locality=0120201", Unprocessable, "locality"),
     ("zip=10001&cbsa=35614&wage_index=1", Unprocessable, "wage_index"),
     ("zip=10001&release=RVU25A", BadRequest, "release"),
     ("zip=10001&schedule=opps", BadRequest, "schedule"),
     ("zip=10001&cbsa=1", BadRequest, "cbsa")],
)  # fmt: skip
def test_sites_refusals(raw: str, kind: type[PricingError], field: str) -> None:
    with pytest.raises(kind) as caught:
        queries.sites_query(raw, "45378")
    assert caught.value.details["field"] == field


def test_bulk_lines_take_cbsa_and_wage_index() -> None:
    request, units = queries.bulk_line({"schedule": "opps", "code": "45378", "cbsa": "35614"})
    assert (request, units) == (ScheduleRequest("opps", "45378", cbsa="35614"), 1)
    with pytest.raises(BadRequest):
        queries.bulk_line({"schedule": "opps", "code": "45378", "wage_index": 1.2})
