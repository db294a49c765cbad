"""The one place that reads settings (environment variables or a ``.env`` file).

Every setting has one environment name (``validation_alias``); the README's Settings
table documents each, and ``tests/unit/test_config.py`` fails when one is missing there.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path | None:
    candidate = Path("../shared/cms-data")
    return candidate.resolve() if candidate.is_dir() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///var/cms-pricing.db",
        validation_alias=AliasChoices("DATABASE_URL"),
    )
    cms_data_dir: Path | None = Field(
        default_factory=_default_data_dir,
        validation_alias=AliasChoices("CMS_DATA_DIR"),
    )
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("CMS_PRICING_HOST"))
    port: int = Field(default=8000, validation_alias=AliasChoices("CMS_PRICING_PORT"))
    workers: int = Field(default=2, ge=1, validation_alias=AliasChoices("CMS_PRICING_WORKERS"))
    serve_descriptors: bool = Field(
        default=False, validation_alias=AliasChoices("CMS_PRICING_SERVE_DESCRIPTORS")
    )
    response_cache_size: int = Field(
        default=50_000, ge=0, validation_alias=AliasChoices("CMS_PRICING_RESPONSE_CACHE_SIZE")
    )
    # -- caching and freshness (docs/caching.md) ---------------------------------------------
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL"))
    redis_timeout_ms: int = Field(
        default=50, ge=1, validation_alias=AliasChoices("CMS_PRICING_REDIS_TIMEOUT_MS")
    )
    ttl_reference_s: int = Field(
        default=3600, ge=0, validation_alias=AliasChoices("CMS_PRICING_TTL_REFERENCE")
    )
    ttl_pricing_s: int = Field(
        default=900, ge=0, validation_alias=AliasChoices("CMS_PRICING_TTL_PRICING")
    )
    ttl_docs_s: int = Field(
        default=86400, ge=0, validation_alias=AliasChoices("CMS_PRICING_TTL_DOCS")
    )
    poll_seconds: float = Field(
        default=30, gt=0, le=60, validation_alias=AliasChoices("CMS_PRICING_POLL_SECONDS")
    )
    admin_token: str | None = Field(
        default=None, validation_alias=AliasChoices("CMS_PRICING_ADMIN_TOKEN")
    )
    # -- observability (docs/observability.md) -------------------------------------------------
    metrics_enabled: bool = Field(
        default=True, validation_alias=AliasChoices("CMS_PRICING_METRICS")
    )
    metrics_dir: Path | None = Field(
        default=None, validation_alias=AliasChoices("CMS_PRICING_METRICS_DIR")
    )
    metrics_flush_seconds: float = Field(
        default=1.0, gt=0, le=60, validation_alias=AliasChoices("CMS_PRICING_METRICS_FLUSH_SECONDS")
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process; pass them on rather than calling this deep inside."""
    return Settings()
