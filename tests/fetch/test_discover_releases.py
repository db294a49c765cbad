"""``cms-pricing discover`` against the loopback mirror: a listing page naming a release not
published here (RVU26A) is found, fetched, ingested and kept; a bad one publishes nothing.
Every manifest listing page is served (the ones a test does not fill list nothing)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from cms_mirror import SHARED, Mirror, archive, pack_files

from cms_pricing.cli import main
from cms_pricing.config import get_settings
from cms_pricing.db.repository import create_db_engine, list_releases
from cms_pricing.fetch import listing, manifest

PFS = "medicare/payment/fee-schedules/physician/pfs-relative-value-files"


def _listing_page(*ids: str) -> str:
    """The RVU page as CMS structures it: a table of releases, each linking its own page."""
    rows = "".join(
        f'<tr><td><a href="/{PFS}/{i.lower()}">{i}</a></td><td>{i} release</td></tr>' for i in ids
    )
    return (
        '<html><body><nav><a href="/medicare/payment/fee-schedules">Fee schedules</a></nav>'
        f"<table><thead><tr><th>File name</th><th>Description</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></body></html>"
    )


def serve_listings(mirror: Mirror, pages: dict[str, str]) -> None:
    """Serve ``pages`` (listing page path -> html), and an empty page at every other
    listing page of the manifest."""
    for source in manifest.load().listings:
        html = pages.get(source.page, "<html><body><p>Nothing listed.</p></body></html>")
        mirror.page(source.page, html)


def _release_page(archive: str) -> str:
    return (
        '<html><body><h1>RVU</h1><a href="/files/document/readme.pdf">Read me</a>'
        f'<ul><li><a href="/files/zip/{archive}">{archive} (ZIP)</a></li></ul></body></html>'
    )


def _rvu_archive(cut_pprrvu: bool = False) -> bytes:
    """RVU25D's .txt files packed as a new release; optionally the PPRRVU cut mid-record."""
    folder = SHARED / "2025" / "rvu25d"
    files = sorted(p for p in folder.glob("*.txt") if not p.name.startswith("PPRRVU"))
    pprrvu = (folder / "PPRRVU2025_Oct.txt").read_bytes()
    if cut_pprrvu:
        lines = pprrvu.splitlines(keepends=True)
        pprrvu = b"".join(lines[:200]) + lines[200][:40]
    return pack_files(files, extra={"PPRRVU2025_Oct.txt": pprrvu})


@pytest.fixture
def published_rvu25a(data_dir: Path, mirror: Mirror) -> None:
    """RVU25A is already published (from the shared files); CMS serves its page and archive
    (discover re-checks a published release's archive for a correction)."""
    assert main(["ingest", str(SHARED / "2025" / "rvu25a")]) == 0
    mirror.page(f"{PFS}/rvu25a", _release_page("rvu25a.zip"))
    mirror.put("files/zip/rvu25a.zip", archive("RVU25A"))


def _releases() -> dict[str, date]:
    engine = create_db_engine(get_settings().database_url)
    try:
        return {meta.release_id: meta.effective_from for meta in list_releases(engine)}
    finally:
        engine.dispose()


def test_the_listing_parser_finds_releases_by_link_address_or_text() -> None:
    """Each release once, its folder, its link made absolute; unrelated links ignored."""
    html = _listing_page("RVU25A", "RVU26A") + '<a href="/files/zip/rvu26b.zip">x</a>'
    [source] = [s for s in manifest.load().listings if s.schedule == "mpfs"]
    found = listing.datasets(html, "http://m/" + PFS, "mpfs", source.pattern)
    assert [(f.dataset_id, f.folder, f.href) for f in found] == [
        ("RVU25A", "2025/rvu25a", f"http://m/{PFS}/rvu25a"),
        ("RVU26A", "2026/rvu26a", f"http://m/{PFS}/rvu26a"),
        ("RVU26B", "2026/rvu26b", "http://m/files/zip/rvu26b.zip"),
    ]
    assert listing.archive_link(_release_page("rvu26a.zip"), "http://m/x") == (
        "http://m/files/zip/rvu26a.zip"
    )


