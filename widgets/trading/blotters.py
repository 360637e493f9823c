"""The trading blotters: working orders (modify, cancel), order history, fills, positions
(P&L, flatten, reverse). Thin views over the session adapter's signals, each on the app's
one table (``widgets.table``): sort by a header click, columns from the header menu, Ctrl+C
copies the selected rows, "Export CSV…" writes every row; columns, widths and the sort are
saved with the layout (``state()``)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.paper.ledger import PositionView
from engine.paper.orders import Fill, OrderView
from engine.paper.session import CommandResult
from engine.paper.ticket import parse_decimal
from widgets import style
from engine.formatting import money
from widgets.table import TableModel, TableView
from widgets.trading.fmt import ZERO, pnl_color
from widgets.trading.models import PositionsModel, fills_model, make_table, order_model, price_field
from widgets.trading.session import TradingSession


def hint(text: str) -> QLabel:
    """A wrapped grey hint line."""
    lbl = QLabel(text)
    lbl.setObjectName("hint")
    lbl.setWordWrap(True)
    return lbl


class SessionView(QWidget):
    """Base of the trading docks: reloads on account change, shows command errors."""

    reload: Callable[[], None]

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.error = QLabel("")
        self.error.setObjectName("tradingError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {style.CHART.down};")
        self.error.hide()
        session.account_selected.connect(self._on_account_selected)

    def _on_account_selected(self, _name: str) -> None:
        self.reload()  # each dock defines reload(): load the chosen account's rows

    def _on_failed(self, text: str) -> None:
        """Show a failed command (docks that run commands connect it and lay out ``error``)."""
        if self.isVisible():
            self.show_error(text)

    def show_error(self, text: str) -> None:
        """``text`` in the dock's error line for eight seconds."""
        self.error.setText(text)
        self.error.show()
        QTimer.singleShot(8000, self.error, self.error.hide)


class BlotterView(SessionView):
    """A trading dock around one table: the table's columns, widths and sort are the dock's
    saved ``state()``; "Export CSV…" (button and header menu) writes its rows."""

    model: TableModel
    table: TableView

    def _make_table(self, model: TableModel, name: str, single: bool = False) -> TableView:
        self.model = model
        self.table = make_table(model, name, single)
        self.table.extend_header_menu = self._extend_header_menu
        self.export_btn = QToolButton(text="Export CSV…", toolTip="Write every row of this table to a CSV file")
        self.export_btn.setObjectName("exportCsvButton")
        self.export_btn.clicked.connect(self.export_csv_dialog)
        return self.table

    def _extend_header_menu(self, menu: QMenu) -> None:
        menu.addAction("Export CSV…", self.export_csv_dialog)

    def _lay_out(self, *bar: QWidget | tuple[QWidget, int] | int | None) -> None:
        """The dock: a tool row (``bar``: widgets, ``(widget, stretch)``, an ``int`` for
        spacing, ``None`` for a stretch) ending with Export CSV, then the error line and the
        table."""
        row = QHBoxLayout()
        for item in bar:
            if item is None:
                row.addStretch(1)
            elif isinstance(item, int):
                row.addSpacing(item)
            elif isinstance(item, tuple):
                row.addWidget(*item)
            else:
                row.addWidget(item)
        row.addWidget(self.export_btn)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(row)
        lay.addWidget(self.error)
        lay.addWidget(self.table, 1)

    def _fit(self) -> None:
        """Size the columns to their values and headers (blotters hold tens of rows, so this
        stays cheap); widths the user chose stay, a long reason is cut at 360 px."""
        self.table.fit_columns(maximum={"reason": 360})

    def state(self) -> dict[str, Any]:
        """The table's hidden columns, widths and sort (saved with the layout)."""
        return {"table": self.table.view_state()}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back a ``state()``; a damaged entry is skipped."""
        table = state.get("table") if isinstance(state, dict) else None
        if isinstance(table, dict):
            self.table.restore_view_state(table)

    def export_csv(self, path: str | Path) -> Path | None:
        """Write the table to ``path`` (``TableView.export_csv``); a failure is shown in the dock."""
        try:
            return self.table.export_csv(path)
        except OSError as e:
            self.show_error(f"Could not write {path}: {e.strerror or e}.")
            return None

    def export_csv_dialog(self) -> None:
        """Ask where, then ``export_csv``."""
        default = f"{self.table.objectName().removesuffix('Table') or 'table'}.csv"
        path, _filter = QFileDialog.getSaveFileName(self, "Export CSV", default, "CSV files (*.csv)")
        if path:
            self.export_csv(path)




#: the change a Working Orders cell makes, by column key (None: the order's one price)
_CELL_FIELDS: dict[str, str | None] = {"qty": "qty", "prices": None, "limit": "limit_price",
                                       "stop": "stop_price", "tif": "tif"}


def cell_change(o: OrderView, key: str, text: str) -> dict[str, Any]:
    """The ``PaperSession.modify`` changes of typing ``text`` into ``o``'s ``key`` cell.
    Raises ``ValueError`` with one sentence for a value that cannot be an order's."""
    field = _CELL_FIELDS.get(key, "")
    if field is None:
        field = price_field(o)
    if not field:
        raise ValueError(f"the {key} of this order cannot be changed here")
    if field == "tif":
        tif = text.strip().lower()
        if tif not in ("day", "gtc"):
            raise ValueError(f"time in force {text!r}: a working order can be DAY or GTC")
        return {"tif": tif}
    value = parse_decimal(text)
    if value is None:
        raise ValueError(f"give a {'quantity' if field == 'qty' else field.replace('_', ' ')}")
    if field == "qty":
        if value != value.to_integral_value() or value <= 0:
            raise ValueError(f"quantity {text!r} must be a whole number of shares above 0")
        return {"qty": int(value)}
    if value <= 0:
        raise ValueError(f"{field.replace('_', ' ')} {text!r} must be above 0")
    return {field: value}


