"""``PaperSession``: what a paper-trading front end works with, without Qt.

A session is the broker seen from one seat: the *selected account*, the latest quote per
symbol (the *quote cache*), the selected account's open positions *marked* at those quotes
(``Marks``: unrealized P&L computed once per quote batch and shared by every view), the
symbols that need quotes (the broker's working orders and positions plus whatever the
front end *watches*, e.g. the ticket's symbol), and the one quote path: a
``engine.paper.feed.QuoteFeed`` over a ``QuoteSource`` that delivers to
``PaperSession.apply_quotes``.

Commands (submit, cancel, modify, flatten, reverse, create an account, select one) return
a ``CommandResult``: the value, and a one-sentence ``error`` when the broker refused (a
rejected order has both: the order and why). They never raise for bad input.

The session listens to the broker's events on the bus it is given (synchronously, on the
publishing thread, under its own lock) and publishes its own typed events there
(``engine.paper.session_events``) after releasing that lock; a GUI subscribes to both
through its bridge. Broker commands run on the caller's thread: the broker decides which
threads it accepts (today the thread that opened it, sqlite3's ``check_same_thread``).
"""
from __future__ import annotations

import datetime as _dt
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Generic, TypeVar

from engine.events import Event, EventBus
from engine.formatting import money
from engine.paper.account import AccountSummary
from engine.paper.broker import PaperBroker
from engine.paper.contracts import compact_symbol
from engine.paper.checks import DEFAULT_MAX_DISTANCE_PCT, MarketCheck, check_modify, check_order, max_distance
from engine.paper.events import AccountChanged, OrderUpdated, PositionChanged
from engine.paper.expiry import CloseOf, Settlement
from engine.paper.feed import QuoteFeed, QuoteSource, quote_last
from engine.paper.ledger import PositionView
from engine.paper.money import to_price
from engine.paper.orders import Fill, OrderRequest, OrderState, OrderView, Quote, Role
from engine.paper.session_events import (
    AccountSelected,
    AccountsListed,
    Marks,
    MarksChanged,
    PositionMark,
    QuotesApplied,
    SummaryChanged,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
_CENT = Decimal("0.01")
NO_ACCOUNT = "create a paper account first"


@dataclass(frozen=True, slots=True)
class CommandResult(Generic[T]):
    """What a session command did: ``value`` (None when nothing was done) and ``error``, one
    sentence for the user (None when it worked)."""

    value: T | None = None
    error: str | None = None
    #: questions the order needs answered yes (``confirmed=True``) before it is sent; the
    #: command was not carried out (``error`` says so)
    confirm: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


def _reason(exc: BaseException) -> str:
    # KeyError's str() wraps the message in quotes; the paper errors carry a sentence
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str) else str(exc)
    return text or type(exc).__name__


def mark_positions(account: str, positions: Iterable[PositionView], quotes: dict[str, Quote]) -> Marks:
    """``positions`` (open ones; qty 0 skipped) marked at ``quotes``' last price.

    Market value qty × last and unrealized P&L market value − cost, both to the cent;
    positions without a quote get None and make ``complete`` False.
    """
    marks: dict[str, PositionMark] = {}
    total = Decimal(0)
    complete = True
    for p in positions:
        if p.qty == 0:
            continue
        q = quotes.get(p.symbol)
        if q is None:
            complete = False
            marks[p.symbol] = PositionMark(p.symbol, p.qty, None, None, None)
            continue
        last = quote_last(q)
        mv = p.qty * last * p.multiplier
        unreal = (mv - p.cost).quantize(_CENT)
        total += unreal
        marks[p.symbol] = PositionMark(p.symbol, p.qty, last, mv, unreal)
    return Marks(account, marks, total, complete)


def _same_money(a: AccountSummary | None, b: AccountSummary | None) -> bool:
    if a is None or b is None:
        return a is b
    return replace(a, time_ms=0) == replace(b, time_ms=0)


