"""The signed-in user's own account: profile, password, deletion, sessions, trusted devices,
2FA enrolment and the account's audit log. Every id in a path is loaded with ``load_owned``."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import delete, select

from server import tokens
from server.deps import (
    MAX_ID, CurrentCaller, CurrentIdentity, CurrentUser, Db, ObjectId, State, audit, client_ip, load_owned,
)
from server.errors import ERROR_RESPONSES, ApiError
from server.models import AuditEvent, BackupCode, SessionFamily, TrustedDevice, User, aware, utcnow
from server.routers.auth import keyed, use_totp
from server.schemas import (
    AuditOut, BackupCodesOut, DeleteAccountIn, DeviceOut, DisableTwoFactorIn, OtpIn, Page,
    PasswordChangeIn, ProfilePatch, SessionOut, StatusOut, TokenPair, TotpSetupOut, UserOut,
)
from server.security import (
    new_backup_codes, new_totp_secret, normalise_backup_code, password_problem, provisioning_uri,
    qr_svg_data_uri, verify_password,
)

router = APIRouter(prefix="/me", tags=["account"], responses=ERROR_RESPONSES)
MAX_PAGE = 100
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"at most {MAX_PAGE}")]
Before = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, display_name=user.display_name, role=user.role,
                   email_verified=user.email_verified, two_factor=user.totp_secret is not None,
                   created_at=aware(user.created_at))


def audit_page(db: Db, user_id: int | None, limit: int, before: int | None) -> Page[AuditOut]:
    q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit + 1)
    if user_id is not None:
        q = q.where(AuditEvent.user_id == user_id)
    if before is not None:
        q = q.where(AuditEvent.id < before)
    rows = list(db.execute(q).scalars())
    items = [AuditOut(id=r.id, at=aware(r.at), user_id=r.user_id, actor_id=r.actor_id, action=r.action,
                      ip=r.ip, detail=r.detail) for r in rows[:limit]]
    return Page[AuditOut](items=items, next_before=items[-1].id if len(rows) > limit else None)


def _confirm_password(st: State, user: User, password: str) -> None:
    ok, _ = verify_password(st.hasher, user.password_hash, password)
    if not ok:
        raise ApiError(403, "wrong_password", "The password is wrong.")


@router.get("", response_model=UserOut)
async def me(caller: CurrentIdentity) -> UserOut:
    """The signed-in account (no thread hop and, within the auth cache's bound, no database
    round trip: see docs/architecture.md, *Authenticated reads*)."""
    return UserOut(id=caller.user_id, email=caller.email, display_name=caller.display_name,
                   role=caller.role, email_verified=caller.email_verified,
                   two_factor=caller.two_factor, created_at=caller.created_at)


@router.patch("", response_model=UserOut)
def update_me(body: ProfilePatch, user: CurrentUser, db: Db) -> UserOut:
    """Change the profile; only the fields of ``ProfilePatch`` (no role, no id)."""
    if body.display_name is not None:
        user.display_name = body.display_name
    db.commit()
    return user_out(user)


@router.delete("", status_code=204, response_class=Response)
def delete_me(body: DeleteAccountIn, user: CurrentUser, request: Request, st: State, db: Db) -> Response:
    """Delete the account and everything it owns (cascading foreign keys)."""
    _confirm_password(st, user, body.password)
    uid = user.id
    db.delete(user)
    audit(db, "account.deleted", user_id=None, actor_id=uid, ip=client_ip(request))
    db.commit()
    return Response(status_code=204)


@router.put("/password", response_model=TokenPair)
def change_password(body: PasswordChangeIn, caller: CurrentCaller, request: Request, st: State,
                    db: Db) -> TokenPair:
    """Change the password: every session ends, this client gets a new pair."""
    user = caller.user
    _confirm_password(st, user, body.current_password)
    problem = password_problem(body.new_password, user.email)
    if problem:
        raise ApiError(422, "weak_password", problem)
    user.password_hash = st.hasher.hash(body.new_password)
    tokens.revoke_all(db, user.id, "password_changed")
    ip = client_ip(request)
    audit(db, "password.changed", user_id=user.id, ip=ip)
    pair = tokens.open_session(st, db, user, ip, request.headers.get("user-agent", ""))
    db.commit()
    return pair


@router.get("/sessions", response_model=list[SessionOut])
def sessions(caller: CurrentCaller, db: Db) -> list[SessionOut]:
    rows = db.execute(select(SessionFamily).where(SessionFamily.user_id == caller.user.id,
                                                  SessionFamily.revoked_at.is_(None))
                      .order_by(SessionFamily.id.desc()).limit(MAX_PAGE)).scalars()
    return [SessionOut(id=r.id, created_at=aware(r.created_at), last_used_at=aware(r.last_used_at),
                       user_agent=r.user_agent, ip=r.ip, current=r.id == caller.family_id) for r in rows]


@router.delete("/sessions/{session_id}", response_model=StatusOut)
def end_session(session_id: ObjectId, user: CurrentUser, request: Request, db: Db) -> StatusOut:
    family = load_owned(db, SessionFamily, session_id, user)
    tokens.revoke_family(db, family.id, "signed_out_remotely")
    audit(db, "token.revoked", user_id=user.id, ip=client_ip(request), reason="session_ended", family=family.id)
    db.commit()
    return StatusOut(status="signed_out")


@router.post("/sessions/revoke-all", response_model=StatusOut)
def sign_out_everywhere(user: CurrentUser, request: Request, db: Db) -> StatusOut:
    """Sign out everywhere, this session included."""
    tokens.revoke_all(db, user.id, "sign_out_everywhere")
    audit(db, "token.revoked", user_id=user.id, ip=client_ip(request), reason="sign_out_everywhere")
    db.commit()
    return StatusOut(status="signed_out")


@router.get("/devices", response_model=list[DeviceOut])
def devices(user: CurrentUser, db: Db) -> list[DeviceOut]:
    rows = db.execute(select(TrustedDevice).where(TrustedDevice.user_id == user.id,
                                                  TrustedDevice.expires_at > utcnow())
                      .order_by(TrustedDevice.id.desc()).limit(MAX_PAGE)).scalars()
    return [DeviceOut(id=r.id, name=r.name, created_at=aware(r.created_at), expires_at=aware(r.expires_at))
            for r in rows]


@router.delete("/devices/{device_id}", response_model=StatusOut)
def forget_device(device_id: ObjectId, user: CurrentUser, request: Request, db: Db) -> StatusOut:
    device = load_owned(db, TrustedDevice, device_id, user)
    db.delete(device)
    audit(db, "2fa.device_forgotten", user_id=user.id, ip=client_ip(request), device=device_id)
    db.commit()
    return StatusOut(status="forgotten")


@router.get("/audit", response_model=Page[AuditOut])
def my_audit(user: CurrentUser, db: Db, limit: Limit = 50, before: Before = None) -> Page[AuditOut]:
    """This account's security events, newest first."""
    return audit_page(db, user.id, limit, before)


