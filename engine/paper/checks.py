"""Orders checked against the market before they are sent: the one set of rules the order
ticket, the CLI, chart drags, alerts and copy trading share (``PaperSession`` runs them on
submit and modify, ``engine.paper.ticket.check_ticket`` shows them).

``check_order(req, quote)`` returns a ``MarketCheck``: ``refusals`` (the order must not be
sent; each a sentence with the prices) and ``confirm`` (questions the user must answer yes
to; sending is allowed, but not silently). The rules, for a buy (a sell is mirrored):

* **No quote, no order**: without a current quote nothing can be checked, so the order is
  refused (the caller says why there is no quote).
* **Stops that would trigger at once** are refused: a buy stop at or below the ask ("Buy
  stop 40.00 is below the ask 44.96: it would trigger immediately"), a sell stop at or
  above the bid. A stop-limit likewise.
* **Brackets** need stop loss < reference < take profit (the reference is the ask for a
  market entry, the entry limit for a limit entry; mirrored for a sell): a leg on the
  wrong side would fill or trigger as soon as the entry fills, and is refused. With a
  market entry the stop loss must also be below the bid, or it would trigger at once.
* **Far from the market**: any price (limit, stop, take profit, stop loss) more than
  ``max_distance_pct`` (default ``DEFAULT_MAX_DISTANCE_PCT`` = 10 %) from the market (the
  quote's last price, else its midpoint) needs confirmation; a limit that far *through*
  the market (buy limit 1000 on a $115 stock) is asked about in those words, since it
  fills at once at the market.

``check_modify(order, quote, ...)`` runs the same rules on a working order as it would be
after a change (price, quantity, time in force). A bracket entry whose limit changes has its
legs checked again against the new limit (buy: stop loss < entry < take profit; mirrored),
and a leg whose price changes is checked against its working entry's limit the same way.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from engine.formatting import price as price_text
from engine.paper.errors import InvalidValue
from engine.paper.orders import OrderRequest, OrderType, OrderView, Quote, Role, Side, quote_last

#: A price farther than this from the market (percent) asks for confirmation.
DEFAULT_MAX_DISTANCE_PCT = Decimal(10)
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class MarketCheck:
    """What the market says about an order: ``refusals`` (do not send) and ``confirm``
    (questions to answer yes to before sending)."""

    refusals: tuple[str, ...] = ()
    confirm: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Nothing refuses the order (it may still need confirmation)."""
        return not self.refusals

    def allows(self, confirmed: bool) -> bool:
        """True when the order may be sent: nothing refuses it, and every question was
        answered (``confirmed``) or there is none."""
        return not self.refusals and (confirmed or not self.confirm)

    def __add__(self, other: MarketCheck) -> MarketCheck:
        return MarketCheck(tuple(dict.fromkeys(self.refusals + other.refusals)),
                           tuple(dict.fromkeys(self.confirm + other.confirm)))


