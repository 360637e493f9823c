"""One paper account: working orders, commands, the event journal, and the ledger.

This is the engine that both live paper trading (``PaperBroker``, quote or bar mode, with a
durable journal) and backtests (``engine.paper.backtest``, bar mode, in memory) drive, so a
strategy's backtest and its paper run fill alike. The fill rules themselves are in
``engine.paper.fills``; the account's other rules live along their seams:

* ``engine.paper.reservations`` — buying power held back by working orders;
* ``engine.paper.margin`` — cash vs Reg-T margin: leverage, buying power, affordability;
* ``engine.paper.contingent`` — bracket children and OCO groups (activation, resizing);
* ``engine.paper.matching`` — working orders against a bar or a quote, and the fills.

Those are functions over a ``PaperAccount``; the account binds them as its methods, so its
state stays in one place.

Every public method produces order events; they are applied to the orders (the only way an
order changes), fills are booked in the ledger, and the batch is handed to the journal in
one transaction before the method returns (that is what "acknowledged" means). Listeners
(the broker's bus publisher) hear about a batch only after it is committed.
"""
from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from engine.market.calendar import DEFAULT_EXCHANGE, exchange_for
from engine.market.calendar import session_close_after as _calendar_close_after
from engine.paper import contingent, expiry, margin, matching, options
from engine.paper.contracts import is_option, multiplier
from engine.paper.day import DayBook
from engine.paper.errors import InvalidOrder, OrderNotFound, OrderNotWorking
from engine.paper.fills import FillConfig, trail_stop
from engine.paper.ledger import Ledger, PositionView
from engine.paper.margin import PDT_MIN_EQUITY, AccountKind, in_regular_session
from engine.paper.money import ZERO
from engine.paper.orders import (
    Bar,
    Fill,
    IllegalTransition,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderModified,
    OrderRejected,
    OrderRequest,
    OrderState,
    OrderSubmitted,
    OrderTrailMoved,
    OrderType,
    Quote,
    Role,
    Side,
    TERMINAL_STATES,
    TimeInForce,
)
from engine.paper.reservations import Reservations, ref_price, reserved