class WorkingOrdersWidget(BlotterView):
    """Working orders of the chosen account: modify in place (double-click or F2 on the
    quantity, price or TIF cell; the Modify dialog elsewhere) and cancel. A change goes
    through the broker thread and the engine's checks: a refusal is shown and the cell keeps
    the order's value; a question is asked, and yes sends it again confirmed."""

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("workingOrdersWidget")
        self._make_table(order_model(history=False), "workingOrdersTable")
        self.table.enable_editing()
        self.model.cell_edited.connect(self._on_cell_edited)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.question: QMessageBox | None = None
        self.modify_btn = QToolButton(text="Modify…", toolTip="Change quantity, prices or time in force of the "
                                      "selected order (or double-click its Qty, Price or TIF cell)")
        self.cancel_btn = QToolButton(text="Cancel order", toolTip="Cancel the selected working orders (Del)")
        self.cancel_all_btn = QToolButton(text="Cancel all", toolTip="Cancel every working order of this account")
        self.modify_btn.clicked.connect(self.modify_selected)
        self.cancel_btn.clicked.connect(self.cancel_selected)
        self.cancel_all_btn.clicked.connect(self.cancel_all)
        self.cancel_btn.setShortcut("Del")
        self.empty = hint("No working orders. Place one from the Order Ticket.")
        self._lay_out(self.modify_btn, self.cancel_btn, self.cancel_all_btn, None, self.empty)
        session.order_updated.connect(self._on_order)
        session.command_failed.connect(self._on_failed)
        self.reload()

    def reload(self) -> None:
        orders, _f, _p = self.session.snapshot()
        self.model.set_rows([o for o in orders if o.is_working])
        self._sync()

    def _sync(self) -> None:
        self.empty.setVisible(self.model.rowCount() == 0)
        has = self.model.rowCount() > 0
        for b in (self.modify_btn, self.cancel_btn, self.cancel_all_btn, self.export_btn):
            b.setEnabled(has)
        if has:
            self._fit()

    def _on_order(self, o: OrderView) -> None:
        if o.is_working:
            self.model.upsert(o)
        else:
            self.model.remove(o.order_id)
        self._sync()

    def selected_orders(self) -> list[OrderView]:
        """The selected orders in the order shown; the only one when nothing is selected."""
        rows = self.table.selected_rows()
        if rows:
            return rows
        return list(self.model.rows) if self.model.rowCount() == 1 else []

    def selected(self) -> OrderView | None:
        rows = self.selected_orders()
        return rows[0] if rows else None

    def cancel_selected(self) -> None:
        for o in self.selected_orders():
            self.session.send_cancel(o.order_id)

    def cancel_all(self) -> None:
        for o in list(self.model.rows):
            self.session.send_cancel(o.order_id)

    def modify_selected(self) -> None:
        o = self.selected()
        if o is None:
            return
        from widgets.trading.dialogs import ModifyOrderDialog

        dlg = ModifyOrderDialog(o, self)
        if dlg.exec() == QDialog.DialogCode.Accepted and dlg.changes:
            self.modify(o, dlg.changes)

    def _on_double_clicked(self, index: QModelIndex) -> None:
        if not self.table.is_editable(index):
            self.modify_selected()

    def _on_cell_edited(self, o: OrderView, key: str, text: str) -> None:
        try:
            changes = cell_change(o, key, text)
        except ValueError as exc:
            self.show_error(f"{str(exc)[:1].upper()}{str(exc)[1:]}; the order was not changed.")
            self._revert(o.order_id)
            return
        self.modify(o, changes)

    def modify(self, o: OrderView, changes: dict[str, Any], confirmed: bool = False) -> None:
        """Send ``changes`` of ``o`` through the broker thread; a question from the engine's
        checks is asked (``question``) and yes sends them again with ``confirmed=True``."""
        kw = dict(changes, confirmed=True) if confirmed else dict(changes)

        def done(res: CommandResult[Any]) -> None:
            if res.ok:
                return
            self._revert(o.order_id)
            if res.confirm and not confirmed:
                self.error.hide()  # a question, not a failure
                self._ask(o, changes, res.confirm)

        self.session.send_modify(o.order_id, kw, done)

    def _ask(self, o: OrderView, changes: dict[str, Any], questions: Sequence[str]) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, "Modify order",
                          f"Change {o.side.value} {o.symbol}?\n\n" + "\n".join(f"• {q}" for q in questions),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("modifyQuestion")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.question = box

        def answered(_result: int) -> None:
            self.question = None
            if box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Yes:
                self.modify(o, changes, confirmed=True)

        box.finished.connect(answered)
        box.open()

    def _revert(self, order_id: str) -> None:
        """Show the order as the engine has it (the edit was not made)."""
        row = self.model.row_for(order_id)
        if row is not None:
            self.model.upsert(row)


