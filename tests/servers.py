"""Real server processes for tests: `cms-pricing serve` and helpers to talk to it.

Every server binds 127.0.0.1 on a free port and is stopped when its context ends.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
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
REPO_ROOT = Path(__file__).resolve().parent.parent
PRICE = "/codes/price?code=99213&zip=94110&setting=office&year=2025"


def cms_data_root() -> Path:
    """The real CMS files: ``CMS_DATA_DIR`` or ``../shared/cms-data`` (missing is an error)."""
    configured = os.environ.get("CMS_DATA_DIR")
    root = Path(configured) if configured else REPO_ROOT.parent / "shared" / "cms-data"
    if not (root / "2025").is_dir():
        raise RuntimeError(f"the real CMS files are not at {root}; set CMS_DATA_DIR")
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(
    url: str, timeout: float = 5, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, JSON body, headers) of a GET; HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
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


@contextmanager
def serve_copy(url: str, folder: Path, workers: int = 1, **env: str) -> Iterator[Server]:
    """`cms-pricing serve` on a private copy of the SQLite database at ``url`` (its files
    in ``folder``), with ``env`` added; yielded once /ready answers 200."""
    settings = {"DATABASE_URL": copy_database(url, folder), "CMS_DATA_DIR": "", **env}
    with serve(settings, folder / "serve.log", workers=workers) as server:
        yield server


def revise_release(cms_data: Path, folder: Path) -> Path:
    """A copy of RVU25D whose GPCI file raises San Francisco's (01112-05) work GPCI from
    1.088 to 1.188: ``PRICE`` then moves from 10915 to 11336 cents (tests/cache/test_freshness)."""
    target = folder / "revised" / "rvu25d"
    shutil.copytree(cms_data / "2025" / "rvu25d", target)
    gpci = target / "GPCI2025.txt"
    lines = gpci.read_bytes().split(b"\n")
    index = next(i for i, line in enumerate(lines) if line.startswith(b"01112") and b" 05 " in line)
    assert b"1.088" in lines[index]
    lines[index] = lines[index].replace(b"1.088", b"1.188")
    gpci.write_bytes(b"\n".join(lines))
    return target


def price_cents(base: str) -> int:
    """``PRICE`` in cents as answered by the server at ``base``."""
    status, body, _headers = get(base + PRICE)
    assert status == 200
    return int(body["amount_cents"])


def all_answer(base: str, expected: int) -> bool:
    """Ten requests in a row (spread over the workers) all give ``expected`` cents."""
    return all(price_cents(base) == expected for _ in range(10))


def kill_instance(server: Server) -> None:
    """SIGKILL a server and its worker processes at once, as a crashed machine would."""
    pids = [int(p) for p in _children(server.process.pid)] + [server.process.pid]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    server.process.wait(timeout=10)


def _children(pid: int) -> list[str]:
    task = Path(f"/proc/{pid}/task/{pid}/children")
    return task.read_text().split() if task.exists() else []


@contextmanager
def nginx(template: Path, values: dict[str, str], folder: Path) -> Iterator[str]:
    """A real nginx on a free loopback port with ``template`` rendered; yields its base URL.

    ``values`` fills the template's ``${CMS_PRICING_*}`` variables (as envsubst would, with
    nginx's own ``$vars`` left alone); LISTEN and RUN_DIR are filled here."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    values = {
        **values,
        "CMS_PRICING_LISTEN": f"127.0.0.1:{port}",
        "CMS_PRICING_RUN_DIR": str(folder),
    }
    config = re.sub(r"\$\{(CMS_PRICING_[A-Z_]+)\}", lambda m: values[m[1]], template.read_text())
    (folder / "nginx.conf").write_text(config)
    # As root (CI), workers would drop to "nobody", who cannot enter pytest's private tmp.
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    command = [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", directives]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        assert eventually(lambda: _health(base), 10) is not None, "nginx did not start"
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _health(base: str) -> bool:
    try:
        return get(base + "/health", timeout=1)[0] == 200
    except OSError:
        return False


def new_key(url: str, *scopes: str, name: str = "tests", **quota: str) -> str:
    """A new API key in the database at ``url`` (``quota``: class=rate, ``plans_write`` for
    ``plans:write``); saved plans need one, and each key sees only its own."""
    from cms_pricing.db.keys import create_key  # noqa: PLC0415 - only the tests that need it
    from cms_pricing.db.repository import create_db_engine  # noqa: PLC0415

    engine = create_db_engine(url)
    try:
        rates = {kind.replace("_", ":"): rate for kind, rate in quota.items()}
        _key, secret = create_key(engine, name, scopes, quota=rates)
    finally:
        engine.dispose()
    return secret


@contextmanager
def apps(**base: Any) -> Iterator[Callable[..., Any]]:
    """``build(**settings)``: a whole app (``create_app``) with ``base`` and these settings
    (their environment names), in a ``TestClient`` whose lifespan has started; every app
    built is stopped on exit."""
    from fastapi.testclient import TestClient  # noqa: PLC0415 - only the tests that need it

    from cms_pricing.api.app import create_app  # noqa: PLC0415
    from cms_pricing.config import Settings  # noqa: PLC0415

    clients: list[TestClient] = []

    def build(**settings: Any) -> TestClient:
        client = TestClient(
            create_app(Settings(**{**base, **settings})), raise_server_exceptions=False
        )
        client.__enter__()
        clients.append(client)
        return client

    try:
        yield build
    finally:
        for client in clients:
            client.__exit__(None, None, None)