def session_close_after(ms: int, symbol: str = DEFAULT_EXCHANGE) -> int:
    """When a DAY order entered at epoch ms ``ms`` expires (epoch ms): the close of the session
    in progress on ``symbol``'s exchange (``engine.market.calendar.exchange_for``), or of the
    next session when the market is closed — nights, weekends, holidays, and the closing
    second itself (an order entered exactly at the close lives until the next session's
    close). Holidays and early closes are honoured (2024-11-29 → 13:00 New York).

    The first call builds the exchange's calendar (up to ~1 s); later calls are a binary
    search. Raises ``ValueError`` for a time outside the calendar's range (1900..2100).
    """
    return _calendar_close_after(ms // 1000, exchange_for(symbol)) * 1000


class IdSource:
    """Order and fill ids: a per-process random prefix plus a counter, unique across restarts."""

    def __init__(self, prefix: str | None = None) -> None:
        # 64 random bits: no two sessions of one database will share a prefix in practice
        self.prefix = prefix if prefix is not None else os.urandom(8).hex()
        self._orders = itertools.count(1)
        self._fills = itertools.count(1)

    def order_id(self) -> str:
        return f"O{self.prefix}-{next(self._orders)}"

    def fill_id(self) -> str:
        return f"F{self.prefix}-{next(self._fills)}"


class Journal(Protocol):
    """Where an account's events go durably (``engine.paper.store``)."""

    def commit(self, account: PaperAccount, events: list[OrderEvent], fills: list[Fill]) -> None: ...


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """Money of one account at ``time_ms`` (exact Decimals; prices from the last quotes)."""

    name: str
    kind: AccountKind
    cash: Decimal
    equity: Decimal
    market_value: Decimal
    gross_exposure: Decimal
    buying_power: Decimal
    realized_pnl: Decimal  # before fees
    unrealized_pnl: Decimal
    fees: Decimal
    initial_cash: Decimal
    time_ms: int
    #: today's (New York day of ``time_ms``, ``engine.paper.day``) realized P&L before fees
    day_realized_pnl: Decimal = ZERO
    #: today's commissions
    day_fees: Decimal = ZERO
    #: what positions and working orders take of the buying power (dollars): equity −
    #: buying power for a cash account, leverage × equity − buying power on margin
    buying_power_used: Decimal = ZERO
    #: today's realized P&L and fees per symbol traded today (closed ones included)
    day_symbols: tuple[tuple[str, Decimal, Decimal], ...] = ()


class PaperAccount:
    """Orders, matching and ledger of one named account (see module docstring)."""

    def __init__(
        self,
        name: str,
        cash: Decimal,
        kind: AccountKind = AccountKind.CASH,
        config: FillConfig | None = None,
        *,
        ids: IdSource | None = None,
        journal: Journal | None = None,
        session_bars: bool = False,
        day_trading: bool | None = None,
    ) -> None:
        self.name = name
        self.kind = AccountKind(kind)
        self.config = config or FillConfig()
        self.ids = ids or IdSource()
        self.journal = journal
        #: bars cover whole sessions (daily or longer): DAY orders live for one bar
        self.session_bars = session_bars
        #: True: intraday (4×) margin for new orders; False: overnight (2×); None: by the
        #: clock — 4× while a NYSE regular session is in progress (``in_regular_session``),
        #: else 2×
        self.day_trading = day_trading
        self.now_ms = 0  # time of the latest command or market data
        self.ledger = Ledger(cash)
        #: every fill in booking order
        self.fill_log: list[Fill] = []
        self._day = DayBook()
        self.orders: dict[str, Order] = {}
        self.prices: dict[str, Decimal] = {}
        #: the latest quote per symbol (option packages price their legs at bid/ask)
        self.quotes: dict[str, Quote] = {}
        self.listeners: list[Callable[[PaperAccount, list[OrderEvent], list[Fill]], None]] = []
        self._working: dict[str, list[Order]] = {}
        #: what working orders hold back (``engine.paper.reservations``)
        self._res = Reservations()
        self._children: dict[str, list[Order]] = {}
        self._groups: dict[str, list[Order]] = {}
        self._events: list[OrderEvent] = []
        self._fills: list[Fill] = []
        self._late: list[tuple[Order, Decimal]] = []
        self._record = journal is not None
        #: True after a call failed half-way: memory no longer matches the journal
        self.stale = False

    # The rules along the account's seams, bound as its methods (see the module docstring).
    _check_buying_power = margin.check_buying_power
    _fill_problem = margin.fill_problem
    _held_exposure = margin.held_exposure
    _reserved = reserved
    _add_children = contingent.add_children
    _sync_children = contingent.sync_children
    _after_oco_fill = contingent.after_oco_fill
    _on_bar = matching.on_bar
    _on_quote = matching.on_quote
    _after_attempt = matching.after_attempt
    _ratchet = matching.ratchet
    _execute = matching.execute

    # ------------------------------------------------------------------ plumbing

    def _emit(self, order: Order, ev: OrderEvent) -> None:
        order.apply(ev)
        if self._record:
            self._events.append(ev)
        if order.state in TERMINAL_STATES:
            lst = self._working.get(order.symbol)
            if lst:
                try:
                    lst.remove(order)
                except ValueError:
                    pass
        self._res.track(order)

    @contextmanager
    def _call(self) -> Iterator[None]:
        """One public call: its batch is committed if it returns, discarded if it raises."""
        try:
            yield
        except BaseException:
            self._discard()
            raise
        self._commit()

    def _discard(self) -> None:
        """A call failed: nothing of its batch is written or announced. Orders may already
        have moved in memory, so the account is marked ``stale`` (the broker rebuilds it
        from the store)."""
        if self._events or self._fills:
            self.stale = True
        self._events.clear()
        self._fills.clear()
        self._late.clear()

    def _commit(self) -> None:
        """Make the batch durable, then tell listeners. Called at the end of every public call."""
        if not self._record or (not self._events and not self._fills):
            self._events.clear()
            self._fills.clear()
            return
        events, fills = self._events, self._fills
        self._events, self._fills = [], []
        if self.journal is not None:
            try:
                self.journal.commit(self, events, fills)
            except BaseException:
                self.stale = True  # memory is ahead of the store
                raise
        for listener in list(self.listeners):
            listener(self, events, fills)

    def add_listener(self, fn: Callable[[PaperAccount, list[OrderEvent], list[Fill]], None]) -> None:
        self.listeners.append(fn)
        self._record = True

    def _new_order(self, ev: OrderSubmitted) -> Order:
        o = Order(ev)
        self.orders[o.order_id] = o
        if self._record:
            self._events.append(ev)
        return o

    def _activate_working(self, o: Order) -> None:
        self._working.setdefault(o.symbol, []).append(o)
        self._res.track(o)

    # ------------------------------------------------------------------ restore

    def restore(self, orders: list[Order], fills: list[Fill]) -> None:
        """Load orders (rebuilt from their events) and the ledger (from fills) after a restart."""
        self.ledger = Ledger.from_fills(self.ledger.initial_cash, fills)
        self.fill_log = list(fills)
        for f in fills:
            self.prices.setdefault(f.symbol, f.price)
            self.prices[f.symbol] = f.price
        for o in orders:
            self.orders[o.order_id] = o
            if o.parent_id:
                self._children.setdefault(o.parent_id, []).append(o)
            if o.oco_group:
                self._groups.setdefault(o.oco_group, []).append(o)
            if o.is_working:
                self._activate_working(o)

    # ------------------------------------------------------------------ queries

    def working_orders(self, symbol: str | None = None) -> list[Order]:
        if symbol is not None:
            return list(self._working.get(symbol, ()))
        return [o for lst in self._working.values() for o in lst]

    def position(self, symbol: str) -> PositionView:
        p = self.ledger.positions.get(symbol)
        if p is None:
            return PositionView(symbol, 0, None, ZERO, ZERO, ZERO, multiplier(symbol))
        return p.view()

    def leverage(self) -> Decimal:
        """Gross exposure allowed per dollar of equity (1, 2 or 4; see ``engine.paper.margin``)."""
        return margin.leverage(self)

    def buying_power(self) -> Decimal:
        """What new orders may still commit: cash (cash account) or leverage × equity − gross
        exposure (margin), less what working orders hold back."""
        return margin.buying_power(self)

    def _ref_price(
        self, symbol: str, type_: OrderType, limit: Decimal | None, stop: Decimal | None, buy: bool,
    ) -> Decimal | None:
        return ref_price(self.prices, symbol, type_, limit, stop, buy)

    # ------------------------------------------------------------------ commands

    def submit(self, req: OrderRequest, now_ms: int, *, check: bool = True) -> Order:
        """Submit ``req``; returns the order — accepted, or rejected with ``order.reason``.

        A request with take-profit/stop-loss becomes a bracket: the entry plus two children
        waiting (``waiting``) for the entry to fill.
        """
        with self._call():
            return self._submit(req, now_ms, check=check, group=None, role=Role.SINGLE)

    def _submit(self, req: OrderRequest, now_ms: int, *, check: bool, group: str | None, role: Role) -> Order:
        self.now_ms = now_ms
        oid = self.ids.order_id()
        bracket = req.take_profit is not None or req.stop_loss is not None
        ev = OrderSubmitted(
            oid, now_ms, self.name, req.symbol, req.side, req.qty, req.type, req.tif,
            req.limit_price, req.stop_price, req.trail_amount, req.trail_percent, None, group,
            Role.ENTRY if bracket else role, now_ms + self.config.latency_ms, req.tag,
        )
        o = self._new_order(ev)
        problems = req.problems()
        reason = "; ".join(problems) if problems else None
        if reason is None and check:
            reason = self._check_buying_power(req, req.qty, group)
        expire = None
        if reason is None and req.tif is TimeInForce.DAY and not self.session_bars:
            try:
                expire = session_close_after(o.active_from_ms, req.symbol)
            except ValueError:
                reason = "a DAY order needs a session close, and the market calendar ends in 2100; use GTC"
        if reason is not None:
            self._emit(o, OrderRejected(oid, now_ms, reason=reason))
            return o
        self._emit(o, OrderAccepted(oid, now_ms, expire_at_ms=expire))
        if o.type is OrderType.TRAILING_STOP:
            last = self.prices.get(o.symbol)
            if last is not None:
                self._emit(o, OrderTrailMoved(oid, now_ms, stop_price=trail_stop(o, last), ref_price=last))
        if group is not None:
            self._groups.setdefault(group, []).append(o)
        self._activate_working(o)
        if bracket:
            self._add_children(o, req, now_ms)
        return o

    def submit_oco(self, first: OrderRequest, second: OrderRequest, now_ms: int) -> tuple[Order, Order]:
        """Two orders where a fill of one reduces (a full fill cancels) the other.

        If either is rejected the other is cancelled, so an OCO pair is never half-placed.
        """
        with self._call():
            group = f"G{self.ids.order_id()}"
            a = self._submit(first, now_ms, check=True, group=group, role=Role.OCO)
            b = self._submit(second, now_ms, check=True, group=group, role=Role.OCO)
            for x, y in ((a, b), (b, a)):
                if x.state is OrderState.REJECTED and y.is_working:
                    self._emit(y, OrderCancelled(y.order_id, now_ms, reason="its OCO partner was rejected"))
            return a, b

    def modify(
        self,
        order_id: str,
        now_ms: int,
        *,
        qty: int | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        trail_amount: Decimal | None = None,
        trail_percent: Decimal | None = None,
        tif: TimeInForce | None = None,
    ) -> Order:
        """Change a working order (``tif``: DAY or GTC; a DAY order expires at the close of
        the session it is changed in). Raises ``OrderNotFound``, ``OrderNotWorking`` or
        ``ValueError`` (with the reason) for a change that does not fit the order."""
        o = self._get_working(order_id)
        if o.role is Role.LEG:
            raise InvalidOrder("a package leg cannot be changed on its own: cancel the package and place it again")
        self.now_ms = now_ms
        expire = o.expire_at_ms
        if tif is not None:
            if tif is not TimeInForce.DAY and tif is not TimeInForce.GTC:
                raise InvalidOrder(f"a working order's time in force can become DAY or GTC, not {tif.value.upper()}")
            if tif is TimeInForce.GTC:
                expire = None
            elif o.tif is not TimeInForce.DAY and not self.session_bars:
                try:
                    expire = session_close_after(now_ms, o.symbol)
                except ValueError:
                    raise InvalidOrder("a DAY order needs a session close, and the market calendar ends in 2100; "
                                       "use GTC") from None
            if tif is o.tif:
                tif = None  # nothing to change
        if qty is not None and (type(qty) is not int or qty <= o.filled_qty):
            raise InvalidOrder(f"new quantity must be a whole number above the {o.filled_qty} already filled")
        if limit_price is not None and o.type not in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            raise InvalidOrder(f"a {o.type.value} order has no limit price")
        if stop_price is not None and o.type not in (OrderType.STOP, OrderType.STOP_LIMIT):
            raise InvalidOrder(f"a {o.type.value} order has no stop price to change")
        if (trail_amount is not None or trail_percent is not None) and o.type is not OrderType.TRAILING_STOP:
            raise InvalidOrder("only a trailing stop has a trail")
        if trail_amount is not None and trail_percent is not None:
            raise InvalidOrder("a trailing stop takes a trail amount or a trail percent, not both")
        if trail_amount is not None and o.trail_amount is None or trail_percent is not None and o.trail_percent is None:
            raise InvalidOrder("a trailing stop keeps its kind of trail (amount or percent)")
        for v in (limit_price, stop_price, trail_amount, trail_percent):
            if v is not None and not (isinstance(v, Decimal) and v.is_finite() and v > 0):
                raise InvalidOrder("prices and trails must be positive finite Decimals")
        if trail_percent is not None and not trail_percent < 100:
            raise InvalidOrder("trail percent must be below 100")
        if qty is not None and qty > o.qty and o.role not in (Role.TAKE_PROFIT, Role.STOP_LOSS):
            req = OrderRequest(o.symbol, o.side, qty - o.qty, o.type, limit_price or o.limit_price,
                               stop_price or o.stop_price, o.trail_amount, o.trail_percent, TimeInForce.GTC)
            reason = self._check_buying_power(req, qty - o.qty, o.oco_group)
            if reason:
                raise InvalidOrder(reason)
        with self._call():
            self._emit(o, OrderModified(order_id, now_ms, qty, limit_price, stop_price, trail_amount, trail_percent,
                                        tif=tif, expire_at_ms=expire if tif is not None else None))
            if o.type is OrderType.TRAILING_STOP and (trail_amount or trail_percent) and o.trail_ref is not None:
                self._emit(o, OrderTrailMoved(order_id, now_ms, stop_price=trail_stop(o, o.trail_ref), ref_price=o.trail_ref))
        return o

    def cancel(self, order_id: str, now_ms: int, reason: str = "cancelled by user") -> Order:
        """Cancel a working order (a bracket entry with no fill takes its children along).

        Raises ``OrderNotFound`` or ``OrderNotWorking``.
        """
        o = self._get_working(order_id)
        with self._call():
            self._cancel(o, now_ms, reason)
        return o

    def _cancel(self, o: Order, now_ms: int, reason: str, expired: bool = False) -> None:
        cls = OrderExpired if expired else OrderCancelled
        self._emit(o, cls(o.order_id, now_ms, reason=reason))
        if o.role is Role.LEG:
            options.cancel_package_rest(self, o, now_ms)
        if o.filled_qty == 0:
            for c in self._children.get(o.order_id, ()):
                if c.is_working:
                    self._emit(c, OrderCancelled(c.order_id, now_ms, reason=f"its entry order was {o.state.value}"))

    def _get_working(self, order_id: str) -> Order:
        o = self.orders.get(order_id)
        if o is None:
            raise OrderNotFound(f"no order {order_id} in account {self.name}")
        if not o.is_working:
            raise OrderNotWorking(f"order {order_id} is {o.state.value}; only working orders can change")
        return o

    def flatten(self, symbol: str, now_ms: int) -> Order | None:
        """Cancel the symbol's working orders and close its position at market (GTC).

        Returns the closing order, or None if there was no position.
        """
        with self._call():
            for o in list(self._working.get(symbol, ())):
                if o.is_working:
                    self._cancel(o, now_ms, "cancelled by flatten")
            qty = self.ledger.qty(symbol)
            if qty == 0:
                return None
            side = Side.SELL if qty > 0 else Side.BUY
            return self._submit(OrderRequest(symbol, side, abs(qty), tif=TimeInForce.GTC, tag="flatten"),
                                now_ms, check=True, group=None, role=Role.SINGLE)

    def reverse(self, symbol: str, now_ms: int) -> Order | None:
        """Cancel the symbol's working orders and turn the position around at market
        (long 100 → short 100). A cash account's reversal into a short is rejected."""
        with self._call():
            for o in list(self._working.get(symbol, ())):
                if o.is_working:
                    self._cancel(o, now_ms, "cancelled by reverse")
            qty = self.ledger.qty(symbol)
            if qty == 0:
                return None
            side = Side.SELL if qty > 0 else Side.BUY
            return self._submit(OrderRequest(symbol, side, 2 * abs(qty), tif=TimeInForce.GTC, tag="reverse"),
                                now_ms, check=True, group=None, role=Role.SINGLE)

    def expire_due(self, now_ms: int) -> list[Order]:
        """Expire DAY orders whose session has closed by ``now_ms``."""
        out = []
        with self._call():
            for o in self.working_orders():
                if o.expire_at_ms is not None and o.expire_at_ms <= now_ms and o.is_working:
                    self._cancel(o, now_ms, "DAY order expired at the session close", expired=True)
                    out.append(o)
        return out

    # ------------------------------------------------------------------ matching

    def on_bar(self, symbol: str, bar: Bar) -> list[Fill]:
        """Match the symbol's working orders against ``bar`` (bar-mode rules); returns fills."""
        with self._call():
            return self._on_bar(symbol, bar)

    def on_quote(self, q: Quote) -> list[Fill]:
        """Match the symbol's working orders against quote ``q`` (quote-mode rules), then the
        option packages with a leg in its symbol."""
        with self._call():
            self.quotes[q.symbol] = q
            fills = self._on_quote(q)
            if self._packages:
                options.match_packages(self, q.symbol, q.time_ms, fills)
            return fills

    def settle_expiries(self, now_ms: int, close_of: expiry.CloseOf) -> tuple[list[expiry.Settlement], list[str]]:
        """Settle option positions whose expiry close has passed (``engine.paper.expiry``):
        exercised / assigned into shares, cash-settled or expired worthless, in one commit.
        Returns the settlements and the contracts still waiting for their underlying's close."""
        with self._call():
            return expiry.settle(self, now_ms, close_of)

    @property
    def has_options(self) -> bool:
        """True when the account holds or works an option contract (buying power then
        follows ``engine.paper.options``)."""
        return any(p.mult != 1 and p.qty for p in self.ledger.positions.values()) or any(
            is_option(s) for s, lst in self._working.items() if lst)

    @property
    def _packages(self) -> bool:
        return any(o.role is Role.LEG for lst in self._working.values() for o in lst)

    def submit_package(self, legs: list[OrderRequest], net_price: Decimal | None, tif: TimeInForce,
                       now_ms: int, tag: str = "") -> list[Order]:
        """Place a multi-leg option package (``engine.paper.options``): its leg orders, all
        accepted (filled at once when the quotes meet the net price) or all rejected with the
        reason. Raises ``InvalidOrder`` for a malformed package (nothing recorded)."""
        legs, net, tif = options.normalise_package(legs, net_price, tif)
        with self._call():
            return options.submit_package(self, legs, net, tif, now_ms, tag)


    # ------------------------------------------------------------------ summary

    def summary(self, now_ms: int) -> AccountSummary:
        led = self.ledger
        mv = led.market_value(self.prices)
        equity = led.cash + mv
        bp = self.buying_power()
        total = equity if self.kind is AccountKind.CASH else self.leverage() * equity
        self._day.update(self.fill_log)
        day = self._day.figures(now_ms)
        return AccountSummary(
            self.name, self.kind, led.cash, equity, mv, led.gross_exposure(self.prices),
            bp, led.realized, led.unrealized(self.prices), led.fees,
            led.initial_cash, now_ms, day.realized, day.fees, max(total - bp, ZERO),
            tuple((sym, r, f) for sym, (r, f) in sorted(day.symbols.items())),
        )


__all__ = [
    "AccountKind", "AccountSummary", "IdSource", "IllegalTransition", "Journal", "OrderNotFound",
    "OrderNotWorking", "PDT_MIN_EQUITY", "PaperAccount", "in_regular_session", "session_close_after",
]
