"""Published workspaces: a user's dashboards kept on the service, ``private`` (the owner's, on
any machine) or ``public`` (listed for everyone signed in, loadable, never editable by others).

* ``GET /workspaces`` — mine (newest first); ``GET /workspaces/public`` — everyone's public
  ones (``q`` filters by name, pages of ``limit`` after ``offset``).
* ``POST /workspaces`` publishes: the body's ``workspace`` must be a valid workspace file
  (``engine.workspaces.parse``, the same check as the app's import); the same name again
  replaces the owner's earlier copy (one per owner and name).
* ``GET /workspaces/{id}`` loads one: the owner's, or anyone's public one; otherwise 404 (the
  same answer whether it does not exist or is private to someone else).
* ``PATCH`` (visibility, description) and ``DELETE`` are the owner's only.

A user keeps at most ``MAX_PER_USER`` workspaces; a workspace's JSON is at most ``MAX_BYTES``."""
from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import Field, StringConstraints
from sqlalchemy import func, select

from engine.workspaces import WorkspaceError, parse
from server.deps import CurrentUser, Db, ObjectId, audit, client_ip, load_owned
from server.errors import ERROR_RESPONSES, ApiError
from server.models import PublishedWorkspace, User, aware, utcnow
from server.schemas import NoControl, Strict

router = APIRouter(prefix="/workspaces", tags=["workspaces"], responses=ERROR_RESPONSES)

MAX_PER_USER = 50
MAX_BYTES = 48 * 1024
Visibility = Literal["private", "public"]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), NoControl]


class WorkspaceIn(Strict):
    workspace: dict[str, Any] = Field(description="a workspace file (format stockscanner-workspace)")
    visibility: Visibility = "private"
    description: Description = ""


class WorkspacePatch(Strict):
    visibility: Visibility | None = None
    description: Description | None = None


class WorkspaceSummary(Strict):
    id: int
    name: str
    visibility: Visibility
    description: str
    owner: str = Field(description="the owner's display name (or 'you')")
    mine: bool
    docks: int
    updated_at: str


class WorkspaceOut(WorkspaceSummary):
    workspace: dict[str, Any]


def _owner_name(db: Db, row: PublishedWorkspace, user: User) -> str:
    if row.user_id == user.id:
        return "you"
    owner = db.get(User, row.user_id)
    return (owner.display_name if owner and owner.display_name else f"user {row.user_id}")[:80]


def _summary(db: Db, row: PublishedWorkspace, user: User) -> dict[str, Any]:
    data = json.loads(row.data)
    return dict(id=row.id, name=row.name, visibility=row.visibility, description=row.description,
                owner=_owner_name(db, row, user), mine=row.user_id == user.id,
                docks=len(data.get("docks") or []), updated_at=aware(row.updated_at).isoformat())


def _visible(db: Db, workspace_id: int, user: User) -> PublishedWorkspace:
    row = db.get(PublishedWorkspace, workspace_id)
    if row is None or (row.user_id != user.id and row.visibility != "public"):
        raise ApiError(404, "not_found", "No such workspace (or it is private to its owner).")
    return row


@router.get("", response_model=list[WorkspaceSummary])
def mine(user: CurrentUser, db: Db) -> list[dict[str, Any]]:
    """The caller's published workspaces, newest first."""
    rows = db.execute(select(PublishedWorkspace).where(PublishedWorkspace.user_id == user.id)
                      .order_by(PublishedWorkspace.updated_at.desc(), PublishedWorkspace.id.desc())).scalars()
    return [_summary(db, r, user) for r in rows]


@router.get("/public", response_model=list[WorkspaceSummary])
def public(user: CurrentUser, db: Db,
           q: Annotated[str, Query(max_length=60, description="part of the name")] = "",
           offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
           limit: Annotated[int, Query(ge=1, le=100)] = 50) -> list[dict[str, Any]]:
    """Everyone's public workspaces, newest first."""
    stmt = select(PublishedWorkspace).where(PublishedWorkspace.visibility == "public")
    if q.strip():
        pattern = "%" + q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(func.lower(PublishedWorkspace.name).like(pattern, escape="\\"))
    rows = db.execute(stmt.order_by(PublishedWorkspace.updated_at.desc(), PublishedWorkspace.id.desc())
                      .offset(offset).limit(limit)).scalars()
    return [_summary(db, r, user) for r in rows]


@router.post("", response_model=WorkspaceOut)
def publish(body: WorkspaceIn, user: CurrentUser, db: Db, request: Request) -> dict[str, Any]:
    """Publish a workspace (replacing the caller's earlier one of the same name)."""
    try:
        ws = parse(body.workspace, "the published workspace")
    except WorkspaceError as exc:
        raise ApiError(422, "bad_workspace", str(exc)) from None
    data = json.dumps(ws.to_dict(), separators=(",", ":"))
    if len(data.encode()) > MAX_BYTES:
        raise ApiError(413, "workspace_too_large", f"A published workspace is at most {MAX_BYTES // 1024} KiB.")
    row = db.execute(select(PublishedWorkspace).where(PublishedWorkspace.user_id == user.id,
                                                      PublishedWorkspace.name == ws.name)
                     .with_for_update()).scalar_one_or_none()
    if row is None:
        count = db.scalar(select(func.count()).select_from(PublishedWorkspace)
                          .where(PublishedWorkspace.user_id == user.id)) or 0
        if count >= MAX_PER_USER:
            raise ApiError(409, "too_many_workspaces",
                           f"You have {MAX_PER_USER} published workspaces; delete one first.")
        row = PublishedWorkspace(user_id=user.id, name=ws.name, created_at=utcnow())
        db.add(row)
    row.data, row.visibility, row.description, row.updated_at = data, body.visibility, body.description, utcnow()
    db.flush()
    audit(db, "workspace.publish", user_id=user.id, ip=client_ip(request), workspace_id=row.id,
          visibility=body.visibility)
    db.commit()
    return {**_summary(db, row, user), "workspace": json.loads(row.data)}


@router.get("/{workspace_id}", response_model=WorkspaceOut)
def load(workspace_id: ObjectId, user: CurrentUser, db: Db) -> dict[str, Any]:
    """One workspace: the caller's own, or a public one."""
    row = _visible(db, workspace_id, user)
    return {**_summary(db, row, user), "workspace": json.loads(row.data)}


@router.patch("/{workspace_id}", response_model=WorkspaceSummary)
def change(workspace_id: ObjectId, body: WorkspacePatch, user: CurrentUser, db: Db,
           request: Request) -> dict[str, Any]:
    """Make one of the caller's workspaces public or private, or change its description."""
    row = load_owned(db, PublishedWorkspace, workspace_id, user)
    if body.visibility is not None:
        row.visibility = body.visibility
    if body.description is not None:
        row.description = body.description
    row.updated_at = utcnow()
    audit(db, "workspace.change", user_id=user.id, ip=client_ip(request), workspace_id=row.id,
          visibility=row.visibility)
    db.commit()
    return _summary(db, row, user)


@router.delete("/{workspace_id}", status_code=204, response_class=Response)
def remove(workspace_id: ObjectId, user: CurrentUser, db: Db, request: Request) -> Response:
    """Delete one of the caller's published workspaces."""
    row = load_owned(db, PublishedWorkspace, workspace_id, user)
    db.delete(row)
    audit(db, "workspace.delete", user_id=user.id, ip=client_ip(request), workspace_id=workspace_id)
    db.commit()
    return Response(status_code=204)
