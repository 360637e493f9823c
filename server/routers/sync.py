"""Synced objects: what follows a user from machine to machine (first kind: ``watchlist``).

* Writes (``PUT`` / ``DELETE /sync/items/{kind}/{key}``) carry an ``Idempotency-Key`` header.
  The first answer is stored per user for ``IDEMPOTENCY_TTL``, in the same transaction as the
  change: a retry with the same key gets that answer back (header ``Idempotent-Replayed:
  true``) and the write is applied once; the same key with another request is a 422.
* ``key`` is the client's name for the object (a UUID, say) in the caller's own namespace: a
  user's request only ever reaches that user's rows, so there is no id of anyone else's to guess.
* A delete leaves a tombstone (``deleted``, empty ``data``) so other machines learn of it.
* Conflicts: last writer wins by the server's clock (``updated_at``, set by the service at
  each write, never by the client); ``version`` counts the writes of the item.
* Reads pull what changed after a cursor (``updated_after`` plus the ``after_id`` tie-break,
  order (``updated_at``, ``id``)), at most ``MAX_PULL`` items a page.

A new kind is one entry in ``KINDS``: its name and the ``Strict`` model of its ``data``."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.deps import MAX_ID, CurrentUser, Db
from server.entitlements import RequireEntitlement
from server.errors import ERROR_RESPONSES, ApiError
from server.models import IdempotencyKey, SyncItem, User, aware, utcnow
from server.schemas import SyncCursor, SyncItemIn, SyncItemOut, SyncPage, Strict, WatchlistData

router = APIRouter(prefix="/sync", tags=["sync"], responses=ERROR_RESPONSES)

#: kind -> the model its ``data`` must match (unknown fields refused)
KINDS: dict[str, type[Strict]] = {"watchlist": WatchlistData}
MAX_PULL = 500
IDEMPOTENCY_TTL = dt.timedelta(hours=24)

KIND_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
Kind = Annotated[str, Path(pattern=KIND_PATTERN, description="the item's kind, e.g. watchlist")]
Key = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                          description="the client's key of the item (unique per user and kind)")]
IdemKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=8, max_length=128, pattern=r"^[!-~]+$",
    description="a new random key per write; a retry sends the same key and gets the first answer")]


def _model(kind: str) -> type[Strict]:
    model = KINDS.get(kind)
    if model is None:
        raise ApiError(404, "not_found", f"There is no kind {kind!r} to sync (known: {', '.join(sorted(KINDS))}).")
    return model


def _out(item: SyncItem) -> SyncItemOut:
    return SyncItemOut(id=item.id, kind=item.kind, key=item.key, data=json.loads(item.data),
                       deleted=item.deleted, version=item.version, updated_at=aware(item.updated_at))


def _fingerprint(method: str, path: str, body: object) -> str:
    text = f"{method} {path}\n{json.dumps(body, sort_keys=True, separators=(',', ':'))}"
    return hashlib.sha256(text.encode()).hexdigest()


def _replay(db: Session, user_id: int, key: str, fingerprint: str) -> JSONResponse | None:
    row = db.get(IdempotencyKey, (user_id, key))
    if row is None or aware(row.expires_at) <= utcnow():
        return None
    if row.fingerprint != fingerprint:
        raise ApiError(422, "idempotency_key_reused",
                       "This Idempotency-Key was already used for another request; send a new key with a new write.")
    return JSONResponse(json.loads(row.response), status_code=row.status,
                        headers={"Idempotent-Replayed": "true"})


def _idempotent(db: Session, user: User, idem: str | None, fingerprint: str,
                apply: Callable[[], SyncItemOut]) -> SyncItemOut | JSONResponse:
    """``apply()`` once per ``idem`` key: the answer is stored with the change, in one commit."""
    uid = user.id
    if idem:
        replay = _replay(db, uid, idem, fingerprint)
        if replay is not None:
            return replay
        db.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == uid,
                                                IdempotencyKey.expires_at <= utcnow()))
    try:
        out = apply()
        if idem:
            db.add(IdempotencyKey(user_id=uid, key=idem, fingerprint=fingerprint, status=200,
                                  response=out.model_dump_json(), expires_at=utcnow() + IDEMPOTENCY_TTL))
        db.commit()
    except IntegrityError:
        # a concurrent request won the race: with the same key, its answer is ours
        db.rollback()
        replay = _replay(db, uid, idem, fingerprint) if idem else None
        if replay is not None:
            return replay
        raise ApiError(409, "conflict", "Another write to this item arrived at the same time; send it again.") from None
    return out


def _own(db: Session, user: User, kind: str, key: str, lock: bool = False) -> SyncItem | None:
    q = select(SyncItem).where(SyncItem.user_id == user.id, SyncItem.kind == kind, SyncItem.key == key)
    return db.execute(q.with_for_update() if lock else q).scalar_one_or_none()


def _touch(item: SyncItem) -> None:
    """A write's server time: never earlier than the item's last one (clock steps back)."""
    now = utcnow()
    last = aware(item.updated_at)
    item.updated_at = now if now > last else last + dt.timedelta(microseconds=1)
    item.version += 1


@router.get("/items", response_model=SyncPage)
def pull(user: CurrentUser, db: Db,
         kind: Annotated[str | None, Query(pattern=KIND_PATTERN)] = None,
         updated_after: Annotated[dt.datetime | None, Query(
             description="the cursor's time (the server's clock); absent = from the start")] = None,
         after_id: Annotated[int, Query(ge=0, le=MAX_ID, description="the cursor's tie-break")] = 0,
         limit: Annotated[int, Query(ge=1, le=MAX_PULL, description=f"at most {MAX_PULL}")] = 100) -> SyncPage:
    """The caller's items (tombstones included) changed after the cursor, oldest first."""
    q = select(SyncItem).where(SyncItem.user_id == user.id)
    if kind is not None:
        q = q.where(SyncItem.kind == kind)
    after = None
    if updated_after is not None:
        after = (updated_after if updated_after.tzinfo else updated_after.replace(tzinfo=dt.timezone.utc)
                 ).astimezone(dt.timezone.utc)
        q = q.where(or_(SyncItem.updated_at > after,
                        and_(SyncItem.updated_at == after, SyncItem.id > after_id)))
    rows = list(db.execute(q.order_by(SyncItem.updated_at, SyncItem.id).limit(limit + 1)).scalars())
    items = [_out(r) for r in rows[:limit]]
    cursor = (SyncCursor(updated_after=items[-1].updated_at, after_id=items[-1].id) if items
              else SyncCursor(updated_after=after, after_id=after_id if after is not None else 0))
    return SyncPage(items=items, cursor=cursor, more=len(rows) > limit)


