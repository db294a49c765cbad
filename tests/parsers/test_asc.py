"""ASC addenda AA, BB, DD1 and FF of the January 2025 update: the real files and faults.

Expected values are read from the files' text; the malformed inputs are a few synthetic
csv lines built here, never a CMS file.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import asc
from cms_pricing.reference.rows import AscDeviceRow, AscIndicatorRow, AscRateRow

FOLDER = "asc-2025q1"
TITLES = "Addendum AA -- ASC Covered Surgical Procedures for CY 2025,,,,,,\n,,,,,,\n"
HEADER = (
    "HCPCS Code,,Short Descriptor,Subject to Multiple Procedure Discounting,"
    "January 2025 Payment Indicator,January 2025  Payment Weight  ,January 2025 Payment Rate \n"
)
G45378 = "45378,,Diagnostic colonoscopy,Y,A2,8.9164,$489.47\n"
G0102T = '0102T,,Esw phy anes lat hmrl epcndl,Y,G2,28.767,"$1,579.16"\n'


def name(addendum: str) -> str:
    return f"508-Version-Jan-2025-ASC-{addendum}.csv"


def _read(cms_data: Path, addendum: str) -> bytes:
    return (cms_data / "2025" / FOLDER / name(addendum)).read_bytes()


@pytest.fixture(scope="module")
def aa(cms_data: Path) -> dict[str, AscRateRow]:
    return {r.hcpcs: r for r in asc.parse_aa_csv(name("AA"), _read(cms_data, "AA"))}


@pytest.fixture(scope="module")
def bb(cms_data: Path) -> dict[str, AscRateRow]:
    return {r.hcpcs: r for r in asc.parse_bb_csv(name("BB"), _read(cms_data, "BB"))}


@pytest.fixture(scope="module")
def ff(cms_data: Path) -> dict[str, AscDeviceRow]:
    return {r.hcpcs: r for r in asc.parse_devices_csv(name("FF"), _read(cms_data, "FF"))}


@pytest.fixture(scope="module")
def dd1(cms_data: Path) -> dict[str, AscIndicatorRow]:
    rows = asc.parse_indicators_csv(name("DD1"), _read(cms_data, "DD1"))
    return {r.indicator: r for r in rows}


def synthetic(*lines: str, header: str = HEADER) -> bytes:
    """Two title lines, the header (line 3), then ``lines`` from line 4, ISO-8859-1."""
    return (TITLES + header + "".join(lines) + ",,,,,,\nNOTE 1: a footnote.,,,,,,\n").encode(
        "latin-1"
    )


def rejected(data: bytes) -> FileRejected:
    """The FileRejected that parsing ``data`` as AA raises (the test fails if none)."""
    with pytest.raises(FileRejected) as err:
        asc.parse_aa_csv("AA.csv", data)
    assert err.value.file == "AA.csv"
    return err.value


def test_colonoscopy_aa_row(aa: dict[str, AscRateRow]) -> None:
    """45378: discounted, A2, weight 8.9164, $489.47."""
    assert aa["45378"] == AscRateRow(
        addendum="AA", hcpcs="45378", marker="", short_description="Diagnostic colonoscopy",
        multiple_procedure_discount=True, payment_indicator="A2", weight=Decimal("8.9164"),
        rate=Decimal("489.47"), pass_through_expiration="", adjusted_copay=None,
    )  # fmt: skip


def test_aa_counts_and_blanks(aa: dict[str, AscRateRow]) -> None:
    """4,183 codes; packaged N1 rows have no weight and no rate; P3 a rate but no weight;
    '$1,579.16' reads as 1579.16; weights as written (28.767)."""
    assert len(aa) == 4_183
    assert all(
        r.rate is None and r.weight is None for r in aa.values() if r.payment_indicator == "N1"
    )
    assert all(
        r.rate is not None and r.weight is None for r in aa.values() if r.payment_indicator == "P3"
    )
    assert (aa["0102T"].weight, aa["0102T"].rate) == (Decimal("28.767"), Decimal("1579.16"))
    assert {r.marker for r in aa.values()} == {"", "*", "**"}


def test_bb_repeated_codes_are_kept_once(bb: dict[str, AscRateRow]) -> None:
    """2,458 rows, 2,454 codes: 90684, A2027-A2029 are listed twice with equal values. The
    ASC drug rate of J9271 ($57.60, January ASP) differs from OPPS Addendum B's $58.216."""
    assert len(bb) == 2_454
    j9271 = bb["J9271"]
    assert (j9271.addendum, j9271.payment_indicator, j9271.rate) == ("BB", "K2", Decimal("57.60"))
    assert j9271.multiple_procedure_discount is None
    assert sum(r.adjusted_copay is not None for r in bb.values()) == 56


