"""DMEPOS family: DMEPOS_JAN, DMEPEN (both forms), rural ZIPs and the former CBA files.

Expected values are read off the file text (the csv cells quoted in each docstring).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import cba, dme_rural, dmepen, dmepos
from cms_pricing.reference.rows import (
    CbaFeeRow,
    CbaZipRow,
    DmeposFeeRow,
    DmeRuralZipRow,
    MailOrderFeeRow,
)

D = Decimal
FOLDER = ("2025", "dmepos-2025q1")
DMEPOS_CSV = "DMEPOS_JAN.csv"
PEN = "DMEPEN_JAN"
RURAL = "DME Rural ZIP Code Quarter 1, 2025.csv"
CBA_FEE = "Former CBA Fee Schedule File_JAN 2025"
CBA_ZIP = "Former CBA ZIP Code File - JAN 2025"
MAIL = "Former CBA National Mail-Order DTS Fee Schedule - JAN 2025"
Parse = Callable[[str, bytes], list[Any]]


@pytest.fixture(scope="module")
def read(cms_data: Path) -> Callable[[str, Parse], list[Any]]:
    """``read(file_name, parse)``: a real file of the DMEPOS 2025 Q1 folder, parsed once."""
    cache: dict[tuple[str, Parse], list[Any]] = {}

    def parse(file_name: str, parser: Parse) -> list[Any]:
        if (file_name, parser) not in cache:
            data = cms_data.joinpath(*FOLDER, file_name).read_bytes()
            cache[file_name, parser] = parser(file_name, data)
        return cache[file_name, parser]

    return parse


def _key(row: DmeposFeeRow) -> tuple[str, str, str, str]:
    return (row.hcpcs, row.modifier, row.modifier2, row.state)


# -- real files ------------------------------------------------------------------------------


def test_dmepos_e0601_rr_in_california(read: Any) -> None:
    """E0601-RR in CA: 49.12 NR, 91.03 R; D jurisdiction, capped rental, ceiling/floor 0.00."""
    rows: list[DmeposFeeRow] = read(DMEPOS_CSV, dmepos.parse_csv)
    ca = [r for r in rows if (r.hcpcs, r.modifier, r.state) == ("E0601", "RR", "CA")]
    assert ca == [
        DmeposFeeRow("E0601", "RR", "", "", "D", "CR", D("0.00"), D("0.00"), "CA", D("49.12"),
                     D("91.03"))
    ]  # fmt: skip


def test_dmepos_counts_and_first_row(read: Any) -> None:
    """3,487 data rows x 53 areas (48 states + DC + AK, HI, PR, VI); A4216 AL opens the file."""
    rows: list[DmeposFeeRow] = read(DMEPOS_CSV, dmepos.parse_csv)
    assert len(rows) == 3487 * 53
    assert len({_key(r) for r in rows}) == len(rows)
    assert rows[0] == DmeposFeeRow(
        "A4216", "", "", "", "J", "OS", D("0.62"), D("0.53"), "AL", D("0.57"), D("0.00")
    )
    states = [r.state for r in rows[:53]]
    assert states[-4:] == ["AK", "HI", "PR", "VI"] and "DC" in states
    assert str(rows[0].ceiling) == "0.62"  # the file's two places are kept


def test_dmepos_non_continental_rural_cells_are_zero(read: Any) -> None:
    """AK, HI, PR, VI are not subject to rural fees: every R cell there is 0.00 (DMEREAD A-1)."""
    rows: list[DmeposFeeRow] = read(DMEPOS_CSV, dmepos.parse_csv)
    assert {r.rural for r in rows if r.state in {"AK", "HI", "PR", "VI"}} == {D("0.00")}


def test_dmepen_forms_agree(read: Any) -> None:
    """The wide csv and the '~' txt give the same 2,650 rows (50 codes x 53 areas).

    The txt's base-year field is the rural fee only where the rural indicator is R; the
    orders differ (csv code by code in column order, txt alphabetical by state).
    """
    wide: list[DmeposFeeRow] = read(f"{PEN}.csv", dmepen.parse_csv)
    long: list[DmeposFeeRow] = read(f"{PEN}.txt", dmepen.parse_txt)
    assert len(wide) == len(long) == 50 * 53
    assert sorted(wide, key=_key) == sorted(long, key=_key)


def test_dmepen_known_rows(read: Any) -> None:
    """B4034 AL: csv '3.84,6.03'; txt '000006.03~AL ~000003.84 ~R'. AK: txt base 6.03 unused."""
    long: list[DmeposFeeRow] = read(f"{PEN}.txt", dmepen.parse_txt)
    by_key = {_key(r): r for r in long}
    al = by_key["B4034", "", "", "AL"]
    assert (al.non_rural, al.rural, al.ceiling, al.category) == (D("3.84"), D("6.03"), None, "")
    ak = by_key["B4034", "", "", "AK"]
    assert (ak.non_rural, ak.rural) == (D("6.03"), D("0.00"))
    only_rural = by_key["E0776", "RR", "KE", "CA"]
    assert (only_rural.non_rural, only_rural.rural) == (D("0.00"), D("22.51"))


def test_rural_zips(read: Any) -> None:
    """15,913 rural ZIPs, each once; Kansas and Missouri are KS and MO; quarter 202501."""
    rows: list[DmeRuralZipRow] = read(RURAL, dme_rural.parse_csv)
    assert len(rows) == 15913 == len({r.zip5 for r in rows})
    assert rows[0] == DmeRuralZipRow("MA", "01223", "202501")
    assert rows[-1] == DmeRuralZipRow("WA", "99371", "202501")
    assert {"KS", "MO"} <= {r.state for r in rows}
    assert not {"EK", "WK", "EM", "WM"} & {r.state for r in rows}


@pytest.mark.parametrize(
    ("base", "csv_parse", "txt_parse", "count"),
    [
        (CBA_FEE, cba.parse_fee_csv, cba.parse_fee_txt, 614 * 130 - 283),
        (CBA_ZIP, cba.parse_zip_csv, cba.parse_zip_txt, 16119),
        (MAIL, cba.parse_mail_order_csv, cba.parse_mail_order_txt, 8),
    ],
)
def test_former_cba_forms_agree(
    read: Any, base: str, csv_parse: Parse, txt_parse: Parse, count: int
) -> None:
    """The .csv and the tab-separated .txt give equal lists; counts from the file text.

    The fee file has 614 codes x 130 CBAs, of which 283 cells are '.' (no amount).
    """
    rows = read(f"{base}.csv", csv_parse)
    assert rows == read(f"{base}.txt", txt_parse)
    assert len(rows) == count


def test_former_cba_fee_values(read: Any) -> None:
    """A4557-KG Aiken County, SC 11.85; L1851 Catoosa County '"1,041.26"'; 13 '.' cells skipped."""
    rows: list[CbaFeeRow] = read(f"{CBA_FEE}.csv", cba.parse_fee_csv)
    assert rows[0] == CbaFeeRow("A4557", "KG", "", "", "SU", "Aiken County, SC", D("11.85"))
    l1851 = {r.cba_short_name: r.fee for r in rows if r.hcpcs == "L1851"}
    assert l1851["Catoosa County, GA"] == D("1041.26")
    assert "Cape Coral, FL" not in l1851  # written '               .'
    assert len(l1851) == 130 - 13
    e0776 = [r for r in rows if r.hcpcs == "E0776" and r.cba_short_name == "Akron, OH"]
    assert [(r.modifier, r.modifier2, r.modifier3, r.category) for r in e0776] == [
        ("NU", "BA", "KG", ""),
        ("RR", "BA", "KG", ""),
        ("UE", "BA", "KG", ""),
    ]


def test_former_cba_zip_and_mail_order_values(read: Any) -> None:
    """ZIP 35004 is in 'Birmingham, AL' (Birmingham-Hoover); A4253 NU KL mail order 10.39."""
    zips: list[CbaZipRow] = read(f"{CBA_ZIP}.csv", cba.parse_zip_csv)
    assert zips[0] == CbaZipRow("AL", "35004", "Birmingham, AL", "Birmingham-Hoover, AL", "202501")
    mail: list[MailOrderFeeRow] = read(f"{MAIL}.csv", cba.parse_mail_order_csv)
    assert MailOrderFeeRow("A4253", "NU", "KL", "", "IN", D("10.39")) in mail
    assert mail[-1] == MailOrderFeeRow("A4259", "KL", "", "", "SU", D("1.78"))


# -- malformed files -------------------------------------------------------------------------

WIDE_HEADER = "HCPCS,Mod,Mod2,JURIS,CATG,Ceiling,Floor,AL (NR),AL (R),AK (NR),AK (R),Description\n"
WIDE_ROW = "E0601,RR,,D,CR,0.00,0.00,49.12,91.03,60.00,0.00,Cpap device\n"


def _refused(parse: Parse, text: str) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        parse("synthetic.csv", text.encode())
    return caught.value


def test_synthetic_wide_file_parses() -> None:
    """A title line, the header and one row give one row per state column pair."""
    rows = dmepos.parse_csv(
        "s.csv", ("January 2025 Fee Schedule,,\n" + WIDE_HEADER + WIDE_ROW).encode()
    )
    assert [(r.state, r.non_rural, r.rural) for r in rows] == [
        ("AL", D("49.12"), D("91.03")),
        ("AK", D("60.00"), D("0.00")),
    ]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 0, "empty file"),
        (WIDE_HEADER, 0, "no data records"),
        ("Title\n" + WIDE_HEADER + "E0601,RR,,D,CR,0.00,0.00,49.12\n", 3, "cells"),
        ("Title\n" + WIDE_HEADER + WIDE_ROW.replace("49.12", "49.1x"), 3, "not a number"),
        ("Title\n" + WIDE_HEADER + WIDE_ROW.replace("49.12", "49.123"), 3, "decimal places"),
        ("Title\n" + WIDE_HEADER + WIDE_ROW + WIDE_ROW, 4, "duplicate"),
        ("Title\n" + WIDE_HEADER.replace("JURIS", "JUR"), 2, "missing column 'JURIS'"),
        ("Title\n" + WIDE_HEADER.replace("AL (R)", "AZ (R)"), 2, "pair"),
        ("Title\n" + WIDE_HEADER + WIDE_ROW.replace(",D,", ",X,"), 3, "jurisdiction"),
        ("Title\n" + WIDE_HEADER + WIDE_ROW.replace("E0601", "E060"), 3, "hcpcs"),
        ("Title\n" + WIDE_HEADER + WIDE_ROW.replace(",RR,", ",RRR,"), 3, "modifier"),
    ],
)
def test_dmepos_malformed_refused(text: str, line: int, fragment: str) -> None:
    """Every fault of the wide layout is refused with the 1-based line (0: whole file)."""
    error = _refused(dmepos.parse_csv, text)
    assert (error.line, fragment in error.reason) == (line, True), error.reason


PEN_LINE = "2025~B4034~  ~  ~000006.03~AL     ~000003.84     ~R~Enter feed supkit syr by day\n"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (PEN_LINE + PEN_LINE.replace("~R~", "~R"), 2, "fields"),
        (PEN_LINE + PEN_LINE.replace("000003.84", "0000O3.84"), 2, "not a number"),
        (PEN_LINE + PEN_LINE, 2, "duplicate"),
        (PEN_LINE + PEN_LINE.replace("~R~", "~X~"), 2, "rural indicator"),
        ("\x1a", 0, "empty file"),
    ],
)
def test_dmepen_txt_malformed_refused(text: str, line: int, fragment: str) -> None:
    """A short record, bad amount, repeated key or bad indicator names its line."""
    error = _refused(dmepen.parse_txt, text)
    assert (error.line, fragment in error.reason) == (line, True), error.reason


def test_dmepen_txt_ctrl_z_and_base_fee_without_indicator() -> None:
    """The trailing ^Z is not a record; a base-year fee without R is not a rural fee (A-4)."""
    text = PEN_LINE + PEN_LINE.replace("~R~", "~ ~").replace("AL     ", "AK     ") + "\x1a"
    rows = dmepen.parse_txt("s.txt", text.encode())
    assert [(r.state, r.non_rural, r.rural) for r in rows] == [
        ("AL", D("3.84"), D("6.03")),
        ("AK", D("3.84"), D("0.00")),
    ]


@pytest.mark.parametrize(
    ("parse", "text", "line", "fragment"),
    [
        (dme_rural.parse_csv, "STATE,DMEPOS RURAL ZIP CODE,YEAR/QTR\nMA,0122,202501\n", 2, "zip"),
        (dme_rural.parse_csv, "STATE,ZIP,YEAR/QTR\nMA,01223,202501\n", 1, "missing column"),
        (
            dme_rural.parse_csv,
            "STATE,DMEPOS RURAL ZIP CODE,YEAR/QTR\nMA,01223,202501\nMA,01223,202501\n",
            3,
            "duplicate",
        ),
        (dme_rural.parse_csv, "STATE,DMEPOS RURAL ZIP CODE,YEAR/QTR\nMA,01223\n", 2, "cells"),
        (
            cba.parse_zip_csv,
            "CBA State,CBA ZIP Code,CBA Name Short,CBA Name,Year/Qtr\nAL,35004,,x,202501\n",
            2,
            "blank",
        ),
        (
            cba.parse_fee_csv,
            'HCPCS,Mod,Mod2,Mod3,CATG,"Akron, OH",Description\nE0601,RR,,,CR,"1,04.12",x\n',
            2,
            "not a number",
        ),
        (
            cba.parse_fee_csv,
            'HCPCS,Mod,Mod2,Mod3,CATG,"Akron, OH",Description\nE0601,RR,,,CR,1.00,x\n'
            "E0601,RR,,,CR,1.00,x\n",
            3,
            "duplicate",
        ),
        (
            cba.parse_mail_order_csv,
            "HCPCS,Mod,Mod2,Mod3,CATG,National,Description\nA4253,NU,KL,,IN,1.00,x\n",
            1,
            "missing column",
        ),
    ],
)
def test_rural_and_cba_malformed_refused(parse: Parse, text: str, line: int, fragment: str) -> None:
    """Bad ZIPs, missing columns, short rows, blank names, bad amounts and repeats name the line."""
    error = _refused(parse, text)
    assert (error.line, fragment in error.reason) == (line, True), error.reason


def test_cba_txt_is_tab_separated() -> None:
    """The .txt reader splits on tabs and honours quotes; '.' cells are no amount; 1,000s ok."""
    text = 'HCPCS\tMod\tMod2\tMod3\tCATG\t"Akron, OH"\t"Bronx, NY"\tDescription\n'
    text += 'L1851\t\t\t\tPO\t               .\t"1,041.26"\tOrthosis\n'
    rows = cba.parse_fee_txt("s.txt", text.encode())
    assert rows == [CbaFeeRow("L1851", "", "", "", "PO", "Bronx, NY", D("1041.26"))]
