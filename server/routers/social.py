"""Social and copy trading on the service (issue 18): profiles, follow/unfollow, followers and
following lists, block and report, published paper trades, the activity feed, and a push
channel (server-sent events) that brings a leader's new trade to a copier within a second.

Rules the service enforces (not the client):

* Nothing of a user's paper account is here unless the user's app published it
  (``POST /social/trades``). Published trades are public to every signed-in user except the
  people the publisher blocked and the ones who blocked the publisher.
* Follow: no self-follow (422), following twice answers the first follow (no duplicate),
  a block in either direction refuses the follow (404, as for a missing user) and removes
  follows both ways.
* Verified badge: at least ``VERIFIED_TRADES`` published trades in the last
  ``VERIFIED_DAYS`` days and a record at least that long (first published trade at least
  ``VERIFIED_DAYS`` days ago), by the service's clock at publication (``created_at``), never
  the client's fill time: a record cannot be backdated.
* Avatars: PNG or JPEG, at most ``AVATAR_MAX_BYTES`` (40 KiB) uploaded and ``AVATAR_MAX_SIDE`` pixels
  a side before decoding; decoded by Pillow and re-encoded as a PNG of at most
  ``AVATAR_OUT_SIDE`` pixels (metadata dropped), so what is served was made by the service.
* User-owned objects: a published trade is deleted only by its owner (``load_owned``).

``GET /social/stream`` is an ``text/event-stream`` of the trades of the people the caller
follows, plus ``users``/``strategies`` given in the query (what a copier mirrors). A publish
wakes the streams of the same process at once; streams in other worker processes find the
row at their next database poll (``STREAM_POLL_S``). A stream lasts at most ``max_s``
seconds; the client reconnects with ``after_id`` (SSE's ``retry``)."""
from __future__ import annotations

import asyncio
import datetime as dt
import io
import threading
import time
from collections.abc import AsyncIterator
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from server.deps import (
    MAX_ID, AdminUser, CurrentIdentity, CurrentUser, Db, ObjectId, State, audit, load_owned, still_signed_in,
)
from server.entitlements import require_entitlement
from server.errors import ERROR_RESPONSES, ApiError
from server.models import User, aware, utcnow
from server.schemas import NoControl, Strict
from server.social_models import Activity, Block, Follow, PublishedTrade, Report, SocialProfile

router = APIRouter(prefix="/social", tags=["social"], responses=ERROR_RESPONSES)
admin_router = APIRouter(prefix="/admin/social", tags=["admin"], responses=ERROR_RESPONSES)

VERIFIED_DAYS = 90
VERIFIED_TRADES = 30
#: within the service's 64 KiB request body limit once base64-encoded
AVATAR_MAX_BYTES = 40 * 1024
AVATAR_MAX_SIDE = 2048
AVATAR_OUT_SIDE = 256
MAX_PUBLISH = 100
MAX_PAGE = 200
STREAM_POLL_S = 1.0
STREAM_MAX_S = 60.0
MAX_PRICE = Decimal("10000000")
#: published trades a user may add in 24 hours, and people a user may follow (429 / 422 past them)
MAX_TRADES_PER_DAY = 10_000
MAX_FOLLOWING = 5_000

# ------------------------------------------------------------------------------ schemas

Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=80), NoControl]


def _bio_text(value: str) -> str:
    # newlines and tabs are fine in a bio; other control characters are not
    if any((ord(ch) < 32 and ch not in "\n\t") or 127 <= ord(ch) < 160 for ch in value):
        raise ValueError("must not contain control characters")
    return value


Bio = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_bio_text)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(_bio_text)]
Symbol = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z0-9][A-Z0-9.\-/]{0,31}$")]
TradeKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]


def _price(value: str) -> str:
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise ValueError("must be a decimal number") from None
    if not d.is_finite() or d <= 0 or d > MAX_PRICE:
        raise ValueError(f"must be above 0 and at most {MAX_PRICE}")
    return str(d.quantize(Decimal("0.000001")).normalize())


Price = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,8}(\.[0-9]{1,6})?$"), AfterValidator(_price)]


