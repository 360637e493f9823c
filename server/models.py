"""The service's tables (SQLAlchemy 2.0). Every row a user owns carries ``user_id`` with
``ON DELETE CASCADE``, so deleting an account deletes its data. Secrets (refresh tokens,
e-mail tokens, backup codes, device tokens) are stored as SHA-256 or argon2 hashes only."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class UTCDateTime(DateTime):
    """Timezone-aware UTC on both databases (SQLite stores naive values)."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)


def aware(value: dt.datetime) -> dt.datetime:
    """``value`` as aware UTC (SQLite hands back naive datetimes)."""
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="user")
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: the last TOTP time step accepted: a code for this step or an earlier one is a replay
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SessionFamily(Base):
    """One sign-in: the chain of refresh tokens rotated from it. Revoking it ends the session
    (its access tokens carry its id and are refused from then on)."""

    __tablename__ = "session_families"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_reason: Mapped[str] = mapped_column(String(32), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("session_families.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EmailToken(Base):
    """A single-use, expiring link token (purpose ``verify`` or ``reset``)."""

    __tablename__ = "email_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class BackupCode(Base):
    __tablename__ = "backup_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class TrustedDevice(Base):
    __tablename__ = "trusted_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RateLimit(Base):
    """Limiter state shared by every worker: failures and a block for one key (an account or
    an address), or a request count in a fixed window."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    count: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    #: the account the event is about (NULL for an unknown e-mail or a deleted account)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                                nullable=True, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(48))
    ip: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class SyncItem(Base):
    """One synced object of a user (``server/routers/sync.py``): a ``kind`` ("watchlist", ...)
    and the client's ``key`` for it, unique per user and kind; ``data`` is its JSON. A delete
    keeps the row as a tombstone (``deleted``) so other machines learn of it when they pull.
    ``updated_at`` is the server's clock at the last write: the conflict rule is last writer
    wins by it, and pulls page on (``updated_at``, ``id``)."""

    __tablename__ = "sync_items"
    __table_args__ = (UniqueConstraint("user_id", "kind", "key", name="uq_sync_items_user_kind_key"),
                      Index("ix_sync_items_user_updated", "user_id", "updated_at", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text, default="{}")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IdempotencyKey(Base):
    """The first answer to a write sent with an ``Idempotency-Key`` header, per user, kept until
    ``expires_at``: a retry with the same key gets it back instead of applying the write again;
    the same key with another request (``fingerprint``) is refused."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class GoogleNonce(Base):
    """A nonce the service handed out for one Google sign-in (``POST /auth/google/start``);
    an ID token must carry one that is unexpired and unused, so a captured ID token cannot be
    replayed. Stored as SHA-256."""

    __tablename__ = "google_nonces"

    nonce_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ExternalIdentity(Base):
    """An account at an identity provider (``google``: the ID token's ``sub``) linked to a user."""

    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PublishedWorkspace(Base):
    """A workspace (``engine.workspaces`` format, JSON in ``data``) a user published: ``private``
    (only the owner lists and loads it, on any of their machines) or ``public`` (anyone signed
    in can list and load it). One per owner and name: publishing the same name again replaces it."""

    __tablename__ = "published_workspaces"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_published_workspaces_user_name"),
                      Index("ix_published_workspaces_public", "visibility", "updated_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    visibility: Mapped[str] = mapped_column(String(8), default="private")
    description: Mapped[str] = mapped_column(String(500), default="")
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
class Strategy(Base):
    """A user's strategy (``server/routers/strategies.py``): its rules (JSON: the formulas,
    sizing, stops), category and visibility (``private``, ``public``, ``unlisted`` — a link
    token stored as SHA-256 with an expiry); its published results (JSON: backtest and live
    paper equity points and trades, money in cents) and the score computed from them
    (``engine.community.score``). ``parent_id`` is the strategy it was cloned from (lineage);
    ``clone_count`` counts its clones, ``followers`` its copiers (kept by copy trading)."""

    __tablename__ = "strategies"
    __table_args__ = (Index("ix_strategies_user", "user_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    rules: Mapped[str] = mapped_column(Text, default="{}")
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    share_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    share_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("strategies.id", ondelete="SET NULL"),
                                                  nullable=True, index=True)
    clone_count: Mapped[int] = mapped_column(Integer, default=0)
    followers: Mapped[int] = mapped_column(Integer, default=0)
    results: Mapped[str] = mapped_column(Text, default="{}")
    trades: Mapped[int] = mapped_column(Integer, default=0)
    score_is: Mapped[float | None] = mapped_column(nullable=True)
    score_oos: Mapped[float | None] = mapped_column(nullable=True)
    rank_score: Mapped[float | None] = mapped_column(nullable=True)
    scorecard: Mapped[str] = mapped_column(Text, default="{}")
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    scored_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StrategyReview(Base):
    """One user's rating (1..5 stars) and review of a strategy; one per user, editable."""

    __tablename__ = "strategy_reviews"
    __table_args__ = (UniqueConstraint("strategy_id", "user_id", name="uq_strategy_reviews_strategy_user"),
                      Index("ix_strategy_reviews_strategy", "strategy_id", "updated_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StrategyRanking(Base):
    """The precomputed leaderboard: one row per listed strategy (public and ranked) and
    timeframe (``all``, ``month``, ``week``, ``day``), with its category copied in, so a page
    for a timeframe and category is one index range scan in score order
    (``ix_strategy_rankings_board``; ``ix_strategy_rankings_all`` when any category)."""

    __tablename__ = "strategy_rankings"
    __table_args__ = (Index("ix_strategy_rankings_board", "timeframe", "category", "score", "strategy_id"),
                      Index("ix_strategy_rankings_all", "timeframe", "score", "strategy_id"))

    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"), primary_key=True)
    timeframe: Mapped[str] = mapped_column(String(8), primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column()
class EduContent(Base):
    """Education content (``server/routers/education.py``): ``kind`` "course" (key: the course
    id; ``data`` the course JSON with each article's markdown), "term" (key: the term id) or
    "tours" (key "tours"). Seeded from ``resources/education`` (a row is replaced when the
    shipped ``version`` is newer); an admin's edit bumps ``version``. ``updated_at`` (the
    service's clock) and ``id`` are the pull cursor."""

    __tablename__ = "edu_content"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_edu_content_kind_key"),
                      Index("ix_edu_content_updated", "updated_at", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class EduEnrollment(Base):
    __tablename__ = "edu_enrollments"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EduProgress(Base):
    """A user's progress on one material (``kind`` read, exercise, quiz) or tour (``kind`` tour,
    ``course_id`` ""). A quiz's ``score`` and ``passed`` are computed by the service from the
    submitted answers, never taken from the client."""

    __tablename__ = "edu_progress"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    material_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
