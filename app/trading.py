"""Paper trading in the shell: one ``TradingSession`` per app, its quote driver, the docks.

The session is built on the first trading dock's first show (``trading_session(ctx)``) and
is the trading feature's service (``ctx.service(TradingSession)``). It owns:

* the live paper quote driver: every 1.5 s a quiet worker (not shown in the status bar)
  quotes the symbols with working orders or positions plus the ticket's symbol, and the
  broker matches them on the GUI thread. In demo mode the quotes are simulated ticks
  (a random walk starting at the symbol's last demo close) and are labelled "demo quotes";
  otherwise they are the last 1-minute close of the active data source, refreshed at most
  once a minute per symbol, labelled "delayed quotes". Both have a 5 bps spread.
* trade markers on every chart (fills of the chosen account, on the chart's symbol);
* a notification per fill.

On the first start a paper account ``Paper`` with $100,000 (cash account) is created, so
the ticket works out of the box.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from engine.paper.feed import DelayedQuotes, DemoQuotes
from engine.paper.orders import Fill, Quote

if TYPE_CHECKING:
    from app.context import AppContext
    from widgets.trading import TradingSession

log = logging.getLogger(__name__)

DEFAULT_ACCOUNT = "Paper"
DEFAULT_CASH = 100_000
QUOTE_INTERVAL_MS = 1500
EQUITY_SNAPSHOT_MS = 60_000


class AppQuotes:
    """The app's quote source: demo ticks in demo mode, delayed 1-minute closes otherwise
    (decided per call, so a change of data source in Settings takes effect at once)."""

    def __init__(self, data) -> None:  # type: ignore[no-untyped-def]
        from widgets.trading import ThrottledBars

        self.data = data
        self.demo = DemoQuotes(start_price=self._last_close)
        self.delayed = DelayedQuotes(ThrottledBars(data, "1m", refresh_s=60.0))

    def _last_close(self, symbol: str) -> float | None:
        try:
            bars = self.data.get_bars(symbol, "1d")
        except Exception as exc:  # noqa: BLE001 - no start price: DemoQuotes picks one
            log.info("no demo start price for %s: %s", symbol, exc)
            return None
        return float(bars.close[-1]) if len(bars) else None

    @property
    def label(self) -> str:
        return "demo quotes" if self.data.source == "demo" else "delayed quotes"

    @property
    def description(self) -> str:
        if self.data.source == "demo":
            return "Demo quotes: simulated ticks starting at the symbol's last demo close, 5 bps spread. Not market prices."
        return "Delayed quotes: the last 1-minute close of the data source (refreshed each minute), 5 bps spread."

    def quote(self, symbol: str, now_ms: int) -> Quote | None:
        if self.data.source == "demo":
            return self.demo.quote(symbol, now_ms)
        return self.delayed.quote(symbol, now_ms)


def trading_session(ctx: "AppContext") -> "TradingSession":
    """The app's trading session (built on first use)."""
    from widgets.trading import TradingSession

    return ctx.service(TradingSession)


def build_trading_session(ctx: "AppContext") -> "TradingSession":
    """Build the session (``app/features/trading.py`` calls this once)."""
    from app.workers import TaskRunner
    from widgets.trading import ChartTradeMarkers, QuoteDriver, TradingSession

    broker = ctx.broker
    if not broker.accounts():
        broker.create_account(DEFAULT_ACCOUNT, DEFAULT_CASH, "cash")
    chosen = str(ctx.ui.get("paper_account") or "")
    s = TradingSession(broker, ctx.tasks, ctx.bridge.connect, account=chosen or None)
    s.account_selected.connect(lambda name: ctx.ui.set("paper_account", name))
    # A runner of its own: quote rounds every 1.5 s must not flash the status bar.
    quiet = TaskRunner(parent=s)
    driver = QuoteDriver(broker, quiet, AppQuotes(ctx.data), s.watched_symbols,
                         interval_ms=QUOTE_INTERVAL_MS, parent=s)
    s.set_driver(driver)
    # an equity-curve point a minute while positions are open (unrealized P&L between fills)
    curve_timer = QTimer(s)
    curve_timer.setInterval(EQUITY_SNAPSHOT_MS)
    curve_timer.timeout.connect(s.snapshot_equity)
    curve_timer.start()
    s.curve_timer = curve_timer  # type: ignore[attr-defined]
    markers = ChartTradeMarkers(s, parent=s)
    for chart in ctx.charts:
        markers.attach(chart)
    ctx.chart_registry.chart_added.connect(lambda _id, chart: markers.attach(chart))
    s.markers = markers  # type: ignore[attr-defined]

    def notify_fill(f: Fill) -> None:
        ctx.notifier.notify(
            "Paper fill", f"{f.side.value.title()} {f.qty:,} {f.symbol} at {f.price:,.2f} ({s.account})")

    s.fill_added.connect(notify_fill)
    driver.start()
    return s


def order_ticket(ctx: "AppContext") -> QWidget:
    from widgets.order_ticket import OrderTicketWidget

    # which charts it follows is the link group's business (app/features/trading.py)
    return OrderTicketWidget(trading_session(ctx))


def working_orders(ctx: "AppContext") -> QWidget:
    from widgets.trading import WorkingOrdersWidget

    return WorkingOrdersWidget(trading_session(ctx))


def order_history(ctx: "AppContext") -> QWidget:
    from widgets.trading import OrderHistoryWidget

    return OrderHistoryWidget(trading_session(ctx))


def fills(ctx: "AppContext") -> QWidget:
    from widgets.trading import FillsWidget

    return FillsWidget(trading_session(ctx))


def positions(ctx: "AppContext") -> QWidget:
    from widgets.trading import PositionsWidget

    w = PositionsWidget(trading_session(ctx))
    w.symbol_activated.connect(ctx.open_symbol)
    return w


def account(ctx: "AppContext") -> QWidget:
    from widgets.trading import AccountWidget

    return AccountWidget(trading_session(ctx))
