"""Sign-up, e-mail verification, password reset, login (with the second factor), refresh,
logout and 2FA reset by backup code. Unknown e-mail and wrong password get the same answer."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from typing import Protocol

from fastapi import APIRouter, Request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server import ratelimit, tokens
from server.deps import CurrentCaller, Db, ServiceState, State, audit, client_ip
from server.errors import ERROR_RESPONSES, ApiError
from server.mailer import Mail
from server.models import BackupCode, EmailToken, TrustedDevice, User, aware, utcnow
from server.schemas import (
    EmailIn, LoginIn, RefreshIn, RegisterIn, ResetConfirmIn, StatusOut, TokenIn, TokenPair,
    TwoFactorResetIn,
)
from server.security import (
    match_totp, new_secret, normalise_backup_code, password_problem, sha256_hex, verify_password,
)

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERROR_RESPONSES)

INVALID = ApiError(401, "invalid_credentials", "The e-mail or the password is wrong.")


def keyed(st: ServiceState, value: str) -> str:
    """HMAC-SHA256 under the service key, for short secrets (backup codes, device tokens):
    a stolen database alone cannot be brute-forced offline."""
    return hmac.new(st.settings.secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def _send_token(st: ServiceState, db: Session, user: User, purpose: str) -> None:
    token = new_secret()
    db.add(EmailToken(user_id=user.id, purpose=purpose, token_hash=sha256_hex(token),
                      expires_at=utcnow() + dt.timedelta(seconds=st.settings.email_token_ttl_s)))
    db.commit()
    path = "verify-email" if purpose == "verify" else "reset-password"
    subject = "Confirm your e-mail" if purpose == "verify" else "Reset your password"
    st.mailer.send(Mail(user.email, f"Stock Scanner: {subject}",
                        f"{st.settings.public_url}/{path}?token={token}\n\n"
                        f"The link works once, for {st.settings.email_token_ttl_s // 60} minutes."))


def _use_token(db: Session, token: str, purpose: str) -> User:
    row = db.execute(select(EmailToken).where(EmailToken.token_hash == sha256_hex(token))
                     .with_for_update()).scalar_one_or_none()
    if row is None or row.purpose != purpose or row.used_at is not None or aware(row.expires_at) <= utcnow():
        raise ApiError(400, "invalid_token", "This link is not valid any more; ask for a new one.")
    row.used_at = utcnow()
    user = db.get(User, row.user_id)
    if user is None:
        raise ApiError(400, "invalid_token", "This link is not valid any more; ask for a new one.")
    return user


def _limit_ip(st: ServiceState, db: Session, request: Request, what: str, limit: int = 20) -> None:
    ratelimit.hit(db, f"{what}:ip:{client_ip(request)}", limit, st.settings.ip_window_s)


@router.post("/register", status_code=202, response_model=StatusOut)
def register(body: RegisterIn, request: Request, st: State, db: Db) -> StatusOut:
    """Create an account and send a verification link. An address already registered gets the
    same answer (and a notice by e-mail), so sign-up reveals nothing about who has an account."""
    _limit_ip(st, db, request, "register")
    email = body.email.lower()
    problem = password_problem(body.password, email)
    if problem:
        raise ApiError(422, "weak_password", problem)
    user = User(email=email, display_name=body.display_name, password_hash=st.hasher.hash(body.password),
                role="user", email_verified=False, totp_last_step=0)
    db.add(user)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        st.mailer.send(Mail(email, "Stock Scanner: someone tried to sign up",
                            "Your address already has an account; you can reset its password."))
        return StatusOut(status="verification_sent")
    audit(db, "account.registered", user_id=user.id, ip=client_ip(request))
    from server.billing.referrals import apply_at_signup

    apply_at_signup(db, user, body.referral_code)
    _send_token(st, db, user, "verify")
    return StatusOut(status="verification_sent")


@router.post("/verify-email", response_model=StatusOut)
def verify_email(body: TokenIn, request: Request, st: State, db: Db) -> StatusOut:
    _limit_ip(st, db, request, "verify")
    user = _use_token(db, body.token, "verify")
    user.email_verified = True
    audit(db, "account.email_verified", user_id=user.id, ip=client_ip(request))
    db.commit()
    return StatusOut(status="verified")


@router.post("/password-reset", status_code=202, response_model=StatusOut)
def request_reset(body: EmailIn, request: Request, st: State, db: Db) -> StatusOut:
    """Send a reset link when the address has an account; the answer is the same either way."""
    _limit_ip(st, db, request, "reset")
    user = db.execute(select(User).where(User.email == body.email.lower())).scalar_one_or_none()
    if user is not None and not user.disabled:
        audit(db, "password.reset_requested", user_id=user.id, ip=client_ip(request))
        _send_token(st, db, user, "reset")
    return StatusOut(status="reset_sent")


@router.post("/password-reset/confirm", response_model=StatusOut)
def confirm_reset(body: ResetConfirmIn, request: Request, st: State, db: Db) -> StatusOut:
    """Set a new password with a reset link's token; every session of the account ends."""
    _limit_ip(st, db, request, "reset")
    user = _use_token(db, body.token, "reset")
    problem = password_problem(body.new_password, user.email)
    if problem:
        db.rollback()
        raise ApiError(422, "weak_password", problem)
    user.password_hash = st.hasher.hash(body.new_password)
    user.email_verified = True  # the link proved the address
    tokens.revoke_all(db, user.id, "password_reset")
    audit(db, "password.reset", user_id=user.id, ip=client_ip(request))
    db.commit()
    return StatusOut(status="password_changed")


