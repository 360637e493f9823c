"""Subscriptions, referrals, partners and the billing admin (issue 17): the Subscription dock
(``widgets/subscription/page.py``) over ``sync.billing.BillingService`` (the service client
of ``sync.hub.SyncHub`` plus the offline cache of entitlements and flags, 7 days' grace), the
Account → Subscription… action, and the ``plans`` verb (the tier table, offline).

Approval URLs open in the system browser (``QDesktopServices.openUrl``). Nothing here limits
what the app does locally: charts, the scanner, paper trading and the journal work the same
on every tier and without an account."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.features import ActionSpec, Area, CliVerb, DockSpec, Feature, ServiceSpec

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.context import AppContext
    from app.mainwindow import MainWindow
    from sync.billing import BillingService

DOCK_ID = "subscription"


def open_in_browser(url: str) -> None:
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    QDesktopServices.openUrl(QUrl(url))


def _service(ctx: "AppContext") -> "BillingService":
    from sync.billing import BillingService
    from sync.hub import SyncHub

    def client() -> Any:
        return ctx.service(SyncHub).client

    return BillingService(client, ctx.kv, open_in_browser)


def _dock(ctx: "AppContext", _instance_id: str) -> "QWidget":
    from sync.billing import BillingService
    from widgets.subscription.page import SubscriptionWidget

    return SubscriptionWidget(ctx.service(BillingService), ctx.tasks)


def _open(ctx: "AppContext", window: "MainWindow") -> None:
    """Show the dock -- floating over the window, the first time, at a size where the plan
    comparison and the invoices fit (a docked bottom strip of an 800 px window is too short)."""
    from PySide6.QtWidgets import QDockWidget

    w = window.show_dock(DOCK_ID)
    dock = w.parentWidget()
    while dock is not None and not isinstance(dock, QDockWidget):
        dock = dock.parentWidget()
    if isinstance(dock, QDockWidget) and not dock.property("placed"):
        dock.setProperty("placed", True)
        dock.setFloating(True)
        geo = window.geometry()
        width, height = min(980, geo.width() - 80), min(700, geo.height() - 60)
        dock.setGeometry(geo.x() + (geo.width() - width) // 2, geo.y() + (geo.height() - height) // 2, width, height)
    refresh = getattr(w, "refresh", None)
    if callable(refresh):
        refresh()


def _add_plans(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the table as JSON")


def _cmd_plans(args: argparse.Namespace) -> int:
    import json

    from engine.plans import ENTITLEMENTS, PLANS, describe, dollars

    if args.json:
        print(json.dumps({t: {"name": p.name, "monthly_cents": p.monthly_cents, "yearly_cents": p.yearly_cents,
                              "entitlements": dict(p.entitlements)} for t, p in PLANS.items()}, indent=2))
        return 0
    tiers = list(PLANS.values())
    width = max(len(e.label) for e in ENTITLEMENTS.values()) + 2
    print("".ljust(width) + "".join(p.name.ljust(18) for p in tiers))
    print("Monthly".ljust(width) + "".join(dollars(p.monthly_cents).ljust(18) for p in tiers))
    print("Yearly".ljust(width) + "".join(dollars(p.yearly_cents).ljust(18) for p in tiers))
    for key, e in ENTITLEMENTS.items():
        print(e.label.ljust(width) + "".join(describe(key, p.entitlements[key]).ljust(18) for p in tiers))
    print("\nLocal charts, scanner, paper trading and journal: every tier, no account needed.")
    return 0


FEATURE = Feature(
    id="subscription",
    title="Subscription",
    services=(ServiceSpec("sync.billing:BillingService", _service),),
    docks=(DockSpec(DOCK_ID, "Subscription", _dock, Area.BOTTOM, visible=False, size=520),),
    actions=(ActionSpec("subscription.open", "&Subscription…", _open, None, menu="&Account"),),
    cli_verbs=(CliVerb("plans", "show the subscription tiers, prices and what each includes",
                       _add_plans, _cmd_plans),),
)