@router.get("/items/{kind}/{key}", response_model=SyncItemOut)
def read_item(kind: Kind, key: Key, user: CurrentUser, db: Db) -> SyncItemOut:
    _model(kind)
    item = _own(db, user, kind, key)
    if item is None:
        raise ApiError(404, "not_found", "No such item on your account.")
    return _out(item)


def _items_after(db: Session, user: User, request: Request) -> int:
    """The caller's live items once this PUT is stored (the ``synced_items`` quota)."""
    kind, key = request.path_params.get("kind", ""), request.path_params.get("key", "")
    others = db.execute(select(func.count()).select_from(SyncItem).where(
        SyncItem.user_id == user.id, SyncItem.deleted.is_(False),
        or_(SyncItem.kind != kind, SyncItem.key != key))).scalar_one()
    return int(others) + 1


@router.put("/items/{kind}/{key}", response_model=SyncItemOut,
            dependencies=[RequireEntitlement("synced_items", count=_items_after)])
def put_item(kind: Kind, key: Key, body: SyncItemIn, user: CurrentUser, db: Db,
             idempotency_key: IdemKey = None) -> SyncItemOut | Response:
    """Create or replace the caller's item ``kind``/``key`` (a tombstone comes back to life)."""
    try:
        data = _model(kind).model_validate(body.data).model_dump(mode="json")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "data"
        raise ApiError(422, "invalid_request", f"data.{where}: {str(first.get('msg', 'is not valid')).rstrip('.')}.") from None
    encoded = json.dumps(data, sort_keys=True)

    def apply() -> SyncItemOut:
        item = _own(db, user, kind, key, lock=True)
        if item is None:
            item = SyncItem(user_id=user.id, kind=kind, key=key, data=encoded, deleted=False,
                            version=1, updated_at=utcnow())
            db.add(item)
        else:
            item.data, item.deleted = encoded, False
            _touch(item)
        db.flush()
        return _out(item)

    return _idempotent(db, user, idempotency_key, _fingerprint("PUT", f"/sync/items/{kind}/{key}", data), apply)


@router.delete("/items/{kind}/{key}", response_model=SyncItemOut)
def delete_item(kind: Kind, key: Key, user: CurrentUser, db: Db,
                idempotency_key: IdemKey = None) -> SyncItemOut | Response:
    """Delete the caller's item: it stays as a tombstone for the other machines' next pull.
    Deleting a tombstone again answers it unchanged."""
    _model(kind)

    def apply() -> SyncItemOut:
        item = _own(db, user, kind, key, lock=True)
        if item is None:
            raise ApiError(404, "not_found", "No such item on your account.")
        if not item.deleted:
            item.data, item.deleted = "{}", True
            _touch(item)
            db.flush()
        return _out(item)

    return _idempotent(db, user, idempotency_key, _fingerprint("DELETE", f"/sync/items/{kind}/{key}", None), apply)
