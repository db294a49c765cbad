"""The gateway layer: a real nginx (Debian's nginx-light) with deploy/nginx's config.

nginx listens on loopback in front of a real `cms-pricing serve`; it must cache what the
service marks cacheable and nothing else, and answer repeated requests without the service.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import Server, copy_database, get, serve
from servers import nginx as run_nginx

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "cms-pricing.conf.template"


@pytest.fixture
def service(tmp_path: Path, ingested_url: str) -> Iterator[Server]:
    env = {"DATABASE_URL": copy_database(ingested_url, tmp_path)}
    with serve(env, tmp_path / "serve.log", workers=1) as server:
        yield server


@pytest.fixture
def nginx(tmp_path: Path, service: Server) -> Iterator[str]:
    """nginx on a free loopback port, configured from the shipped template."""
    values = {
        "CMS_PRICING_UPSTREAM": f"server {service.base.removeprefix('http://')};",
        "CMS_PRICING_CACHE_DIR": str(tmp_path / "nginx" / "cache"),
    }
    with run_nginx(TEMPLATE, values, tmp_path / "nginx") as base:
        yield base


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
