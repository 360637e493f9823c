"""Plans, subscriptions, invoices, webhooks, entitlements, flags, referrals and partners
(issue 17), and their admin endpoints. See ``server/billing/`` and ``server/entitlements.py``.

* ``POST /billing/subscription`` creates the subscription at the provider and answers the URL
  where the user approves it (the app opens it in the system browser); nothing is granted
  until the provider's verified webhook says ACTIVATED.
* ``POST /billing/webhooks/{paypal,sandbox}`` take the provider's deliveries: verified first
  (``provider.verify``), refused with 400 ``bad_signature`` and an audit entry otherwise,
  then applied once and in order (``server/billing/webhooks.py``)."""
from __future__ import annotations

import csv
import html
import io
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from engine.flags import NAME_PATTERN
from engine.plans import ENTITLEMENTS, check_value
from server import entitlements as ents
from server import ratelimit
from server.billing import referrals as refs
from server.billing import webhooks
from server.billing.models import (
    FeatureFlag, Invoice, LedgerEntry, Partner, PlanOverride, Referral, Subscription,
)
from server.billing.paypal import PayPalProvider
from server.billing.provider import BillingProvider, ProviderError, WebhookRefused, split_key
from server.billing.sandbox import Delivery, SandboxProvider
from server.billing.schemas import (
    ApplyReferralIn, ApprovalOut, EntitlementInfo, EntitlementsOut, FlagIn, FlagOut, FlagsMeOut,
    InvoiceOut, LedgerOut, PartnerDashboardOut, PartnerIn, PartnerOut, PayoutOut, PlanIn, PlanOut,
    PlansOut, ReferralOut, SubscribeIn, SubscriptionOut, WebhookAck,
)
from server.config import Settings
from server.deps import AdminUser, CurrentUser, Db, ObjectId, State, audit, client_ip
from server.errors import ERROR_RESPONSES, ApiError
from server.models import User, aware, utcnow

log = logging.getLogger("stockscanner.server.billing")

router = APIRouter(tags=["billing"], responses=ERROR_RESPONSES)

#: days the app may keep using the last entitlements it fetched while offline
GRACE_DAYS = 7
MAX_WEBHOOK_BYTES = 64 * 1024


# --- the provider -------------------------------------------------------------------------

def build_provider(settings: Settings) -> BillingProvider | None:
    kind = settings.billing_provider or ("" if settings.production else "sandbox")
    if kind == "sandbox":
        return SandboxProvider(settings.secret_key, settings.public_url)
    if kind == "paypal":
        return PayPalProvider(settings.paypal_client_id, settings.paypal_client_secret, settings.paypal_webhook_id,
                              settings.paypal_api_base, settings.paypal_plans, settings.paypal_verify,
                              settings.paypal_cert_hosts)
    return None


def get_provider(request: Request, st: State) -> BillingProvider | None:
    """The app's provider (``app.state.billing_provider``, built from the settings on first use)."""
    app_state = request.app.state
    if not getattr(app_state, "billing_provider_ready", False):
        if getattr(app_state, "billing_provider", None) is None:
            app_state.billing_provider = build_provider(st.settings)
        app_state.billing_provider_ready = True
    provider: BillingProvider | None = app_state.billing_provider
    return provider


Provider = Annotated[BillingProvider | None, Depends(get_provider)]


def _need(provider: BillingProvider | None) -> BillingProvider:
    if provider is None:
        raise ApiError(409, "billing_unavailable", "Billing is not configured on this service.")
    return provider


# --- plans and entitlements ---------------------------------------------------------------

def _plans_out(db: Session) -> list[PlanOut]:
    return [PlanOut(**ents.plan_out(p)) for p in ents.plans(db).values()]


