"""Login throttling per account and per address, state in the database, 429 + Retry-After."""
from __future__ import annotations

from typing import Any

PW = "correct horse battery staple 42"


def test_account_backoff_then_429_with_retry_after_shared_by_a_second_app(service: Any) -> None:
    service.register("a@example.com")
    free = service.settings.login_free_failures
    for _ in range(free + 1):
        r = service.client.post("/auth/login", json={"email": "a@example.com", "password": "wrong password 1"})
        assert r.status_code == 401
    r = service.client.post("/auth/login", json={"email": "a@example.com", "password": PW})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["error"]["code"] == "rate_limited"
    # another worker (a second app on the same database) sees the same block: no process memory
    from fastapi.testclient import TestClient

    from server.app import create_app

    other = create_app(service.settings)
    with TestClient(other) as client:
        assert client.post("/auth/login", json={"email": "a@example.com", "password": PW}).status_code == 429
    other.state.engine.dispose()
    # unknown accounts back off the same way (nothing tells them apart)
    for _ in range(free + 1):
        service.client.post("/auth/login", json={"email": "nobody@example.com", "password": PW})
    assert service.client.post("/auth/login", json={"email": "nobody@example.com", "password": PW}).status_code == 429


def test_per_address_limit(service: Any) -> None:
    s = service.settings
    service.app.state.service.settings = s.with_(ip_failures_per_window=3)
    for i in range(3):
        service.client.post("/auth/login", json={"email": f"u{i}@example.com", "password": PW})
    r = service.client.post("/auth/login", json={"email": "fresh@example.com", "password": PW})
    assert r.status_code == 429 and "retry-after" in r.headers


def test_failures_are_audited_and_success_clears_backoff(service: Any) -> None:
    service.register("a@example.com")
    for _ in range(3):
        service.client.post("/auth/login", json={"email": "a@example.com", "password": "wrong password 1"})
    pair = service.login("a@example.com")
    log = service.client.get("/me/audit", headers={"Authorization": f"Bearer {pair['access_token']}"}).json()
    actions = [e["action"] for e in log["items"]]
    assert actions.count("login.failed") == 3 and actions[0] == "login.succeeded"
    for _ in range(service.settings.login_free_failures):
        service.client.post("/auth/login", json={"email": "a@example.com", "password": "wrong password 1"})
    assert service.client.post("/auth/login", json={"email": "a@example.com", "password": PW}).status_code == 200
