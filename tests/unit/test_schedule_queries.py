"""``GET /codes/price?schedule=``: the parser's rules for the schedules other than the MPFS."""

from __future__ import annotations

import datetime as dt

import pytest

from cms_pricing.engine.quote import PriceQuery, ScheduleRequest
from cms_pricing.errors import BadRequest, PricingError, Unprocessable
from cms_pricing.service import queries


def test_no_schedule_and_mpfs_are_the_same_query() -> None:
    """schedule=mpfs (any case) is today's MPFS query, with today's canonical form."""
    plain = queries.price_query("code=99213&zip=94110")
    assert isinstance(plain, PriceQuery)
    assert queries.price_query("schedule=MPFS&code=99213&zip=94110") == plain
    assert queries.canonical(plain) == "code=99213&setting=office&zip=94110"


def test_each_schedule_reads_its_own_fields() -> None:
    """Typed values for every schedule: modifiers in order, rural, units, minutes, dates."""
    assert queries.price_query("schedule=clfs&code=80053&modifier=qw&year=2025") == (
        ScheduleRequest("clfs", "80053", ("QW",), year=2025)
    )
    assert queries.price_query(
        "schedule=dmepos&code=e0601&modifier=RR&modifier2=kx&state=ca&rural=TRUE"
    ) == ScheduleRequest("dmepos", "E0601", ("RR", "KX"), state="CA", rural=True)
    assert queries.price_query("schedule=asp&code=J1100&units=4&date=2025-02-01") == (
        ScheduleRequest("asp", "J1100", units=4, on=dt.date(2025, 2, 1))
    )
    assert queries.price_query("schedule=asp&code=J1100") == ScheduleRequest(
        "asp", "J1100", units=1
    )
    assert queries.price_query(
        "schedule=anesthesia&code=00100&zip=10001&minutes=60&modifier=QK"
    ) == ScheduleRequest("anesthesia", "00100", ("QK",), zip="10001", minutes=60)


@pytest.mark.parametrize(
    ("raw", "field"),
    [("code=99213&zip=94110&units=3", "units"),  # an ASP field on the MPFS
     ("code=99213&zip=94110&modifier=QW", "modifier"),  # a CLFS modifier on the MPFS
     ("schedule=clfs&code=80053&zip=94110", "zip"),
     ("schedule=asp&code=J1100&setting=office", "setting"),
     ("schedule=dmepos&code=E0601&zip=94110&state=CA", "state"),
     ("schedule=dmepos&code=E0601", "zip"),
     ("schedule=dmepos&code=E0601&state=CA&modifier2=RR", "modifier2"),
     ("schedule=anesthesia&code=00100&zip=10001", "minutes"),
     ("schedule=anesthesia&code=00100&minutes=60", "zip")],
)  # fmt: skip
def test_valid_fields_that_do_not_combine_are_422(raw: str, field: str) -> None:
    """Each field is well formed, but not for that schedule or not together: 422 naming it."""
    with pytest.raises(Unprocessable) as caught:
        queries.price_query(raw)
    assert caught.value.details["field"] == field


@pytest.mark.parametrize(
    ("raw", "field"),
    [("schedule=ipps&code=45378", "schedule"), ("schedule=clfs&code=80053&modifier=Q", "modifier"),
     ("schedule=dmepos&code=E0601&state=C1", "state"),
     ("schedule=dmepos&code=E0601&state=CA&rural=yes", "rural"),
     ("schedule=asp&code=J1100&units=0", "units"),
     ("schedule=asp&code=J1100&units=100000", "units"),
     ("schedule=anesthesia&code=00100&zip=10001&minutes=1441", "minutes"),
     ("schedule=anesthesia&code=00100&zip=10001&minutes=٦٠", "minutes"),
     ("schedule=clfs&code=80053&bogus=1", "bogus")],
)  # fmt: skip
def test_malformed_fields_are_400(raw: str, field: str) -> None:
    """A value no schedule accepts is a 400 naming its field."""
    with pytest.raises(BadRequest) as caught:
        queries.price_query(raw)
    assert caught.value.details["field"] == field


@pytest.mark.parametrize(
    "raw",
    ["schedule=dmepos&code=E0601&modifier=RR&state=CA&rural=false",
     "schedule=asp&code=J1100&units=4&release=ASP-2025Q1",
     "schedule=anesthesia&code=00100&locality=0120201&minutes=60&modifier=QK&year=2025",
     "schedule=clfs&code=80053&modifier=QW&date=2025-02-01"],
)  # fmt: skip
def test_canonical_forms_parse_back_to_the_same_request(raw: str) -> None:
    """The canonical form of a schedule request is a query that parses to the same request,
    so two spellings of one request share one cache entry and one ETag."""
    typed = queries.price_query(raw)
    again = queries.price_query(queries.canonical(typed))
    assert again == typed
    shuffled = "&".join(reversed(raw.split("&"))).upper().replace("SCHEDULE=", "schedule=")
    with pytest.raises(PricingError):  # names are case-sensitive: upper-cased names refused
        queries.price_query(shuffled)


def test_bulk_lines_take_the_schedules_fields() -> None:
    """A bulk line prices any schedule; an ASP line's units are priced, not multiplied."""
    request, units = queries.bulk_line({"schedule": "asp", "code": "J1100", "units": 4})
    assert (request, units) == (ScheduleRequest("asp", "J1100", units=4), 1)
    request, units = queries.bulk_line(
        {"schedule": "dmepos", "code": "E0601", "modifier": "RR", "state": "CA", "rural": True,
         "units": 2}
    )  # fmt: skip
    assert (request, units) == (ScheduleRequest("dmepos", "E0601", ("RR",), state="CA",
                                                rural=True), 2)  # fmt: skip
    with pytest.raises(BadRequest):
        queries.bulk_line({"schedule": "dmepos", "code": "E0601", "state": "CA", "rural": 1})
