"""One paper account: working orders, matching, bracket/OCO logic, buying power, ledger.

This is the engine that both live paper trading (``PaperBroker``, quote or bar mode, with a
durable journal) and backtests (``engine.paper.backtest``, bar mode, in memory) drive, so a
strategy's backtest and its paper run fill alike. The fill rules themselves are in
``engine.paper.fills``.

Every public method produces order events; they are applied to the orders (the only way an
order changes), fills are booked in the ledger, and the batch is handed to the journal in
one transaction before the method returns (that is what "acknowledged" means). Listeners
(the broker's bus publisher) hear about a batch only after it is committed.
"""
from __future__ import annotations

import datetime as _dt
import enum
import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from engine.market.calendar import DEFAULT_EXCHANGE, exchange_for, get_calendar
from engine.market.calendar import session_close_after as _calendar_close_after

from engine.paper.errors import InvalidOrder, OrderNotFound, OrderNotWorking
from engine.paper.fills import (
    FillConfig,
    Match,
    fill_price,
    match_bar,
    match_quote,
    participation_cap,
    trail_stop,
)
from engine.paper.ledger import Ledger, PositionView
from engine.paper.money import ZERO
from engine.paper.orders import (
    Bar,
    Fill,
    IllegalTransition,
    Order,
    OrderAccepted,
    OrderActivated,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderHeld,
    OrderModified,
    OrderRejected,
    OrderRequest,
    OrderState,
    OrderSubmitted,
    OrderTrailMoved,
    OrderTriggered,
    OrderType,
    Quote,
    Role,
    Side,
    TERMINAL_STATES,
    TimeInForce,
)

_ACC = OrderState.ACCEPTED
_PF = OrderState.PARTIALLY_FILLED
_IOC = TimeInForce.IOC
_FOK = TimeInForce.FOK
PDT_MIN_EQUITY = Decimal(25000)
_NEW_YORK = ZoneInfo("America/New_York")
_EARLIEST_OPEN = _dt.time(9, 30)
_LATEST_CLOSE = _dt.time(16, 0)


class AccountKind(enum.StrEnum):
    CASH = "cash"
    MARGIN = "margin"


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


