"""Raw request path -> route template, and (method, template) -> SLA class.

The ``endpoint`` label is the template (``/reference/codes/{code}``), never the raw path, so
a scan of random URLs cannot grow the label set: a path no route matches is ``unmatched``.
The rows come from the one table of endpoints (``api/endpoints.py``), handed in by the web
layer: this module never imports it. Templates without parameters are one dict lookup, the
rest a regex each. ``HEAD`` and ``OPTIONS`` of a template take the SLA class of its ``GET``
(``read`` when it has none).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cms_pricing.observability.metrics import METHODS, UNMATCHED

METRICS_PATH = "/metrics"


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


class RouteTable:
    """Route templates with their methods and SLA classes."""

    def __init__(self, rows: Iterable[tuple[str, str, str]]) -> None:
        self.classes: dict[tuple[str, str], str] = {}
        self.methods: dict[str, frozenset[str]] = {}
        for method, template, sla in rows:
            self.classes[method, template] = sla
            self.methods[template] = self.methods.get(template, frozenset()) | {method}
        self._static = {p for p in self.methods if "{" not in p}
        # Longest first, so /plans/{id}/price is not read as /plans/{id}.
        patterns = sorted((p for p in self.methods if "{" in p), key=len, reverse=True)
        self._patterns = [(_compile(p), p) for p in patterns]

    def template(self, path: str) -> str:
        if path in self._static:
            return path
        for pattern, template in self._patterns:
            if pattern.fullmatch(path):
                return template
        return UNMATCHED

    def sla(self, method: str, template: str) -> str:
        found = self.classes.get((method, template))
        if found is None and method in ("HEAD", "OPTIONS"):
            found = self.classes.get(("GET", template))
        return found or "read"

    def endpoints(self) -> list[tuple[str, str, str]]:
        """Every (method, template, SLA class), unmatched included."""
        rows = [
            (method, template, self.sla(method, template))
            for template, methods in sorted(self.methods.items())
            for method in sorted(methods)
        ]
        return [*rows, ("GET", UNMATCHED, "read")]


def _compile(template: str) -> re.Pattern[str]:
    """``/a/{x}/b`` -> a regex where each ``{param}`` is one path segment (``{p:path}`` any)."""
    parts = re.split(r"(\{[^}]*\})", template)
    regex = "".join(
        (".+" if part.endswith(":path}") else "[^/]+") if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(regex)
