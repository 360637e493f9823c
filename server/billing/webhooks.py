"""Webhook handling: verify, then apply once, in order.

1. ``provider.verify`` checks the signature before anything is read from the event; a refusal
   changes nothing and is written to the audit log (``billing.webhook_refused``).
2. The event id is stored (``billing_webhook_events``, unique per provider) in the same
   transaction as its effect: a redelivered event is acknowledged and not applied again.
3. Subscription events carry the provider's time of the change (``status_update_time``, else
   the event's ``create_time``): an event older than the last change applied is recorded as
   ``stale`` and changes nothing, and CANCELLED / EXPIRED are final (PayPal cannot reactivate
   them), so a late ACTIVATED never undoes a CANCELLED.
4. An account has one billing subscription: one activated while another is live is
   cancelled at the provider at once (``_cancel_if_second``).
5. Event types we do not handle are logged and acknowledged (``unknown``), so the provider
   stops retrying them."""
from __future__ import annotations

import calendar
import datetime as dt
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.billing import commissions
from server.billing.models import Invoice, Refund, Subscription, WebhookEvent
from server.billing.provider import BillingProvider, ProviderError
from server.deps import audit
from server.models import aware

log = logging.getLogger("stockscanner.server.billing")

STATUS_OF = {"BILLING.SUBSCRIPTION.ACTIVATED": "ACTIVE", "BILLING.SUBSCRIPTION.SUSPENDED": "SUSPENDED",
             "BILLING.SUBSCRIPTION.CANCELLED": "CANCELLED", "BILLING.SUBSCRIPTION.EXPIRED": "EXPIRED",
             "BILLING.SUBSCRIPTION.RE-ACTIVATED": "ACTIVE", "BILLING.SUBSCRIPTION.UPDATED": ""}
FINAL = frozenset({"CANCELLED", "EXPIRED"})
HANDLED = frozenset(STATUS_OF) | {"PAYMENT.SALE.COMPLETED", "PAYMENT.SALE.REFUNDED"}


class BadEvent(ValueError):
    """A verified event whose content we cannot use (logged, acknowledged as ``invalid``)."""


