"""Performance regression gate: a short benchmark compared with ``bench/baseline.json``.

Contract:
1. ingest the real CMS files into the bench database (a no-op when there) and build the
   distinct-query mix of ``bench/distinct_mix.py`` (``--mix`` different ``/codes/price``
   queries, 400,000 by default: real codes, modifiers, ZIPs, settings, dates; none repeats),
   so that no memo inside the computed path can stand in for computing (issue 14);
2. measure ``--pairs`` interleaved pairs (``bench/gate_run.py``): wrk against the raw-ASGI
   ceiling and against the service (``GET /codes/price``, response cache off, so every
   request is parsed, priced and serialised), back to back;
3. each pair gives metrics relative to its own ceiling, so a busy machine moves both halves:
   ``throughput`` = service req/s / ceiling req/s; ``latency_p50`` and ``latency_p95`` =
   service / ceiling; ``cpu_per_request`` = service CPU s per request / ceiling's;
   ``memory_mb`` = the service's PSS after the run (absolute: memory is not a rate);
4. the median over the pairs of each metric is compared with the baseline of the same profile
   and fails past the standard's budgets: throughput -5%, latency +10%, CPU and memory +15%;
   any non-2xx answer or socket error fails too;
5. noise: when a budget is exceeded, ``--confirm`` more rounds of pairs are measured and the
   verdict is the median over every pair. A real slowdown moves every pair and still fails;
   a burst of load from a neighbour moves a few pairs and is outvoted.

Exit 0 when every metric is within budget, 1 otherwise, with a table either way.
``--update-baseline`` writes the measured medians as the profile's new baseline, on purpose:
calibrate with the same profile the check runs. ``--inject-delay-us N`` serves the service
with N µs of extra CPU per pricing request (``bench/gate_app.py``): the gate's own trial.
Only 127.0.0.1 is contacted; every wrk run is bounded by its duration.
Run: ``.venv/bin/python bench/gate.py --short`` (about a minute) or ``--help``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from distinct_mix import distinct_paths, write_paths_script
from price_load import ROOT, add_data_arguments, ingested_env, write_script

BASELINE = ROOT / "bench" / "baseline.json"
PROFILES = {
    "short": {"pairs": 5, "duration": 3, "warmup": 2},
    "full": {"pairs": 9, "duration": 8, "warmup": 3},
}
Pair = dict[str, float]


@dataclass(frozen=True)
class Metric:
    """A gated metric: its budget as a fraction, and which way is worse."""

    name: str
    budget: float
    higher_is_better: bool
    label: str


METRICS = (
    Metric("throughput", 0.05, True, "req/s, share of ceiling"),
    Metric("latency_p50", 0.10, False, "p50, x ceiling's"),
    Metric("latency_p95", 0.10, False, "p95, x ceiling's"),
    Metric("cpu_per_request", 0.15, False, "CPU/request, x ceiling's"),
    Metric("memory_mb", 0.15, False, "memory (PSS), MB"),
)


@dataclass(frozen=True)
class Row:
    """One line of the verdict table."""

    metric: Metric
    baseline: float
    current: float

    @property
    def change(self) -> float:
        return self.current / self.baseline - 1

    @property
    def ok(self) -> bool:
        if self.metric.higher_is_better:
            return self.change >= -self.metric.budget
        return self.change <= self.metric.budget


def pair_metrics(ceiling: dict[str, float], service: dict[str, float]) -> Pair:
    """The gated metrics of one pair: ratios to the ceiling measured next to it."""
    return {
        "throughput": service["requests_per_s"] / ceiling["requests_per_s"],
        "latency_p50": service["p50_ms"] / ceiling["p50_ms"],
        "latency_p95": service["p95_ms"] / ceiling["p95_ms"],
        "latency_p99": service["p99_ms"] / ceiling["p99_ms"],
        "cpu_per_request": (service["cpu_s"] / service["requests"])
        / (ceiling["cpu_s"] / ceiling["requests"]),
        "memory_mb": service["memory_mb"],
        "service_rps": service["requests_per_s"],
        "ceiling_rps": ceiling["requests_per_s"],
        "errors": service["non2xx"] + service["socket_errors"],
    }


def medians(pairs: list[Pair]) -> Pair:
    return {key: statistics.median(p[key] for p in pairs) for key in pairs[0]}


def compare(baseline: Pair, current: Pair) -> list[Row]:
    return [Row(m, baseline[m.name], current[m.name]) for m in METRICS]


def passed(rows: list[Row], current: Pair) -> bool:
    return all(row.ok for row in rows) and current["errors"] == 0


def spread(pairs: list[Pair], key: str) -> float:
    """Half the interquartile range over the median: how much one pair wanders."""
    values = [p[key] for p in pairs]
    if len(values) < 2:
        return 0.0
    q1, _q2, q3 = statistics.quantiles(values, n=4)
    return (q3 - q1) / 2 / statistics.median(values)


def render(rows: list[Row], current: Pair, pairs: list[Pair]) -> str:
    lines = [
        f"{'metric':<16}{'measured as':<26}{'baseline':>10}{'now':>10}{'change':>9}"
        f"{'budget':>9}{'noise':>8}  verdict"
    ]
    for r in rows:
        sign = "-" if r.metric.higher_is_better else "+"
        lines.append(
            f"{r.metric.name:<16}{r.metric.label:<26}{r.baseline:>10.3f}{r.current:>10.3f}"
            f"{r.change:>+9.1%}{sign + format(r.metric.budget, '.0%'):>9}"
            f"{'±' + format(spread(pairs, r.metric.name), '.0%'):>8}  " + ("ok" if r.ok else "FAIL")
        )
    lines.append(
        f"median of {len(pairs)} pairs (noise: half the interquartile range of one pair)\n"
        f"service {current['service_rps']:,.0f} req/s, ceiling "
        f"{current['ceiling_rps']:,.0f} req/s, p99 x ceiling's {current['latency_p99']:.2f} "
        f"(not gated), errors {current['errors']:.0f}, load average {os.getloadavg()[0]:.1f}"
        + ("" if current["errors"] == 0 else "  FAIL: every request must succeed")
    )
    return "\n".join(lines)


def measure(args: argparse.Namespace, env: dict[str, str]) -> list[Pair]:
    """One round: both servers started, warmed, ``args.pairs`` pairs measured, stopped."""
    from gate_run import pair, servers, warm  # noqa: PLC0415 - needs /proc and wrk only here

    paths = distinct_paths(args.data, args.mix, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scripts = (write_script(folder, "raw.lua", ["/"]), write_paths_script(folder, "m", paths))
        with servers(args, env) as (ceiling, service):
            warm(ceiling, service, scripts, args)
            return [
                pair_metrics(**pair(ceiling, service, scripts, args, n)) for n in range(args.pairs)
            ]


def judged(args: argparse.Namespace, env: dict[str, str], base: Pair | None) -> list[Pair]:
    """Every pair measured: one round, and up to ``--confirm`` more while past a budget."""
    pairs = measure(args, env)
    if base is None:
        return pairs
    for _ in range(args.confirm):
        if passed(compare(base, medians(pairs)), medians(pairs)):
            break
        print(f"past a budget after {len(pairs)} pairs; measuring another round to confirm")
        pairs += measure(args, env)
    return pairs


def calibrated(args: argparse.Namespace, env: dict[str, str]) -> list[Pair]:
    """``--calibrate`` rounds for a new baseline, so it is not one lucky or unlucky draw."""
    return [p for _ in range(args.calibrate) for p in measure(args, env)]


def load_baseline(path: Path, profile: str) -> dict[str, Any] | None:
    if not path.exists():
        return None
    stored: dict[str, Any] = json.loads(path.read_text()).get(profile)
    return stored


def save_baseline(path: Path, profile: str, args: argparse.Namespace, pairs: list[Pair]) -> None:
    stored = json.loads(path.read_text()) if path.exists() else {}
    stored[profile] = {
        "date": date.today().isoformat(),
        "load_average": round(os.getloadavg()[0], 2),
        "settings": settings(args),
        "metrics": {k: round(v, 4) for k, v in medians(pairs).items()},
        "pairs": [{k: round(v, 4) for k, v in p.items()} for p in pairs],
    }
    path.write_text(json.dumps(stored, indent=2) + "\n")


def settings(args: argparse.Namespace) -> dict[str, int]:
    keys = ("pairs", "duration", "warmup", "connections", "threads", "workers", "mix", "seed")
    return {k: int(getattr(args, k)) for k in keys}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_const", const="short", dest="profile")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--update-baseline", action="store_true")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--confirm", type=int, default=2, help="extra rounds while past budget")
    parser.add_argument("--calibrate", type=int, default=3, help="rounds for --update-baseline")
    parser.add_argument("--inject-delay-us", type=float, default=0, help="trial slowdown")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mix", type=int, default=400_000, help="distinct queries in the mix")
    parser.add_argument("--seed", type=int, default=2025)
    add_data_arguments(parser, out=False)
    parser.add_argument("--json", type=Path, help="also write the verdict here")
    parser.add_argument("--pairs", type=int, help="override the profile's pairs per round")
    parser.add_argument("--duration", type=int, help="override the profile's seconds per run")
    args = parser.parse_args(argv)
    chosen = PROFILES[args.profile]
    args.pairs = args.pairs or chosen["pairs"]
    args.duration = args.duration or chosen["duration"]
    args.warmup = chosen["warmup"]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    env = ingested_env(args)
    stored = load_baseline(args.baseline, args.profile)
    if not args.update_baseline and stored is None:
        print(f"no {args.profile!r} baseline in {args.baseline}; run with --update-baseline")
        return 2
    if stored is not None and not args.update_baseline and stored["settings"] != settings(args):
        print(f"baseline settings {stored['settings']} differ from {settings(args)}")
        return 2
    checked: Pair | None = None if args.update_baseline or stored is None else stored["metrics"]
    pairs = calibrated(args, env) if args.update_baseline else judged(args, env, checked)
    current = medians(pairs)
    if args.update_baseline:
        save_baseline(args.baseline, args.profile, args, pairs)
    base = current if checked is None else checked
    rows = compare(base, current)
    print(render(rows, current, pairs))
    ok = passed(rows, current)
    if args.json:
        verdict = {"passed": ok, "current": current, "baseline": base, "pairs": pairs}
        args.json.write_text(json.dumps(verdict, indent=2))
    print("gate: PASS" if ok else "gate: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
