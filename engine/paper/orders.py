"""Orders: requests, the order life cycle as an explicit transition table, fills.

An ``Order`` is the one mutable object of the paper broker, and ``Order.apply(event)`` is
the only way it changes: the pair ``(order.state, event.kind)`` is looked up in
``TRANSITIONS``; a pair that is not there raises ``IllegalTransition`` and leaves the order
untouched. Everything else here (requests, events, fills, views) is a frozen slotted
dataclass that can cross threads by reference. Times are integer epoch **milliseconds**
(UTC); prices are ``Decimal`` (see ``engine.paper.money``); quantities whole shares.

States::

    new ──accepted──► accepted ──fill──► partially_filled ──fill──► filled
     │  └─held──► waiting ─activated─┘        │    ▲  (fill leaving 0 → filled)
     └─rejected─► rejected                   cancel / expire
    accepted / partially_filled / waiting ──cancelled──► cancelled
    accepted / partially_filled / waiting ──expired────► expired

``waiting`` is an accepted order that may not act yet: a bracket's take-profit and
stop-loss wait there until the entry fills. Stop, stop-limit and trailing-stop orders stay
``accepted`` while untriggered; ``triggered`` (a self-transition) records the moment the stop
was hit, ``trail_moved`` a ratchet of a trailing stop, ``modified`` a user change.
"""
from __future__ import annotations

import enum
import inspect
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from engine.paper.errors import InvalidOrder, InvalidValue
from engine.paper.money import show, to_number, to_price, to_qty

_PRICE_Q = Decimal("0.000001")
_T = TypeVar("_T")
_E = TypeVar("_E", bound=enum.Enum)


def _fast_init(cls: type[_T]) -> type[_T]:
    """Give a frozen slotted dataclass an ``__init__`` that writes its slots directly.

    Same signature, defaults and immutability (assignment still raises
    ``FrozenInstanceError``); about 1.5× faster than the generated one, which goes through
    ``object.__setattr__`` per field. Used on the objects the matching loop creates per
    order (a backtest makes tens of thousands).
    """
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    ns: dict[str, Any] = {}
    sig, body = [], []
    for k, p in enumerate(params):
        if p.default is inspect.Parameter.empty:
            sig.append(p.name)
        else:
            ns[f"_d{k}"] = p.default
            sig.append(f"{p.name}=_d{k}")
        ns[f"_s{k}"] = getattr(cls, p.name).__set__
        body.append(f"    _s{k}(self, {p.name})\n")
    src = f"def __init__(self, {', '.join(sig)}):\n" + "".join(body)
    exec(src, ns)  # noqa: S102 - generated from the class's own field names
    init = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


class IllegalTransition(RuntimeError):
    """An event does not apply to an order in its current state."""


class DuplicateFill(ValueError):
    """A fill id was applied twice."""


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


class TimeInForce(enum.StrEnum):
    DAY = "day"  # expires at the session close (16:00 New York)
    GTC = "gtc"  # good till cancelled
    IOC = "ioc"  # fill what can be filled at the first chance, cancel the rest
    FOK = "fok"  # fill everything at the first chance or nothing


class OrderState(enum.StrEnum):
    NEW = "new"
    WAITING = "waiting"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


WORKING_STATES = frozenset({OrderState.ACCEPTED, OrderState.PARTIALLY_FILLED, OrderState.WAITING})
TERMINAL_STATES = frozenset(
    {OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED, OrderState.EXPIRED}
)


class Role(enum.StrEnum):
    """What an order is for inside a group."""

    SINGLE = ""
    ENTRY = "entry"
    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
    OCO = "oco"
    #: one leg of a multi-leg option package (``oco_group`` is the package id): filled
    #: only together with the other legs, at the package's net price
    LEG = "leg"


# --------------------------------------------------------------------------- values


def to_enum(cls: type[_E], v: object, what: str) -> _E:
    """``v`` as a member of ``cls``: a member, or a string naming one by value or name
    (any case, surrounding blanks ignored). Raises ``InvalidValue`` otherwise."""
    if isinstance(v, cls):
        return v
    if isinstance(v, str):
        key = v.strip().lower()
        for m in cls:
            if key == str(m.value) or key == m.name.lower():
                return m
    allowed = ", ".join(str(m.value) for m in cls)
    raise InvalidValue(f"{what} must be one of {allowed}, not {show(v)}")


