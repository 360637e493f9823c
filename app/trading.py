"""Paper trading in the shell: one ``PaperSession`` per app, its Qt adapter, the docks.

The engine's ``PaperSession`` (selected account, quote cache, marks, commands) and its Qt
adapter ``TradingSession`` are the trading feature's services (``ctx.service(PaperSession)``,
``ctx.service(TradingSession)``), built on the first trading dock's first show. The one
quote path is the session's ``QuoteFeed`` over ``engine.paper.feed.DataQuotes``: every 1.5 s
a quiet worker (not shown in the status bar) quotes the symbols with working orders or
positions plus the ticket's symbol, and the broker matches them on the broker thread. In demo
mode the quotes are simulated ticks (a random walk starting at the symbol's last demo
close) labelled "demo quotes"; otherwise the last 1-minute close of the active data source,
refreshed at most once a minute per symbol, labelled "delayed quotes". Both have a 5 bps
spread. The adapter also brings

* trade markers on every chart (fills of the chosen account, on the chart's symbol);
* a notification per fill; an equity-curve point a minute while positions are open;
* the broker thread (``widgets.trading.session.BrokerThread``) the docks' commands run on.

On the first start a paper account ``Paper`` with $100,000 (cash account) is created, so
the ticket works out of the box.
"""
from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from app.features.trading import TICKET_DOCK

if TYPE_CHECKING:
    from app.context import AppContext
    from engine.paper.orders import Fill
    from engine.paper.session import PaperSession
    from widgets.order_ticket import OrderTicketWidget
    from widgets.trading.session import TradingSession

log = logging.getLogger(__name__)

DEFAULT_ACCOUNT = "Paper"
DEFAULT_CASH = 100_000
QUOTE_INTERVAL_MS = 1500
EQUITY_SNAPSHOT_MS = 60_000


def trading_session(ctx: "AppContext") -> "TradingSession":
    """The app's trading session adapter (built on first use)."""
    from widgets.trading.session import TradingSession

    return ctx.service(TradingSession)


def build_paper_session(ctx: "AppContext") -> "PaperSession":
    """The Qt-free session over the app's broker and quotes (``app/features/trading.py``)."""
    from engine.paper.feed import DataQuotes
    from engine.paper.session import PaperSession
    from engine.paper.session_events import AccountSelected

    broker = ctx.broker
    if not broker.accounts():
        broker.create_account(DEFAULT_ACCOUNT, DEFAULT_CASH, "cash")
    chosen = str(ctx.ui.get("paper_account") or "")
    from app.features.trading import max_distance_setting, paper_quote_source
    from app.paper_cli import daily_close

    session = PaperSession(broker, ctx.bus, account=chosen or None, source=paper_quote_source(ctx, DataQuotes(ctx.data)),
                           max_distance_pct=max_distance_setting(ctx.settings), close_of=daily_close(ctx.data))

    def remember(e: AccountSelected) -> None:
        # on the bus, not through the bridge: a choice made just before exit is kept
        if e.session is session:
            ctx.ui.set("paper_account", e.account)

    ctx.bus.subscribe(AccountSelected, remember)
    return session


def build_trading_session(ctx: "AppContext") -> "TradingSession":
    """Build the adapter (``app/features/trading.py`` calls this once)."""
    from app.workers import TaskRunner
    from engine.paper.session import PaperSession, describe_fill
    from widgets.trading.markers import ChartTradeMarkers
    from widgets.trading.session import BrokerThread, TradingSession

    core = ctx.service(PaperSession)
    # A runner of its own: quote rounds every 1.5 s must not flash the status bar.
    quiet = TaskRunner()
    # submit / modify / cancel / flatten from the docks: one broker thread, in order; the GUI
    # thread never waits on a durable commit
    commands = BrokerThread()
    s = TradingSession(core, quiet, ctx.bridge.connect, interval_ms=QUOTE_INTERVAL_MS, commands=commands)
    commands.setParent(s)
    quiet.setParent(s)
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
    for w in ctx.window.contents("watchlist") if ctx.window is not None else ():
        attach_watchlist(s, w)

    def notify_fill(f: Fill) -> None:
        ctx.notifier.notify("Paper fill", describe_fill(f, s.account))

    s.fill_added.connect(notify_fill)
    s.start()
    for ticket in ctx.window.contents(TICKET_DOCK) if ctx.window is not None else ():
        if getattr(ticket, "session", s) is None:  # built for the first frame, still connecting
            ticket.attach_session(s)  # type: ignore[attr-defined]
    return s


def attach_watchlist(session: "TradingSession", watchlist: Any) -> None:
    """The watchlist's Last and Chg % follow the session's live quotes (the ones the ticket
    trades at and the chart's last bar draws): its symbols are watched by the quote feed, and
    every quote round updates its rows."""
    key = f"watchlist:{id(watchlist)}"

    def watch() -> None:
        if shiboken6.isValid(watchlist):
            session.watch(key, watchlist.symbols())

    def update() -> None:
        if shiboken6.isValid(watchlist):
            watchlist.apply_live_quotes(session.last_price)

    watchlist.quotes_loaded.connect(watch)
    watchlist.quotes_loaded.connect(update)
    session.quotes_changed.connect(update)
    watchlist.destroyed.connect(lambda *_: session.watch(key, []))
    watch()
    update()


def _built_trading_session(ctx: "AppContext") -> "TradingSession | None":
    mod = sys.modules.get("widgets.trading.session")
    return ctx.service(mod.TradingSession) if mod is not None and ctx.has_service(mod.TradingSession) else None


def order_ticket(ctx: "AppContext") -> "OrderTicketWidget":
    """The ticket. Built for the first frame, it opens the broker and its session after it
    (``MainWindow.after_start_up``) and says "Connecting paper account…" until then, unless
    the session is there already."""
    from widgets.order_ticket import OrderTicketWidget

    # which charts it follows is the link group's business (app/features/trading.py);
    # confirmation and hotkey trading are settings (settings.ini, trading/*)
    ticket = OrderTicketWidget(_built_trading_session(ctx), prefs=ctx.settings)
    if ticket.session is None:
        def connect() -> None:
            if not shiboken6.isValid(ticket) or ticket.session is not None:
                return
            session = trading_session(ctx)  # when it is built here, it attaches the waiting tickets
            if ticket.session is None:
                ticket.attach_session(session)

        after = getattr(ctx.window, "after_start_up", None)
        if after is not None:
            after(connect)
        else:
            QTimer.singleShot(0, connect)
    return ticket


def working_orders(ctx: "AppContext") -> QWidget:
    from widgets.trading.blotters import WorkingOrdersWidget

    return WorkingOrdersWidget(trading_session(ctx))


def order_history(ctx: "AppContext") -> QWidget:
    from widgets.trading.blotters import OrderHistoryWidget

    return OrderHistoryWidget(trading_session(ctx))


def fills(ctx: "AppContext") -> QWidget:
    from widgets.trading.blotters import FillsWidget

    return FillsWidget(trading_session(ctx))


def positions(ctx: "AppContext") -> QWidget:
    from widgets.trading.blotters import PositionsWidget

    w = PositionsWidget(trading_session(ctx))
    w.symbol_activated.connect(ctx.open_symbol)
    return w


def account(ctx: "AppContext") -> QWidget:
    from widgets.trading.account import AccountWidget

    return AccountWidget(trading_session(ctx))
