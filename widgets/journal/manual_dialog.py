"""Manual entry of a trade made elsewhere: symbol, side, entry and exit legs (time in UTC,
quantity, price, fee) and the stop (for R), checked as the user types.

Values are exact ``Decimal``s parsed from the text (never floats); quantities and prices
must be positive and fees ≥ 0, no exit may come before the first entry, and the exits must
close the entries exactly — otherwise the open rest is stated ("40 still open") and OK stays
disabled, since only closed round trips are journalled. OK calls ``JournalStore.add``
(source "manual").
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QDateTime, QTimeZone, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.journal.roundtrips import RoundTrip, to_decimal
from engine.journal.store import JournalStore, StoredEntry, trip_from_json

#: one leg as typed: (epoch ms, quantity text, price text, fee text)
LegText = tuple[int, str, str, str]


def _leg(row: LegText, what: str) -> tuple[int, Decimal, Decimal, Decimal]:
    t, q, p, f = row
    qty = to_decimal(q.strip(), f"{what}: quantity") if q.strip() else None
    price = to_decimal(p.strip(), f"{what}: price") if p.strip() else None
    if qty is None or price is None:
        raise ValueError(f"{what}: give a quantity and a price")
    fee = to_decimal(f.strip() or "0", f"{what}: fee")
    if qty <= 0:
        raise ValueError(f"{what}: the quantity must be positive, not {qty}")
    if price <= 0:
        raise ValueError(f"{what}: the price must be positive, not {price}")
    if fee < 0:
        raise ValueError(f"{what}: the fee must be 0 or more, not {fee}")
    return t, qty, price, fee


def build_trip(symbol: str, direction: str, entries: Sequence[LegText], exits: Sequence[LegText],
               stop: str = "") -> RoundTrip:
    """The round trip of a manual entry, from the texts typed (exact decimals). Raises
    ``ValueError`` with one sentence naming what is wrong (including the open rest)."""
    symbol = symbol.strip().upper()
    if not symbol:
        raise ValueError("give the symbol")
    if direction not in ("long", "short"):
        raise ValueError("the side must be long or short")
    if not entries or not exits:
        raise ValueError("give at least one entry and one exit")
    ent = [_leg(r, f"entry {i + 1}") for i, r in enumerate(entries)]
    ext = [_leg(r, f"exit {i + 1}") for i, r in enumerate(exits)]
    first = min(t for t, *_ in ent)
    for i, (t, *_rest) in enumerate(ext):
        if t < first:
            raise ValueError(f"exit {i + 1} is before the first entry")
    bought, sold = sum((q for _, q, _, _ in ent), Decimal(0)), sum((q for _, q, _, _ in ext), Decimal(0))
    if sold > bought:
        raise ValueError(f"the exits ({sold}) are more than the entries ({bought})")
    if sold < bought:
        raise ValueError(f"{bought - sold} still open: only a closed trade can be journalled; add the exit")
    stop_text = stop.strip()
    if stop_text:
        s = to_decimal(stop_text, "stop")
        if s <= 0:
            raise ValueError(f"the stop must be a positive price, not {s}")

    def rows(legs: list[tuple[int, Decimal, Decimal, Decimal]]) -> list[list[Any]]:
        return [[t, int(q) if q == q.to_integral_value() else str(q), str(p), str(f)] for t, q, p, f in legs]

    return trip_from_json({"symbol": symbol, "direction": direction, "entries": rows(ent), "exits": rows(ext),
                           "stop": stop_text or None})


class LegsEditor(QGroupBox):
    """Rows of legs (time UTC, quantity, price, fee); ``changed`` on every edit."""

    changed = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.rows: list[tuple[QDateTimeEdit, QLineEdit, QLineEdit, QLineEdit, QPushButton]] = []
        v = QVBoxLayout(self)
        self.grid = QGridLayout()
        for c, h in enumerate(("Time (UTC)", "Quantity", "Price", "Fee")):
            self.grid.addWidget(QLabel(h), 0, c)
        v.addLayout(self.grid)
        self.add_btn = QPushButton("Add leg")
        self.add_btn.clicked.connect(lambda: self.add_row())
        v.addWidget(self.add_btn)

    def add_row(self, when_ms: int | None = None, qty: str = "", price: str = "", fee: str = "") -> None:
        t = QDateTimeEdit()
        t.setTimeZone(QTimeZone.utc())
        t.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        t.setCalendarPopup(True)
        ms = when_ms if when_ms is not None else (self.values()[-1][0] if self.rows else
                                                  int(datetime.now(UTC).timestamp()) * 1000)
        t.setDateTime(QDateTime.fromMSecsSinceEpoch(ms, QTimeZone.utc()))
        q, p, f = QLineEdit(qty, placeholderText="100"), QLineEdit(price, placeholderText="12.34"), \
            QLineEdit(fee, placeholderText="0")
        rm = QPushButton("✕")
        rm.setToolTip("Remove this leg")
        r = len(self.rows) + 1
        for c, w in enumerate((t, q, p, f, rm)):
            self.grid.addWidget(w, r, c)
        row = (t, q, p, f, rm)
        self.rows.append(row)
        t.dateTimeChanged.connect(lambda _d: self.changed.emit())
        for e in (q, p, f):
            e.textChanged.connect(lambda _t: self.changed.emit())
        rm.clicked.connect(lambda: self.remove_row(row))
        self.changed.emit()

    def remove_row(self, row: tuple[Any, ...]) -> None:
        self.rows.remove(row)  # type: ignore[arg-type]
        for w in row:
            self.grid.removeWidget(w)
            w.deleteLater()
        self.changed.emit()

    def values(self) -> list[LegText]:
        return [(t.dateTime().toMSecsSinceEpoch(), q.text(), p.text(), f.text()) for t, q, p, f, _ in self.rows]


class ManualEntryDialog(QDialog):
    """The manual-entry dialog (see the module docstring); ``added`` the new entry."""

    added = Signal(object)  # StoredEntry

    def __init__(self, store: JournalStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("journal_manual_dialog")
        self.setWindowTitle("Add a trade made elsewhere")
        self.store = store
        self.entry: StoredEntry | None = None
        v = QVBoxLayout(self)
        form = QFormLayout()
        self.symbol = QLineEdit(placeholderText="AAPL")
        self.side = QComboBox()
        self.side.addItems(["long", "short"])
        self.stop = QLineEdit(placeholderText="optional: the stop price, for R")
        self.account = QLineEdit(placeholderText="broker or account (optional)")
        form.addRow("Symbol", self.symbol)
        form.addRow("Side", self.side)
        form.addRow("Stop", self.stop)
        form.addRow("Account", self.account)
        v.addLayout(form)
        self.entries = LegsEditor("Entries")
        self.exits = LegsEditor("Exits")
        v.addWidget(self.entries)
        v.addWidget(self.exits)
        self.summary = QLabel()
        self.summary.setObjectName("journal_manual_summary")
        self.summary.setWordWrap(True)
        v.addWidget(self.summary)
        v.addStretch(1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_btn = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_btn.setText("Add to journal")
        v.addWidget(self.buttons)
        self.buttons.accepted.connect(self.add)
        self.buttons.rejected.connect(self.reject)
        for w in (self.symbol, self.stop):
            w.textChanged.connect(lambda _t: self.check())
        self.side.currentIndexChanged.connect(lambda _i: self.check())
        self.entries.changed.connect(self.check)
        self.exits.changed.connect(self.check)
        self.entries.add_row()
        self.exits.add_row()
        self.check()

    def trip(self) -> RoundTrip:
        """The trade typed so far; raises ``ValueError`` (one sentence) if it is not valid."""
        return build_trip(self.symbol.text(), self.side.currentText(), self.entries.values(), self.exits.values(),
                          self.stop.text())

    def check(self) -> bool:
        """Validate what is typed; shows the trade's P&L or why it cannot be added."""
        try:
            t = self.trip()
        except ValueError as exc:
            self.summary.setStyleSheet("color: #ef5350")
            self.summary.setText(str(exc))
            self.ok_btn.setEnabled(False)
            return False
        r = "" if t.r_multiple is None else f", {t.r_multiple:+.2f} R"
        self.summary.setStyleSheet("")
        self.summary.setText(f"{t.symbol} {t.direction} {t.qty}: net P&L {t.net_pnl} after {t.fees} fees{r}")
        self.ok_btn.setEnabled(True)
        return True

    def add(self) -> None:
        """Add the trade to the journal (``JournalStore.add``) and close."""
        if not self.check():
            return
        try:
            res = self.store.add(self.trip(), source="manual", account=self.account.text().strip())
        except ValueError as exc:
            self.summary.setStyleSheet("color: #ef5350")
            self.summary.setText(str(exc))
            return
        self.entry = res.entry
        if not res.created:
            self.summary.setText("This trade is already in the journal.")
            return
        self.added.emit(res.entry)
        self.accept()
