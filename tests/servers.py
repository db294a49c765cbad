"""Real server processes for tests: `cms-pricing serve` and helpers to talk to it.

Every server binds 127.0.0.1 on a free port and is stopped when its context ends.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLI = Path(sys.executable).parent / "cms-pricing"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, timeout: float = 5) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, JSON body, headers) of a GET; HTTP errors are answers, not exceptions."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def eventually(check: Callable[[], bool], seconds: float, interval: float = 0.1) -> float | None:
    """Seconds until ``check()`` held, or None if it never did within ``seconds``."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(interval)
    return None


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], env=env, capture_output=True, text=True, check=False)


@dataclass
class Server:
    base: str
    log: Path
    process: subprocess.Popen[str]

    def url(self, path: str) -> str:
        return self.base + path


@contextmanager
def serve(
    env: dict[str, str], log: Path, workers: int = 2, ready_within: float = 90
) -> Iterator[Server]:
    """`cms-pricing serve` with ``env`` on a free port, yielded once /ready answers 200."""
    port = free_port()
    full_env = {
        **os.environ,
        **env,
        "CMS_PRICING_PORT": str(port),
        "CMS_PRICING_WORKERS": str(workers),
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(CLI), "serve"], env=full_env, stdout=out, stderr=subprocess.STDOUT, text=True
        )
    server = Server(f"http://127.0.0.1:{port}", log, process)
    try:
        ready = eventually(lambda: _ready(server), ready_within, interval=0.2)
        assert ready is not None, f"server not ready in {ready_within}s:\n{log.read_text()}"
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ready(server: Server) -> bool:
    assert server.process.poll() is None, f"server exited:\n{server.log.read_text()}"
    try:
        return get(server.url("/ready"), timeout=2)[0] == 200
    except OSError:
        return False


def copy_database(url: str, folder: Path) -> str:
    """A private copy of the session's SQLite database (the backup API copies WAL content)."""
    target = folder / "copy.db"
    with sqlite3.connect(url.removeprefix("sqlite:///")) as source, sqlite3.connect(target) as dest:
        source.backup(dest)
    return f"sqlite:///{target}"
