"""Swagger UI and ReDoc are served by the service from the pinned package: no CDN, long-cached
assets, and a page CSP that allows exactly the page's own inline script (api/docs.py)."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources

import pytest
from fastapi.testclient import TestClient

PAGES = ("/docs", "/redoc")
ATTRIBUTE = re.compile(r'(?:src|href)="([^"]*)"')
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
# Where each served name lives in the fastapi-standalone-docs package (its static folder).
PACKAGE_FILES = {
    "swagger-ui-bundle.js": "swagger/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger/swagger-ui.css",
    "redoc.standalone.js": "redoc/redoc.standalone.js",
    "favicon.png": "fastapi/favicon.png",
}
MEDIA = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def package_bytes(name: str) -> bytes:
    static = resources.files("fastapi_standalone_docs") / "static"
    return (static / PACKAGE_FILES[name]).read_bytes()


def linked(client: TestClient, page: str) -> list[str]:
    return ATTRIBUTE.findall(client.get(page).text)


@pytest.mark.parametrize("page", PAGES)
def test_pages_link_only_the_services_own_assets(client: TestClient, page: str) -> None:
    """Every src/href of /docs and /redoc is a path under /docs/static/ on this service;
    nothing names another host (the CDN page did)."""
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    links = linked(client, page)
    assert links, "the page links no asset"
    assert all(link.startswith("/docs/static/") for link in links), links
    assert "http://" not in response.text and "https://" not in response.text


@pytest.mark.parametrize("page", PAGES)
def test_assets_are_the_pinned_package_files_cached_for_a_year(
    client: TestClient, page: str
) -> None:
    """Each linked asset answers the package's exact bytes, its URL carries the first 16 hex
    digits of their SHA-256, and it is immutable for a year with the right media type."""
    for link in linked(client, page):
        digest, name = link.removeprefix("/docs/static/").split("/")
        response = client.get(link)
        assert response.status_code == 200, link
        assert response.content == package_bytes(name)
        assert digest == hashlib.sha256(response.content).hexdigest()[:16]
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-type"].startswith(MEDIA[name[name.rindex(".") :]])


def test_an_older_digest_gets_the_current_bytes_revalidated(client: TestClient) -> None:
    """A page cached before an upgrade names an old digest: it still gets the asset, marked
    no-cache instead of immutable, so the old URL never pins new bytes for a year."""
    response = client.get("/docs/static/0000000000000000/swagger-ui.css")
    assert response.status_code == 200
    assert response.content == package_bytes("swagger-ui.css")
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path", ["/docs/static/0000000000000000/nope.js", "/docs/static/x/../../etc/passwd"]
)
def test_an_unknown_asset_is_a_404_envelope(client: TestClient, path: str) -> None:
    """A name the service does not ship is a 404 in the JSON envelope, never a file read."""
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_redoc_logo_is_served_beside_its_page(client: TestClient) -> None:
    """ReDoc's bundle loads its logo from <page>/logo-mini.svg: served, with the docs TTL."""
    response = client.get("/redoc/logo-mini.svg")
    assert response.status_code == 200
    assert response.content.lstrip().startswith(b"<svg")
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["cache-control"] == "public, max-age=86400"


@pytest.mark.parametrize("page", PAGES)
def test_page_policy_allows_exactly_the_pages_inline_script(client: TestClient, page: str) -> None:
    """The page's CSP lists the SHA-256 of each inline script it serves and never
    'unsafe-inline' or 'unsafe-eval' for scripts; every fetch stays on 'self'."""
    response = client.get(page)
    directives = (p.partition(" ") for p in response.headers["content-security-policy"].split("; "))
    policy = {name: value for name, _space, value in directives}
    digests = (
        hashlib.sha256(code.encode()).digest() for code in INLINE_SCRIPT.findall(response.text)
    )
    hashes = {f"'sha256-{base64.b64encode(d).decode()}'" for d in digests}
    assert set(policy["script-src"].split()) == {"'self'", *hashes}
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"


def test_swagger_page_allows_no_inline_style(client: TestClient) -> None:
    """Swagger UI renders with styles from 'self' alone; only ReDoc's page (which writes its
    styles at run time) allows inline styles."""
    swagger = client.get("/docs").headers["content-security-policy"]
    redoc = client.get("/redoc").headers["content-security-policy"]
    assert "style-src 'self';" in swagger and "unsafe-inline" not in swagger
    assert "style-src 'self' 'unsafe-inline';" in redoc
