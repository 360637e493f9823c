"""The order ticket's rules, without Qt: a ``TicketSpec`` → ``OrderRequest``(s) + problems.

A ticket describes an order the way a trader fills one in: a side, a quantity in shares or
a dollar amount, an order type, prices (or, for a bracket's exits, % offsets from the
entry), a time in force. Fields are given as the user typed them (text such as
``"1,250.50"`` or ``"$5,000"``) or as numbers; ``build_requests`` turns a spec and the
latest quote into the broker's requests and raises ``TicketError`` with one sentence
naming the field otherwise; ``check_ticket`` adds the estimate (``engine.paper.preview``)
and returns every problem as text instead of raising. The order ticket widget, and later
the CLI and chart-drag orders, go through here.

Kinds: market, limit, stop, stop-limit, trailing stop (amount or %), bracket (market or
limit entry with take-profit and/or stop-loss, each a price or a % from the entry), OCO (a
limit and a stop on the same side: whichever fills first cancels the other).

Reference prices: a dollar amount becomes whole shares (rounded down) at the touch (ask
for a buy, bid for a sell, else the last price) for market, trailing-stop and market-entry
brackets; at the limit for limit, stop-limit, limit-entry brackets and OCO; at the stop
for a stop order. A bracket's % legs are measured from the same entry price.
"""
from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from engine.formatting import money
from engine.formatting import price as price_text
from engine.paper.checks import DEFAULT_MAX_DISTANCE_PCT, check_orders
from engine.paper.errors import PaperError
from engine.paper.fills import Commission
from engine.paper.margin import AccountKind
from engine.paper.orders import OrderRequest, OrderType, Quote, Side, TimeInForce, quote_last
from engine.paper.preview import OrderPreview, offset_price, preview_order, reference_price, shares_for_amount

Number = Decimal | int | str | None


class TicketError(ValueError):
    """The ticket's fields do not make an order (the message says which field and why)."""


class TicketKind(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"
    BRACKET = "bracket"
    OCO = "oco"


KIND_LABELS: dict[TicketKind, str] = {
    TicketKind.MARKET: "Market", TicketKind.LIMIT: "Limit", TicketKind.STOP: "Stop",
    TicketKind.STOP_LIMIT: "Stop-limit", TicketKind.TRAILING_STOP: "Trailing stop",
    TicketKind.BRACKET: "Bracket", TicketKind.OCO: "OCO (limit + stop)",
}


def parse_decimal(value: Number) -> Decimal | None:
    """A number as typed (``"1,234.50"``, ``"$5,000"``, ``" 12 "``) or given; None when blank.

    Raises ``ValueError`` ("'abc' is not a number") for anything else, NaN and infinities.
    A float is refused (its binary value is not what the user typed).
    """
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"{value!r} is not an exact number; give it as text or Decimal")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, str):
        text = value.strip().replace(",", "").lstrip("$").strip()
        if not text:
            return None
        try:
            d = Decimal(text)
        except ArithmeticError:
            raise ValueError(f"'{text}' is not a number") from None
    else:
        raise ValueError(f"{value!r} is not a number")
    if not d.is_finite():
        raise ValueError(f"'{value}' is not a number")
    return d


def edit_text(value: Decimal | None, places: int = 2) -> str:
    """``value`` for an edit field: plain digits, never an exponent ("100.00", not "1E+2"),
    at least ``places`` decimals and no trailing zeros beyond them; "" for None."""
    if value is None:
        return ""
    d = value.normalize()
    exp = d.as_tuple().exponent
    shown = max(places, -exp) if isinstance(exp, int) else places
    return f"{value:.{shown}f}"


@dataclass(frozen=True, slots=True)
class TicketSpec:
    """What the ticket says (see module docstring). Numbers as typed or as Decimal/int.

    ``qty_in_dollars``: ``qty`` is an amount of money; ``trail_percent``,
    ``take_profit_percent``, ``stop_loss_percent``: that field is a % (from the entry for
    the bracket legs); ``limit_entry``: a bracket's entry is a limit order at ``limit``.
    """

    symbol: str
    side: Side
    kind: TicketKind = TicketKind.MARKET
    qty: Number = None
    qty_in_dollars: bool = False
    limit: Number = None
    stop: Number = None
    trail: Number = None
    trail_percent: bool = False
    take_profit: Number = None
    take_profit_percent: bool = False
    stop_loss: Number = None
    stop_loss_percent: bool = False
    limit_entry: bool = False
    tif: TimeInForce = TimeInForce.DAY


@dataclass(frozen=True, slots=True)
class TicketOrders:
    """The requests a spec makes (two for OCO), the shares a dollar amount became
    (``shares_note``, e.g. "= 49 shares at 100.05"; "" when it was given in shares)."""

    requests: tuple[OrderRequest, ...]
    shares_note: str = ""


