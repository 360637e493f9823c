"""The Subscription dock in a real workstation against a real service on loopback (sandbox
billing): Free shows what it lacks as available on a higher tier, subscribing opens the
approval page in the system browser (monkeypatched), the plan and invoices follow, offline
the cached plan is shown with its 7-day limit, and an admin edits a flag from the Admin tab."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.sync.conftest import PASSWORD, LoopbackService

GRABS = os.environ.get("BILLING_GRABS", "")


def _grab(widget: Any, name: str) -> None:
    if GRABS:
        widget.window().grab().save(os.path.join(GRABS, f"{name}-window.png"))
        widget.grab().save(os.path.join(GRABS, f"{name}.png"))


def test_subscription_dock_life_cycle_offline_and_admin(ws: Any, qtbot: Any, loopback: LoopbackService,
                                                        memory_keyring: Any, monkeypatch: Any, tmp_path: Any) -> None:
    from sqlalchemy import select, update

    from app.features import subscription as feature
    from app.features.account import hub
    from server.billing.models import FeatureFlag
    from server.models import User

    opened: list[str] = []
    monkeypatch.setattr(feature, "open_in_browser", opened.append)
    h = hub(ws.ctx)
    h.configure(loopback.url)
    h.client.register("sub@example.com", PASSWORD)
    h.client.login("sub@example.com", PASSWORD)
    h.session_changed()
    from sync.billing import BillingService

    ws.ctx.service(BillingService).open_url = opened.append  # the feature's QDesktopServices call

    ws.window.resize(1280, 800)
    action = [a for a in ws.window.findChildren(type(ws.window.menuBar().actions()[0]))
              if a.objectName() == "subscription.open"]
    assert action, "the Account → Subscription… action"
    action[0].trigger()
    page = ws.window.show_dock("subscription")
    plan = page.plan
    qtbot.waitUntil(lambda: plan.current.text() == "Your plan: Free", timeout=15000)
    cells = {r[0]: r[2] for r in plan.compare.rows}
    assert cells["copy_trading"]["free"] == "Not included · available on Pro"
    assert cells["options_analytics"]["free"] == "Not included · available on Basic"
    assert "Copy trading (available on Pro)" in plan.lacks.text()
    assert plan.buttons["basic"].text() == "Subscribe to Basic · $9.99/month" and plan.buttons["basic"].isEnabled()
    assert page.shows(page.referrals) and page.shows(page.partner) and not page.shows(page.admin)  # not an admin
    _grab(page, "subscription-free")

    page.poll_ms = 100
    plan.buttons["basic"].click()
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=15000)
    parts = urlsplit(opened[0])
    assert parts.path == "/billing/sandbox/approve"
    r = requests.get(f"{loopback.url}{parts.path}?{parts.query}", timeout=10)  # the "browser"
    assert "Your subscription is active." in r.text
    # no refresh by hand: the dock polls after opening the approval page until it is confirmed
    qtbot.waitUntil(lambda: plan.current.text() == "Your plan: Basic (monthly)", timeout=15000)
    assert plan.renewal.text().startswith("Renews on ")
    qtbot.waitUntil(lambda: not page._poll.isActive(), timeout=10000)  # settled: polling stops
    assert plan.invoices.row_texts(0)[1:] == ["Basic", "$9.99", "$0.00", "$9.99"]
    assert plan.buttons["basic"].text() == "Basic: your plan" and not plan.buttons["basic"].isEnabled()
    assert plan.buttons["pro"].text() == "Switch to Pro · $24.99/month"
    assert {r[0]: r[2] for r in plan.compare.rows}["copy_trading"]["basic"] == "Not included · available on Pro"
    _grab(page, "subscription-basic")

    # referral panel
    qtbot.waitUntil(lambda: len(page.referrals.code.text()) == 8, timeout=15000)
    assert page.referrals.link.text().endswith("?ref=" + page.referrals.code.text())

    # offline: the cached plan, with the date it is trusted until
    loopback.stop()
    page.refresh()
    qtbot.waitUntil(lambda: plan.offline.isVisible(), timeout=20000)
    assert plan.current.text() == "Your plan: Basic" and "7 days" in plan.offline.text()
    assert plan.renewal.text().startswith("Paid until ") and plan.invoices.rowCount() == 1
    assert not plan.buttons["pro"].isEnabled()
    _grab(page, "subscription-offline")
    loopback.start()

    # an admin gets the Admin tab and edits a flag there (audited by the service)
    with loopback.db() as db:
        db.execute(update(User).where(User.email == "sub@example.com").values(role="admin"))
        db.commit()
    page.refresh()
    qtbot.waitUntil(lambda: page.shows(page.admin), timeout=20000)
    admin = page.admin
    qtbot.waitUntil(lambda: admin.plans != {}, timeout=15000)
    admin.flag_name.setText("new-chart")
    admin.flag_pct.setValue(25.5)
    admin.flag_tiers["pro"].setChecked(True)
    admin.save_flag()
    qtbot.waitUntil(lambda: len(admin.flags.rows) == 1, timeout=15000)
    with loopback.db() as db:
        flag = db.execute(select(FeatureFlag)).scalar_one()
        assert (flag.name, flag.percentage_bps, flag.tiers) == ("new-chart", 2550, '["pro"]')
    assert admin.flags.row_texts(0)[:4] == ["new-chart", "yes", "25.5 %", "pro"]
    admin.plan_tier.setCurrentIndex(1)
    assert admin.monthly.text() == "9.99"
    page.setCurrentWidget(page._frame(admin))
    _grab(page, "subscription-admin")
    page.setCurrentWidget(page._frame(page.partner))
    qtbot.waitUntil(lambda: page.partner.figures["earned_cents"].text() == "$0.00", timeout=15000)
    assert "not enrolled as a partner" in page.partner.status.text()
    _grab(page, "subscription-partner")
    out = tmp_path / "commissions.csv"
    page.partner.export(str(out))
    qtbot.waitUntil(lambda: page.partner.customers.text().startswith("Exported to"), timeout=15000)
    assert out.read_text().splitlines() == ["date,kind,customer,share_percent,amount,status"]
