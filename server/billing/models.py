"""Billing tables (migration ``0006_billing``). Money is integer cents."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Base, UTCDateTime, utcnow


class Subscription(Base):
    """A user's subscription at a provider. ``status`` follows the provider's
    (APPROVAL_PENDING, ACTIVE, SUSPENDED, CANCELLED, EXPIRED); ``status_at`` is the provider's
    time of the last status change applied, so an older event never overwrites a newer one."""

    __tablename__ = "billing_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    tier: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), default="APPROVAL_PENDING")
    status_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: end of the paid period (the provider's next billing time)
    period_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    #: a plan change the provider has not confirmed yet ("basic-yearly"...)
    pending_plan: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Invoice(Base):
    """One payment (PayPal: a sale) of a subscription; refunds lower ``net_cents``."""

    __tablename__ = "billing_invoices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_subscriptions.id", ondelete="SET NULL"), nullable=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    tier: Mapped[str] = mapped_column(String(16), default="")
    paid_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def net_cents(self) -> int:
        return self.amount_cents - self.refunded_cents


class Refund(Base):
    """A refund of an invoice, by the provider's refund id (applied once)."""

    __tablename__ = "billing_refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("billing_invoices.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookEvent(Base):
    """A verified webhook event, stored by the provider's event id: a redelivery is
    acknowledged and not applied again."""

    __tablename__ = "billing_webhook_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    #: applied / stale (older than what is applied) / unknown (type not handled) / orphan
    outcome: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReferralCode(Base):
    __tablename__ = "referral_codes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Referral(Base):
    """``referred_id`` signed up with (or applied within 30 days) ``referrer_id``'s code."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referrer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    referred_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Partner(Base):
    """A referrer enrolled by an admin as a partner: earns ``commission_bps`` of every paid
    invoice of the customers they referred, for as long as they pay."""

    __tablename__ = "partners"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    commission_bps: Mapped[int] = mapped_column(Integer, default=5000)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerEntry(Base):
    """A referral reward or partner commission (positive) or its reversal on a refund
    (negative), in cents. ``paid`` once paid out (admin ``/admin/partners/payouts``)."""

    __tablename__ = "referral_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    referred_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("billing_invoices.id", ondelete="SET NULL"),
                                                   nullable=True, index=True)
    #: commission / reversal / reward
    kind: Mapped[str] = mapped_column(String(12))
    amount_cents: Mapped[int] = mapped_column(Integer)
    #: the share of the invoice this entry is for, in basis points (5000 = 50 %)
    bps: Mapped[int] = mapped_column(Integer, default=5000)
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FeatureFlag(Base):
    """A flag's definition (``engine.flags.Flag``); tiers and users are JSON lists."""

    __tablename__ = "feature_flags"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    percentage_bps: Mapped[int] = mapped_column(Integer, default=10000)
    tiers: Mapped[str] = mapped_column(Text, default="[]")
    users: Mapped[str] = mapped_column(Text, default="[]")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlanOverride(Base):
    """An admin's change to a tier of ``engine.plans.PLANS`` (JSON: prices and entitlements)."""

    __tablename__ = "plan_overrides"

    tier: Mapped[str] = mapped_column(String(16), primary_key=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