@dataclass(frozen=True, slots=True)
class TicketCheck:
    """``check_ticket``'s answer: the requests (empty when the fields make none), the
    estimate of the first, every problem (lowercase sentences, as the broker writes them),
    the shares note, and ``confirm``: questions the user must answer yes to before the
    order is sent (a price far from the market; sending is allowed, not silent)."""

    requests: tuple[OrderRequest, ...]
    preview: OrderPreview | None
    problems: tuple[str, ...]
    shares_note: str = ""
    confirm: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return bool(self.requests) and not self.problems

    @property
    def message(self) -> str:
        """The problems as one line for the user, first letter capitalised ("" when none)."""
        msg = "; ".join(self.problems)
        return msg[:1].upper() + msg[1:]


def _field(value: Number, name: str, required: bool = True) -> Decimal | None:
    try:
        d = parse_decimal(value)
    except ValueError:
        raise TicketError(f"{name}: '{value}' is not a number") from None
    if d is None:
        if required:
            raise TicketError(f"{name} missing")
        return None
    if d <= 0:
        raise TicketError(f"{name} must be positive")
    return d


def _qty(spec: TicketSpec, ref: Decimal | None) -> tuple[int, str]:
    raw = spec.qty
    text = "" if raw is None else str(raw).strip().replace(",", "")
    if not text:
        raise TicketError("quantity missing")
    if spec.qty_in_dollars:
        amount = _field(raw, "dollar amount")
        assert amount is not None
        if ref is None:
            raise TicketError("no price yet to turn the dollar amount into shares")
        n = shares_for_amount(amount, ref)
        note = f"= {n:,} shares at {price_text(ref)}"
        if n <= 0:
            raise TicketError(f"{money(amount)} buys no whole share at {price_text(ref)}")
        return n, note
    if isinstance(raw, Decimal) and raw == raw.to_integral_value() and raw > 0:
        return int(raw), ""
    if not text.isdigit() or int(text) <= 0:
        raise TicketError(f"quantity must be a positive whole number of shares, not '{text}'")
    return int(text), ""


def _leg(value: Number, percent: bool, name: str, entry: Decimal | None, up: bool) -> Decimal | None:
    v = _field(value, name, required=False)
    if v is None or not percent:
        return v
    if entry is None:
        raise TicketError(f"no entry price yet to turn the {name} % into a price")
    try:
        return offset_price(entry, v, True, up)
    except ValueError as exc:
        raise TicketError(f"{name}: {exc}") from None


def touch_price(side: Side, quote: Quote | None) -> Decimal | None:
    """What a market order of ``side`` would pay now: the ask for a buy, the bid for a
    sell, else the last price; None without a quote."""
    if quote is None:
        return None

    return (quote.ask if side is Side.BUY else quote.bid) or quote_last(quote)


def build_requests(spec: TicketSpec, quote: Quote | None = None) -> TicketOrders:
    """The order(s) ``spec`` describes at ``quote`` (the latest of its symbol, or None).

    Raises ``TicketError`` (one sentence naming the field) when the fields make no order.
    The requests are well formed but not yet checked against an account
    (``OrderRequest.problems`` and ``check_ticket`` do that).
    """
    symbol = spec.symbol.strip().upper() if isinstance(spec.symbol, str) else ""
    if not symbol:
        raise TicketError("symbol missing")
    try:
        side, kind, tif = Side(spec.side), TicketKind(spec.kind), TimeInForce(spec.tif)
    except ValueError as exc:
        raise TicketError(str(exc)) from None
    touch = touch_price(side, quote)
    try:
        return _build(spec, symbol, side, kind, tif, touch)
    except PaperError as exc:  # a value the broker's types refuse (too many digits, too large)
        raise TicketError(str(exc)) from None


