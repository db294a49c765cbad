"""The README's run command end to end: a real server process on loopback.

``cms-pricing serve`` on an empty database ingests the real CMS files from CMS_DATA_DIR
with a progress line per file, starts Granian with two workers, and answers over HTTP.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CLI = Path(sys.executable).parent / "cms-pricing"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_ready(base: str, proc: subprocess.Popen[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited before it was ready"
        try:
            if get(f"{base}/ready")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base}/ready did not answer 200 within {timeout}s")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, cms_data: Path) -> Iterator[tuple[str, str]]:
    """A `cms-pricing serve` process on a fresh, empty SQLite database; yields (base, log)."""
    folder = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'serve.db'}",
        "CMS_DATA_DIR": str(cms_data),
        "CMS_PRICING_PORT": str(port),
        "CMS_PRICING_WORKERS": "2",
    }
    log = folder / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(CLI), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT, text=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield base, log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_ingests_an_empty_database_then_prices(served: tuple[str, str]) -> None:
    """The README's acceptance check: 99213 at ZIP 94110 in 2025 is 10915 cents in the office."""
    base, log = served
    status, body = get(f"{base}/codes/price?code=99213&zip=94110&setting=office&year=2025")
    assert status == 200
    assert body["amount_cents"] == 10915
    assert "PPRRVU2025_Oct.txt" in log  # a progress line per file
    assert "ZIP5_OCT2025.txt" in log


def test_served_errors_use_the_envelope(served: tuple[str, str]) -> None:
    """Over real HTTP, bad input is a 4xx envelope, never a 500."""
    base, _log = served
    status, body = get(f"{base}/codes/price?code=99213&zip=abc")
    assert status == 400
    assert body["error"]["details"] == {"field": "zip"}  # type: ignore[index]
