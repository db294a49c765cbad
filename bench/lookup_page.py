"""Benchmark: the look-up page's first render and the latency of the endpoints behind it.

Contract (docs/lookup.md, "What it costs", quotes its output): against a running
``cms-pricing serve`` at ``--base`` (127.0.0.1 only),

1. ``--loads`` cold loads of ``/`` in headless Debian Chromium (Playwright with
   ``executable_path``; a new browser context each time, so nothing is cached): the
   navigation's DOMContentLoaded, load, first contentful paint and the moment the page's
   script has run (``body.ready``), and the time from pressing Price to the price shown for
   one code at one ZIP; medians and maxima in milliseconds;
2. for ``GET /codes/{code}/prices`` and ``GET /codes/{code}/localities``: ``--codes`` distinct
   codes asked once each, one at a time (the first ask of a code: computed, unless another run
   asked it before), then wrk (``--connections`` connections, 1 thread, ``--duration`` s) on
   one path (answered from the local cache); medians, p99 and requests/s.

Run a server with the cache off (``CMS_PRICING_RESPONSE_CACHE_SIZE=0``) to measure computed
answers under wrk too. Run: ``.venv/bin/python bench/lookup_page.py --base URL``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import time
import urllib.request
from typing import Any

CODES = [
    "99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215", "99221",
    "99222", "99223", "99231", "99232", "99233", "99283", "99285", "45378", "27447", "29881",
    "20610", "11042", "17000", "93000", "71046", "73030", "97110", "97140", "90837", "90834",
]  # fmt: skip
RENDER = (
    "() => { const n = performance.getEntriesByType('navigation')[0];"
    " const p = performance.getEntriesByName('first-contentful-paint')[0];"
    " return [n.domContentLoadedEventEnd, n.loadEventEnd, p ? p.startTime : -1]; }"
)


def first_render(base: str, loads: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a dev dependency

    found: dict[str, list[float]] = {"dom": [], "load": [], "paint": [], "ready": [], "price": []}
    chromium = shutil.which("chromium")
    assert chromium is not None, "chromium is not installed"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(loads):
            context = browser.new_context()
            page = context.new_page()
            started = time.perf_counter()
            page.goto(base + "/")
            page.wait_for_selector("body.ready")
            found["ready"].append((time.perf_counter() - started) * 1000)
            page.wait_for_load_state("load")
            dom, load, paint = page.evaluate(RENDER)
            found["dom"].append(dom)
            found["load"].append(load)
            found["paint"].append(paint)
            page.fill("#codes", "99213")
            page.fill("#where", "94110")
            started = time.perf_counter()
            page.click("#price")
            page.wait_for_selector('#results-table tr[data-schedule="mpfs"] td.amount')
            found["price"].append((time.perf_counter() - started) * 1000)
            context.close()
        browser.close()
    return found


def once(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def wrk(url: str, connections: int, duration: int) -> dict[str, Any]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out)[1])  # type: ignore[index]
    latency = dict(re.findall(r"\s+(50|99)%\s+(\S+)", out))
    return {"requests_per_s": rate, "p50": latency.get("50"), "p99": latency.get("99")}


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):7.1f}  max {max(values):7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="a running server, http://127.0.0.1:PORT")
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--codes", type=int, default=30)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=int, default=5)
    args = parser.parse_args()
    assert args.base.startswith("http://127.0.0.1:"), "loopback only"
    print(f"first render, {args.loads} cold loads (ms):")
    for name, values in first_render(args.base, args.loads).items():
        print(f"  {name:6} {summary(values)}")
    paths = {
        "prices": "/codes/{}/prices?zip=94110",
        "localities": "/codes/{}/localities",
    }
    for name, template in paths.items():
        asked = [once(args.base + template.format(code)) for code in CODES[: args.codes]]
        print(f"{name}: first ask of {len(asked)} codes (ms): {summary(asked)}")
        loaded = wrk(args.base + template.format("99213"), args.connections, args.duration)
        print(f"{name}: wrk -c{args.connections} on one path: {loaded}")


if __name__ == "__main__":
    main()