class ProfileIn(Strict):
    display_name: Name
    bio: Bio = ""


class AvatarIn(Strict):
    #: the image file's bytes, base64 (PNG or JPEG)
    image_base64: Annotated[str, StringConstraints(min_length=8, max_length=(AVATAR_MAX_BYTES * 4) // 3 + 4,
                                                   pattern=r"^[A-Za-z0-9+/=\s]+$")]


class ProfileOut(BaseModel):
    id: int
    display_name: str
    bio: str
    has_avatar: bool
    verified: bool
    trades_90d: int
    record_days: int
    followers: int
    following: int
    is_following: bool
    is_blocked: bool


class PersonOut(BaseModel):
    id: int
    display_name: str
    has_avatar: bool


class FollowOut(BaseModel):
    leader_id: int
    following: bool
    followers: int


class BlockOut(BaseModel):
    user_id: int
    blocked: bool


class ReportIn(Strict):
    reason: Literal["spam", "abuse", "impersonation", "scam", "other"]
    note: Note = ""


class ReportOut(BaseModel):
    id: int
    target_id: int
    reason: str
    created_at: dt.datetime


class AdminReportOut(ReportOut):
    user_id: int
    note: str


class TradeIn(Strict):
    key: TradeKey
    symbol: Symbol
    side: Literal["buy", "sell"]
    qty: int = Field(ge=1, le=1_000_000_000)
    price: Price
    position_after: int = Field(ge=-10_000_000_000, le=10_000_000_000)
    equity_cents: int | None = Field(default=None, ge=0, le=10**15)
    strategy_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    time_ms: int = Field(ge=0, le=2**53)


class PublishIn(Strict):
    trades: list[TradeIn] = Field(min_length=1, max_length=MAX_PUBLISH)


class TradeOut(BaseModel):
    id: int
    user_id: int
    key: str
    symbol: str
    side: str
    qty: int
    price: str
    position_after: int
    equity_cents: int | None
    strategy_id: int | None
    time_ms: int
    published_at: dt.datetime


class TradePage(BaseModel):
    items: list[TradeOut]
    #: the last id in ``items`` (the next page's ``after_id``); the given one when empty
    last_id: int


class FeedItemOut(BaseModel):
    id: int
    user_id: int
    display_name: str
    kind: str
    ref_id: int
    summary: str
    created_at: dt.datetime
    trade: TradeOut | None


class DeletedOut(BaseModel):
    id: int
    deleted: bool


# ------------------------------------------------------------------------------ helpers


def _trade_out(t: PublishedTrade) -> TradeOut:
    return TradeOut(id=t.id, user_id=t.user_id, key=t.key, symbol=t.symbol, side=t.side, qty=t.qty,
                    price=t.price, position_after=t.position_after, equity_cents=t.equity_cents,
                    strategy_id=t.strategy_id, time_ms=t.time_ms, published_at=aware(t.created_at))


def blocked_ids(db: Session, user_id: int) -> set[int]:
    """Everyone ``user_id`` blocked or was blocked by."""
    rows = db.execute(select(Block.user_id, Block.blocked_id).where(
        or_(Block.user_id == user_id, Block.blocked_id == user_id))).all()
    return {b if a == user_id else a for a, b in rows}


def _blocks_clause(column: Any, user_id: int) -> Any:
    """SQL: ``column`` is not someone ``user_id`` blocked or was blocked by."""
    return and_(column.not_in(select(Block.blocked_id).where(Block.user_id == user_id)),
                column.not_in(select(Block.user_id).where(Block.blocked_id == user_id)))


def _visible_user(db: Session, me: int, user_id: int) -> User:
    """Another (or the same) active user the caller may see; 404 as for a missing one when a
    block stands between them."""
    user = db.get(User, user_id)
    if user is None or user.disabled or (user_id != me and user_id in blocked_ids(db, me)):
        raise ApiError(404, "not_found", "No such user.")
    return user