@router.get("/billing/plans", response_model=PlansOut)
def list_plans(db: Db, provider: Provider) -> PlansOut:
    """The tiers, their prices in cents and entitlements (public: the app shows them signed out)."""
    return PlansOut(plans=_plans_out(db), provider=provider.name if provider else "",
                    entitlements=[EntitlementInfo(key=e.key, label=e.label, kind=e.kind,
                                                  description=e.description, unit=e.unit,
                                                  lower_is_better=e.lower_is_better)
                                  for e in ENTITLEMENTS.values()])


@router.get("/entitlements/me", response_model=EntitlementsOut)
def my_entitlements(user: CurrentUser, db: Db) -> EntitlementsOut:
    """The caller's tier, entitlements, evaluated flags and every plan (for "available on
    Pro"); the app caches it and keeps using it offline for ``grace_days``."""
    return EntitlementsOut(**ents.snapshot(db, user), grace_days=GRACE_DAYS)


@router.get("/flags/me", response_model=FlagsMeOut)
def my_flags(user: CurrentUser, db: Db) -> FlagsMeOut:
    tier = ents.tier_of(db, user.id)
    from engine.flags import evaluate_all

    return FlagsMeOut(tier=tier, flags=evaluate_all(ents.flags(db), user.id, tier))


# --- subscriptions ------------------------------------------------------------------------

def _pending(db: Session, user_id: int) -> Subscription | None:
    return db.execute(select(Subscription).where(Subscription.user_id == user_id,
                                                 Subscription.status == "APPROVAL_PENDING")
                      .order_by(Subscription.id.desc()).limit(1)).scalar_one_or_none()


def _subscription_out(db: Session, user: User) -> SubscriptionOut:
    sub = ents.current_subscription(db, user.id)
    if sub is None:
        return SubscriptionOut(tier="free", status=None, period=None, provider=None, renewal_at=None,
                               cancel_at_period_end=False, pending_plan="",
                               approval_pending=_pending(db, user.id) is not None)
    return SubscriptionOut(tier=sub.tier, status=sub.status, period=sub.period,
                           provider=sub.provider,
                           renewal_at=aware(sub.period_end) if sub.period_end else None,
                           cancel_at_period_end=sub.cancel_at_period_end, pending_plan=sub.pending_plan,
                           approval_pending=_pending(db, user.id) is not None)


@router.get("/billing/subscription", response_model=SubscriptionOut)
def get_subscription(user: CurrentUser, db: Db) -> SubscriptionOut:
    """The caller's plan: tier, status, renewal date, cancel at period end, a pending change."""
    return _subscription_out(db, user)


def _return_urls(st: Any) -> tuple[str, str]:
    base = st.settings.public_url.rstrip("/")
    return f"{base}/billing/return", f"{base}/billing/return?cancelled=1"


@router.post("/billing/subscription", response_model=ApprovalOut)
def subscribe(body: SubscribeIn, user: CurrentUser, db: Db, st: State, provider: Provider,
              request: Request) -> ApprovalOut:
    """Start a subscription to ``tier``/``period``: the answer's ``approval_url`` is where the
    user approves it at the provider. The tier applies when the provider confirms (webhook)."""
    p = _need(provider)
    if ents.current_subscription(db, user.id) is not None:
        raise ApiError(409, "conflict", "You already have a subscription; change its plan instead.")
    price = ents.plans(db)[body.tier].price_cents(body.period)
    ok, cancel = _return_urls(st)
    try:
        created = p.create_subscription(body.tier, body.period, f"user:{user.id}", price, ok, cancel)
    except ProviderError as exc:
        raise ApiError(409, "provider_error", str(exc)) from None
    db.add(Subscription(user_id=user.id, provider=p.name, provider_id=created.provider_id, tier=body.tier,
                        period=body.period, status=created.status))
    audit(db, "billing.subscription_started", user_id=user.id, ip=client_ip(request),
          plan=f"{body.tier}-{body.period}", provider=p.name)
    db.commit()
    return ApprovalOut(approval_url=created.approval_url, status=created.status)


