"""Human-readable views of a run's results: the console table and ``report.md``."""

from __future__ import annotations

from typing import Any

from loadtest.sla import BUDGETS

HEAD = f"{'':<34}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"


def line(name: str, s: dict[str, float]) -> str:
    return (
        f"{name:<34}{s['requests']:>9,}{s['requests_per_s']:>9.1f}{s['p50_ms']:>9.1f}"
        f"{s['p95_ms']:>9.1f}{s['p99_ms']:>9.1f}{s['error_rate']:>8.2%}"
    )


def verdict(klass: str, judged: dict[str, Any]) -> str:
    failed = [name for name, ok in judged["checks"].items() if not ok]
    budget = f"p95 <= {judged['p95_budget_ms']:g} ms, p99 <= {judged['p99_budget_ms']:g} ms"
    return f"{klass}: {'pass' if not failed else 'FAIL (' + ', '.join(failed) + ')'} [{budget}]"


def breaking(results: dict[str, Any]) -> str:
    point = results["breaking_point"]
    if point is None:
        return "no SLA class broke its p95 or 5xx budget over any 5 s window"
    over = point["p95_ms"] > BUDGETS[point["sla_class"]].p95_ms
    what = f"p95 {point['p95_ms']:.0f} ms" if over else f"5xx or no answer {point['rate_5xx']:.2%}"
    return (
        f"first SLA break at {point['t']} s: {point['sla_class']} {what}"
        f" with {point['users']} users, {point['requests_per_s']:.0f} requests/s"
    )


def knee(results: dict[str, Any]) -> str:
    point = results.get("knee")
    if not point:
        return "knee: no SLA class's p99 broke its budget over any 5 s window"
    return (
        f"knee at {point['t']} s: {point['sla_class']} p99 {point['p99_ms']:.0f} ms"
        f" (budget {BUDGETS[point['sla_class']].p99_ms:g} ms) with {point['users']} users,"
        f" {point['requests_per_s']:.0f} requests/s"
    )


def sides(results: dict[str, Any]) -> str:
    """Both sides' CPU where the run is judged (the knee, else the busiest 5 s) and the verdict."""
    if "judged_at" not in results:
        return "no CPU samples"
    at, first = results["judged_at"], results["limits"]
    reached = ", ".join(
        f"{name} at {first[name]} s" if first[name] is not None else f"{name} never"
        for name in ("service", "generator_process", "machine")
    )
    return (
        f"at {at['t']} s ({at['users']} users): service CPU {at['service_cpu_pct']:.0f}%,"
        f" Locust {at['generator_cpu_pct']:.0f}% (busiest process"
        f" {at['busiest_generator_process_pct']:.0f}% of its core, loop lag p99"
        f" {at['generator_lag_p99_ms']:.1f} ms), other processes {at['others_cpu_pct']:.0f}%,"
        f" machine {at['machine_cpu_pct']:.0f}% (% of one core); 90% of CPU limit reached:"
        f" {reached}; bottleneck: {results['bound']}"
        + (
            "; the generator's loop lag is inside the measured latency"
            if results["lag_in_latency"]
            else ""
        )
    )


def table(results: dict[str, Any]) -> str:
    rows = [f"{results['profile']}: {results['about']} ({results['seconds']} s)", HEAD]
    rows += [line(name, s) for name, s in results["endpoints"].items()]
    rows += [line(f"class {name}", s) for name, s in results["classes"].items()]
    rows.append(line("total", results["total"]))
    rows += [verdict(k, j) for k, j in results["sla"].items()]
    rows += [breaking(results), knee(results), sides(results)]
    return "\n".join(rows)


def md_row(name: str, s: dict[str, float]) -> str:
    return (
        f"| {name} | {s['requests']:,} | {s['requests_per_s']:.1f} | {s['p50_ms']:.1f} | "
        f"{s['p95_ms']:.1f} | {s['p99_ms']:.1f} | {s['error_rate']:.2%} | {s['rate_5xx']:.2%} |"
    )


def markdown(results: dict[str, Any]) -> str:
    head = [
        "| | requests | req/s | p50 ms | p95 ms | p99 ms | errors | 5xx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    parts = [
        f"# Load test: {results['profile']}",
        "",
        f"{results['about']}; started {results['started']}, {results['seconds']} s, "
        f"peak {results['peak_users']} users, {results['workers']} workers.",
        "",
        "## Per endpoint",
        "",
        *head,
        *[md_row(f"`{n}`", s) for n, s in results["endpoints"].items()],
        md_row("**total**", results["total"]),
        "",
        "## Per SLA class",
        "",
        *head,
        *[md_row(n, s) for n, s in results["classes"].items()],
        "",
        *[f"- {verdict(k, j)}" for k, j in results["sla"].items()],
        f"- {breaking(results)}",
        f"- {knee(results)}",
        "",
        *generator(results),
        "![timeline](report.png)",
        "",
    ]
    return "\n".join(parts)


def generator(results: dict[str, Any]) -> list[str]:
    """The load generator beside the service: CPU per process, lag, who saturated."""
    if not results.get("cpu"):
        return []
    lag = results["lag_ms"]
    return [
        "## Generator and service",
        "",
        f"{results.get('generator_processes') or 1} Locust worker process(es)"
        f" (0 = one process); CPU in % of one core (a Locust process tops out at 100,"
        f" the machine at {100 * (results.get('cpus') or 1)}).",
        "",
        "| process | mean CPU % | peak CPU % (5 s) |",
        "|---|---:|---:|",
        *[
            f"| {name} | {s['mean_pct']:.0f} | {s['peak_pct']:.0f} |"
            for name, s in results["cpu"].items()
        ],
        "",
        f"- Locust event-loop lag: p50 {lag['p50']:.1f} ms, p99 {lag['p99']:.1f} ms,"
        f" max {lag['max']:.0f} ms",
        f"- {sides(results)}",
        "",
    ]
