"""The capacity plan computed from a fixture results file: arithmetic and the document."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from capacity import ASSUMPTIONS, plan

FIXTURE = Path(__file__).parent / "fixtures" / "sla-fixture.json"
VOLUME = Path(__file__).parent / "fixtures" / "volume-fixture.json"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def computed() -> dict:
    """The plan for the fixtures: 0.5 requests/s per user, 1,000 requests/s per instance;
    the volume runs of ``volume-fixture.json`` (1M ingested, 100M compiled directly)."""
    return plan(json.loads(FIXTURE.read_text()), json.loads(VOLUME.read_text()))


def test_request_rate_and_instances_at_70_percent_cpu(computed: dict) -> None:
    """10,000 users x 0.5 = 5,000 requests/s; 5,000 / (1,000 x 70%) -> 8 instances."""
    rows = {r["users"]: r for r in computed["users"]}
    assert computed["per_user_rate"] == pytest.approx(0.5)
    assert rows[10_000]["rate"] == pytest.approx(5000)
    assert rows[10_000]["instances"] == 8
    assert rows[10_000]["cpu_at_peak"] == pytest.approx(5000 / 8000)
    assert rows[2_000]["instances"] == 2  # 1,000 / 700 -> 2
    assert rows[100]["instances"] == ASSUMPTIONS["min_instances"]
    assert rows[10_000]["writes_per_s"] == pytest.approx(5000 * 0.1)


def test_memory_is_shared_and_storage_scales_with_records(computed: dict) -> None:
    """The compiled file (35 B/record at the largest size) counts once per instance; each
    worker adds its own memory: every process under the main one without its file share,
    summed and divided by the 2 workers ((200 + 190) / 2 = 195 MB at 100M, more than at
    1M); the database takes 100 B/record (the largest ingested size, 1M)."""
    rows = {r["records"]: r for r in computed["records"]}
    assert computed["volume"]["file_bytes_per_record"] == pytest.approx(35)
    assert computed["volume"]["worker_mb"] == pytest.approx(195)
    assert rows[1_000_000]["shared_mb"] == pytest.approx(35)
    assert rows[100_000_000]["shared_mb"] == pytest.approx(3500)
    assert rows[100_000_000]["worker_mb"] == pytest.approx(195)
    assert rows[100_000_000]["instance_mb"] == pytest.approx(2 * 195 + 3500)
    assert rows[100_000_000]["db_gb"] == pytest.approx(1e8 * 100 * 2 / 1e9)
    assert rows[5_000_000]["redis_mb"] == pytest.approx(5e6 * 0.05 * 1000 * 1.5 / 1e6)


def test_command_writes_the_document_with_assumptions(tmp_path: Path) -> None:
    """`bench/capacity.py FILE --out PATH` writes every stage, its source and assumptions."""
    out = tmp_path / "capacity.md"
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "capacity.py"),
            str(FIXTURE),
            "--volume",
            str(VOLUME),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "sla-fixture.json" in text and "volume-fixture.json" in text
    assert "Do not edit by hand" in text and "35.0 bytes per record" in text
    for stage in (
        "| 100 |",
        "| 500 |",
        "| 2,000 |",
        "| 10,000 | 5,000 | 8 |",
        "| 1M |",
        "| 100M |",
    ):
        assert stage in text
    assert "## Assumptions" in text and "70%" in text and "0.500 requests/s" in text