@router.post("/billing/subscription/change", response_model=ApprovalOut)
def change_plan(body: SubscribeIn, user: CurrentUser, db: Db, provider: Provider, request: Request) -> ApprovalOut:
    """Upgrade or downgrade: the provider revises the subscription (and prorates as it does;
    PayPal charges the new price from the next billing cycle) once the user approves."""
    p = _need(provider)
    sub = ents.current_subscription(db, user.id)
    if sub is None or sub.status != "ACTIVE":
        raise ApiError(409, "conflict", "There is no active subscription to change; subscribe first.")
    if (sub.tier, sub.period) == (body.tier, body.period):
        raise ApiError(409, "conflict", "The subscription is on that plan already.")
    try:
        url = p.revise(sub.provider_id, body.tier, body.period,
                       ents.plans(db)[body.tier].price_cents(body.period))
    except ProviderError as exc:
        raise ApiError(409, "provider_error", str(exc)) from None
    sub.pending_plan = f"{body.tier}-{body.period}"
    audit(db, "billing.plan_change_requested", user_id=user.id, ip=client_ip(request), plan=sub.pending_plan)
    db.commit()
    return ApprovalOut(approval_url=url, status="APPROVAL_PENDING")


@router.post("/billing/subscription/cancel", response_model=SubscriptionOut)
def cancel(user: CurrentUser, db: Db, st: State, provider: Provider, request: Request) -> SubscriptionOut:
    """Cancel at the end of the period paid for: the tier stays until the renewal date."""
    p = _need(provider)
    sub = ents.current_subscription(db, user.id)
    if sub is None or sub.status != "ACTIVE":
        raise ApiError(409, "conflict", "There is no active subscription to cancel.")
    try:
        p.cancel(sub.provider_id, "Cancelled by the customer in Stock Scanner")
    except ProviderError as exc:
        raise ApiError(409, "provider_error", str(exc)) from None
    sub.cancel_at_period_end = True
    audit(db, "billing.cancelled", user_id=user.id, ip=client_ip(request), provider_id=sub.provider_id)
    db.commit()
    if isinstance(p, SandboxProvider):
        _deliver(st, p, p.subscription_event("BILLING.SUBSCRIPTION.CANCELLED", sub.provider_id,
                                             f"{sub.tier}-{sub.period}", "CANCELLED", utcnow()))
    db.expire_all()
    return _subscription_out(db, user)


@router.get("/billing/invoices", response_model=list[InvoiceOut])
def invoices(user: CurrentUser, db: Db) -> list[InvoiceOut]:
    rows = db.execute(select(Invoice).where(Invoice.user_id == user.id)
                      .order_by(Invoice.paid_at.desc(), Invoice.id.desc()).limit(500)).scalars()
    return [InvoiceOut(id=i.id, paid_at=aware(i.paid_at), tier=i.tier, amount_cents=i.amount_cents,
                       refunded_cents=i.refunded_cents, net_cents=i.net_cents, currency=i.currency) for i in rows]


# --- webhooks -----------------------------------------------------------------------------

async def raw_body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise ApiError(413, "body_too_large", "The webhook body is too large.")
    return body


RawBody = Annotated[bytes, Depends(raw_body)]


#: refused webhooks from one address before it is blocked for the rest of the window
WEBHOOK_FAILURES_PER_WINDOW = 50


def _webhook(name: str, request: Request, body: bytes, db: Session, provider: BillingProvider | None,
             st: Any) -> WebhookAck:
    if provider is None or provider.name != name:
        raise ApiError(404, "not_found", f"The {name} webhook is not configured on this service.")
    limit_key = f"webhook:ip:{client_ip(request)}"
    ratelimit.check(db, limit_key)
    try:
        event = provider.verify(dict(request.headers), body)
    except (WebhookRefused, ProviderError) as exc:
        audit(db, "billing.webhook_refused", user_id=None, ip=client_ip(request), provider=name, reason=str(exc))
        db.commit()
        ratelimit.window_failure(db, limit_key, WEBHOOK_FAILURES_PER_WINDOW, st.settings.ip_window_s)
        log.warning("a %s webhook was refused: %s", name, exc)
        raise ApiError(400, "bad_signature", "The webhook's signature does not verify; nothing was changed.") from None
    return WebhookAck(status=webhooks.record(db, provider, event))


