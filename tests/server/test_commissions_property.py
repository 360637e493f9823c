"""Property: whatever the invoices, refunds, redeliveries and their order, a partner's
commissions sum to 50 % of the customers' net paid invoices, to the cent, under the rounding
rule of ``server/billing/commissions.py`` (per invoice, floor of half its net). Runs the real
webhook path (``server.billing.webhooks.record`` with signed sandbox events) on SQLite."""
from __future__ import annotations

import datetime as dt
import secrets

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from server.billing import webhooks
from server.billing.models import Invoice, LedgerEntry, Partner, Referral, Subscription
from server.billing.sandbox import SandboxProvider
from server.db import make_engine, session_factory
from server.models import Base, User

_DB: dict[str, object] = {}


def _sessions() -> object:
    """One in-memory database for every example (each example has its own partner and customer)."""
    if "sessions" not in _DB:
        engine = make_engine("sqlite:///:memory:")
        Base.metadata.create_all(engine)
        _DB.update(engine=engine, sessions=session_factory(engine), n=0)
    return _DB["sessions"]


invoice = st.tuples(st.integers(1, 500_000), st.lists(st.integers(1, 300_000), max_size=3), st.booleans())


@settings(max_examples=50, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.lists(invoice, min_size=1, max_size=6), st.integers(0, 2**16))
def test_commissions_are_half_of_net_paid_invoices_to_the_cent(invoices: list, seed: int) -> None:
    sessions = _sessions()
    _DB["n"] = n_ex = int(_DB["n"]) + 1  # type: ignore[call-overload]
    sb = SandboxProvider(secrets.token_urlsafe(32), "http://127.0.0.1:1")
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with sessions() as db:
        partner, customer = (User(email=f"p{n_ex}@x.io", password_hash="x"),
                              User(email=f"c{n_ex}@x.io", password_hash="x"))
        db.add_all([partner, customer])
        db.flush()
        db.add_all([Partner(user_id=partner.id, commission_bps=5000),
                    Referral(referrer_id=partner.id, referred_id=customer.id),
                    Subscription(user_id=customer.id, provider="sandbox", provider_id=f"I-P{n_ex}", tier="pro",
                                 period="monthly", status="ACTIVE")])
        db.commit()
    deliveries = []
    for n, (amount, refunds, redeliver) in enumerate(invoices):
        sale = sb.sale_completed(f"I-P{n_ex}", f"SALE-{n_ex}-{n}", amount, t0 + dt.timedelta(days=30 * n))
        deliveries.append(sale)
        if redeliver:
            deliveries.append(sale)
        for k, r in enumerate(refunds):
            refund = sb.sale_refunded(f"SALE-{n_ex}-{n}", f"REF-{n_ex}-{n}-{k}", r, t0 + dt.timedelta(days=30 * n, hours=k + 1))
            deliveries += [refund, refund] if redeliver else [refund]
    for d in deliveries:
        with sessions() as db:
            webhooks.record(db, sb, sb.verify(d.headers, d.body))
    with sessions() as db:
        nets = [i.net_cents for i in db.execute(select(Invoice).where(Invoice.user_id == customer.id)).scalars()]
        total = db.execute(select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
                           .where(LedgerEntry.user_id == partner.id)).scalar_one()
    expected_nets = []
    for amount, refunds, _ in invoices:
        net = amount
        for r in refunds:
            net -= min(r, net)
        expected_nets.append(net)
    assert sorted(nets) == sorted(expected_nets)
    assert total == sum(n * 5000 // 10000 for n in nets)
    assert 0 <= sum(nets) / 2 - total <= len(nets) / 2  # at most half a cent per invoice to the house
