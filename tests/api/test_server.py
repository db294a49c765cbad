"""The README's run command end to end: a real server process on loopback.

``cms-pricing serve`` on an empty database ingests the real CMS files from CMS_DATA_DIR
with a progress line per file, starts Granian with two workers, and answers over HTTP.
"""

from __future__ import annotations

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
