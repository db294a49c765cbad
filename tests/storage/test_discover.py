"""Discovery of release and ZIP folders: form preference, ids, dates, notes and refusals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cms_pricing.errors import FileRejected
from cms_pricing.reference.discover import discover, release_id_and_date

RELEASE_FILES = ("PPRRVU25_JAN", "GPCI2025", "25LOCCO", "ANES2025", "OPPSCAP_JAN")


def _folder(root: Path, name: str, suffixes: tuple[str, ...], extra: tuple[str, ...] = ()) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    for stem in RELEASE_FILES:
        for suffix in suffixes:
            (folder / f"{stem}{suffix}").write_bytes(b"x")
    for file in extra:
        (folder / file).write_bytes(b"x")
    return folder


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rvu25a", ("RVU25A", 2025, date(2025, 1, 1))),
        ("RVU25B", ("RVU25B", 2025, date(2025, 4, 1))),
        ("rvu25c", ("RVU25C", 2025, date(2025, 7, 1))),
        ("rvu26d", ("RVU26D", 2026, date(2026, 10, 1))),
        ("rvu25ar", ("RVU25AR", 2025, date(2025, 1, 1))),
        ("RVU25B.pdf", ("RVU25B", 2025, date(2025, 4, 1))),
        ("rvu25e", None),
        ("zip-locality-2025q4", None),
    ],
)
def test_release_id_and_effective_date(name: str, expected: object) -> None:
    """The letter gives the quarter's first day; a correction keeps its letter's date."""
    assert release_id_and_date(name) == expected


def test_real_rvu25d_picks_txt_over_csv_and_xlsx(cms_data: Path) -> None:
    """RVU25D ships every file as .txt, .csv and .xlsx: the .txt forms are chosen."""
    (release,) = discover(cms_data / "2025" / "rvu25d").releases
    assert (release.release_id, release.effective_from) == ("RVU25D", date(2025, 10, 1))
    assert {k: p.name for k, p in release.files.items()} == {
        "pprrvu": "PPRRVU2025_Oct.txt",
        "gpci": "GPCI2025.txt",
        "locco": "25LOCCO.txt",
        "anes": "ANES2025.txt",
        "oppscap": "OPPSCAP_Oct.txt",
    }


def test_real_tree_finds_four_releases_in_date_order_and_the_zip(cms_data: Path) -> None:
    """The whole tree gives RVU25A..D by effective date and ZIP5_OCT2025.txt (not the layout)."""
    found = discover(cms_data)
    assert [r.release_id for r in found.releases] == ["RVU25A", "RVU25B", "RVU25C", "RVU25D"]
    assert [z.file.name for z in found.zips] == ["ZIP5_OCT2025.txt"]
    # Every other CMS folder is a schedule dataset (OPPS reads only Addenda B and D1, ASC
    # only AA, BB, DD1 and FF); no folder is left with a note.
    assert [(s.schedule, s.folder.name) for s in found.schedules] == [
        ("anesthesia", "anes-base-units-cy2022"), ("asc", "asc-2025q1"), ("asp", "asp-2025q1"),
        ("clfs", "clfs-2025q1"), ("dmepos", "dmepos-2025q1"),
        ("opps", "opps-cy2025-final-rule"), ("wage_index", "opps-wage-index-2025"),
    ]  # fmt: skip
    by_schedule = {s.schedule: s for s in found.schedules}
    assert {k: p.name for k, p in by_schedule["opps"].files.items()} == {
        "opps_rates": "2025 NFRM Addendum B.11122024.txt",
        "opps_indicators": "2025 NFRM Addendum D1.10242024.txt",
    }
    assert sorted(by_schedule["asc"].files) == [
        "asc_aa", "asc_bb", "asc_devices", "asc_indicators"
    ]  # fmt: skip
    assert found.notes == []


def test_csv_is_preferred_over_xlsx(tmp_path: Path) -> None:
    """Without a .txt form, the .csv form is chosen."""
    folder = _folder(tmp_path, "rvu25a", (".csv", ".xlsx"))
    (release,) = discover(folder).releases
    assert {p.suffix for p in release.files.values()} == {".csv"}


def test_release_id_from_the_pdf_when_the_folder_name_has_none(tmp_path: Path) -> None:
    """A folder named otherwise takes its id from the RVU25x.pdf it holds."""
    folder = _folder(tmp_path, "january", (".txt",), extra=("RVU25A.pdf",))
    assert discover(folder).releases[0].release_id == "RVU25A"


def test_unknown_release_id_is_refused(tmp_path: Path) -> None:
    """Release files in a folder with no id in its name and no RVU pdf are refused."""
    folder = _folder(tmp_path, "january", (".txt",))
    with pytest.raises(FileRejected, match="cannot tell the release id"):
        discover(folder)


def test_two_files_of_one_kind_in_the_same_form_are_refused(tmp_path: Path) -> None:
    """Two PPRRVU .txt files in one folder are ambiguous, so the folder is refused."""
    folder = _folder(tmp_path, "rvu25a", (".txt",), extra=("PPRRVU25_APR.txt",))
    with pytest.raises(FileRejected, match="more than one PPRRVU file"):
        discover(folder)


def test_a_folder_without_datasets_is_refused(tmp_path: Path) -> None:
    """Pointing ingestion at a folder with nothing to ingest is an error, not a silent no-op."""
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(FileRejected, match="no MPFS release, ZIP5 or fee schedule files found"):
        discover(tmp_path)
