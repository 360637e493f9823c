"""Production refuses weak keys and missing HTTPS settings; development makes a 0600 key."""
from __future__ import annotations

import secrets
import stat
from pathlib import Path
from typing import Any

import pytest

from server.config import ConfigError, Settings

STRONG = secrets.token_urlsafe(32)
PROD = {"STOCKSCANNER_ENV": "production", "SECRET_KEY": STRONG, "DATABASE_URL": "sqlite:///x.db",
        "STOCKSCANNER_COOKIE_SECURE": "true", "STOCKSCANNER_HSTS_SECONDS": "63072000",
        "STOCKSCANNER_TRUSTED_PROXIES": "127.0.0.1", "SMTP_HOST": "smtp.example.com",
        "STOCKSCANNER_PUBLIC_URL": "https://scanner.example.com"}


def test_production_with_everything_set_starts() -> None:
    s = Settings.from_env(PROD)
    assert s.production and s.secret_key == STRONG


@pytest.mark.parametrize("key,reason", [
    ("", "needs SECRET_KEY"),
    ("django-insecure-development-key", "known default"),
    ("a" * 64, "too few characters"),
    (secrets.token_urlsafe(24), "at least 43"),
], ids=["empty", "known-default", "one-character", "short-random"])  # stable ids (pytest-xdist)
def test_production_refuses_weak_keys(key: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        Settings.from_env({**PROD, "SECRET_KEY": key})


@pytest.mark.parametrize("name,value", [
    ("STOCKSCANNER_COOKIE_SECURE", "false"), ("STOCKSCANNER_HSTS_SECONDS", "0"),
    ("STOCKSCANNER_TRUSTED_PROXIES", ""), ("SMTP_HOST", ""),
    ("STOCKSCANNER_PUBLIC_URL", "http://scanner.example.com"),
])
def test_production_refuses_without_https_settings(name: str, value: str) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env({**PROD, name: value})


def test_create_app_refuses_unsafe_production_settings() -> None:
    from server.app import create_app

    with pytest.raises(ConfigError):
        create_app(Settings(database_url="sqlite://", secret_key="django-insecure-development-key",
                            env="production"))


def test_development_generates_a_private_key_once(tmp_path: Path) -> None:
    env = {"STOCKSCANNER_SECRET_FILE": str(tmp_path / "k" / "secret.key"), "DATABASE_URL": "sqlite://"}
    first = Settings.from_env(env)
    mode = stat.S_IMODE((tmp_path / "k" / "secret.key").stat().st_mode)
    assert mode == 0o600 and len(first.secret_key) >= 43
    assert Settings.from_env(env).secret_key == first.secret_key


def test_postgres_urls_use_psycopg3() -> None:
    s = Settings.from_env({"DATABASE_URL": "postgresql://u:p@127.0.0.1/db", "SECRET_KEY": STRONG})
    assert s.database_url.startswith("postgresql+psycopg://")


def test_hsts_header_when_configured(settings: Any) -> None:
    from fastapi.testclient import TestClient

    from server.app import create_app

    app = create_app(settings.with_(hsts_seconds=31536000))
    with TestClient(app) as client:
        assert client.get("/health").headers["strict-transport-security"].startswith("max-age=31536000")
    app.state.engine.dispose()
