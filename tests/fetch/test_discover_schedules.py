"""``discover`` beyond the MPFS: each schedule's listing page read as CMS structures it (the
structure assumed: fetch/listing.py, not checked against the live pages), a new CLFS quarter
published, and a CMS correction (same id, new content) noticed and ingested: ``/releases``
then shows the replaced hash and time while prices come from the new content."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cms_mirror import SHARED, Mirror, archive, pack_files
from fastapi.testclient import TestClient
from test_discover_releases import PFS, _listing_page, _release_page, serve_listings

from cms_pricing.api.app import create_app
from cms_pricing.cli import main
from cms_pricing.config import get_settings
from cms_pricing.db import replacements
from cms_pricing.db.repository import create_db_engine
from cms_pricing.fetch import listing, manifest

BASE = "http://m/"
LISTINGS = {source.schedule: source for source in manifest.load().listings}
CLFS = LISTINGS["clfs"].page
DMEPOS = LISTINGS["dmepos"].page
ASP = LISTINGS["asp"].page
ASC = LISTINGS["asc"].page
OPPS = LISTINGS["opps"].page


def _table(rows: list[tuple[str, str]]) -> str:
    """CMS's file-listing pages: a table whose first column links each release."""
    body = "".join(
        f'<tr><td><a href="{href}">{text}</a></td><td>x</td></tr>' for href, text in rows
    )
    return (
        '<html><body><nav><a href="/medicare/payment/fee-schedules">Fee schedules</a></nav>'
        f"<table><thead><tr><th>Name</th><th>Description</th></tr></thead><tbody>{body}"
        "</tbody></table></body></html>"
    )


ZIP_OLD = "files/zip/zip-code-carrier-locality-file-revised-08/14/2025.zip"
ZIP_NEW = "files/zip/zip-code-carrier-locality-file-revised-11/10/2025.zip"
ZIP_DASHES = "files/zip/zip-code-carrier-locality-file-revised-02-18-2026.zip"
ZIP_PAGE = (
    "<html><body><h2>ZIP codes to carrier locality</h2><ul>"
    f'<li><a href="/{ZIP_OLD}">Zip Code to Carrier Locality File - Revised 08/14/2025 (ZIP)</a>'
    f'</li><li><a href="/{ZIP_DASHES}">ZIP Code to Carrier Locality File</a>'  # no date
    f'</li><li><a href="/{ZIP_NEW}">ZIP Code to Carrier Locality File - Revised 11/10/2025 '
    '(ZIP)</a></li><li><a href="/files/zip/zip5-layout.pdf">ZIP5 file layout</a></li></ul>'
    "</body></html>"
)

