"""A fresh machine: no CMS_DATA_DIR, no ../shared, an empty database. What ``make run`` does,
``cms-pricing fetch`` then ``cms-pricing serve``, against the loopback mirror: the archives
are downloaded, verified and laid out in ``var/cms-data``, and the server ingests and prices."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cms_mirror import Mirror, dataset

from cms_pricing.cli import main
from cms_pricing.config import get_settings
from servers import get, serve

MPFS_AND_ZIP = ("RVU25A", "RVU25B", "RVU25C", "RVU25D", "ZIP5-2025Q4")


@pytest.mark.usefixtures("data_dir")
def test_fetch_then_serve_from_an_empty_folder(
    tmp_path: Path,
    mirror: Mirror,
    serve_dataset: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """fetch -> ingest -> serve: 99213 at ZIP 94110 in the office in 2025 is 10915 cents."""
    monkeypatch.delenv("CMS_DATA_DIR")  # the fresh machine: the default var/cms-data
    get_settings.cache_clear()
    assert not (tmp_path / "var").exists()
    for ident in MPFS_AND_ZIP:
        serve_dataset(ident)
    assert main(["serve"]) == 2  # nothing to serve yet, and it says what to do
    assert "run `cms-pricing fetch`" in capsys.readouterr().err

    assert main(["fetch", "--schedule", "mpfs", "--schedule", "zip"]) == 0
    out = capsys.readouterr().out
    assert "CMS files missing in var/cms-data: downloading from" in out
    for ident in MPFS_AND_ZIP:
        assert (tmp_path / "var" / "cms-data" / dataset(ident).folder).is_dir()

    with serve({"CMS_PRICING_EXPENSIVE_PROCESSES": "0"}, tmp_path / "serve.log", workers=1) as s:
        status, body, _ = get(s.url("/codes/price?code=99213&zip=94110&setting=office&year=2025"))
        assert status == 200
        assert body["amount_cents"] == 10915
        log = s.log.read_text()
        assert "empty database: ingesting var/cms-data" in log
        status, releases, _ = get(s.url("/releases"))
        assert status == 200
    assert "RVU25D" in str(releases)
    assert [p for p, _, _ in mirror.seen] == [f"/{dataset(i).path}" for i in MPFS_AND_ZIP]
