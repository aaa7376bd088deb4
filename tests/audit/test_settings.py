"""DATABASE_URL and MEDIALINK_AUDIT_RETENTION as settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.audit.urls import database_password
from bot.config import SettingsError, load_settings


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("sqlite+aiosqlite:///./medialink.db", "sqlite+aiosqlite:///./medialink.db"),
        ("sqlite:////data/medialink.db", "sqlite+aiosqlite:////data/medialink.db"),
        ("postgres://u:p@db/medialink", "postgresql+asyncpg://u:p@db/medialink"),
        ("postgresql://u@db:5432/m", "postgresql+asyncpg://u@db:5432/m"),
    ],
)
def test_database_urls_get_their_async_driver(given: str, used: str) -> None:
    settings = load_settings(env_file=None, database_url=given)
    assert settings.database_url.get_secret_value() == used


def test_the_default_is_an_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL")
    settings = load_settings(env_file=None)
    assert settings.database_url.get_secret_value() == "sqlite+aiosqlite:///./medialink.db"
    assert settings.medialink_audit_retention == timedelta(days=365)


@pytest.mark.parametrize(
    "given", ["mysql://root:hunter2hunter2@db/m", "postgresql://", "sqlite://", "nonsense"]
)
def test_bad_database_urls_are_refused_without_echoing_them(given: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(env_file=None, database_url=given)
    assert "DATABASE_URL is not valid" in str(error.value)
    assert "hunter2" not in str(error.value)


def test_the_password_is_a_secret_for_the_log_filter() -> None:
    settings = load_settings(env_file=None, database_url="postgresql://u:p%40ss-word1@db/m")
    assert "p%40ss" not in repr(settings)
    password = database_password(settings)
    assert password is not None
    assert password.get_secret_value() == "p@ss-word1"
    assert database_password(load_settings(env_file=None)) is None


@pytest.mark.parametrize(("given", "days"), [("365d", 365), ("730d", 730), ("3650d", 3650)])
def test_retention_may_exceed_wix_link_bound(given: str, days: int) -> None:
    settings = load_settings(env_file=None, medialink_audit_retention=given)
    assert settings.medialink_audit_retention == timedelta(days=days)


@pytest.mark.parametrize("given", ["12h", "3651d", "forever", ""])
def test_bad_retention_says_what_to_use(given: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(env_file=None, medialink_audit_retention=given)
    assert "MEDIALINK_AUDIT_RETENTION is not valid; use a number of days such as 365d" in str(
        error.value
    )