PAGES = {
    "clfs": (
        _table(
            [
                (f"/{CLFS}/26clabq1", "26CLABQ1"),
                (f"/{CLFS}/25clabq4", "25CLABQ4"),
                (f"/{CLFS}/clfs-readme", "Read me"),
            ]
        ),
        [
            ("CLFS-2026Q1", "2026/clfs-2026q1", f"{BASE}{CLFS}/26clabq1"),
            ("CLFS-2025Q4", "2025/clfs-2025q4", f"{BASE}{CLFS}/25clabq4"),
        ],
    ),
    "dmepos": (
        _table(
            [
                (f"/{DMEPOS}/dme26-c", "DME26-C"),
                (f"/{DMEPOS}/dme26", "DME26"),
                (f"/{DMEPOS}/dme25-d", "DME25-D"),
                (f"/{DMEPOS}/dmepos-pen", "DMEPOS PEN fee schedule"),
            ]
        ),
        [
            ("DMEPOS-2026Q3", "2026/dmepos-2026q3", f"{BASE}{DMEPOS}/dme26-c"),
            ("DMEPOS-2026Q1", "2026/dmepos-2026q1", f"{BASE}{DMEPOS}/dme26"),
            ("DMEPOS-2025Q4", "2025/dmepos-2025q4", f"{BASE}{DMEPOS}/dme25-d"),
        ],
    ),
    "asp": (
        "<html><body><h2>2026 ASP Pricing Files</h2><ul>"
        '<li><a href="/files/zip/july-2026-medicare-part-b-payment-limit-files.zip">July 2026 '
        "Medicare Part B Drug Payment Limit Files (ZIP)</a></li>"
        '<li><a href="/files/zip/january-2026-asp-pricing-file.zip">January 2026 ASP Pricing '
        "File (ZIP)</a></li>"
        '<li><a href="/files/zip/january-2026-asp-ndc-hcpcs-crosswalk.zip">January 2026 ASP '
        "NDC-HCPCS Crosswalk (ZIP)</a></li>"
        '<li><a href="/files/zip/october-2025-asp-pricing-file.zip">October 2025 ASP Pricing '
        "File (ZIP)</a></li></ul></body></html>",
        [
            (
                "ASP-2026Q3",
                "2026/asp-2026q3",
                f"{BASE}files/zip/july-2026-medicare-part-b-payment-limit-files.zip",
            ),
            ("ASP-2026Q1", "2026/asp-2026q1", f"{BASE}files/zip/january-2026-asp-pricing-file.zip"),
            ("ASP-2025Q4", "2025/asp-2025q4", f"{BASE}files/zip/october-2025-asp-pricing-file.zip"),
        ],
    ),
    "asc": (
        _table(
            [
                (
                    f"/{ASC}/january-2026-asc-approved-hcpcs-code-and-payment-rates",
                    "January 2026 ASC Approved HCPCS Code and Payment Rates",
                ),
                (f"/{ASC}/asc-addenda-readme", "ASC addenda: how to read them"),
                ("/files/zip/april-2026-asc-approved-hcpcs-code-payment-rates.zip", "April"),
                ("/files/zip/july-2026-asc-addenda.zip", "July 2026 ASC addenda (ZIP)"),
            ]
        ),
        [
            (
                "ASC-2026Q1",
                "2026/asc-2026q1",
                f"{BASE}{ASC}/january-2026-asc-approved-hcpcs-code-and-payment-rates",
            ),
            (
                "ASC-2026Q2",
                "2026/asc-2026q2",
                f"{BASE}files/zip/april-2026-asc-approved-hcpcs-code-payment-rates.zip",
            ),
            ("ASC-2026Q3", "2026/asc-2026q3", f"{BASE}files/zip/july-2026-asc-addenda.zip"),
        ],
    ),
    "opps": (
        _table(
            [
                (
                    f"/{OPPS}/cms-1834-p",
                    "CY 2026 Medicare Hospital OPPS and ASC Proposed Rule (CMS-1834-P)",
                ),
                (
                    f"/{OPPS}/cms-1834-fc",
                    "CY 2026 Medicare Hospital OPPS and ASC Final Rule "
                    "with Comment Period (CMS-1834-FC)",
                ),
            ]
        ),
        [("OPPS-2026", "2026/opps-cy2026-final-rule", f"{BASE}{OPPS}/cms-1834-fc")],
    ),
    "zip": (
        ZIP_PAGE,
        [
            ("ZIP5-R20250814", "2025/zip-locality-revised-20250814", BASE + ZIP_OLD),
            ("ZIP5-R20260218", "2026/zip-locality-revised-20260218", BASE + ZIP_DASHES),
            ("ZIP5-R20251110", "2025/zip-locality-revised-20251110", BASE + ZIP_NEW),
        ],
    ),
}


@pytest.mark.parametrize("schedule", sorted(PAGES))
def test_each_schedules_listing_page_names_its_datasets(schedule: str) -> None:
    """The dataset ids ingest will give, their folders, their links made absolute; other links
    (read-me pages, crosswalks, proposed rules) ignored."""
    html, expected = PAGES[schedule]
    source = LISTINGS[schedule]
    found = listing.datasets(html, BASE + source.page, schedule, source.pattern)
    assert [(f.dataset_id, f.folder, f.href) for f in found] == expected


def test_the_final_rule_page_names_the_addenda_archive_among_others() -> None:
    """An OPPS final rule page links several archives; the listing's ``archive`` picks the
    addenda."""
    page = (
        '<html><body><a href="/files/zip/cy-2026-opps-fc-claims-accounting.zip">Claims</a>'
        '<a href="/files/zip/2026-nfrm-opps-addenda.zip">2026 NFRM OPPS Addenda</a></body></html>'
    )
    found = listing.archive_link(page, BASE + OPPS, LISTINGS["opps"].archive)
    assert found == f"{BASE}files/zip/2026-nfrm-opps-addenda.zip"


