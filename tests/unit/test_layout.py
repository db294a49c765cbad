"""The layout rules: the engine is pure, parsers only parse, one place reads settings."""

from __future__ import annotations

import ast
import re
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


def _package_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize(
    "path",
    _package_files("cache", "observability", "service", "engine", "reference", "db"),
    ids=lambda p: p.relative_to(PACKAGE).as_posix(),
)
def test_layers_below_the_web_layer_never_import_it(path: Path) -> None:
    """cache/, observability/, service/, engine/, reference/ and db/ import nothing from
    api/: state, refresh and events live in service/, and the endpoint table is handed in."""
    imported = imported_modules(path)
    assert not {m for m in imported if m == "cms_pricing.api" or m.startswith("cms_pricing.api.")}


def test_only_the_metrics_module_declares_metrics() -> None:
    """Counters, gauges and histograms are declared in observability/metrics.py only."""
    declaring = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if any(f"{kind}(" in p.read_text() for kind in ("Counter", "Histogram", "Gauge"))
        and "prometheus_client" in p.read_text()
    ]
    assert declaring == ["observability/metrics.py"]


def test_routes_take_their_paths_from_the_endpoint_table() -> None:
    """No route decorator or add_api_route call names a path literal: api/endpoints.py is
    the one declaration of paths and methods."""
    literal = re.compile(r"""(\.(get|post|put|delete|api_route|add_api_route)\(\s*["']/)""")
    offenders = [
        p.relative_to(PACKAGE).as_posix()
        for p in (PACKAGE / "api").glob("*.py")
        if p.name != "endpoints.py" and literal.search(p.read_text())
    ]
    assert offenders == []


def test_one_parser_for_request_input() -> None:
    """Query strings are split only in service/queries.py (no urllib.parse elsewhere in the
    package but the shared cache's URL handling)."""
    users = [
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*.py")
        if "unquote" in p.read_text() or "parse_qs" in p.read_text()
    ]
    assert users == ["service/queries.py"]


@pytest.mark.parametrize("path", _package_files("engine"), ids=lambda p: p.name)
def test_the_engine_imports_nothing_above_it(path: Path) -> None:
    """The engine is the core: it imports no service, cache or observability module (those
    import it). Text is parsed in service/queries.py; the engine receives typed requests."""
    above = ("cms_pricing.service", "cms_pricing.cache", "cms_pricing.observability")
    imported = imported_modules(path)
    assert not {m for m in imported if m.startswith(above)}
