"""A real browser renders /docs and /redoc from a real `cms-pricing serve`, offline.

Headless Debian Chromium loads each page with every host name but 127.0.0.1 unresolvable, so
a page that needed a CDN would not render. It must show every operation of /openapi.json and
log no console message: no blocked request, no Content-Security-Policy violation, no script
error. Chromium missing is a failure, not a skip (`.ci/run` installs it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from servers import Server, serve_copy

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Nothing but loopback resolves: a CDN reference fails to load and shows in the console.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=20000",
]


@dataclass
class Rendered:
    dom: str
    console: list[str]  # Chromium's CONSOLE log lines: page messages, CSP reports, errors


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, ingested_url: str) -> Iterator[Server]:
    """`cms-pricing serve` (one worker) on a private copy of the ingested database."""
    with serve_copy(ingested_url, tmp_path_factory.mktemp("docs-browser")) as server:
        yield server


@pytest.fixture(scope="module")
def spec(served: Server) -> dict[str, Any]:
    with urllib.request.urlopen(served.url("/openapi.json"), timeout=10) as response:
        return dict(json.loads(response.read()))


def render(url: str, profile: Path) -> Rendered:
    """The DOM of ``url`` after its scripts ran, and what the page logged."""
    chromium = shutil.which("chromium")
    assert chromium is not None, "chromium is not installed: apt-get install -y chromium"
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return Rendered(done.stdout, console)


def operations(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(first tag as Swagger UI writes it in ids, operationId) of every documented operation."""
    return [
        (operation["tags"][0].replace(" ", "_"), operation["operationId"])
        for methods in spec["paths"].values()
        for operation in methods.values()
    ]


def test_swagger_ui_renders_every_operation_offline(
    served: Server, spec: dict[str, Any], tmp_path: Path
) -> None:
    """Swagger UI at /docs renders one block per operation (``operations-<tag>-<id>``) with
    only the service's own assets, and logs nothing (no CSP violation, no failed load)."""
    page = render(served.url("/docs"), tmp_path)
    assert page.console == []
    ids = [f'id="operations-{tag}-{operation}"' for tag, operation in operations(spec)]
    assert [i for i in ids if i not in page.dom] == []
    assert len(operations(spec)) >= 10


def test_redoc_renders_every_operation_offline(
    served: Server, spec: dict[str, Any], tmp_path: Path
) -> None:
    """ReDoc at /redoc renders a section per operation (``operation/<id>``), its search
    worker and logo included, with only the service's own assets, and logs nothing."""
    page = render(served.url("/redoc"), tmp_path)
    assert page.console == []
    missing = [op for op in operations(spec) if f'"operation/{op[1]}"' not in page.dom]
    assert missing == []
    assert 'src="/redoc/logo-mini.svg"' in page.dom  # ReDoc drops the img if it fails to load
