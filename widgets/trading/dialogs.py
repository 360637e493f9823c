"""Dialogs of the trading docks: confirm an order, modify a working order, create a paper account."""
from __future__ import annotations

from typing import Any

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.paper.account import AccountKind
from engine.paper.orders import OrderType, OrderView, TimeInForce
from engine.paper.ticket import edit_text, parse_decimal
from widgets import style
from widgets.trading.fmt import ORDER_TYPE_LABELS
from widgets.trading.session import TradingSession


class OrderConfirmDialog(QDialog):
    """The order in a few lines (side, size, symbol, type, prices, value, commission, risk,
    account), the engine's questions (each needs this yes), and "Don't ask again"."""

    def __init__(self, lines: Sequence[str], questions: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("orderConfirmDialog")
        self.setWindowTitle("Confirm order")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        lay = QVBoxLayout(self)
        head = QLabel(lines[0] if lines else "")
        head.setObjectName("confirmHeadline")
        f = head.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.2)
        head.setFont(f)
        lay.addWidget(head)
        self.summary = QLabel("\n".join(lines[1:]))
        self.summary.setObjectName("confirmSummary")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.summary)
        self.questions = QLabel("\n".join(f"• {q[:1].upper()}{q[1:]}" for q in questions))
        self.questions.setObjectName("confirmQuestions")
        self.questions.setWordWrap(True)
        self.questions.setStyleSheet(f"color: {style.CHART.down};")
        self.questions.setVisible(bool(questions))
        lay.addWidget(self.questions)
        self.dont_ask_again = QCheckBox("Don't ask again (turn it back on below the ticket)")
        self.dont_ask_again.setObjectName("confirmDontAsk")
        self.dont_ask_again.setVisible(not questions)  # the engine's questions are always asked
        lay.addWidget(self.dont_ask_again)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.send_btn = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.send_btn.setText("Send anyway" if questions else "Send")
        self.send_btn.setObjectName("confirmSend")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)


class ModifyOrderDialog(QDialog):
    """Edit a working order's quantity, the prices its type has and its time in force (DAY or
    GTC). ``changes`` after accept (``PaperSession.modify`` keywords)."""

    def __init__(self, order: OrderView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modifyOrderDialog")
        self.order = order
        self.changes: dict[str, Any] = {}
        self.setWindowTitle(f"Modify {order.side.value} {order.symbol} {ORDER_TYPE_LABELS[order.type].lower()}")
        form = QFormLayout(self)
        self.qty = QSpinBox()
        self.qty.setObjectName("modifyQty")
        self.qty.setRange(max(1, order.filled_qty + 1), 100_000_000)
        self.qty.setValue(order.qty)
        self.qty.setGroupSeparatorShown(True)
        form.addRow("Quantity", self.qty)
        self.limit = QLineEdit(edit_text(order.limit_price))
        self.limit.setObjectName("modifyLimit")
        self.stop = QLineEdit(edit_text(order.stop_price))
        self.stop.setObjectName("modifyStop")
        trail = order.trail_amount if order.trail_amount is not None else order.trail_percent
        self.trail = QLineEdit(edit_text(trail, 2 if order.trail_amount is not None else 0))
        self.trail.setObjectName("modifyTrail")
        if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            form.addRow("Limit price", self.limit)
        if order.type in (OrderType.STOP, OrderType.STOP_LIMIT):
            form.addRow("Stop price", self.stop)
        if order.type is OrderType.TRAILING_STOP:
            form.addRow("Trail " + ("$" if order.trail_amount is not None else "%"), self.trail)
        self.tif = QComboBox()
        self.tif.setObjectName("modifyTif")
        self.tif.addItem("DAY (expires at the close)", TimeInForce.DAY.value)
        self.tif.addItem("GTC (good till cancelled)", TimeInForce.GTC.value)
        if order.tif in (TimeInForce.DAY, TimeInForce.GTC):
            self.tif.setCurrentIndex(self.tif.findData(order.tif.value))
            form.addRow("Time in force", self.tif)
        else:
            self.tif.hide()  # IOC/FOK orders do not stay working long enough to change
        self.error = QLabel("")
        self.error.setStyleSheet(f"color: {style.CHART.down};")
        self.error.setWordWrap(True)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def accept(self) -> None:
        o = self.order
        ch: dict[str, Any] = {}
        try:
            if self.qty.value() != o.qty:
                ch["qty"] = self.qty.value()
            lim, stp, tr = parse_decimal(self.limit.text()), parse_decimal(self.stop.text()), parse_decimal(self.trail.text())
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        for name, new, old in (("limit_price", lim, o.limit_price), ("stop_price", stp, o.stop_price)):
            if new is not None and new != old:
                if new <= 0:
                    self.error.setText(f"{name.replace('_', ' ')} must be positive")
                    return
                ch[name] = new
        if o.tif in (TimeInForce.DAY, TimeInForce.GTC) and self.tif.currentData() != o.tif.value:
            ch["tif"] = str(self.tif.currentData())
        if o.type is OrderType.TRAILING_STOP and tr is not None:
            key, old = ("trail_amount", o.trail_amount) if o.trail_amount is not None else ("trail_percent", o.trail_percent)
            if tr != old:
                ch[key] = tr
        self.changes = ch
        super().accept()


class NewAccountDialog(QDialog):
    """Name, starting cash and kind (cash or margin) of a new paper account."""

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newAccountDialog")
        self.setWindowTitle("New paper account")
        self.session = session
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.name.setObjectName("accountName")
        self.name.setPlaceholderText("e.g. Swing trades")
        self.cash = QLineEdit("100,000")
        self.cash.setObjectName("accountCash")
        self.kind = QComboBox()
        self.kind.setObjectName("accountKind")
        self.kind.addItem("Cash (no shorting, no leverage)", AccountKind.CASH.value)
        self.kind.addItem("Margin (Reg-T: 2× overnight, 4× intraday, shorting)", AccountKind.MARGIN.value)
        form.addRow("Name", self.name)
        form.addRow("Starting cash ($)", self.cash)
        form.addRow("Kind", self.kind)
        self.error = QLabel("")
        self.error.setObjectName("accountError")
        self.error.setStyleSheet(f"color: {style.CHART.down};")
        self.error.setWordWrap(True)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def accept(self) -> None:
        name = self.name.text().strip()
        if not name:
            self.error.setText("Give the account a name.")
            return
        try:
            cash = parse_decimal(self.cash.text())
        except ValueError as exc:
            self.error.setText(f"Starting cash: {exc}")
            return
        if cash is None or cash < 0:
            self.error.setText("Starting cash must be a positive amount.")
            return
        res = self.session.create_account(name, cash, str(self.kind.currentData()))
        if res.error is not None:
            self.error.setText(res.error)
            return
        super().accept()


__all__ = ["ModifyOrderDialog", "NewAccountDialog", "OrderConfirmDialog"]
