"""The social tables (``server/routers/social.py``, migration ``0007_social``): profiles,
follows, blocks, reports, published paper trades and the activity feed.

Nothing of a user's paper account reaches the service unless the user publishes it: a
``PublishedTrade`` row exists only because the user's app sent it. Its ``created_at`` is the
service's clock when it arrived, and only that time counts for the verified badge (a client
cannot backdate a "live" record)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Base, UTCDateTime, utcnow


class SocialProfile(Base):
    """The public part of a user besides ``users.display_name``: a bio and an avatar (a PNG
    or JPEG re-encoded by the service, at most ``AVATAR_MAX_BYTES``)."""

    __tablename__ = "social_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    avatar: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    avatar_type: Mapped[str] = mapped_column(String(16), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Follow(Base):
    __tablename__ = "social_follows"
    __table_args__ = (UniqueConstraint("follower_id", "leader_id", name="uq_social_follows_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    follower_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Block(Base):
    """``user_id`` blocked ``blocked_id``: neither sees the other's profile, trades or
    activity, neither can follow the other, and follows between them were removed."""

    __tablename__ = "social_blocks"
    __table_args__ = (UniqueConstraint("user_id", "blocked_id", name="uq_social_blocks_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    blocked_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Report(Base):
    """A user reported another (for the admins: ``GET /admin/social/reports``)."""

    __tablename__ = "social_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PublishedTrade(Base):
    """One paper fill a user published. ``key`` is the app's id of the fill (unique per user:
    publishing it again answers the first row). ``price`` is exact decimal text;
    ``position_after`` the leader's signed position in the symbol after the fill and
    ``equity_cents`` the account's equity then (for proportional sizing by copiers)."""

    __tablename__ = "published_trades"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_published_trades_user_key"),
                      Index("ix_published_trades_user_id_id", "user_id", "id"),
                      Index("ix_published_trades_strategy_id_id", "strategy_id", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    qty: Mapped[int] = mapped_column(Integer)
    price: Mapped[str] = mapped_column(String(32))
    position_after: Mapped[int] = mapped_column(BigInteger, default=0)
    equity_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    strategy_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    time_ms: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Activity(Base):
    """One line of the activity feed: ``kind`` ``trade`` (``ref_id`` a published trade) or
    ``strategy`` (``ref_id`` a published strategy; the strategies router records these with
    ``server.routers.social.record_activity``)."""

    __tablename__ = "social_activity"
    __table_args__ = (Index("ix_social_activity_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
