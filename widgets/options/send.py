"""Send option legs to the paper broker from the options dock: the confirmation dialog.

``OptionOrderSender`` takes legs (from the strategy builder or a chain row), asks the trading
session to quote and preview them on the broker thread (``PaperSession.prepare_options``:
the same checks the broker applies, ``engine.paper.checks`` and the Reg-T rules of
``engine.paper.options``), shows a confirmation with the net price, max loss and profit at
expiry and the buying-power effect, and on OK places them — one contract as an order, two or
more legs as a package filled all-or-none at the net price — after which they appear in the
Working Orders, Fills and Positions docks. Early assignment is not simulated; the dialog says
so.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.formatting import money
from engine.paper.orders import OrderRequest

EARLY_ASSIGNMENT = ("Paper options: contracts settle at the close of expiry day (in the money by $0.01 or more: "
                    "exercised / assigned into shares, index options in cash); early assignment is not simulated.")


def _m(v: object, unlimited: str = "unlimited") -> str:
    return unlimited if v is None else money(Decimal(str(v)))


class ConfirmOptionsDialog(QDialog):
    """The confirmation: legs with their prices, the net, max loss/profit, buying power."""

    def __init__(self, legs: list[OrderRequest], preview: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confirmOptionsDialog")
        self.setWindowTitle("Send options to the paper broker")
        self.legs = legs
        self.preview = preview
        table = QTableWidget(len(legs), 4, objectName="confirmOptionsLegs")
        table.setHorizontalHeaderLabels(["Side", "Contracts", "Contract", "Fills at"])
        table.verticalHeader().setVisible(False)
        for i, (leg, px) in enumerate(zip(legs, preview.get("prices") or [None] * len(legs))):
            at = "—" if px is None else f"{px.normalize():f} ({'ask' if leg.side.value == 'buy' else 'bid'})"
            for j, v in enumerate((leg.side.value, str(leg.qty), leg.symbol, at)):
                table.setItem(i, j, QTableWidgetItem(v))
        table.resizeColumnsToContents()
        net = preview.get("net")
        units = int(preview.get("units") or 1)
        self.limit = QDoubleSpinBox(decimals=2, minimum=-100000, maximum=100000, singleStep=0.05,
                                    objectName="confirmOptionsLimit")
        if net is not None:
            self.limit.setValue(float(net))
        net_text = "—" if net is None else (f"debit {abs(net).normalize():f}" if net >= 0 else
                                            f"credit {abs(net).normalize():f}")
        lines = [
            f"<b>Net at the quotes:</b> {net_text} per share × 100 × {units} "
            f"= {_m(abs(Decimal(str(preview['cash']))) if preview.get('cash') is not None else None, '—')} "
            f"({'you pay' if (net or 0) >= 0 else 'you receive'})",
            f"<b>Commission:</b> {_m(preview.get('fees'), '—')} (per contract)",
            f"<b>Max loss at expiry:</b> {_m(preview.get('max_loss'))} · <b>max profit:</b> "
            f"{_m(preview.get('max_profit'))}",
            f"<b>Buying power effect:</b> {_m(preview.get('need'), '—')} (Reg-T requirement change "
            f"{_m(preview.get('requirement'), '—')}); available {_m(preview.get('available'), '—')}",
        ]
        problem = str(preview.get("problem") or "")
        if problem:
            lines.append(f"<b style='color:#ef5350'>Would be refused:</b> {problem}")
        self.summary = QLabel("<br>".join(lines), wordWrap=True, objectName="confirmOptionsSummary")
        note = QLabel(EARLY_ASSIGNMENT, wordWrap=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Send" if not problem else "Send anyway")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(table)
        lay.addWidget(self.summary)
        if len(legs) > 1:
            row = QHBoxLayout()
            row.addWidget(QLabel("Net limit per share (debit > 0, credit < 0):"))
            row.addWidget(self.limit)
            row.addStretch(1)
            lay.addLayout(row)
        lay.addWidget(note)
        lay.addWidget(buttons)
        self.resize(620, 360)

    @property
    def net_limit(self) -> Decimal | None:
        if len(self.legs) < 2:
            return None
        return Decimal(f"{self.limit.value():.2f}")


class OptionOrderSender(QObject):
    """Quote, preview, confirm and place option legs through ``trading`` (a
    ``widgets.trading.session.TradingSession``). ``ask(dialog)`` shows the dialog and returns
    whether it was accepted (tests replace it)."""

    sent = Signal(object)  # tuple[OrderView, ...]
    failed = Signal(str)

    def __init__(self, trading: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trading = trading
        self.parent_widget = parent
        self.ask: Callable[[ConfirmOptionsDialog], bool] = lambda d: d.exec() == QDialog.DialogCode.Accepted
        self.last_dialog: ConfirmOptionsDialog | None = None

    def send_legs(self, legs: list[tuple[str, int, str]]) -> None:
        """Start: ``legs`` as (side, contracts, OCC symbol)."""
        try:
            reqs = [OrderRequest(sym, side, qty) for side, qty, sym in legs]
        except ValueError as exc:
            self.failed.emit(str(exc))
            return
        core = self.trading.core
        self.trading.send(lambda: core.prepare_options(reqs), lambda res: self._on_previewed(reqs, res))

    def _on_previewed(self, reqs: list[OrderRequest], res: Any) -> None:
        if res.value is None:
            self.failed.emit(res.error or "the options could not be priced")
            return
        dialog = ConfirmOptionsDialog(reqs, res.value, self.parent_widget)
        self.last_dialog = dialog
        if not self.ask(dialog):
            return
        core = self.trading.core
        if len(reqs) == 1:
            self.trading.send(lambda: core.submit_all(reqs, confirmed=True), self._on_done)
        else:
            net = dialog.net_limit
            self.trading.send(lambda: core.submit_package(reqs, net, tif="day"), self._on_done)

    def _on_done(self, res: Any) -> None:
        if res.error is not None:
            self.failed.emit(res.error)
        elif res.value is not None:
            self.sent.emit(tuple(res.value))


__all__ = ["ConfirmOptionsDialog", "EARLY_ASSIGNMENT", "OptionOrderSender"]
