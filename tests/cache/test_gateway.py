"""The gateway layer: a real nginx (Debian's nginx-light) with deploy/nginx's config.

nginx listens on loopback in front of a real `cms-pricing serve`; it must cache what the
service marks cacheable and nothing else, and answer repeated requests without the service.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import Server, copy_database, eventually, free_port, get, serve

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "cms-pricing.conf.template"


@pytest.fixture
def service(tmp_path: Path, ingested_url: str) -> Iterator[Server]:
    env = {"DATABASE_URL": copy_database(ingested_url, tmp_path)}
    with serve(env, tmp_path / "serve.log", workers=1) as server:
        yield server


@pytest.fixture
def nginx(tmp_path: Path, service: Server) -> Iterator[str]:
    """nginx on a free loopback port, configured from the shipped template."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    run = tmp_path / "nginx"
    run.mkdir()
    port = free_port()
    values = {
        "CMS_PRICING_LISTEN": f"127.0.0.1:{port}",
        "CMS_PRICING_UPSTREAM": f"server {service.base.removeprefix('http://')};",
        "CMS_PRICING_CACHE_DIR": str(run / "cache"),
        "CMS_PRICING_RUN_DIR": str(run),
    }
    # What envsubst does with only these variables defined: nginx's own $vars stay.
    config = re.sub(r"\$\{(CMS_PRICING_[A-Z_]+)\}", lambda m: values[m[1]], TEMPLATE.read_text())
    (run / "nginx.conf").write_text(config)
    # As root (CI), workers would drop to "nobody", who cannot enter pytest's private tmp.
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    command = [binary, "-p", str(run), "-c", str(run / "nginx.conf"), "-g", directives]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        assert eventually(lambda: _answers(base), 10) is not None, "nginx did not start"
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(base: str) -> bool:
    try:
        return get(base + "/health", timeout=1)[0] == 200
    except OSError:
        return False


def test_nginx_serves_repeats_without_the_service(nginx: str, service: Server) -> None:
    """The first request goes through (MISS); the second is a HIT; with the service stopped,
    nginx still answers the cached request, so it never reached the service."""
    url = nginx + "/codes/price?code=99213&zip=94110&year=2025"
    first = get(url)
    assert (first[0], first[2]["X-Cache-Status"]) == (200, "MISS")
    second = get(url)
    assert (second[0], second[2]["X-Cache-Status"]) == (200, "HIT")
    assert second[1] == first[1]
    service.process.terminate()
    service.process.wait(timeout=30)
    third = get(url)
    assert (third[0], third[2]["X-Cache-Status"], third[1]["amount_cents"]) == (200, "HIT", 10915)


def test_nginx_does_not_cache_errors_or_health(nginx: str) -> None:
    """no-store answers (errors, readiness) are never served from nginx's cache."""
    for path in ("/codes/price?code=ZZZZZ&zip=94110", "/ready"):
        get(nginx + path)
        assert get(nginx + path)[2]["X-Cache-Status"] != "HIT"
