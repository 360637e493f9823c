"""Referral rewards and partner commissions, in integer cents.

* A *partner* (enrolled by an admin) earns ``commission_bps`` (5000 = 50 %) of every paid
  invoice of each customer they referred, for as long as the customer pays.
* Any other referrer earns a one-time reward of ``REWARD_BPS`` of the referred customer's
  first paid invoice.
* A refund reverses the matching share (a negative entry), also when the entry was paid out
  already (it then comes off the next payout).

Rounding rule: the share of an invoice is ``floor(net * bps / 10000)`` of its *net* amount
(paid minus refunded so far), per invoice; an entry is the difference between that target and
what the invoice has earned already. So for every invoice the entries sum to exactly
``floor(net * bps / 10000)`` (a half cent goes to the house), whatever the order and size of its
refunds -- never a cent lost or made by rounding each refund on its own."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.billing.models import Invoice, LedgerEntry, Partner, Referral

REWARD_BPS = 5000


def share_cents(net_cents: int, bps: int) -> int:
    """``floor(net * bps / 10000)`` for net >= 0 (integer arithmetic)."""
    if net_cents < 0 or not 0 <= bps <= 10000:
        raise ValueError("net >= 0 and bps 0..10000")
    return net_cents * bps // 10000


def _earned(db: Session, invoice_id: int) -> tuple[int, int | None, int | None]:
    """(sum so far, the referrer, the bps) of an invoice's entries."""
    row = db.execute(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0), func.min(LedgerEntry.user_id),
                            func.min(LedgerEntry.bps)).where(LedgerEntry.invoice_id == invoice_id)).one()
    return int(row[0]), row[1], row[2]


def on_invoice_paid(db: Session, invoice: Invoice) -> LedgerEntry | None:
    """The commission or reward an invoice earns its customer's referrer (None: none)."""
    referral = db.execute(select(Referral).where(Referral.referred_id == invoice.user_id)).scalar_one_or_none()
    if referral is None:
        return None
    partner = db.get(Partner, referral.referrer_id)
    if partner is not None and partner.active:
        bps, kind = partner.commission_bps, "commission"
    else:
        earlier = db.execute(select(func.count()).select_from(Invoice).where(
            Invoice.user_id == invoice.user_id, Invoice.id != invoice.id)).scalar_one()
        if earlier:
            return None
        bps, kind = REWARD_BPS, "reward"
    amount = share_cents(invoice.net_cents, bps)
    if amount <= 0:
        return None
    entry = LedgerEntry(user_id=referral.referrer_id, referred_id=invoice.user_id, invoice_id=invoice.id,
                        kind=kind, amount_cents=amount, bps=bps, paid=False)
    db.add(entry)
    return entry


def on_invoice_refunded(db: Session, invoice: Invoice) -> LedgerEntry | None:
    """After ``invoice.refunded_cents`` went up: the reversal that brings the invoice's entries
    to its share of the new net (None when it earned nothing)."""
    earned, referrer, bps = _earned(db, invoice.id)
    if referrer is None or bps is None:
        return None
    delta = share_cents(invoice.net_cents, bps) - earned
    if delta == 0:
        return None
    entry = LedgerEntry(user_id=referrer, referred_id=invoice.user_id, invoice_id=invoice.id,
                        kind="reversal", amount_cents=delta, bps=bps, paid=False)
    db.add(entry)
    return entry
