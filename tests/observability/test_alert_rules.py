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
    "APIRateLimitedHigh": "warning",
    "APIAuthFailuresSurging": "warning",
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


def test_the_scrape_config_is_valid_and_sends_an_admin_key(tmp_path: Path) -> None:
    """prometheus.yml, its placeholders filled and a key file beside it, passes ``promtool
    check config``, and scrapes /metrics with that file as a Bearer credential (the service
    answers /metrics only to an admin caller when keys are required)."""
    text = (DEPLOY / "prometheus.yml").read_text()
    text = text.replace("{{TARGET}}", "127.0.0.1:8000").replace("{{SCRAPE_INTERVAL}}", "15s")
    (tmp_path / "prometheus.yml").write_text(text)
    shutil.copy(DEPLOY / "rules.yml", tmp_path / "rules.yml")
    [job] = yaml.safe_load(text)["scrape_configs"]
    assert job["authorization"] == {"type": "Bearer", "credentials_file": "cms-pricing-admin.key"}
    assert promtool("check", "config", str(tmp_path / "prometheus.yml")).returncode == 1
    (tmp_path / "cms-pricing-admin.key").write_text("cmsp_0123456789ab_secret\n")
    result = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
