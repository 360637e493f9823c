"""Paper-trading docks: working orders, order history, fills, positions, account + equity.

All of them are thin views over one ``TradingSession`` (the ``PaperBroker`` plus the chosen
account, the latest quotes and the live quote driver). Tables are ``QAbstractTableModel``s
over the engine's immutable views (``OrderView``, ``Fill``, ``PositionView``); they load a
snapshot when the account changes and are then kept current by the broker's bus events
(``OrderUpdated``, ``FillOccurred``, ``PositionChanged``, ``AccountChanged``), which the app's
Qt bridge delivers on the GUI thread — nothing polls the database.

Threads: ``PaperBroker`` keeps one sqlite3 connection created on the thread that opened it
(the GUI thread; sqlite3's ``check_same_thread``), so broker commands, ``on_quote`` and the
equity-curve read run here on the GUI thread; they are in-memory matching plus one small
commit or an indexed read of one account's rows. What can be slow — loading bars to make
quotes — runs through the task runner.

Live paper mode: ``QuoteDriver`` asks a quote source (``engine.paper.feed.DemoQuotes`` in
demo mode, ``DelayedQuotes`` over 1-minute bars otherwise) every ``interval_ms`` for the
symbols with working orders or positions, plus the order ticket's symbol, and feeds them to
``broker.on_quote``. The user sees the source named next to the quote ("demo quotes" /
"delayed quotes"): these are never live exchange prices.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.data.bars import Bars
from engine.formatting import money
from engine.paper.account import AccountKind, AccountSummary
from engine.paper.events import AccountChanged, FillOccurred, OrderUpdated, PositionChanged
from engine.paper.ledger import PositionView
from engine.paper.orders import Fill, OrderRequest, OrderType, OrderView, Quote, Role, Side
from widgets import style
from widgets.tasks import TaskSubmitter

log = logging.getLogger(__name__)

ZERO = Decimal(0)


# --------------------------------------------------------------------------- formatting


def fmt_money(d: Decimal | None, signed: bool = False) -> str:
    """``$1,234.56`` (``+$1,234.56`` / ``-$1,234.56`` with ``signed``); ``—`` for None."""
    if d is None:
        return "—"
    return money(d, signed=signed)


def fmt_price(d: Decimal | None) -> str:
    """A price with thousands separators: 2 decimals, up to 4 when it has sub-cents."""
    if d is None:
        return "—"
    if d == d.quantize(Decimal("0.01")):
        return f"{d:,.2f}"
    return f"{d.quantize(Decimal('0.0001')):,.4f}".rstrip("0")


def fmt_time(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


ORDER_TYPE_LABELS = {
    OrderType.MARKET: "Market", OrderType.LIMIT: "Limit", OrderType.STOP: "Stop",
    OrderType.STOP_LIMIT: "Stop-limit", OrderType.TRAILING_STOP: "Trailing stop",
}
ROLE_LABELS = {Role.SINGLE: "", Role.ENTRY: "bracket entry", Role.TAKE_PROFIT: "take-profit",
               Role.STOP_LOSS: "stop-loss", Role.OCO: "OCO"}


def order_prices(o: OrderView) -> str:
    parts = []
    if o.limit_price is not None:
        parts.append(f"lmt {fmt_price(o.limit_price)}")
    if o.stop_price is not None:
        parts.append(f"stp {fmt_price(o.stop_price)}")
    if o.type is OrderType.TRAILING_STOP:
        parts.append(f"trail {fmt_price(o.trail_amount)}" if o.trail_amount is not None
                     else f"trail {o.trail_percent}%")
    return "  ".join(parts) or "mkt"


def pnl_color(d: Decimal | None) -> QColor | None:
    if d is None or d == 0:
        return None
    return QColor(style.CHART.up if d > 0 else style.CHART.down)


# --------------------------------------------------------------------------- quotes


class QuoteSource(Protocol):
    def quote(self, symbol: str, now_ms: int) -> Quote | None: ...


def _quote_all(source: QuoteSource, symbols: list[str], now_ms: int) -> list[Quote]:
    """Ask ``source`` for each symbol (worker thread); a failing symbol is skipped and logged."""
    out = []
    for s in symbols:
        try:
            q = source.quote(s, now_ms)
        except Exception as exc:  # noqa: BLE001 - one bad symbol must not stop the others
            log.info("no paper quote for %s: %s", s, exc)
            continue
        if q is not None:
            out.append(q)
    return out


class ThrottledBars:
    """``bars_for(symbol)`` for ``DelayedQuotes``: the symbol's 1-minute bars, refreshed from
    the data source at most every ``refresh_s`` seconds (the cache in between)."""

    def __init__(self, data: Any, timeframe: str = "1m", refresh_s: float = 60.0) -> None:
        self.data = data
        self.timeframe = timeframe
        self.refresh_s = refresh_s
        self._last: dict[str, float] = {}

    def __call__(self, symbol: str) -> Bars | None:
        now = time.monotonic()
        refresh = now - self._last.get(symbol, -math.inf) >= self.refresh_s
        if refresh:
            self._last[symbol] = now  # a failed refresh, too, waits refresh_s before the next try
        try:
            return self.data.get_bars(symbol, self.timeframe, refresh=refresh)
        except Exception:  # noqa: BLE001 - a failed refresh falls back to what is cached
            if not refresh:
                raise
            return self.data.get_bars(symbol, self.timeframe)


class QuoteDriver(QObject):
    """Live paper mode: every ``interval_ms`` quote the watched symbols and feed the broker.

    Quotes are made in a worker (``tasks``); ``broker.on_quote`` runs on the GUI thread when
    they arrive. A tick is skipped while the previous one is still in flight.
    """

    quotes_received = Signal(object)  # list[Quote]
    failed = Signal(str)

    def __init__(self, broker: Any, tasks: TaskSubmitter, source: QuoteSource,
                 symbols: Callable[[], Iterable[str]], *, interval_ms: int = 1500,
                 label: str = "demo quotes", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.broker = broker
        self.tasks = tasks
        self.source = source
        self.symbols = symbols
        self._label = label
        self.busy = False
        self.closed = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll_now)

    @property
    def label(self) -> str:
        """What the user is told these quotes are (the source's ``label`` if it has one)."""
        return str(getattr(self.source, "label", self._label))

    @property
    def description(self) -> str:
        """A sentence on where the quotes come from (the source's ``description``)."""
        return str(getattr(self.source, "description", self.label))

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def close(self) -> None:
        """Stop for good: a round still in flight is dropped (the broker may be closing)."""
        self.closed = True
        self.timer.stop()

    def poll_now(self) -> bool:
        """Start one round now (False if one is in flight or nothing needs a quote)."""
        if self.busy or self.closed:
            return False
        syms = list(dict.fromkeys(s for s in self.symbols() if s))
        if not syms:
            return False
        self.busy = True
        self.tasks.submit(_quote_all, self.source, syms, int(time.time() * 1000), label="Paper quotes",
                          on_result=self._on_quotes, on_error=self._on_error, on_finished=self._on_done)
        return True

    def _on_done(self) -> None:
        self.busy = False

    def _on_error(self, exc: BaseException) -> None:
        self.failed.emit(str(exc))

    def _on_quotes(self, quotes: list[Quote]) -> None:
        if self.closed:
            return
        for q in quotes:
            try:
                self.broker.on_quote(q.symbol, q.bid, q.ask, q.last, q.time_ms, q.bid_size, q.ask_size)
            except ValueError as exc:
                log.warning("paper quote for %s refused: %s", q.symbol, exc)
        self.broker.expire_due()
        self.quotes_received.emit(quotes)


# --------------------------------------------------------------------------- session


class TradingSession(QObject):
    """The broker, the chosen account and the latest quotes, shared by the trading docks.

    ``connect(EventType, slot)`` is the app bridge's ``connect`` (bus events on the GUI thread).
    Signals carry only the chosen account's data.
    """

    account_selected = Signal(str)
    accounts_changed = Signal()
    order_updated = Signal(object)  # OrderView
    fill_added = Signal(object)  # Fill
    position_changed = Signal(object)  # PositionView
    summary_changed = Signal(object)  # AccountSummary
    equity_point = Signal(object, object)  # time ms (int), equity Decimal
    quotes_changed = Signal()
    command_failed = Signal(str)

    def __init__(self, broker: Any, tasks: TaskSubmitter,
                 connect: Callable[[type, Callable[[Any], None]], None],
                 account: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.broker = broker
        self.tasks = tasks
        self.account = ""
        self.summary: AccountSummary | None = None
        self.positions: dict[str, PositionView] = {}
        self.quotes: dict[str, Quote] = {}
        self.driver: QuoteDriver | None = None
        self.extra_symbols: set[str] = set()  # e.g. the order ticket's symbol
        self._names = set(broker.accounts())
        connect(OrderUpdated, self._on_order_updated)
        connect(FillOccurred, self._on_fill)
        connect(PositionChanged, self._on_position)
        connect(AccountChanged, self._on_account_changed)
        names = broker.accounts()
        if names:
            self.set_account(account if account in names else names[0])

    def close(self) -> None:
        """Stop the quote driver for good (before the broker closes)."""
        if self.driver is not None:
            self.driver.close()

    # ---------------------------------------------------------------- quotes
    @property
    def quote_label(self) -> str:
        return self.driver.label if self.driver is not None else "no quote source"

    @property
    def quote_description(self) -> str:
        return self.driver.description if self.driver is not None else "No quote source: orders fill only on quotes."

    def set_driver(self, driver: QuoteDriver) -> None:
        self.driver = driver
        driver.quotes_received.connect(self._on_quotes)

    def watched_symbols(self) -> list[str]:
        return list(dict.fromkeys([*self.broker.watched_symbols(), *sorted(self.extra_symbols)]))

    def quote(self, symbol: str) -> Quote | None:
        return self.quotes.get(symbol)

    def last_price(self, symbol: str) -> Decimal | None:
        q = self.quotes.get(symbol)
        if q is None:
            return None
        return q.last if q.last is not None else (q.bid + q.ask) / 2

    def _on_quotes(self, quotes: list[Quote]) -> None:
        for q in quotes:
            self.quotes[q.symbol] = q
        self.refresh_summary()
        self.quotes_changed.emit()

    # ---------------------------------------------------------------- accounts
    def accounts(self) -> list[str]:
        return list(self.broker.accounts())

    def set_account(self, name: str) -> None:
        if name == self.account or name not in self.broker.accounts():
            return
        self.account = name
        self.positions = {p.symbol: p for p in self.broker.positions(name)}
        self.summary = self.broker.account_summary(name)
        self.account_selected.emit(name)
        self.summary_changed.emit(self.summary)

    def create_account(self, name: str, cash: Decimal | str, kind: str) -> bool:
        try:
            self.broker.create_account(name, cash, kind)
        except (KeyError, ValueError) as exc:
            self.command_failed.emit(str(exc))
            return False
        self._names = set(self.broker.accounts())
        self.accounts_changed.emit()
        self.set_account(name.strip())
        return True

    def snapshot_equity(self) -> None:
        """Record an equity-curve point for every account with open positions (so the curve
        follows unrealized P&L between fills); the chosen account's point is emitted."""
        for name in self.broker.accounts():
            if self.broker.positions(name):
                self.broker.snapshot_equity(name)
                if name == self.account:
                    s = self.broker.account_summary(name)
                    self.equity_point.emit(s.time_ms, s.equity)

    def refresh_summary(self) -> None:
        if self.account:
            self.summary = self.broker.account_summary(self.account)
            self.summary_changed.emit(self.summary)

    def snapshot(self) -> tuple[list[OrderView], list[Fill], list[PositionView]]:
        """The chosen account's orders, fills and open positions now (in memory)."""
        if not self.account:
            return [], [], []
        a = self.account
        return self.broker.orders(a), self.broker.fills(a), self.broker.positions(a)

    def load_equity_curve(self, on_result: Callable[[list[tuple[int, Decimal]]], None]) -> None:
        """Read the chosen account's equity curve and hand it to ``on_result`` (GUI thread)."""
        if self.account:
            on_result(self.broker.equity_curve(self.account))

    # ---------------------------------------------------------------- commands
    def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            out = fn(*args, **kwargs)
        except (KeyError, ValueError) as exc:
            self.command_failed.emit(str(exc))
            return None
        self.refresh_summary()
        return out

    def submit(self, req: OrderRequest) -> OrderView | None:
        """Place ``req`` in the chosen account; returns the order (accepted or rejected)."""
        if not self.account:
            self.command_failed.emit("create a paper account first")
            return None
        o = self._run(self.broker.submit, self.account, req)
        if o is not None and o.state.value == "rejected":
            self.command_failed.emit(f"order rejected: {o.reason}")
        return o

    def submit_oco(self, first: OrderRequest, second: OrderRequest) -> tuple[OrderView, OrderView] | None:
        if not self.account:
            self.command_failed.emit("create a paper account first")
            return None
        pair = self._run(self.broker.submit_oco, self.account, first, second)
        if pair is not None:
            for o in pair:
                if o.state.value == "rejected":
                    self.command_failed.emit(f"order rejected: {o.reason}")
                    break
        return pair

    def cancel(self, order_id: str) -> OrderView | None:
        return self._run(self.broker.cancel, order_id)

    def modify(self, order_id: str, **changes: Any) -> OrderView | None:
        return self._run(self.broker.modify, order_id, **changes)

    def flatten(self, symbol: str) -> OrderView | None:
        if not self.account:
            return None
        return self._run(self.broker.flatten, self.account, symbol)

    def reverse(self, symbol: str) -> OrderView | None:
        if not self.account:
            return None
        o = self._run(self.broker.reverse, self.account, symbol)
        if o is not None and o.state.value == "rejected":
            self.command_failed.emit(f"reverse rejected: {o.reason}")
        return o

    # ---------------------------------------------------------------- bus events
    def _on_order_updated(self, e: OrderUpdated) -> None:
        if e.account == self.account:
            self.order_updated.emit(e.order)
            self.refresh_summary()  # working orders hold back buying power

    def _on_fill(self, e: FillOccurred) -> None:
        if e.account == self.account:
            self.fill_added.emit(e.fill)

    def _on_position(self, e: PositionChanged) -> None:
        if e.account == self.account:
            self.positions[e.position.symbol] = e.position
            self.position_changed.emit(e.position)

    def _on_account_changed(self, e: AccountChanged) -> None:
        if e.account not in self._names:
            self._names = set(self.broker.accounts())
            self.accounts_changed.emit()
        if e.account == self.account:
            self.summary = e.summary
            self.summary_changed.emit(e.summary)
            self.equity_point.emit(e.summary.time_ms, e.summary.equity)
        elif not self.account:
            self.set_account(e.account)


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Any], str]
    numeric: bool = False
    color: Callable[[Any], QColor | None] | None = None
    tip: Callable[[Any], str | None] | None = None


