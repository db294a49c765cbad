"""schemathesis finds no failure against a real server (tests/fuzz/run.py, issue 10 item 6).

Every check, every phase (stateful included), the fixed seed and ``run.EXAMPLES`` cases per
operation, against `cms-pricing serve` on a private copy of the session's ingested database,
with the admin token. The schemathesis output, server log and JUnit report stay in the test's
tmp folder; a failure's message carries schemathesis's list of failures.
"""

from __future__ import annotations

from pathlib import Path

from run import EXAMPLES, SEED, fuzz

from servers import copy_database


def failures(output: str) -> str:
    """schemathesis's FAILURES section and summary, which name each failing request."""
    start = output.find("=== FAILURES")
    return output[start if start >= 0 else 0 :][-12_000:]


def test_schemathesis_finds_no_failure(ingested_url: str, tmp_path: Path) -> None:
    """No check fails on any operation: no 5xx, every status, header, content type and body
    as documented, schema-valid input accepted and schema-violating input refused, in the
    examples, coverage, fuzzing and stateful phases."""
    done = fuzz(tmp_path, copy_database(ingested_url, tmp_path), EXAMPLES, SEED)
    output, status = done.stdout + done.stderr, done.returncode
    assert "Test cases:" in output, output[-4000:]  # schemathesis ran to its summary
    assert status == 0, failures(output)
