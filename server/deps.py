"""What every router uses: the service state, a database session, the current user, the
admin check, ``load_owned`` (an object checked against its owner) and ``audit``.

New areas copy this pattern: take ``user: CurrentUser`` and load every id from the path with
``load_owned(db, Model, id, user)``, which answers 404 both for a missing object and for one
that belongs to someone else (no oracle for other people's ids)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from argon2 import PasswordHasher
from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from server.authcache import AuthCache, Identity
from server.config import Settings
from server.errors import ApiError
from server.google_id import JwksCache
from server.mailer import Mailer
from server.models import AuditEvent, Base, SessionFamily, User
from server.security import TokenConfig, TokenError, decode_token


@dataclass
class ServiceState:
    settings: Settings
    sessions: sessionmaker[Session]
    hasher: PasswordHasher
    tokens: TokenConfig
    mailer: Mailer
    #: a hash to verify against when the e-mail is unknown, so both paths cost one argon2 run
    dummy_hash: str
    engine: Engine
    #: live sessions seen recently (``server/authcache.py``: ≤ ``auth_cache_s`` stale across workers)
    auth_cache: AuthCache
    #: Google's signing keys (server/google_id.py), fetched on the first Google sign-in
    google_jwks: JwksCache


async def state(request: Request) -> ServiceState:
    st: ServiceState = request.app.state.service
    return st


State = Annotated[ServiceState, Depends(state)]


def get_db(st: State) -> Iterator[Session]:
    with st.sessions() as db:
        yield db


Db = Annotated[Session, Depends(get_db)]

_bearer = HTTPBearer(auto_error=False, description="An access token from /auth/login or /auth/refresh.")


@dataclass(frozen=True)
class Caller:
    user: User
    family_id: int


_UNAUTHORIZED = ("unauthorized", "Sign in first: send an access token as 'Authorization: Bearer'.")
_ENDED = "This session has ended; sign in again."


def _claims(st: ServiceState, creds: HTTPAuthorizationCredentials | None) -> dict[str, Any]:
    if creds is None or creds.scheme.lower() != "bearer":
        raise ApiError(401, *_UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})
    try:
        return decode_token(st.tokens, creds.credentials, "access")
    except TokenError as exc:
        raise ApiError(401, "invalid_token", str(exc), {"WWW-Authenticate": "Bearer"}) from None


def current_caller(st: State, db: Db,
                   creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
    """The signed-in user of a request with a valid access token whose session is live, read
    from the database in the request's session (for endpoints that change the account)."""
    claims = _claims(st, creds)
    # one round trip: the user, when the token's session is theirs and still live
    user = db.execute(select(User).join(SessionFamily, SessionFamily.user_id == User.id).where(
        SessionFamily.id == claims["sid"], User.id == int(claims["sub"]),
        SessionFamily.revoked_at.is_(None), User.disabled.is_(False))).scalar_one_or_none()
    if user is None:
        raise ApiError(401, "invalid_token", _ENDED, {"WWW-Authenticate": "Bearer"})
    return Caller(user, int(claims["sid"]))


_IDENTITY_COLUMNS = (User.id, User.email, User.display_name, User.role, User.email_verified,
                     User.totp_secret.is_not(None), User.created_at)


def _load_identity(st: ServiceState, family_id: int, user_id: int) -> Identity | None:
    """One autocommit round trip (no BEGIN/ROLLBACK): the identity when the family is live."""
    from server.models import aware

    q = select(*_IDENTITY_COLUMNS).join(SessionFamily, SessionFamily.user_id == User.id).where(
        SessionFamily.id == family_id, User.id == user_id, SessionFamily.revoked_at.is_(None),
        User.disabled.is_(False))
    with st.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        row = conn.execute(q).first()
    if row is None:
        return None
    return Identity(user_id=row[0], family_id=family_id, email=row[1], display_name=row[2], role=row[3],
                    email_verified=bool(row[4]), two_factor=bool(row[5]), created_at=aware(row[6]))


async def current_identity(st: State, creds: Annotated[HTTPAuthorizationCredentials | None,
                                                       Depends(_bearer)]) -> Identity:
    """The signed-in caller for read endpoints: the token is verified on every request; whether
    its session is live comes from the per-process cache (``server/authcache.py``; at most
    ``STOCKSCANNER_AUTH_CACHE_S`` stale for revocations made by other workers) or from one
    database round trip in the thread pool."""
    claims = _claims(st, creds)
    identity = await _live_identity(st, int(claims["sid"]), int(claims["sub"]))
    if identity is None:
        raise ApiError(401, "invalid_token", _ENDED, {"WWW-Authenticate": "Bearer"})
    return identity


async def _live_identity(st: ServiceState, family_id: int, user_id: int) -> Identity | None:
    """The identity of a live session (from the cache, else one database round trip in the
    thread pool, then cached); None when the session ended or the user is disabled."""
    cache = st.auth_cache
    identity = cache.get(family_id, user_id)
    if identity is None:
        generation, started = cache.generation, cache.clock()
        identity = await run_in_threadpool(_load_identity, st, family_id, user_id)
        if identity is not None:
            cache.put(identity, generation, started)
    return identity


CurrentIdentity = Annotated[Identity, Depends(current_identity)]


async def still_signed_in(st: Any, identity: Identity) -> bool:
    """Whether ``identity``'s session is still live and its user enabled, as
    ``current_identity`` checks it: for a long-lived response (an event stream) that must
    end when the session does."""
    return await _live_identity(st, identity.family_id, identity.user_id) is not None


CurrentCaller = Annotated[Caller, Depends(current_caller)]


def current_user(caller: CurrentCaller) -> User:
    return caller.user


CurrentUser = Annotated[User, Depends(current_user)]


def require_admin(user: CurrentUser) -> User:
    if user.role != "admin":
        raise ApiError(403, "forbidden", "This needs the admin role.")
    return user


AdminUser = Annotated[User, Depends(require_admin)]

#: An object id in a path or query: positive and within a 32-bit column on both databases.
MAX_ID = 2**31 - 1
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]

M = TypeVar("M", bound=Base)


def load_owned(db: Session, model: type[M], object_id: int, user: User) -> M:
    """Row ``object_id`` of ``model`` when ``user`` owns it (its ``user_id``); 404 otherwise,
    the same answer whether it does not exist or is someone else's."""
    obj = db.get(model, object_id)
    if obj is None or getattr(obj, "user_id", None) != user.id:
        raise ApiError(404, "not_found", f"No such {model.__name__.lower()} on your account.")
    return obj


def client_ip(request: Request) -> str:
    """The caller's address (uvicorn rewrites it from X-Forwarded-For only for trusted proxies)."""
    return request.client.host if request.client else ""


def audit(db: Session, action: str, *, user_id: int | None, ip: str = "",
          actor_id: int | None = None, **detail: Any) -> None:
    """Add a security event (committed with the caller's transaction)."""
    db.add(AuditEvent(action=action, user_id=user_id, actor_id=actor_id if actor_id is not None else user_id,
                      ip=ip[:64], detail=json.dumps(detail, sort_keys=True) if detail else ""))
