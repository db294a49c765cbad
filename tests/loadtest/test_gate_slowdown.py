"""The regression gate fails on a real slowdown of the pricing path.

One short calibration writes a private baseline (the product as shipped); the check then
serves the same app through ``bench/gate_app.py`` with 100 µs of extra CPU per
``GET /codes/price`` (a bench-side wrapper: the product has no test hook) and must fail on
throughput and CPU per request, with a table that says so. About a minute; loopback only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from servers import copy_database

REPO = Path(__file__).resolve().parents[2]
SETTINGS = ["--short", "--pairs", "3", "--duration", "2", "--calibrate", "1", "--confirm", "0"]


def gate(tmp: Path, url: str, data: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        str(REPO / "bench" / "gate.py"),
        *SETTINGS,
        "--baseline",
        str(tmp / "baseline.json"),
        "--database-url",
        url,
        "--data",
        str(data),
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=150, check=False)


def test_gate_fails_when_pricing_is_slowed_down(
    tmp_path: Path, ingested_url: str, cms_data: Path
) -> None:
    """Calibrated on the shipped app, the gate fails once pricing costs 100 µs more CPU."""
    url = copy_database(ingested_url, tmp_path)
    calibrated = gate(tmp_path, url, cms_data, "--update-baseline")
    assert calibrated.returncode == 0, calibrated.stdout + calibrated.stderr
    assert json.loads((tmp_path / "baseline.json").read_text())["short"]["metrics"]["errors"] == 0

    slowed = gate(
        tmp_path,
        url,
        cms_data,
        "--inject-delay-us",
        "100",
        "--json",
        str(tmp_path / "verdict.json"),
    )
    assert slowed.returncode == 1, slowed.stdout + slowed.stderr
    lines = {line.split()[0]: line for line in slowed.stdout.splitlines() if line.strip()}
    assert lines["throughput"].endswith("FAIL"), slowed.stdout
    assert lines["cpu_per_request"].endswith("FAIL"), slowed.stdout
    assert lines["gate:"] == "gate: FAIL"
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert verdict["passed"] is False
    assert verdict["current"]["throughput"] < 0.9 * verdict["baseline"]["throughput"]