class OrderHistoryWidget(BlotterView):
    """Every order of the chosen account, newest change first."""

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("orderHistoryWidget")
        self._make_table(order_model(history=True), "orderHistoryTable")
        self.search = QLineEdit()
        self.search.setObjectName("orderHistorySearch")
        self.search.setPlaceholderText("Search: symbol, side, type, state, reason…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Shows the orders whose row holds every word typed; Export CSV writes the rows shown")
        self.search.textChanged.connect(self.table.proxy.set_text_filter)
        self.search.textChanged.connect(lambda *_: self._sync_count())
        self.count = QLabel("")
        self.count.setObjectName("orderHistoryCount")
        self._lay_out((self.search, 1), self.count)
        session.order_updated.connect(self._on_order)
        self.reload()

    def reload(self) -> None:
        orders, _f, _p = self.session.snapshot()
        self.model.set_rows(sorted(orders, key=lambda o: (o.updated_ms, o.created_ms)))
        self._fit()
        self._sync_count()

    def _sync_count(self) -> None:
        shown, n = self.table.proxy.rowCount(), self.model.rowCount()
        self.count.setText(f"{shown:,} of {n:,}" if shown != n else f"{n:,} order{'s' if n != 1 else ''}")

    def _on_order(self, o: OrderView) -> None:
        # An order that changed moves to the top (of the rows' own order; a sort still applies).
        self.model.remove(o.order_id)
        self.model.upsert(o)
        self._fit()
        self._sync_count()