def _build(spec: TicketSpec, symbol: str, side: Side, kind: TicketKind, tif: TimeInForce,
           touch: Decimal | None) -> TicketOrders:
    if kind is TicketKind.MARKET:
        qty, note = _qty(spec, touch)
        return TicketOrders((OrderRequest(symbol, side, qty, OrderType.MARKET, tif=tif),), note)
    if kind is TicketKind.LIMIT:
        lim = _field(spec.limit, "limit price")
        qty, note = _qty(spec, lim)
        return TicketOrders((OrderRequest(symbol, side, qty, OrderType.LIMIT, limit_price=lim, tif=tif),), note)
    if kind is TicketKind.STOP:
        stp = _field(spec.stop, "stop price")
        qty, note = _qty(spec, stp)
        return TicketOrders((OrderRequest(symbol, side, qty, OrderType.STOP, stop_price=stp, tif=tif),), note)
    if kind is TicketKind.STOP_LIMIT:
        stp = _field(spec.stop, "stop price")
        lim = _field(spec.limit, "limit price")
        qty, note = _qty(spec, lim)
        return TicketOrders((OrderRequest(symbol, side, qty, OrderType.STOP_LIMIT, limit_price=lim,
                                          stop_price=stp, tif=tif),), note)
    if kind is TicketKind.TRAILING_STOP:
        trail = _field(spec.trail, "trail")
        assert trail is not None
        pct = spec.trail_percent
        if pct and not trail < 100:
            raise TicketError("trail percent must be below 100")
        qty, note = _qty(spec, touch)
        return TicketOrders((OrderRequest(symbol, side, qty, OrderType.TRAILING_STOP,
                                          trail_amount=None if pct else trail,
                                          trail_percent=trail if pct else None, tif=tif),), note)
    if kind is TicketKind.BRACKET:
        lim = _field(spec.limit, "entry limit price") if spec.limit_entry else None
        entry = lim if spec.limit_entry else touch
        tp = _leg(spec.take_profit, spec.take_profit_percent, "take profit", entry, up=side is Side.BUY)
        sl = _leg(spec.stop_loss, spec.stop_loss_percent, "stop loss", entry, up=side is Side.SELL)
        if tp is None and sl is None:
            raise TicketError("a bracket needs a take profit, a stop loss, or both")
        qty, note = _qty(spec, entry)
        return TicketOrders((OrderRequest(symbol, side, qty, OrderType.LIMIT if spec.limit_entry else OrderType.MARKET,
                                          limit_price=lim, tif=tif, take_profit=tp, stop_loss=sl),), note)
    # OCO
    lim = _field(spec.limit, "limit price")
    stp = _field(spec.stop, "stop price")
    qty, note = _qty(spec, lim)
    return TicketOrders((OrderRequest(symbol, side, qty, OrderType.LIMIT, limit_price=lim, tif=tif),
                         OrderRequest(symbol, side, qty, OrderType.STOP, stop_price=stp, tif=tif)), note)


def check_ticket(
    spec: TicketSpec, quote: Quote | None, *, buying_power: Decimal | None,
    kind: AccountKind | str | None, position_qty: int = 0,
    max_distance_pct: Decimal = DEFAULT_MAX_DISTANCE_PCT, commission: Commission | None = None,
    no_quote_reason: str = "",
) -> TicketCheck:
    """``spec`` built at ``quote`` and estimated for an account with ``buying_power``
    (dollars) of ``kind`` holding ``position_qty`` shares of the symbol (both None: there
    is no account), then checked against the market (``engine.paper.checks``: refusals
    join ``problems``, questions go to ``confirm``; ``max_distance_pct`` in percent). With
    ``commission`` (the account's model) the estimate includes the expected fee. Without a
    quote nothing can be sent, and the problem is ``no_quote_reason`` when given
    (``PaperSession.no_quote_reason``). Never raises for bad fields: every problem is in
    ``problems``."""
    try:
        built = build_requests(spec, quote)
    except TicketError as exc:
        return TicketCheck((), None, (str(exc),))
    market = check_orders(built.requests, quote, max_distance_pct=max_distance_pct)
    if buying_power is None or kind is None:
        return TicketCheck(built.requests, None, ("create a paper account first",), built.shares_note,
                           market.confirm)
    bid = quote.bid if quote is not None else None
    ask = quote.ask if quote is not None else None

    last = quote_last(quote) if quote is not None else None
    req = built.requests[0]
    fee = Decimal(0)
    if commission is not None:
        ref = reference_price(req, bid, ask, last)
        if ref is not None:
            fee = commission.fee(req.qty, ref, req.side is Side.SELL)
    p = preview_order(req, buying_power=buying_power, kind=kind, position_qty=position_qty,
                      bid=bid, ask=ask, last=last, fee=fee)
    problems = list(p.problems)
    if quote is None:  # one sentence on why, instead of the preview's and the checks' own
        problems = [x for x in problems if not x.startswith("no quote")]
        refusals = [no_quote_reason or market.refusals[0]]
    else:
        refusals = list(market.refusals)
    problems.extend(refusals)
    return TicketCheck(built.requests, p, tuple(dict.fromkeys(problems)), built.shares_note, market.confirm)


def market_spec(symbol: str, side: Side, qty: Number, qty_in_dollars: bool = False) -> TicketSpec:
    """A market order of ``qty`` shares (or dollars) now, DAY (the ticket's hotkeys)."""
    return TicketSpec(symbol, side, TicketKind.MARKET, qty, qty_in_dollars)


def requests_problems(reqs: Sequence[OrderRequest]) -> list[str]:
    """Every request's own problems (``OrderRequest.problems``), without repeats."""
    return list(dict.fromkeys(p for r in reqs for p in r.problems()))


__all__ = [
    "KIND_LABELS", "TicketCheck", "TicketError", "TicketKind", "TicketOrders", "TicketSpec", "build_requests",
    "check_ticket", "edit_text", "market_spec", "parse_decimal", "requests_problems", "touch_price",
]