def to_symbol(v: object, what: str = "symbol") -> str:
    """A ticker symbol: text of 1-32 printable characters without blanks (blanks around it
    are removed, the case is kept). Raises ``InvalidValue``."""
    if not isinstance(v, str):
        raise InvalidValue(f"{what} must be text, not {show(v)}")
    s = v.strip()
    if not s:
        raise InvalidValue(f"{what} is empty")
    if " " in s:
        # a padded OCC option symbol ("AAPL  261218C00200000") becomes the compact form
        from engine.paper.contracts import option_contract

        c = option_contract(s)
        if c is not None:
            s = c.symbol
    if len(s) > 32 or not s.isprintable() or any(c.isspace() for c in s):
        raise InvalidValue(f"{what} {show(v)} is not a ticker symbol (1-32 characters, no blanks)")
    return s


def to_text(v: object, what: str, limit: int = 200) -> str:
    """Free text of at most ``limit`` characters (``None`` is ""). Raises ``InvalidValue``."""
    if v is None:
        return ""
    if not isinstance(v, str):
        raise InvalidValue(f"{what} must be text, not {show(v)}")
    if len(v) > limit:
        raise InvalidValue(f"{what} is longer than {limit} characters")
    return v


def _opt_price(v: object, what: str) -> Decimal | None:
    return None if v is None else to_price(v, what)  # type: ignore[arg-type]


_HUNDRED = Decimal(100)


def to_trail_percent(v: object) -> Decimal | None:
    """A trailing percent, 0 < p < 100, quantized to 1e-6 (None stays None)."""
    if v is None:
        return None
    d = to_number(v, "trail percent", Decimal(0), _HUNDRED).quantize(_PRICE_Q)
    if not d > 0:
        raise InvalidValue(f"trail percent must be between 0 and 100 (exclusive), not {show(v)}")
    return d


