"""Session families and rotating refresh tokens.

A login opens a family and hands out an access token (JWT, 15 min) and a refresh token (JWT
of type ``refresh``; only its SHA-256 is stored). ``/auth/refresh`` marks the presented token
used and issues the next pair in the same family. Presenting a token that was already used
means it was copied: the whole family is revoked (RFC 6819 §5.2.2.3, OAuth 2.0 Security BCP)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.deps import ServiceState, audit
from server.errors import ApiError
from server.models import RefreshToken, SessionFamily, User, aware, utcnow
from server.schemas import TokenPair
from server.security import TokenError, decode_token, encode_token, sha256_hex


def _pair(st: ServiceState, db: Session, user: User, family: SessionFamily) -> TokenPair:
    s = st.settings
    refresh = encode_token(st.tokens, "refresh", user.id, family.id, s.refresh_ttl_s)
    db.add(RefreshToken(family_id=family.id, user_id=user.id, token_hash=sha256_hex(refresh),
                        expires_at=utcnow() + dt.timedelta(seconds=s.refresh_ttl_s)))
    access = encode_token(st.tokens, "access", user.id, family.id, s.access_ttl_s)
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=s.access_ttl_s)


def open_session(st: ServiceState, db: Session, user: User, ip: str, user_agent: str) -> TokenPair:
    family = SessionFamily(user_id=user.id, ip=ip[:64], user_agent=user_agent[:200])
    db.add(family)
    db.flush()
    return _pair(st, db, user, family)


def revoke_family(db: Session, family_id: int, reason: str) -> None:
    db.execute(update(SessionFamily).where(SessionFamily.id == family_id,
                                           SessionFamily.revoked_at.is_(None))
               .values(revoked_at=utcnow(), revoked_reason=reason))


def revoke_all(db: Session, user_id: int, reason: str, keep: int | None = None) -> None:
    q = update(SessionFamily).where(SessionFamily.user_id == user_id, SessionFamily.revoked_at.is_(None))
    if keep is not None:
        q = q.where(SessionFamily.id != keep)
    db.execute(q.values(revoked_at=utcnow(), revoked_reason=reason))


def rotate(st: ServiceState, db: Session, presented: str, ip: str) -> TokenPair:
    """The next pair for a refresh token; refuses (401) expired, foreign-typed, unknown,
    revoked and reused tokens, and revokes the family on reuse."""
    try:
        claims = decode_token(st.tokens, presented, "refresh")
    except TokenError as exc:
        raise ApiError(401, "invalid_token", str(exc)) from None
    row = db.execute(select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(presented))
                     .with_for_update()).scalar_one_or_none()
    if row is None or row.family_id != claims["sid"]:
        raise ApiError(401, "invalid_token", "This refresh token is not known; sign in again.")
    family = db.get(SessionFamily, row.family_id)
    user = db.get(User, row.user_id)
    if family is None or user is None or family.revoked_at is not None or user.disabled:
        raise ApiError(401, "invalid_token", "This session has ended; sign in again.")
    if row.used_at is not None:
        revoke_family(db, family.id, "refresh_reuse")
        audit(db, "token.reuse_detected", user_id=user.id, ip=ip, family=family.id)
        db.commit()
        raise ApiError(401, "token_reused",
                       "This refresh token was already used, so the session was ended; sign in again.")
    if aware(row.expires_at) <= utcnow():
        raise ApiError(401, "invalid_token", "The token has expired.")
    row.used_at = utcnow()
    family.last_used_at = utcnow()
    pair = _pair(st, db, user, family)
    db.commit()
    return pair
