"""The registry: kinds detected from file names, the form chosen by suffix."""

from __future__ import annotations

import pytest

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import KINDS, detect_kind, parse_file
from cms_pricing.reference.schedules import DECLARATIONS, ROW_TYPES


def test_kinds() -> None:
    """The MPFS release and ZIP kinds, then the other schedules' kinds, in the documented
    order; every kind a schedule declares has a parser."""
    assert KINDS == (
        "pprrvu", "gpci", "locco", "anes", "oppscap", "zip5", "clfs", "dmepos", "dmepen",
        "dme_rural_zip", "cba_fee", "cba_zip", "cba_mail_order", "asp", "anes_base_units",
        "opps_rates", "opps_indicators", "wage_index", "asc_aa", "asc_bb", "asc_indicators",
        "asc_devices",
    )  # fmt: skip
    declared = {kind for d in DECLARATIONS for kind in d.kinds}
    assert declared == set(KINDS[6:]) == set(ROW_TYPES)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("PPRRVU25_JAN.txt", "pprrvu"),
        ("PPRRVU2025_Oct.xlsx", "pprrvu"),
        ("pprrvu2025_oct.CSV", "pprrvu"),
        ("GPCI2025.csv", "gpci"),
        ("25LOCCO.txt", "locco"),
        ("some/dir/25locco.xlsx", "locco"),
        ("ANES2025.txt", "anes"),
        ("OPPSCAP_Jul.csv", "oppscap"),
        ("ZIP5_OCT2025.txt", "zip5"),
        ("zip5_oct2025.XLSX", "zip5"),
        ("ZIP5lyout.txt", None),
        ("ZIP9lyout.txt", None),
        ("RVU25D.pdf", None),
        ("PPRRVU25_JAN.pdf", None),
        ("README.txt", None),
        ("ZIP9_OCT2025.txt", None),
        ("PPRRVU25_JAN.zip", None),
        ("CLFS 2025 Q1V1.txt", "clfs"),
        ("CLFS 2025 Q1V1.pdf", None),
        ("DMEPOS_JAN.csv", "dmepos"),
        ("DMEPEN_JAN.txt", "dmepen"),
        ("DME Rural ZIP Code Quarter 1, 2025.csv", "dme_rural_zip"),
        ("Former CBA Fee Schedule File_JAN 2025.txt", "cba_fee"),
        ("Former CBA ZIP Code File - JAN 2025.csv", "cba_zip"),
        ("Former CBA National Mail-Order DTS Fee Schedule - JAN 2025.txt", "cba_mail_order"),
        ("DMEREAD 2025.pdf", None),
        ("section 508 version of Jan 2025 ASP Pricing File updated 030725.csv", "asp"),
        ("CY_2022_Anesthesia_Base_Units_110921.xlsx", "anes_base_units"),
        ("2025 NFRM Addendum B.11122024.txt", "opps_rates"),
        ("2025 NFRM Addendum D1.10242024.txt", "opps_indicators"),
        ("2025 NFRM Addendum D2.10102024.txt", None),
        ("2025 NFRM Addendum A.11122024.txt", None),
        ("2025 NFRM Data AddB.11072024.txt", None),
        ("README DataAddB.pdf", None),
        ("cbsa-wage-index-2025.csv", "wage_index"),
        ("508-Version-Jan-2025-ASC-AA.csv", "asc_aa"),
        ("508-Version-Jan-2025-ASC-BB.csv", "asc_bb"),
        ("508-Version-Jan-2025-ASC-DD1.csv", "asc_indicators"),
        ("508-Version-Jan-2025-ASC-DD2.csv", None),
        ("508-Version-Jan-2025-ASC-EE.csv", None),
        ("508-Version-Jan-2025-ASC-FF.csv", "asc_devices"),
    ],
)
def test_detect_kind(name: str, kind: str | None) -> None:
    """Names map to kinds case-insensitively; PDFs, layouts and unknown files have none."""
    assert detect_kind(name) == kind


def test_unknown_kind_is_a_caller_error() -> None:
    """A kind outside KINDS raises ValueError, not FileRejected."""
    with pytest.raises(ValueError, match="unknown file kind"):
        parse_file("opps", "OPPS.txt", b"x")


def test_unsupported_suffix_is_refused() -> None:
    """A suffix other than .txt/.csv/.xlsx is refused as a whole-file fault."""
    with pytest.raises(FileRejected) as err:
        parse_file("gpci", "GPCI2025.xls", b"x")
    assert (err.value.file, err.value.line) == ("GPCI2025.xls", 0)


def test_suffix_chooses_the_form() -> None:
    """The same kind parses .txt and .csv bytes by the name's suffix (upper case too)."""
    txt = b"0633TTC C 01112  05   150.69    150.69\r\n"
    csv = b"HCPCS,MOD,PROCSTAT,CARRIER,LOCALITY,FACILITY PRICE,NON-FACILTY PRICE\n"
    csv += b"0633T,TC,C,1112,5,150.69,150.69\n"
    assert parse_file("oppscap", "X.TXT", txt) == parse_file("oppscap", "X.Csv", csv)
