"""The FastAPI application factory: ``create_app(settings)``.

Routers, one per area (``server/routers/``), share ``server.deps`` (current user, admin,
``load_owned``, audit) and ``server.errors`` (one JSON error shape)."""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import errors
from server.authcache import AuthCache, watch
from server.config import Settings
from server.db import make_engine, session_factory
from server.deps import ServiceState
from server.google_id import JwksCache
from server.mailer import ConsoleMailer, Mailer, SmtpMailer
from server.routers import account, admin, auth, billing, education, google, health
from server.routers import social as social_router
from server.routers import strategies as strategies_router
from server.routers import sync as sync_router
from server.routers import workspaces as workspaces_router
from server.security import TokenConfig, password_hasher

API_VERSION = "1.0.0"


class BodyLimit:
    """Refuses bodies over ``max_bytes`` with 413, by ``Content-Length`` or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = True
                if too_big:
                    await self._refuse(scope, receive, send)
                    return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooBig()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooBig:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = errors.error_json(413, "body_too_large",
                                     f"The request body is larger than {self.max_bytes} bytes.")
        await response(scope, receive, send)


class _TooBig(Exception):
    pass


class SecurityHeaders:
    """HSTS (when configured), no sniffing, no framing, no caching of API answers."""

    def __init__(self, app: ASGIApp, hsts_seconds: int) -> None:
        self.app = app
        self.extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                      (b"cache-control", b"no-store"), (b"referrer-policy", b"no-referrer")]
        if hsts_seconds:
            self.extra.append((b"strict-transport-security",
                               f"max-age={hsts_seconds}; includeSubDomains".encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + self.extra
            await send(message)

        await self.app(scope, receive, with_headers)


def make_mailer(settings: Settings) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_user,
                          settings.smtp_password, settings.mail_from)
    return ConsoleMailer()


def create_app(settings: Settings, mailer: Mailer | None = None) -> FastAPI:
    """The service for ``settings`` (checked: ``ConfigError`` for unsafe production settings).
    The database must be migrated (``server.db.migrate``); ``/ready`` says whether it is."""
    settings.check()
    app = FastAPI(title="Stock Scanner service", version=API_VERSION,
                  description="Accounts, tokens and 2FA for Stock Scanner. Errors are "
                              '`{"error": {"code", "message"}}`. See docs/architecture.md.',
                  docs_url="/docs" if not settings.production else None, redoc_url=None)
    engine = make_engine(settings.database_url)
    hasher = password_hasher(settings.argon2_memory_kib, settings.argon2_time_cost,
                             settings.argon2_parallelism)
    app.state.engine = engine
    sessions = session_factory(engine)
    cache = AuthCache(settings.auth_cache_s)
    watch(sessions, cache)
    app.state.service = ServiceState(
        settings=settings, sessions=sessions, hasher=hasher,
        tokens=TokenConfig(settings.secret_key, settings.issuer, settings.audience),
        mailer=mailer or make_mailer(settings), dummy_hash=hasher.hash("not a password of anyone"),
        engine=engine, auth_cache=cache, google_jwks=JwksCache(settings.google_jwks_url))
    errors.install(app)
    for module in (health, auth, google, account, admin, sync_router, workspaces_router, strategies_router,
                   billing, education):
        app.include_router(module.router)
    app.include_router(social_router.router)
    app.include_router(social_router.admin_router)
    if settings.updates_dir:  # the static TUF repository (signed files: the client verifies them)
        from starlette.staticfiles import StaticFiles

        app.mount("/updates", StaticFiles(directory=settings.updates_dir, check_dir=False), name="updates")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, hsts_seconds=settings.hsts_seconds)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (each worker process builds its own app). The objects
    alive after start-up (modules, routes, schemas) are moved out of the garbage collector's
    view (``gc.freeze``), so its full collections under load do not walk them every time."""
    import gc

    app = create_app(Settings.from_env())
    gc.collect()
    gc.freeze()
    return app


def openapi(settings: Settings) -> dict[str, Any]:
    return create_app(settings).openapi()
