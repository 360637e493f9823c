"""Admin endpoints (role ``admin``): users, roles, disabling, and the whole audit log.
Every admin action is itself audited."""
from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select

from server import tokens
from server.deps import AdminUser, Db, ObjectId, OptionalIdQuery, audit, client_ip
from server.errors import ERROR_RESPONSES, ApiError
from server.models import User
from server.routers.account import Before, Limit, audit_page, user_out
from server.schemas import AuditOut, Page, RoleIn, UserOut

router = APIRouter(prefix="/admin", tags=["admin"], responses=ERROR_RESPONSES)


def _user(db: Db, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise ApiError(404, "not_found", "No such user.")
    return user


@router.get("/users", response_model=Page[UserOut])
def list_users(admin: AdminUser, db: Db, limit: Limit = 50, before: Before = None) -> Page[UserOut]:
    q = select(User).order_by(User.id.desc()).limit(limit + 1)
    if before is not None:
        q = q.where(User.id < before)
    rows = list(db.execute(q).scalars())
    items = [user_out(u) for u in rows[:limit]]
    return Page[UserOut](items=items, next_before=items[-1].id if len(rows) > limit else None)


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: ObjectId, admin: AdminUser, db: Db) -> UserOut:
    return user_out(_user(db, user_id))


@router.put("/users/{user_id}/role", response_model=UserOut)
def set_role(user_id: ObjectId, body: RoleIn, admin: AdminUser, request: Request, db: Db) -> UserOut:
    user = _user(db, user_id)
    if user.id == admin.id and body.role != "admin":
        raise ApiError(409, "conflict", "An admin cannot remove their own admin role.")
    user.role = body.role
    audit(db, "admin.role_set", user_id=user.id, actor_id=admin.id, ip=client_ip(request), role=body.role)
    db.commit()
    return user_out(user)


@router.post("/users/{user_id}/disable", response_model=UserOut)
def disable_user(user_id: ObjectId, admin: AdminUser, request: Request, db: Db) -> UserOut:
    """Disable an account and end all its sessions."""
    user = _user(db, user_id)
    if user.id == admin.id:
        raise ApiError(409, "conflict", "An admin cannot disable their own account.")
    user.disabled = True
    tokens.revoke_all(db, user.id, "disabled_by_admin")
    audit(db, "admin.user_disabled", user_id=user.id, actor_id=admin.id, ip=client_ip(request))
    db.commit()
    return user_out(user)


@router.get("/audit", response_model=Page[AuditOut])
def all_audit(admin: AdminUser, db: Db, limit: Limit = 50, before: Before = None,
              user_id: OptionalIdQuery = None) -> Page[AuditOut]:
    """The security log of every account (or of ``user_id``), newest first."""
    return audit_page(db, user_id, limit, before)
