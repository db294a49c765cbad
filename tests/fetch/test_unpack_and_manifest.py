"""The safe unpacker (traversal, links, bombs, duplicates, corrupt archives) and the packaged
manifest (its members are the real files, its selection per year and schedule)."""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from pathlib import Path

import pytest
from cms_mirror import SHARED

from cms_pricing.fetch import FetchError, manifest
from cms_pricing.fetch.unpack import unpack

MB = 1024 * 1024


def _zip(path: Path, members: dict[str, bytes], link: str | None = None) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.txt", "points outside the archive's folder"),
        ("a/../../evil.txt", "points outside the archive's folder"),
        ("..\\evil.txt", "points outside the archive's folder"),
        ("/etc/evil.txt", "points outside the archive's folder"),
        ("C:/evil.txt", "points outside the archive's folder"),
    ],
)
def test_members_that_escape_are_refused(tmp_path: Path, name: str, reason: str) -> None:
    """Every form of a path outside the folder is refused and nothing is written."""
    archive = _zip(tmp_path / "a.zip", {"ok.txt": b"fine", name: b"x"})
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(FetchError) as caught:
        unpack(archive, out, max_bytes=MB)
    assert str(caught.value) == f"a.zip: member {name!r} {reason}"
    assert list(out.iterdir()) == []


def test_links_bombs_duplicates_and_size_are_refused(tmp_path: Path) -> None:
    """A symbolic link; 20 MB of zeros (over 200:1); two members of one base name; more than
    the byte budget: each refused with its reason."""
    out = tmp_path / "out"
    out.mkdir()
    cases = [
        (_zip(tmp_path / "l.zip", {}, link="link"), MB, "member 'link' is a symbolic link"),
        (_zip(tmp_path / "b.zip", {"zeros": bytes(20 * MB)}), 100 * MB, "inflates"),
        (_zip(tmp_path / "d.zip", {"a/x.txt": b"1", "b/x.txt": b"2"}), MB, "two members"),
        (_zip(tmp_path / "s.zip", {"big.txt": b"y" * 2048}), 1024, "would unpack to 2,048"),
    ]
    for archive, budget, reason in cases:
        with pytest.raises(FetchError, match=reason):
            unpack(archive, out, max_bytes=budget)
    assert list(out.iterdir()) == []


def test_a_truncated_archive_is_refused(tmp_path: Path) -> None:
    """The first 70% of a real archive is not an archive."""
    whole = _zip(tmp_path / "w.zip", {"x.txt": bytes(range(256)) * 400}).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole[: int(len(whole) * 0.7)])
    with pytest.raises(FetchError, match=r"^cut.zip: not a complete zip archive"):
        unpack(cut, tmp_path, max_bytes=MB)


def test_members_are_written_flat_and_hidden_entries_skipped(tmp_path: Path) -> None:
    """A folder inside the archive is flattened; __MACOSX and dot files are not written."""
    archive = _zip(
        tmp_path / "a.zip",
        {"rvu/PPRRVU.txt": b"p", "rvu/GPCI.txt": b"g", "__MACOSX/rvu/._x": b"", ".DS_Store": b""},
    )
    out = tmp_path / "out"
    out.mkdir()
    written = unpack(archive, out, max_bytes=MB)
    assert sorted(p.name for p in written) == ["GPCI.txt", "PPRRVU.txt"]
    assert (out / "PPRRVU.txt").read_bytes() == b"p"


def test_every_manifest_member_is_the_real_file() -> None:
    """Each member's sha256 is that of the file of that name in the dataset's shared folder,
    and the folder holds no file the manifest does not list."""
    for ds in manifest.load().datasets:
        folder = SHARED / ds.folder
        assert {m.name for m in ds.members} == {p.name for p in folder.iterdir()}, ds.id
        for member in ds.members:
            data = (folder / member.name).read_bytes()
            assert member.sha256 == hashlib.sha256(data).hexdigest(), member.name


def test_every_dataset_cites_a_cms_page_and_says_how_its_address_is_known() -> None:
    loaded = manifest.load()
    assert {d.schedule for d in loaded.datasets} == set(manifest.SCHEDULES)
    for ds in loaded.datasets:
        assert ds.page.startswith("https://www.cms.gov/"), ds.id
        assert ds.url_status in manifest.URL_STATUSES
        assert ds.path.startswith("files/zip/") and ds.path.endswith(".zip"), ds.id


def test_selection_takes_each_schedules_newest_year() -> None:
    """2025: every schedule, the anesthesia base units from 2022 (the newest there is);
    --schedule narrows; a year before any data gives nothing."""
    loaded = manifest.load()
    chosen = loaded.select(None, None)
    assert loaded.latest_year() == 2025
    assert sorted(d.id for d in chosen) == sorted(d.id for d in loaded.datasets)
    assert [d.id for d in loaded.select(2025, ["anesthesia"])] == ["ANESBU-2022"]
    assert [d.id for d in loaded.select(2025, ["mpfs"])] == ["RVU25A", "RVU25B", "RVU25C",
                                                            "RVU25D"]  # fmt: skip
    assert loaded.select(2021, None) == []


def test_a_malformed_manifest_is_refused() -> None:
    """A bad sha256 or a folder outside the data folder is a ManifestError."""
    entry = (
        '[[dataset]]\nid="X"\nschedule="asp"\nyear=2025\nfolder="{folder}"\npath="p.zip"\n'
        'url_status="inferred"\npage="https://www.cms.gov/"\n'
        'members=[{{name="a", sha256="{sha}"}}]\n'
    )
    with pytest.raises(manifest.ManifestError, match="not a sha256"):
        manifest.parse(entry.format(folder="2025/x", sha="abc"))
    with pytest.raises(manifest.ManifestError, match="inside CMS_DATA_DIR"):
        manifest.parse(entry.format(folder="../x", sha="a" * 64))
