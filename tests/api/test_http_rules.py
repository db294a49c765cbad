"""The endpoint table's rules: HEAD, OPTIONS, 405 with Allow, 404, query and content type
rules for the routes FastAPI serves, and the table matching the app's routes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cms_pricing.api.endpoints import ENDPOINTS, NOT_ROUTES

GETS = ["/health", "/ready", "/releases", "/codes/price?code=99213&zip=94110",
        "/reference/localities?zip=94110", "/reference/codes/99213", "/plans",
        "/openapi.json"]  # fmt: skip


@pytest.mark.parametrize("url", GETS)
def test_head_answers_like_get_without_a_body(client: TestClient, url: str) -> None:
    """HEAD on every GET endpoint: GET's status and headers, no body."""
    got = client.get(url)
    head = client.head(url)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers.get("etag") == got.headers.get("etag")


@pytest.mark.parametrize(
    ("path", "allow"),
    [("/health", "GET, HEAD, OPTIONS"), ("/codes/price/bulk", "OPTIONS, POST"),
     ("/plans", "GET, HEAD, OPTIONS, POST"),
     ("/plans/abc", "DELETE, GET, HEAD, OPTIONS, PUT"),
     ("/reference/codes/99213", "GET, HEAD, OPTIONS")],
)  # fmt: skip
def test_options_lists_every_method_of_the_path(client: TestClient, path: str, allow: str) -> None:
    """OPTIONS is 204 with the complete Allow of the endpoint table."""
    response = client.options(path)
    assert response.status_code == 204
    assert response.headers["allow"] == allow


def test_a_method_the_path_does_not_take_is_405_in_the_envelope(client: TestClient) -> None:
    """DELETE /codes/price: 405, the envelope, and Allow."""
    response = client.delete("/codes/price?code=99213&zip=94110")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_unknown_paths_are_404_in_the_envelope_for_every_method(client: TestClient) -> None:
    """GET, POST, HEAD and OPTIONS of an unknown path are all the 404 envelope."""
    for method in ("GET", "POST", "OPTIONS"):
        response = client.request(method, "/no/such/thing")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert client.head("/no/such/thing").status_code == 404


@pytest.mark.parametrize("url", ["/plans?foo=1", "/plans?limit=5&limit=6", "/plans?limit=٥",
                                 "/plans?limit=0", "/plans/price?x=1"])  # fmt: skip
def test_query_rules_hold_on_the_routes_fastapi_serves(client: TestClient, url: str) -> None:
    """Unknown, repeated and non-ASCII query parameters are 400 on every route."""
    response = client.request("POST" if "price" in url else "GET", url, json={})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("path", ["/plans/price", "/plans/compare", "/plans", "/codes/price/bulk"])
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_of_the_wrong_content_type_is_415(
    client: TestClient, path: str, content_type: str | None
) -> None:
    """No content type, or one the endpoint does not take, is 415 in the envelope."""
    headers = {} if content_type is None else {"content-type": content_type}
    response = client.post(path, content=b'{"lines": []}', headers=headers)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_the_table_declares_exactly_the_documented_routes(client: TestClient) -> None:
    """Every operation of the OpenAPI document is in the endpoint table and every table row
    (but /metrics and the docs pages themselves) is documented."""
    paths = client.get("/openapi.json").json()["paths"]
    declared = {(method.upper(), path) for path, ops in paths.items() for method in ops}
    table = {(e.method, e.path) for e in ENDPOINTS if e.name not in NOT_ROUTES}
    assert declared == table


def test_writes_and_bulk_are_counted_under_their_templates(client: TestClient) -> None:
    """POST /plans/price, /codes/price/bulk and GET /plans/{id} are labelled with their route
    template and SLA class, never "unmatched"."""
    client.post("/plans/price", json={"zip": "94110", "lines": [{"code": "99213"}]})
    client.post("/codes/price/bulk", json={"lines": [{"code": "99213", "zip": "94110"}]})
    client.get("/plans/nope")
    text = client.get("/metrics").text
    assert 'endpoint="/plans/price",method="POST",status="200"' in text.replace(" ", "")
    assert 'endpoint="/codes/price/bulk",method="POST",status="200"' in text
    assert 'endpoint="/plans/{plan_id}",method="GET",status="404"' in text
    assert 'api_endpoint_info{endpoint="/codes/price/bulk",method="POST",sla_class="bulk"}' in text