def record_stats(db: Session, user_id: int, now: dt.datetime | None = None) -> tuple[bool, int, int]:
    """(verified, trades in the last ``VERIFIED_DAYS`` days, days since the first published
    trade) by the service's publication times."""
    now = now or utcnow()
    since = now - dt.timedelta(days=VERIFIED_DAYS)
    first, = db.execute(select(func.min(PublishedTrade.created_at)).where(PublishedTrade.user_id == user_id)).one()
    recent = int(db.execute(select(func.count()).select_from(PublishedTrade).where(
        PublishedTrade.user_id == user_id, PublishedTrade.created_at >= since)).scalar_one())
    days = 0 if first is None else max(0, (now - aware(first)).days)
    return recent >= VERIFIED_TRADES and days >= VERIFIED_DAYS, recent, days


def _profile_out(db: Session, me: int, user: User) -> ProfileOut:
    prof = db.get(SocialProfile, user.id)
    verified, recent, days = record_stats(db, user.id)
    hidden = list(blocked_ids(db, user.id)) or [0]
    followers = int(db.execute(select(func.count()).select_from(Follow).where(
        Follow.leader_id == user.id, Follow.follower_id.not_in(hidden))).scalar_one())
    following = int(db.execute(select(func.count()).select_from(Follow).where(
        Follow.follower_id == user.id, Follow.leader_id.not_in(hidden))).scalar_one())
    is_following = db.execute(select(Follow.id).where(Follow.follower_id == me, Follow.leader_id == user.id)
                              ).first() is not None
    is_blocked = db.execute(select(Block.id).where(Block.user_id == me, Block.blocked_id == user.id)
                            ).first() is not None
    return ProfileOut(id=user.id, display_name=user.display_name, bio=prof.bio if prof else "",
                      has_avatar=bool(prof and prof.avatar), verified=verified, trades_90d=recent,
                      record_days=days, followers=followers, following=following,
                      is_following=is_following, is_blocked=is_blocked)


def _people(db: Session, me: int, users: list[User]) -> list[PersonOut]:
    ids = [u.id for u in users]
    with_avatar = set(db.execute(select(SocialProfile.user_id).where(
        SocialProfile.user_id.in_(ids), SocialProfile.avatar.is_not(None))).scalars()) if ids else set()
    return [PersonOut(id=u.id, display_name=u.display_name, has_avatar=u.id in with_avatar) for u in users]


def record_activity(db: Session, user_id: int, kind: str, ref_id: int, summary: str) -> None:
    """Add a line to ``user_id``'s activity (committed with the caller's transaction); the
    strategies router calls this when a strategy is published (``kind="strategy"``)."""
    db.add(Activity(user_id=user_id, kind=kind[:16], ref_id=ref_id, summary=summary[:200]))


def clean_avatar(raw: bytes) -> bytes:
    """``raw`` (PNG or JPEG) checked and re-encoded as a PNG of at most ``AVATAR_OUT_SIDE``
    pixels a side; ``ApiError`` 422 for anything else."""
    from PIL import Image, UnidentifiedImageError

    def bad(why: str) -> ApiError:
        return ApiError(422, "invalid_image", f"The avatar {why}.")

    if len(raw) > AVATAR_MAX_BYTES:
        raise bad(f"is larger than {AVATAR_MAX_BYTES // 1024} KiB")
    if not (raw.startswith(b"\x89PNG\r\n\x1a\n") or raw.startswith(b"\xff\xd8\xff")):
        raise bad("must be a PNG or JPEG image")
    try:
        with Image.open(io.BytesIO(raw), formats=("PNG", "JPEG")) as img:
            w, h = img.size
            if w < 1 or h < 1 or w > AVATAR_MAX_SIDE or h > AVATAR_MAX_SIDE:
                raise bad(f"must be at most {AVATAR_MAX_SIDE}x{AVATAR_MAX_SIDE} pixels")
            img.load()
            rgba = img.convert("RGBA")
    except ApiError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise bad("could not be read as an image") from None
    rgba.thumbnail((AVATAR_OUT_SIDE, AVATAR_OUT_SIDE))
    out = io.BytesIO()
    rgba.save(out, format="PNG", optimize=True)
    return out.getvalue()


# ------------------------------------------------------------------------------ push hub