@dataclass(frozen=True, slots=True, init=False)
class OrderRequest:
    """What a user (or a strategy) asks for.

    ``qty`` whole shares (> 0). ``limit_price`` for limit / stop-limit, ``stop_price`` for
    stop / stop-limit, ``trail_amount`` (price units) *or* ``trail_percent`` (e.g. 2.5 for
    2.5 %) for a trailing stop. ``take_profit`` / ``stop_loss`` (prices) make this the entry
    of a bracket. ``tag`` is free text (a strategy name, a note).

    Construction validates and normalises every value, so a bad one never reaches an
    account: prices may be given as ``Decimal``, ``int``, ``float`` or numeric text and
    become exact Decimals quantized to 1e-6 (``engine.paper.money.to_price``: a float is
    taken at its exact binary value, ``44.5`` → ``44.500000``); ``side``/``type``/``tif``
    may be members or strings naming one (``"buy"``, ``"LIMIT"``). Raises ``InvalidOrder``
    (one sentence) for a wrong type, NaN/infinity, a non-positive or too large price or
    quantity (``MAX_PRICE``, ``MAX_QTY``), an unknown enum name or an empty symbol. What
    only makes sense in combination (a limit order without a limit price, a bracket the
    wrong way round) is not refused here: ``problems`` lists it and the account rejects
    the order with that reason.
    """

    symbol: str
    side: Side
    qty: int
    type: OrderType
    limit_price: Decimal | None
    stop_price: Decimal | None
    trail_amount: Decimal | None
    trail_percent: Decimal | None
    tif: TimeInForce
    take_profit: Decimal | None
    stop_loss: Decimal | None
    tag: str

    def __init__(
        self,
        symbol: str,
        side: Side | str,
        qty: int,
        type: OrderType | str = OrderType.MARKET,  # noqa: A002 - the field's name
        limit_price: Decimal | float | int | str | None = None,
        stop_price: Decimal | float | int | str | None = None,
        trail_amount: Decimal | float | int | str | None = None,
        trail_percent: Decimal | float | int | str | None = None,
        tif: TimeInForce | str = TimeInForce.DAY,
        take_profit: Decimal | float | int | str | None = None,
        stop_loss: Decimal | float | int | str | None = None,
        tag: str = "",
    ) -> None:
        try:
            values = (
                to_symbol(symbol), to_enum(Side, side, "side"), to_qty(qty),
                to_enum(OrderType, type, "order type"), _opt_price(limit_price, "limit price"),
                _opt_price(stop_price, "stop price"), _opt_price(trail_amount, "trail amount"),
                to_trail_percent(trail_percent), to_enum(TimeInForce, tif, "time in force"),
                _opt_price(take_profit, "take profit"), _opt_price(stop_loss, "stop loss"),
                to_text(tag, "tag"),
            )
        except InvalidOrder:
            raise
        except InvalidValue as exc:
            raise InvalidOrder(str(exc)) from None
        for setter, v in zip(_REQUEST_SETTERS, values, strict=True):
            setter(self, v)

    def problems(self) -> list[str]:
        """Reasons this request cannot be an order (empty when it is well formed)."""
        out: list[str] = []
        if not self.symbol:
            out.append("symbol is empty")
        q = self.qty
        if type(q) is not int or q <= 0:
            out.append(f"quantity must be a positive whole number of shares, not {q!r}")
        t = self.type
        limit, stop = self.limit_price, self.stop_price
        tp, sl = self.take_profit, self.stop_loss
        if t is OrderType.MARKET and limit is None and stop is None and tp is None and sl is None \
                and self.trail_amount is None and self.trail_percent is None:
            return out  # the common case: nothing else to check
        needs_limit = t is OrderType.LIMIT or t is OrderType.STOP_LIMIT
        needs_stop = t is OrderType.STOP or t is OrderType.STOP_LIMIT
        if needs_limit and limit is None:
            out.append(f"a {t.value} order needs a limit price")
        if not needs_limit and limit is not None:
            out.append(f"a {t.value} order takes no limit price")
        if needs_stop and stop is None:
            out.append(f"a {t.value} order needs a stop price")
        if t is OrderType.TRAILING_STOP:
            if (self.trail_amount is None) == (self.trail_percent is None):
                out.append("a trailing stop needs exactly one of trail amount or trail percent")
            elif self.trail_amount is not None and self.trail_amount <= 0:
                out.append("trail amount must be positive")
            elif self.trail_percent is not None and not (0 < self.trail_percent < 100):
                out.append("trail percent must be between 0 and 100")
        for name, v in (("limit price", limit), ("stop price", stop), ("take profit", tp), ("stop loss", sl)):
            if v is not None and not (v > 0):
                out.append(f"{name} must be positive")
        if tp is not None and sl is not None and not out:
            if self.side is Side.BUY and not sl < tp:
                out.append("a long bracket needs stop loss < take profit")
            if self.side is Side.SELL and not tp < sl:
                out.append("a short bracket needs take profit < stop loss")
        if (self.tif is TimeInForce.IOC or self.tif is TimeInForce.FOK) and (tp is not None or sl is not None):
            out.append("a bracket entry cannot be IOC or FOK")
        return out


_REQUEST_SETTERS = tuple(
    getattr(OrderRequest, f).__set__ for f in (
        "symbol", "side", "qty", "type", "limit_price", "stop_price", "trail_amount", "trail_percent",
        "tif", "take_profit", "stop_loss", "tag",
    )
)


