"""The smoke profile end to end: ``python -m loadtest run smoke`` against a real server.

The runner starts ``cms-pricing serve`` on a free loopback port, runs Locust headless in its
own process for 10 s, stops both and writes the results. Locust never runs in this process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from servers import copy_database

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory, ingested_url: str, cms_data: Path) -> Path:
    """The output folder of one 10-second smoke run on a private copy of the database."""
    folder = tmp_path_factory.mktemp("smoke")
    url = copy_database(ingested_url, folder)
    command = [
        sys.executable,
        "-m",
        "loadtest",
        "run",
        "smoke",
        "--duration",
        "10",
        "--out",
        str(folder / "out"),
        "--database-url",
        url,
        "--data",
        str(cms_data),
        "--check",
    ]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder / "out"


def test_smoke_run_meets_every_sla_with_no_error(smoke: Path) -> None:
    """Every request answered 2xx, and every SLA class seen is within its budgets."""
    results = json.loads((smoke / "results.json").read_text())
    assert results["profile"] == "smoke"
    assert results["total"]["requests"] >= 10
    assert results["total"]["error_rate"] == 0
    assert results["sla_passed"] is True
    assert results["breaking_point"] is None


def test_smoke_run_reports_per_endpoint_and_per_class(smoke: Path) -> None:
    """The standard user's endpoints and their classes appear with the full set of figures."""
    results = json.loads((smoke / "results.json").read_text())
    assert {"GET /codes/price", "GET /reference/localities"} <= set(results["endpoints"])
    assert {"pricing", "reference"} <= set(results["classes"])
    figures = {"requests", "requests_per_s", "p50_ms", "p95_ms", "p99_ms", "error_rate", "rate_5xx"}
    for summary in [*results["endpoints"].values(), *results["classes"].values()]:
        assert set(summary) == figures
        assert summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"]
    assert results["peak_users"] == 5


def test_smoke_run_writes_the_report_and_its_plot(smoke: Path) -> None:
    """report.md links report.png, a real PNG; the timeline covers the run second by second."""
    assert (smoke / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![timeline](report.png)" in (smoke / "report.md").read_text()
    timeline = json.loads((smoke / "results.json").read_text())["timeline"]
    assert len(timeline) >= 8
    assert all(point["users"] <= 5 for point in timeline)
