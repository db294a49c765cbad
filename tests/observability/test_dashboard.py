"""The Grafana dashboard queries only metrics the running service exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from scrapes import Server, http_get

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "cms-pricing.json"
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "by", "without", "on", "ignoring", "group_left",
    "group_right", "rate", "irate", "increase", "histogram_quantile", "vector", "time",
    "and", "or", "unless", "offset", "bool", "abs", "clamp_min", "clamp_max",
}  # fmt: skip
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def exported(server: Server) -> set[str]:
    """Every series name a scrape of the running service can return."""
    status, body = http_get(f"{server.base}/metrics")
    assert status == 200
    names: set[str] = set()
    for family in text_string_to_metric_families(body.decode()):
        names.update(family.name + s for s in SUFFIXES.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def metric_names(expr: str) -> set[str]:
    """Identifiers of a PromQL expression that name series (not functions or labels)."""
    bare = re.sub(r'"[^"]*"', "", expr)
    bare = re.sub(r"\{[^}]*\}", "", bare)
    bare = re.sub(r"\[[^\]]*\]", "", bare)
    bare = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", bare)
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", bare))
    return {w for w in words if w not in PROMQL_WORDS and not re.fullmatch(r"e\d*", w)}


def panels() -> list[dict[str, object]]:
    return list(json.loads(DASHBOARD.read_text())["panels"])


def test_every_panel_queries_only_exported_metrics(served: Server) -> None:
    """Each target's series names appear in the exposition of a running app."""
    names = exported(served)
    for panel in panels():
        for target in panel["targets"]:  # type: ignore[attr-defined]
            unknown = metric_names(target["expr"]) - names
            assert not unknown, f"panel {panel['title']!r} queries {unknown}"


def test_the_parser_catches_a_made_up_metric(served: Server) -> None:
    """The check above can fail: a misspelt metric is reported."""
    found = metric_names('sum(rate(api_request_total{status="500"}[5m])) by (endpoint)')
    assert found - exported(served) == {"api_request_total"}


def test_the_dashboard_has_every_panel_the_issue_asks_for() -> None:
    """Requests/s, latency per SLA class with budget lines, errors, cache, CPU, memory, pool,
    freshness."""
    titles = " | ".join(str(p["title"]) for p in panels())
    for wanted in ("Requests per second", "Error rate", "Cache hit ratio per layer", "CPU",
                   "Memory", "Database pool", "Data freshness"):  # fmt: skip
        assert wanted in titles
    for sla_class in ("reference", "pricing", "read", "write", "bulk"):
        panel = next(p for p in panels() if f"Latency: {sla_class}" in str(p["title"]))
        legends = {t["legendFormat"] for t in panel["targets"]}  # type: ignore[attr-defined]
        assert {"p50", "p95", "p99", "budget", "warning (80%)"} <= legends
