"""Whole-file and cross-file checks on parsed rows (no database)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cms_pricing.errors import FileRejected
from cms_pricing.reference.parsers import parse_file
from cms_pricing.reference.validate import (
    OPPSCAP_EXTRA_LOCALITIES,
    ParsedFile,
    check_release,
    check_row_count,
    check_unique,
    check_zip,
)

FILES = {
    "pprrvu": "PPRRVU25_JAN.txt",
    "gpci": "GPCI2025.txt",
    "locco": "25LOCCO.txt",
    "anes": "ANES2025.txt",
    "oppscap": "OPPSCAP_JAN.txt",
}


@pytest.fixture(scope="module")
def rvu25a(cms_data: Path) -> dict[str, ParsedFile]:
    """The parsed .txt files of the real RVU25A, keyed by kind."""
    folder = cms_data / "2025" / "rvu25a"
    out = {}
    for kind, name in FILES.items():
        data = (folder / name).read_bytes()
        out[kind] = ParsedFile(kind, name, data, parse_file(kind, name, data))
    return out


def _with_rows(parsed: ParsedFile, rows: list[object]) -> ParsedFile:
    return replace(parsed, rows=rows)


def test_real_release_passes_with_one_note(rvu25a: dict[str, ParsedFile]) -> None:
    """RVU25A is valid; the only remark is the OPPSCAP California quirk."""
    (note,) = check_release(rvu25a)
    assert note.startswith("OPPSCAP_JAN.txt: localities 01112-17, 01112-18, 01112-71")


def test_oppscap_quirk_covers_exactly_six_localities() -> None:
    """Only carrier 01112 with localities 17, 18 and 71-74 is tolerated."""
    assert sorted(OPPSCAP_EXTRA_LOCALITIES) == [
        ("01112", loc) for loc in ("17", "18", "71", "72", "73", "74")
    ]


def test_oppscap_locality_unknown_to_gpci_is_refused(rvu25a: dict[str, ParsedFile]) -> None:
    """An OPPSCAP row under a carrier GPCI does not know fails, naming its line."""
    oppscap = rvu25a["oppscap"]
    lines = oppscap.data.splitlines(keepends=True)
    assert lines[10][10:19] == b"01112  57"
    lines[10] = lines[10][:10] + b"01182  99" + lines[10][19:]
    data = b"".join(lines)
    changed = ParsedFile("oppscap", oppscap.name, data, parse_file("oppscap", oppscap.name, data))
    broken = {**rvu25a, "oppscap": changed}
    with pytest.raises(FileRejected, match=r"^OPPSCAP_JAN.txt, line 11: carrier 01182 locality 99"):
        check_release(broken)


def test_short_file_is_refused_by_its_row_count(rvu25a: dict[str, ParsedFile]) -> None:
    """A PPRRVU cut at a record boundary parses but fails the plausibility count."""
    short = _with_rows(rvu25a["pprrvu"], list(rvu25a["pprrvu"].rows[:9_999]))
    with pytest.raises(
        FileRejected, match=r"^PPRRVU25_JAN.txt: 9,999 PPRRVU rows, expected at least"
    ):
        check_row_count(short)


def test_gpci_with_too_many_rows_is_refused(rvu25a: dict[str, ParsedFile]) -> None:
    """GPCI has an upper bound too: 131 rows is not a GPCI file."""
    gpci = rvu25a["gpci"]
    with pytest.raises(FileRejected, match="131 GPCI rows, expected 100 to 130"):
        check_row_count(_with_rows(gpci, [gpci.rows[0]] * 131))


def test_duplicate_gpci_names_the_second_line(rvu25a: dict[str, ParsedFile]) -> None:
    """The duplicate's line is found in the file: the second occurrence's physical line."""
    gpci = rvu25a["gpci"]
    lines = gpci.data.decode("latin-1").splitlines()
    first_line = next(i for i, ln in enumerate(lines, start=1) if ln.startswith("02102"))
    second_line = next(i for i, ln in enumerate(lines, start=1) if ln.startswith("03102"))
    rows = list(gpci.rows)
    first = next(i for i, r in enumerate(rows) if r.mac == "02102")
    second = next(i for i, r in enumerate(rows) if r.mac == "03102")
    rows[second] = replace(rows[second], mac="02102", locality=rows[first].locality)
    text = lines[second_line - 1].replace("03102", "02102").replace("   00   ", "   01   ", 1)
    lines[second_line - 1] = text
    data = "\r\n".join(lines).encode("latin-1")
    with pytest.raises(FileRejected) as caught:
        check_unique(ParsedFile("gpci", gpci.name, data, rows))
    assert str(caught.value) == (
        f"GPCI2025.txt, line {second_line}: duplicate mac='02102' locality='01' "
        f"(first at line {first_line})"
    )


def test_zip_checks_quarter_and_localities(cms_data: Path, rvu25a: dict[str, ParsedFile]) -> None:
    """The real ZIP file passes against RVU25A's GPCI; a second quarter in it is refused."""
    name = "ZIP5_OCT2025.txt"
    data = (cms_data / "2025" / "zip-locality-2025q4" / name).read_bytes()
    parsed = ParsedFile("zip5", name, data, parse_file("zip5", name, data))
    gpci = {(r.mac, r.locality) for r in rvu25a["gpci"].rows}
    assert check_zip(parsed, gpci, "GPCI2025.txt") == "20254"
    rows = list(parsed.rows)
    rows[41_000] = replace(rows[41_000], year_quarter="20253")
    with pytest.raises(FileRejected, match=r"^ZIP5_OCT2025.txt, line 41001: year/quarter '20253'"):
        check_zip(_with_rows(parsed, rows), gpci, "GPCI2025.txt")