def test_discover_publishes_a_new_clfs_quarter(
    data_dir: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    """26CLABQ1 is listed (its page links the archive): fetched, ingested as CLFS-2026Q1 and
    kept in 2026/clfs-2026q1; 24CLABQ4, older than the manifest's CLFS year, is left alone."""
    listed = _table([(f"/{CLFS}/26clabq1", "26CLABQ1"), (f"/{CLFS}/24clabq4", "24CLABQ4")])
    serve_listings(mirror, {CLFS: listed})
    mirror.page(f"{CLFS}/26clabq1", _release_page("26clabq1.zip"))
    clfs = (SHARED / "2025" / "clfs-2025q1" / "CLFS 2025 Q1V1.txt").read_bytes()
    mirror.put("files/zip/26clabq1.zip", pack_files([], extra={"CLFS 2026 Q1V1.txt": clfs}))
    assert main(["discover"]) == 0
    out = capsys.readouterr().out
    assert "clfs: 1 releases listed at" in out
    assert "CLFS-2026Q1: new, not published here" in out
    assert "CLFS-2026Q1: published" in out
    assert (data_dir / "2026" / "clfs-2026q1" / "CLFS 2026 Q1V1.txt").read_bytes() == clfs
    assert f"/{CLFS}/24clabq4" not in [path for path, _, _ in mirror.seen]


def _rvu26a(work_rvu_99213: bytes = b"  1.30") -> bytes:
    """RVU25D's .txt files packed as RVU26A, with 99213's work RVU as given."""
    folder = SHARED / "2025" / "rvu25d"
    lines = (folder / "PPRRVU2025_Oct.txt").read_bytes().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith(b"99213  "))
    lines[index] = lines[index][:59] + work_rvu_99213 + lines[index][65:]
    files = sorted(p for p in folder.glob("*.txt") if not p.name.startswith("PPRRVU"))
    return pack_files(files, extra={"PPRRVU2025_Oct.txt": b"".join(lines)})


