"""``TradingSession``: the thin Qt adapter over ``engine.paper.session.PaperSession``.

The domain — selected account, quote cache, marks, commands — is the engine's
``PaperSession``; this adapter only

* turns its events and the broker's (delivered on the GUI thread by ``connect``, the app
  bridge's ``connect``; tests pass ``bus.subscribe``) into Qt signals carrying the selected
  account's data;
* runs the session's one quote path (``PaperSession.feed``) on a ``QTimer``: every
  ``interval_ms`` the feed's symbols are quoted in a worker (``tasks``, the app's worker
  pattern) and ``QuoteFeed.apply`` (matching, fills, their commit) runs on the broker
  thread, in the same ordered queue as the commands, so the GUI never waits on a commit
  and a quote never overtakes an order sent before it; fills and marks come back through
  the bridge. A tick is skipped while the previous round is being fetched;
* turns a command's ``CommandResult.error`` into ``command_failed`` so every dock can show
  it, and returns the value;
* runs the docks' broker commands (submit, modify, cancel, flatten, reverse) off the GUI
  thread: ``send(fn, on_done)`` hands ``fn`` to the ``commands`` runner — in the app a
  ``BrokerThread``, one dedicated thread so commands keep their order — and ``on_done``
  gets the ``CommandResult`` back on the GUI thread (a queued signal), so the GUI never
  waits on a durable commit. Without a runner (tests) commands run at once, on the caller's
  thread. The broker is thread-safe (one lock); its events reach the docks through the bridge.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from engine.paper.account import AccountSummary
from engine.paper.events import AccountChanged, FillOccurred, OrderUpdated, PositionChanged
from engine.paper.feed import QuoteFeed
from engine.paper.fills import Commission
from engine.paper.ledger import PositionView
from engine.paper.orders import Fill, OrderRequest, OrderView, Quote
from engine.paper.session import CommandResult, PaperSession
from engine.paper.session_events import (
    AccountSelected,
    AccountsListed,
    Marks,
    MarksChanged,
    PositionMark,
    QuotesApplied,
    SessionEvent,
    SummaryChanged,
)
from widgets.tasks import TaskSubmitter

log = logging.getLogger(__name__)

Connect = Callable[[type, Callable[[Any], None]], Any]
Done = Callable[[CommandResult[Any]], None]


class BrokerThread(QObject):
    """One long-lived thread that runs broker commands in the order they were sent; each
    result comes back on the GUI thread through ``finished`` (a queued signal)."""

    finished = Signal(object, object)  # on_done callback, CommandResult

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paper-broker")
        self.finished.connect(self._deliver)
        self.pending = 0
        self._lock = threading.Lock()

    def run(self, fn: Callable[[], CommandResult[Any]], on_done: Done) -> None:
        """Run ``fn`` on the broker thread; ``on_done(result)`` later on the GUI thread."""
        with self._lock:
            self.pending += 1
        self._pool.submit(self._call, fn, on_done)

    def _call(self, fn: Callable[[], CommandResult[Any]], on_done: Done) -> None:
        try:
            res = fn()
        except Exception as exc:  # noqa: BLE001 - a store failure must reach the user, not the thread
            log.exception("paper broker command failed")
            res = CommandResult(None, str(exc) or type(exc).__name__)
        self.finished.emit(on_done, res)

    def _deliver(self, on_done: Done, res: CommandResult[Any]) -> None:
        with self._lock:
            self.pending -= 1
        on_done(res)

    def close(self) -> None:
        """Finish the commands already sent, then stop the thread."""
        self._pool.shutdown(wait=True)


class TradingSession(QObject):
    """The trading docks' view of one ``PaperSession`` (see module docstring)."""

    account_selected = Signal(str)
    accounts_changed = Signal()
    order_updated = Signal(object)  # OrderView
    fill_added = Signal(object)  # Fill
    position_changed = Signal(object)  # PositionView
    marks_changed = Signal(object)  # Marks
    summary_changed = Signal(object)  # AccountSummary
    equity_point = Signal(object, object)  # time ms (int), equity Decimal
    quotes_changed = Signal()
    command_failed = Signal(str)

    def __init__(self, core: PaperSession, tasks: TaskSubmitter, connect: Connect, *,
                 interval_ms: int = 1500, commands: BrokerThread | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.tasks = tasks
        self.commands = commands
        #: seconds from ``send`` to its result on the GUI thread, the latest 1,000
        self.ack_latencies: list[float] = []
        self.closed = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll_now)
        for kind, slot in (
            (OrderUpdated, self._on_order_updated), (FillOccurred, self._on_fill),
            (PositionChanged, self._on_position), (AccountChanged, self._on_account_changed),
            (AccountSelected, self._on_account_selected), (AccountsListed, self._on_accounts_listed),
            (SummaryChanged, self._on_summary), (MarksChanged, self._on_marks),
            (QuotesApplied, self._on_quotes_applied),
        ):
            connect(kind, slot)

    # ---------------------------------------------------------------- life cycle
    def start(self) -> None:
        """Start quoting every ``interval_ms``."""
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def close(self) -> None:
        """Stop quoting for good: a round still in flight is dropped (the broker may be closing)."""
        self.closed = True
        self.timer.stop()
        curve = getattr(self, "curve_timer", None)  # app/trading.py's equity-curve timer
        if curve is not None:
            curve.stop()
        if self.core.feed is not None:
            self.core.feed.close()  # quotes still queued are dropped; commands already sent finish
        if self.commands is not None:
            self.commands.close()

    # ---------------------------------------------------------------- quotes
    @property
    def feed(self) -> QuoteFeed | None:
        return self.core.feed

    @property
    def busy(self) -> bool:
        """A quote round is in flight."""
        return self.core.feed is not None and self.core.feed.busy

    def poll_now(self) -> bool:
        """Start one quote round now (False if one is in flight or nothing needs a quote)."""
        feed = self.core.feed
        if feed is None or self.closed:
            return False
        rnd = feed.begin()
        if rnd is None:
            return False
        self.tasks.submit(feed.fetch, rnd, label="Paper quotes", on_result=self._on_fetched,
                          on_error=self._on_fetch_failed, on_finished=feed.end)
        return True

    def _on_fetched(self, quotes: list[Quote]) -> None:
        feed = self.core.feed
        if self.closed or feed is None:
            return
        if self.commands is None:
            feed.apply(quotes)
        else:
            self.commands.run(lambda: CommandResult(feed.apply(quotes)), self._on_quotes_done)

    def _on_quotes_done(self, res: CommandResult[Any]) -> None:
        if res.error is not None:
            log.warning("paper quotes could not be applied: %s", res.error)

    def _on_fetch_failed(self, exc: BaseException) -> None:
        log.warning("paper quote round failed: %s", exc)

    @property
    def quote_label(self) -> str:
        return self.core.quote_label

    @property
    def quote_description(self) -> str:
        return self.core.quote_description

    def quote(self, symbol: str) -> Quote | None:
        return self.core.quote(symbol)

    def quote_problem(self, symbol: str) -> str:
        """Why an order must not be sent on ``symbol``'s quote without saying so ("" if none)."""
        return self.core.quote_problem(symbol)

    def no_quote_reason(self, symbol: str) -> str:
        """Why ``symbol`` has no quote ("" when it has one): ``PaperSession.no_quote_reason``."""
        return self.core.no_quote_reason(symbol) if symbol else ""

    def commission(self, symbol: str = "") -> Commission | None:
        """The selected account's commission model for ``symbol`` (an OCC symbol: the option
        commission; None: no account)."""
        name = self.core.account
        if not name:
            return None
        try:
            return self.core.broker.account_config(name).commission_for(symbol)
        except (KeyError, ValueError):
            return None

    def fee_model(self, symbol: str = "") -> Callable[[int, Decimal], Decimal] | None:
        """The selected account's commission: ``fee(qty, price)`` in dollars (None: no account)."""
        c = self.commission(symbol)
        return c.fee if c is not None else None

    @property
    def max_distance_pct(self) -> Decimal:
        """How far (percent) from the market a price may be before the engine asks."""
        return self.core.max_distance_pct

    def day_pnl(self) -> Decimal | None:
        """The selected account's P&L today (``PaperSession.day_pnl``)."""
        return self.core.day_pnl()

    def last_price(self, symbol: str) -> Decimal | None:
        return self.core.last_price(symbol)

    @property
    def marks(self) -> Marks:
        return self.core.marks

    def package_of(self, symbol: str) -> str:
        """The multi-leg package ``symbol``'s position came from ("" for a single order)."""
        return self.core.package_of(symbol)

    def option_greeks(self, symbol: str) -> dict[str, float] | None:
        """Per-share Greeks of an option position at its latest quote (None: not an option,
        or not quoted yet); ``PaperSession.option_greeks``."""
        return self.core.option_greeks(symbol)

    def mark(self, symbol: str) -> PositionMark | None:
        return self.core.mark(symbol)

    def watch(self, owner: str, symbols: Iterable[str]) -> None:
        self.core.watch(owner, symbols)

    def watched_symbols(self) -> list[str]:
        return self.core.watched_symbols()

    # ---------------------------------------------------------------- accounts
    @property
    def account(self) -> str:
        return self.core.account

    @property
    def summary(self) -> AccountSummary | None:
        return self.core.summary

    @property
    def positions(self) -> dict[str, PositionView]:
        return self.core.positions

    def accounts(self) -> list[str]:
        return self.core.accounts()

    def set_account(self, name: str) -> None:
        self._value(self.core.select(name))

    def create_account(self, name: str, cash: Decimal | str, kind: str) -> CommandResult[str]:
        return self._result(self.core.create_account(name, cash, kind))

    def snapshot(self) -> tuple[list[OrderView], list[Fill], list[PositionView]]:
        return self.core.snapshot()

    def load_equity_curve(self, on_result: Callable[[list[tuple[int, Decimal]]], None]) -> None:
        """Hand the selected account's equity curve to ``on_result`` (an indexed read of one
        account's rows, on this thread)."""
        if self.core.account:
            on_result(self.core.equity_curve())

    def snapshot_equity(self) -> None:
        """An equity-curve point for every account with open positions; the selected
        account's is emitted. Nothing once closed (the store may be gone)."""
        if self.closed:
            return
        point = self.core.snapshot_equity()
        if point is not None:
            self.equity_point.emit(*point)

    # ---------------------------------------------------------------- commands
    def _result(self, res: CommandResult[Any]) -> CommandResult[Any]:
        if res.error is not None:
            self.command_failed.emit(res.error)
        return res

    def _value(self, res: CommandResult[Any]) -> Any:
        return self._result(res).value

    def send(self, fn: Callable[[], CommandResult[Any]], on_done: Done | None = None) -> None:
        """Run the session command ``fn`` on the broker thread (at once without one); on the
        GUI thread a failure goes to ``command_failed`` and ``on_done(result)`` is called."""
        t0 = time.perf_counter()

        def done(res: CommandResult[Any]) -> None:
            self.ack_latencies.append(time.perf_counter() - t0)
            del self.ack_latencies[:-1000]
            self._result(res)
            if on_done is not None:
                on_done(res)

        if self.commands is None:
            done(fn())
        else:
            self.commands.run(fn, done)

    def send_orders(self, reqs: Sequence[OrderRequest], on_done: Done | None = None, **kw: Any) -> None:
        """Place a ticket's order(s) off the GUI thread (``send``); ``kw`` goes to the engine
        (``confirmed=True`` once the user said yes to the engine's questions)."""
        core = self.core
        self.send(lambda: core.submit_all(reqs, **kw), on_done)

    def send_cancel(self, order_id: str, on_done: Done | None = None) -> None:
        self.send(lambda: self.core.cancel(order_id), on_done)

    def send_modify(self, order_id: str, changes: dict[str, Any], on_done: Done | None = None) -> None:
        self.send(lambda: self.core.modify(order_id, **changes), on_done)

    def send_flatten(self, symbol: str, on_done: Done | None = None) -> None:
        self.send(lambda: self.core.flatten(symbol), on_done)

    def send_reverse(self, symbol: str, on_done: Done | None = None) -> None:
        self.send(lambda: self.core.reverse(symbol), on_done)

    def submit(self, req: OrderRequest) -> OrderView | None:
        """Place ``req`` in the selected account; the order (accepted or rejected), or None."""
        return self._value(self.core.submit(req))  # type: ignore[no-any-return]

    def submit_all(self, reqs: Sequence[OrderRequest]) -> tuple[OrderView, ...] | None:
        """Place a ticket's order(s): one, or an OCO pair."""
        return self._value(self.core.submit_all(reqs))  # type: ignore[no-any-return]

    def cancel(self, order_id: str) -> OrderView | None:
        return self._value(self.core.cancel(order_id))  # type: ignore[no-any-return]

    def modify(self, order_id: str, **changes: Any) -> OrderView | None:
        return self._value(self.core.modify(order_id, **changes))  # type: ignore[no-any-return]

    def flatten(self, symbol: str) -> OrderView | None:
        return self._value(self.core.flatten(symbol))  # type: ignore[no-any-return]

    def reverse(self, symbol: str) -> OrderView | None:
        return self._value(self.core.reverse(symbol))  # type: ignore[no-any-return]

    # ---------------------------------------------------------------- events
    def _mine(self, e: SessionEvent) -> bool:
        return e.session is self.core

    def _on_order_updated(self, e: OrderUpdated) -> None:
        if e.account == self.core.account:
            self.order_updated.emit(e.order)

    def _on_fill(self, e: FillOccurred) -> None:
        if e.account == self.core.account:
            self.fill_added.emit(e.fill)

    def _on_position(self, e: PositionChanged) -> None:
        if e.account == self.core.account:
            self.position_changed.emit(e.position)

    def _on_account_changed(self, e: AccountChanged) -> None:
        if e.account == self.core.account:
            self.equity_point.emit(e.summary.time_ms, e.summary.equity)

    def _on_account_selected(self, e: AccountSelected) -> None:
        if self._mine(e):
            self.account_selected.emit(e.account)

    def _on_accounts_listed(self, e: AccountsListed) -> None:
        if self._mine(e):
            self.accounts_changed.emit()

    def _on_summary(self, e: SummaryChanged) -> None:
        if self._mine(e) and e.summary.name == self.core.account:
            self.summary_changed.emit(e.summary)

    def _on_marks(self, e: MarksChanged) -> None:
        if self._mine(e):
            self.marks_changed.emit(e.marks)

    def _on_quotes_applied(self, e: QuotesApplied) -> None:
        if self._mine(e):
            self.quotes_changed.emit()


__all__ = ["BrokerThread", "TradingSession"]
