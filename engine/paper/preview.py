"""What an order would cost before it is placed: the order ticket's estimate.

Pure functions over exact ``Decimal`` money, no broker state of their own: the caller
passes the account's current buying power (``AccountSummary.buying_power``, which already
holds back what working orders reserve), its kind, the position in the symbol and the
latest quote. The rules mirror ``PaperAccount._check_buying_power`` closely enough for a
preview; the broker stays the authority and rejects with its own reason if the market
moved.

* Reference price: market and trailing-stop orders the ask (buy) / bid (sell), falling back
  to the last price; limit and stop-limit the limit; stop buys the higher of stop and last,
  stop sells the stop.
* Cash account: a buy commits qty × price + fee; a sell may not exceed the shares held.
* Margin account: only the part of the order that opens or grows a position commits
  buying power (qty × price); the part that closes a position frees it.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from engine.formatting import money
from engine.paper.margin import AccountKind
from engine.paper.contracts import multiplier
from engine.paper.money import CENT, ZERO
from engine.paper.orders import OrderRequest, OrderType, Side

_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class OrderPreview:
    """The estimate of one order.

    ``price`` the reference price per share (None: no price known); ``notional`` qty × price;
    ``cost`` what the order commits from buying power (notional + fee for a cash buy, the
    opening part for margin; 0 for an order that only closes); ``buying_power_after`` the
    buying power once it is placed/filled at ``price``; ``problems`` why it cannot be placed
    as it is (empty: it can).
    """

    price: Decimal | None
    notional: Decimal | None
    cost: Decimal | None
    buying_power_after: Decimal | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def reference_price(
    req: OrderRequest, bid: Decimal | None, ask: Decimal | None, last: Decimal | None,
) -> Decimal | None:
    """The price per share an estimate uses for ``req`` (see module docstring); None if unknown."""
    buy = req.side is Side.BUY
    touch = (ask if buy else bid) or last
    t = req.type
    if t in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        return req.limit_price
    if t is OrderType.STOP:
        if req.stop_price is None:
            return None
        if buy and last is not None:
            return max(req.stop_price, last)
        return req.stop_price
    return touch


def shares_for_amount(amount: Decimal, price: Decimal | None) -> int:
    """Whole shares that ``amount`` dollars buys at ``price`` (rounded down; 0 if unknown)."""
    if price is None or not (price > 0) or not (amount > 0):
        return 0
    return int((amount / price).to_integral_value(ROUND_FLOOR))


def offset_price(entry: Decimal, value: Decimal, percent: bool, up: bool) -> Decimal:
    """A bracket leg's price: ``entry`` ± ``value`` (dollars) or ± ``value`` % of it, to the cent.

    ``up`` True adds (a long's take-profit, a short's stop-loss), False subtracts.
    Raises ``ValueError`` if the result is not positive.
    """
    delta = entry * value / _HUNDRED if percent else value
    px = (entry + delta if up else entry - delta).quantize(CENT, ROUND_HALF_UP)
    if px <= 0:
        raise ValueError(f"{'+' if up else '-'}{value}{'%' if percent else ''} from {entry} is not a positive price")
    return px


def preview_order(
    req: OrderRequest,
    *,
    buying_power: Decimal,
    kind: AccountKind | str,
    position_qty: int = 0,
    bid: Decimal | None = None,
    ask: Decimal | None = None,
    last: Decimal | None = None,
    fee: Decimal = ZERO,
) -> OrderPreview:
    """Estimate ``req`` for an account with ``buying_power`` (dollars) of ``kind``.

    ``position_qty`` the signed shares held in ``req.symbol``; ``bid``/``ask``/``last`` the
    latest quote (None when unknown); ``fee`` the expected commission in dollars.
    """
    kind = AccountKind(kind)
    problems = list(req.problems())
    px = reference_price(req, bid, ask, last)
    if px is None:
        if req.type in (OrderType.MARKET, OrderType.TRAILING_STOP):
            problems.append(f"no quote for {req.symbol or 'this symbol'} yet; wait for one or use a limit order")
        return OrderPreview(None, None, None, None, tuple(dict.fromkeys(problems)))
    qty = req.qty if isinstance(req.qty, int) and req.qty > 0 else 0
    mult = multiplier(req.symbol)
    notional = qty * px * mult
    buy = req.side is Side.BUY
    if mult != 1:
        # an option: a buy pays its premium in full; what a sale takes is its Reg-T
        # requirement, which the broker computes from the whole account when it is sent
        cost = notional + fee if buy else ZERO
        after = buying_power - cost if buy else buying_power + notional - fee
        if buy and cost > buying_power:
            problems.append(f"exceeds buying power by {money(cost - max(buying_power, ZERO))}")
        return OrderPreview(px, notional, cost, after, tuple(dict.fromkeys(problems)))
    if kind is AccountKind.CASH:
        if buy:
            cost = notional + fee
            after = buying_power - cost
            if cost > buying_power:
                problems.append(f"exceeds buying power by {money(cost - buying_power)}")
        else:
            cost = ZERO
            after = buying_power + notional - fee
            if qty > max(position_qty, 0):
                problems.append(
                    f"a cash account cannot sell short: you hold {max(position_qty, 0)} {req.symbol}, "
                    f"this order sells {qty}"
                )
    else:
        signed = qty if buy else -qty
        closing = min(qty, abs(position_qty)) if position_qty * signed < 0 else 0
        opening = qty - closing
        cost = opening * px
        after = buying_power - cost + closing * px - fee
        if cost > buying_power:
            problems.append(f"exceeds buying power by {money(cost - max(buying_power, ZERO))}")
    return OrderPreview(px, notional, cost, after, tuple(dict.fromkeys(problems)))


__all__ = ["OrderPreview", "offset_price", "preview_order", "reference_price", "shares_for_amount"]
