"""Fetch fixtures: a loopback CMS mirror serving the real shared files packed as CMS packs
them, and the environment that points ``cms-pricing fetch`` at it with an empty data folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cms_mirror import Mirror, archive, dataset, running

from cms_pricing.config import get_settings


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    with running() as served:
        yield served


@pytest.fixture
def serve_dataset(mirror: Mirror) -> Callable[..., str]:
    """Put one manifest dataset's archive on the mirror at its manifest path."""

    def put(dataset_id: str, body: bytes | None = None, **kwargs: object) -> str:
        return mirror.put(dataset(dataset_id).path, archive(dataset_id) if body is None else body,
                          **kwargs)  # fmt: skip

    return put


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mirror: Mirror) -> Iterator[Path]:
    """An empty CMS_DATA_DIR, fetch pointed at the mirror, fast retries; the cwd is tmp."""
    folder = tmp_path / "cms-data"
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "CMS_DATA_DIR": str(folder),
        "CMS_PRICING_FETCH_BASE_URL": mirror.url,
        "CMS_PRICING_FETCH_RETRIES": "3",
        "CMS_PRICING_FETCH_BACKOFF_SECONDS": "0.01",
        "CMS_PRICING_FETCH_TIMEOUT_SECONDS": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cms.db'}",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()