class TradeHub:
    """Wakes this process's open streams when a trade is published (from any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def subscribe(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Event]:
        sub = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        with self._lock:
            self._subs.discard(sub)

    def notify(self) -> None:
        with self._lock:
            subs = list(self._subs)
        for loop, event in subs:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop has closed
                self.unsubscribe((loop, event))


_HUB_LOCK = threading.Lock()


def hub_of(app: FastAPI) -> TradeHub:
    with _HUB_LOCK:
        hub: TradeHub | None = getattr(app.state, "social_hub", None)
        if hub is None:
            hub = app.state.social_hub = TradeHub()
        return hub


# ------------------------------------------------------------------------------ profiles


@router.get("/profile", response_model=ProfileOut)
def my_profile(user: CurrentUser, db: Db) -> ProfileOut:
    """The caller's own profile as others see it."""
    return _profile_out(db, user.id, user)


@router.put("/profile", response_model=ProfileOut)
def update_profile(body: ProfileIn, user: CurrentUser, db: Db) -> ProfileOut:
    """Set the caller's display name and bio."""
    prof = db.get(SocialProfile, user.id) or SocialProfile(user_id=user.id, bio="", avatar_type="")
    prof.bio, prof.updated_at = body.bio, utcnow()
    user.display_name = body.display_name
    db.add(prof)
    db.commit()
    return _profile_out(db, user.id, user)


@router.put("/profile/avatar", response_model=ProfileOut)
def set_avatar(body: AvatarIn, user: CurrentUser, db: Db) -> ProfileOut:
    """Upload an avatar: a PNG or JPEG (base64) of at most 40 KiB and 2048 px a side."""
    import base64
    import binascii

    try:
        raw = base64.b64decode("".join(body.image_base64.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "invalid_image", "The avatar is not valid base64.") from None
    png = clean_avatar(raw)
    prof = db.get(SocialProfile, user.id) or SocialProfile(user_id=user.id, bio="")
    prof.avatar, prof.avatar_type, prof.updated_at = png, "image/png", utcnow()
    db.add(prof)
    db.commit()
    return _profile_out(db, user.id, user)


@router.delete("/profile/avatar", response_model=ProfileOut)
def remove_avatar(user: CurrentUser, db: Db) -> ProfileOut:
    prof = db.get(SocialProfile, user.id)
    if prof is not None:
        prof.avatar, prof.avatar_type, prof.updated_at = None, "", utcnow()
        db.commit()
    return _profile_out(db, user.id, user)


@router.get("/users", response_model=list[PersonOut])
def search_people(user: CurrentUser, db: Db,
                  q: Annotated[str, Query(max_length=80, description="part of a display name")] = "",
                  limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50) -> list[PersonOut]:
    """People by display name (never by e-mail), without the ones a block separates from the caller."""
    stmt = select(User).where(User.disabled.is_(False), User.id != user.id, User.display_name != "",
                              _blocks_clause(User.id, user.id))
    text = "".join(ch for ch in q.strip() if ch.isprintable())
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(func.lower(User.display_name).like(f"%{escaped.lower()}%", escape="\\"))
    rows = list(db.execute(stmt.order_by(User.display_name, User.id).limit(limit)).scalars())
    return _people(db, user.id, rows)


@router.get("/users/{user_id}", response_model=ProfileOut)
def profile(user_id: ObjectId, user: CurrentUser, db: Db) -> ProfileOut:
    """Someone's public profile (published figures only; never the e-mail)."""
    return _profile_out(db, user.id, _visible_user(db, user.id, user_id))


@router.get("/users/{user_id}/avatar", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "the avatar (PNG)"}})
def avatar(user_id: ObjectId, user: CurrentUser, db: Db) -> Response:
    _visible_user(db, user.id, user_id)
    prof = db.get(SocialProfile, user_id)
    if prof is None or not prof.avatar:
        raise ApiError(404, "not_found", "This user has no avatar.")
    return Response(prof.avatar, media_type="image/png")


