"""The one request parser (service/queries.py): splitting, field rules, canonical forms."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_pricing.errors import BadRequest, PreconditionRequired, PricingError
from cms_pricing.service import queries

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
values = st.text(max_size=12)


@given(st.lists(st.tuples(names, values), max_size=6))
def test_split_matches_parse_qsl(pairs: list[tuple[str, str]]) -> None:
    """For any encoded query, split gives what parse_qsl(keep_blank_values) gives."""
    query = "&".join(f"{quote_plus(n)}={quote_plus(v)}" for n, v in pairs)
    assert queries.split(query) == parse_qsl(query, keep_blank_values=True)


def test_an_encoded_ampersand_stays_inside_its_value() -> None:
    """pos=22%26zip%3D10001 is one pos parameter, refused as a place of service."""
    assert queries.split("pos=22%26zip%3D10001") == [("pos", "22&zip=10001")]
    with pytest.raises(BadRequest) as caught:
        queries.price_query("code=99214&pos=22%26zip%3D10001")
    assert caught.value.details["field"] == "pos"


@pytest.mark.parametrize(
    "raw",
    ["code=99214&zip=10001&bogus=", "code=99214&zip=10001&zip=", "code=99214&code=&zip=10001",
     "code=99214&zip=10001&release=&release=", "code=99214&zip=10001&x"],
)  # fmt: skip
def test_unknown_and_repeated_parameters_are_refused_even_when_blank(raw: str) -> None:
    """A blank unknown or repeated parameter is refused, not dropped."""
    with pytest.raises(BadRequest):
        queries.price_query(raw)


def test_blank_known_parameters_are_absent() -> None:
    """modifier= means no modifier: the same typed query as leaving it out."""
    assert queries.price_query("code=99213&zip=94110&modifier=") == queries.price_query(
        "code=99213&zip=94110"
    )


@pytest.mark.parametrize(
    ("field", "raw"),
    [("date", "2025-W27-3"), ("date", "2025-183"), ("date", "20250702"), ("date", "2025-02-30"),
     ("date", "２０２５-01-01"), ("year", "٢٠٢٥"), ("zip", "９４110"), ("code", "9921ı"),
     ("units", "٣"), ("setting", "offıce"), ("release", "rvu25ſ")],
)  # fmt: skip
def test_field_rules_accept_ascii_and_one_date_form_only(field: str, raw: str) -> None:
    """ISO week and ordinal dates, other scripts' digits and letters that upper-case to
    ASCII are refused by every field rule."""
    rule = {"date": queries.date, "year": queries.year, "zip": queries.zip_code,
            "code": queries.code, "units": queries.units, "setting": queries.setting,
            "release": queries.release}[field]  # fmt: skip
    with pytest.raises(BadRequest) as caught:
        rule(raw)
    assert caught.value.details["field"] == field


def test_messages_quote_at_most_a_bounded_part_of_the_input() -> None:
    """A 60,000-character ZIP is refused with a message of bounded size."""
    with pytest.raises(BadRequest) as caught:
        queries.price_query("code=99213&zip=" + "9" * 60_000)
    assert len(caught.value.body()) < 400


def test_canonical_forms_of_equivalent_queries_are_equal() -> None:
    """Order, case, ZIP+4 spelling, POS padding and blank parameters do not change the
    canonical form; the canonical form parses back to the same query."""
    a = queries.price_query("zip=94110-1234&code=99213&setting=Office&modifier=&pos=3")
    b = queries.price_query("code=99213&pos=03&zip=941101234&setting=office")
    assert a == b
    assert queries.price_canonical(a) == queries.price_canonical(b)
    assert queries.price_query(queries.price_canonical(a)) == a


price_inputs = st.fixed_dictionaries(
    {"code": st.sampled_from(["99213", "g0121", "0446T"])},
    optional={
        "zip": st.sampled_from(["94110", "94110-1234", "941101234", " 10001 "]),
        "setting": st.sampled_from(["office", "FACILITY", "Office"]),
        "pos": st.sampled_from(["11", "3", "03", "22"]),
        "modifier": st.sampled_from(["", "26", "tc", "53"]),
        "date": st.sampled_from(["2025-01-01", "2025-07-02"]),
        "release": st.sampled_from(["rvu25a", "RVU25D"]),
    },
)


@given(price_inputs, st.randoms())
def test_canonical_form_is_a_fixed_point(given_: dict[str, str], rnd: object) -> None:
    """parse(canonical(parse(q))) == parse(q) for every query that parses, in any order."""
    pairs = list(given_.items())
    rnd.shuffle(pairs)  # type: ignore[attr-defined]
    raw = "&".join(f"{n}={quote_plus(v)}" for n, v in pairs)
    try:
        typed = queries.price_query(raw)
    except PricingError:  # refused (400, or 422 for a combination)
        return
    canonical = queries.price_canonical(typed)
    assert queries.price_query(canonical) == typed
    assert queries.price_canonical(queries.price_query(canonical)) == canonical


def test_selector_and_other_typed_queries() -> None:
    """Reference queries parse their selector; their canonical forms are sorted."""
    found = queries.locality_query("zip=94110&date=2025-03-01")
    assert found.selector.on == dt.date(2025, 3, 1)
    assert found.canonical() == "date=2025-03-01&zip=94110"
    assert queries.code_query("release=rvu25b", "99213").canonical() == "code=99213&release=RVU25B"
    with pytest.raises(BadRequest):
        queries.no_query("x=1")


@pytest.mark.parametrize(
    ("header", "expected"),
    [('"v3"', 3), ('W/"v3"', 3), ("*", None), (' "v12" ', 12)],
)
def test_if_match_reads_our_entity_tags(header: str, expected: int | None) -> None:
    """If-Match accepts * and one ETag of this API."""
    assert queries.if_match(header) == expected


@pytest.mark.parametrize("header", ['"v1", "v2"', "v1", '"x1"', '"v١"', '"v"', "W/v1"])
def test_malformed_if_match_is_a_400(header: str) -> None:
    """A value that is not * or one of our ETags is refused, never read as a version."""
    with pytest.raises(BadRequest):
        queries.if_match(header)


def test_if_match_missing_is_428_and_huge_is_read_as_a_number() -> None:
    """Missing If-Match is 428; a huge version is read exactly (the store answers 412:
    tests/plans/test_saved_input.py)."""
    with pytest.raises(PreconditionRequired):
        queries.if_match(None)
    assert queries.if_match('"v99999999999999999999"') == 99999999999999999999


def test_bulk_lines_take_text_and_whole_numbers_only_where_documented() -> None:
    """year and units may be JSON integers; other fields must be text; unknown fields are
    refused."""
    query, units = queries.bulk_line({"code": "99213", "zip": "94110", "year": 2025, "units": 3})
    assert (query.year, units) == (2025, 3)
    for bad in ({"code": "99213", "zip": 94110}, {"code": "99213", "zip": "94110", "x": "1"},
                {"code": "99213", "zip": "94110", "units": True}, ["99213"]):  # fmt: skip
        with pytest.raises(BadRequest):
            queries.bulk_line(bad)
