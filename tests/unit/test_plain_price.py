"""The one-pass price parser (``queries._plain_price``) answers as the full rules do.

``price_query`` tries ``_plain_price`` first, and takes the full rules (``read`` and
``any_price_fields``) when it returns None. So for every query the plain parser accepts, its
``PriceQuery`` must be the one the full rules give; and every query it accepts must be one the
full rules accept (a refusal is always theirs, with their message).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cms_pricing.engine.quote import PriceQuery
from cms_pricing.errors import PricingError
from cms_pricing.service import queries


def full_rules(raw: str) -> Any:
    """The typed request of the full rules (``PriceQuery`` or another schedule's), or their
    refusal."""
    try:
        return queries.any_price_fields(queries.read(raw, queries.ALL_PRICE_PARAMS))
    except PricingError as exc:
        return exc


# Values of each field: normal forms, near misses and hostile text.
FORMS = {
    "code": ["99213", "g0121", "0446T", "9921", "992133", "99 13", "9921²", "ZZZZZ", "", "99213 "],
    "zip": ["94110", "03780", "9411", "941101234", "94110-1234", "9411²", "ABCDE", ""],
    "locality": ["0111205", "1431240", "011120", "01112055", "011120²", ""],
    "setting": ["office", "facility", "Office", "FACILITY", "home", "", " office"],
    "pos": ["11", "1", "02", "22", "23", "19", "21", "99", "100", "0", "00", "ab", "", "２2"],
    "modifier": ["26", "TC", "tc", "53", "QW", "2", "", "TC "],
    "date": ["2025-03-02", "2025-02-30", "2025-13-01", "20250302", "2025-3-2", "２025-03-02", ""],
    "year": ["2025", "2024", "0000", "25", "20250", "２025", ""],
    "release": ["RVU25A", "rvu25d", ""],
    "schedule": ["mpfs", "clfs", ""],
    "bogus": ["1"],
}
field = st.sampled_from(sorted(FORMS)).flatmap(
    lambda name: st.tuples(st.just(name), st.sampled_from(FORMS[name]))
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(field, min_size=0, max_size=7), st.sampled_from(["", "&", "%41", "+"]))
@example([("code", "99213"), ("zip", "94110")], "")
@example([("code", "99213"), ("locality", "0111205"), ("pos", "22"), ("year", "2025")], "")
def test_the_plain_parser_answers_as_the_full_rules(
    pairs: list[tuple[str, str]], extra: str
) -> None:
    raw = "&".join(f"{name}={value}" for name, value in pairs) + extra
    plain = queries._plain_price(raw)
    if plain is not None:
        assert full_rules(raw) == plain
    assert _same(queries.price_query, raw, full_rules(raw))


def _same(parse: Callable[[str], Any], raw: str, expected: Any) -> bool:
    try:
        got = parse(raw)
    except PricingError as exc:
        return isinstance(expected, PricingError) and exc.body() == expected.body()
    return got == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("code=99213&zip=94110", PriceQuery("99213", zip="94110", setting="office", modifier="")),
        (
            "zip=03780&code=g0121&pos=2&modifier=TC&date=2025-03-02",
            PriceQuery(
                "G0121",
                zip="03780",
                setting="facility",
                pos="02",
                modifier="TC",
                on=dt.date(2025, 3, 2),
            ),
        ),
        (
            "code=43415&locality=1431240&setting=office&year=2025",
            PriceQuery("43415", locality="1431240", setting="office", modifier="", year=2025),
        ),
    ],
)
def test_the_common_queries_take_the_plain_path(raw: str, expected: PriceQuery) -> None:
    assert queries._plain_price(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "code=99213&zip=94110&zip=94110",  # repeated: the full rules refuse it
        "code=99213&zip=94110&locality=0111205",  # both places
        "code=99213&zip=94110&pos=22&setting=office",  # disagreeing
        "code=99213&zip=94110&date=2025-01-02&year=2025",  # two selectors
        "code=99213&zip=94110&release=RVU25A",  # a pinned release: the full rules
        "code=99213&zip=94110&setting=Office",  # not in normal form
        "code=99213&zip=94110-1234",  # a ZIP+4
        "code=99213&zip=94110&",  # an empty part
        "code=99213&zip=9411%30",  # percent-encoded
        "code=99213&zip=94110&date=2025-02-30",  # no such day
    ],
)
def test_anything_else_goes_to_the_full_rules(raw: str) -> None:
    assert queries._plain_price(raw) is None


GOOD = {
    "code": ["99213", "g0121", "0446T", "77067"],
    "zip": ["94110", "03780", "00601"],
    "locality": ["0111205", "1431240"],
    "setting": ["office", "facility"],
    "pos": ["11", "1", "02", "10", "22", "21"],
    "modifier": ["26", "TC", "53"],
    "date": ["2025-03-02", "2025-12-31", "2024-02-29"],
    "year": ["2025", "2024"],
}
plain_fields = st.sampled_from(sorted(GOOD)).flatmap(
    lambda name: st.tuples(st.just(name), st.sampled_from(GOOD[name]))
)


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(["zip", "locality"]), st.lists(plain_fields, max_size=4), st.randoms())
def test_well_formed_queries_in_any_order(
    place: str, more: list[tuple[str, str]], order: Any
) -> None:
    """Queries the plain parser is meant for: the same ``PriceQuery`` as the full rules,
    and the plain path taken whenever the full rules accept the query without a repeat."""
    pairs = [("code", GOOD["code"][0]), (place, GOOD[place][0]), *more]
    order.shuffle(pairs)
    raw = "&".join(f"{name}={value}" for name, value in pairs)
    expected = full_rules(raw)
    plain = queries._plain_price(raw)
    if plain is not None:
        assert plain == expected
    elif isinstance(expected, PriceQuery):  # parsed, yet not plain: a repeat, or two places
        names = [name for name, _ in pairs]  # or two selectors (the engine refuses those)
        given = set(names)
        assert len(given) < len(names) or {"zip", "locality"} <= given or {"date", "year"} <= given
