"""The Subscription dock (issue 17). Thin views over the app's ``BillingService``
(``sync/billing.py``): every call runs in a worker of ``tasks`` and its answer (or the service's
sentence when it fails) comes back to the page.

* **Plan**: the current plan, renewal or end date, the plan comparison (Free / Basic / Pro, the
  current tier highlighted; what the tier lacks reads "available on Pro", never an error),
  subscribe / switch (the provider prorates; the approval page opens in the system browser),
  cancel at period end, and the invoices. Offline it shows the cached entitlements and until
  when they are trusted (7 days).
* **Referrals**: the code and link, applying someone's code, the ledger (paid / unpaid).
  Hidden when the ``referrals`` flag is off.
* **Partner**: earned, pending, paid and reversed commissions, CSV export (partners only).
* **Admin**: feature flags and plans, editable by admins (each change audited by the service).
"""
from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGridLayout,
    QGroupBox, QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPushButton, QScrollArea, QSpinBox, QTabWidget,
    QVBoxLayout, QWidget,
)

from engine.plans import ENTITLEMENTS, PLANS, TIERS, UNLIMITED, describe, dollars
from widgets.table import Column, TableModel, TableView

log = logging.getLogger(__name__)

TIER_NAMES = {"free": "Free", "basic": "Basic", "pro": "Pro"}


def _date(value: Any) -> str:
    if not value:
        return "—"
    try:
        return dt.datetime.fromisoformat(str(value)).date().isoformat()
    except ValueError:
        return str(value)[:10]


def comparison_rows(snapshot: Any) -> list[tuple[str, str, dict[str, str]]]:
    """(key, label, {tier: text}) per entitlement; in the caller's tier, what it lacks names
    the cheapest tier that has it ("Not included · available on Pro")."""
    table = snapshot.plan_table()
    rows = []
    for key, ent in ENTITLEMENTS.items():
        cells = {t: describe(key, table[t].entitlements[key]) for t in TIERS}
        mine = table[snapshot.tier].entitlements[key]
        better = [t for t in TIERS if TIERS.index(t) > TIERS.index(snapshot.tier)
                  and _better(key, table[t].entitlements[key], mine)]
        if better:
            cells[snapshot.tier] += f" · more on {TIER_NAMES[better[0]]}" if ent.kind == "limit" and mine else ""
            if ent.kind == "bool" or not mine:
                cells[snapshot.tier] = f"{describe(key, mine)} · available on {TIER_NAMES[better[0]]}"
        rows.append((key, ent.label, cells))
    return rows


def _better(key: str, theirs: bool | int, mine: bool | int) -> bool:
    ent = ENTITLEMENTS[key]
    if ent.kind == "bool":
        return bool(theirs) and not mine
    a, b = int(theirs), int(mine)
    if b == UNLIMITED:
        return False
    if a == UNLIMITED:
        return True
    return a < b if ent.lower_is_better else a > b


def lacking(snapshot: Any) -> list[tuple[str, str]]:
    """(label, tier name) of each capability the caller's tier does not include."""
    out = []
    for key, ent in ENTITLEMENTS.items():
        if ent.kind == "bool" and not snapshot.entitlements.get(key):
            better = snapshot.upgrade_for(key)
            if better:
                out.append((ent.label, TIER_NAMES[better]))
    return out


