"""Swagger UI (``/docs``) and ReDoc (``/redoc``) served by the service itself: no CDN.

The dist files come from the pinned ``fastapi-standalone-docs`` package (Swagger UI 5.33.1,
ReDoc 2.5.4, with their licences), read once when the app is built. ``add_docs_routes(app)``
adds, on an app created with ``docs_url=None, redoc_url=None``:

| path | answer |
|---|---|
| ``/docs`` | Swagger UI's page, loading only the assets below and ``/openapi.json`` |
| ``/redoc`` | ReDoc's page, likewise |
| ``/docs/static/{digest}/{name}`` | one asset; ``digest``: 16 hex digits of its SHA-256 |
| ``/redoc/logo-mini.svg`` | the logo ReDoc's bundle asks for next to its page |

An asset whose URL carries its current digest is ``public, max-age=31536000, immutable``;
any other digest (a page cached before an upgrade) gets the current bytes with ``no-cache``;
an unknown name is a 404. The two pages and the logo get the docs class ``Cache-Control``
from the fast path (``DOCS_PATHS``). The pages carry their own ``Content-Security-Policy``
(``page_policy``): scripts from 'self' plus the SHA-256 of the page's inline script, styles
from 'self' (ReDoc's page adds 'unsafe-inline' for styles, which it writes at run time, and
``blob:`` workers for its search), images from 'self' and ``data:``, requests to 'self'
only, no framing, no forms, no base URL; ``api.headers`` leaves that policy in place.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from cms_pricing.api.endpoints import BY_NAME
from cms_pricing.cache.policy import IMMUTABLE

PACKAGE = "fastapi_standalone_docs"
STATIC = "/docs/static"
REDOC_LOGO = "/redoc/logo-mini.svg"  # where ReDoc's bundle looks: next to its page
# name under STATIC -> (path inside the package's static folder, media type)
FILES: dict[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": ("swagger/swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "swagger-ui.css": ("swagger/swagger-ui.css", "text/css; charset=utf-8"),
    "redoc.standalone.js": ("redoc/redoc.standalone.js", "text/javascript; charset=utf-8"),
    "logo-mini.svg": ("redoc/logo-mini.svg", "image/svg+xml"),
    "favicon.png": ("fastapi/favicon.png", "image/png"),
}
REVALIDATE = b"no-cache"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
# Swagger UI's default validator sends the schema URL to a third party and shows its badge.
SWAGGER_PARAMETERS = {"validatorUrl": None}
# What each page needs beyond 'self' (found with headless Chromium's console, tests/docs):
SWAGGER_NEEDS = ("style-src 'self'",)
# ReDoc writes its styles at run time (styled-components) and runs search in a blob: worker.
REDOC_NEEDS = ("style-src 'self' 'unsafe-inline'", "worker-src blob:")


@dataclass(frozen=True, slots=True)
class Asset:
    name: str
    body: bytes
    media_type: str
    digest: str

    @property
    def url(self) -> str:
        return f"{STATIC}/{self.digest}/{self.name}"


@dataclass(frozen=True, slots=True)
class Page:
    html: bytes
    policy: bytes


def load_assets() -> dict[str, Asset]:
    """Every file of ``FILES``, read from the installed package."""
    folder = resources.files(PACKAGE) / "static"
    assets = {}
    for name, (path, media_type) in FILES.items():
        body = (folder / path).read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:16]
        assets[name] = Asset(name, body, media_type, digest)
    return assets


def script_hashes(html: str) -> list[str]:
    """CSP sources allowing exactly the inline scripts of ``html``."""
    digests = (hashlib.sha256(code.encode()).digest() for code in INLINE_SCRIPT.findall(html))
    return [f"'sha256-{base64.b64encode(d).decode()}'" for d in digests]


def page_policy(html: str, needs: tuple[str, ...]) -> bytes:
    """The page's CSP: 'self' for everything it loads, the hashes of its inline scripts, and
    the page's own ``needs`` (``SWAGGER_NEEDS``, ``REDOC_NEEDS``)."""
    directives = [
        "default-src 'none'",
        " ".join(["script-src 'self'", *script_hashes(html)]),
        *needs,
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives).encode()


def _page(response: Response, needs: tuple[str, ...]) -> Page:
    html = bytes(response.body).decode()
    return Page(html.encode(), page_policy(html, needs))


def build_pages(app: FastAPI, assets: dict[str, Asset]) -> dict[str, Page]:
    """The ``/docs`` and ``/redoc`` pages, pointing at ``assets`` and the app's schema."""
    openapi = app.openapi_url or "/openapi.json"
    swagger = get_swagger_ui_html(
        openapi_url=openapi,
        title=f"{app.title} - Swagger UI",
        swagger_js_url=assets["swagger-ui-bundle.js"].url,
        swagger_css_url=assets["swagger-ui.css"].url,
        swagger_favicon_url=assets["favicon.png"].url,
        oauth2_redirect_url=None,
        swagger_ui_parameters=SWAGGER_PARAMETERS,
    )
    redoc = get_redoc_html(
        openapi_url=openapi,
        title=f"{app.title} - ReDoc",
        redoc_js_url=assets["redoc.standalone.js"].url,
        redoc_favicon_url=assets["favicon.png"].url,
        with_google_fonts=False,
    )
    return {
        "/docs": _page(swagger, SWAGGER_NEEDS),
        "/redoc": _page(redoc, REDOC_NEEDS),
    }


def asset_response(asset: Asset, digest: str) -> Response:
    control = IMMUTABLE if digest == asset.digest else REVALIDATE
    return Response(
        asset.body, media_type=asset.media_type, headers={"cache-control": control.decode()}
    )


def page_response(page: Page) -> Response:
    headers = {"content-security-policy": page.policy.decode()}
    return Response(page.html, media_type="text/html", headers=headers)


def add_docs_routes(app: FastAPI) -> None:
    """Add ``/docs``, ``/redoc`` and their assets to ``app`` (made with ``docs_url=None,
    redoc_url=None``); the routes are left out of the OpenAPI document."""
    assets = load_assets()
    pages = build_pages(app, assets)

    @app.get(BY_NAME["docs"].path, include_in_schema=False)
    def swagger_ui() -> Response:
        return page_response(pages["/docs"])

    @app.get(BY_NAME["redoc"].path, include_in_schema=False)
    def redoc() -> Response:
        return page_response(pages["/redoc"])

    @app.get(BY_NAME["docs_static"].path, include_in_schema=False)
    def asset(digest: str, name: str) -> Response:
        found = assets.get(name)
        if found is None:
            raise HTTPException(404)
        return asset_response(found, digest)

    @app.get(BY_NAME["redoc_logo"].path, include_in_schema=False)
    def redoc_logo() -> Response:  # Cache-Control: the docs class, from the fast path
        logo = assets["logo-mini.svg"]
        return Response(logo.body, media_type=logo.media_type)
