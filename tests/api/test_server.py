"""The README's run command end to end: a real server process on loopback.

``cms-pricing serve`` on an empty database ingests the real CMS files from CMS_DATA_DIR
with a progress line per file, starts Granian with two workers, and answers over HTTP.
"""

from __future__ import annotations

import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import Server, get, serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, cms_data: Path) -> Iterator[Server]:
    """A `cms-pricing serve` process on a fresh, empty SQLite database."""
    folder = tmp_path_factory.mktemp("serve")
    env = {"DATABASE_URL": f"sqlite:///{folder / 'serve.db'}", "CMS_DATA_DIR": str(cms_data)}
    with serve(env, folder / "serve.log") as server:
        yield server


def test_serve_ingests_an_empty_database_then_prices(served: Server) -> None:
    """The README's acceptance check: 99213 at ZIP 94110 in 2025 is 10915 cents in the office."""
    status, body, _headers = get(
        served.url("/codes/price?code=99213&zip=94110&setting=office&year=2025")
    )
    assert status == 200
    assert body["amount_cents"] == 10915
    log = served.log.read_text()
    assert "PPRRVU2025_Oct.txt" in log  # a progress line per file
    assert "ZIP5_OCT2025.txt" in log


def test_served_errors_use_the_envelope(served: Server) -> None:
    """Over real HTTP, bad input is a 4xx envelope, never a 500."""
    status, body, _headers = get(served.url("/codes/price?code=99213&zip=abc"))
    assert status == 400
    assert body["error"]["details"] == {"field": "zip"}


def _abandon_body(base: str, path: str, content_type: str) -> None:
    """Send headers promising 1 MB, 20 bytes of body, then close the connection."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
            "Content-Length: 1000000\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"lines": [{"code": ')
        time.sleep(0.2)


def test_a_client_that_leaves_mid_body_is_not_a_server_error(served: Server) -> None:
    """Disconnects mid-body on bulk and plans are recorded as 499, never 5xx, and logged
    without a stack trace."""
    for path in ("/codes/price/bulk", "/plans/price", "/plans"):
        for _ in range(3):
            _abandon_body(served.base, path, "application/json")
    time.sleep(1.5)  # the workers flush their metrics every second
    with urllib.request.urlopen(served.url("/metrics"), timeout=5) as response:
        text = response.read().decode()
    server_errors = [
        line for line in text.splitlines()
        if line.startswith("api_requests_total") and 'status="5' in line
    ]  # fmt: skip
    assert server_errors == []
    assert 'endpoint="/codes/price/bulk",method="POST",status="499"' in text
    assert "Traceback" not in served.log.read_text()
