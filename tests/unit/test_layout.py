"""The layout rules: the engine is pure, parsers only parse, one place reads settings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "cms_pricing"
IO_MODULES = {
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "redis",
    "psycopg",
    "httpx",
    "granian",
    "uvicorn",
    "socket",
    "urllib",
    "requests",
    "cms_pricing.db",
    "cms_pricing.api",
    "cms_pricing.config",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def forbidden(path: Path) -> set[str]:
    return {
        module
        for module in imported_modules(path)
        if any(module == io or module.startswith(io + ".") for io in IO_MODULES)
    }


@pytest.mark.parametrize(
    "path",
    sorted((PACKAGE / "engine").glob("*.py"))
    + sorted((PACKAGE / "reference" / "parsers").glob("*.py")),
    ids=lambda p: p.name,
)
def test_engine_and_parsers_import_no_io(path: Path) -> None:
    """Engine and parser modules import no web, database, network or settings module."""
    assert forbidden(path) == set()


def test_only_config_reads_the_environment() -> None:
    """No module but config.py reads environment variables."""
    readers = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if "os.environ" in p.read_text() or "getenv" in p.read_text()
    ]
    assert readers == []