def test_ff_device_row(ff: dict[str, AscDeviceRow]) -> None:
    """45378 in FF: APC 5311, OPPS rate $911.77 (January; Addendum B says $911.71), device
    portion $0.73; 0200T's 21.29% and "$2,329.54"."""
    assert len(ff) == 4_183
    assert ff["45378"] == AscDeviceRow(
        hcpcs="45378", payment_indicator="A2", apc="5311",
        apc_device_offset_pct=Decimal("0.13"), opps_rate=Decimal("911.77"),
        device_offset_pct=Decimal("0.15"), device_portion=Decimal("0.73"),
    )  # fmt: skip
    assert ff["0200T"].apc_device_offset_pct == Decimal("21.29")
    assert ff["0200T"].device_portion == Decimal("2329.54")


def test_dd1_indicators(dd1: dict[str, AscIndicatorRow]) -> None:
    """21 payment indicators with their definitions."""
    assert len(dd1) == 21
    assert dd1["J8"].definition == "Device-intensive procedure; paid at adjusted rate."


def test_quarter_from_name_or_header(cms_data: Path) -> None:
    """'Jan-2025' in the name, else 'January 2025' in the header: 2025 Q1."""
    assert asc.quarter_of(name("AA"), b"") == (2025, 1)
    assert asc.quarter_of("AA.csv", _read(cms_data, "AA")) == (2025, 1)
    with pytest.raises(FileRejected):
        asc.quarter_of("AA.csv", synthetic(G45378, header=HEADER.replace("January 2025 ", "")))


def test_another_quarter_header_matches_by_words() -> None:
    """An April header ('April 2025 Payment Rate') is read by the same words."""
    (row,) = asc.parse_aa_csv(
        "AA.csv", synthetic(G45378, header=HEADER.replace("January", "April"))
    )
    assert row.rate == Decimal("489.47")


def test_faults_name_file_and_line() -> None:
    """Truncated row, bad money, differing duplicate, missing column, bad Y/N flag."""
    assert len(asc.parse_aa_csv("AA.csv", synthetic(G45378, G0102T))) == 2
    assert rejected(synthetic(G45378, "0102T,,Esw phy,Y,G2\n")).line == 5
    assert rejected(synthetic(G45378.replace("$489.47", "$4,89.47"))).line == 4
    dup = rejected(synthetic(G45378, G45378.replace("8.9164", "8.9165")))
    assert dup.line == 5 and "first on line 4" in dup.reason
    missing = rejected(synthetic(G45378, header=HEADER.replace("Payment Weight", "Weight")))
    assert missing.line == 3 and "Payment Weight" in missing.reason
    assert rejected(synthetic(G45378.replace(",Y,", ",X,"))).line == 4
    assert rejected(synthetic(G45378.replace("45378", "4537"))).line == 4


def test_latin_1_bytes_are_accepted() -> None:
    """A non-UTF-8 byte (0xFF, as in the real titles) is read as ISO-8859-1."""
    data = synthetic(G45378).replace(b"Addendum", b"Addendum\xff", 1)
    assert asc.parse_aa_csv("AA.csv", data)[0].hcpcs == "45378"
