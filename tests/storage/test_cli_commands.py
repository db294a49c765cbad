"""The ``cms-pricing`` commands, run through ``main([...])`` with settings from the environment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cms_pricing.cli import main
from cms_pricing.config import get_settings

pytestmark = pytest.mark.slow


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """DATABASE_URL set, no CMS_DATA_DIR, a working folder without a .env; yields that folder."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("CMS_DATA_DIR", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def rvu25a(cms_data: Path, cli_env: Path, copy_folder: Callable[[Path, Path], Path]) -> Path:
    """A writable copy of the real RVU25A .txt files, in a tree of its own."""
    return copy_folder(cms_data / "2025" / "rvu25a", cli_env / "data" / "2025" / "rvu25a")


def test_ingest_then_releases(rvu25a: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`ingest` prints a line per file and a summary; `releases` then lists RVU25A."""
    assert main(["ingest", str(rvu25a)]) == 0
    out = capsys.readouterr().out
    assert "RVU25A PPRRVU25_JAN.txt: 18,865 rows, sha256 " in out
    assert out.splitlines()[-1].startswith("1 datasets: 1 published, 0 replaced, 0 unchanged in ")

    assert main(["releases"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "release",
        "effective",
        "sha256",
        "published",
        "at",
        "(UTC)",
        "rows",
    ]
    assert table[1].split()[:2] == ["RVU25A", "2025-01-01"]
    assert "pprrvu=18,865" in table[1]


def test_ingest_of_a_bad_file_exits_1_with_file_and_line(
    rvu25a: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PPRRVU cut inside its last record: exit 1, file+line on stderr, nothing published."""
    pprrvu = rvu25a / "PPRRVU25_JAN.txt"
    lines = pprrvu.read_bytes().splitlines(keepends=True)
    last = len(lines) - 1  # the file ends with a DOS ^Z line after its last record
    pprrvu.write_bytes(b"".join(lines[: last - 1]) + lines[last - 1][:50])
    assert main(["ingest", str(rvu25a)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        f"rejected: PPRRVU25_JAN.txt, line {last}: record is 50 characters long, expected 171"
    )
    assert main(["releases"]) == 0
    assert "no release published yet" in capsys.readouterr().out


def test_serve_on_an_empty_database_without_data_dir_exits_2(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With nothing published and no CMS_DATA_DIR there is nothing to serve: exit 2."""
    assert main(["serve"]) == 2
    assert "CMS_DATA_DIR is not set" in capsys.readouterr().err
