"""The one place that reads settings (environment variables or a ``.env`` file).

Every setting has one environment name (``validation_alias``); the README's Settings
table documents each, and ``tests/unit/test_config.py`` fails when one is missing there.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cms_pricing.service.ratelimit import Rate


def _default_data_dir() -> Path | None:
    candidate = Path("../shared/cms-data")
    return candidate.resolve() if candidate.is_dir() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///var/cms-pricing.db",
        validation_alias=AliasChoices("DATABASE_URL"),
    )
    snapshot_mode: Literal["objects", "compiled"] = Field(
        default="objects", validation_alias=AliasChoices("CMS_PRICING_SNAPSHOT_MODE")
    )
    snapshot_dir: Path | None = Field(
        default=None, validation_alias=AliasChoices("CMS_PRICING_SNAPSHOT_DIR")
    )
    cms_data_dir: Path | None = Field(
        default_factory=_default_data_dir,
        validation_alias=AliasChoices("CMS_DATA_DIR"),
    )
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("CMS_PRICING_HOST"))
    port: int = Field(default=8000, validation_alias=AliasChoices("CMS_PRICING_PORT"))
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        validation_alias=AliasChoices("CMS_PRICING_WORKERS"),
    )
    serve_descriptors: bool = Field(
        default=False, validation_alias=AliasChoices("CMS_PRICING_SERVE_DESCRIPTORS")
    )
    response_cache_size: int = Field(
        default=50_000, ge=0, validation_alias=AliasChoices("CMS_PRICING_RESPONSE_CACHE_SIZE")
    )
    response_cache_bytes: int = Field(
        default=128 * 1024 * 1024,
        ge=0,
        validation_alias=AliasChoices("CMS_PRICING_RESPONSE_CACHE_BYTES"),
    )
    # -- limits (docs/limits.md) ----------------------------------------------------------------
    max_query_bytes: int = Field(
        default=8192, ge=1, validation_alias=AliasChoices("CMS_PRICING_MAX_QUERY_BYTES")
    )
    max_body_bytes: int = Field(
        default=256 * 1024, ge=0, validation_alias=AliasChoices("CMS_PRICING_MAX_BODY_BYTES")
    )
    max_bulk_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=0,
        validation_alias=AliasChoices("CMS_PRICING_MAX_BULK_BODY_BYTES"),
    )
    body_timeout_s: float = Field(
        default=30, gt=0, validation_alias=AliasChoices("CMS_PRICING_BODY_TIMEOUT_SECONDS")
    )
    # -- connections (docs/limits.md, api/server.py) ------------------------------------------
    backlog: int = Field(default=2048, ge=128, validation_alias=AliasChoices("CMS_PRICING_BACKLOG"))
    backpressure: int | None = Field(
        default=None, ge=1, validation_alias=AliasChoices("CMS_PRICING_BACKPRESSURE")
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
    # -- keys, scopes and rate limits (docs/auth.md) ------------------------------------------
    require_keys: bool = Field(
        default=False, validation_alias=AliasChoices("CMS_PRICING_REQUIRE_KEYS")
    )
    rate_limits: bool = Field(
        default=True, validation_alias=AliasChoices("CMS_PRICING_RATE_LIMITS")
    )
    limit_read: Annotated[Rate, NoDecode] = Field(
        default=Rate(60_000, 60), validation_alias=AliasChoices("CMS_PRICING_LIMIT_READ")
    )
    limit_bulk: Annotated[Rate, NoDecode] = Field(
        default=Rate(200_000, 60), validation_alias=AliasChoices("CMS_PRICING_LIMIT_BULK")
    )
    limit_plans_write: Annotated[Rate, NoDecode] = Field(
        default=Rate(600, 60), validation_alias=AliasChoices("CMS_PRICING_LIMIT_PLANS_WRITE")
    )
    anon_limit_read: Annotated[Rate, NoDecode] = Field(
        default=Rate(6_000, 60), validation_alias=AliasChoices("CMS_PRICING_ANON_LIMIT_READ")
    )
    anon_limit_bulk: Annotated[Rate, NoDecode] = Field(
        default=Rate(20_000, 60), validation_alias=AliasChoices("CMS_PRICING_ANON_LIMIT_BULK")
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias=AliasChoices("CMS_PRICING_TRUSTED_PROXIES")
    )
    key_refresh_s: float = Field(
        default=2, gt=0, le=60, validation_alias=AliasChoices("CMS_PRICING_KEY_REFRESH_SECONDS")
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
    # -- scale-out (docs/scaling.md) -----------------------------------------------------------
    drain_seconds: int = Field(
        default=20, ge=1, validation_alias=AliasChoices("CMS_PRICING_DRAIN_SECONDS")
    )
    database_replica_urls: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias=AliasChoices("DATABASE_REPLICA_URLS")
    )
    db_pool_size: int = Field(
        default=20, ge=1, validation_alias=AliasChoices("CMS_PRICING_DB_POOL_SIZE")
    )
    db_max_overflow: int = Field(
        default=30, ge=0, validation_alias=AliasChoices("CMS_PRICING_DB_MAX_OVERFLOW")
    )
    db_pool_pre_ping: bool = Field(
        default=True, validation_alias=AliasChoices("CMS_PRICING_DB_POOL_PRE_PING")
    )
    db_pool_recycle_s: int = Field(
        default=3600, ge=-1, validation_alias=AliasChoices("CMS_PRICING_DB_POOL_RECYCLE")
    )
    db_replica_retry_s: float = Field(
        default=5, gt=0, validation_alias=AliasChoices("CMS_PRICING_DB_REPLICA_RETRY_SECONDS")
    )
    # -- load isolation (docs/architecture.md, service/offload.py) ----------------------------
    expensive_processes: int = Field(
        default=1, ge=0, le=16, validation_alias=AliasChoices("CMS_PRICING_EXPENSIVE_PROCESSES")
    )
    expensive_nice: int = Field(
        default=10, ge=0, le=19, validation_alias=AliasChoices("CMS_PRICING_EXPENSIVE_NICE")
    )
    expensive_warm: bool = Field(
        default=True, validation_alias=AliasChoices("CMS_PRICING_EXPENSIVE_WARM")
    )
    admit_bulk: int = Field(
        default=8, ge=1, validation_alias=AliasChoices("CMS_PRICING_ADMIT_BULK")
    )
    admit_plans: int = Field(
        default=16, ge=1, validation_alias=AliasChoices("CMS_PRICING_ADMIT_PLANS")
    )
    admit_compare: int = Field(
        default=8, ge=1, validation_alias=AliasChoices("CMS_PRICING_ADMIT_COMPARE")
    )

    # -- getting the CMS files (docs/datasets.md, "Where the data comes from") ---------------
    fetch_base_url: str = Field(
        default="https://www.cms.gov/",
        validation_alias=AliasChoices("CMS_PRICING_FETCH_BASE_URL"),
    )
    fetch_retries: int = Field(
        default=5, ge=0, le=20, validation_alias=AliasChoices("CMS_PRICING_FETCH_RETRIES")
    )
    fetch_backoff_s: float = Field(
        default=1.0, ge=0, le=60, validation_alias=AliasChoices("CMS_PRICING_FETCH_BACKOFF_SECONDS")
    )
    fetch_timeout_s: float = Field(
        default=60, gt=0, validation_alias=AliasChoices("CMS_PRICING_FETCH_TIMEOUT_SECONDS")
    )
    fetch_ca_bundle: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CMS_PRICING_FETCH_CA_BUNDLE", "SSL_CERT_FILE"),
    )
    fetch_max_unpacked_bytes: int = Field(
        default=4 * 1024**3,
        ge=1,
        validation_alias=AliasChoices("CMS_PRICING_FETCH_MAX_UNPACKED_BYTES"),
    )

    @property
    def data_folder(self) -> Path:
        """Where ``fetch`` writes and ``serve`` reads: ``CMS_DATA_DIR``, else ``var/cms-data``."""
        return self.cms_data_dir if self.cms_data_dir is not None else Path("var/cms-data")

    @property
    def snapshot_folder(self) -> Path:
        """Where compiled snapshots go: ``CMS_PRICING_SNAPSHOT_DIR``, else ``snapshots/``
        beside a SQLite database file, else ``var/snapshots``."""
        if self.snapshot_dir is not None:
            return self.snapshot_dir
        if self.database_url.startswith("sqlite:///") and ":memory:" not in self.database_url:
            return Path(self.database_url.removeprefix("sqlite:///")).parent / "snapshots"
        return Path("var/snapshots")

    @field_validator(
        "limit_read",
        "limit_bulk",
        "limit_plans_write",
        "anon_limit_read",
        "anon_limit_bulk",
        mode="before",
    )
    @classmethod
    def _rate(cls, value: object) -> object:
        """``600/min`` in the environment (``service.ratelimit.Rate``)."""
        return Rate.parse(value) if isinstance(value, str) else value

    @field_validator("database_replica_urls", "trusted_proxies", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        """A comma-separated list in the environment; a sequence when passed in code."""
        if isinstance(value, str):
            return tuple(url.strip() for url in value.split(",") if url.strip())
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process; pass them on rather than calling this deep inside."""
    return Settings()
