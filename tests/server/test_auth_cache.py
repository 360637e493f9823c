"""The per-process auth cache of read endpoints (server/authcache.py): revocations take effect
at once in the process that made them and within ``auth_cache_s`` in other worker processes."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from server.authcache import AuthCache, Identity
from tests.server.conftest import PASSWORD, Service


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


@pytest.fixture
def second_worker(service: Service) -> Iterator[Any]:
    """Another app on the same database, as a second uvicorn worker would be (own cache)."""
    from fastapi.testclient import TestClient

    from server.app import create_app
    from server.mailer import ConsoleMailer

    app = create_app(service.settings, mailer=ConsoleMailer())
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def test_revocations_apply_at_once_in_the_same_process(service: Service) -> None:
    service.register("a@example.com")
    for action in ("logout", "revoke_all", "end_session"):
        pair = service.login("a@example.com")
        head = _bearer(pair)
        assert service.client.get("/me", headers=head).status_code == 200  # cached now
        assert len(service.app.state.service.auth_cache) >= 1
        if action == "logout":
            assert service.client.post("/auth/logout", headers=head).status_code == 200
        elif action == "revoke_all":
            assert service.client.post("/me/sessions/revoke-all", headers=head).status_code == 200
        else:
            other = _bearer(service.login("a@example.com"))
            sid = next(s["id"] for s in service.client.get("/me/sessions", headers=head).json() if s["current"])
            assert service.client.delete(f"/me/sessions/{sid}", headers=other).status_code == 200
        r = service.client.get("/me", headers=head)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token", action


def test_profile_changes_show_at_once(service: Service) -> None:
    head = service.user("a@example.com")
    assert service.client.get("/me", headers=head).json()["display_name"] == ""
    assert service.client.patch("/me", headers=head, json={"display_name": "Ann"}).status_code == 200
    assert service.client.get("/me", headers=head).json()["display_name"] == "Ann"


def test_admin_disable_and_account_deletion_apply_at_once(service: Service) -> None:
    admin = service.user("admin@example.com")
    service.make_admin("admin@example.com")
    head = service.user("b@example.com")
    assert service.client.get("/me", headers=head).status_code == 200
    uid = service.client.get("/me", headers=head).json()["id"]
    assert service.client.post(f"/admin/users/{uid}/disable", headers=admin).status_code == 200
    assert service.client.get("/me", headers=head).status_code == 401
    head_c = service.user("c@example.com")
    assert service.client.get("/me", headers=head_c).status_code == 200
    r = service.client.request("DELETE", "/me", headers=head_c, json={"password": PASSWORD})
    assert r.status_code == 204
    assert service.client.get("/me", headers=head_c).status_code == 401


def test_another_worker_sees_a_logout_within_the_bound(service: Service, second_worker: Any) -> None:
    service.register("a@example.com")
    head = _bearer(service.login("a@example.com"))
    clock = Clock()
    cache_b: AuthCache = second_worker.app.state.service.auth_cache
    cache_b.clock = clock
    assert cache_b.ttl_s == 1.0
    assert second_worker.get("/me", headers=head).status_code == 200  # B caches "live"
    assert service.client.post("/auth/logout", headers=head).status_code == 200  # A revokes
    assert service.client.get("/me", headers=head).status_code == 401  # A: at once
    clock.now += 0.5
    assert second_worker.get("/me", headers=head).status_code == 200  # B: stale, within 1 s
    clock.now += 0.5
    assert second_worker.get("/me", headers=head).status_code == 401  # B: at the bound
    assert second_worker.post("/auth/logout", headers=head).status_code == 401  # writes: never cached


def test_cache_off_means_every_read_asks_the_database(service: Service, second_worker: Any) -> None:
    second_worker.app.state.service.auth_cache.ttl_s = 0
    service.register("a@example.com")
    head = _bearer(service.login("a@example.com"))
    assert second_worker.get("/me", headers=head).status_code == 200
    assert len(second_worker.app.state.service.auth_cache) == 0
    assert service.client.post("/auth/logout", headers=head).status_code == 200
    assert second_worker.get("/me", headers=head).status_code == 401


def test_a_lookup_that_straddles_a_clear_is_not_stored() -> None:
    clock = Clock()
    cache = AuthCache(1.0, clock=clock)
    ident = Identity(1, 2, "a@example.com", "", "user", True, False, dt.datetime.now(dt.timezone.utc))
    generation, started = cache.generation, clock()
    cache.clear()  # a revocation committed while the lookup ran
    cache.put(ident, generation, started)
    assert cache.get(2, 1) is None
    cache.put(ident, cache.generation, clock())
    assert cache.get(2, 1) == ident
    clock.now += 1.0
    assert cache.get(2, 1) is None
    with pytest.raises(ValueError):
        AuthCache(-1)


def test_settings_read_the_bound_from_the_environment(tmp_path: Any) -> None:
    import secrets

    from server.config import ConfigError, Settings

    env = {"SECRET_KEY": secrets.token_urlsafe(32), "DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}
    assert Settings.from_env(env).auth_cache_s == 1
    assert Settings.from_env({**env, "STOCKSCANNER_AUTH_CACHE_S": "0"}).auth_cache_s == 0
    with pytest.raises(ConfigError):
        Settings.from_env({**env, "STOCKSCANNER_AUTH_CACHE_S": "600"})


def test_a_dropped_pooled_connection_is_replaced(service: Service, monkeypatch: Any) -> None:
    if not service.settings.database_url.startswith("postgresql"):
        pytest.skip("the idle ping is for PostgreSQL's pool")
    from sqlalchemy import create_engine, text

    from server import db

    head = service.user("a@example.com")
    service.app.state.service.auth_cache.ttl_s = 0
    assert service.client.get("/me", headers=head).status_code == 200
    killer = create_engine(service.settings.database_url)
    with killer.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    killer.dispose()
    monkeypatch.setattr(db, "IDLE_PING_S", -1.0)  # every pooled connection counts as idle
    assert service.client.get("/me", headers=head).status_code == 200


def test_a_remembered_access_token_still_expires(monkeypatch: Any) -> None:
    import time

    from server import security
    from server.security import TokenConfig, TokenError, decode_token, encode_token

    cfg = TokenConfig("k" * 20 + "0123456789abcdefghijklmnopq", "stockscanner", "stockscanner-api")
    token = encode_token(cfg, "access", 7, 3, 60)
    assert decode_token(cfg, token, "access")["sub"] == "7"  # verified, remembered
    assert (cfg, token) in security._VERIFIED
    with pytest.raises(TokenError):
        decode_token(cfg, token, "refresh")  # the type is still checked: not remembered as refresh
    real = time.time()
    monkeypatch.setattr(security.time, "time", lambda: real + 60 + security.LEEWAY_S + 1)
    with pytest.raises(TokenError, match="expired"):
        decode_token(cfg, token, "access")
    other = TokenConfig("z" * 20 + "0123456789abcdefghijklmnopq", "stockscanner", "stockscanner-api")
    monkeypatch.setattr(security.time, "time", lambda: real)
    with pytest.raises(TokenError):
        decode_token(other, token, "access")  # another key: verified afresh, refused
