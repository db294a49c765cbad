"""The outer rate limit: the per-address ``limit_req`` of deploy/nginx and deploy/lb.

Both nginx configs carry the same two zones in front of the service's own per-key limits
(the templates' comments give the numbers and why): ``cms_per_ip`` counts every request of
an address, ``cms_per_ip_writes`` only its POST/PUT/DELETE. nginx answers a request over
either with its own 429 in the service's error envelope. These tests run the real nginx
(``servers.nginx``) in front of a real ``cms-pricing serve``:

- the shipped numbers are the same in both files and above the service's default limits,
  so that nginx never refuses first what the service would let one key do;
- scaled down (the same file with a slower rate, so a test crosses it deterministically):
  requests within the burst reach the service, the rest get nginx's 429;
- the shipped numbers: a client at an ordinary pace is never refused, a wrk flood is;
- loopback is exempt (benchmarks and the load-balancer tests drive nginx from 127.0.0.1), so
  every other test here runs a copy without the two exempting lines.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from cms_pricing.config import Settings
from servers import Server, copy_database, get, nginx, serve

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TEMPLATES = {
    "gateway": DEPLOY / "nginx" / "cms-pricing.conf.template",
    "lb": DEPLOY / "lb" / "cms-pricing-lb.conf.template",
}
ENVELOPE = {
    "error": {
        "code": "rate_limited",
        "message": "Too many requests from this address; retry after the Retry-After seconds.",
        "details": {},
    }
}
ZONE = re.compile(r"limit_req_zone \S+ zone=(\w+):\w+ rate=(\d+)r/s;")
BURST = re.compile(r"limit_req zone=(\w+) burst=(\d+) nodelay;")
LOOPBACK = re.compile(r"^ +(127\.0\.0\.1|::1) 1;\n", re.MULTILINE)
# Distinct URLs, so that the gateway's cache cannot answer them: each allowed one is a MISS.
URLS = [f"/codes/price?code={code}&zip=94110&year=2025" for code in range(99211, 99216)] + [
    f"/codes/price?code={code}&zip=10001&year=2025" for code in range(99211, 99216)
]
BULK = json.dumps({"lines": [{"code": "99213", "zip": "94110", "year": 2025}]}).encode()


def limits(template: Path) -> dict[str, tuple[int, int]]:
    """{zone: (requests per second, burst)} as the template declares and uses them."""
    text = template.read_text()
    rates = {zone: int(rate) for zone, rate in ZONE.findall(text)}
    bursts = {zone: int(burst) for zone, burst in BURST.findall(text)}
    assert set(rates) == set(bursts), (rates, bursts)
    return {zone: (rates[zone], bursts[zone]) for zone in rates}


def variant(
    template: Path, folder: Path, bursts: dict[str, int] | None = None, *, loopback: bool = True
) -> Path:
    """A copy of ``template`` that (with ``loopback``) limits loopback too; with ``bursts``,
    its zones refill at 1 request a minute (nothing drains during a test) with those bursts."""
    text, exempt = LOOPBACK.subn("", template.read_text())
    assert exempt == 2
    text = text if loopback else template.read_text()
    if bursts is not None:
        text = ZONE.sub(lambda m: m[0].replace(f"rate={m[2]}r/s", "rate=1r/m"), text)
        text = BURST.sub(lambda m: f"limit_req zone={m[1]} burst={bursts[m[1]]} nodelay;", text)
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / template.name
    copy.write_text(text)
    return copy


def post(
    url: str, body: bytes, timeout: float = 5
) -> tuple[int, dict[str, object], dict[str, str]]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def assert_refused(answer: tuple[int, dict[str, object], dict[str, str]]) -> None:
    """nginx's 429: the service's envelope, as JSON, with a whole-second Retry-After."""
    status, body, headers = answer
    assert (status, body) == (429, ENVELOPE)
    assert headers["Content-Type"] == "application/json"
    assert headers["Retry-After"] == "1"


def values(kind: str, service: Server, folder: Path) -> dict[str, str]:
    host = service.base.removeprefix("http://")
    upstream = f"server {host};" if kind == "gateway" else f"server {host} max_fails=1;"
    return {"CMS_PRICING_UPSTREAM": upstream, "CMS_PRICING_CACHE_DIR": str(folder / "cache")}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, ingested_url: str) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("limited")
    env = {"DATABASE_URL": copy_database(ingested_url, folder), "CMS_PRICING_RATE_LIMITS": "false"}
    with serve(env, folder / "serve.log", workers=1) as server:
        # /ready does not wait for the bulk path's worker children; the first bulk request
        # does (seconds), so it is made here and not through nginx.
        assert post(server.url("/codes/price/bulk"), BULK, timeout=60)[0] == 200
        yield server


def test_both_configs_ship_the_same_limits_above_the_services_own() -> None:
    """cms_per_ip allows at least twice a key's default read rate (so a key at its limit,
    with its bulk and plan calls, passes) and more than an anonymous address's;
    cms_per_ip_writes allows more than a key's plan writes and at least one bulk request
    per 34 lines of a key's line rate. Bursts are two seconds at the rate."""
    shipped = limits(TEMPLATES["gateway"])
    assert limits(TEMPLATES["lb"]) == shipped
    per_second = {
        name: rate.count / rate.seconds
        for name, rate in (
            (name, Settings.model_fields[name].default)
            for name in ("limit_read", "limit_bulk", "limit_plans_write", "anon_limit_read")
        )
    }
    read, read_burst = shipped["cms_per_ip"]
    writes, writes_burst = shipped["cms_per_ip_writes"]
    assert read >= 2 * per_second["limit_read"] > per_second["anon_limit_read"]
    assert writes >= max(per_second["limit_plans_write"], per_second["limit_bulk"] / 34)
    assert (read_burst, writes_burst) == (2 * read, 2 * writes)