@router.post("/billing/webhooks/paypal", response_model=WebhookAck)
def paypal_webhook(request: Request, body: RawBody, db: Db, st: State, provider: Provider) -> WebhookAck:
    """PayPal's webhook deliveries (verified before anything is applied)."""
    return _webhook("paypal", request, body, db, provider, st)


@router.post("/billing/webhooks/sandbox", response_model=WebhookAck)
def sandbox_webhook(request: Request, body: RawBody, db: Db, st: State, provider: Provider) -> WebhookAck:
    """The sandbox provider's deliveries (signed the same way; development only)."""
    return _webhook("sandbox", request, body, db, provider, st)


def _deliver(st: Any, provider: BillingProvider, delivery: Delivery) -> str:
    """Hand a sandbox delivery to the webhook path (verified like one from outside)."""
    event = provider.verify(delivery.headers, delivery.body)
    with st.sessions() as db:
        return webhooks.record(db, provider, event)


@router.get("/billing/sandbox/approve", response_model=None,
            responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}})
def sandbox_approve(st: State, provider: Provider,
                    token: Annotated[str, Query(min_length=8, max_length=400)]) -> HTMLResponse:
    """The sandbox's approval page (the system browser opens it): approving a new
    subscription sends ACTIVATED and the first PAYMENT.SALE.COMPLETED; approving a change
    sends UPDATED with the new plan (charged from the next cycle, as PayPal does)."""
    if not isinstance(provider, SandboxProvider):
        raise ApiError(404, "not_found", "The sandbox is not this service's billing provider.")
    found = provider.read_approval(token)
    if found is None:
        raise ApiError(404, "not_found", "This approval link is not valid.")
    provider_id, plan = found
    with st.sessions() as db:
        sub = db.execute(select(Subscription).where(Subscription.provider_id == provider_id)).scalar_one_or_none()
        if sub is None:
            raise ApiError(404, "not_found", "This approval link is not valid.")
        status, current, period_end = sub.status, f"{sub.tier}-{sub.period}", sub.period_end
    now = utcnow()
    tier, period = split_key(plan) or ("basic", "monthly")
    if status == "APPROVAL_PENDING":
        with st.sessions() as db:
            price = ents.plans(db)[tier].price_cents(period)
        _deliver(st, provider, provider.subscription_event(
            "BILLING.SUBSCRIPTION.ACTIVATED", provider_id, plan, "ACTIVE", now,
            webhooks.add_period(now, period)))
        _deliver(st, provider, provider.sale_completed(provider_id, "SALE-" + provider_id[9:] + "-1", price, now))
        message = "Your subscription is active."
    elif status == "ACTIVE" and plan != current:
        _deliver(st, provider, provider.subscription_event(
            "BILLING.SUBSCRIPTION.UPDATED", provider_id, plan, "ACTIVE", now,
            aware(period_end) if period_end else None))
        message = "Your plan was changed."
    else:
        message = "Nothing to approve: this link was used already."
    page = (f"<!doctype html><title>Stock Scanner sandbox</title><h1>Sandbox payment</h1>"
            f"<p>{html.escape(message)} You can return to Stock Scanner.</p>")
    return HTMLResponse(page)


@router.get("/billing/return", response_model=None,
            responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}})
def provider_return(cancelled: Annotated[int, Query(ge=0, le=1)] = 0) -> HTMLResponse:
    """Where the provider sends the browser back after the approval page (``return_url`` /
    ``cancel_url``). Nothing is granted here: the tier follows the provider's verified webhook."""
    text = ("You left the payment page without subscribing." if cancelled else
            "Thank you: your subscription starts as soon as PayPal confirms it (usually within a minute).")
    return HTMLResponse(f"<!doctype html><title>Stock Scanner</title><h1>Stock Scanner</h1><p>{text} "
                        "You can close this page and return to the app.</p>")


