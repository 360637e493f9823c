"""Liveness and readiness."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from server.db import migration_state
from server.schemas import HealthOut, ReadyOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health() -> HealthOut:
    """The process answers (no database access)."""
    return HealthOut(status="ok")


@router.get("/ready", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
def ready(request: Request) -> JSONResponse:
    """200 when the database answers and its schema is at the newest migration, else 503."""
    engine: Engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current, head = migration_state(engine)
    except Exception:  # noqa: BLE001 - any database failure means "not ready"
        body = ReadyOut(status="unavailable", database="unreachable", revision=None, head=None)
        return JSONResponse(body.model_dump(), status_code=503)
    ok = current == head
    body = ReadyOut(status="ready" if ok else "migrations_pending", database="ok", revision=current, head=head)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
