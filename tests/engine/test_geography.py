"""ZIP and carrier-locality parsing and resolution (engine.geography, Snapshot.resolve_*)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms_pricing.engine.geography import (
    STATE_NAMES,
    clean_locality_name,
    parse_locality,
    parse_zip,
)
from cms_pricing.engine.snapshot import Snapshot
from cms_pricing.errors import BadRequest, NotFound

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("94110", ("94110", None)),
        ("94110-1234", ("94110", "1234")),
        ("941101234", ("94110", "1234")),
        ("  00601 ", ("00601", None)),
    ],
)
def test_parse_zip_accepts_the_three_forms(text: str, expected: tuple[str, str | None]) -> None:
    """ZIP5, ZIP+4 with a hyphen and nine bare digits all parse; blanks around are ignored."""
    assert parse_zip(text) == expected


@pytest.mark.parametrize(
    "text", ["", "9411", "941100", "94110-123", "94110 1234", "9411O", "94110-12345", "９４１１０"]
)
def test_parse_zip_rejects_other_forms(text: str) -> None:
    """Anything else is a 400 naming the zip field and the accepted forms."""
    with pytest.raises(BadRequest) as caught:
        parse_zip(text)
    assert caught.value.details == {"field": "zip"}
    assert "94110-1234" in caught.value.message
    assert "941101234" in caught.value.message


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_parse_zip_nine_digits_splits_five_four(text: str) -> None:
    """Any nine digits split into the first five and the last four, with or without hyphen."""
    assert parse_zip(text) == (text[:5], text[5:])
    assert parse_zip(f"{text[:5]}-{text[5:]}") == (text[:5], text[5:])


def test_parse_locality_splits_carrier_and_locality() -> None:
    """Seven digits are a 5-digit carrier followed by a 2-digit locality."""
    assert parse_locality("0111205") == ("01112", "05")


@pytest.mark.parametrize("text", ["", "011125", "01112055", "01112-05", "0111A05", "CA05"])
def test_parse_locality_rejects_malformed(text: str) -> None:
    """A locality that is not exactly 7 digits is a 400 on the locality field."""
    with pytest.raises(BadRequest) as caught:
        parse_locality(text)
    assert caught.value.details == {"field": "locality"}
    assert "7 digits" in caught.value.message


def test_state_names_cover_kansas_and_missouri_split_codes() -> None:
    """The ZIP file's EK/WK are Kansas and EM/WM Missouri; territories have names too."""
    assert [STATE_NAMES[c] for c in ("EK", "WK", "EM", "WM")] == [
        "KANSAS",
        "KANSAS",
        "MISSOURI",
        "MISSOURI",
    ]
    assert {"PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW", "DC"} <= STATE_NAMES.keys()


def test_clean_locality_name_strips_floor_markers() -> None:
    """GPCI's trailing '*' and '**' floor markers are not part of the locality's name."""
    assert clean_locality_name("ALASKA*") == "ALASKA"
    assert clean_locality_name("REST OF MONTANA** ") == "REST OF MONTANA"
    assert clean_locality_name("NEW YORK") == "NEW YORK"


def test_resolve_zip_plain(snapshot: Snapshot) -> None:
    """A ZIP5 resolves to its carrier, locality, state and GPCI locality name, unambiguous."""
    geo = snapshot.resolve_zip("94110")
    assert (geo.zip, geo.plus4, geo.state, geo.state_name) == ("94110", None, "CA", "CALIFORNIA")
    assert (geo.carrier, geo.locality, geo.match) == ("01112", "05", "zip5")
    assert geo.locality_name == "SAN FRANCISCO-OAKLAND-BERKELEY"
    assert (geo.ambiguous, geo.note, geo.rural) == (False, None, "")


def test_resolve_zip_plus_four_on_unambiguous_zip_keeps_the_four(snapshot: Snapshot) -> None:
    """A +4 on a ZIP that does not span localities is reported but changes nothing."""
    geo = snapshot.resolve_zip("94110-1234")
    assert (geo.zip, geo.plus4, geo.ambiguous, geo.note) == ("94110", "1234", False, None)


def test_resolve_zip_ambiguous_uses_zip5_locality_with_note(snapshot: Snapshot) -> None:
    """A plus-four-flagged ZIP answers with its ZIP5 locality and says the ZIP+4 file decides."""
    geo = snapshot.resolve_zip("94111")
    assert (geo.carrier, geo.locality, geo.ambiguous) == ("01112", "05", True)
    assert geo.note is not None
    assert "spans more than one locality" in geo.note
    assert "ZIP+4 file" in geo.note


def test_resolve_zip_ambiguous_with_plus_four_says_it_was_not_used(snapshot: Snapshot) -> None:
    """Given a +4 for a split ZIP, the note says the ZIP9 file is not held and the +4 unused."""
    geo = snapshot.resolve_zip("941119999")
    assert geo.ambiguous
    assert geo.plus4 == "9999"
    assert geo.note is not None
    assert "does not hold it" in geo.note
    assert "9999" in geo.note


@pytest.mark.parametrize(
    ("zip5", "state", "name"),
    [("66002", "EK", "KANSAS"), ("67901", "WK", "KANSAS"), ("63101", "EM", "MISSOURI"),
     ("64101", "WM", "MISSOURI")],
)  # fmt: skip
def test_resolve_zip_keeps_non_usps_state_codes(
    snapshot: Snapshot, zip5: str, state: str, name: str
) -> None:
    """EK/WK/EM/WM are kept as written in the ZIP file and named Kansas / Missouri."""
    geo = snapshot.resolve_zip(zip5)
    assert (geo.state, geo.state_name) == (state, name)


def test_resolve_zip_reports_rural_flag(snapshot: Snapshot) -> None:
    """The ZIP file's rural indicator (R rural, B super rural) is passed through."""
    assert snapshot.resolve_zip("99501").rural == "R"
    assert snapshot.resolve_zip("66002").rural == "B"


def test_resolve_zip_unknown_is_not_found(snapshot: Snapshot) -> None:
    """A well-formed ZIP absent from the file is a 404 on the zip field."""
    with pytest.raises(NotFound) as caught:
        snapshot.resolve_zip("00000")
    assert caught.value.details == {"field": "zip"}
    assert "00000" in caught.value.message


def test_resolve_zip_whose_locality_the_release_lacks_is_not_found(snapshot: Snapshot) -> None:
    """A ZIP mapped to a carrier-locality the release's GPCI does not list is a 404."""
    with pytest.raises(NotFound) as caught:
        snapshot.resolve_zip("96910")
    assert "0121200" in caught.value.message


def test_resolve_zip_malformed_is_bad_request(snapshot: Snapshot) -> None:
    """Malformed ZIPs are 400 before any lookup."""
    with pytest.raises(BadRequest):
        snapshot.resolve_zip("ABCDE")


def test_resolve_locality_direct(snapshot: Snapshot) -> None:
    """A carrier-locality given directly resolves with match='locality' and no ZIP fields."""
    release = snapshot.select_release()
    geo = snapshot.resolve_locality(release, "0210201")
    assert (geo.zip, geo.plus4, geo.match, geo.ambiguous) == (None, None, "locality", False)
    assert (geo.state, geo.state_name, geo.locality_name) == ("AK", "ALASKA", "ALASKA")


def test_resolve_locality_unknown_is_not_found(snapshot: Snapshot) -> None:
    """A well-formed carrier-locality the GPCI file does not list is a 404 on locality."""
    with pytest.raises(NotFound) as caught:
        snapshot.resolve_locality(snapshot.select_release(), "0111299")
    assert caught.value.details == {"field": "locality"}
