"""The alert and recording rules pass ``promtool`` checks and their unit tests.

promtool comes with Debian's ``prometheus`` package, which ``.ci/run`` installs; a missing
binary fails these tests rather than skipping them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
ALERTS = {
    "APILatencyOverBudget": "critical",
    "APILatencyNearBudget": "warning",
    "APIErrorRateHigh": "critical",
    "APIAvailabilityLow": "critical",
    "ReferenceCacheHitRateLow": "warning",
    "CPUHigh": "warning",
    "MemoryHigh": "warning",
    "DatabasePoolSaturated": "warning",
    "DataStale": "critical",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: apt-get install prometheus (.ci/run does)"
    return subprocess.run(
        [binary, *args], cwd=DEPLOY, capture_output=True, text=True, timeout=120, check=False
    )


def test_rules_are_valid() -> None:
    """promtool check rules accepts rules.yml."""
    result = promtool("check", "rules", "rules.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass() -> None:
    """Every alert fires in its scenario and stays quiet in the others (rules_test.yml)."""
    result = promtool("test", "rules", "rules_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_every_alert_of_the_issue_is_defined_and_tested() -> None:
    """Each listed alert exists with its severity and appears in an alert_rule_test."""
    rules = yaml.safe_load((DEPLOY / "rules.yml").read_text())
    defined = {
        rule["alert"]: rule["labels"]["severity"]
        for group in rules["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    assert defined == ALERTS
    tests = yaml.safe_load((DEPLOY / "rules_test.yml").read_text())["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    quiet = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if not case["exp_alerts"]
    }
    assert fired == set(ALERTS)
    assert quiet >= set(ALERTS) - {"MemoryHigh", "DatabasePoolSaturated"}
