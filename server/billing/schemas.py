"""Request and response models of the billing, referral, partner, flag and plan endpoints."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from engine.flags import NAME_PATTERN
from server.schemas import NoControl, Strict

Tier = Literal["free", "basic", "pro"]
PaidTier = Literal["basic", "pro"]
Period = Literal["monthly", "yearly"]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=16,
                                        pattern=r"^[A-Za-z0-9]+$"), NoControl]


class PlanOut(BaseModel):
    tier: Tier
    name: str
    monthly_cents: int
    yearly_cents: int
    entitlements: dict[str, bool | int]


class EntitlementInfo(BaseModel):
    key: str
    label: str
    kind: Literal["bool", "limit"]
    description: str
    unit: str
    lower_is_better: bool


class PlansOut(BaseModel):
    plans: list[PlanOut]
    entitlements: list[EntitlementInfo]
    provider: str


class EntitlementsOut(BaseModel):
    tier: Tier
    entitlements: dict[str, bool | int]
    flags: dict[str, bool]
    plans: list[PlanOut]
    period_end: str | None
    fetched_at: str
    #: days the app may use this answer offline
    grace_days: int


class SubscribeIn(Strict):
    tier: PaidTier
    period: Period = "monthly"


class SubscriptionOut(BaseModel):
    tier: Tier
    #: the subscription behind the tier (none on Free)
    status: str | None
    period: Period | None
    provider: str | None
    renewal_at: dt.datetime | None
    cancel_at_period_end: bool
    pending_plan: str
    #: a subscription waiting for the user's approval in the browser
    approval_pending: bool


class ApprovalOut(BaseModel):
    approval_url: str
    status: str


class InvoiceOut(BaseModel):
    id: int
    paid_at: dt.datetime
    tier: str
    amount_cents: int
    refunded_cents: int
    net_cents: int
    currency: str


class WebhookAck(BaseModel):
    status: str


class LedgerOut(BaseModel):
    id: int
    created_at: dt.datetime
    kind: str
    amount_cents: int
    bps: int
    paid: bool
    referred: str


class ReferralOut(BaseModel):
    code: str
    link: str
    referred_count: int
    referred_by: bool
    earned_cents: int
    unpaid_cents: int
    paid_cents: int
    ledger: list[LedgerOut]


class ApplyReferralIn(Strict):
    code: Code


class PartnerDashboardOut(BaseModel):
    partner: bool
    commission_bps: int
    customers: int
    paying_customers: int
    earned_cents: int
    pending_cents: int
    paid_cents: int
    reversed_cents: int


class PartnerIn(Strict):
    commission_bps: int = Field(5000, ge=0, le=10000)
    active: bool = True


class PartnerOut(BaseModel):
    user_id: int
    commission_bps: int
    active: bool


class PayoutOut(BaseModel):
    user_id: int
    paid_cents: int
    entries: int


class FlagIn(Strict):
    description: Annotated[str, StringConstraints(max_length=200), NoControl] = ""
    enabled: bool = True
    percentage_bps: int = Field(10000, ge=0, le=10000)
    tiers: list[Tier] = Field(default_factory=list, max_length=3)
    users: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(default_factory=list, max_length=1000)


class FlagOut(BaseModel):
    name: str
    description: str
    enabled: bool
    percentage_bps: int
    tiers: list[str]
    users: list[int]
    updated_at: dt.datetime


class FlagsMeOut(BaseModel):
    tier: Tier
    flags: dict[str, bool]


class PlanIn(Strict):
    monthly_cents: int = Field(ge=0, le=10_000_000)
    yearly_cents: int = Field(ge=0, le=100_000_000)
    entitlements: dict[Annotated[str, StringConstraints(max_length=40)], bool | int] = Field(
        default_factory=dict, max_length=40)


FlagName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