class PaperSession:
    """A paper-trading seat over ``broker`` (see module docstring).

    ``account`` the account to select first (the first one when None or unknown);
    ``source`` the quote source of the session's ``feed`` (None: no feed; quotes can still
    be applied with ``apply_quotes``); ``clock`` epoch ms for the feed; ``max_distance_pct``
    how far (percent) from the market a price may be before an order needs confirmation.
    """

    def __init__(
        self, broker: PaperBroker, bus: EventBus, *, account: str | None = None,
        source: QuoteSource | None = None, clock: Callable[[], int] | None = None,
        max_distance_pct: Decimal | int | str = DEFAULT_MAX_DISTANCE_PCT,
        close_of: CloseOf | None = None,
    ) -> None:
        self.broker = broker
        #: the underlying's close on an option's expiry day (``engine.paper.expiry``); None:
        #: only the session's own quote of it on that day after the close
        self.close_of = close_of
        self.bus = bus
        self._lock = threading.RLock()
        self._account = ""
        self._summary: AccountSummary | None = None
        self._positions: dict[str, PositionView] = {}
        self._quotes: dict[str, Quote] = {}
        self._marks = Marks("")
        self._watch: dict[str, tuple[str, ...]] = {}
        self._names = tuple(broker.accounts())
        self._day_open: tuple[str, int, Decimal] | None = None  # account, day start ms, equity
        #: a price farther than this (percent) from the market asks for confirmation
        self.max_distance_pct = max_distance(max_distance_pct)
        self.feed: QuoteFeed | None = QuoteFeed(self, source, clock=clock) if source is not None else None
        self._unsubscribe = [
            bus.subscribe(OrderUpdated, self._on_order_updated),
            bus.subscribe(PositionChanged, self._on_position),
            bus.subscribe(AccountChanged, self._on_account_changed),
        ]
        if self._names:
            self.select(account if account in self._names else self._names[0])

    def close(self) -> None:
        """Stop the feed for good and stop listening (before the broker closes)."""
        if self.feed is not None:
            self.feed.close()
        for off in self._unsubscribe:
            off()
        self._unsubscribe = []

    def _publish(self, events: Iterable[Event]) -> None:
        for e in events:
            self.bus.publish(e)

    # ---------------------------------------------------------------- state (read)
    @property
    def account(self) -> str:
        """The selected account's name ("" when there is none yet)."""
        return self._account

    @property
    def summary(self) -> AccountSummary | None:
        """The selected account's money, as of the latest event or quote batch."""
        return self._summary

    @property
    def positions(self) -> dict[str, PositionView]:
        """The selected account's positions by symbol (a copy; closed ones have qty 0)."""
        with self._lock:
            return dict(self._positions)

    @property
    def marks(self) -> Marks:
        """The selected account's open positions marked at the latest quotes."""
        return self._marks

    def day_pnl(self) -> Decimal | None:
        """Today's P&L of the selected account in dollars: equity now − equity at the start
        of the New York day (the equity curve's last point before it, which the broker
        records at creation and after every fill batch; the starting cash when there is
        none). Realized and unrealized together, after fees; None without an account."""
        from engine.paper.day import day_start_ms

        s = self._summary
        if s is None or not self._account:
            return None
        start = day_start_ms(s.time_ms)
        cached = self._day_open
        if cached is None or cached[:2] != (s.name, start):
            before = [e for t, e in self.broker.equity_curve(s.name) if t < start]
            cached = self._day_open = (s.name, start, before[-1] if before else s.initial_cash)
        return s.equity - cached[2]

    def mark(self, symbol: str) -> PositionMark | None:
        return self._marks.get(symbol)

    def quote(self, symbol: str) -> Quote | None:
        """The latest quote of ``symbol`` this session has seen (None: none yet)."""
        return self._quotes.get(symbol)

    def last_price(self, symbol: str) -> Decimal | None:
        """The latest quote's last price (its bid/ask midpoint when it has none)."""
        q = self._quotes.get(symbol)
        return None if q is None else quote_last(q)

    @property
    def quote_label(self) -> str:
        """What the user is told the quotes are ("demo quotes", "delayed quotes")."""
        return self.feed.label if self.feed is not None else "no quote source"

    def quote_problem(self, symbol: str) -> str:
        """Why no order should be sent on ``symbol``'s current quote without saying so ("" when
        there is none): today, a stale quote (the data source is offline). Front ends refuse to
        send on it and show this sentence."""
        return self.feed.stale_reason(symbol) if self.feed is not None and symbol else ""

    def no_quote_reason(self, symbol: str) -> str:
        """Why ``symbol`` has no quote, one sentence; "" when the session has one. E.g. "FUT
        has no stored bars: import a CSV or switch the data source". Front ends show it and
        do not send; ``submit`` refuses with it."""
        sym = compact_symbol(symbol.strip().upper()) if isinstance(symbol, str) else ""
        if not sym:
            return "no symbol"
        if sym in self._quotes:
            return ""
        if self.feed is None:
            return f"no quote for {sym}: there is no quote source"
        return self.feed.no_quote_reason(sym) or f"no quote for {sym} yet: waiting for the {self.feed.label}"

    def check(self, reqs: Sequence[OrderRequest]) -> MarketCheck:
        """``reqs`` (one order or an OCO pair) checked against the latest quote of their
        symbol (``engine.paper.checks``, distance ``max_distance_pct``); without a quote
        the refusal is ``no_quote_reason``."""
        out = MarketCheck()
        for r in reqs:
            q = self._quotes.get(r.symbol)
            got = check_order(r, q, max_distance_pct=self.max_distance_pct)
            if q is None:
                got = MarketCheck((self.no_quote_reason(r.symbol),), got.confirm)
            out = out + got
        return out

    @property
    def quote_description(self) -> str:
        if self.feed is None:
            return "No quote source: orders fill only on quotes."
        return self.feed.description

    def accounts(self) -> list[str]:
        return list(self.broker.accounts())

    def snapshot(self) -> tuple[list[OrderView], list[Fill], list[PositionView]]:
        """The selected account's orders, fills and open positions now."""
        a = self._account
        if not a:
            return [], [], []
        return self.broker.orders(a), self.broker.fills(a), self.broker.positions(a)

    def equity_curve(self) -> list[tuple[int, Decimal]]:
        """The selected account's equity curve: (epoch ms, equity in dollars) points."""
        return self.broker.equity_curve(self._account) if self._account else []

    # ---------------------------------------------------------------- watched symbols
    def watch(self, owner: str, symbols: Iterable[str]) -> None:
        """``owner`` (e.g. a ticket) needs quotes for ``symbols`` (replacing what it watched
        before; an empty list stops). Symbols are upper-cased, blanks dropped."""
        syms = tuple(dict.fromkeys(compact_symbol(s.strip().upper()) for s in symbols if s and s.strip()))
        with self._lock:
            if syms:
                self._watch[owner] = syms
            else:
                self._watch.pop(owner, None)

    def watched_symbols(self) -> list[str]:
        """Symbols that need quotes: the broker's (working orders, positions), then watched ones."""
        with self._lock:
            extra = [s for syms in self._watch.values() for s in syms]
        return list(dict.fromkeys([*self.broker.watched_symbols(), *extra]))

    # ---------------------------------------------------------------- quotes
    def apply_quotes(self, quotes: Sequence[Quote]) -> list[Fill]:
        """Feed ``quotes`` to the broker (matching, then DAY expiry) and into the cache; the
        selected account's marks and summary are recomputed once for the batch and
        ``QuotesApplied`` is published. Returns the fills. A quote the broker refuses is
        logged and left out of the cache."""
        from engine.paper.feed import apply_to_broker

        good = [q for q in quotes if isinstance(q, Quote)]
        fills = apply_to_broker(self.broker, good)
        events: list[Event] = []
        with self._lock:
            for q in good:
                if q.bid <= q.ask:  # the broker refused crossed ones
                    self._quotes[q.symbol] = q
            self._marks = mark_positions(self._account, self._positions.values(), self._quotes)
            events.extend(self._refresh_summary_locked())
            events.append(QuotesApplied(self, tuple(good), self._marks))
        self._publish(events)
        self.settle_expiries()
        return fills

    # ---------------------------------------------------------------- options
    def underlying_close(self, symbol: str, day: _dt.date) -> Decimal | None:
        """``symbol``'s close on ``day``: from ``close_of`` (stored daily bars), else this
        session's latest quote of it when that quote is from ``day`` at or after its close."""
        if self.close_of is not None:
            got = self.close_of(symbol, day)
            if got is not None:
                return got
        q = self._quotes.get(symbol)
        if q is None:
            return None
        from engine.paper.expiry import expiry_close_ms
        from engine.paper.options import ny_date

        try:
            closes = expiry_close_ms(day)
        except ValueError:
            return None
        if ny_date(q.time_ms) == day and q.time_ms >= closes - 60_000:
            return quote_last(q)
        return None

    def settle_expiries(self) -> CommandResult[list[Settlement]]:
        """Settle option positions whose expiry close has passed, in every account
        (``PaperBroker.settle_expiries``): the settlements, or why it could not be done."""
        try:
            done, waiting = self.broker.settle_expiries(self.underlying_close)
        except (KeyError, ValueError) as exc:
            return CommandResult(None, _reason(exc))
        except Exception as exc:  # noqa: BLE001 - a store error: retried on the next round
            log.warning("option expiries not settled yet: %s", exc)
            return CommandResult(None, str(exc))
        if waiting:
            log.info("option expiries waiting: %s", "; ".join(waiting))
        return CommandResult([x for _a, x in done], "; ".join(waiting) if waiting and not done else None)

    def package_of(self, symbol: str) -> str:
        """The package (multi-leg order id, ``oco_group`` of its legs) that last traded
        ``symbol`` in the selected account; "" when its latest fill was a single order."""
        a = self._account
        if not a:
            return ""
        try:
            for f in reversed(self.broker.fills(a)):
                if f.symbol == symbol:
                    o = self.broker.order(f.order_id)
                    return o.oco_group or "" if o.role is Role.LEG else ""
        except (KeyError, ValueError):
            return ""
        return ""

    def option_greeks(self, symbol: str) -> dict[str, float] | None:
        """Per-share delta, gamma, theta, vega (and iv, spot) of an option at its latest
        quote, when the quote source computes them (``OptionQuotes``); else None."""
        src = self.feed.source if self.feed is not None else None
        fn = getattr(src, "greeks", None)
        return fn(symbol) if fn is not None else None

    def prepare_options(self, legs: Sequence[OrderRequest], net_price: Decimal | None = None,
                        owner: str = "options") -> CommandResult[dict[str, object]]:
        """Quote option ``legs`` now (and their underlyings; ``owner`` keeps watching them) and
        preview them for a confirmation (``PaperBroker.preview_options``). Run it where
        broker commands run (the broker thread)."""
        if not self._account:
            return CommandResult(None, NO_ACCOUNT)
        from engine.paper.contracts import option_contract
        from engine.paper.feed import quote_all

        syms: list[str] = []
        for r in legs:
            c = option_contract(r.symbol)
            if c is not None:
                syms += [c.underlying, r.symbol]
        self.watch(owner, syms)
        if self.feed is not None:
            try:
                self.apply_quotes(quote_all(self.feed.source, list(dict.fromkeys(syms)), self.feed.clock()))
            except Exception as exc:  # noqa: BLE001 - the preview says there is no quote
                log.warning("option quotes failed: %s", exc)
        for r in legs:
            why = self.no_quote_reason(r.symbol)
            if why:
                return CommandResult(None, why)
        return self._run(self.broker.preview_options, self._account, list(legs), net_price)

    def submit_package(self, legs: Sequence[OrderRequest], net_price: Decimal | str | None = None, *,
                       tif: str = "day", tag: str = "") -> CommandResult[tuple[OrderView, ...]]:
        """Place a multi-leg option package in the selected account (``PaperBroker.submit_package``):
        every leg must have a fresh quote (else the refusal is its ``no_quote_reason``); the
        legs come back accepted (filled when the quotes meet the net price) or rejected with why."""
        if not self._account:
            return CommandResult(None, NO_ACCOUNT)
        if not all(isinstance(r, OrderRequest) for r in legs):
            return CommandResult(None, "legs must be OrderRequests")
        for r in legs:
            why = self.no_quote_reason(r.symbol) or self.quote_problem(r.symbol)
            if why:
                return CommandResult(None, why)
        res: CommandResult[list[OrderView]] = self._run(self.broker.submit_package, self._account, list(legs),
                                                        net_price, tif, tag)
        if res.value is None:
            return CommandResult(None, res.error)
        views = tuple(res.value)
        if views and views[0].state is OrderState.REJECTED:
            return CommandResult(views, f"package rejected: {views[0].reason}")
        return CommandResult(views)

    # ---------------------------------------------------------------- accounts
    def select(self, name: str) -> CommandResult[str]:
        """Show account ``name``: its positions, summary and marks are loaded."""
        if name == self._account:
            return CommandResult(name)
        if name not in self.broker.accounts():
            return CommandResult(None, f"no paper account named {name!r}")
        positions = {p.symbol: p for p in self.broker.positions(name)}
        summary = self.broker.account_summary(name)
        with self._lock:
            self._account = name
            self._positions = positions
            self._summary = summary
            self._marks = mark_positions(name, positions.values(), self._quotes)
            marks = self._marks
        self._publish([AccountSelected(self, name), SummaryChanged(self, summary), MarksChanged(self, marks)])
        return CommandResult(name)

    def create_account(self, name: str, cash: Decimal | int | str, kind: str) -> CommandResult[str]:
        """Create a paper account (``cash`` starting dollars, ``kind`` "cash" or "margin")
        and select it."""
        try:
            self.broker.create_account(name, cash, kind)
        except (KeyError, ValueError) as exc:
            return CommandResult(None, _reason(exc))
        self._on_accounts_maybe_changed()
        return self.select(name.strip())

    def _on_accounts_maybe_changed(self) -> None:
        names = tuple(self.broker.accounts())
        with self._lock:
            changed = names != self._names
            self._names = names
        if changed:
            self._publish([AccountsListed(self, names)])

    def snapshot_equity(self) -> tuple[int, Decimal] | None:
        """Record an equity-curve point for every account with open positions (so curves
        follow unrealized P&L between fills); returns the selected account's new point
        (epoch ms, dollars), or None when it has no open position."""
        point = None
        for name in self.broker.accounts():
            if self.broker.positions(name):
                self.broker.snapshot_equity(name)
                if name == self._account:
                    s = self.broker.account_summary(name)
                    point = (s.time_ms, s.equity)
        return point

    # ---------------------------------------------------------------- orders
    def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> CommandResult[T]:
        try:
            return CommandResult(fn(*args, **kwargs))
        except (KeyError, ValueError) as exc:
            return CommandResult(None, _reason(exc))

    @staticmethod
    def _rejected(res: CommandResult[OrderView] | CommandResult[OrderView | None],
                  what: str = "order") -> CommandResult[OrderView]:
        o = res.value
        if o is not None and o.state is OrderState.REJECTED:
            return CommandResult(o, f"{what} rejected: {o.reason}")
        return CommandResult(o, res.error)

    @staticmethod
    def _refused(check: MarketCheck, confirmed: bool) -> CommandResult[Any] | None:
        """The result of an order the market checks stop (None: it may go)."""
        if check.refusals:
            return CommandResult(None, "; ".join(check.refusals))
        if check.confirm and not confirmed:
            return CommandResult(None, "needs confirmation: " + " ".join(check.confirm), check.confirm)
        return None

    def submit(self, req: OrderRequest, *, confirmed: bool = False,
               account: str | None = None) -> CommandResult[OrderView]:
        """Place ``req`` in the selected account (or ``account``, e.g. the one copy trading
        mirrors into): the order (accepted, or rejected with why).

        It is first checked against the latest quote (``check``): a refusal is the error and
        nothing is sent; questions (``confirm``) refuse too unless ``confirmed``."""
        target = self._account if account is None else account
        if not target:
            return CommandResult(None, NO_ACCOUNT)
        if not isinstance(req, OrderRequest):
            return CommandResult(None, f"an order must be an OrderRequest, not {type(req).__name__}")
        stop = self._refused(self.check([req]), confirmed)
        if stop is not None:
            return stop
        return self._rejected(self._run(self.broker.submit, target, req))

    def submit_all(self, reqs: Sequence[OrderRequest], *,
                   confirmed: bool = False) -> CommandResult[tuple[OrderView, ...]]:
        """Place one order, or two as an OCO pair (what ``engine.paper.ticket`` builds),
        checked like ``submit``."""
        if len(reqs) == 1:
            one = self.submit(reqs[0], confirmed=confirmed)
            return CommandResult((one.value,) if one.value is not None else None, one.error, one.confirm)
        if len(reqs) != 2:
            return CommandResult(None, f"a ticket makes one order or an OCO pair, not {len(reqs)} orders")
        if not self._account:
            return CommandResult(None, NO_ACCOUNT)
        if not all(isinstance(r, OrderRequest) for r in reqs):
            return CommandResult(None, "orders must be OrderRequests")
        stop = self._refused(self.check(reqs), confirmed)
        if stop is not None:
            return stop
        pair: CommandResult[tuple[OrderView, ...]] = self._run(self.broker.submit_oco, self._account, reqs[0], reqs[1])
        if pair.value is not None:
            for o in pair.value:
                if o.state is OrderState.REJECTED:
                    return CommandResult(pair.value, f"order rejected: {o.reason}")
        return pair

    def cancel(self, order_id: str) -> CommandResult[OrderView]:
        return self._run(self.broker.cancel, order_id)

    def modify(self, order_id: str, *, confirmed: bool = False, **changes: Any) -> CommandResult[OrderView]:
        """Change a working order: ``qty``, ``limit_price``, ``stop_price``, ``trail_amount``,
        ``trail_percent`` or ``tif`` (see ``PaperBroker.modify``). The order as it would be
        is checked against the market like ``submit`` (refusals refuse; questions refuse
        unless ``confirmed``)."""
        try:
            order = self.broker.order(order_id)
            prices = {k: None if changes.get(k) is None else to_price(changes[k], k.replace("_", " "))
                      for k in ("limit_price", "stop_price")}
        except (KeyError, ValueError):
            return self._run(self.broker.modify, order_id, **changes)  # the broker says what is wrong
        qty = changes.get("qty")
        if order.is_working and (prices["limit_price"] is not None or prices["stop_price"] is not None
                                 or isinstance(qty, int)):
            q = self._quotes.get(order.symbol)
            check = check_modify(order, q, qty=qty if isinstance(qty, int) and not isinstance(qty, bool) else None,
                                 limit_price=prices["limit_price"], stop_price=prices["stop_price"],
                                 max_distance_pct=self.max_distance_pct, group=self._bracket_of(order))
            if q is None and check.refusals:
                check = MarketCheck((self.no_quote_reason(order.symbol),))
            stop = self._refused(check, confirmed)
            if stop is not None:
                return stop
        return self._run(self.broker.modify, order_id, **changes)

    def _bracket_of(self, order: OrderView) -> list[OrderView]:
        """The other orders of ``order``'s bracket (none when it is not in one)."""
        if order.role is Role.ENTRY:
            root = order.order_id
        elif order.role in (Role.TAKE_PROFIT, Role.STOP_LOSS) and order.parent_id:
            root = order.parent_id
        else:
            return []
        try:
            orders = self.broker.orders(order.account, working_only=True)
        except (KeyError, ValueError):
            return []
        return [o for o in orders if o.order_id != order.order_id and (o.order_id == root or o.parent_id == root)]

    def flatten(self, symbol: str) -> CommandResult[OrderView]:
        """Cancel the symbol's working orders and close its position at market (value None:
        there was no position)."""
        if not self._account:
            return CommandResult(None, NO_ACCOUNT)
        return self._rejected(self._run(self.broker.flatten, self._account, symbol), "flatten")

    def reverse(self, symbol: str) -> CommandResult[OrderView]:
        """Cancel the symbol's working orders and turn its position around at market."""
        if not self._account:
            return CommandResult(None, NO_ACCOUNT)
        return self._rejected(self._run(self.broker.reverse, self._account, symbol), "reverse")

    # ---------------------------------------------------------------- broker events
    def _refresh_summary_locked(self) -> list[Event]:
        if not self._account:
            return []
        s = self.broker.account_summary(self._account)
        if _same_money(s, self._summary):
            self._summary = s
            return []
        self._summary = s
        return [SummaryChanged(self, s)]

    def _on_order_updated(self, e: OrderUpdated) -> None:
        if e.account != self._account:
            return
        with self._lock:
            events = self._refresh_summary_locked()  # working orders hold back buying power
        self._publish(events)

    def _on_position(self, e: PositionChanged) -> None:
        if e.account != self._account:
            return
        with self._lock:
            self._positions[e.position.symbol] = e.position
            self._marks = mark_positions(self._account, self._positions.values(), self._quotes)
            marks = self._marks
        self._publish([MarksChanged(self, marks)])

    def _on_account_changed(self, e: AccountChanged) -> None:
        if e.account not in self._names:
            self._on_accounts_maybe_changed()
        if e.account == self._account:
            with self._lock:
                changed = not _same_money(e.summary, self._summary)
                self._summary = e.summary
            if changed:
                self._publish([SummaryChanged(self, e.summary)])
        elif not self._account:
            self.select(e.account)


def describe_fill(f: Fill, account: str) -> str:
    """One line for a fill notification: ``Buy 100 ACME at $100.05 (Paper)``."""
    return f"{f.side.value.title()} {f.qty:,} {f.symbol} at {money(f.price)} ({account})"


__all__ = ["NO_ACCOUNT", "CommandResult", "PaperSession", "describe_fill", "mark_positions"]