class RowModel(QAbstractTableModel):
    """A table of immutable engine rows, keyed by ``key(row)``, newest first when ``newest_first``."""

    def __init__(self, columns: Sequence[Column], key: Callable[[Any], str], newest_first: bool = False) -> None:
        super().__init__()
        self.columns = list(columns)
        self.key = key
        self.newest_first = newest_first
        self.rows: list[Any] = []
        self._index: dict[str, int] = {}

    def set_rows(self, rows: Iterable[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        if self.newest_first:
            self.rows.reverse()
        self._reindex()
        self.endResetModel()

    def _reindex(self) -> None:
        self._index = {self.key(r): i for i, r in enumerate(self.rows)}

    def upsert(self, row: Any) -> None:
        k = self.key(row)
        i = self._index.get(k)
        if i is not None:
            self.rows[i] = row
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.columns) - 1))
            return
        pos = 0 if self.newest_first else len(self.rows)
        self.beginInsertRows(QModelIndex(), pos, pos)
        self.rows.insert(pos, row)
        self._reindex()
        self.endInsertRows()

    def remove(self, key: str) -> None:
        i = self._index.get(key)
        if i is None:
            return
        self.beginRemoveRows(QModelIndex(), i, i)
        del self.rows[i]
        self._reindex()
        self.endRemoveRows()

    def refresh_all(self) -> None:
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(self.columns) - 1))

    def row_texts(self, i: int) -> list[str]:
        return [c.text(self.rows[i]) for c in self.columns]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].title
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(row)
        if role == Qt.ItemDataRole.ForegroundRole and col.color is not None:
            return col.color(row)
        if role == Qt.ItemDataRole.ToolTipRole and col.tip is not None:
            return col.tip(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and col.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _side_color(side: Side) -> QColor:
    return QColor(style.CHART.up if side is Side.BUY else style.CHART.down)


def order_columns(history: bool) -> list[Column]:
    cols = [
        Column("Time", lambda o: fmt_time(o.updated_ms if history else o.created_ms)),
        Column("Symbol", lambda o: o.symbol),
        Column("Side", lambda o: o.side.value.upper(), color=lambda o: _side_color(o.side)),
        Column("Qty", lambda o: f"{o.filled_qty:,}/{o.qty:,}" if o.filled_qty else f"{o.qty:,}", True),
        Column("Type", lambda o: ORDER_TYPE_LABELS[o.type]),
        Column("Price", order_prices, True),
        Column("TIF", lambda o: o.tif.value.upper()),
        Column("State", lambda o: o.state.value.replace("_", " ") + (" (triggered)" if o.triggered and o.is_working else ""),
               tip=lambda o: o.reason or None),
        Column("Role", lambda o: ROLE_LABELS.get(o.role, o.role.value)),
    ]
    if history:
        cols.insert(6, Column("Avg fill", lambda o: fmt_price(o.avg_fill_price), True))
        cols.append(Column("Reason", lambda o: o.reason, tip=lambda o: o.reason or None))
    return cols


FILL_COLUMNS = [
    Column("Time", lambda f: fmt_time(f.time_ms)),
    Column("Symbol", lambda f: f.symbol),
    Column("Side", lambda f: f.side.value.upper(), color=lambda f: _side_color(f.side)),
    Column("Qty", lambda f: f"{f.qty:,}", True),
    Column("Price", lambda f: fmt_price(f.price), True),
    Column("Value", lambda f: fmt_money(f.price * f.qty), True),
    Column("Fee", lambda f: fmt_money(f.fee), True),
    Column("Order", lambda f: f.order_id),
]


class PositionsModel(RowModel):
    """Open positions with last price and P&L from the session's quotes."""

    def __init__(self, session: TradingSession) -> None:
        self.session = session
        last = session.last_price

        def unreal(p: PositionView) -> Decimal | None:
            px = last(p.symbol)
            return None if px is None else (p.qty * px - p.cost).quantize(Decimal("0.01"))

        def mv(p: PositionView) -> Decimal | None:
            px = last(p.symbol)
            return None if px is None else p.qty * px

        super().__init__([
            Column("Symbol", lambda p: p.symbol),
            Column("Qty", lambda p: f"{p.qty:,}", True, color=lambda p: _side_color(Side.BUY if p.qty > 0 else Side.SELL)),
            Column("Avg price", lambda p: fmt_price(p.avg_price), True),
            Column("Last", lambda p: fmt_price(last(p.symbol)), True),
            Column("Market value", lambda p: fmt_money(mv(p)), True),
            Column("Unrealized P&L", lambda p: fmt_money(unreal(p), True), True, color=lambda p: pnl_color(unreal(p))),
            Column("Realized P&L", lambda p: fmt_money(p.realized_pnl, True), True, color=lambda p: pnl_color(p.realized_pnl)),
        ], key=lambda p: p.symbol)

    def apply(self, p: PositionView) -> None:
        if p.qty == 0:
            self.remove(p.symbol)
        else:
            self.upsert(p)


# --------------------------------------------------------------------------- widgets


def _table(model: QAbstractTableModel, name: str) -> QTableView:
    t = QTableView()
    t.setObjectName(name)
    t.setModel(model)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setAlternatingRowColors(True)
    t.verticalHeader().hide()
    t.verticalHeader().setDefaultSectionSize(22)
    h = t.horizontalHeader()
    # Blotters hold tens of rows, so sizing columns to their contents stays cheap; a text
    # column at the end takes the rest of the width, a number column does not (it would
    # push its values far from their header).
    h.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    h.setMinimumSectionSize(56)
    last = model.columnCount() - 1
    numeric = isinstance(model, RowModel) and model.columns[last].numeric
    h.setStretchLastSection(not numeric)
    return t


def _hint(text: str) -> QLabel:
    lbl = QLabel(text)
    lbl.setObjectName("hint")
    lbl.setWordWrap(True)
    return lbl


class _SessionView(QWidget):
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
            self.error.setText(text)
            self.error.show()
            QTimer.singleShot(8000, self.error, self.error.hide)


class WorkingOrdersWidget(_SessionView):
    """Working orders of the chosen account: modify (double-click) and cancel."""

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("workingOrdersWidget")
        self.model = RowModel(order_columns(False), key=lambda o: o.order_id)
        self.table = _table(self.model, "workingOrdersTable")
        self.table.doubleClicked.connect(lambda _i: self.modify_selected())
        self.modify_btn = QToolButton(text="Modify…", toolTip="Change quantity or prices of the selected order (double-click)")
        self.cancel_btn = QToolButton(text="Cancel order", toolTip="Cancel the selected working order (Del)")
        self.cancel_all_btn = QToolButton(text="Cancel all", toolTip="Cancel every working order of this account")
        self.modify_btn.clicked.connect(self.modify_selected)
        self.cancel_btn.clicked.connect(self.cancel_selected)
        self.cancel_all_btn.clicked.connect(self.cancel_all)
        self.cancel_btn.setShortcut("Del")
        self.empty = _hint("No working orders. Place one from the Order Ticket.")
        bar = QHBoxLayout()
        bar.addWidget(self.modify_btn)
        bar.addWidget(self.cancel_btn)
        bar.addWidget(self.cancel_all_btn)
        bar.addStretch(1)
        bar.addWidget(self.empty)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(bar)
        lay.addWidget(self.error)
        lay.addWidget(self.table, 1)
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
        for b in (self.modify_btn, self.cancel_btn, self.cancel_all_btn):
            b.setEnabled(has)

    def _on_order(self, o: OrderView) -> None:
        if o.is_working:
            self.model.upsert(o)
        else:
            self.model.remove(o.order_id)
        self._sync()

    def selected(self) -> OrderView | None:
        idx = self.table.selectionModel().selectedRows()
        if idx:
            return self.model.rows[idx[0].row()]
        return self.model.rows[0] if self.model.rowCount() == 1 else None

    def cancel_selected(self) -> None:
        o = self.selected()
        if o is not None:
            self.session.cancel(o.order_id)

    def cancel_all(self) -> None:
        for o in list(self.model.rows):
            self.session.cancel(o.order_id)

    def modify_selected(self) -> None:
        o = self.selected()
        if o is None:
            return
        dlg = ModifyOrderDialog(o, self)
        if dlg.exec() == QDialog.DialogCode.Accepted and dlg.changes:
            self.session.modify(o.order_id, **dlg.changes)


def _decimal(text: str) -> Decimal | None:
    text = text.strip().replace(",", "").lstrip("$")
    if not text:
        return None
    try:
        d = Decimal(text)
    except ArithmeticError:
        raise ValueError(f"'{text}' is not a number") from None
    if not d.is_finite():
        raise ValueError(f"'{text}' is not a number")
    return d


class ModifyOrderDialog(QDialog):
    """Edit a working order's quantity and the prices its type has. ``changes`` after accept."""

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
        self.limit = QLineEdit(str(order.limit_price.normalize()) if order.limit_price is not None else "")
        self.limit.setObjectName("modifyLimit")
        self.stop = QLineEdit(str(order.stop_price.normalize()) if order.stop_price is not None else "")
        self.stop.setObjectName("modifyStop")
        trail = order.trail_amount if order.trail_amount is not None else order.trail_percent
        self.trail = QLineEdit(str(trail.normalize()) if trail is not None else "")
        self.trail.setObjectName("modifyTrail")
        if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            form.addRow("Limit price", self.limit)
        if order.type in (OrderType.STOP, OrderType.STOP_LIMIT):
            form.addRow("Stop price", self.stop)
        if order.type is OrderType.TRAILING_STOP:
            form.addRow("Trail " + ("$" if order.trail_amount is not None else "%"), self.trail)
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
            lim, stp, tr = _decimal(self.limit.text()), _decimal(self.stop.text()), _decimal(self.trail.text())
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        for name, new, old in (("limit_price", lim, o.limit_price), ("stop_price", stp, o.stop_price)):
            if new is not None and new != old:
                if new <= 0:
                    self.error.setText(f"{name.replace('_', ' ')} must be positive")
                    return
                ch[name] = new
        if o.type is OrderType.TRAILING_STOP and tr is not None:
            key, old = ("trail_amount", o.trail_amount) if o.trail_amount is not None else ("trail_percent", o.trail_percent)
            if tr != old:
                ch[key] = tr
        self.changes = ch
        super().accept()


class OrderHistoryWidget(_SessionView):
    """Every order of the chosen account, newest change first."""

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("orderHistoryWidget")
        self.model = RowModel(order_columns(True), key=lambda o: o.order_id, newest_first=True)
        self.table = _table(self.model, "orderHistoryTable")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.table, 1)
        session.order_updated.connect(self._on_order)
        self.reload()

    def reload(self) -> None:
        orders, _f, _p = self.session.snapshot()
        self.model.set_rows(sorted(orders, key=lambda o: (o.updated_ms, o.created_ms)))

    def _on_order(self, o: OrderView) -> None:
        # An order that changed moves to the top.
        self.model.remove(o.order_id)
        self.model.upsert(o)


