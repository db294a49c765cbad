"""Query-string splitting: the fast splitter agrees with the standard library."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote_plus

from hypothesis import given
from hypothesis import strategies as st

from cms_pricing.api.params import split_query

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
values = st.text(max_size=12)


@given(st.lists(st.tuples(names, values), max_size=6))
def test_split_query_matches_parse_qsl(pairs: list[tuple[str, str]]) -> None:
    """For any encoded query, split_query gives what parse_qsl(keep_blank_values) gives."""
    query = "&".join(f"{quote_plus(n)}={quote_plus(v)}" for n, v in pairs)
    assert split_query(query) == parse_qsl(query, keep_blank_values=True)


def test_split_query_plain_and_odd_forms() -> None:
    """Plain values pass through; '+' is a space; a name without '=' has a blank value."""
    assert split_query("code=99213&zip=94110") == [("code", "99213"), ("zip", "94110")]
    assert split_query("a=b+c&&flag") == [("a", "b c"), ("flag", "")]
