"""The look-up page for people (``/`` and ``/lookup``), served from the package: no CDN.

The page is plain HTML, one script and one style sheet in ``cms_pricing/web/``, read once
when the app is built. ``add_lookup_routes(app, settings)`` adds:

| path | answer |
|---|---|
| ``/``, ``/lookup`` | the page (``no-cache``: it is revalidated, so a new script is seen at once) |
| ``/lookup/static/{digest}/{name}`` | ``lookup.js``, ``lookup.css`` or ``icon.svg`` (``digest``: |
| | 16 hex digits of the file's SHA-256) |

An asset whose URL carries its current digest is ``public, max-age=31536000, immutable``;
another digest gets the current bytes with ``no-cache``; an unknown name is a 404. The page's
``Content-Security-Policy`` names 'self' only: its one script and style sheet, its icon and
its requests to the public API (``api.headers`` keeps a policy a response already has);
no inline script or style, no framing, no forms posted anywhere, no base URL.

The page calls the public API as any client does (docs/lookup.md): ``/codes/{code}/prices``,
``/codes/{code}/sites``, ``/codes/{code}/localities`` and ``POST /plans/price``. When keys
are required (``CMS_PRICING_REQUIRE_KEYS``) the page says so on its ``<body>`` and asks for a
key, which it keeps in ``sessionStorage`` only.
"""

from __future__ import annotations

import hashlib
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from cms_pricing.api.docs import Asset
from cms_pricing.api.endpoints import BY_NAME
from cms_pricing.cache.policy import IMMUTABLE
from cms_pricing.config import Settings

STATIC = "/lookup/static"
FILES: dict[str, str] = {
    "lookup.js": "text/javascript; charset=utf-8",
    "lookup.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
REVALIDATE = "no-cache"
POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


def url(asset: Asset) -> str:
    return f"{STATIC}/{asset.digest}/{asset.name}"


def load_assets() -> dict[str, Asset]:
    """Every file of ``FILES``, read from the installed package."""
    folder = resources.files("cms_pricing") / "web"
    assets = {}
    for name, media_type in FILES.items():
        body = (folder / name).read_bytes()
        assets[name] = Asset(name, body, media_type, hashlib.sha256(body).hexdigest()[:16])
    return assets


def build_page(assets: dict[str, Asset], settings: Settings) -> bytes:
    """``index.html`` with its assets' digest URLs and whether keys are required."""
    html = (resources.files("cms_pricing") / "web" / "index.html").read_text()
    for name, asset in assets.items():
        html = html.replace("{{" + name + "}}", url(asset))
    return html.replace("{{keys}}", "required" if settings.require_keys else "optional").encode()


def add_lookup_routes(app: FastAPI, settings: Settings) -> None:
    """Add the page and its assets to ``app``; left out of the OpenAPI document."""
    assets = load_assets()
    page = build_page(assets, settings)
    headers = {"content-security-policy": POLICY, "cache-control": REVALIDATE}

    def lookup_page() -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=headers)

    for name in ("page", "lookup"):
        app.add_api_route(BY_NAME[name].path, lookup_page, methods=["GET"],
                          include_in_schema=False, name=name)  # fmt: skip

    @app.get(BY_NAME["lookup_static"].path, include_in_schema=False)
    def lookup_asset(digest: str, name: str) -> Response:
        found = assets.get(name)
        if found is None:
            raise HTTPException(404)
        control = IMMUTABLE.decode() if digest == found.digest else REVALIDATE
        return Response(found.body, media_type=found.media_type,
                        headers={"cache-control": control})  # fmt: skip