class _Page(QWidget):
    """A page that runs backend calls in workers and shows their errors."""

    def __init__(self, backend: Any, tasks: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend, self.tasks = backend, tasks
        self.error = QLabel("")
        self.error.setObjectName("billingError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b;")
        self.error.hide()

    def run(self, fn: Callable[..., Any], *args: Any, label: str, done: Callable[[Any], None],
            failed: Callable[[], None] | None = None) -> None:
        self.error.hide()

        def on_error(exc: BaseException) -> None:
            self.error.setText(str(exc) or type(exc).__name__)
            self.error.show()
            if failed is not None:
                failed()

        self.tasks.submit(fn, *args, label=label, on_result=done, on_error=on_error)


class PlanPage(_Page):
    def __init__(self, backend: Any, tasks: Any, parent: QWidget | None = None) -> None:
        super().__init__(backend, tasks, parent)
        self.snapshot: Any = None
        self.subscription: dict[str, Any] | None = None
        #: called after an approval page opened (the dock then polls until the provider confirms)
        self.on_approval_opened: Callable[[], None] | None = None
        self.current = QLabel("Loading your plan…")
        self.current.setObjectName("currentPlan")
        font = QFont(self.current.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.current.setFont(font)
        self.renewal = QLabel("")
        self.renewal.setObjectName("renewal")
        self.offline = QLabel("")
        self.offline.setObjectName("offlineNote")
        self.offline.setWordWrap(True)
        self.offline.hide()
        self.lacks = QLabel("")
        self.lacks.setObjectName("lacks")
        self.lacks.setWordWrap(True)
        self.local_note = QLabel("Charts, the scanner, paper trading, local alerts and the journal work on every "
                                 "plan, with or without an account.")
        self.local_note.setWordWrap(True)
        self.local_note.setStyleSheet("color: palette(mid);")

        self.compare = TableModel(self._compare_columns("free"))
        self.compare_view = TableView(self.compare, "billing-compare", sortable=False,
                                      selection=QAbstractItemView.SelectionMode.NoSelection)
        self.compare_view.setObjectName("planComparison")
        self.compare_view.horizontalHeader().setStretchLastSection(True)
        # every entitlement visible without scrolling the table (the page scrolls instead)
        self.compare_view.setMinimumHeight(self.compare_view.horizontalHeader().sizeHint().height()
                                           + 24 * len(ENTITLEMENTS) + 6)

        self.period = QComboBox()
        self.period.setObjectName("period")
        self.period.addItem("Monthly", "monthly")
        self.period.addItem("Yearly (2 months free)", "yearly")
        self.period.currentIndexChanged.connect(self._update_buttons)
        self.buttons: dict[str, QPushButton] = {}
        actions = QHBoxLayout()
        actions.addWidget(QLabel("Billing:"))
        actions.addWidget(self.period)
        for tier in ("basic", "pro"):
            b = QPushButton(TIER_NAMES[tier])
            b.setObjectName(f"choose_{tier}")
            b.clicked.connect(lambda _=False, t=tier: self.choose(t))
            self.buttons[tier] = b
            actions.addWidget(b)
        actions.addStretch(1)
        self.cancel_button = QPushButton("Cancel at period end")
        self.cancel_button.setObjectName("cancelSubscription")
        self.cancel_button.clicked.connect(self.cancel)
        actions.addWidget(self.cancel_button)
        self.notice = QLabel("")
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)

        self.invoices = TableModel([
            Column("Date", lambda r: _date(r["paid_at"]), key="date"),
            Column("Plan", lambda r: TIER_NAMES.get(r["tier"], r["tier"]), key="plan"),
            Column("Amount", lambda r: r["amount_cents"], numeric=True, fmt=dollars, key="amount"),
            Column("Refunded", lambda r: r["refunded_cents"], numeric=True, fmt=dollars, key="refunded"),
            Column("Net", lambda r: r["net_cents"], numeric=True, fmt=dollars, key="net"),
        ])
        self.invoices_view = TableView(self.invoices, "billing-invoices", sortable=False)
        self.invoices_view.setObjectName("invoices")
        self.invoices_view.setMinimumHeight(110)

        layout = QVBoxLayout(self)
        layout.addWidget(self.current)
        layout.addWidget(self.renewal)
        layout.addWidget(self.offline)
        layout.addWidget(self.lacks)
        layout.addWidget(self.compare_view, 3)
        layout.addLayout(actions)
        layout.addWidget(self.notice)
        layout.addWidget(self.error)
        layout.addWidget(QLabel("Invoices"))
        layout.addWidget(self.invoices_view, 2)
        layout.addWidget(self.local_note)

    @staticmethod
    def _compare_columns(tier: str) -> list[Column]:
        """Feature, Free, Basic, Pro; the caller's tier titled "(your plan)", what it lacks in
        the accent colour."""
        return [Column("Feature", lambda r: r[1], key="feature")] + [
            Column(TIER_NAMES[t] + (" (your plan)" if t == tier else ""), lambda r, t=t: r[2][t], key=t,
                   color=(lambda r, t=t: "#e0a030" if "available on" in r[2][t] else None) if t == tier else None)
            for t in TIERS]

    def refresh(self) -> None:
        self.run(self.backend.overview, label="Loading your plan", done=self.show_overview)

    def show_overview(self, data: dict[str, Any]) -> None:
        snap = self.snapshot = data["snapshot"]
        sub = self.subscription = data.get("subscription")
        name = TIER_NAMES.get(snap.tier, snap.tier)
        period = f" ({sub['period']})" if sub and sub.get("period") else ""
        self.current.setText(f"Your plan: {name}{period}")
        self.notice.setText("")
        if data.get("offline") and data.get("email"):
            self.renewal.setText(f"Paid until {_date(snap.period_end)} (as last known)" if snap.period_end
                                 else "The subscription's details are shown once the service answers.")
        elif sub and sub.get("renewal_at"):
            verb = "Ends on" if sub.get("cancel_at_period_end") else "Renews on"
            self.renewal.setText(f"{verb} {_date(sub['renewal_at'])}"
                                 + (f" · change to {sub['pending_plan']} awaiting approval" if sub.get("pending_plan") else ""))
        elif sub and sub.get("approval_pending"):
            self.renewal.setText("A subscription is waiting for your approval in the browser.")
        elif not data.get("email"):
            self.renewal.setText("Sign in (Account menu) to subscribe; everything local works without an account.")
        else:
            self.renewal.setText("No subscription.")
        if data.get("offline"):
            if snap.source == "cache":
                self.offline.setText(f"Offline: showing the plan as of {_date(snap.fetched_at.isoformat())}; "
                                     f"it is used until {_date(snap.valid_until.isoformat())} (7 days).")
            else:
                self.offline.setText("Not connected: showing the Free plan's limits.")
            self.offline.show()
        else:
            self.offline.hide()
        missing = lacking(snap)
        self.lacks.setText("Not on your plan: " + ", ".join(f"{label} (available on {tier})" for label, tier in missing)
                           if missing else "Your plan includes every capability.")
        self.compare.set_columns(self._compare_columns(snap.tier))
        self.compare.set_rows(comparison_rows(snap))
        self.compare_view.resizeColumnsToContents()
        if not data.get("offline"):  # offline, the invoices last shown stay
            self.invoices.set_rows(data.get("invoices") or [])
        self._update_buttons()

    def _update_buttons(self) -> None:
        snap, sub = self.snapshot, self.subscription
        period = self.period.currentData()
        table = snap.plan_table() if snap else dict(PLANS)
        online = bool(snap and snap.source == "service")
        active = bool(sub and sub.get("status") == "ACTIVE")
        for tier, b in self.buttons.items():
            price = dollars(table[tier].price_cents(period))
            unit = "month" if period == "monthly" else "year"
            same = active and sub is not None and sub.get("tier") == tier and sub.get("period") == period
            if same:
                b.setText(f"{TIER_NAMES[tier]}: your plan")
            elif active:
                b.setText(f"Switch to {TIER_NAMES[tier]} · {price}/{unit}")
            else:
                b.setText(f"Subscribe to {TIER_NAMES[tier]} · {price}/{unit}")
            b.setEnabled(online and not same)
        self.cancel_button.setEnabled(online and active and not (sub or {}).get("cancel_at_period_end"))

    def choose(self, tier: str) -> None:
        period = str(self.period.currentData())
        active = bool(self.subscription and self.subscription.get("status") == "ACTIVE")
        call = self.backend.change if active else self.backend.subscribe

        def opened(url: str) -> None:
            self.backend.open_approval(url)
            if self.on_approval_opened is not None:
                self.on_approval_opened()
            self.notice.setText("The payment page opened in your browser; approve there, then come back and "
                                "refresh." + (" The provider prorates the change." if active else ""))

        self.run(call, tier, period, label="Opening the payment page", done=opened)

    def cancel(self) -> None:
        end = _date((self.subscription or {}).get("renewal_at"))
        if QMessageBox.question(self, "Cancel subscription",
                                f"Cancel at the end of the period? Your plan stays until {end}.") \
                != QMessageBox.StandardButton.Yes:
            return
        self.run(self.backend.cancel, label="Cancelling", done=lambda _s: self.refresh())


class ReferralPanel(_Page):
    def __init__(self, backend: Any, tasks: Any, parent: QWidget | None = None) -> None:
        super().__init__(backend, tasks, parent)
        self.code = QLabel("—")
        self.code.setObjectName("referralCode")
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.link = QLineEdit()
        self.link.setReadOnly(True)
        self.link.setObjectName("referralLink")
        copy = QPushButton("Copy link")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.link.text()))
        self.summary = QLabel("")
        self.summary.setObjectName("referralSummary")
        self.apply_code = QLineEdit()
        self.apply_code.setPlaceholderText("a friend's code (within 30 days of signing up)")
        self.apply_code.setObjectName("applyCode")
        apply = QPushButton("Apply")
        apply.setObjectName("applyReferral")
        apply.clicked.connect(self.apply)
        self.ledger = TableModel(_ledger_columns())
        view = TableView(self.ledger, "billing-referral-ledger", sortable=False)
        form = QFormLayout()
        form.addRow("Your code:", self.code)
        row = QHBoxLayout()
        row.addWidget(self.link, 1)
        row.addWidget(copy)
        form.addRow("Link:", row)
        row2 = QHBoxLayout()
        row2.addWidget(self.apply_code, 1)
        row2.addWidget(apply)
        form.addRow("Referred by:", row2)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addWidget(view, 1)

    def refresh(self) -> None:
        self.run(self.backend.referrals, label="Loading referrals", done=self.show_referrals)

    def show_referrals(self, r: dict[str, Any]) -> None:
        self.code.setText(r["code"])
        self.link.setText(r["link"])
        self.summary.setText(f"{r['referred_count']} signed up with your code · earned {dollars(r['earned_cents'])} · "
                             f"unpaid {dollars(r['unpaid_cents'])} · paid {dollars(r['paid_cents'])}")
        self.apply_code.setEnabled(not r.get("referred_by"))
        if r.get("referred_by"):
            self.apply_code.setPlaceholderText("a referral code is applied to your account")
        self.ledger.set_rows(r["ledger"])

    def apply(self) -> None:
        code = self.apply_code.text().strip()
        if code:
            self.run(self.backend.apply_referral, code, label="Applying the code", done=self.show_referrals)


