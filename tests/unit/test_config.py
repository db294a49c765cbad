"""Settings: one place reads them, and every one is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from cms_pricing.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def env_names() -> list[str]:
    names: list[str] = []
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        assert choices, "every setting has an explicit environment name"
        names.extend(str(c) for c in choices)
    return names


@pytest.mark.parametrize("name", env_names())
def test_every_setting_is_documented_in_the_readme(name: str) -> None:
    """A setting missing from the README's table fails here."""
    assert f"`{name}`" in README.read_text()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Environment variables override the defaults."""
    monkeypatch.setenv("DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("CMS_PRICING_WORKERS", "4")
    settings = Settings()
    assert (settings.database_url, settings.workers) == ("sqlite:///elsewhere.db", 4)