@pytest.fixture
def api(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app over the test's database (opened after discover ran)."""
    monkeypatch.setenv("CMS_PRICING_EXPENSIVE_PROCESSES", "0")
    monkeypatch.setenv("CMS_PRICING_POLL_SECONDS", "0.2")  # sees a new publish at once
    get_settings.cache_clear()
    with TestClient(create_app(get_settings())) as client:
        yield client


def _after_reload(client: TestClient, old_sha: str) -> dict[str, Any]:
    """RVU26A as /releases lists it once the app has loaded a version other than ``old_sha``
    (it polls the database every 0.2 s)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        [release] = client.get("/releases").json()["releases"]
        if release["sha256"] != old_sha:
            return dict(release)
        time.sleep(0.1)
    raise AssertionError("the app did not load the corrected RVU26A within 20 s")


def _price(client: TestClient) -> dict[str, object]:
    response = client.get("/codes/price?code=99213&locality=1320201&setting=office&release=RVU26A")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_corrected_release_is_noticed_and_replaces_the_published_one(
    data_dir: Path,
    mirror: Mirror,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    """RVU26A is published by discover; CMS then posts a corrected RVU26A at the same address
    (99213's work RVU 1.30 -> 1.50). The next discover asks conditionally, gets the new body,
    ingests it (replaced) and keeps it; /releases shows the replaced hash and the time of the
    replacement, and 99213 is priced from the new content."""
    serve_listings(mirror, {PFS: _listing_page("RVU26A")})
    mirror.page(f"{PFS}/rvu26a", _release_page("rvu26a.zip"))
    mirror.put("files/zip/rvu26a.zip", _rvu26a())
    assert main(["discover"]) == 0
    client: TestClient = request.getfixturevalue("api")
    before = client.get("/releases").json()["releases"]
    old_price = _price(client)
    assert [(r["id"], r["replaced"]) for r in before] == [("RVU26A", [])]
    capsys.readouterr()

    mirror.put("files/zip/rvu26a.zip", _rvu26a(b"  1.50"))
    assert main(["discover"]) == 0
    out = capsys.readouterr().out
    assert "RVU26A: CMS's archive differs from the one published here" in out
    assert "RVU26A: replaced" in out
    after = _after_reload(client, before[0]["sha256"])
    [replaced] = after["replaced"]
    assert replaced == {
        "sha256": before[0]["sha256"],
        "published_at": before[0]["published_at"],
        "replaced_by": after["sha256"],
        "replaced_at": after["published_at"],
    }
    new_price = _price(client)
    assert new_price["components"]["work_rvu"] == "1.50"  # type: ignore[index]
    assert old_price["components"]["work_rvu"] == "1.30"  # type: ignore[index]
    assert new_price["amount_cents"] > old_price["amount_cents"]  # type: ignore[operator]
    assert new_price["release"]["sha256"] == after["sha256"]  # type: ignore[index]
    assert b"1.50" in (data_dir / "2026" / "rvu26a" / "PPRRVU2025_Oct.txt").read_bytes()


def test_a_repacked_archive_with_the_same_content_replaces_nothing(
    data_dir: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    """CMS re-posts RVU26A with only a read-me added: the archive's bytes differ, so it is
    downloaded and ingested, but its data files are the same: unchanged, nothing recorded as
    replaced, the folder kept as it was."""
    serve_listings(mirror, {PFS: _listing_page("RVU26A")})
    mirror.page(f"{PFS}/rvu26a", _release_page("rvu26a.zip"))
    mirror.put("files/zip/rvu26a.zip", _rvu26a())
    assert main(["discover"]) == 0
    mirror.put("files/zip/rvu26a.zip", _rvu26a() + b"")  # same bytes: a new Served, same ETag
    assert main(["discover"]) == 0
    assert mirror.hits("files/zip/rvu26a.zip") == 1  # 304: not sent again
    capsys.readouterr()
    repacked = pack_files(
        sorted((SHARED / "2025" / "rvu25d").glob("*.txt")), extra={"README.txt": b"read me"}
    )
    mirror.put("files/zip/rvu26a.zip", repacked)
    assert main(["discover"]) == 0
    out = capsys.readouterr().out
    assert "RVU26A: CMS's archive differs from the one published here" in out
    assert "RVU26A: unchanged" in out
    assert out.splitlines()[-1] == (
        "no new release: every release CMS lists is published here, none corrected"
    )
    engine = create_db_engine(get_settings().database_url)
    try:
        assert replacements.by_dataset(engine) == {}
    finally:
        engine.dispose()


def test_discover_takes_the_newest_zip_file_and_rechecks_it(
    data_dir: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ZIP file's id is in its content: the newest one listed (revised 02-18-2026, a date
    in its address only) is downloaded and ingested (ZIP5-20254, checked against RVU25A's
    localities) and kept; the older ones are not asked for; the next run asks conditionally
    and changes nothing."""
    assert main(["ingest", str(SHARED / "2025" / "rvu25a")]) == 0
    serve_listings(mirror, {LISTINGS["zip"].page: ZIP_PAGE})
    mirror.put(ZIP_DASHES, archive("ZIP5-2025Q4"))
    capsys.readouterr()
    assert main(["discover"]) == 0
    out = capsys.readouterr().out
    assert "zip: 1 releases listed at" in out
    assert "ZIP5-20254: published" in out
    assert (data_dir / "2026" / "zip-locality-revised-20260218" / "ZIP5_OCT2025.txt").is_file()
    assert {f"/{ZIP_OLD}", f"/{ZIP_NEW}"}.isdisjoint(path for path, _, _ in mirror.seen)
    assert main(["discover"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("no new release")
    assert mirror.hits(ZIP_DASHES) == 2  # the second answer was 304
    assert (f"/{ZIP_DASHES}", _etag(ZIP_DASHES)) in mirror.conditional


def _etag(path: str) -> str | None:
    """The ETag the mirror gave for ``path`` (the one the second run must send back)."""
    taken = json.loads((get_settings().data_folder / ".discover-sources.json").read_text())
    [entry] = [e for url, e in taken.items() if url.endswith(path)]
    tag: str | None = entry["etag"]
    return tag