def _follow_lists(db: Session, me: int, user_id: int, followers: bool, limit: int) -> list[PersonOut]:
    _visible_user(db, me, user_id)
    mine, theirs = (Follow.follower_id, Follow.leader_id) if followers else (Follow.leader_id, Follow.follower_id)
    hidden = blocked_ids(db, me) | blocked_ids(db, user_id)
    stmt = (select(User).join(Follow, mine == User.id).where(theirs == user_id, User.disabled.is_(False))
            .order_by(Follow.id.desc()).limit(limit))
    if hidden:
        stmt = stmt.where(User.id.not_in(hidden))
    return _people(db, me, list(db.execute(stmt).scalars()))


@router.get("/users/{user_id}/followers", response_model=list[PersonOut])
def followers(user_id: ObjectId, user: CurrentUser, db: Db,
              limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> list[PersonOut]:
    """Who follows ``user_id``, newest first."""
    return _follow_lists(db, user.id, user_id, True, limit)


@router.get("/users/{user_id}/following", response_model=list[PersonOut])
def following(user_id: ObjectId, user: CurrentUser, db: Db,
              limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> list[PersonOut]:
    """Whom ``user_id`` follows, newest first."""
    return _follow_lists(db, user.id, user_id, False, limit)


# ------------------------------------------------------------------------------ follow, block, report


def _count_followers(db: Session, leader_id: int) -> int:
    return int(db.execute(select(func.count()).select_from(Follow).where(Follow.leader_id == leader_id)).scalar_one())


@router.post("/users/{user_id}/follow", response_model=FollowOut)
def follow(user_id: ObjectId, user: CurrentUser, db: Db) -> FollowOut:
    """Follow ``user_id`` (again: no change). Not oneself; not across a block."""
    if user_id == user.id:
        raise ApiError(422, "self_follow", "You cannot follow yourself.")
    _visible_user(db, user.id, user_id)
    exists = db.execute(select(Follow.id).where(Follow.follower_id == user.id, Follow.leader_id == user_id)).first()
    if exists is None and int(db.execute(select(func.count()).select_from(Follow).where(
            Follow.follower_id == user.id)).scalar_one()) >= MAX_FOLLOWING:
        raise ApiError(422, "too_many_follows", f"You follow {MAX_FOLLOWING:,} people already; unfollow some first.")
    if exists is None:
        try:
            db.add(Follow(follower_id=user.id, leader_id=user_id))
            db.commit()
        except IntegrityError:  # the same follow arrived twice at once: one row stays
            db.rollback()
    return FollowOut(leader_id=user_id, following=True, followers=_count_followers(db, user_id))


@router.delete("/users/{user_id}/follow", response_model=FollowOut)
def unfollow(user_id: ObjectId, user: CurrentUser, db: Db) -> FollowOut:
    _visible_user(db, user.id, user_id)
    db.execute(delete(Follow).where(Follow.follower_id == user.id, Follow.leader_id == user_id))
    db.commit()
    return FollowOut(leader_id=user_id, following=False, followers=_count_followers(db, user_id))


@router.get("/following", response_model=list[PersonOut])
def my_following(user: CurrentUser, db: Db, limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> list[PersonOut]:
    """Whom the caller follows."""
    return _follow_lists(db, user.id, user.id, False, limit)


@router.get("/followers", response_model=list[PersonOut])
def my_followers(user: CurrentUser, db: Db, limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> list[PersonOut]:
    """Who follows the caller."""
    return _follow_lists(db, user.id, user.id, True, limit)


@router.post("/users/{user_id}/block", response_model=BlockOut)
def block(user_id: ObjectId, request: Request, user: CurrentUser, db: Db) -> BlockOut:
    """Block ``user_id``: follows both ways end; neither sees the other from now on."""
    if user_id == user.id:
        raise ApiError(422, "self_block", "You cannot block yourself.")
    target = db.get(User, user_id)
    if target is None or target.disabled or db.execute(select(Block.id).where(
            Block.user_id == user_id, Block.blocked_id == user.id)).first() is not None:
        raise ApiError(404, "not_found", "No such user.")
    db.execute(delete(Follow).where(or_(and_(Follow.follower_id == user.id, Follow.leader_id == user_id),
                                        and_(Follow.follower_id == user_id, Follow.leader_id == user.id))))
    if db.execute(select(Block.id).where(Block.user_id == user.id, Block.blocked_id == user_id)).first() is None:
        db.add(Block(user_id=user.id, blocked_id=user_id))
        audit(db, "social.block", user_id=user.id, ip=request.client.host if request.client else "", target=user_id)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
    return BlockOut(user_id=user_id, blocked=True)


@router.delete("/users/{user_id}/block", response_model=BlockOut)
def unblock(user_id: ObjectId, user: CurrentUser, db: Db) -> BlockOut:
    row = db.execute(select(Block).where(Block.user_id == user.id, Block.blocked_id == user_id)).scalars().first()
    if row is None:
        raise ApiError(404, "not_found", "You have not blocked this user.")
    db.delete(row)
    db.commit()
    return BlockOut(user_id=user_id, blocked=False)


@router.get("/blocks", response_model=list[PersonOut])
def my_blocks(user: CurrentUser, db: Db) -> list[PersonOut]:
    rows = list(db.execute(select(User).join(Block, Block.blocked_id == User.id)
                           .where(Block.user_id == user.id).order_by(Block.id.desc()).limit(MAX_PAGE)).scalars())
    return _people(db, user.id, rows)


@router.post("/users/{user_id}/report", response_model=ReportOut, status_code=202)
def report(user_id: ObjectId, body: ReportIn, request: Request, user: CurrentUser, db: Db) -> ReportOut:
    """Report ``user_id`` to the admins (the same report within a day is kept once)."""
    if user_id == user.id:
        raise ApiError(422, "self_report", "You cannot report yourself.")
    target = db.get(User, user_id)  # someone blocked (either way) can still be reported
    if target is None or target.disabled:
        raise ApiError(404, "not_found", "No such user.")
    since = utcnow() - dt.timedelta(days=1)
    old = db.execute(select(Report).where(Report.user_id == user.id, Report.target_id == user_id,
                                          Report.reason == body.reason, Report.created_at >= since)).scalars().first()
    if old is None:
        old = Report(user_id=user.id, target_id=user_id, reason=body.reason, note=body.note, created_at=utcnow())
        db.add(old)
        audit(db, "social.report", user_id=user.id, ip=request.client.host if request.client else "",
              target=user_id, reason=body.reason)
        db.commit()
    return ReportOut(id=old.id, target_id=old.target_id, reason=old.reason, created_at=aware(old.created_at))


@admin_router.get("/reports", response_model=list[AdminReportOut])
def admin_reports(admin: AdminUser, db: Db, limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> list[AdminReportOut]:
    """The newest reports (admins only)."""
    rows = db.execute(select(Report).order_by(Report.id.desc()).limit(limit)).scalars()
    return [AdminReportOut(id=r.id, user_id=r.user_id, target_id=r.target_id, reason=r.reason, note=r.note,
                           created_at=aware(r.created_at)) for r in rows]


# ------------------------------------------------------------------------------ published trades


def _summary(t: TradeIn | PublishedTrade) -> str:
    return f"{t.side.title()} {t.qty:,} {t.symbol} at {t.price}"


@router.post("/trades", response_model=list[TradeOut])
def publish(body: PublishIn, request: Request, user: CurrentUser, db: Db) -> list[TradeOut]:
    """Publish paper fills (what the app sends when the user opted in). A ``key`` already
    published answers its first row unchanged, so a retry never duplicates a trade."""
    keys = [t.key for t in body.trades]
    if len(set(keys)) != len(keys):
        raise ApiError(422, "duplicate_key", "Each trade in one request needs its own key.")
    existing = {t.key: t for t in db.execute(select(PublishedTrade).where(
        PublishedTrade.user_id == user.id, PublishedTrade.key.in_(keys))).scalars()}
    fresh = len(keys) - len(existing)
    if fresh:
        recent = int(db.execute(select(func.count()).select_from(PublishedTrade).where(
            PublishedTrade.user_id == user.id, PublishedTrade.created_at >= utcnow() - dt.timedelta(days=1))).scalar_one())
        if recent + fresh > MAX_TRADES_PER_DAY:
            raise ApiError(429, "rate_limited", f"At most {MAX_TRADES_PER_DAY:,} trades can be published in 24 hours.",
                           {"Retry-After": "3600"})
    rows: list[PublishedTrade] = []
    new = 0
    for t in body.trades:
        row = existing.get(t.key)
        if row is None:
            row = PublishedTrade(user_id=user.id, key=t.key, symbol=t.symbol, side=t.side, qty=t.qty,
                                 price=t.price, position_after=t.position_after, equity_cents=t.equity_cents,
                                 strategy_id=t.strategy_id, time_ms=t.time_ms, created_at=utcnow())
            db.add(row)
            db.flush()
            record_activity(db, user.id, "trade", row.id, _summary(t))
            new += 1
        rows.append(row)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise ApiError(409, "conflict", "The same trades were being published at the same time; send them again.") from None
    if new:
        hub_of(request.app).notify()
    return [_trade_out(r) for r in rows]


@router.get("/trades", response_model=TradePage)
def my_trades(user: CurrentUser, db: Db, after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
              limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> TradePage:
    """The caller's own published trades, oldest first after ``after_id``."""
    rows = list(db.execute(select(PublishedTrade).where(PublishedTrade.user_id == user.id, PublishedTrade.id > after_id)
                           .order_by(PublishedTrade.id).limit(limit)).scalars())
    return TradePage(items=[_trade_out(r) for r in rows], last_id=rows[-1].id if rows else after_id)


@router.delete("/trades/{trade_id}", response_model=DeletedOut)
def unpublish(trade_id: ObjectId, user: CurrentUser, db: Db) -> DeletedOut:
    """Take back one of the caller's published trades (copiers keep what they mirrored)."""
    row = load_owned(db, PublishedTrade, trade_id, user)
    db.execute(delete(Activity).where(Activity.user_id == user.id, Activity.kind == "trade", Activity.ref_id == row.id))
    db.delete(row)
    db.commit()
    return DeletedOut(id=trade_id, deleted=True)


@router.get("/users/{user_id}/trades", response_model=TradePage)
def user_trades(user_id: ObjectId, user: CurrentUser, db: Db, after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
                limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> TradePage:
    """``user_id``'s published trades after ``after_id``, oldest first (what a copier polls)."""
    _visible_user(db, user.id, user_id)
    rows = list(db.execute(select(PublishedTrade).where(PublishedTrade.user_id == user_id, PublishedTrade.id > after_id)
                           .order_by(PublishedTrade.id).limit(limit)).scalars())
    return TradePage(items=[_trade_out(r) for r in rows], last_id=rows[-1].id if rows else after_id)


@router.get("/strategies/{strategy_id}/trades", response_model=TradePage,
            dependencies=[require_entitlement("copy_trading")])
def strategy_trades(strategy_id: ObjectId, user: CurrentUser, db: Db,
                    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
                    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> TradePage:
    """The trades published under ``strategy_id`` after ``after_id``: what copying a published
    strategy follows, so it needs the ``copy_trading`` entitlement (Pro). A leader's own trades
    (``/social/users/{id}/trades``) are part of their public profile and need none."""
    rows = list(db.execute(select(PublishedTrade).where(
        PublishedTrade.strategy_id == strategy_id, PublishedTrade.id > after_id,
        _blocks_clause(PublishedTrade.user_id, user.id)).order_by(PublishedTrade.id).limit(limit)).scalars())
    return TradePage(items=[_trade_out(r) for r in rows], last_id=rows[-1].id if rows else after_id)


@router.get("/feed", response_model=list[FeedItemOut])
def feed(user: CurrentUser, db: Db, before_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
         limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50) -> list[FeedItemOut]:
    """Published trades and strategies of the people the caller follows, newest first
    (``before_id``: the page after the one ending at that id)."""
    stmt = (select(Activity, User.display_name).join(User, User.id == Activity.user_id)
            .where(Activity.user_id.in_(select(Follow.leader_id).where(Follow.follower_id == user.id)),
                   _blocks_clause(Activity.user_id, user.id), User.disabled.is_(False)))
    if before_id:
        stmt = stmt.where(Activity.id < before_id)
    rows = db.execute(stmt.order_by(Activity.id.desc()).limit(limit)).all()
    trade_ids = [a.ref_id for a, _ in rows if a.kind == "trade"]
    trades = {t.id: t for t in db.execute(select(PublishedTrade).where(PublishedTrade.id.in_(trade_ids))).scalars()
              } if trade_ids else {}
    return [FeedItemOut(id=a.id, user_id=a.user_id, display_name=name, kind=a.kind, ref_id=a.ref_id, summary=a.summary,
                        created_at=aware(a.created_at),
                        trade=_trade_out(trades[a.ref_id]) if a.kind == "trade" and a.ref_id in trades else None)
            for a, name in rows]


# ------------------------------------------------------------------------------ push


def _new_trades(st: Any, me: int, users: list[int], strategies: list[int], after_id: int,
                followed: bool) -> list[TradeOut]:
    with st.sessions() as db:
        wanted = [PublishedTrade.user_id.in_(select(Follow.leader_id).where(Follow.follower_id == me))] if followed else []
        if users:
            wanted.append(PublishedTrade.user_id.in_(users))
        if strategies:
            wanted.append(PublishedTrade.strategy_id.in_(strategies))
        if not wanted:
            return []
        rows = db.execute(select(PublishedTrade).where(
            PublishedTrade.id > after_id, PublishedTrade.user_id != me, or_(*wanted),
            _blocks_clause(PublishedTrade.user_id, me)).order_by(PublishedTrade.id).limit(MAX_PAGE)).scalars()
        return [_trade_out(r) for r in rows]


def _last_trade_id(st: Any) -> int:
    with st.sessions() as db:
        return int(db.execute(select(func.max(PublishedTrade.id))).scalar_one() or 0)


IdList = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Query(max_length=50)]


@router.get("/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`event: trade` lines, `data` a TradeOut as JSON, `id` its id"}})
async def stream(request: Request, st: State, identity: CurrentIdentity, users: IdList = [],  # noqa: B006
                 strategies: IdList = [],  # noqa: B006
                 after_id: Annotated[int | None, Query(ge=0, le=MAX_ID, description=
                                                       "send trades after this id (absent: only new ones)")] = None,
                 max_s: Annotated[float, Query(ge=1, le=STREAM_MAX_S, description="how long the stream stays open")] = 25.0,
                 followed: Annotated[bool, Query(description="include the people the caller follows")] = True,
                 ) -> StreamingResponse:
    """Server-sent events: each new trade of ``users``, under ``strategies`` and (with
    ``followed``) of the people the caller follows, as ``event: trade``. Ends after ``max_s``
    seconds, or with ``event: end`` within a poll (``STREAM_POLL_S``) of the caller's
    session ending (sign-out, "sign out everywhere", a disabled account)."""
    me = identity.user_id
    hub = hub_of(request.app)
    start = after_id if after_id is not None else await run_in_threadpool(_last_trade_id, st)

    async def events() -> AsyncIterator[bytes]:
        last = start
        sub = hub.subscribe()
        deadline = time.monotonic() + max_s
        try:
            yield f"retry: 1000\nid: {last}\n: connected\n\n".encode()
            while True:
                sub[1].clear()
                rows = await run_in_threadpool(_new_trades, st, me, users, strategies, last, followed)
                for r in rows:
                    last = r.id
                    yield f"id: {r.id}\nevent: trade\ndata: {r.model_dump_json()}\n\n".encode()
                remaining = deadline - time.monotonic()
                if remaining <= 0 or await request.is_disconnected():
                    break
                if not await still_signed_in(st, identity):
                    # signed out (or every session ended, or the account disabled) meanwhile
                    yield b"event: end\ndata: {\"reason\": \"session_ended\"}\n\n"
                    break
                try:
                    await asyncio.wait_for(sub[1].wait(), min(STREAM_POLL_S, remaining))
                except asyncio.TimeoutError:
                    yield b": keep-alive\n\n"
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no"})
