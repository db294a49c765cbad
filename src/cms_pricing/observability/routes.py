"""Raw request path -> route template, and route template -> SLA class.

The ``endpoint`` label is the template (``/reference/codes/{code}``), never the raw path,
so a scan of random URLs cannot grow the label set: a path no route matches is
``unmatched``. Templates come from the wrapped app's routes (FastAPI's ``app.routes``) plus
``/metrics``; templates without parameters are one dict lookup, the rest a regex each.

SLA classes (budgets in ``metrics.SLA_BUDGETS``): ``pricing`` for ``/codes/price``,
``reference`` for the reference data and releases, ``bulk`` for any template containing
``bulk``, ``write`` for POST/PUT/PATCH/DELETE, ``read`` for everything else (health,
readiness, docs, metrics, plan reads, unmatched paths).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cms_pricing.observability.metrics import METHODS, UNMATCHED

METRICS_PATH = "/metrics"
PRICING = frozenset({"/codes/price"})
REFERENCE = frozenset({"/reference/localities", "/reference/codes/{code}", "/releases"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def sla_class(method: str, template: str) -> str:
    if template in PRICING:
        return "pricing"
    if template in REFERENCE:
        return "reference"
    if "bulk" in template:
        return "bulk"
    return "write" if method in WRITE_METHODS else "read"


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


class RouteTable:
    """Route templates with their methods; ``template(path)`` names a raw path's route."""

    def __init__(self, routes: Iterable[tuple[str, frozenset[str]]]) -> None:
        self.methods: dict[str, frozenset[str]] = {}
        for path, methods in routes:
            self.methods[path] = self.methods.get(path, frozenset()) | methods
        self._static = {p for p in self.methods if "{" not in p}
        self._patterns = [(_compile(p), p) for p in self.methods if "{" in p]

    def template(self, path: str) -> str:
        if path in self._static:
            return path
        for pattern, template in self._patterns:
            if pattern.fullmatch(path):
                return template
        return UNMATCHED

    def endpoints(self) -> list[tuple[str, str, str]]:
        """Every (method, template, SLA class), unmatched included."""
        rows = [
            (method, template, sla_class(method, template))
            for template, methods in sorted(self.methods.items())
            for method in sorted(methods)
        ]
        return [*rows, ("GET", UNMATCHED, sla_class("GET", UNMATCHED))]


def _compile(template: str) -> re.Pattern[str]:
    """``/a/{x}/b`` -> a regex where each ``{param}`` is one path segment (``{p:path}`` any)."""
    parts = re.split(r"(\{[^}]*\})", template)
    regex = "".join(
        (".+" if part.endswith(":path}") else "[^/]+") if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(regex)


def app_routes(app: object) -> list[tuple[str, frozenset[str]]]:
    """(template, methods) of each route an ASGI app declares (FastAPI/Starlette ``routes``)."""
    found = [(METRICS_PATH, frozenset({"GET", "HEAD"}))]
    for route in getattr(app, "routes", ()):
        path = getattr(route, "path", None)
        if isinstance(path, str) and path:
            methods = getattr(route, "methods", None) or {"GET"}
            found.append((path, frozenset(str(m) for m in methods)))
    return found