class FillsWidget(_SessionView):
    """Executions of the chosen account, newest first, with the total of fees."""

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("fillsWidget")
        self.model = RowModel(FILL_COLUMNS, key=lambda f: f.fill_id, newest_first=True)
        self.table = _table(self.model, "fillsTable")
        self.total = QLabel("")
        self.total.setObjectName("fillsTotal")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.total)
        lay.addWidget(self.table, 1)
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
        self.total.setText(f"{n:,} fill{'s' if n != 1 else ''} · fees {fmt_money(fees)}" if n else "No fills yet.")


class PositionsWidget(_SessionView):
    """Open positions with P&L; flatten or reverse the selected one."""

    symbol_activated = Signal(str)

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("positionsWidget")
        self.model = PositionsModel(session)
        self.table = _table(self.model, "positionsTable")
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.flatten_btn = QToolButton(text="Flatten", toolTip="Cancel the symbol's orders and close the position at market")
        self.reverse_btn = QToolButton(text="Reverse", toolTip="Cancel the symbol's orders and turn the position around at market")
        self.flatten_btn.clicked.connect(self.flatten_selected)
        self.reverse_btn.clicked.connect(self.reverse_selected)
        self.total = QLabel("")
        self.total.setObjectName("positionsTotal")
        self.total.setTextFormat(Qt.TextFormat.RichText)
        bar = QHBoxLayout()
        bar.addWidget(self.flatten_btn)
        bar.addWidget(self.reverse_btn)
        bar.addSpacing(12)
        bar.addWidget(self.total, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(bar)
        lay.addWidget(self.error)
        lay.addWidget(self.table, 1)
        session.position_changed.connect(self._on_position)
        session.quotes_changed.connect(self._on_quotes)
        session.command_failed.connect(self._on_failed)
        self.reload()

    def reload(self) -> None:
        _o, _f, positions = self.session.snapshot()
        self.model.set_rows(positions)
        self._sync()

    def _on_position(self, p: PositionView) -> None:
        self.model.apply(p)
        self._sync()

    def _on_quotes(self) -> None:
        self.model.refresh_all()
        self._sync()

    def _sync(self) -> None:
        has = self.model.rowCount() > 0
        self.flatten_btn.setEnabled(has)
        self.reverse_btn.setEnabled(has)
        if not has:
            self.total.setText("No open positions.")
            return
        total = ZERO
        known = True
        for p in self.model.rows:
            px = self.session.last_price(p.symbol)
            if px is None:
                known = False
                continue
            total += p.qty * px - p.cost
        col = pnl_color(total)
        txt = fmt_money(total.quantize(Decimal("0.01")), True) + ("" if known else " (some without a quote)")
        self.total.setText(f"{self.model.rowCount()} open · unrealized "
                           + (f'<span style="color:{col.name()}">{txt}</span>' if col else txt))

    def selected(self) -> PositionView | None:
        idx = self.table.selectionModel().selectedRows()
        if idx:
            return self.model.rows[idx[0].row()]
        return self.model.rows[0] if self.model.rowCount() == 1 else None

    def flatten_selected(self) -> None:
        p = self.selected()
        if p is not None:
            self.session.flatten(p.symbol)

    def reverse_selected(self) -> None:
        p = self.selected()
        if p is not None:
            self.session.reverse(p.symbol)

    def _on_double_clicked(self, index: QModelIndex) -> None:
        self.symbol_activated.emit(self.model.rows[index.row()].symbol)


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
            cash = _decimal(self.cash.text())
        except ValueError as exc:
            self.error.setText(f"Starting cash: {exc}")
            return
        if cash is None or cash < 0:
            self.error.setText("Starting cash must be a positive amount.")
            return
        errors: list[str] = []
        self.session.command_failed.connect(errors.append)
        try:
            ok = self.session.create_account(name, cash, str(self.kind.currentData()))
        finally:
            self.session.command_failed.disconnect(errors.append)
        if not ok:
            self.error.setText(errors[-1] if errors else "The account could not be created.")
            return
        super().accept()


class AccountChooser(QWidget):
    """The account combo box plus a "New…" button (used by the ticket and the account dock)."""

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.box = QComboBox()
        self.box.setObjectName("accountChooser")
        self.box.setToolTip("Paper account")
        self.box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.new_btn = QToolButton(text="New…", toolTip="Create a paper account (name, starting cash, cash or margin)")
        self.new_btn.setObjectName("newAccountButton")
        self.new_btn.clicked.connect(self.new_account)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.box, 1)
        lay.addWidget(self.new_btn)
        self.box.currentTextChanged.connect(self._on_chosen)
        session.accounts_changed.connect(self.reload)
        session.account_selected.connect(self._on_selected)
        self.reload()

    def reload(self) -> None:
        self.box.blockSignals(True)
        self.box.clear()
        self.box.addItems(self.session.accounts())
        self.box.setCurrentText(self.session.account)
        self.box.blockSignals(False)

    def _on_chosen(self, name: str) -> None:
        if name:
            self.session.set_account(name)

    def _on_selected(self, name: str) -> None:
        if self.box.findText(name) < 0:
            self.reload()
        self.box.blockSignals(True)
        self.box.setCurrentText(name)
        self.box.blockSignals(False)

    def new_account(self) -> None:
        NewAccountDialog(self.session, self).exec()