@pytest.mark.parametrize("kind", TEMPLATES)
def test_requests_within_the_burst_reach_the_service_and_the_rest_get_429(
    kind: str, service: Server, tmp_path: Path
) -> None:
    """With cms_per_ip scaled to a burst of 5 and no refill, an address's first requests
    are answered by the service (a cache MISS at the gateway) and, once the burst is spent
    (the start-up /health poll spent one or two), every further one gets nginx's 429."""
    template = variant(TEMPLATES[kind], tmp_path, {"cms_per_ip": 5, "cms_per_ip_writes": 5})
    with nginx(template, values(kind, service, tmp_path), tmp_path / "nginx") as base:
        answers = [get(base + url) for url in URLS]
    statuses = [status for status, _body, _headers in answers]
    passed = statuses.count(200)
    assert 3 <= passed <= 5 and statuses == [200] * passed + [429] * (len(URLS) - passed)
    for _status, body, headers in answers[:passed]:
        assert "amount_cents" in body
        assert headers.get("X-Cache-Status", "MISS") == "MISS"
    for answer in answers[passed:]:
        assert_refused(answer)


@pytest.mark.parametrize("kind", TEMPLATES)
def test_the_write_zone_counts_only_writes(kind: str, service: Server, tmp_path: Path) -> None:
    """With cms_per_ip_writes scaled to a burst of 2, the third bulk POST of an address
    gets nginx's 429 and the rest too, while its GETs still reach the service."""
    template = variant(TEMPLATES[kind], tmp_path, {"cms_per_ip": 100, "cms_per_ip_writes": 2})
    with nginx(template, values(kind, service, tmp_path), tmp_path / "nginx") as base:
        posts = [post(base + "/codes/price/bulk", BULK) for _ in range(5)]
        reads = [get(base + url)[0] for url in URLS[:3]]
    assert [status for status, _body, _headers in posts] == [200, 200, 200, 429, 429]
    assert_refused(posts[3])
    assert reads == [200, 200, 200]


def test_the_shipped_limits_pass_a_steady_client_and_stop_a_flood(
    service: Server, tmp_path: Path
) -> None:
    """With the gateway's real numbers: 300 requests one after another all pass; then wrk
    (2 threads, 64 connections, 3 s) on one cached URL gets 429s, and no more requests
    pass than the rate allows (rate x seconds + burst, plus a second of slack)."""
    binary = shutil.which("wrk")
    assert binary, "wrk is missing: apt-get install wrk (.ci/run does)"
    rate, burst = limits(TEMPLATES["gateway"])["cms_per_ip"]
    kind = "gateway"
    template = variant(TEMPLATES[kind], tmp_path)
    with nginx(template, values(kind, service, tmp_path), tmp_path / "nginx") as base:
        steady = [get(base + URLS[i % len(URLS)])[0] for i in range(300)]
        flood = subprocess.run(
            [binary, "-t2", "-c64", "-d3s", base + URLS[0]],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    assert steady == [200] * 300
    total, refused = count(r"(\d+) requests in", flood), count(r"Non-2xx or 3xx.*: (\d+)", flood)
    assert refused > 0 and total - refused <= rate * 4 + burst, flood


@pytest.mark.parametrize("kind", TEMPLATES)
def test_loopback_is_not_limited(kind: str, service: Server, tmp_path: Path) -> None:
    """The shipped file, with its zones scaled to a burst of 1 and no refill, still passes
    every GET and POST from 127.0.0.1 to the service (what the benchmarks rely on)."""
    bursts = {"cms_per_ip": 1, "cms_per_ip_writes": 1}
    template = variant(TEMPLATES[kind], tmp_path, bursts, loopback=False)
    with nginx(template, values(kind, service, tmp_path), tmp_path / "nginx") as base:
        reads = [get(base + url)[0] for url in URLS]
        posts = [post(base + "/codes/price/bulk", BULK)[0] for _ in range(3)]
    assert reads + posts == [200] * (len(URLS) + 3)


def count(pattern: str, report: str) -> int:
    """The number ``pattern`` captures in wrk's report (no line at all is a failure)."""
    match = re.search(pattern, report)
    assert match, report
    return int(match[1])
