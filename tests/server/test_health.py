"""Liveness, readiness and the migration chain on both databases."""
from __future__ import annotations

from typing import Any


def test_health_and_ready_after_migration(service: Any) -> None:
    assert service.client.get("/health").json() == {"status": "ok"}
    r = service.client.get("/ready")
    assert r.status_code == 200
    assert r.json()["status"] == "ready" and r.json()["revision"] == r.json()["head"] == "0007_education"


def test_ready_is_503_before_migrations(settings: Any) -> None:
    from fastapi.testclient import TestClient

    from server.app import create_app

    app = create_app(settings)
    with TestClient(app) as client:
        r = client.get("/ready")
    app.state.engine.dispose()
    assert r.status_code == 503
    assert r.json()["status"] == "migrations_pending" and r.json()["revision"] is None


def test_security_headers_and_one_error_shape(service: Any) -> None:
    r = service.client.get("/me")
    assert r.status_code == 401
    assert set(r.json()) == {"error"} and set(r.json()["error"]) == {"code", "message"}
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    r = service.client.get("/no/such/path")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
