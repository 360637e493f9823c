"""Every service test runs on SQLite and on PostgreSQL (``db_url`` is parametrised).

PostgreSQL comes from ``DATABASE_URL_TEST`` (``.ci/run`` sets it up) or a local server at the
same default URL (``tests/pgurl.py``; a database per pytest-xdist worker); without one the PostgreSQL half skips with the reason, except under
``CI=true``, where it fails."""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

PASSWORD = "correct horse battery staple 42"


def _pg_url() -> str:
    from tests.pgurl import pg_url

    return pg_url()


def _reset_pg(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.sqlite3'}"
    from tests.pgurl import base_url

    url = base_url()
    try:
        url = _pg_url()
        _reset_pg(url)
    except Exception as exc:  # noqa: BLE001 - any connection failure
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable at {url}: {exc}")
        pytest.skip(f"no PostgreSQL at {url} (set DATABASE_URL_TEST or run `CI_ONLY=postgres bash .ci/run`)")
    return url


@pytest.fixture
def settings(db_url: str) -> Any:
    from server.config import Settings

    return Settings(database_url=db_url, secret_key=secrets.token_urlsafe(32))


@dataclass
class Service:
    app: Any
    client: Any
    mailer: Any
    settings: Any

    def db(self) -> Any:
        return self.app.state.service.sessions()

    def register(self, email: str, password: str = PASSWORD, verify: bool = True) -> None:
        r = self.client.post("/auth/register", json={"email": email, "password": password})
        assert r.status_code == 202, r.text
        if verify:
            token = self.mailer.sent[-1].body.split("token=")[1].split()[0]
            assert self.client.post("/auth/verify-email", json={"token": token}).status_code == 200

    def login(self, email: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
        r = self.client.post("/auth/login", json={"email": email, "password": password, **extra})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def user(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        """A registered, verified, signed-in user's Authorization header."""
        self.register(email, password)
        return {"Authorization": f"Bearer {self.login(email, password)['access_token']}"}

    def make_admin(self, email: str) -> None:
        from sqlalchemy import update

        from server.models import User

        with self.db() as db:
            db.execute(update(User).where(User.email == email).values(role="admin"))
            db.commit()


@pytest.fixture
def service(settings: Any) -> Iterator[Service]:
    from fastapi.testclient import TestClient

    from server.app import create_app
    from server.db import migrate
    from server.mailer import ConsoleMailer

    mailer = ConsoleMailer()
    app = create_app(settings, mailer=mailer)
    migrate(app.state.engine)
    with TestClient(app) as client:
        yield Service(app, client, mailer, settings)
    app.state.engine.dispose()
