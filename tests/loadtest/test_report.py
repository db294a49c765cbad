"""The load-test report on a synthetic request log: figures, SLA verdicts, breaking point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from loadtest.report import percentile, results

from loadtest import profiles


def write_log(folder: Path, rows: list[tuple[float, str, str, float, int]]) -> None:
    lines = ["t,endpoint,sla_class,ms,status", *(",".join(map(str, r)) for r in rows)]
    (folder / "requests.csv").write_text("\n".join(lines) + "\n")
    users = ["t,users", *(f"{t},{10 * t}" for t in range(30))]
    (folder / "users.csv").write_text("\n".join(users) + "\n")


META = {"profile": "stress", "about": "synthetic"}


def test_percentiles_are_nearest_rank() -> None:
    """p50 of 1..100 is 50, p95 is 95, p99 is 99; one value is every percentile."""
    ordered = [float(x) for x in range(1, 101)]
    assert [percentile(ordered, p) for p in (50, 95, 99)] == [50, 95, 99]
    assert percentile([7.0], 99) == 7.0


def test_per_class_figures_and_verdicts(tmp_path: Path) -> None:
    """Pricing within budget passes; reference at p95 150 ms fails its 100 ms p95 budget."""
    rows = [(i / 10, "GET /codes/price", "pricing", 5.0, 200) for i in range(100)]
    rows += [
        (i / 10, "GET /reference/localities", "reference", 150.0 if i % 10 == 0 else 5.0, 200)
        for i in range(100)
    ]
    rows[0] = (0.0, "GET /codes/price", "pricing", 5.0, 503)
    write_log(tmp_path, rows)
    found = results(tmp_path, META)
    assert found["classes"]["pricing"]["requests"] == 100
    assert found["classes"]["pricing"]["rate_5xx"] == pytest.approx(0.01)
    assert found["sla"]["pricing"]["checks"] == {"p95": True, "p99": True, "5xx": False}
    assert found["sla"]["reference"]["checks"]["p95"] is False
    assert found["sla_passed"] is False
    assert json.dumps(found)  # machine-readable as it stands


def test_breaking_point_is_the_first_window_over_budget(tmp_path: Path) -> None:
    """Latency that climbs past 300 ms from second 20 is reported there, with the users."""
    rows = [
        (t / 10, "GET /codes/price", "pricing", 10.0 if t < 200 else 900.0, 200) for t in range(300)
    ]
    write_log(tmp_path, rows)
    point = results(tmp_path, META)["breaking_point"]
    assert point["sla_class"] == "pricing"
    assert 20 <= point["t"] <= 22
    assert point["users"] == 10 * point["t"]


def test_every_profile_is_bounded_in_time() -> None:
    """Each profile ends; soak takes the duration it is given."""
    for name in profiles.NAMES:
        assert 0 < profiles.profile(name).duration <= 600
    assert profiles.profile("soak", 1800).duration == 1800
    spike = profiles.profile("spike").stages
    assert spike[1].users == 10 * spike[0].users


def write_cpu(folder: Path, service: float, locust: float, machine: float) -> None:
    rows = ["t,role,process,cpu_pct"]
    for t in range(30):
        rows += [f"{t},service,main,{service}", f"{t},generator,main,1.0"]
        rows += [f"{t},generator,worker 7,{locust}", f"{t},machine,all cores,{machine}"]
    (folder / "cpu.csv").write_text("\n".join(rows) + "\n")
    (folder / "lag-7.csv").write_text("t,ms\n" + "".join(f"{t / 10},1.0\n" for t in range(300)))


def test_knee_is_the_first_sustained_p99_break_with_both_sides_cpu(tmp_path: Path) -> None:
    """p99 over 800 ms from second 20 on: the knee is there, with users and CPU of both sides;
    a Locust process at 95% of its core makes the generator the bottleneck."""
    rows = [
        (t / 30, "GET /codes/price", "pricing", 900.0 if t >= 600 and t % 20 == 0 else 5.0, 200)
        for t in range(900)
    ]
    write_log(tmp_path, rows)
    write_cpu(tmp_path, service=120.0, locust=95.0, machine=200.0)
    found = results(tmp_path, {**META, "workers": 2, "cpus": 2})
    assert 20 <= found["knee"]["t"] <= 22
    assert found["knee"]["users"] == 10 * found["knee"]["t"]
    assert found["knee"]["service_cpu_pct"] == 120.0
    assert found["knee"]["busiest_generator_process_pct"] == 95.0
    assert found["bound"] == "generator"
    assert found["cpu"]["generator worker 7"] == {"mean_pct": 95.0, "peak_pct": 95.0}
    assert found["lag_ms"] == {"p50": 1.0, "p99": 1.0, "max": 1.0}


def test_bottleneck_is_the_service_or_other_work_by_who_used_the_cpu(tmp_path: Path) -> None:
    """Locust with room to spare: the service is the bottleneck when it used the machine,
    other work when processes outside the test used at least as much as the service."""
    write_log(tmp_path, [(t / 10, "GET /codes/price", "pricing", 5.0, 200) for t in range(300)])
    write_cpu(tmp_path, service=150.0, locust=30.0, machine=195.0)
    assert results(tmp_path, {**META, "cpus": 2})["bound"] == "service"
    write_cpu(tmp_path, service=60.0, locust=30.0, machine=200.0)
    found = results(tmp_path, {**META, "cpus": 2})
    assert found["bound"] == "other work"
    assert found["knee"] is None
    assert found["limits"]["machine"] == 0 and found["limits"]["generator_process"] is None
