"""Classes of answer and the ``Cache-Control`` each one carries.

| class | default TTL | HTTP header on a 200 |
|---|---|---|
| pricing | 15 min (``CMS_PRICING_TTL_PRICING``) | ``public, max-age=900`` |
| reference | 1 hour (``CMS_PRICING_TTL_REFERENCE``) | ``public, max-age=3600`` |
| docs | 24 hours (``CMS_PRICING_TTL_DOCS``) | ``public, max-age=86400`` |

An answer pinned to a release (``release=RVU25B``) never changes, so it is marked
``public, max-age=31536000, immutable``. Errors and operational endpoints are ``no-store``:
a 404 for a code can become a 200 when a release adds the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from cms_pricing.config import Settings

NO_STORE = b"no-store"
IMMUTABLE = b"public, max-age=31536000, immutable"


class CacheClass(StrEnum):
    PRICING = "pricing"
    REFERENCE = "reference"
    DOCS = "docs"


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """TTLs per class, and the header each class sends."""

    ttl: dict[CacheClass, int]

    @classmethod
    def from_settings(cls, settings: Settings) -> CachePolicy:
        return cls(
            ttl={
                CacheClass.PRICING: settings.ttl_pricing_s,
                CacheClass.REFERENCE: settings.ttl_reference_s,
                CacheClass.DOCS: settings.ttl_docs_s,
            }
        )

    def header(self, cache_class: CacheClass, *, pinned: bool = False) -> bytes:
        """``Cache-Control`` for a successful answer of ``cache_class``."""
        if pinned:
            return IMMUTABLE
        return _public(self.ttl[cache_class])


@lru_cache(maxsize=64)
def _public(ttl: int) -> bytes:
    """The header of a TTL, made once (it was made on every computed answer)."""
    return b"public, max-age=%d" % ttl