def check_password(st: ServiceState, db: Session, email: str, password: str, ip: str) -> User:
    """The user whose ``email`` and ``password`` match, throttled per account and per address;
    one argon2 verification either way, one answer for unknown e-mail and wrong password."""
    s = st.settings
    acct_key, ip_key = f"login:acct:{sha256_hex(email)}", f"login:ip:{ip}"
    ratelimit.check(db, ip_key)
    ratelimit.check(db, acct_key)
    user = db.execute(select(User).where(User.email == email)).scalar_one_or_none()
    ok, rehash = verify_password(st.hasher, user.password_hash if user else st.dummy_hash, password)
    if user is None or not ok or user.disabled:
        audit(db, "login.failed", user_id=user.id if user else None, ip=ip,
              reason="unknown_email" if user is None else "wrong_password")
        db.commit()
        ratelimit.failure(db, acct_key, s.login_free_failures, s.login_backoff_base_s, s.login_backoff_max_s)
        ratelimit.window_failure(db, ip_key, s.ip_failures_per_window, s.ip_window_s)
        raise INVALID
    if rehash:
        user.password_hash = rehash
        audit(db, "password.rehashed", user_id=user.id, ip=ip)
    return user


def _use_backup_code(st: ServiceState, db: Session, user: User, code: str) -> bool:
    digest = keyed(st, normalise_backup_code(code))
    row = db.execute(select(BackupCode).where(BackupCode.user_id == user.id, BackupCode.code_hash == digest,
                                              BackupCode.used_at.is_(None)).with_for_update()).scalar_one_or_none()
    if row is None:
        return False
    row.used_at = utcnow()
    return True