def test_discover_publishes_a_new_release_end_to_end(
    data_dir: Path,
    mirror: Mirror,
    published_rvu25a: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """RVU26A is listed and not published: its page is read, its archive downloaded, unpacked,
    ingested (effective 2026-01-01) and kept in the data folder; RVU25A, published, is
    downloaded once to check it (unchanged: nothing replaced or kept); a second run asks for
    both archives conditionally, gets 304 and finds nothing new."""
    serve_listings(mirror, {PFS: _listing_page("RVU25A", "RVU26A")})
    mirror.page(f"{PFS}/rvu26a", _release_page("rvu26a.zip"))
    mirror.put("files/zip/rvu26a.zip", _rvu_archive())
    capsys.readouterr()
    assert main(["discover"]) == 0
    out = capsys.readouterr().out
    assert "mpfs: 2 releases listed at" in out
    assert "RVU26A: new, not published here" in out
    assert "RVU26A: published" in out
    assert _releases() == {"RVU25A": date(2025, 1, 1), "RVU26A": date(2026, 1, 1)}
    kept = sorted(p.name for p in (data_dir / "2026" / "rvu26a").iterdir())
    assert kept == ["25LOCCO.txt", "ANES2025.txt", "GPCI2025.txt", "OPPSCAP_Oct.txt",
                    "PPRRVU2025_Oct.txt"]  # fmt: skip
    assert "RVU25A: unchanged" in out
    assert not (data_dir / "2025").exists()  # RVU25A unchanged: nothing kept
    assert not list((data_dir / ".staging").iterdir())

    assert main(["discover"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "no new release: every release CMS lists is published here, none corrected"
    )
    # Both archives asked for again with the ETag of the first run: 304, no body.
    archives = [(p, tag) for p, tag in mirror.conditional if p.startswith("/files/zip/")]
    assert [p for p, tag in archives if tag] == ["/files/zip/rvu25a.zip", "/files/zip/rvu26a.zip"]
    assert mirror.hits("files/zip/rvu26a.zip") == 2


def test_a_new_release_with_a_bad_file_publishes_nothing(
    data_dir: Path,
    mirror: Mirror,
    published_rvu25a: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """RVU26B's PPRRVU is cut mid-record: ingest refuses it naming the file and line, nothing
    is published or kept, RVU25A keeps serving."""
    listed = _listing_page("RVU25A") + '<a href="/files/zip/rvu26b.zip">RVU26B</a>'
    serve_listings(mirror, {PFS: listed})
    mirror.put("files/zip/rvu26b.zip", _rvu_archive(cut_pprrvu=True))
    assert main(["discover"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("failed: RVU26B: PPRRVU2025_Oct.txt, line 201: ")
    assert _releases() == {"RVU25A": date(2025, 1, 1)}
    assert not (data_dir / "2026").exists()
    assert not list((data_dir / ".staging").iterdir())


def test_an_unreachable_listing_page_says_so(
    data_dir: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    """No listing page answers (404): one failure line per page naming its address, exit 1."""
    assert main(["discover"]) == 1
    pages = [f"{mirror.url}/{s.page}" for s in manifest.load().listings]
    assert capsys.readouterr().err.splitlines() == [f"failed: {p}: HTTP 404" for p in pages]


def test_the_cronjob_runs_discover_on_a_writable_data_folder() -> None:
    """deploy/k8s's CronJob runs this very command (the CLI accepts its args), one at a time,
    with CMS_DATA_DIR on the cms-data volume mounted writable (discover keeps what it got)."""
    from cms_pricing.cli import _parser  # noqa: PLC0415

    path = Path(__file__).resolve().parents[2] / "deploy/k8s/base/cronjob-discover.yaml"
    cron = yaml.safe_load(path.read_text())
    spec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [container] = spec["containers"]
    assert _parser().parse_args(container["args"]).command == "discover"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    env = {e["name"]: e["value"] for e in container["env"]}
    [mount] = [m for m in container["volumeMounts"] if m["name"] == "cms-data"]
    assert env["CMS_DATA_DIR"] == mount["mountPath"]
    assert not mount.get("readOnly", False)
