"""X-Request-ID on every response (200, 4xx, 404, 500) and in the JSON log lines."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from cms_pricing.api.app import create_app
from cms_pricing.config import Settings
from cms_pricing.observability.logs import JsonFormatter
from cms_pricing.service.state import ServiceState

PRICE = "/codes/price?code=99213&zip=94110&year=2025"


class BrokenDatabase(ServiceState):
    """A service whose database check raises: /ready hits an unexpected error."""

    def database_ok(self) -> bool:
        raise RuntimeError("boom: the database driver crashed")


@pytest.fixture
def broken(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, BrokenDatabase(settings))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the ``cms_pricing`` loggers write, formatted as the service formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("cms_pricing")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize(
    ("path", "status"),
    [(PRICE, 200), ("/codes/price?code=99213&zip=abc", 400), ("/nowhere", 404)],
)
def test_a_valid_caller_id_is_echoed(client: TestClient, path: str, status: int) -> None:
    """The caller's id comes back unchanged on success, bad input and unknown paths."""
    response = client.get(path, headers={"X-Request-ID": "trace-42.abc:7"})
    assert response.status_code == status
    assert response.headers["x-request-id"] == "trace-42.abc:7"


@pytest.mark.parametrize("given", ["", "a" * 129, "has space", 'quote"d', "ünïcode"])
def test_an_invalid_caller_id_is_replaced(client: TestClient, given: str) -> None:
    """Empty, over 128 characters or outside the safe set: a generated id, still a 200."""
    response = client.get(PRICE, headers={"X-Request-ID": given.encode()})
    assert response.status_code == 200
    assert response.headers["x-request-id"] not in ("", given)
    assert 1 <= len(response.headers["x-request-id"]) <= 128


def test_ids_are_generated_and_distinct(client: TestClient) -> None:
    """Without a caller id each response gets its own."""
    ids = {client.get("/health").headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20


def test_an_unexpected_error_is_a_500_envelope_with_the_id(
    broken: TestClient, log_lines: io.StringIO
) -> None:
    """An exception on the fast path: JSON 500 envelope, the id echoed, the trace logged."""
    response = broken.get("/ready", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-500"
    assert response.json() == {
        "error": {
            "code": "internal_error",
            "message": "the server failed to answer; it is logged",
            "details": {},
        }
    }
    assert "boom" not in response.text
    lines = [orjson.loads(line) for line in log_lines.getvalue().splitlines()]
    failures = [line for line in lines if line["request_id"] == "req-500"]
    assert {line["message"] for line in failures} == {"unexpected error", "request failed"}
    logged_error = next(line for line in failures if line["message"] == "unexpected error")
    assert logged_error["level"] == "error"
    assert "RuntimeError: boom" in logged_error["exc"]
    summary = next(line for line in failures if line["message"] == "request failed")
    assert (summary["path"], summary["status"], summary["method"]) == ("/ready", 500, "GET")


def test_a_500_is_counted(broken: TestClient) -> None:
    """The failed request shows in api_requests_total with status 500."""
    broken.get("/ready")
    text = broken.get("/metrics").text
    assert 'api_requests_total{endpoint="/ready",method="GET",status="500"}' in text


def test_log_lines_are_json_with_fixed_keys(log_lines: io.StringIO) -> None:
    """Outside a request the id is null; every line has ts, level, logger, message, pid."""
    logging.getLogger("cms_pricing.test").warning("plain %s", "line", extra={"k": 1})
    line = orjson.loads(log_lines.getvalue().splitlines()[-1])
    assert list(line)[:6] == ["ts", "level", "logger", "message", "request_id", "pid"]
    assert (line["message"], line["request_id"], line["level"], line["k"]) == (
        "plain line",
        None,
        "warning",
        1,
    )