def use_totp(db: Session, user: User, code: str) -> bool:
    """Accept ``code`` for ``user`` once: its time step becomes the last one used."""
    if not user.totp_secret:
        return False
    db.flush()
    db.refresh(user, with_for_update=True)
    step = match_totp(user.totp_secret, code, time.time(), user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


class SecondFactorIn(Protocol):
    otp: str | None
    backup_code: str | None
    device_token: str | None
    remember_device: bool
    device_name: str


def second_factor(st: ServiceState, db: Session, request: Request, user: User, body: SecondFactorIn,
                  acct_key: str) -> str | None:
    """When ``user`` has 2FA on, require a trusted device token, a TOTP code or a backup code
    from ``body`` (401 ``second_factor_required`` / ``invalid_second_factor``, failures throttled
    under ``acct_key``); returns a new device token when ``remember_device`` was asked for."""
    if not user.totp_secret:
        return None
    ip = client_ip(request)
    if body.device_token:
        dev = db.execute(select(TrustedDevice).where(
            TrustedDevice.user_id == user.id,
            TrustedDevice.token_hash == keyed(st, body.device_token))).scalar_one_or_none()
        if dev is not None and aware(dev.expires_at) > utcnow():
            return None
    if body.otp:
        passed, how = use_totp(db, user, body.otp), "totp"
    elif body.backup_code:
        passed, how = _use_backup_code(st, db, user, body.backup_code), "backup_code"
    else:
        db.commit()
        raise ApiError(401, "second_factor_required",
                       "Enter the code from your authenticator app or a backup code.")
    if not passed:
        audit(db, "login.second_factor_failed", user_id=user.id, ip=ip, method=how)
        db.commit()
        s = st.settings
        ratelimit.failure(db, acct_key, s.login_free_failures, s.login_backoff_base_s, s.login_backoff_max_s)
        raise ApiError(401, "invalid_second_factor", "That code is not valid (each code works once).")
    if how == "backup_code":
        audit(db, "2fa.backup_code_used", user_id=user.id, ip=ip)
    if not body.remember_device:
        return None
    device_token = new_secret()
    days = st.settings.trusted_device_days
    db.add(TrustedDevice(user_id=user.id, token_hash=keyed(st, device_token),
                         name=body.device_name or request.headers.get("user-agent", "")[:200],
                         expires_at=utcnow() + dt.timedelta(days=days)))
    audit(db, "2fa.device_trusted", user_id=user.id, ip=ip, days=days)
    return device_token


@router.post("/login", response_model=TokenPair)
def login(body: LoginIn, request: Request, st: State, db: Db) -> TokenPair:
    """Password, then (when 2FA is on) a TOTP code, a backup code or a trusted device token.
    Answers 401 ``second_factor_required`` when the password was right but the factor missing."""
    ip = client_ip(request)
    email = body.email.lower()
    user = check_password(st, db, email, body.password, ip)
    device_token = second_factor(st, db, request, user, body, f"login:acct:{sha256_hex(email)}")
    pair = tokens.open_session(st, db, user, ip, request.headers.get("user-agent", ""))
    pair.device_token = device_token
    audit(db, "login.succeeded", user_id=user.id, ip=ip)
    db.commit()
    ratelimit.success(db, f"login:acct:{sha256_hex(email)}")
    return pair


@router.post("/refresh", response_model=TokenPair)
def refresh(body: RefreshIn, request: Request, st: State, db: Db) -> TokenPair:
    """Exchange a refresh token for a new pair; a reused refresh token ends its session."""
    return tokens.rotate(st, db, body.refresh_token, client_ip(request))


@router.post("/logout", response_model=StatusOut)
def logout(caller: CurrentCaller, request: Request, db: Db) -> StatusOut:
    """End this session: its refresh tokens and access tokens stop working."""
    tokens.revoke_family(db, caller.family_id, "logout")
    audit(db, "token.revoked", user_id=caller.user.id, ip=client_ip(request), reason="logout",
          family=caller.family_id)
    db.commit()
    return StatusOut(status="signed_out")


@router.post("/2fa/reset", response_model=StatusOut)
def reset_two_factor(body: TwoFactorResetIn, request: Request, st: State, db: Db) -> StatusOut:
    """Turn 2FA off with the password and one backup code (a lost authenticator); every
    session and trusted device ends."""
    ip = client_ip(request)
    user = check_password(st, db, body.email.lower(), body.password, ip)
    if not user.totp_secret or not _use_backup_code(st, db, user, body.backup_code):
        audit(db, "2fa.reset_failed", user_id=user.id, ip=ip)
        db.commit()
        raise ApiError(401, "invalid_second_factor", "That backup code is not valid (each code works once).")
    user.totp_secret = None
    user.totp_pending_secret = None
    db.execute(delete(BackupCode).where(BackupCode.user_id == user.id))
    db.execute(delete(TrustedDevice).where(TrustedDevice.user_id == user.id))
    tokens.revoke_all(db, user.id, "2fa_reset")
    audit(db, "2fa.reset_by_backup_code", user_id=user.id, ip=ip)
    db.commit()
    return StatusOut(status="two_factor_disabled")