@router.post("/2fa/setup", response_model=TotpSetupOut)
def totp_setup(user: CurrentUser, db: Db) -> TotpSetupOut:
    """Start enrolment: a new secret and its QR code; 2FA is on once ``/me/2fa/enable`` gets a
    code from it."""
    if user.totp_secret:
        raise ApiError(409, "two_factor_on", "Two-factor sign-in is already on; turn it off first.")
    secret = new_totp_secret()
    user.totp_pending_secret = secret
    db.commit()
    uri = provisioning_uri(secret, user.email)
    return TotpSetupOut(secret=secret, otpauth_uri=uri, qr_svg=qr_svg_data_uri(uri))


def _fresh_backup_codes(st: State, db: Db, user: User) -> list[str]:
    db.execute(delete(BackupCode).where(BackupCode.user_id == user.id))
    codes = new_backup_codes()
    for code in codes:
        db.add(BackupCode(user_id=user.id, code_hash=keyed(st, normalise_backup_code(code))))
    return codes


@router.post("/2fa/enable", response_model=BackupCodesOut)
def totp_enable(body: OtpIn, user: CurrentUser, request: Request, st: State, db: Db) -> BackupCodesOut:
    """Confirm enrolment with a current code; answers the ten backup codes (shown once)."""
    if not user.totp_pending_secret:
        raise ApiError(409, "no_enrolment", "Start with /me/2fa/setup.")
    user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None
    if not use_totp(db, user, body.code):
        db.rollback()
        raise ApiError(400, "invalid_second_factor", "That code is not valid; check the app's clock.")
    codes = _fresh_backup_codes(st, db, user)
    audit(db, "2fa.enabled", user_id=user.id, ip=client_ip(request))
    db.commit()
    return BackupCodesOut(backup_codes=codes)


@router.post("/2fa/backup-codes", response_model=BackupCodesOut)
def regenerate_backup_codes(body: OtpIn, user: CurrentUser, request: Request, st: State,
                            db: Db) -> BackupCodesOut:
    """Ten new backup codes (the old ones stop working); needs a current TOTP code."""
    if not user.totp_secret or not use_totp(db, user, body.code):
        raise ApiError(400, "invalid_second_factor", "That code is not valid (each code works once).")
    codes = _fresh_backup_codes(st, db, user)
    audit(db, "2fa.backup_codes_regenerated", user_id=user.id, ip=client_ip(request))
    db.commit()
    return BackupCodesOut(backup_codes=codes)


@router.post("/2fa/disable", response_model=StatusOut)
def totp_disable(body: DisableTwoFactorIn, user: CurrentUser, request: Request, st: State,
                 db: Db) -> StatusOut:
    _confirm_password(st, user, body.password)
    if not user.totp_secret or not use_totp(db, user, body.code):
        raise ApiError(400, "invalid_second_factor", "That code is not valid (each code works once).")
    user.totp_secret = None
    db.execute(delete(BackupCode).where(BackupCode.user_id == user.id))
    db.execute(delete(TrustedDevice).where(TrustedDevice.user_id == user.id))
    audit(db, "2fa.disabled", user_id=user.id, ip=client_ip(request))
    db.commit()
    return StatusOut(status="two_factor_disabled")
