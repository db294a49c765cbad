"""ZIP codes and carrier-localities: parsing the caller's text and building ``Geography``.

Contract:

- ``parse_zip`` accepts ``94110``, ``94110-1234`` and ``941101234`` (surrounding blanks
  ignored) and returns ``(zip5, plus4 or None)``; anything else is ``BadRequest(field="zip")``.
- ``parse_locality`` accepts 7 digits, a 5-digit carrier (MAC) followed by a 2-digit
  locality (``0111205``), and returns ``(carrier, locality)``; anything else is
  ``BadRequest(field="locality")``.
- ``zip_geography`` / ``locality_geography`` build the ``Geography`` of a quote. A ZIP whose
  plus-four flag is set spans localities: it is answered with its ZIP5 locality,
  ``ambiguous=True`` and a note, because only CMS's ZIP+4 file (which this service does not
  hold) names the exact locality, even when the caller gave the +4.

Whether a ZIP or locality exists is the snapshot's question (``engine.snapshot``), not this
module's: everything here is pure text handling.
"""

from __future__ import annotations

from cms_pricing.engine.quote import Geography
from cms_pricing.errors import BadRequest
from cms_pricing.reference.rows import Zip5Row

ZIP_FORMS = "5 digits (94110), ZIP+4 as 94110-1234 or 941101234"
LOCALITY_FORM = "7 digits: a 5-digit carrier (MAC) and a 2-digit locality, e.g. 0111205"

# Full names of the state codes the ZIP5 and GPCI files use: USPS codes, territories and
# freely associated states, and CMS's non-USPS split codes for Kansas and Missouri.
STATE_NAMES: dict[str, str] = {
    "AL": "ALABAMA", "AK": "ALASKA", "AZ": "ARIZONA", "AR": "ARKANSAS", "CA": "CALIFORNIA",
    "CO": "COLORADO", "CT": "CONNECTICUT", "DE": "DELAWARE", "DC": "DISTRICT OF COLUMBIA",
    "FL": "FLORIDA", "GA": "GEORGIA", "HI": "HAWAII", "ID": "IDAHO", "IL": "ILLINOIS",
    "IN": "INDIANA", "IA": "IOWA", "KS": "KANSAS", "KY": "KENTUCKY", "LA": "LOUISIANA",
    "ME": "MAINE", "MD": "MARYLAND", "MA": "MASSACHUSETTS", "MI": "MICHIGAN",
    "MN": "MINNESOTA", "MS": "MISSISSIPPI", "MO": "MISSOURI", "MT": "MONTANA",
    "NE": "NEBRASKA", "NV": "NEVADA", "NH": "NEW HAMPSHIRE", "NJ": "NEW JERSEY",
    "NM": "NEW MEXICO", "NY": "NEW YORK", "NC": "NORTH CAROLINA", "ND": "NORTH DAKOTA",
    "OH": "OHIO", "OK": "OKLAHOMA", "OR": "OREGON", "PA": "PENNSYLVANIA",
    "RI": "RHODE ISLAND", "SC": "SOUTH CAROLINA", "SD": "SOUTH DAKOTA", "TN": "TENNESSEE",
    "TX": "TEXAS", "UT": "UTAH", "VT": "VERMONT", "VA": "VIRGINIA", "WA": "WASHINGTON",
    "WV": "WEST VIRGINIA", "WI": "WISCONSIN", "WY": "WYOMING",
    "AS": "AMERICAN SAMOA", "GU": "GUAM", "MP": "NORTHERN MARIANA ISLANDS",
    "PR": "PUERTO RICO", "VI": "VIRGIN ISLANDS", "FM": "FEDERATED STATES OF MICRONESIA",
    "MH": "MARSHALL ISLANDS", "PW": "PALAU",
    "EK": "KANSAS", "WK": "KANSAS", "EM": "MISSOURI", "WM": "MISSOURI",
}  # fmt: skip


def _digits(text: str) -> bool:
    # str.isdigit alone accepts non-ASCII digits such as "²"; ZIPs are ASCII only.
    return text.isascii() and text.isdigit()


def parse_zip(text: str) -> tuple[str, str | None]:
    """Split a ZIP as typed into ``(zip5, plus4)``; ``plus4`` is None for a bare ZIP5."""
    value = text.strip()
    if len(value) == 5 and _digits(value):
        return value, None
    if len(value) == 9 and _digits(value):
        return value[:5], value[5:]
    if len(value) == 10 and value[5] == "-" and _digits(value[:5]) and _digits(value[6:]):
        return value[:5], value[6:]
    raise BadRequest(f"zip must be {ZIP_FORMS}; got {text!r}", field="zip")


def parse_locality(text: str) -> tuple[str, str]:
    """Split ``"0111205"`` into ``("01112", "05")``."""
    value = text.strip()
    if len(value) == 7 and _digits(value):
        return value[:5], value[5:]
    raise BadRequest(f"locality must be {LOCALITY_FORM}; got {text!r}", field="locality")


def state_name(code: str, fallback: str = "") -> str:
    """The full name of a state code (``"EK"`` -> ``"KANSAS"``), else ``fallback``."""
    return STATE_NAMES.get(code, fallback)


def clean_locality_name(name: str) -> str:
    """GPCI names carry trailing ``*`` / ``**`` floor markers; a name does not."""
    return name.rstrip("* ").strip()


def _ambiguous_note(row: Zip5Row, plus4: str | None) -> str:
    note = (
        f"ZIP {row.zip5} spans more than one locality; priced at its ZIP5 locality "
        f"{row.carrier}{row.locality}. CMS's ZIP+4 file decides the exact locality"
    )
    if plus4 is not None:
        return f"{note}, and this service does not hold it, so the +4 ({plus4}) was not used."
    return f"{note}; give the locality directly if you know it."


def zip_geography(row: Zip5Row, plus4: str | None, locality_name: str) -> Geography:
    """The geography of a ZIP5 row (``locality_name`` comes from the release's GPCI)."""
    return Geography(  # by position: one is made per priced ZIP (issue 14)
        row.zip5,  # zip
        plus4,
        row.state,
        STATE_NAMES.get(row.state, row.state),  # state_name
        row.carrier,
        row.locality,
        locality_name,
        row.rural,
        "zip5",  # match
        row.plus_four,  # ambiguous
        _ambiguous_note(row, plus4) if row.plus_four else None,  # note
    )


def locality_geography(
    state: str, state_full_name: str, carrier: str, locality: str, locality_name: str
) -> Geography:
    """The geography of a carrier-locality given directly (no ZIP, so no rural flag)."""
    return Geography(
        zip=None,
        plus4=None,
        state=state,
        state_name=state_full_name,
        carrier=carrier,
        locality=locality,
        locality_name=locality_name,
        rural="",
        match="locality",
        ambiguous=False,
        note=None,
    )