# --- referrals and partners ---------------------------------------------------------------

@router.get("/signup", response_model=None,
            responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}})
def signup_page(ref: Annotated[str, Query(max_length=16, pattern=r"^[A-Za-z0-9]*$")] = "") -> HTMLResponse:
    """Where a shared referral link lands: how to sign up with the code."""
    code = html.escape(ref.upper())
    how = (f"<p>Your friend's referral code is <b>{code}</b>. Install Stock Scanner, sign up (Account menu), "
           f"then enter the code under Account → Subscription → Referrals within 30 days.</p>") if code else ""
    return HTMLResponse("<!doctype html><title>Stock Scanner</title><h1>Stock Scanner</h1>"
                        "<p>Charts, scanner, paper trading and a journal, free on your desktop.</p>" + how)


def _ledger(db: Session, user_id: int) -> list[LedgerEntry]:
    return list(db.execute(select(LedgerEntry).where(LedgerEntry.user_id == user_id)
                           .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())).scalars())


def _masked(db: Session, user_id: int | None) -> str:
    """A referred customer as the referrer sees them: ``j***@example.com``."""
    user = db.get(User, user_id) if user_id else None
    if user is None:
        return "(deleted account)"
    local, _, domain = user.email.partition("@")
    return f"{local[:1]}***@{domain}"


def _ledger_out(db: Session, e: LedgerEntry) -> LedgerOut:
    return LedgerOut(id=e.id, created_at=aware(e.created_at), kind=e.kind, amount_cents=e.amount_cents,
                     bps=e.bps, paid=e.paid, referred=_masked(db, e.referred_id))


@router.get("/referrals/me", response_model=ReferralOut)
def my_referrals(user: CurrentUser, db: Db, st: State) -> ReferralOut:
    """The caller's code and link, how many signed up with it, and the rewards ledger."""
    code = refs.code_of(db, user.id)
    entries = _ledger(db, user.id)
    count = db.execute(select(func.count()).select_from(Referral).where(Referral.referrer_id == user.id)).scalar_one()
    referred_by = db.execute(select(Referral.id).where(Referral.referred_id == user.id)).first() is not None
    return ReferralOut(code=code, link=f"{st.settings.public_url.rstrip('/')}/signup?ref={code}",
                       referred_count=count, referred_by=referred_by,
                       earned_cents=sum(e.amount_cents for e in entries),
                       unpaid_cents=sum(e.amount_cents for e in entries if not e.paid),
                       paid_cents=sum(e.amount_cents for e in entries if e.paid),
                       ledger=[_ledger_out(db, e) for e in entries[:200]])


@router.post("/referrals/apply", response_model=ReferralOut)
def apply_referral(body: ApplyReferralIn, user: CurrentUser, db: Db, st: State, request: Request) -> ReferralOut:
    """Apply someone's code to the caller's account (within 30 days of signing up, once)."""
    try:
        refs.apply(db, user, body.code)
    except refs.ReferralProblem as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    audit(db, "referral.applied", user_id=user.id, ip=client_ip(request))
    db.commit()
    return my_referrals(user, db, st)


def _dashboard(db: Session, user_id: int) -> PartnerDashboardOut:
    partner = db.get(Partner, user_id)
    entries = _ledger(db, user_id)
    customers = db.execute(select(func.count()).select_from(Referral).where(Referral.referrer_id == user_id)).scalar_one()
    paying = db.execute(select(func.count(func.distinct(Invoice.user_id))).select_from(Invoice).join(
        Referral, Referral.referred_id == Invoice.user_id).where(Referral.referrer_id == user_id)).scalar_one()
    return PartnerDashboardOut(
        partner=partner is not None and partner.active,
        commission_bps=partner.commission_bps if partner else 0, customers=customers, paying_customers=paying,
        earned_cents=sum(e.amount_cents for e in entries),
        pending_cents=sum(e.amount_cents for e in entries if not e.paid),
        paid_cents=sum(e.amount_cents for e in entries if e.paid),
        reversed_cents=-sum(e.amount_cents for e in entries if e.amount_cents < 0))


