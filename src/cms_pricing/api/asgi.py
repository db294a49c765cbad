"""ASGI entry point for servers: ``cms_pricing.api.asgi:build`` (a factory).

Each worker process calls ``build()`` once; settings come from the environment through
``config.get_settings()`` like everywhere else.
"""

from __future__ import annotations

from cms_pricing.api.app import create_app
from cms_pricing.api.express import Express
from cms_pricing.config import get_settings


def build() -> Express:
    return create_app(get_settings())