def parse_time(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return aware(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def cents(amount: object) -> int:
    """PayPal's ``{"total": "9.99"}`` (or ``{"value": ...}``) as integer cents, exactly."""
    if not isinstance(amount, dict):
        raise BadEvent("no amount")
    raw = amount.get("total", amount.get("value"))
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise BadEvent(f"amount {raw!r} is not a number") from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise BadEvent(f"amount {raw!r} is not a whole number of cents")
    return int(value * 100)


def add_period(t: dt.datetime, period: str) -> dt.datetime:
    """``t`` plus one month (clamped to the month's last day) or one year."""
    if period == "yearly":
        try:
            return t.replace(year=t.year + 1)
        except ValueError:
            return t.replace(year=t.year + 1, day=28)
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return t.replace(year=year, month=month, day=min(t.day, calendar.monthrange(year, month)[1]))


def record(db: Session, provider: BillingProvider, event: dict[str, Any]) -> str:
    """Apply a *verified* event once; the outcome: applied / duplicate / stale / unknown /
    orphan / invalid. Commits."""
    event_id = str(event.get("id") or "")[:64]
    event_type = str(event.get("event_type") or "")[:64]
    if not event_id:
        log.warning("a verified %s webhook without an id was ignored", event_type)
        return "invalid"
    seen = db.execute(select(WebhookEvent.id).where(WebhookEvent.provider == provider.name,
                                                    WebhookEvent.event_id == event_id)).first()
    if seen is not None:
        return "duplicate"
    try:
        outcome = _apply(db, provider, event_type, event)
    except BadEvent as exc:
        db.rollback()
        log.warning("webhook %s (%s) could not be used: %s", event_id, event_type, exc)
        outcome = "invalid"
    if outcome == "unknown":
        log.info("webhook %s of unhandled type %s acknowledged", event_id, event_type)
    db.add(WebhookEvent(provider=provider.name, event_id=event_id, event_type=event_type, outcome=outcome))
    try:
        db.commit()
    except IntegrityError:  # the same event delivered twice at once: the other one applied it
        db.rollback()
        return "duplicate"
    return outcome


def _apply(db: Session, provider: BillingProvider, event_type: str, event: dict[str, Any]) -> str:
    resource = event.get("resource")
    if event_type not in HANDLED:
        return "unknown"
    if not isinstance(resource, dict):
        raise BadEvent("no resource")
    if event_type in STATUS_OF:
        return _subscription(db, provider, event_type, event, resource)
    if event_type == "PAYMENT.SALE.COMPLETED":
        return _sale(db, resource, event)
    return _refund(db, resource, event)


def _subscription(db: Session, provider: BillingProvider, event_type: str, event: dict[str, Any],
                  resource: dict[str, Any]) -> str:
    sub = db.execute(select(Subscription).where(
        Subscription.provider_id == str(resource.get("id") or ""))).scalar_one_or_none()
    if sub is None:
        return "orphan"
    at = parse_time(resource.get("status_update_time")) or parse_time(event.get("create_time"))
    if at is None:
        raise BadEvent("no time on the event")
    if sub.status_at is not None and at < aware(sub.status_at):
        return "stale"
    new_status = STATUS_OF[event_type] or str(resource.get("status") or sub.status).upper()
    if sub.status in FINAL and new_status not in FINAL:
        return "stale"
    plan = provider.plan_of(str(resource.get("plan_id") or ""))
    if plan is not None:
        sub.tier, sub.period = plan
        if sub.pending_plan == f"{plan[0]}-{plan[1]}":
            sub.pending_plan = ""
    billing = resource.get("billing_info")
    next_billing = parse_time(billing.get("next_billing_time")) if isinstance(billing, dict) else None
    if next_billing is not None:
        sub.period_end = next_billing
    activated = new_status == "ACTIVE" and sub.status != "ACTIVE"
    sub.status, sub.status_at = new_status, at
    if new_status == "CANCELLED":
        sub.cancel_at_period_end = True
    if activated:
        _cancel_if_second(db, provider, sub)
    return "applied"


def _cancel_if_second(db: Session, provider: BillingProvider, sub: Subscription) -> None:
    """One billing subscription per account. A user may start a second subscription while
    the first waits for approval (a new link after closing the browser, another plan) and
    then approve both at the provider. The one activated second is cancelled there at once:
    it keeps the period its first payment bought (cancel at period end), and nothing more is
    charged; the audit log names both so an administrator can refund that payment."""
    other = db.execute(select(Subscription).where(
        Subscription.user_id == sub.user_id, Subscription.id != sub.id,
        Subscription.status.in_(("ACTIVE", "SUSPENDED")),
        Subscription.cancel_at_period_end.is_(False))).scalars().first()
    if other is None:
        return
    try:
        provider.cancel(sub.provider_id, "A second subscription of the same Stock Scanner account")
    except ProviderError as exc:
        log.error("could not cancel the second subscription %s of user %s: %s",
                  sub.provider_id, sub.user_id, exc)
        audit(db, "billing.second_subscription_cancel_failed", user_id=sub.user_id,
              provider_id=sub.provider_id, kept=other.provider_id, reason=str(exc))
        return
    sub.status = "CANCELLED"
    sub.cancel_at_period_end = True
    audit(db, "billing.second_subscription_cancelled", user_id=sub.user_id,
          provider_id=sub.provider_id, kept=other.provider_id)


def _sale(db: Session, resource: dict[str, Any], event: dict[str, Any]) -> str:
    sale_id = str(resource.get("id") or "")[:64]
    sub = db.execute(select(Subscription).where(
        Subscription.provider_id == str(resource.get("billing_agreement_id") or ""))).scalar_one_or_none()
    if sub is None or not sale_id:
        return "orphan"
    if db.execute(select(Invoice.id).where(Invoice.provider_id == sale_id)).first() is not None:
        return "duplicate"
    paid_at = parse_time(resource.get("create_time")) or parse_time(event.get("create_time")) or aware(sub.created_at)
    currency = str((resource.get("amount") or {}).get("currency", "USD"))[:3]
    invoice = Invoice(user_id=sub.user_id, subscription_id=sub.id, provider_id=sale_id,
                      amount_cents=cents(resource.get("amount")), refunded_cents=0, currency=currency,
                      tier=sub.tier, paid_at=paid_at)
    db.add(invoice)
    db.flush()
    end = add_period(paid_at, sub.period)
    if sub.period_end is None or aware(sub.period_end) < end:
        sub.period_end = end
    commissions.on_invoice_paid(db, invoice)
    return "applied"


def _refund(db: Session, resource: dict[str, Any], event: dict[str, Any]) -> str:
    refund_id = str(resource.get("id") or "")[:64]
    invoice = db.execute(select(Invoice).where(
        Invoice.provider_id == str(resource.get("sale_id") or ""))).scalar_one_or_none()
    if invoice is None or not refund_id:
        return "orphan"
    if db.execute(select(Refund.id).where(Refund.provider_id == refund_id)).first() is not None:
        return "duplicate"
    amount = min(cents(resource.get("amount")), invoice.net_cents)
    at = parse_time(resource.get("create_time")) or parse_time(event.get("create_time"))
    db.add(Refund(invoice_id=invoice.id, provider_id=refund_id, amount_cents=amount,
                  **({"at": at} if at else {})))
    invoice.refunded_cents += amount
    db.flush()
    commissions.on_invoice_refunded(db, invoice)
    return "applied"