def _ledger_columns() -> list[Column]:
    return [Column("Date", lambda r: _date(r["created_at"]), key="date"),
            Column("Kind", lambda r: r["kind"], key="kind"),
            Column("Customer", lambda r: r["referred"], key="customer"),
            Column("Share", lambda r: f"{r['bps'] / 100:g} %", key="share"),
            Column("Amount", lambda r: r["amount_cents"], numeric=True, fmt=dollars, key="amount"),
            Column("Status", lambda r: "paid" if r["paid"] else "unpaid", key="status")]


class PartnerDashboard(_Page):
    FIGURES = (("earned_cents", "Earned"), ("pending_cents", "Pending"), ("paid_cents", "Paid"),
               ("reversed_cents", "Reversed (refunds)"))

    def __init__(self, backend: Any, tasks: Any, parent: QWidget | None = None) -> None:
        super().__init__(backend, tasks, parent)
        self.status = QLabel("")
        self.status.setObjectName("partnerStatus")
        self.status.setWordWrap(True)
        grid = QGridLayout()
        self.figures: dict[str, QLabel] = {}
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.6)
        big.setBold(True)
        for col, (key, title) in enumerate(self.FIGURES):
            box = QGroupBox(title)
            v = QVBoxLayout(box)
            value = QLabel("—")
            value.setFont(big)
            value.setObjectName(key)
            v.addWidget(value)
            self.figures[key] = value
            grid.addWidget(box, 0, col)
        self.customers = QLabel("")
        export = QPushButton("Export CSV…")
        export.setObjectName("exportCsv")
        export.clicked.connect(self.export)
        self.ledger = TableModel(_ledger_columns())
        view = TableView(self.ledger, "billing-partner-ledger", sortable=False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(grid)
        row = QHBoxLayout()
        row.addWidget(self.customers, 1)
        row.addWidget(export)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addWidget(view, 1)

    def refresh(self) -> None:
        self.run(self.backend.partner, label="Loading the partner dashboard", done=self.show_dashboard)

    def show_dashboard(self, data: dict[str, Any]) -> None:
        d = data["dashboard"]
        self.status.setText(f"Partner: {d['commission_bps'] / 100:g} % of every paid invoice of the customers you "
                            "referred, for as long as they pay; refunds are reversed." if d["partner"] else
                            "You are not enrolled as a partner; referral rewards are shown below.")
        for key, label in self.figures.items():
            label.setText(dollars(int(d[key])))
        self.customers.setText(f"{d['customers']} referred customers, {d['paying_customers']} paying")
        self.ledger.set_rows(data["referrals"]["ledger"])

    def export(self, path: str | None = None) -> None:
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export commissions", "commissions.csv", "CSV files (*.csv)")
        if path:
            self.run(self.backend.export_csv, path, label="Exporting commissions",
                     done=lambda p: self.customers.setText(f"Exported to {p}"))


def _cents(text: str) -> int:
    try:
        value = Decimal(text.strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{text!r} is not an amount in dollars and cents")
    return int(value * 100)


class AdminPage(_Page):
    """Flags and plans (admins only; the service audits every change)."""

    def __init__(self, backend: Any, tasks: Any, parent: QWidget | None = None) -> None:
        super().__init__(backend, tasks, parent)
        self.flags = TableModel([
            Column("Flag", lambda r: r["name"], key="name"),
            Column("On", lambda r: "yes" if r["enabled"] else "no", key="enabled"),
            Column("Rollout", lambda r: f"{r['percentage_bps'] / 100:g} %", key="percentage"),
            Column("Tiers", lambda r: ", ".join(r["tiers"]) or "all", key="tiers"),
            Column("Users", lambda r: ", ".join(str(u) for u in r["users"]), key="users"),
            Column("Description", lambda r: r["description"], key="description"),
        ], key=lambda r: r["name"])
        self.flags_view = TableView(self.flags, "billing-admin-flags", sortable=False,
                                    selection=QAbstractItemView.SelectionMode.SingleSelection)
        self.flags_view.clicked.connect(self._pick_flag)
        self.flag_name = QLineEdit()
        self.flag_name.setObjectName("flagName")
        self.flag_name.setPlaceholderText("e.g. new-chart")
        self.flag_desc = QLineEdit()
        self.flag_on = QCheckBox("Enabled")
        self.flag_on.setChecked(True)
        self.flag_pct = QDoubleSpinBox()
        self.flag_pct.setObjectName("flagPercentage")
        self.flag_pct.setRange(0, 100)
        self.flag_pct.setDecimals(2)
        self.flag_pct.setSuffix(" %")
        self.flag_pct.setValue(100)
        self.flag_tiers = {t: QCheckBox(TIER_NAMES[t]) for t in TIERS}
        self.flag_users = QLineEdit()
        self.flag_users.setPlaceholderText("user ids, comma-separated (always on for them)")
        save = QPushButton("Save flag")
        save.setObjectName("saveFlag")
        save.clicked.connect(self.save_flag)
        remove = QPushButton("Delete flag")
        remove.clicked.connect(self.delete_flag)
        flag_form = QFormLayout()
        flag_form.addRow("Name:", self.flag_name)
        flag_form.addRow("Description:", self.flag_desc)
        tiers = QHBoxLayout()
        for cb in self.flag_tiers.values():
            tiers.addWidget(cb)
        tiers.addWidget(QLabel("(none = every tier)"))
        tiers.addStretch(1)
        flag_form.addRow("", self.flag_on)
        flag_form.addRow("Rollout:", self.flag_pct)
        flag_form.addRow("Tiers:", tiers)
        flag_form.addRow("Whitelist:", self.flag_users)
        buttons = QHBoxLayout()
        buttons.addWidget(save)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        flag_form.addRow("", buttons)
        flags_box = QGroupBox("Feature flags")
        fl = QVBoxLayout(flags_box)
        fl.addWidget(self.flags_view, 1)
        fl.addLayout(flag_form)

        self.plans: dict[str, dict[str, Any]] = {}
        self.plan_tier = QComboBox()
        self.plan_tier.setObjectName("planTier")
        for t in TIERS:
            self.plan_tier.addItem(TIER_NAMES[t], t)
        self.plan_tier.currentIndexChanged.connect(self._show_plan)
        self.monthly = QLineEdit()
        self.monthly.setObjectName("monthlyPrice")
        self.yearly = QLineEdit()
        self.yearly.setObjectName("yearlyPrice")
        self.ent_inputs: dict[str, QWidget] = {}
        plan_form = QFormLayout()
        plan_form.addRow("Tier:", self.plan_tier)
        plan_form.addRow("Monthly ($):", self.monthly)
        plan_form.addRow("Yearly ($):", self.yearly)
        for key, ent in ENTITLEMENTS.items():
            w: QWidget
            if ent.kind == "bool":
                w = QCheckBox("Included")
            else:
                spin = QSpinBox()
                spin.setRange(UNLIMITED, 10_000_000)
                spin.setSpecialValueText("Unlimited")
                spin.setSuffix(f" {ent.unit}")
                w = spin
            w.setObjectName(f"ent_{key}")
            w.setToolTip(ent.description)
            self.ent_inputs[key] = w
            plan_form.addRow(f"{ent.label}:", w)
        save_plan = QPushButton("Save plan")
        save_plan.setObjectName("savePlan")
        save_plan.clicked.connect(self.save_plan)
        plan_form.addRow("", save_plan)
        plans_box = QGroupBox("Plans")
        plans_box.setLayout(plan_form)

        inner = QWidget()
        cols = QHBoxLayout(inner)
        cols.addWidget(flags_box, 3)
        cols.addWidget(plans_box, 2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        self.note = QLabel("Every change is recorded in the service's audit log.")
        self.note.setObjectName("adminNote")
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addWidget(scroll, 1)

    def refresh(self) -> None:
        self.run(self.backend.admin, label="Loading flags and plans", done=self.show_admin)

    def show_admin(self, data: dict[str, Any]) -> None:
        self.flags.set_rows(data["flags"])
        self.flags_view.resizeColumnsToContents()
        self.plans = {p["tier"]: p for p in data["plans"]}
        self._show_plan()

    def _pick_flag(self, index: Any) -> None:
        row = self.flags.rows[self.flags_view.model().mapToSource(index).row()] if hasattr(
            self.flags_view.model(), "mapToSource") else self.flags.rows[index.row()]
        self.flag_name.setText(row["name"])
        self.flag_desc.setText(row["description"])
        self.flag_on.setChecked(row["enabled"])
        self.flag_pct.setValue(row["percentage_bps"] / 100)
        for t, cb in self.flag_tiers.items():
            cb.setChecked(t in row["tiers"])
        self.flag_users.setText(", ".join(str(u) for u in row["users"]))

    def flag_body(self) -> dict[str, Any]:
        users = [int(u) for u in self.flag_users.text().replace(" ", "").split(",") if u]
        return {"description": self.flag_desc.text().strip(), "enabled": self.flag_on.isChecked(),
                "percentage_bps": round(self.flag_pct.value() * 100),
                "tiers": [t for t, cb in self.flag_tiers.items() if cb.isChecked()], "users": users}

    def save_flag(self) -> None:
        name = self.flag_name.text().strip()
        try:
            body = self.flag_body()
        except ValueError:
            self.error.setText("The whitelist is a list of user ids (numbers).")
            self.error.show()
            return
        if name:
            self.run(self.backend.set_flag, name, body, label="Saving the flag", done=lambda _f: self.refresh())

    def delete_flag(self) -> None:
        name = self.flag_name.text().strip()
        if name:
            self.run(self.backend.delete_flag, name, label="Deleting the flag", done=lambda _f: self.refresh())

    def _show_plan(self) -> None:
        p = self.plans.get(str(self.plan_tier.currentData()))
        if not p:
            return
        self.monthly.setText(dollars(p["monthly_cents"])[1:].replace(",", ""))
        self.yearly.setText(dollars(p["yearly_cents"])[1:].replace(",", ""))
        for key, w in self.ent_inputs.items():
            value = p["entitlements"].get(key)
            if isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QSpinBox):
                w.setValue(int(value if value is not None else 0))

    def plan_body(self) -> dict[str, Any]:
        ents: dict[str, bool | int] = {}
        for key, w in self.ent_inputs.items():
            ents[key] = w.isChecked() if isinstance(w, QCheckBox) else int(w.value())  # type: ignore[attr-defined]
        return {"monthly_cents": _cents(self.monthly.text()), "yearly_cents": _cents(self.yearly.text()),
                "entitlements": ents}

    def save_plan(self) -> None:
        try:
            body = self.plan_body()
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.run(self.backend.set_plan, str(self.plan_tier.currentData()), body, label="Saving the plan",
                 done=lambda _p: self.refresh())


class SubscriptionWidget(QTabWidget):
    """The dock's content: Plan, Referrals (flag ``referrals``), Partner (partners), Admin (admins)."""

    def __init__(self, backend: Any, tasks: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("subscription")
        self.backend, self.tasks = backend, tasks
        self.plan = PlanPage(backend, tasks)
        self.referrals = ReferralPanel(backend, tasks)
        self.partner = PartnerDashboard(backend, tasks)
        self.admin = AdminPage(backend, tasks)
        self._frames: dict[int, QScrollArea] = {}
        self.addTab(self._frame(self.plan), "Plan")
        # after an approval page opened: refresh every ``poll_ms`` until the provider has
        # confirmed (no approval pending, no plan change pending), for at most ``POLL_TICKS``
        self.poll_ms = 5000
        self._poll = QTimer(self)
        self._poll.timeout.connect(self._poll_tick)
        self._ticks = 0
        self._loading = False
        self.plan.on_approval_opened = self.watch_approval
        self.refresh()

    POLL_TICKS = 36

    def watch_approval(self) -> None:
        self._ticks = 0
        self._poll.start(self.poll_ms)

    def _poll_tick(self) -> None:
        self._ticks += 1
        sub = self.plan.subscription or {}
        settled = self._ticks > 1 and not sub.get("approval_pending") and not sub.get("pending_plan")
        if settled or self._ticks > self.POLL_TICKS:
            self._poll.stop()
        elif not self._loading:
            self.refresh()

    def _frame(self, page: QWidget) -> QScrollArea:
        """``page`` in a scroll area: a short dock scrolls instead of squeezing the tables."""
        frame = self._frames.get(id(page))
        if frame is None:
            frame = QScrollArea()
            frame.setWidgetResizable(True)
            frame.setFrameShape(QScrollArea.Shape.NoFrame)
            frame.setWidget(page)
            self._frames[id(page)] = frame
        return frame

    def shows(self, page: QWidget) -> bool:
        """Whether ``page``'s tab is there."""
        return self.indexOf(self._frame(page)) >= 0

    def refresh(self) -> None:
        def done(data: dict[str, Any]) -> None:
            self._loading = False
            self.plan.show_overview(data)
            self._arrange(data)

        self._loading = True
        self.plan.run(self.backend.overview, label="Loading your plan", done=done,
                      failed=lambda: setattr(self, "_loading", False))

    def _arrange(self, data: dict[str, Any]) -> None:
        snap = data["snapshot"]
        online = not data.get("offline")
        self._set_tab(self.referrals, "Referrals", online and snap.flag("referrals", True))
        self._set_tab(self.partner, "Partner", online and snap.flag("partner_dashboard", True))
        self._set_tab(self.admin, "Admin", online and data.get("role") == "admin")

    def _set_tab(self, page: _Page, title: str, show: bool) -> None:
        index = self.indexOf(self._frame(page))
        if show and index < 0:
            self.addTab(self._frame(page), title)
            page.refresh()  # type: ignore[attr-defined]
        elif show:
            page.refresh()  # type: ignore[attr-defined]
        elif index >= 0:
            self.removeTab(index)
