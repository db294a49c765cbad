"""The regression gate's arithmetic on synthetic numbers: ratios, medians, budgets, table."""

from __future__ import annotations

import pytest

from gate import METRICS, compare, medians, pair_metrics, passed, render

BASE = {
    "throughput": 0.40,
    "latency_p50": 3.0,
    "latency_p95": 2.0,
    "cpu_per_request": 3.0,
    "memory_mb": 500.0,
}


def current(**changes: float) -> dict[str, float]:
    """The baseline with some metrics scaled by a factor, plus the reported extras."""
    scaled = {k: v * changes.get(k, 1.0) for k, v in BASE.items()}
    extras = {"latency_p99": 2.0, "service_rps": 16000, "ceiling_rps": 40000, "errors": 0}
    return {**scaled, **extras}


def run(
    ceiling_rps: float, service_rps: float, cpu: float, ceiling_cpu: float = 6.0
) -> dict[str, dict[str, float]]:
    ceiling = {
        "requests_per_s": ceiling_rps,
        "requests": ceiling_rps * 3,
        "p50_ms": 1.0,
        "p95_ms": 2.0,
        "p99_ms": 3.0,
        "cpu_s": ceiling_cpu,
        "non2xx": 0,
        "socket_errors": 0,
    }
    service = {
        "requests_per_s": service_rps,
        "requests": service_rps * 3,
        "p50_ms": 3.0,
        "p95_ms": 5.0,
        "p99_ms": 9.0,
        "cpu_s": cpu,
        "non2xx": 0,
        "socket_errors": 0,
        "memory_mb": 512.0,
    }
    return {"ceiling": ceiling, "service": service}


def test_pair_metrics_are_ratios_to_the_ceiling_of_the_same_pair() -> None:
    """Throughput, latency and CPU per request are divided by the ceiling's; memory is not."""
    m = pair_metrics(**run(ceiling_rps=40000, service_rps=16000, cpu=6.0))
    assert m["throughput"] == pytest.approx(0.4)
    assert m["latency_p50"] == pytest.approx(3.0)
    assert m["latency_p95"] == pytest.approx(2.5)
    assert m["latency_p99"] == pytest.approx(3.0)
    # service: 6 CPU s over 48,000 requests; ceiling: 6 CPU s over 120,000 requests
    assert m["cpu_per_request"] == pytest.approx(2.5)
    assert m["memory_mb"] == 512.0


def test_a_busy_machine_that_halves_both_halves_of_a_pair_changes_no_ratio() -> None:
    """Noise that slows the ceiling and the service alike leaves the gated ratios unchanged."""
    quiet = pair_metrics(**run(ceiling_rps=40000, service_rps=16000, cpu=6.0))
    busy = pair_metrics(**run(ceiling_rps=20000, service_rps=8000, cpu=3.0, ceiling_cpu=3.0))
    assert busy["throughput"] == pytest.approx(quiet["throughput"])
    assert busy["cpu_per_request"] == pytest.approx(quiet["cpu_per_request"])


def test_medians_outvote_one_disturbed_pair() -> None:
    """The median over pairs ignores a single pair that a neighbour's burst slowed down."""
    pairs = [current(), current(), current(throughput=0.5), current(), current()]
    assert medians(pairs)["throughput"] == pytest.approx(0.40)


def test_within_every_budget_passes() -> None:
    """Changes just inside each budget (and improvements) pass."""
    now = current(
        throughput=0.96, latency_p50=1.09, latency_p95=0.8, cpu_per_request=1.14, memory_mb=1.14
    )
    rows = compare(BASE, now)
    assert all(r.ok for r in rows) and passed(rows, now)


@pytest.mark.parametrize(
    ("metric", "factor"),
    [
        ("throughput", 0.94),
        ("latency_p50", 1.11),
        ("latency_p95", 1.11),
        ("cpu_per_request", 1.16),
        ("memory_mb", 1.16),
    ],
)
def test_past_each_budget_fails(metric: str, factor: float) -> None:
    """Throughput -6%, latency +11%, CPU or memory +16%: that metric, and only it, fails."""
    now = current(**{metric: factor})
    rows = compare(BASE, now)
    assert [r.metric.name for r in rows if not r.ok] == [metric]
    assert not passed(rows, now)


def test_budgets_are_the_standards() -> None:
    """Throughput -5%, latency +10%, CPU and memory +15%, in that direction."""
    budgets = {m.name: (m.budget, m.higher_is_better) for m in METRICS}
    assert budgets == {
        "throughput": (0.05, True),
        "latency_p50": (0.10, False),
        "latency_p95": (0.10, False),
        "cpu_per_request": (0.15, False),
        "memory_mb": (0.15, False),
    }


def test_a_failed_request_fails_the_gate_even_when_fast() -> None:
    """A service that answers errors quickly is not an improvement."""
    now = {**current(throughput=1.5), "errors": 3}
    rows = compare(BASE, now)
    assert all(r.ok for r in rows) and not passed(rows, now)


def test_table_names_the_failing_metric_and_its_change() -> None:
    """The table shows baseline, now, change and budget per metric, FAIL on the bad one."""
    now = current(throughput=0.8)
    text = render(compare(BASE, now), now, [now, now])
    failing = next(line for line in text.splitlines() if line.startswith("throughput"))
    assert "0.400" in failing and "0.320" in failing and "-20.0%" in failing
    assert "-5%" in failing and failing.endswith("FAIL")
    assert sum(line.endswith(" ok") for line in text.splitlines()) == 4