@router.get("/partners/me", response_model=PartnerDashboardOut)
def partner_dashboard(user: CurrentUser, db: Db) -> PartnerDashboardOut:
    """Earned (net of reversals), pending (not paid out yet) and paid, in cents."""
    return _dashboard(db, user.id)


CSV_COLUMNS = ("date", "kind", "customer", "share_percent", "amount", "status")


def safe_cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP CSV injection): a leading
    ``= + - @`` tab or CR gets a ``'``."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def ledger_csv(rows: list[LedgerOut]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        sign = "-" if r.amount_cents < 0 else ""
        writer.writerow([r.created_at.date().isoformat(), r.kind, safe_cell(r.referred), f"{r.bps / 100:g}",
                         f"{sign}{abs(r.amount_cents) // 100}.{abs(r.amount_cents) % 100:02d}",
                         "paid" if r.paid else "unpaid"])
    return out.getvalue()


@router.get("/partners/me/commissions.csv", response_model=None,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def partner_csv(user: CurrentUser, db: Db) -> Response:
    """The caller's whole ledger as CSV (amounts in dollars with two decimals)."""
    text = ledger_csv([_ledger_out(db, e) for e in _ledger(db, user.id)])
    return Response(text, media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="commissions.csv"'})


# --- admin: partners, flags, plans --------------------------------------------------------

def _user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise ApiError(404, "not_found", "No such user.")
    return user


@router.put("/admin/partners/{user_id}", response_model=PartnerOut, tags=["admin"])
def set_partner(user_id: ObjectId, body: PartnerIn, admin: AdminUser, db: Db, request: Request) -> PartnerOut:
    """Enroll (or update, or deactivate) a partner."""
    _user(db, user_id)
    partner = db.get(Partner, user_id)
    if partner is None:
        partner = Partner(user_id=user_id)
        db.add(partner)
    partner.commission_bps, partner.active = body.commission_bps, body.active
    audit(db, "admin.partner_set", user_id=user_id, actor_id=admin.id, ip=client_ip(request),
          commission_bps=body.commission_bps, active=body.active)
    db.commit()
    return PartnerOut(user_id=user_id, commission_bps=partner.commission_bps, active=partner.active)


@router.post("/admin/partners/{user_id}/payout", response_model=PayoutOut, tags=["admin"])
def payout(user_id: ObjectId, admin: AdminUser, db: Db, request: Request) -> PayoutOut:
    """Mark the user's unpaid entries paid (after paying out their sum outside the service).
    Refused when the unpaid sum is not positive (reversals waiting for more earnings)."""
    _user(db, user_id)
    unpaid = [e for e in _ledger(db, user_id) if not e.paid]
    total = sum(e.amount_cents for e in unpaid)
    if total <= 0:
        raise ApiError(409, "conflict", "Nothing to pay out: the unpaid balance is not positive.")
    now = utcnow()
    db.execute(update(LedgerEntry).where(LedgerEntry.id.in_([e.id for e in unpaid])).values(paid=True, paid_at=now))
    audit(db, "admin.partner_payout", user_id=user_id, actor_id=admin.id, ip=client_ip(request), cents=total)
    db.commit()
    return PayoutOut(user_id=user_id, paid_cents=total, entries=len(unpaid))


def _flag_out(f: FeatureFlag) -> FlagOut:
    return FlagOut(name=f.name, description=f.description, enabled=f.enabled, percentage_bps=f.percentage_bps,
                   tiers=json.loads(f.tiers), users=json.loads(f.users), updated_at=aware(f.updated_at))


FlagPath = Annotated[str, Path(pattern=NAME_PATTERN, description="the flag's name")]
TierPath = Annotated[str, Path(pattern=r"^(free|basic|pro)$", description="free, basic or pro")]


@router.get("/admin/flags", response_model=list[FlagOut], tags=["admin"])
def list_flags(admin: AdminUser, db: Db) -> list[FlagOut]:
    return [_flag_out(f) for f in db.execute(select(FeatureFlag).order_by(FeatureFlag.name)).scalars()]


@router.put("/admin/flags/{name}", response_model=FlagOut, tags=["admin"])
def put_flag(name: FlagPath, body: FlagIn, admin: AdminUser, db: Db, request: Request) -> FlagOut:
    """Create or change a flag (evaluated by ``engine.flags.evaluate``)."""
    flag = db.get(FeatureFlag, name)
    before = _flag_out(flag).model_dump(mode="json", exclude={"updated_at"}) if flag else None
    if flag is None:
        flag = FeatureFlag(name=name)
        db.add(flag)
    flag.description, flag.enabled, flag.percentage_bps = body.description, body.enabled, body.percentage_bps
    flag.tiers, flag.users = json.dumps(sorted(set(body.tiers))), json.dumps(sorted(set(body.users)))
    flag.updated_at = utcnow()
    audit(db, "admin.flag_set", user_id=None, actor_id=admin.id, ip=client_ip(request), flag=name,
          before=before, after=body.model_dump(mode="json"))
    db.commit()
    return _flag_out(flag)


@router.delete("/admin/flags/{name}", response_model=FlagOut, tags=["admin"])
def delete_flag(name: FlagPath, admin: AdminUser, db: Db, request: Request) -> FlagOut:
    flag = db.get(FeatureFlag, name)
    if flag is None:
        raise ApiError(404, "not_found", "No such flag.")
    out = _flag_out(flag)
    db.delete(flag)
    audit(db, "admin.flag_deleted", user_id=None, actor_id=admin.id, ip=client_ip(request), flag=name)
    db.commit()
    return out


@router.get("/admin/plans", response_model=list[PlanOut], tags=["admin"])
def admin_plans(admin: AdminUser, db: Db) -> list[PlanOut]:
    return _plans_out(db)


@router.put("/admin/plans/{tier}", response_model=PlanOut, tags=["admin"])
def put_plan(tier: TierPath, body: PlanIn, admin: AdminUser, db: Db, request: Request) -> PlanOut:
    """Change a tier's prices (cents) and entitlements (merged over ``engine.plans.PLANS``)."""
    if tier == "free" and (body.monthly_cents or body.yearly_cents):
        raise ApiError(422, "invalid_request", "The Free tier has no price.")
    try:
        for key, value in body.entitlements.items():
            check_value(key, value)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
    row = db.get(PlanOverride, tier)
    before = json.loads(row.data) if row else None
    if row is None:
        row = PlanOverride(tier=tier)
        db.add(row)
    row.data, row.updated_at = json.dumps(body.model_dump(mode="json"), sort_keys=True), utcnow()
    audit(db, "admin.plan_set", user_id=None, actor_id=admin.id, ip=client_ip(request), tier=tier,
          before=before, after=body.model_dump(mode="json"))
    db.commit()
    return PlanOut(**ents.plan_out(ents.plans(db)[tier]))


@router.delete("/admin/plans/{tier}", response_model=PlanOut, tags=["admin"])
def reset_plan(tier: TierPath, admin: AdminUser, db: Db, request: Request) -> PlanOut:
    """Drop the override: the tier is ``engine.plans.PLANS``' again."""
    db.execute(delete(PlanOverride).where(PlanOverride.tier == tier))
    audit(db, "admin.plan_reset", user_id=None, actor_id=admin.id, ip=client_ip(request), tier=tier)
    db.commit()
    return PlanOut(**ents.plan_out(ents.plans(db)[tier]))


