"""A real Prometheus scrapes a real server and answers request counts and a p95.

Prometheus (Debian's ``prometheus`` package; ``.ci/run`` installs it) runs on a free
loopback port with ``deploy/prometheus/prometheus.yml`` (target and a 1 s interval filled
in) and ``rules.yml``, scraping the session's two-worker ``cms-pricing serve``. Bounded:
every wait has a deadline; a missing binary fails the test.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scrapes import Server, free_port, http_get

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
N = 120


def query(prometheus: str, promql: str) -> list[dict[str, object]]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    status, body = http_get(url)
    assert status == 200, body
    answer = json.loads(body)
    assert answer["status"] == "success", answer
    return list(answer["data"]["result"])


def scalar(prometheus: str, promql: str) -> float | None:
    result = query(prometheus, promql)
    return float(result[0]["value"][1]) if result else None  # type: ignore[index]


def eventually(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"not within {seconds}s: {what}")


@pytest.fixture(scope="module")
def prometheus(served: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prometheus on loopback scraping ``served`` every second; yields its base URL."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: apt-get install prometheus (.ci/run does)"
    folder = tmp_path_factory.mktemp("prometheus")
    config = (DEPLOY / "prometheus.yml").read_text()
    config = config.replace("{{TARGET}}", f"127.0.0.1:{served.port}")
    config = config.replace("{{SCRAPE_INTERVAL}}", "1s")
    # The session's server does not require keys and knows no admin key to scrape with.
    config = re.sub(r"\n    authorization:\n(      .*\n)+", "\n", config)
    (folder / "prometheus.yml").write_text(config)
    shutil.copy(DEPLOY / "rules.yml", folder / "rules.yml")
    port = free_port()
    command = [
        binary,
        f"--config.file={folder / 'prometheus.yml'}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with (folder / "prometheus.log").open("wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: _up(base), 60, "Prometheus scraping the service with up == 1")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _up(base: str) -> bool:
    """Prometheus is ready (its query API answers 503 while it starts) and scrapes us."""
    try:
        if http_get(f"{base}/-/ready")[0] != 200:
            return False
        return scalar(base, 'up{job="cms-pricing"}') == 1
    except OSError:
        return False


def test_prometheus_sees_every_request_and_a_p95(prometheus: str, served: Server) -> None:
    """After N priced requests, Prometheus's count grows by exactly N and p95 is a number."""
    count = 'sum(api_requests_total{endpoint="/codes/price",status="200"})'
    time.sleep(2)  # a settled baseline: every worker flushed and scraped
    before = scalar(prometheus, count) or 0.0
    for i in range(N):
        assert http_get(f"{served.base}/codes/price?code={99211 + i % 5}&zip=94110")[0] == 200
        time.sleep(0.02)
    eventually(lambda: scalar(prometheus, count) == before + N, 30, f"count grows by {N}")

    p95 = (
        "histogram_quantile(0.95, sum by (le) "
        '(rate(api_request_duration_seconds_bucket{endpoint="/codes/price"}[1m])))'
    )
    value = scalar(prometheus, p95)
    assert value is not None and 0 < value < 0.2


def test_recording_rules_judge_pricing_by_its_class(prometheus: str, served: Server) -> None:
    """rules.yml evaluates on real series: the pricing class gets a p95 and its budget."""
    for _ in range(20):
        http_get(f"{served.base}/codes/price?code=99214&zip=94110")
    promql = 'sla_class:api_request_duration_seconds:p95_5m{sla_class="pricing"}'
    eventually(lambda: scalar(prometheus, promql) is not None, 30, "the pricing p95 is recorded")
    assert scalar(prometheus, 'sla_class:api_sla_budget_seconds{sla_class="pricing"}') == 0.2
    assert scalar(prometheus, 'ALERTS{alertname="APILatencyOverBudget"}') is None
