"""Google sign-in for the native app (RFC 8252 with PKCE, RFC 7636; the client is
``sync/google.py``).

1. ``POST /auth/google/start`` hands out a single-use ``nonce`` (10 minutes) and the client id.
2. The app runs the authorization-code flow with PKCE in the system browser and a loopback
   redirect, and exchanges the code for Google's ID token itself.
3. ``POST /auth/google`` takes that ID token, verifies it (``server/google_id.py``: RS256 with
   Google's published keys, issuer, audience = our client id, expiry, ``email_verified``) and
   the nonce (ours, unexpired, unused), then signs the account in like ``/auth/login``.

The account is the one already linked to that Google ``sub``; else the account with that
e-mail address, which gets linked; else a new account (e-mail verified, no password: one can be
set through the password reset). Linking to an account whose e-mail was never verified clears
its password and ends its sessions first: whoever registered that address without proving it
(an account pre-hijacking attempt) is locked out. 2FA still applies: with TOTP on, the same
``otp`` / ``backup_code`` / ``device_token`` fields as ``/auth/login`` are required (401
``second_factor_required``; the nonce stays valid for the retry and is used up by the success).
Off unless ``GOOGLE_CLIENT_ID`` is set: the endpoints then answer 404 ``not_configured``."""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server import ratelimit, tokens
from server.deps import Db, ServiceState, State, audit, client_ip
from server.errors import ERROR_RESPONSES, ApiError, ErrorResponse
from server.google_id import IdTokenError, ProviderUnavailable, verify_id_token
from server.models import ExternalIdentity, GoogleNonce, User, aware, utcnow
from server.routers.auth import second_factor
from server.schemas import GoogleLoginIn, GoogleStartOut, TokenPair
from server.security import new_secret, sha256_hex

router = APIRouter(prefix="/auth/google", tags=["auth"],
                   responses={**ERROR_RESPONSES, 503: {"model": ErrorResponse}})
NONCE_TTL_S = 600
PROVIDER = "google"


def _require_configured(st: ServiceState) -> str:
    if not st.settings.google_client_id:
        raise ApiError(404, "not_configured",
                       "Google sign-in is not configured on this service (GOOGLE_CLIENT_ID is not set).")
    return st.settings.google_client_id


@router.post("/start", response_model=GoogleStartOut)
def start(request: Request, st: State, db: Db) -> GoogleStartOut:
    """A nonce for the authorization request (single use, 10 minutes) and the client id."""
    client_id = _require_configured(st)
    ratelimit.hit(db, f"google_start:ip:{client_ip(request)}", 60, st.settings.ip_window_s)
    nonce = new_secret()
    db.add(GoogleNonce(nonce_hash=sha256_hex(nonce), expires_at=utcnow() + dt.timedelta(seconds=NONCE_TTL_S)))
    db.commit()
    return GoogleStartOut(nonce=nonce, client_id=client_id, expires_in=NONCE_TTL_S)


def _refuse(st: ServiceState, db: Db, ip: str, code: str, message: str) -> ApiError:
    audit(db, "login.failed", user_id=None, ip=ip, reason=f"google_{code}")
    db.commit()
    ratelimit.window_failure(db, f"login:ip:{ip}", st.settings.ip_failures_per_window, st.settings.ip_window_s)
    return ApiError(401, code, message)


def _account(st: ServiceState, db: Db, claims: dict[str, object], ip: str) -> User:
    """The user for a verified Google identity: linked, matched by e-mail (then linked), or new."""
    sub, email = str(claims["sub"]), str(claims["email"]).strip().lower()
    link = db.execute(select(ExternalIdentity).where(ExternalIdentity.provider == PROVIDER,
                                                     ExternalIdentity.subject == sub)).scalar_one_or_none()
    if link is not None:
        user = db.get(User, link.user_id)
        if user is not None:
            return user
    user = db.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        name = claims.get("name")
        display = "".join(ch for ch in name if ch.isprintable())[:80] if isinstance(name, str) else ""
        user = User(email=email, display_name=display, password_hash=f"!google:{new_secret()}",
                    role="user", email_verified=True, totp_last_step=0)
        db.add(user)
        try:
            db.flush()
        except IntegrityError:  # the same address signed up in the same instant
            db.rollback()
            raise ApiError(409, "conflict", "This account was just created; sign in again.") from None
        audit(db, "account.registered", user_id=user.id, ip=ip, method="google")
    elif not user.email_verified:
        # nobody proved this address before: whoever set the password may not be its owner
        user.password_hash = f"!google:{new_secret()}"
        user.email_verified = True
        tokens.revoke_all(db, user.id, "google_link_unverified")
        audit(db, "account.google_link_cleared_password", user_id=user.id, ip=ip)
    db.add(ExternalIdentity(user_id=user.id, provider=PROVIDER, subject=sub, email=email))
    audit(db, "account.google_linked", user_id=user.id, ip=ip)
    return user


@router.post("", response_model=TokenPair)
def google_login(body: GoogleLoginIn, request: Request, st: State, db: Db) -> TokenPair:
    """Sign in with a Google ID token obtained with a nonce from ``/auth/google/start``."""
    client_id = _require_configured(st)
    ip = client_ip(request)
    ratelimit.check(db, f"login:ip:{ip}")
    try:
        claims = verify_id_token(body.id_token, client_id, st.settings.google_issuers, st.google_jwks)
    except IdTokenError as exc:
        raise _refuse(st, db, ip, "invalid_id_token", str(exc)) from None
    except ProviderUnavailable:
        raise ApiError(503, "provider_unavailable",
                       "Google's signing keys cannot be fetched right now; try again shortly.") from None
    nonce = claims.get("nonce")
    row = None
    if isinstance(nonce, str) and nonce:
        row = db.execute(select(GoogleNonce).where(GoogleNonce.nonce_hash == sha256_hex(nonce))
                         .with_for_update()).scalar_one_or_none()
    if row is None or row.used_at is not None or aware(row.expires_at) <= utcnow():
        raise _refuse(st, db, ip, "invalid_nonce",
                      "The ID token's nonce was not issued by this service, was already used or has expired; "
                      "start the sign-in again.")
    user = _account(st, db, claims, ip)
    if user.disabled:
        db.rollback()
        raise _refuse(st, db, ip, "invalid_credentials", "This account cannot sign in.")
    acct_key = f"login:acct:{sha256_hex(user.email)}"
    ratelimit.check(db, acct_key)
    device_token = second_factor(st, db, request, user, body, acct_key)
    row.used_at = utcnow()
    pair = tokens.open_session(st, db, user, ip, request.headers.get("user-agent", ""))
    pair.device_token = device_token
    audit(db, "login.succeeded", user_id=user.id, ip=ip, method="google")
    db.commit()
    return pair
