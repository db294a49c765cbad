"""Locust as a master and worker processes: every worker's requests reach the report, and the
report shows the generator's own CPU and loop lag beside the service's.

One short smoke run (5 s) with ``--processes 2`` on a private copy of the database, on a
port of this project's load-test range (the master listens on the next one).
"""

from __future__ import annotations

import csv
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from servers import copy_database

REPO = Path(__file__).resolve().parents[2]
PORTS = range(18200, 18300, 2)


def free_pair() -> int:
    """A port whose successor is free too (the server's and the Locust master's)."""
    for port in PORTS:
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no free pair of ports in 18200-18299")


@pytest.fixture(scope="module")
def distributed(
    tmp_path_factory: pytest.TempPathFactory, ingested_url: str, cms_data: Path
) -> Path:
    """The output folder of one 5-second smoke run with two Locust worker processes."""
    folder = tmp_path_factory.mktemp("distributed")
    url = copy_database(ingested_url, folder)
    command = [sys.executable, "-m", "loadtest", "run", "smoke", "--duration", "5"]
    command += ["--processes", "2", "--port", str(free_pair()), "--out", str(folder / "out")]
    command += ["--database-url", url, "--data", str(cms_data)]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=150, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder / "out"


def logged(path: Path) -> int:
    with path.open() as f:
        return sum(1 for _row in csv.DictReader(f))


def test_every_worker_process_logs_and_the_report_merges_them(distributed: Path) -> None:
    """Two request logs, one per worker process, and the report counts the rows of both."""
    logs = sorted(distributed.glob("requests-*.csv"))
    assert len(logs) == 2
    assert all(logged(log) > 0 for log in logs)
    results = json.loads((distributed / "results.json").read_text())
    assert results["total"]["requests"] == sum(logged(log) for log in logs)
    assert results["generator_processes"] == 2
    assert results["peak_users"] == 5
    assert results["total"]["error_rate"] == 0


def test_report_shows_generator_cpu_and_lag_beside_the_service(distributed: Path) -> None:
    """CPU per Locust process (master and both workers), the service's, the machine's; the
    generator's loop lag; the verdict; and the section in report.md."""
    results = json.loads((distributed / "results.json").read_text())
    names = set(results["cpu"])
    assert {"service", "generator", "generator main", "machine", "others"} <= names
    assert sum(name.startswith("generator worker") for name in names) == 2
    assert results["cpu"]["service"]["mean_pct"] > 0
    assert set(results["lag_ms"]) == {"p50", "p99", "max"}
    assert results["bound"] in {"service", "generator", "other work"}
    assert results["judged_at"]["users"] <= 5
    report = (distributed / "report.md").read_text()
    assert "## Generator and service" in report and "| generator main |" in report
