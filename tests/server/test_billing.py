"""Billing on both databases: the sandbox provider through the whole life cycle, forged and
replayed webhooks, out-of-order delivery, PayPal (a fake on loopback, both verification
modes), referrals and partner commissions, and the admin endpoints."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select, update

from server.billing.models import Invoice, Subscription, WebhookEvent
from tests.server.billing_helpers import approve, post_delivery, provider_id, sandbox, subscribe


def _audit_actions(service: Any) -> list[str]:
    from server.models import AuditEvent

    with service.db() as db:
        return [a for a in db.execute(select(AuditEvent.action)).scalars()]


def test_sandbox_life_cycle_subscribe_upgrade_cancel_and_expire(service: Any) -> None:
    h = service.user("ann@example.com")
    plans = service.client.get("/billing/plans").json()  # public
    assert {p["tier"]: p["monthly_cents"] for p in plans["plans"]} == {"free": 0, "basic": 999, "pro": 2499}
    assert service.client.get("/entitlements/me", headers=h).json()["tier"] == "free"
    r = service.client.post("/billing/subscription", headers=h, json={"tier": "basic", "period": "monthly"})
    assert r.status_code == 200 and r.json()["status"] == "APPROVAL_PENDING"
    # not granted before the provider confirms
    pending = service.client.get("/billing/subscription", headers=h).json()
    assert pending["tier"] == "free" and pending["approval_pending"] is True
    assert "Your subscription is active." in approve(service, r.json()["approval_url"])
    assert "used already" in approve(service, r.json()["approval_url"])  # the link twice: nothing more
    sub = service.client.get("/billing/subscription", headers=h).json()
    assert (sub["tier"], sub["status"], sub["period"]) == ("basic", "ACTIVE", "monthly")
    renewal = dt.datetime.fromisoformat(sub["renewal_at"])
    assert dt.timedelta(days=27) < renewal - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(days=31)
    inv = service.client.get("/billing/invoices", headers=h).json()
    assert [(i["amount_cents"], i["net_cents"], i["tier"]) for i in inv] == [(999, 999, "basic")]
    ents = service.client.get("/entitlements/me", headers=h).json()
    assert ents["tier"] == "basic" and ents["entitlements"]["options_analytics"] is True
    assert ents["grace_days"] == 7
    # a second subscription is refused; upgrading goes through a change
    assert service.client.post("/billing/subscription", headers=h, json={"tier": "pro"}).status_code == 409
    r = service.client.post("/billing/subscription/change", headers=h, json={"tier": "pro", "period": "monthly"})
    assert r.status_code == 200, r.text
    assert service.client.get("/billing/subscription", headers=h).json()["pending_plan"] == "pro-monthly"
    assert "Your plan was changed." in approve(service, r.json()["approval_url"])
    sub = service.client.get("/billing/subscription", headers=h).json()
    assert (sub["tier"], sub["pending_plan"]) == ("pro", "")
    # cancel at period end: still Pro until the renewal date, Free after it
    r = service.client.post("/billing/subscription/cancel", headers=h)
    assert r.status_code == 200, r.text
    assert (r.json()["tier"], r.json()["status"], r.json()["cancel_at_period_end"]) == ("pro", "CANCELLED", True)
    assert service.client.post("/billing/subscription/cancel", headers=h).status_code == 409
    with service.db() as db:
        db.execute(update(Subscription).values(
            period_end=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
        db.commit()
    assert service.client.get("/entitlements/me", headers=h).json()["tier"] == "free"
    actions = _audit_actions(service)
    assert {"billing.subscription_started", "billing.plan_change_requested", "billing.cancelled"} <= set(actions)


def test_forged_webhooks_change_nothing_and_are_audited(service: Any, monkeypatch: Any) -> None:
    h = service.user("bob@example.com")
    r = service.client.post("/billing/subscription", headers=h, json={"tier": "pro"})
    pid = provider_id(service, "bob@example.com")
    good = sandbox(service).subscription_event("BILLING.SUBSCRIPTION.ACTIVATED", pid, "pro-monthly", "ACTIVE",
                                               dt.datetime.now(dt.timezone.utc))
    tampered = json.loads(good.body)
    tampered["resource"]["plan_id"] = "SANDBOX-pro-yearly"
    forged = [
        (json.dumps(tampered).encode(), good.headers),  # body changed after signing
        (good.body, {**good.headers, "PAYPAL-TRANSMISSION-SIG": "AAAA" + good.headers["PAYPAL-TRANSMISSION-SIG"][4:]}),
        (good.body, {"Content-Type": "application/json"}),  # no signature at all
        (good.body, {**good.headers, "PAYPAL-TRANSMISSION-ID": "another"}),
    ]
    for body, headers in forged:
        r = service.client.post("/billing/webhooks/sandbox", content=body, headers=headers)
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_signature", r.text
    # the PayPal endpoint is not this service's provider: 404, nothing read
    assert service.client.post("/billing/webhooks/paypal", content=good.body, headers=good.headers).status_code == 404
    assert service.client.get("/billing/subscription", headers=h).json()["tier"] == "free"
    with service.db() as db:
        assert db.execute(select(WebhookEvent)).first() is None
    assert _audit_actions(service).count("billing.webhook_refused") == len(forged)
    # the genuine one still works
    assert post_delivery(service, good).json() == {"status": "applied"}
    assert service.client.get("/billing/subscription", headers=h).json()["tier"] == "pro"
    # an address that keeps sending forgeries is blocked for the window
    from server.routers import billing

    monkeypatch.setattr(billing, "WEBHOOK_FAILURES_PER_WINDOW", len(forged) + 1)
    body, headers = forged[0]
    assert service.client.post("/billing/webhooks/sandbox", content=body, headers=headers).status_code == 400
    r = service.client.post("/billing/webhooks/sandbox", content=body, headers=headers)
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_replayed_and_out_of_order_webhooks(service: Any) -> None:
    h = service.user("cy@example.com")
    service.client.post("/billing/subscription", headers=h, json={"tier": "basic"})
    pid = provider_id(service, "cy@example.com")
    sb = sandbox(service)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    sale = sb.sale_completed(pid, "SALE-CY-1", 999, t0)
    assert post_delivery(service, sale).json() == {"status": "applied"}
    assert post_delivery(service, sale).json() == {"status": "duplicate"}  # the same delivery again
    # the same sale in a new event (another event id): still one invoice
    again = sb.sign(sb.event("PAYMENT.SALE.COMPLETED", json.loads(sale.body)["resource"], t0))
    assert post_delivery(service, again).json() == {"status": "duplicate"}
    with service.db() as db:
        assert len(db.execute(select(Invoice)).all()) == 1
    # CANCELLED (later) arrives before ACTIVATED (earlier): the late ACTIVATED changes nothing
    cancelled = sb.subscription_event("BILLING.SUBSCRIPTION.CANCELLED", pid, "basic-monthly", "CANCELLED",
                                      t0 + dt.timedelta(minutes=5))
    activated = sb.subscription_event("BILLING.SUBSCRIPTION.ACTIVATED", pid, "basic-monthly", "ACTIVE",
                                      t0 + dt.timedelta(minutes=1))
    assert post_delivery(service, cancelled).json() == {"status": "applied"}
    assert post_delivery(service, activated).json() == {"status": "stale"}
    # a re-activation stamped after the cancel does not revive it either (CANCELLED is final)
    late = sb.subscription_event("BILLING.SUBSCRIPTION.ACTIVATED", pid, "basic-monthly", "ACTIVE",
                                 t0 + dt.timedelta(minutes=9))
    assert post_delivery(service, late).json() == {"status": "stale"}
    with service.db() as db:
        assert db.execute(select(Subscription.status)).scalar_one() == "CANCELLED"
    # an event type we do not handle is logged and acknowledged
    unknown = sb.sign(sb.event("CUSTOMER.DISPUTE.CREATED", {"id": "PP-D-1"}))
    assert post_delivery(service, unknown).json() == {"status": "unknown"}
    # a sale of a subscription we do not know is acknowledged as an orphan
    assert post_delivery(service, sb.sale_completed("I-NOPE", "SALE-X", 100, t0)).json() == {"status": "orphan"}


def test_paypal_provider_against_a_fake_paypal_both_verification_modes(service: Any, tmp_path: Any) -> None:
    import requests

    from server.billing.paypal import PayPalProvider
    from tests.server.paypal_fake import CLIENT_ID, SECRET, WEBHOOK_ID, FakePayPal, make_cert

    fake = FakePayPal(tmp_path).start()
    try:
        session = requests.Session()
        session.verify = str(fake.ca_file)
        plans = ("basic-monthly=P-BASICM", "pro-monthly=P-PROM")
        api = PayPalProvider(CLIENT_ID, SECRET, WEBHOOK_ID, fake.url, plans, "api", session=session)
        service.app.state.billing_provider = api
        h = service.user("dee@example.com")
        r = service.client.post("/billing/subscription", headers=h, json={"tier": "pro"})
        assert r.status_code == 200, r.text
        assert r.json()["approval_url"].startswith("https://www.sandbox.paypal.com/")
        assert "PayPal confirms" in service.client.get("/billing/return").text  # where PayPal sends the browser
        pid = provider_id(service, "dee@example.com")
        assert fake.subscriptions[pid] == {"plan_id": "P-PROM", "custom_id": f"user:{service.client.get('/me', headers=h).json()['id']}"}
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        activated = {"id": "WH-1", "event_type": "BILLING.SUBSCRIPTION.ACTIVATED", "create_time": now,
                     "resource_type": "subscription",
                     "resource": {"id": pid, "status": "ACTIVE", "plan_id": "P-PROM", "status_update_time": now,
                                  "billing_info": {"next_billing_time": "2099-01-01T00:00:00Z"}}}
        d = fake.deliver(activated)
        forged = dict(activated, resource=dict(activated["resource"], plan_id="P-BASICM"))
        r = service.client.post("/billing/webhooks/paypal", content=json.dumps(forged).encode(), headers=d.headers)
        assert r.status_code == 400  # PayPal's verify API says FAILURE
        r = service.client.post("/billing/webhooks/paypal", content=d.body, headers=d.headers)
        assert r.json() == {"status": "applied"}, r.text
        assert service.client.get("/billing/subscription", headers=h).json()["tier"] == "pro"

        # the certificate check done here, with a real certificate fetched from the (allowed) host
        cert = PayPalProvider(CLIENT_ID, SECRET, WEBHOOK_ID, fake.url, plans, "cert",
                              cert_hosts=("127.0.0.1",), session=session)
        service.app.state.billing_provider = cert
        sale = {"id": "WH-2", "event_type": "PAYMENT.SALE.COMPLETED", "create_time": now, "resource_type": "sale",
                "resource": {"id": "SALE-9", "billing_agreement_id": pid, "create_time": now,
                             "amount": {"total": "24.99", "currency": "USD"}}}
        other_key, _ = make_cert("not-paypal")
        bad = fake.deliver(sale, sign_key=other_key)
        assert service.client.post("/billing/webhooks/paypal", content=bad.body, headers=bad.headers).status_code == 400
        good = fake.deliver(sale)
        elsewhere = {**good.headers, "PAYPAL-CERT-URL": "https://evil.example/certs/CERT-1"}
        assert service.client.post("/billing/webhooks/paypal", content=good.body, headers=elsewhere).status_code == 400
        r = service.client.post("/billing/webhooks/paypal", content=good.body, headers=good.headers)
        assert r.json() == {"status": "applied"}, r.text
        assert [i["amount_cents"] for i in service.client.get("/billing/invoices", headers=h).json()] == [2499]
        r = service.client.post("/billing/subscription/cancel", headers=h)
        assert r.status_code == 200 and any(c.endswith(f"/{pid}/cancel") for c in fake.calls)
    finally:
        fake.stop()


def test_referrals_and_partner_commissions_with_refund_reversal(service: Any) -> None:
    partner_h = service.user("pat@example.com")
    friend_h = service.user("fred@example.com")
    code = service.client.get("/referrals/me", headers=partner_h).json()["code"]
    assert service.client.get("/referrals/me", headers=partner_h).json()["code"] == code  # one per user
    link = service.client.get("/referrals/me", headers=partner_h).json()["link"]
    assert link.endswith(f"/signup?ref={code}") and code in service.client.get(f"/signup?ref={code}").text
    # applied at sign-up
    service.register("cust@example.com")
    r = service.client.post("/auth/register", json={"email": "cust2@example.com", "password": "x" * 20 + "Qz9!",
                                                     "referral_code": code})
    assert r.status_code == 202
    cust_h = {"Authorization": f"Bearer {service.login('cust@example.com')['access_token']}"}
    assert service.client.post("/referrals/apply", headers=cust_h, json={"code": code}).status_code == 200
    assert service.client.post("/referrals/apply", headers=cust_h, json={"code": code}).status_code == 409
    own = service.client.get("/referrals/me", headers=friend_h).json()["code"]
    assert service.client.post("/referrals/apply", headers=friend_h, json={"code": own}).status_code == 409
    assert service.client.get("/referrals/me", headers=partner_h).json()["referred_count"] == 2
    # enrolled as a partner by an admin: 50 % of every paid invoice
    admin_h = service.user("root@example.com")
    service.make_admin("root@example.com")
    pat_id = service.client.get("/me", headers=partner_h).json()["id"]
    assert service.client.put(f"/admin/partners/{pat_id}", headers=partner_h, json={}).status_code == 403
    assert service.client.put(f"/admin/partners/{pat_id}", headers=admin_h, json={"commission_bps": 5000}).status_code == 200
    subscribe(service, cust_h, "pro")  # 24.99 -> 12.49 (half a cent to the house)
    pid = provider_id(service, "cust@example.com")
    sb = sandbox(service)
    t = dt.datetime.now(dt.timezone.utc)
    post_delivery(service, sb.sale_completed(pid, "SALE-RENEW-2", 2499, t))  # a renewal
    dash = service.client.get("/partners/me", headers=partner_h).json()
    assert (dash["partner"], dash["earned_cents"], dash["pending_cents"], dash["customers"],
            dash["paying_customers"]) == (True, 2 * 1249, 2 * 1249, 2, 1)
    # payout, then a partial refund of the renewal reverses its share (off the next payout)
    assert service.client.post(f"/admin/partners/{pat_id}/payout", headers=admin_h).json()["paid_cents"] == 2498
    assert service.client.post(f"/admin/partners/{pat_id}/payout", headers=admin_h).status_code == 409
    assert post_delivery(service, sb.sale_refunded("SALE-RENEW-2", "REF-1", 1000, t)).json()["status"] == "applied"
    assert post_delivery(service, sb.sale_refunded("SALE-RENEW-2", "REF-1", 1000, t)).json()["status"] == "duplicate"
    dash = service.client.get("/partners/me", headers=partner_h).json()
    # renewal net 14.99 -> share 7.49: reversal of 5.00
    assert (dash["earned_cents"], dash["paid_cents"], dash["pending_cents"], dash["reversed_cents"]) == \
        (1249 + 749, 2498, -500, 500)
    csv_text = service.client.get("/partners/me/commissions.csv", headers=partner_h)
    assert csv_text.headers["content-type"].startswith("text/csv")
    lines = csv_text.text.strip().splitlines()
    assert lines[0] == "date,kind,customer,share_percent,amount,status"
    assert sorted(l.split(",", 1)[1] for l in lines[1:]) == sorted([
        "commission,c***@example.com,50,12.49,paid", "commission,c***@example.com,50,12.49,paid",
        "reversal,c***@example.com,50,-5.00,unpaid"])
    cust_invoices = service.client.get("/billing/invoices", headers=cust_h).json()
    assert sorted((i["amount_cents"], i["refunded_cents"]) for i in cust_invoices) == [(2499, 0), (2499, 1000)]
    # the customer sees nothing of the partner's
    assert service.client.get("/partners/me", headers=cust_h).json()["earned_cents"] == 0


def test_admin_flags_and_plans_are_audited_and_admin_only(service: Any) -> None:
    user_h = service.user("u@example.com")
    admin_h = service.user("boss@example.com")
    service.make_admin("boss@example.com")
    flag = {"description": "new chart", "enabled": True, "percentage_bps": 10000, "tiers": ["pro"], "users": []}
    assert service.client.put("/admin/flags/new-chart", headers=user_h, json=flag).status_code == 403
    r = service.client.put("/admin/flags/new-chart", headers=admin_h, json=flag)
    assert r.status_code == 200, r.text
    assert service.client.get("/flags/me", headers=user_h).json()["flags"] == {"new-chart": False}
    uid = service.client.get("/me", headers=user_h).json()["id"]
    service.client.put("/admin/flags/new-chart", headers=admin_h, json={**flag, "users": [uid]})
    assert service.client.get("/flags/me", headers=user_h).json()["flags"] == {"new-chart": True}
    assert service.client.get("/entitlements/me", headers=user_h).json()["flags"] == {"new-chart": True}
    r = service.client.put("/admin/plans/basic", headers=admin_h,
                           json={"monthly_cents": 1099, "yearly_cents": 10990, "entitlements": {"cloud_alerts": 60}})
    assert r.status_code == 200 and r.json()["entitlements"]["cloud_alerts"] == 60
    bad = service.client.put("/admin/plans/basic", headers=admin_h,
                             json={"monthly_cents": 1, "yearly_cents": 1, "entitlements": {"nope": 1}})
    assert bad.status_code == 422
    basic = [p for p in service.client.get("/billing/plans").json()["plans"] if p["tier"] == "basic"][0]
    assert basic["monthly_cents"] == 1099
    assert service.client.delete("/admin/plans/basic", headers=admin_h).json()["monthly_cents"] == 999
    assert service.client.delete("/admin/flags/new-chart", headers=admin_h).status_code == 200
    log = service.client.get("/admin/audit", headers=admin_h).json()["items"]
    actions = [e["action"] for e in log]
    assert actions.count("admin.flag_set") == 2 and "admin.flag_deleted" in actions
    assert "admin.plan_set" in actions and "admin.plan_reset" in actions
    set_event = [e for e in log if e["action"] == "admin.flag_set"][0]
    assert json.loads(set_event["detail"])["after"]["users"] == [uid]


def test_a_second_subscription_approved_at_the_provider_is_cancelled_there(service: Any, monkeypatch: Any) -> None:
    """Two subscriptions started while the first waits for approval, both approved: the one
    activated second is cancelled at the provider at once (no second recurring charge),
    keeps the period its first payment bought, and the audit log names both."""
    h = service.user("dee@example.com")
    first = service.client.post("/billing/subscription", headers=h, json={"tier": "basic"})
    second = service.client.post("/billing/subscription", headers=h, json={"tier": "pro"})
    assert first.status_code == second.status_code == 200
    cancelled: list[str] = []
    provider = sandbox(service)
    monkeypatch.setattr(provider, "cancel", lambda pid, reason: cancelled.append(pid))
    assert "Your subscription is active." in approve(service, first.json()["approval_url"])
    assert cancelled == []
    assert "Your subscription is active." in approve(service, second.json()["approval_url"])
    with service.db() as db:
        subs = db.execute(select(Subscription).order_by(Subscription.id)).scalars().all()
        assert [(s.tier, s.status, s.cancel_at_period_end) for s in subs] == [
            ("basic", "ACTIVE", False), ("pro", "CANCELLED", True)]
        assert cancelled == [subs[1].provider_id]
        kept = subs[0].provider_id
    from server.models import AuditEvent

    with service.db() as db:
        detail = db.execute(select(AuditEvent.detail).where(
            AuditEvent.action == "billing.second_subscription_cancelled")).scalar_one()
    assert json.loads(detail) == {"provider_id": cancelled[0], "kept": kept}
    # the Pro month paid for is kept to its end; Basic goes on after it, and stays cancellable
    assert service.client.get("/entitlements/me", headers=h).json()["tier"] == "pro"
    with service.db() as db:
        db.execute(update(Subscription).where(Subscription.tier == "pro").values(
            period_end=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
        db.commit()
    assert service.client.get("/entitlements/me", headers=h).json()["tier"] == "basic"
    assert service.client.post("/billing/subscription/cancel", headers=h).status_code == 200


def test_a_second_subscription_the_provider_will_not_cancel_is_audited(service: Any, monkeypatch: Any) -> None:
    from server.billing.provider import ProviderError

    h = service.user("eve@example.com")
    urls = [service.client.post("/billing/subscription", headers=h, json={"tier": t}).json()["approval_url"]
            for t in ("basic", "pro")]

    def refuse(pid: str, reason: str) -> None:
        raise ProviderError("PayPal is unavailable")

    monkeypatch.setattr(sandbox(service), "cancel", refuse)
    for url in urls:
        assert "Your subscription is active." in approve(service, url)
    with service.db() as db:
        assert [s for s in db.execute(select(Subscription.status)).scalars()] == ["ACTIVE", "ACTIVE"]
    assert "billing.second_subscription_cancel_failed" in _audit_actions(service)
