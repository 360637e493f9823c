"""The alerts dock: the list of alerts with the editor, the history (acknowledge, snooze),
and the delivery settings with the deliveries that failed (Retry).

A thin view over ``engine.alerts.service.AlertService``: it renders what the service
returns and calls its commands; ``reload()`` runs when the service announces a change.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.alerts import AlertError, AlertTemplate, HistoryEntry
from engine.alerts.delivery import DeliveryConfig, DeliveryError, get_secret, set_secret
from engine.alerts.model import MODE_TEXT
from engine.alerts.service import AlertService
from engine.alerts.store import Delivery
from widgets.alerts.editor import CHANNEL_TEXT, AlertEditor, utc_text
from widgets.table import Column, TableModel, TableView

SNOOZES = (("Snooze 1 hour", 3600), ("Snooze 1 day", 86400))


def _values_text(values: dict[str, float]) -> str:
    parts = []
    for k, v in values.items():
        parts.append(f"{k} = {'—' if not math.isfinite(v) else f'{v:,.4g}'}")
    return ", ".join(parts)


class AlertsWidget(QWidget):
    """The dock content (see the module docstring)."""

    symbol_activated = Signal(str)

    def __init__(self, service: AlertService, watchlists: Callable[[], Sequence[str]] = lambda: (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alertsWidget")
        self.service = service
        self.tabs = QTabWidget()
        self.tabs.setObjectName("alertsTabs")

        # ---- alerts: list + editor
        self.alert_model = TableModel([
            Column("Name", lambda a: a.name),
            Column("Scope", lambda a: a.scope.describe()),
            Column("Conditions", lambda a: a.formula_text(), tip=lambda a: a.formula_text()),
            Column("Trigger", lambda a: MODE_TEXT[a.mode] + (f" / {a.cooldown_s // 60} min" if a.mode == "every"
                                                             and a.cooldown_s else "")),
            Column("Status", lambda a: self.service.status(a),
                   color=lambda a: {"active": "#26a69a", "disabled": None, "done": None,
                                    "expired": "#9e9e9e"}.get(self.service.status(a), "#ef5350")),
            Column("Notify", lambda a: ", ".join(CHANNEL_TEXT[c].split(" /")[0] for c in a.channels)),
        ], key=lambda a: a.id)
        self.alert_view = TableView(self.alert_model, "alertsList")
        self.editor = AlertEditor(service.validate_condition, service.save, watchlists,
                                  words=service.condition_words)
        self.enable_button = QPushButton("Enable / disable")
        self.delete_button = QPushButton("Delete")
        list_box = QWidget()
        ll = QVBoxLayout(list_box)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.alert_view, 1)
        lb = QHBoxLayout()
        lb.addWidget(self.enable_button)
        lb.addWidget(self.delete_button)
        lb.addStretch(1)
        self.count_label = QLabel()
        lb.addWidget(self.count_label)
        ll.addLayout(lb)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(list_box)
        split.addWidget(self.editor)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.tabs.addTab(split, "Alerts")

        # ---- history
        self.history_model = TableModel([
            Column("Time", lambda e: e.at, fmt=utc_text),
            Column("Alert", lambda e: e.alert_name),
            Column("Symbol", lambda e: e.symbol),
            Column("Values", lambda e: _values_text(e.values), tip=lambda e: _values_text(e.values)),
            Column("Message", lambda e: e.message),
            Column("State", lambda e: self._entry_state(e),
                   color=lambda e: None if e.acknowledged_at else QColor("#f0b429")),
        ], key=lambda e: e.id)
        self.history_view = TableView(self.history_model, "alertsHistory")
        self.ack_button = QPushButton("Acknowledge")
        self.ack_all_button = QPushButton("Acknowledge all")
        self.snooze_buttons = [QPushButton(t) for t, _ in SNOOZES]
        hist = QWidget()
        hl = QVBoxLayout(hist)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.addWidget(self.history_view, 1)
        hb = QHBoxLayout()
        for b in (self.ack_button, self.ack_all_button, *self.snooze_buttons):
            hb.addWidget(b)
        hb.addStretch(1)
        hl.addLayout(hb)
        self.tabs.addTab(hist, "History")

        # ---- delivery
        self.tabs.addTab(self._build_delivery(), "Delivery")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tabs)

        self.alert_view.selectionModel().selectionChanged.connect(self._on_alert_selected)
        self.editor.saved.connect(lambda _a: self.reload())
        self.enable_button.clicked.connect(self._on_enable_clicked)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.ack_button.clicked.connect(self._on_ack_clicked)
        self.ack_all_button.clicked.connect(self._on_ack_all_clicked)
        for b, (_t, secs) in zip(self.snooze_buttons, SNOOZES):
            b.clicked.connect(lambda _c=False, s=secs: self._on_snooze_clicked(s))
        self.history_view.doubleClicked.connect(self._on_history_double_clicked)
        self.reload()

    # ------------------------------------------------------------------ delivery tab
    def _build_delivery(self) -> QWidget:
        w = QWidget()
        self.webhook_url = QLineEdit()
        self.webhook_url.setPlaceholderText("https://example.com/hook")
        self.webhook_secret = QLineEdit()
        self.webhook_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.smtp_host = QLineEdit()
        self.smtp_port = QSpinBox()
        self.smtp_port.setRange(1, 65535)
        self.smtp_security = QComboBox()
        for s in ("starttls", "ssl", "none"):
            self.smtp_security.addItem({"starttls": "STARTTLS", "ssl": "SSL/TLS", "none": "None (local relay)"}[s], s)
        self.smtp_user = QLineEdit()
        self.smtp_password = QLineEdit()
        self.smtp_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.email_from = QLineEdit()
        self.email_to = QLineEdit()
        self.email_to.setPlaceholderText("me@example.com, desk@example.com")
        self.sms_url = QLineEdit()
        self.sms_phone = QLineEdit()
        self.sms_key = QLineEdit()
        self.sms_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.tries = QSpinBox()
        self.tries.setRange(1, 20)
        self.backoff = QSpinBox()
        self.backoff.setRange(0, 3600)
        self.backoff.setSuffix(" s")
        self.delivery_problem = QLabel()
        self.delivery_problem.setWordWrap(True)
        self.delivery_save = QPushButton("Save delivery settings")
        left = QFormLayout()
        left.addRow(QLabel("<b>Webhook</b> (HTTP POST, HMAC-SHA256 signed)"))
        left.addRow("URL", self.webhook_url)
        left.addRow("Secret", self.webhook_secret)
        left.addRow(QLabel("<b>SMS</b> (TextBelt-compatible)"))
        left.addRow("API URL", self.sms_url)
        left.addRow("Phone", self.sms_phone)
        left.addRow("Key", self.sms_key)
        left.addRow(QLabel("<b>Retries</b>"))
        left.addRow("Tries", self.tries)
        left.addRow("First wait", self.backoff)
        right = QFormLayout()
        right.addRow(QLabel("<b>E-mail</b> (SMTP)"))
        right.addRow("Server", self.smtp_host)
        right.addRow("Port", self.smtp_port)
        right.addRow("Security", self.smtp_security)
        right.addRow("User", self.smtp_user)
        right.addRow("Password", self.smtp_password)
        right.addRow("From", self.email_from)
        right.addRow("To", self.email_to)
        forms = QHBoxLayout()
        forms.addLayout(left, 1)
        forms.addSpacing(16)
        forms.addLayout(right, 1)
        self.failed_model = TableModel([
            Column("Updated", lambda d: d.updated_at, fmt=utc_text),
            Column("Channel", lambda d: CHANNEL_TEXT.get(d.channel, d.channel)),
            Column("Tries", lambda d: d.attempts, numeric=True),
            Column("Error", lambda d: d.last_error, tip=lambda d: d.last_error, color=lambda d: "#ef5350"),
        ], key=lambda d: d.id)
        self.failed_view = TableView(self.failed_model, "alertsFailedDeliveries")
        self.retry_button = QPushButton("Retry")
        lay = QVBoxLayout(w)
        lay.addLayout(forms)
        row = QHBoxLayout()
        row.addWidget(self.delivery_problem, 1)
        row.addWidget(self.delivery_save)
        lay.addLayout(row)
        self.failed_label = QLabel("Failed deliveries")
        lay.addWidget(self.failed_label)
        lay.addWidget(self.failed_view, 1)
        rb = QHBoxLayout()
        rb.addStretch(1)
        rb.addWidget(self.retry_button)
        lay.addLayout(rb)
        self.delivery_save.clicked.connect(self._on_delivery_save_clicked)
        self.retry_button.clicked.connect(self._on_retry_clicked)
        self._load_delivery()
        return w

    def _load_delivery(self) -> None:
        c = self.service.config()
        self.webhook_url.setText(c.webhook_url)
        self.smtp_host.setText(c.email_host)
        self.smtp_port.setValue(c.email_port)
        self.smtp_security.setCurrentIndex(self.smtp_security.findData(c.email_security))
        self.smtp_user.setText(c.email_user)
        self.email_from.setText(c.email_from)
        self.email_to.setText(", ".join(c.email_to))
        self.sms_url.setText(c.sms_url)
        self.sms_phone.setText(c.sms_phone)
        self.tries.setValue(c.max_attempts)
        self.backoff.setValue(int(c.backoff_s))
        for edit, name in ((self.webhook_secret, "webhook_secret"), (self.smtp_password, "smtp_password"),
                           (self.sms_key, "sms_key")):
            try:
                has = bool(get_secret(name))
            except DeliveryError:
                has = False
            edit.clear()
            edit.setPlaceholderText("stored in the keyring (type to replace)" if has else "kept in the keyring")

    def delivery_config(self) -> DeliveryConfig:
        """The settings the fields describe (checked). Raises ``AlertError``."""
        return DeliveryConfig(
            webhook_url=self.webhook_url.text(), email_host=self.smtp_host.text(), email_port=self.smtp_port.value(),
            email_security=str(self.smtp_security.currentData()), email_user=self.smtp_user.text(),
            email_from=self.email_from.text(), email_to=tuple(self.email_to.text().split(",")),
            sms_url=self.sms_url.text(), sms_phone=self.sms_phone.text(), max_attempts=self.tries.value(),
            backoff_s=float(self.backoff.value()),
        ).checked()

    def _on_delivery_save_clicked(self) -> None:
        try:
            self.service.set_config(self.delivery_config())
            for edit, name in ((self.webhook_secret, "webhook_secret"), (self.smtp_password, "smtp_password"),
                               (self.sms_key, "sms_key")):
                if edit.text():
                    set_secret(name, edit.text())
        except (AlertError, DeliveryError) as exc:
            self.delivery_problem.setText(str(exc))
            self.delivery_problem.setStyleSheet("color: #ef5350;")
            return
        self.delivery_problem.setText("Saved. Secrets are in the keyring.")
        self.delivery_problem.setStyleSheet("color: #26a69a;")
        self._load_delivery()

    # ------------------------------------------------------------------ reload
    def reload(self) -> None:
        """Read alerts, history and failed deliveries again."""
        alerts = self.service.alerts()
        self.service.plans()  # scope problems show in the Status column
        self.alert_model.set_rows(alerts)
        self.alert_view.fit_columns(maximum={"Conditions": 260, "Status": 220}, default_maximum=200, fit_width=True)
        active = sum(self.service.status(a) == "active" for a in alerts)
        self.count_label.setText(f"{len(alerts)} alerts, {active} active")
        history = self.service.history()
        self.history_model.set_rows(history)
        self.history_view.fit_columns(maximum={"Values": 520, "Message": 320}, default_maximum=220)
        unread = sum(e.acknowledged_at is None for e in history)
        self.tabs.setTabText(1, f"History ({unread})" if unread else "History")
        failed = self.service.deliveries("failed")
        self.failed_model.set_rows(failed)
        self.failed_view.fit_columns(maximum={"Error": 900}, default_maximum=160)
        self.tabs.setTabText(2, f"Delivery ({len(failed)} failed)" if failed else "Delivery")
        self.failed_label.setText(f"Failed deliveries: {len(failed)}" if failed else "Failed deliveries: none")

    def _entry_state(self, e: HistoryEntry) -> str:
        if e.snoozed_until:
            return f"snoozed until {utc_text(e.snoozed_until)}"
        return "acknowledged" if e.acknowledged_at else "new"

    # ------------------------------------------------------------------ slots
    def _selected_alert(self) -> AlertTemplate | None:
        rows = self.alert_view.selected_rows()
        return rows[0] if rows else None

    def _on_alert_selected(self, *_: object) -> None:
        a = self._selected_alert()
        if a is not None:
            self.editor.load(a)

    def _on_enable_clicked(self) -> None:
        a = self._selected_alert()
        if a is not None and a.id is not None:
            self.service.set_enabled(a.id, not a.enabled)
            self.reload()

    def _on_delete_clicked(self) -> None:
        a = self._selected_alert()
        if a is not None and a.id is not None:
            self.service.delete(a.id)
            self.editor.load(None)
            self.reload()

    def _selected_entries(self) -> list[HistoryEntry]:
        return list(self.history_view.selected_rows())

    def _on_ack_clicked(self) -> None:
        ids = [e.id for e in self._selected_entries()]
        if ids:
            self.service.acknowledge(ids)
            self.reload()

    def _on_ack_all_clicked(self) -> None:
        ids = [e.id for e in self.service.history() if e.acknowledged_at is None]
        if ids:
            self.service.acknowledge(ids)
            self.reload()

    def _on_snooze_clicked(self, seconds: int) -> None:
        for e in self._selected_entries():
            try:
                self.service.snooze(e.id, seconds)
            except (AlertError, KeyError):
                continue
        self.reload()

    def _on_history_double_clicked(self, index: object) -> None:
        e = self.history_view.source_row(index)  # type: ignore[arg-type]
        if e is not None:
            self.symbol_activated.emit(e.symbol)

    def _on_retry_clicked(self) -> None:
        for d in self.failed_view.selected_rows():
            if isinstance(d, Delivery):
                self.service.retry(d.id)
        self.reload()