class AccountWidget(_SessionView):
    """The chosen account's money (equity, cash, buying power, P&L) and its equity curve."""

    FIELDS = (
        ("equity", "Equity"), ("cash", "Cash"), ("buying_power", "Buying power"),
        ("market_value", "Market value"), ("total_pnl", "Total P&L"), ("return", "Return"),
        ("realized_pnl", "Realized P&L"), ("unrealized_pnl", "Unrealized P&L"), ("fees", "Fees"),
    )

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("accountWidget")
        self.chooser = AccountChooser(session)
        self.kind = QLabel("")
        self.kind.setObjectName("accountKindLabel")
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        for i, (key, title) in enumerate(self.FIELDS):
            name = QLabel(title)
            name.setObjectName("hint")
            val = QLabel("—")
            val.setObjectName(f"account_{key}")
            val.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            val.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            f = val.font()
            f.setBold(True)
            val.setFont(f)
            self.values[key] = val
            r, c = divmod(i, 2)
            grid.addWidget(name, r, c * 3)
            grid.addWidget(val, r, c * 3 + 1)
        grid.setColumnMinimumWidth(2, 18)
        self.quote_note = _hint("")
        self.curve_plot = pg.PlotWidget()
        self.curve_plot.setObjectName("equityCurve")
        self.curve_plot.setMinimumHeight(90)
        self.curve_plot.setMinimumWidth(160)
        self.curve_plot.setMenuEnabled(False)
        self.curve_plot.hideButtons()
        self.curve_plot.setAxisItems({"bottom": pg.DateAxisItem(orientation="bottom")})
        self.curve_plot.showAxis("right")
        self.curve_plot.hideAxis("left")
        self.curve = self.curve_plot.plot([], [], stepMode=None)
        self.base_line = pg.InfiniteLine(angle=0, movable=False)
        self.curve_plot.addItem(self.base_line, ignoreBounds=True)
        self.points: list[tuple[int, Decimal]] = []

        top = QHBoxLayout()
        top.addWidget(QLabel("Account"))
        top.addWidget(self.chooser, 1)
        self.kind.setObjectName("hint")
        left = QVBoxLayout()
        left.addLayout(top)
        left.addWidget(self.kind)
        left.addLayout(grid)
        left.addWidget(self.quote_note)
        left.addStretch(1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.addLayout(left, 0)
        lay.addWidget(self.curve_plot, 1)
        session.summary_changed.connect(self._on_summary)
        session.equity_point.connect(self._on_equity_point)
        session.quotes_changed.connect(self._sync_note)
        style.theme_signals().changed.connect(self._on_theme)
        self._on_theme(style.CHART)
        self.reload()

    def reload(self) -> None:
        if self.session.summary is not None:
            self._on_summary(self.session.summary)
        self.points = []
        self.session.load_equity_curve(self._on_curve)
        self._sync_note()

    def _sync_note(self) -> None:
        self.quote_note.setText(f"Paper trading on {self.session.quote_label}; no real money.")
        self.quote_note.setToolTip(self.session.quote_description)

    def _on_curve(self, points: list[tuple[int, Decimal]]) -> None:
        self.points = list(points)
        self._draw_curve()

    def _on_equity_point(self, t_ms: int, equity: Decimal) -> None:
        if not self.points or t_ms >= self.points[-1][0]:
            self.points.append((t_ms, equity))
            self._draw_curve()

    def _draw_curve(self) -> None:
        if not self.points:
            self.curve.setData([], [])
            return
        x = np.array([t / 1000 for t, _ in self.points], dtype=float)
        y = np.array([float(e) for _, e in self.points], dtype=float)
        if len(x) == 1:  # one point: draw a flat line to now so the start is visible
            x = np.r_[x, max(x[0] + 60, time.time())]
            y = np.r_[y, y]
        self.curve.setData(x, y)
        lo, hi = float(y.min()), float(y.max())
        pad = max((hi - lo) * 0.1, abs(hi) * 0.002, 1.0)
        self.curve_plot.setYRange(lo - pad, hi + pad, padding=0)
        s = self.session.summary
        if s is not None:
            self.base_line.setPos(float(s.initial_cash))

    def _on_summary(self, s: AccountSummary) -> None:
        total = s.equity - s.initial_cash
        ret = (total / s.initial_cash * 100) if s.initial_cash else ZERO
        vals = {
            "equity": fmt_money(s.equity), "cash": fmt_money(s.cash), "buying_power": fmt_money(s.buying_power),
            "market_value": fmt_money(s.market_value), "total_pnl": fmt_money(total, True),
            "return": f"{ret:+,.2f}%", "realized_pnl": fmt_money(s.realized_pnl, True),
            "unrealized_pnl": fmt_money(s.unrealized_pnl, True), "fees": fmt_money(s.fees),
        }
        colors = {"total_pnl": total, "return": total, "realized_pnl": s.realized_pnl, "unrealized_pnl": s.unrealized_pnl}
        for k, v in vals.items():
            lbl = self.values[k]
            lbl.setText(v)
            c = pnl_color(colors[k]) if k in colors else None
            lbl.setStyleSheet(f"color: {c.name()};" if c is not None else "")
        self.kind.setText(f"{s.kind.value} account · started with {fmt_money(s.initial_cash)}")

    def _on_theme(self, colors: style.ChartColors) -> None:
        self.curve_plot.setBackground(colors.background)
        for ax in ("right", "bottom"):
            self.curve_plot.getAxis(ax).setPen(pg.mkPen(colors.foreground))
            self.curve_plot.getAxis(ax).setTextPen(pg.mkPen(colors.foreground))
        self.curve_plot.showGrid(x=True, y=True, alpha=colors.grid_alpha)
        self.curve.setPen(pg.mkPen(colors.overlays[1], width=2))
        self.base_line.setPen(pg.mkPen(colors.crosshair, style=Qt.PenStyle.DashLine))


# --------------------------------------------------------------------------- chart markers


def fill_markers(fills: Iterable[Fill], bars: Bars | None, symbol: str | None = None) -> list[tuple[int, float, str]]:
    """Trade markers ``(bar index, price, "buy"|"sell")`` of ``fills`` on ``bars``.

    A fill goes on the bar whose period contains its time; a fill after the last bar (live
    paper quotes beyond the stored history) on the last bar; fills before the first bar or of
    another symbol are left out.
    """
    if bars is None or len(bars) == 0:
        return []
    sym = symbol or bars.symbol
    times = np.asarray(bars.time, dtype=np.int64)
    out = []
    for f in fills:
        if f.symbol != sym:
            continue
        i = int(np.searchsorted(times, f.time_ms // 1000, side="right")) - 1
        if i < 0:
            continue
        out.append((i, float(f.price), f.side.value))
    return out


class ChartTradeMarkers(QObject):
    """Keeps the trade markers of attached charts in step with the chosen account's fills."""

    def __init__(self, session: TradingSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.charts: list[Any] = []
        self._fills: list[Fill] = []
        session.account_selected.connect(self._reload)
        session.fill_added.connect(self._on_fill)
        self._reload()

    def attach(self, chart: Any) -> None:
        """``chart`` needs ``bars``, ``symbol``, ``bars_loaded`` and ``set_markers``."""
        if chart in self.charts:
            return
        self.charts.append(chart)
        chart.bars_loaded.connect(lambda _b, c=chart: self._draw(c))
        chart.destroyed.connect(lambda _o=None, c=chart: self.charts.remove(c) if c in self.charts else None)
        self._draw(chart)

    def _reload(self, *_: object) -> None:
        _o, fills, _p = self.session.snapshot()
        self._fills = list(fills)
        self._draw_all()

    def _on_fill(self, f: Fill) -> None:
        self._fills.append(f)
        self._draw_all()

    def _draw_all(self) -> None:
        for c in list(self.charts):
            self._draw(c)

    def _draw(self, chart: Any) -> None:
        chart.set_markers(fill_markers(self._fills, chart.bars, chart.symbol))


__all__ = [
    "AccountChooser", "AccountWidget", "ChartTradeMarkers", "FillsWidget", "ModifyOrderDialog",
    "NewAccountDialog", "OrderHistoryWidget", "PositionsWidget", "QuoteDriver", "RowModel",
    "ThrottledBars", "TradingSession", "WorkingOrdersWidget", "fill_markers", "fmt_money", "fmt_price",
]