class FillsWidget(BlotterView):
    """Executions of the chosen account, newest first, with the total of fees."""

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("fillsWidget")
        self._make_table(fills_model(), "fillsTable")
        self.total = QLabel("")
        self.total.setObjectName("fillsTotal")
        self._lay_out((self.total, 1))
        session.fill_added.connect(self._on_fill)
        self.reload()

    def reload(self) -> None:
        _o, fills, _p = self.session.snapshot()
        self.model.set_rows(fills)
        self._sync()

    def _on_fill(self, f: Fill) -> None:
        self.model.upsert(f)
        self._sync()

    def _sync(self) -> None:
        n = self.model.rowCount()
        fees = sum((f.fee for f in self.model.rows), ZERO)
        self.total.setText(f"{n:,} fill{'s' if n != 1 else ''} · fees {money(fees)}" if n else "No fills yet.")
        self.export_btn.setEnabled(n > 0)
        if n:
            self._fit()


class PositionsWidget(BlotterView):
    """Open positions with P&L; flatten or reverse the selected one."""

    symbol_activated = Signal(str)

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("positionsWidget")
        self.positions = PositionsModel(session)
        self._make_table(self.positions, "positionsTable", single=True)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.flatten_btn = QToolButton(text="Flatten", toolTip="Cancel the symbol's orders and close the position at market")
        self.reverse_btn = QToolButton(text="Reverse", toolTip="Cancel the symbol's orders and turn the position around at market")
        self.flatten_btn.clicked.connect(self.flatten_selected)
        self.reverse_btn.clicked.connect(self.reverse_selected)
        self.total = QLabel("")
        self.total.setObjectName("positionsTotal")
        self.total.setTextFormat(Qt.TextFormat.RichText)
        self._lay_out(self.flatten_btn, self.reverse_btn, 12, (self.total, 1))
        session.position_changed.connect(self._on_position)
        session.quotes_changed.connect(self._on_quotes)
        session.marks_changed.connect(self._on_quotes)
        session.summary_changed.connect(self._on_summary)
        session.command_failed.connect(self._on_failed)
        self.reload()

    def reload(self) -> None:
        _o, _f, positions = self.session.snapshot()
        self.positions.load(positions)
        self._sync()

    def _on_summary(self, _s: object) -> None:
        # today's realized P&L per symbol comes with the summary: closed symbols join the list
        for p in self.positions.closed_today():
            self.positions.upsert(p)
        self.model.refresh_all()
        self._sync()

    def _on_position(self, p: PositionView) -> None:
        self.positions.apply(p)
        self._sync()

    def _on_quotes(self) -> None:
        self.model.refresh_all()
        self._sync()

    def _sync(self) -> None:
        n_open = sum(1 for p in self.model.rows if p.qty)
        closed = self.model.rowCount() - n_open
        self.flatten_btn.setEnabled(n_open > 0)
        self.reverse_btn.setEnabled(n_open > 0)
        self.export_btn.setEnabled(self.model.rowCount() > 0)
        if self.model.rowCount():
            self._fit()
        s = self.session.summary
        day = getattr(s, "day_realized_pnl", None) if s is not None else None
        parts = []
        if n_open:
            marks = self.session.marks
            total = marks.unrealized
            col = pnl_color(total)
            txt = money(total, True) + ("" if marks.complete else " (some without a quote)")
            parts.append(f"{n_open} open · unrealized " + (f'<span style="color:{col.name()}">{txt}</span>' if col else txt))
        else:
            parts.append("No open positions.")
        if closed:
            parts.append(f"{closed} closed today")
        if day:
            col = pnl_color(day)
            txt = money(day, True)
            parts.append("realized today " + (f'<span style="color:{col.name()}">{txt}</span>' if col else txt))
        self.total.setText(" · ".join(parts))

    def selected(self) -> PositionView | None:
        rows = [p for p in self.table.selected_rows() if p.qty]
        if rows:
            return rows[0]
        open_rows = [p for p in self.model.rows if p.qty]
        return open_rows[0] if len(open_rows) == 1 else None

    def flatten_selected(self) -> None:
        p = self.selected()
        if p is not None:
            self.session.send_flatten(p.symbol)

    def reverse_selected(self) -> None:
        p = self.selected()
        if p is not None:
            self.session.send_reverse(p.symbol)

    def _on_double_clicked(self, index: QModelIndex) -> None:
        p = self.table.source_row(index)
        if p is not None:
            self.symbol_activated.emit(p.symbol)


__all__ = ["BlotterView", "FillsWidget", "OrderHistoryWidget", "PositionsWidget", "SessionView",
           "WorkingOrdersWidget", "hint"]