@_fast_init
@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``price`` per share, ``fee`` the commission in cents (≥ 0)."""

    fill_id: str
    order_id: str
    account: str
    symbol: str
    side: Side
    qty: int
    price: Decimal
    fee: Decimal
    time_ms: int

    @property
    def signed_qty(self) -> int:
        return self.qty if self.side is Side.BUY else -self.qty


# Order events. ``kind`` is the key into TRANSITIONS.


@dataclass(frozen=True, slots=True)
class OrderEvent:
    kind: ClassVar[str] = "event"
    order_id: str
    time_ms: int


@_fast_init
@dataclass(frozen=True, slots=True)
class OrderSubmitted(OrderEvent):
    """Creates the order (state ``new``); carries everything the order was asked to be."""

    kind: ClassVar[str] = "submitted"
    account: str
    symbol: str
    side: Side
    qty: int
    type: OrderType
    tif: TimeInForce
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_amount: Decimal | None = None
    trail_percent: Decimal | None = None
    parent_id: str | None = None
    oco_group: str | None = None
    role: Role = Role.SINGLE
    active_from_ms: int = 0
    tag: str = ""
    #: package legs: the net limit per package unit (per share: debit > 0, credit < 0;
    #: None: at market) and this leg's contracts per package unit
    net_price: Decimal | None = None
    ratio: int = 1


@_fast_init
@dataclass(frozen=True, slots=True)
class OrderAccepted(OrderEvent):
    kind: ClassVar[str] = "accepted"
    expire_at_ms: int | None = None  # DAY orders: the session close


@dataclass(frozen=True, slots=True)
class OrderHeld(OrderEvent):
    """Accepted but inactive until its parent fills (bracket children)."""

    kind: ClassVar[str] = "held"


@dataclass(frozen=True, slots=True)
class OrderActivated(OrderEvent):
    kind: ClassVar[str] = "activated"
    qty: int = 0  # the quantity it becomes active with (the parent's filled quantity)


@dataclass(frozen=True, slots=True)
class OrderRejected(OrderEvent):
    kind: ClassVar[str] = "rejected"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderTriggered(OrderEvent):
    """A stop (or stop-limit, trailing stop) was hit at ``price``."""

    kind: ClassVar[str] = "triggered"
    price: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class OrderTrailMoved(OrderEvent):
    """A trailing stop ratcheted: new stop price and the extreme price it trails."""

    kind: ClassVar[str] = "trail_moved"
    stop_price: Decimal = Decimal(0)
    ref_price: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class OrderModified(OrderEvent):
    """User (or bracket/OCO bookkeeping) change; ``None`` keeps a field as it is."""

    kind: ClassVar[str] = "modified"
    qty: int | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_amount: Decimal | None = None
    trail_percent: Decimal | None = None
    reason: str = ""
    #: a new time in force (None: unchanged) and with it the new expiry (None: none, GTC)
    tif: TimeInForce | None = None
    expire_at_ms: int | None = None


@_fast_init
@dataclass(frozen=True, slots=True)
class OrderFilled(OrderEvent):
    """An execution; ``leaves_qty`` is what remains afterwards (0 → ``filled``)."""

    fill: Fill
    leaves_qty: int

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "filled" if self.leaves_qty == 0 else "partially_filled"


@dataclass(frozen=True, slots=True)
class OrderCancelled(OrderEvent):
    kind: ClassVar[str] = "cancelled"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderExpired(OrderEvent):
    kind: ClassVar[str] = "expired"
    reason: str = ""


EVENT_TYPES: dict[str, type[OrderEvent]] = {
    c.__name__: c
    for c in (
        OrderSubmitted, OrderAccepted, OrderHeld, OrderActivated, OrderRejected, OrderTriggered,
        OrderTrailMoved, OrderModified, OrderFilled, OrderCancelled, OrderExpired,
    )
}

S = OrderState
#: The order life cycle: (state, event kind) -> next state. Nothing else changes a state.
TRANSITIONS: dict[tuple[OrderState, str], OrderState] = {
    (S.NEW, "accepted"): S.ACCEPTED,
    (S.NEW, "held"): S.WAITING,
    (S.NEW, "rejected"): S.REJECTED,
    (S.WAITING, "activated"): S.ACCEPTED,
    (S.WAITING, "modified"): S.WAITING,
    (S.WAITING, "cancelled"): S.CANCELLED,
    (S.WAITING, "expired"): S.EXPIRED,
    (S.ACCEPTED, "triggered"): S.ACCEPTED,
    (S.ACCEPTED, "trail_moved"): S.ACCEPTED,
    (S.ACCEPTED, "modified"): S.ACCEPTED,
    (S.ACCEPTED, "partially_filled"): S.PARTIALLY_FILLED,
    (S.ACCEPTED, "filled"): S.FILLED,
    (S.ACCEPTED, "cancelled"): S.CANCELLED,
    (S.ACCEPTED, "expired"): S.EXPIRED,
    (S.PARTIALLY_FILLED, "triggered"): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, "trail_moved"): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, "modified"): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, "partially_filled"): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, "filled"): S.FILLED,
    (S.PARTIALLY_FILLED, "cancelled"): S.CANCELLED,
    (S.PARTIALLY_FILLED, "expired"): S.EXPIRED,
}


@dataclass(frozen=True, slots=True)
class OrderView:
    """An immutable snapshot of an order, for views and the event bus."""

    order_id: str
    account: str
    symbol: str
    side: Side
    qty: int
    type: OrderType
    tif: TimeInForce
    state: OrderState
    filled_qty: int
    avg_fill_price: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    trail_amount: Decimal | None
    trail_percent: Decimal | None
    triggered: bool
    parent_id: str | None
    oco_group: str | None
    role: Role
    created_ms: int
    updated_ms: int
    reason: str
    tag: str

    @property
    def leaves_qty(self) -> int:
        return self.qty - self.filled_qty if self.state in WORKING_STATES else 0

    @property
    def is_working(self) -> bool:
        return self.state in WORKING_STATES


class Order:
    """A live order. Change it only with ``apply``; read it freely."""

    __slots__ = (
        "order_id", "account", "symbol", "side", "qty", "type", "tif", "state", "filled_qty",
        "notional", "fees", "limit_price", "stop_price", "trail_amount", "trail_percent",
        "trail_ref", "triggered", "parent_id", "oco_group", "role", "active_from_ms",
        "expire_at_ms", "created_ms", "updated_ms", "reason", "tag", "fill_ids", "events",
        "is_buy", "net_price", "ratio",
    )

    def __init__(self, ev: OrderSubmitted) -> None:
        self.order_id = ev.order_id
        self.account = ev.account
        self.symbol = ev.symbol
        self.side = ev.side
        self.is_buy = ev.side is Side.BUY
        self.qty = ev.qty
        self.type = ev.type
        self.tif = ev.tif
        self.state = OrderState.NEW
        self.filled_qty = 0
        self.notional = Decimal(0)
        self.fees = Decimal(0)
        self.limit_price = ev.limit_price
        self.stop_price = ev.stop_price
        self.trail_amount = ev.trail_amount
        self.trail_percent = ev.trail_percent
        self.trail_ref: Decimal | None = None
        self.triggered = False
        self.parent_id = ev.parent_id
        self.oco_group = ev.oco_group
        self.role = ev.role
        self.active_from_ms = ev.active_from_ms
        self.expire_at_ms: int | None = None
        self.created_ms = ev.time_ms
        self.updated_ms = ev.time_ms
        self.reason = ""
        self.tag = ev.tag
        self.net_price = ev.net_price
        self.ratio = ev.ratio
        self.fill_ids: set[str] = set()
        self.events: list[OrderEvent] = [ev]

    # -- the one mutator --------------------------------------------------------------

    def apply(self, ev: OrderEvent) -> None:
        """Apply ``ev``: move along the transition table and update the order.

        Raises ``IllegalTransition`` for a pair not in ``TRANSITIONS`` (or an event of
        another order, or a fill larger than what is left) and ``DuplicateFill`` for a fill
        id seen before; in both cases the order is unchanged.
        """
        if ev.order_id != self.order_id:
            raise IllegalTransition(f"event for {ev.order_id} applied to order {self.order_id}")
        key = (self.state, ev.kind)
        new = TRANSITIONS.get(key)
        if new is None:
            raise IllegalTransition(
                f"order {self.order_id}: '{ev.kind}' is not allowed in state '{self.state.value}'"
            )
        if type(ev) is OrderFilled:
            f = ev.fill
            if f.fill_id in self.fill_ids:
                raise DuplicateFill(f"fill {f.fill_id} was already applied to {self.order_id}")
            leaves = self.qty - self.filled_qty - f.qty
            if f.qty <= 0 or leaves < 0 or leaves != ev.leaves_qty:
                raise IllegalTransition(
                    f"order {self.order_id}: fill of {f.qty} does not fit "
                    f"({self.qty - self.filled_qty} left, event says {ev.leaves_qty} after)"
                )
            self.fill_ids.add(f.fill_id)
            self.filled_qty += f.qty
            self.notional += f.price * f.qty
            self.fees += f.fee
        elif type(ev) is OrderAccepted:
            self.expire_at_ms = ev.expire_at_ms
        elif type(ev) is OrderActivated:
            if ev.qty:
                self.qty = ev.qty
        elif type(ev) is OrderTriggered:
            self.triggered = True
        elif type(ev) is OrderTrailMoved:
            self.stop_price = ev.stop_price
            self.trail_ref = ev.ref_price
        elif type(ev) is OrderModified:
            if ev.qty is not None:
                if ev.qty < self.filled_qty or ev.qty <= 0:
                    raise IllegalTransition(
                        f"order {self.order_id}: quantity {ev.qty} is below the "
                        f"{self.filled_qty} already filled"
                    )
                self.qty = ev.qty
                if ev.qty == self.filled_qty and self.filled_qty > 0:
                    # Reduced to what is already filled: the order is complete.
                    new = OrderState.FILLED
            if ev.limit_price is not None:
                self.limit_price = ev.limit_price
            if ev.stop_price is not None:
                self.stop_price = ev.stop_price
            if ev.trail_amount is not None:
                self.trail_amount = ev.trail_amount
            if ev.trail_percent is not None:
                self.trail_percent = ev.trail_percent
            if ev.tif is not None:
                self.tif = ev.tif
                self.expire_at_ms = ev.expire_at_ms
        elif type(ev) in (OrderRejected, OrderCancelled, OrderExpired):
            self.reason = ev.reason  # type: ignore[attr-defined]
        self.state = new
        self.updated_ms = ev.time_ms
        self.events.append(ev)

    # -- reading ----------------------------------------------------------------------

    @classmethod
    def from_events(cls, events: list[OrderEvent]) -> Order:
        """Rebuild an order by replaying its events (the first must be ``OrderSubmitted``)."""
        first = events[0]
        if not isinstance(first, OrderSubmitted):
            raise IllegalTransition(f"order {first.order_id}: history does not start with submitted")
        order = cls(first)
        for ev in events[1:]:
            order.apply(ev)
        return order

    @property
    def leaves_qty(self) -> int:
        return self.qty - self.filled_qty

    @property
    def is_working(self) -> bool:
        return self.state in WORKING_STATES

    @property
    def is_active(self) -> bool:
        """Working and allowed to fill (not waiting for a parent)."""
        return self.state is OrderState.ACCEPTED or self.state is OrderState.PARTIALLY_FILLED

    @property
    def avg_fill_price(self) -> Decimal | None:
        """Volume-weighted fill price, to 1e-6 (None before the first fill)."""
        if not self.filled_qty:
            return None
        return (self.notional / self.filled_qty).quantize(_PRICE_Q)

    def view(self) -> OrderView:
        return OrderView(
            self.order_id, self.account, self.symbol, self.side, self.qty, self.type, self.tif,
            self.state, self.filled_qty, self.avg_fill_price, self.limit_price, self.stop_price,
            self.trail_amount, self.trail_percent, self.triggered, self.parent_id,
            self.oco_group, self.role, self.created_ms, self.updated_ms, self.reason, self.tag,
        )

    def __repr__(self) -> str:
        return (
            f"Order({self.order_id} {self.side.value} {self.qty} {self.symbol} {self.type.value} "
            f"{self.state.value} filled={self.filled_qty})"
        )


@_fast_init
@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar for matching: ``time_ms`` is the bar's start (epoch ms, UTC)."""

    time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: float = 0.0  # shares; 0 or NaN = unknown (no participation cap)
    end_ms: int | None = None  # bar's end, when known (intraday bars)


@dataclass(frozen=True, slots=True)
class Quote:
    """A top-of-book quote. Sizes in shares, ``None`` when unknown."""

    symbol: str
    bid: Decimal
    ask: Decimal
    last: Decimal | None
    time_ms: int
    bid_size: int | None = None
    ask_size: int | None = None



def quote_last(q: Quote) -> Decimal:
    """The price a quote marks a position at: its last trade, else the bid/ask midpoint
    (the broker's own rule, ``PaperAccount.on_quote``)."""
    return q.last if q.last is not None else (q.bid + q.ask) / 2

__all__ = [
    "quote_last",
    "Bar", "DuplicateFill", "EVENT_TYPES", "Fill", "IllegalTransition", "Order", "OrderAccepted",
    "OrderActivated", "OrderCancelled", "OrderEvent", "OrderExpired", "OrderFilled", "OrderHeld",
    "OrderModified", "OrderRejected", "OrderRequest", "OrderState", "OrderSubmitted",
    "OrderTrailMoved", "OrderTriggered", "OrderType", "OrderView", "Quote", "Role", "Side",
    "TERMINAL_STATES", "TRANSITIONS", "TimeInForce", "WORKING_STATES",
]