def max_distance(value: object) -> Decimal:
    """``value`` as a distance in percent (a Decimal, int or numeric text, 0 < d ≤ 1000).
    Raises ``InvalidValue`` (one sentence) for anything else."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise InvalidValue(f"the distance from the market must be a percent given exactly, not {value!r}")
    try:
        d = Decimal(str(value).strip().rstrip("%"))
    except ArithmeticError:
        raise InvalidValue(f"the distance from the market {value!r} is not a number") from None
    if not d.is_finite() or not (0 < d <= 1000):
        raise InvalidValue(f"the distance from the market must be above 0 % and at most 1000 %, not {value}")
    return d


def _p(x: Decimal) -> str:
    return price_text(x, grouping=False)


def _pct(x: Decimal) -> str:
    return f"{x.quantize(Decimal('0.1'))} %"


def _stop_now(side: Side, stop: Decimal, bid: Decimal, ask: Decimal, what: str = "stop") -> str | None:
    """The refusal for a stop of ``side`` at ``stop`` that the quote triggers at once."""
    if side is Side.BUY and stop <= ask:
        where = "at" if stop == ask else "below"
        return f"Buy {what} {_p(stop)} is {where} the ask {_p(ask)}: it would trigger immediately"
    if side is Side.SELL and stop >= bid:
        where = "at" if stop == bid else "above"
        return f"Sell {what} {_p(stop)} is {where} the bid {_p(bid)}: it would trigger immediately"
    return None


def _far(name: str, side: Side, px: Decimal, market: Decimal, limit_through: bool,
         touch: Decimal, dist: Decimal) -> str | None:
    """The question for a price more than ``dist`` % from ``market`` (``name``: "Buy limit")."""
    if market <= 0:
        return None
    off = (px - market) / market * _HUNDRED
    if abs(off) <= dist:
        return None
    word = "above" if off > 0 else "below"
    if limit_through:
        touch_name = "ask" if side is Side.BUY else "bid"
        return (f"{name} {_p(px)} is {_pct(abs(off))} {word} the market {_p(market)}: "
                f"it would fill at once at about the {touch_name} {_p(touch)}. Send it anyway?")
    return (f"{name} {_p(px)} is {_pct(abs(off))} {word} the market {_p(market)} "
            f"(more than {dist.normalize():f} %). Send it anyway?")


def check_order(req: OrderRequest, quote: Quote | None, *,
                max_distance_pct: Decimal = DEFAULT_MAX_DISTANCE_PCT) -> MarketCheck:
    """Check ``req`` against ``quote`` (the latest of its symbol; None: there is none) by the
    rules of the module docstring. ``max_distance_pct`` in percent. Never raises for an
    order's values: a malformed request is the account's business (``OrderRequest.problems``)."""
    if quote is None:
        return MarketCheck((f"no quote for {req.symbol or 'this symbol'} yet: an order is checked against "
                            "the market before it is sent",))
    bid, ask = quote.bid, quote.ask
    market = quote_last(quote)
    side = req.side
    buy = side is Side.BUY
    touch = ask if buy else bid
    refusals: list[str] = []
    confirm: list[str] = []
    t = req.type
    if t in (OrderType.STOP, OrderType.STOP_LIMIT) and req.stop_price is not None:
        why = _stop_now(side, req.stop_price, bid, ask)
        if why:
            refusals.append(why)
        q = _far(f"{side.value.title()} stop", side, req.stop_price, market, False, touch, max_distance_pct)
        if q:
            confirm.append(q)
    if t in (OrderType.LIMIT, OrderType.STOP_LIMIT) and req.limit_price is not None:
        lim = req.limit_price
        through = (lim > touch) if buy else (lim < touch)
        kind = "limit" if t is OrderType.LIMIT else "stop-limit limit"
        q = _far(f"{side.value.title()} {kind}", side, lim, market, through and t is OrderType.LIMIT, touch, max_distance_pct)
        if q:
            confirm.append(q)
    tp, sl = req.take_profit, req.stop_loss
    if tp is not None or sl is not None:
        limit_entry = t is OrderType.LIMIT and req.limit_price is not None
        ref = req.limit_price if limit_entry and req.limit_price is not None else touch
        ref_name = f"the entry limit {_p(ref)}" if limit_entry else f"the {'ask' if buy else 'bid'} {_p(ref)}"
        when = "as soon as the entry fills" if limit_entry else "immediately"
        head = f"{side.value.title()} bracket"
        exit_side = Side.SELL if buy else Side.BUY
        if tp is not None:
            wrong = tp <= ref if buy else tp >= ref
            if wrong:
                where = "at" if tp == ref else ("below" if buy else "above")
                refusals.append(f"{head} take profit {_p(tp)} is {where} {ref_name}: it would fill {when}")
            q = _far("Take profit", exit_side, tp, market, False, touch, max_distance_pct)
            if q:
                confirm.append(q)
        if sl is not None:
            wrong = sl >= ref if buy else sl <= ref
            if wrong:
                where = "at" if sl == ref else ("above" if buy else "below")
                refusals.append(f"{head} stop loss {_p(sl)} is {where} {ref_name}: it would trigger {when}")
            elif not limit_entry:
                why = _stop_now(exit_side, sl, bid, ask, "stop loss")
                if why:
                    refusals.append(why)
            q = _far("Stop loss", exit_side, sl, market, False, touch, max_distance_pct)
            if q:
                confirm.append(q)
    return MarketCheck(tuple(dict.fromkeys(refusals)), tuple(dict.fromkeys(confirm)))


def check_orders(reqs: tuple[OrderRequest, ...] | list[OrderRequest], quote: Quote | None, *,
                 max_distance_pct: Decimal = DEFAULT_MAX_DISTANCE_PCT) -> MarketCheck:
    """``check_order`` for each of ``reqs`` (one order or an OCO pair), combined."""
    out = MarketCheck()
    for r in reqs:
        out = out + check_order(r, quote, max_distance_pct=max_distance_pct)
    return out


def _bracket_legs(entry: OrderView, legs: Sequence[OrderView], entry_limit: Decimal,
                  changed: OrderView | None = None, new_price: Decimal | None = None) -> list[str]:
    """Refusals for bracket ``entry`` (limit ``entry_limit``) and its working ``legs``; the
    leg ``changed`` is taken at ``new_price``."""
    buy = entry.side is Side.BUY
    head = f"{entry.side.value.title()} bracket"
    out: list[str] = []
    for leg in legs:
        if leg.parent_id != entry.order_id or not leg.is_working:
            continue
        mine = changed is not None and leg.order_id == changed.order_id and new_price is not None
        if leg.role is Role.TAKE_PROFIT and leg.limit_price is not None:
            tp = new_price if mine and new_price is not None else leg.limit_price
            if tp <= entry_limit if buy else tp >= entry_limit:
                where = "at" if tp == entry_limit else ("below" if buy else "above")
                out.append(f"{head} take profit {_p(tp)} is {where} the entry limit {_p(entry_limit)}: "
                           "it would fill as soon as the entry fills")
        elif leg.role is Role.STOP_LOSS and leg.stop_price is not None and not leg.triggered:
            sl = new_price if mine and new_price is not None else leg.stop_price
            if sl >= entry_limit if buy else sl <= entry_limit:
                where = "at" if sl == entry_limit else ("above" if buy else "below")
                out.append(f"{head} stop loss {_p(sl)} is {where} the entry limit {_p(entry_limit)}: "
                           "it would trigger as soon as the entry fills")
    return out


def check_modify(
    order: OrderView, quote: Quote | None, *, qty: int | None = None, limit_price: Decimal | None = None,
    stop_price: Decimal | None = None, max_distance_pct: Decimal = DEFAULT_MAX_DISTANCE_PCT,
    group: Sequence[OrderView] = (),
) -> MarketCheck:
    """The rules of ``check_order`` on working ``order`` as it would be after the change
    (prices exact Decimals; None keeps a field). A bracket's legs are checked as the plain
    stop or limit orders they are; a trailing stop or market order has no price to check.

    ``group``: the other orders of ``order``'s bracket (its legs when it is the entry, its
    entry and the other leg when it is a leg). A limit entry's new limit must stay between
    its legs (buy: stop loss < limit < take profit; mirrored), and a leg's new price on the
    right side of its working entry's limit; otherwise the change is refused."""
    lim = limit_price if limit_price is not None else order.limit_price
    stp = stop_price if stop_price is not None else order.stop_price
    if order.type in (OrderType.MARKET, OrderType.TRAILING_STOP):
        return MarketCheck()
    if order.triggered:
        stp = None  # a triggered stop's stop price no longer matters
    try:
        req = OrderRequest(order.symbol, order.side, qty if qty is not None else order.qty, order.type,
                           limit_price=lim, stop_price=stp if order.type is not OrderType.LIMIT else None)
    except ValueError:
        return MarketCheck()  # a bad value: the broker refuses it with its own reason
    out = check_order(req, quote, max_distance_pct=max_distance_pct)
    legs: list[str] = []
    if order.role is Role.ENTRY and order.type is OrderType.LIMIT and lim is not None and limit_price is not None:
        legs = _bracket_legs(order, group, lim)
    elif order.role in (Role.TAKE_PROFIT, Role.STOP_LOSS) and order.parent_id:
        new = limit_price if order.role is Role.TAKE_PROFIT else stop_price
        entry = next((g for g in group if g.order_id == order.parent_id), None)
        if new is not None and entry is not None and entry.is_working and entry.type is OrderType.LIMIT \
                and entry.limit_price is not None:
            legs = _bracket_legs(entry, [order], entry.limit_price, order, new)
    return out + MarketCheck(tuple(legs)) if legs else out


__all__ = [
    "DEFAULT_MAX_DISTANCE_PCT", "MarketCheck", "check_modify", "check_order", "check_orders", "max_distance",
]