def in_regular_session(ms: int) -> bool:
    """True while a NYSE regular session is in progress at epoch ms ``ms`` (holidays and early
    closes known); False outside the calendar's range (1900..2100)."""
    # No NYSE session ever runs outside 9:30-16:00 New York on a weekday: answer those times
    # without the calendar, so nights and weekends never pay for its first build (~1 s).
    t = _dt.datetime.fromtimestamp(ms / 1000, tz=_NEW_YORK)
    if t.weekday() >= 5 or not _EARLIEST_OPEN <= t.time() < _LATEST_CLOSE:
        return False
    try:
        return bool(get_calendar(DEFAULT_EXCHANGE).is_open(ms // 1000))  # is_open gives np.bool_
    except ValueError:
        return False


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


_RANK = {
    OrderType.MARKET: 0,
    OrderType.STOP: 1,
    OrderType.TRAILING_STOP: 1,
    OrderType.STOP_LIMIT: 1,
    OrderType.LIMIT: 2,
}


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
        self.orders: dict[str, Order] = {}
        self.prices: dict[str, Decimal] = {}
        self.listeners: list[Callable[[PaperAccount, list[OrderEvent], list[Fill]], None]] = []
        self._working: dict[str, list[Order]] = {}
        # What working orders hold back, kept incrementally so a buying-power check does
        # not scan every working order: limit and stop-limit orders outside OCO groups
        # reserve a fixed leaves × limit, summed per (symbol, is_buy) in ``_static``; the
        # rest (market, stop, trailing, OCO members) depend on the last price or on their
        # group and are in ``_dynamic``, scanned at each check (usually a handful).
        self._static: dict[tuple[str, bool], list[int | Decimal]] = {}
        self._static_of: dict[str, tuple[tuple[str, bool], int, Decimal]] = {}
        self._dynamic: dict[str, dict[str, Order]] = {}
        self._children: dict[str, list[Order]] = {}
        self._groups: dict[str, list[Order]] = {}
        self._events: list[OrderEvent] = []
        self._fills: list[Fill] = []
        self._late: list[tuple[Order, Decimal]] = []
        self._record = journal is not None
        #: True after a call failed half-way: memory no longer matches the journal
        self.stale = False

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
        self._track(order)

    def _track(self, o: Order) -> None:
        """Bring ``o``'s part of the reserved totals up to date (after any change of it)."""
        old = self._static_of.pop(o.order_id, None)
        if old is not None:
            tot = self._static[old[0]]
            tot[0] -= old[1]
            tot[1] -= old[2]
        dyn = self._dynamic.get(o.symbol)
        if dyn is not None:
            dyn.pop(o.order_id, None)
        if not o.is_working or o.state is OrderState.WAITING:
            return
        if o.oco_group is None and o.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            key = (o.symbol, o.is_buy)
            leaves = o.leaves_qty
            money = leaves * (o.limit_price or ZERO)
            tot = self._static.setdefault(key, [0, ZERO])
            tot[0] += leaves
            tot[1] += money
            self._static_of[o.order_id] = (key, leaves, money)
        else:
            self._dynamic.setdefault(o.symbol, {})[o.order_id] = o

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
        self._track(o)

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
            return PositionView(symbol, 0, None, ZERO, ZERO, ZERO)
        return p.view()

    def leverage(self) -> Decimal:
        if self.kind is AccountKind.CASH:
            return Decimal(1)
        intraday = self.day_trading if self.day_trading is not None else in_regular_session(self.now_ms)
        if intraday and self.ledger.equity(self.prices) >= PDT_MIN_EQUITY:
            return Decimal(4)
        return Decimal(2)

    def _reserved(self, symbol: str | None, buy: bool, exclude_group: str | None = None) -> tuple[int, Decimal]:
        """Shares and money held back by working orders (an OCO group counts once).

        ``symbol=None``: money over all symbols (shares then count every symbol too).
        """
        symbols = [symbol] if symbol is not None else [s for s, lst in self._working.items() if lst]
        shares = 0
        money = ZERO
        seen: set[str] = set()
        for sym in symbols:
            tot = self._static.get((sym, buy))
            if tot is not None:
                shares += tot[0]
                money += tot[1]
            for o in (self._dynamic.get(sym) or {}).values():
                if o.is_buy != buy:
                    continue
                g = o.oco_group
                if g is None:
                    shares += o.leaves_qty
                    money += o.leaves_qty * (self._order_ref_price(o) or ZERO)
                    continue
                if g in seen or g == exclude_group:
                    continue
                seen.add(g)
                # at most one member of a group can fill all the way: it holds back the
                # most that any one working member could take (shares and money)
                members = [x for x in self._groups.get(g, [o]) if x.is_working and x.is_buy == buy
                           and x.state is not OrderState.WAITING] or [o]
                shares += max(x.leaves_qty for x in members)
                money += max(x.leaves_qty * (self._order_ref_price(x) or ZERO) for x in members)
        return shares, money

    def _order_ref_price(self, o: Order) -> Decimal | None:
        return self._ref_price(o.symbol, o.type, o.limit_price, o.stop_price, o.is_buy)

    def _ref_price(
        self, symbol: str, type_: OrderType, limit: Decimal | None, stop: Decimal | None, buy: bool,
    ) -> Decimal | None:
        last = self.prices.get(symbol)
        if type_ in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            return limit
        if type_ is OrderType.STOP:
            return max(stop, last) if (buy and last is not None) else stop  # type: ignore[type-var]
        return last

    def buying_power(self) -> Decimal:
        """What new orders may still commit: cash (cash account) or leverage × equity − gross
        exposure (margin), less what working orders hold back."""
        _, held = self._reserved(None, True)
        if self.kind is AccountKind.CASH:
            return self.ledger.cash - held
        eq = self.ledger.equity(self.prices)
        return self.leverage() * eq - self.ledger.gross_exposure(self.prices) - self._held_exposure()

    def _held_exposure(self) -> Decimal:
        """Margin: exposure working orders could still open, per symbol the worse of all
        buys or all sells filling (orders that only reduce a position hold nothing)."""
        total = ZERO
        for symbol, lst in self._working.items():
            if not lst:
                continue
            pos = self.ledger.qty(symbol)
            buys, buy_money = self._reserved(symbol, True)
            sells, sell_money = self._reserved(symbol, False)
            up = max(abs(pos + buys) - abs(pos), 0)
            down = max(abs(pos - sells) - abs(pos), 0)
            if up >= down and buys:
                total += buy_money * up / buys
            elif sells:
                total += sell_money * down / sells
        return total

    def _check_buying_power(self, req: OrderRequest, qty: int, group: str | None = None) -> str | None:
        """Why this order cannot be afforded (None if it can)."""
        is_buy = req.side is Side.BUY
        pos = self.ledger.qty(req.symbol)
        px = self._ref_price(req.symbol, req.type, req.limit_price, req.stop_price, is_buy)
        if px is None:
            return f"no price known for {req.symbol} yet; wait for a quote or use a limit order"
        if self.kind is AccountKind.CASH:
            if is_buy:
                need = qty * px + self.config.commission.fee(qty, px)
                avail = self.buying_power()
                if need > avail:
                    return (
                        f"insufficient cash: this order needs ${need:,.2f}, "
                        f"${avail:,.2f} is available"
                    )
                return None
            held, _ = self._reserved(req.symbol, False, group)
            if qty > pos - held:
                return (
                    f"a cash account cannot sell short: you hold {pos} {req.symbol} "
                    f"and {held} are already in working sell orders; this order sells {qty}"
                )
            return None
        held_same, _ = self._reserved(req.symbol, is_buy, group)
        signed_after = pos + (qty + held_same if is_buy else -(qty + held_same))
        extra = max(abs(signed_after) - max(abs(pos), 0), 0)
        opening = min(qty, extra)
        if opening <= 0:
            return None  # reduces or closes a position
        need = opening * px
        avail = self.buying_power()
        if need > avail:
            eq = self.ledger.equity(self.prices)
            return (
                f"insufficient buying power: this order needs ${need:,.2f}, "
                f"${max(avail, ZERO):,.2f} is available ({self.leverage()}× equity ${eq:,.2f})"
            )
        return None

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

    def _add_children(self, parent: Order, req: OrderRequest, now_ms: int) -> None:
        group = f"B{parent.order_id}"
        exit_side = Side.SELL if req.side is Side.BUY else Side.BUY
        legs: list[tuple[Role, OrderType, Decimal | None, Decimal | None]] = []
        if req.take_profit is not None:
            legs.append((Role.TAKE_PROFIT, OrderType.LIMIT, req.take_profit, None))
        if req.stop_loss is not None:
            legs.append((Role.STOP_LOSS, OrderType.STOP, None, req.stop_loss))
        for role, type_, limit, stop in legs:
            cid = self.ids.order_id()
            ev = OrderSubmitted(
                cid, now_ms, self.name, req.symbol, exit_side, req.qty, type_, TimeInForce.GTC,
                limit, stop, None, None, parent.order_id, group, role, now_ms, req.tag,
            )
            c = self._new_order(ev)
            self._emit(c, OrderHeld(cid, now_ms))
            self._children.setdefault(parent.order_id, []).append(c)
            self._groups.setdefault(group, []).append(c)
            self._activate_working(c)

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
    ) -> Order:
        """Change a working order. Raises ``OrderNotFound``, ``OrderNotWorking`` or
        ``ValueError`` (with the reason) for a change that does not fit the order."""
        o = self._get_working(order_id)
        self.now_ms = now_ms
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
            self._emit(o, OrderModified(order_id, now_ms, qty, limit_price, stop_price, trail_amount, trail_percent))
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

    def _on_bar(self, symbol: str, bar: Bar) -> list[Fill]:
        self.now_ms = bar.time_ms
        lst = self._working.get(symbol)
        fills: list[Fill] = []
        if lst:
            t = bar.time_ms
            for o in lst:
                if o.expire_at_ms is not None and o.expire_at_ms <= t:
                    for x in list(lst):
                        if x.expire_at_ms is not None and x.expire_at_ms <= t and x.is_working:
                            self._cancel(x, t, "DAY order expired at the session close", expired=True)
                    break
            eligible = [o for o in lst if (o.state is _ACC or o.state is _PF) and t > o.created_ms
                        and t >= o.active_from_ms]
            if len(eligible) > 1:
                eligible.sort(key=lambda o: _RANK[o.type])
            cap = participation_cap(bar.volume, self.config.participation)
            used = 0
            late = self._late
            for o in eligible:
                if not o.is_active:
                    continue
                if o.type is OrderType.TRAILING_STOP and o.stop_price is None:
                    self._emit(o, OrderTrailMoved(o.order_id, t, stop_price=trail_stop(o, bar.open), ref_price=bar.open))
                m = match_bar(o, bar.open, bar.high, bar.low)
                used += self._execute(o, m, bar, None, None if cap is None else cap - used, t, fills)
                if o.tif is _IOC or o.tif is _FOK:
                    self._after_attempt(o, t)
            while late:
                o, act_px = late.pop(0)
                if not o.is_active:
                    continue
                m = match_bar(o, act_px, bar.high, bar.low)
                used += self._execute(o, m, bar, None, None if cap is None else cap - used, t, fills)
            for o in eligible:
                if o.is_active and o.type is OrderType.TRAILING_STOP:
                    self._ratchet(o, bar.low if o.is_buy else bar.high, t)
            if self.session_bars:
                for o in eligible:
                    if o.is_working and o.tif is TimeInForce.DAY:
                        self._cancel(o, t, "DAY order expired at the session close", expired=True)
        self.prices[symbol] = bar.close
        return fills

    def on_quote(self, q: Quote) -> list[Fill]:
        """Match the symbol's working orders against quote ``q`` (quote-mode rules)."""
        with self._call():
            fills: list[Fill] = []
            t = q.time_ms
            self.now_ms = t
            lst = self._working.get(q.symbol)
            if lst:
                for o in list(lst):
                    if o.expire_at_ms is not None and o.expire_at_ms <= t and o.is_working:
                        self._cancel(o, t, "DAY order expired at the session close", expired=True)
                eligible = [o for o in lst if o.is_active and t >= o.active_from_ms and t >= o.created_ms]
                eligible.sort(key=lambda o: _RANK[o.type])
                last = q.last if q.last is not None else (q.bid + q.ask) / 2
                self.prices[q.symbol] = last
                # displayed size, shared by all of this account's orders on that side
                shown: dict[bool, int | None] = {True: q.ask_size, False: q.bid_size}

                def take(o: Order) -> None:
                    left = shown[o.is_buy]
                    got = self._execute(o, match_quote(o, q), None, q, left, t, fills)
                    if left is not None:
                        shown[o.is_buy] = left - got

                for o in eligible:
                    if not o.is_active:
                        continue
                    if o.type is OrderType.TRAILING_STOP and o.stop_price is None:
                        self._emit(o, OrderTrailMoved(o.order_id, t, stop_price=trail_stop(o, last), ref_price=last))
                    take(o)
                    self._after_attempt(o, t)
                    if o.is_active and o.type is OrderType.TRAILING_STOP:
                        self._ratchet(o, last, t)
                # children activated by fills above act on this same quote
                while self._late:
                    o, _ = self._late.pop(0)
                    if o.is_active:
                        take(o)
            else:
                self.prices[q.symbol] = q.last if q.last is not None else (q.bid + q.ask) / 2
            return fills

    def _after_attempt(self, o: Order, t: int) -> None:
        """IOC/FOK: what did not fill at the first chance is cancelled."""
        if o.is_working and o.tif in (TimeInForce.IOC, TimeInForce.FOK):
            why = "IOC: the rest could not be filled immediately" if o.tif is TimeInForce.IOC else \
                "FOK: the whole quantity could not be filled immediately"
            self._cancel(o, t, why)

    def _ratchet(self, o: Order, price: Decimal, t: int) -> None:
        ref = o.trail_ref
        better = ref is None or (price < ref if o.is_buy else price > ref)
        if not better:
            return
        new = trail_stop(o, price)
        old = o.stop_price
        if old is None or (new < old if o.is_buy else new > old):
            self._emit(o, OrderTrailMoved(o.order_id, t, stop_price=new, ref_price=price))

    def _execute(
        self, o: Order, m: Match, bar: Bar | None, q: Quote | None, cap: int | None, t: int,
        fills: list[Fill],
    ) -> int:
        """Turn a match into a fill (or a trigger, or nothing); returns shares filled."""
        if m.trigger is not None and not o.triggered:
            self._emit(o, OrderTriggered(o.order_id, t, price=m.trigger))
        if m.price is None:
            return 0
        leaves = o.qty - o.filled_qty
        qty = leaves if cap is None else min(leaves, cap)
        if qty < leaves and o.tif is TimeInForce.FOK:
            return 0  # cancelled by _after_attempt
        if qty <= 0:
            return 0
        volume = bar.volume if bar is not None else 0.0
        price = fill_price(o, m, self.config.slippage, qty, volume, bar, q is not None)
        fee = self.config.commission.fee(qty, price)
        why = self._fill_problem(o, qty, price, fee)
        if why is not None:
            self._cancel(o, t, why)
            return 0
        fill = Fill(self.ids.fill_id(), o.order_id, self.name, o.symbol, o.side, qty, price, fee, t)
        self._emit(o, OrderFilled(o.order_id, t, fill=fill, leaves_qty=leaves - qty))
        self.ledger.apply(fill)
        self.fill_log.append(fill)
        if self._record:
            self._fills.append(fill)
        fills.append(fill)
        if o.order_id in self._children:
            self._sync_children(o, t, price)
        if o.oco_group is not None:
            self._after_oco_fill(o, fill, t)
        return qty

    def _fill_problem(self, o: Order, qty: int, price: Decimal, fee: Decimal) -> str | None:
        """Why a fill can no longer be afforded at its actual price (None if it can)."""
        pos = self.ledger.qty(o.symbol)
        signed = qty if o.is_buy else -qty
        if abs(pos + signed) <= abs(pos) and (pos + signed) * pos >= 0:
            return None  # reduces a position: always allowed
        if self.kind is AccountKind.CASH:
            if not o.is_buy:
                return f"a cash account cannot sell short ({pos} {o.symbol} held, fill of {qty})"
            cost = qty * price + fee
            if cost > self.ledger.cash:
                return (f"insufficient cash at fill time: {qty} {o.symbol} at {price} costs "
                        f"${cost:,.2f}, cash is ${self.ledger.cash:,.2f}")
            return None
        prices = dict(self.prices)
        prices[o.symbol] = price
        eq = self.ledger.equity(prices) - fee
        gross = self.ledger.gross_exposure(prices) - abs(pos) * price + abs(pos + signed) * price
        limit = self.leverage() * eq
        if gross > limit:
            return (f"insufficient buying power at fill time: exposure would be ${gross:,.2f}, "
                    f"the limit is ${limit:,.2f}")
        return None

    def _sync_children(self, parent: Order, t: int, price: Decimal) -> None:
        """A bracket entry filled: activate the children, sized to what is open."""
        kids = self._children[parent.order_id]
        open_qty = parent.filled_qty - sum(c.filled_qty for c in kids)
        for c in kids:
            if not c.is_working:
                continue
            target = c.filled_qty + open_qty
            if c.state is OrderState.WAITING:
                self._emit(c, OrderActivated(c.order_id, t, qty=target))
                self._late.append((c, price))
            elif target != c.qty and target > c.filled_qty:
                self._emit(c, OrderModified(c.order_id, t, qty=target, reason="entry filled further"))

    def _after_oco_fill(self, o: Order, fill: Fill, t: int) -> None:
        siblings = [s for s in self._groups.get(o.oco_group, ()) if s is not o and s.is_working]  # type: ignore[arg-type]
        if not siblings:
            return
        if o.parent_id is not None:  # bracket exits: size to what is still open
            parent = self.orders[o.parent_id]
            kids = self._children[o.parent_id]
            open_qty = parent.filled_qty - sum(c.filled_qty for c in kids)
            if open_qty <= 0:
                for s in siblings:
                    self._emit(s, OrderCancelled(s.order_id, t, reason=f"OCO: {o.role.value} {o.order_id} filled"))
                if parent.is_working:  # the exit closed the trade: the entry's rest is void
                    self._emit(parent, OrderCancelled(parent.order_id, t, reason=f"bracket exit {o.order_id} filled"))
                return
            for s in siblings:
                target = s.filled_qty + open_qty
                if target != s.qty:
                    self._emit(s, OrderModified(s.order_id, t, qty=target, reason=f"OCO: {o.order_id} filled in part"))
            return
        for s in siblings:
            target = s.qty - fill.qty
            if o.state is OrderState.FILLED or target <= s.filled_qty:
                self._emit(s, OrderCancelled(s.order_id, t, reason=f"OCO: order {o.order_id} filled"))
            else:
                self._emit(s, OrderModified(s.order_id, t, qty=target, reason=f"OCO: {o.order_id} filled in part"))

    # ------------------------------------------------------------------ summary

    def summary(self, now_ms: int) -> AccountSummary:
        led = self.ledger
        mv = led.market_value(self.prices)
        return AccountSummary(
            self.name, self.kind, led.cash, led.cash + mv, mv, led.gross_exposure(self.prices),
            self.buying_power(), led.realized, led.unrealized(self.prices), led.fees,
            led.initial_cash, now_ms,
        )


__all__ = [
    "AccountKind", "AccountSummary", "IdSource", "IllegalTransition", "Journal", "OrderNotFound",
    "OrderNotWorking", "PaperAccount", "in_regular_session", "session_close_after",
]
