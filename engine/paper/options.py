"""Option contracts in a paper account: buying power under Reg-T, single-leg checks and
multi-leg packages.

Functions over a ``PaperAccount`` (like ``engine.paper.margin``); the account binds what it
needs. The rules:

* **Quantities are contracts, prices per share**, money × 100 (``engine.paper.contracts``).
  Single-leg option orders are ordinary orders (market, limit, stop...): they fill by the
  quote-mode rules of ``engine.paper.fills`` — buys at the ask, sells at the bid, never
  inside the spread; a limit buy when ask ≤ limit, a limit sell when bid ≥ limit.
* **Buying power** (``engine.paper.regt`` states the requirements): long premiums are paid
  in full from cash; short options hold their Reg-T requirement. A cash account's buying power
  is cash − what working orders hold − the option requirement; a margin account's is
  leverage × (equity − long option value − option requirement) − share exposure − what working
  orders hold (long options have no loan value). An option order needs
  debit − credit + commission + the change of the requirement it causes, against the option
  buying power (1:1 dollars, no leverage).
* **Packages** (multi-leg orders): every leg is an order of role ``leg`` sharing the package id
  (``oco_group``), the package's net limit (``net_price`` per share per package unit: a debit
  > 0, a credit < 0; None at market) and its ratio (contracts per package unit). Legs never
  fill one by one: when every leg has a quote, the package's net at the legs' ask (buys) and
  bid (sells) is Σ ± ratio × price; it fills — all legs, the whole quantity, at those prices —
  when that net is at or better than the limit (debit ≤ limit; a credit at least the limit's),
  in one batch (one store transaction: all legs or none). A leg cancelled or expired cancels
  the package. Each leg pays the option commission as an order.
"""
from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from engine.formatting import money
from engine.paper.contracts import MULTIPLIER, OptionContract, is_option, option_contract
from engine.paper.errors import InvalidOrder
from engine.paper.margin import AccountKind
from engine.paper.money import MAX_PRICE, ZERO, show
from engine.paper.orders import (
    Fill,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderRequest,
    OrderSubmitted,
    OrderType,
    Role,
    Side,
    TimeInForce,
)
from engine.paper.regt import RequirementError, max_loss, requirement

if TYPE_CHECKING:
    from engine.paper.account import PaperAccount

_M = Decimal(MULTIPLIER)
_NEW_YORK = ZoneInfo("America/New_York")
MAX_LEGS = 8


def ny_date(ms: int) -> _dt.date:
    return _dt.datetime.fromtimestamp(ms / 1000, tz=_NEW_YORK).date()


# ------------------------------------------------------------------ account figures

def positions_map(acct: PaperAccount) -> dict[str, int]:
    return {s: p.qty for s, p in acct.ledger.positions.items() if p.qty}


def mark_prices(acct: PaperAccount) -> dict[str, Decimal]:
    """Prices to value options at: the last marks, an option without one at its average cost."""
    out = dict(acct.prices)
    for s, p in acct.ledger.positions.items():
        if p.qty and s not in out and p.mult != 1:
            out[s] = abs(p.cost()) / (abs(p.qty) * p.mult)
    return out


def option_requirement(acct: PaperAccount, extra: dict[str, int] | None = None,
                       prices: dict[str, Decimal] | None = None) -> Decimal:
    """Reg-T requirement of the account's options (plus ``extra`` signed quantities)."""
    pos = positions_map(acct)
    for s, q in (extra or {}).items():
        pos[s] = pos.get(s, 0) + q
    return requirement(pos, prices if prices is not None else mark_prices(acct),
                       cash_account=acct.kind is AccountKind.CASH)


def long_option_value(acct: PaperAccount) -> Decimal:
    total = ZERO
    prices = acct.prices
    for s, p in acct.ledger.positions.items():
        if p.qty > 0 and p.mult != 1:
            px = prices.get(s)
            total += p.qty * px * p.mult if px is not None else p.cost()
    return total


def share_exposure(acct: PaperAccount) -> Decimal:
    total = ZERO
    prices = acct.prices
    for s, p in acct.ledger.positions.items():
        if p.qty and p.mult == 1:
            px = prices.get(s)
            total += abs(p.qty * px) if px is not None else abs(p.cost())
    return total


def _package_groups(acct: PaperAccount) -> dict[str, list[Order]]:
    out: dict[str, list[Order]] = {}
    for lst in acct._working.values():
        for o in lst:
            if o.role is Role.LEG and o.is_working and o.oco_group:
                out.setdefault(o.oco_group, []).append(o)
    return out


def package_hold(acct: PaperAccount) -> Decimal:
    """What working packages hold back: their debit (at the net limit, else the quotes) plus
    the requirement they would add."""
    total = ZERO
    base: Decimal | None = None
    for legs in _package_groups(acct).values():
        signed = {o.symbol: (o.leaves_qty if o.is_buy else -o.leaves_qty) for o in legs}
        try:
            if base is None:
                base = option_requirement(acct)
            total += max(option_requirement(acct, signed) - base, ZERO)
        except RequirementError:
            pass  # it was checked when placed; it is checked again when it fills
        units = min(o.leaves_qty // max(o.ratio, 1) for o in legs)
        net = legs[0].net_price
        if net is None:
            px = [leg_price(acct, o.symbol, o.is_buy) for o in legs]
            if any(p is None for p in px):
                continue
            net = sum(((p or ZERO) * o.ratio * (1 if o.is_buy else -1) for p, o in zip(px, legs)), ZERO)
        total += max(net, ZERO) * _M * units
    return total


def option_buying_power(acct: PaperAccount) -> Decimal:
    """Dollars an option order may still commit (1:1; see the module docstring)."""
    from engine.paper.margin import leverage

    _, held = acct._reserved(None, True)
    try:
        req = option_requirement(acct)
    except RequirementError:
        req = ZERO
    if acct.kind is AccountKind.CASH:
        return acct.ledger.cash - held - req - package_hold(acct)
    lev = leverage(acct)
    eq = acct.ledger.equity(acct.prices) - long_option_value(acct)
    return eq - req - package_hold(acct) - (share_exposure(acct) + acct._held_exposure()) / lev


# ------------------------------------------------------------------ quotes and checks

def leg_price(acct: PaperAccount, symbol: str, buy: bool) -> Decimal | None:
    """What a leg would fill at now: the ask (buy) or the bid (sell) of its latest quote;
    None without a quote."""
    q = acct.quotes.get(symbol)
    if q is None:
        return None
    return q.ask if buy else q.bid


def _order_price(acct: PaperAccount, req: OrderRequest) -> Decimal | None:
    buy = req.side is Side.BUY
    if req.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and req.limit_price is not None:
        return req.limit_price
    px = leg_price(acct, req.symbol, buy)
    if px is None:
        px = acct.prices.get(req.symbol)
    if px is not None and req.type is OrderType.STOP and req.stop_price is not None and buy:
        px = max(px, req.stop_price)
    return px


def check_legs(acct: PaperAccount, legs: Sequence[tuple[str, int, Decimal]], fees: Decimal) -> str | None:
    """Why option legs (symbol, signed contracts, price per share) cannot be afforded now
    (None when they can): the premium, the fees and the change of the Reg-T requirement
    against ``option_buying_power``."""
    change = {s: q for s, q, _p in legs}
    prices = mark_prices(acct)
    for s, _q, p in legs:
        prices.setdefault(s, p)
    try:
        before = option_requirement(acct, prices=prices)
        after = option_requirement(acct, change, prices=prices)
    except RequirementError as exc:
        return str(exc)
    cash = sum((q * p * _M for _s, q, p in legs), ZERO)  # > 0 a debit
    need = cash + fees + after - before
    if need <= 0:
        return None
    avail = option_buying_power(acct)
    if need > avail:
        what = "cash" if acct.kind is AccountKind.CASH else "buying power"
        return (f"insufficient {what} for options: this order needs {money(need)} (premium {money(cash)}, "
                f"Reg-T requirement {money(after - before)}), {money(max(avail, ZERO))} is available")
    return None


def check_single(acct: PaperAccount, req: OrderRequest, qty: int) -> str | None:
    """Why a single-leg option order cannot be placed (None when it can)."""
    c = option_contract(req.symbol)
    if c is None:
        return None
    if c.expiry < ny_date(acct.now_ms):
        return f"{c.describe()} expired on {c.expiry.isoformat()}"
    px = _order_price(acct, req)
    if px is None:
        return f"no price known for {req.symbol} yet; wait for a quote or use a limit order"
    if px <= 0:
        return f"{c.describe()} has no bid: a sell order has nothing to fill against (use a limit order)"
    signed = qty if req.side is Side.BUY else -qty
    fee = acct.config.commission_for(req.symbol).fee(qty, px)
    return check_legs(acct, [(req.symbol, signed, px)], fee)


def fill_problem(acct: PaperAccount, o: Order, qty: int, price: Decimal, fee: Decimal) -> str | None:
    """Why an option fill can no longer be afforded at its price (None when it can)."""
    signed = qty if o.is_buy else -qty
    pos = acct.ledger.qty(o.symbol)
    if abs(pos + signed) <= abs(pos) and (pos + signed) * pos >= 0:
        return None  # reduces a position
    # what this order itself holds back is part of the buying power it may use now
    own = ZERO
    if o.is_buy and o.is_working:
        from engine.paper.reservations import order_ref_price

        own = o.leaves_qty * (order_ref_price(acct.prices, o) or ZERO) * _M
    why = check_legs(acct, [(o.symbol, signed, price)], fee - own)
    return None if why is None else why.replace("this order needs", "at fill time this order needs")


# ------------------------------------------------------------------ packages

def _units(qtys: Sequence[int]) -> int:
    g = 0
    for q in qtys:
        g = math.gcd(g, q)
    return g


def normalise_package(legs: Sequence[OrderRequest], net_price: object, tif: object) -> tuple[list[OrderRequest], Decimal | None, TimeInForce]:
    """Check a package request; raises ``InvalidOrder`` (one sentence) for fewer than two or
    more than ``MAX_LEGS`` legs, a leg that is not an OCC option, a symbol twice, a leg that is
    not a plain market leg, a bad net price or time in force."""
    from engine.paper.orders import to_enum

    if not isinstance(legs, (list, tuple)) or not all(isinstance(x, OrderRequest) for x in legs):
        raise InvalidOrder("a package's legs must be OrderRequests")
    if not 2 <= len(legs) <= MAX_LEGS:
        raise InvalidOrder(f"a package has 2 to {MAX_LEGS} legs, not {len(legs)}; one contract is a single order")
    seen: set[str] = set()
    for leg in legs:
        if not is_option(leg.symbol):
            raise InvalidOrder(f"package leg {leg.symbol} is not an OCC option symbol (place shares as their own order)")
        if leg.symbol in seen:
            raise InvalidOrder(f"{leg.symbol} is in the package twice")
        seen.add(leg.symbol)
        if leg.type is not OrderType.MARKET or leg.take_profit is not None or leg.stop_loss is not None:
            raise InvalidOrder("package legs carry only side and quantity; the package has one net limit")
    net: Decimal | None = None
    if net_price is not None:
        if isinstance(net_price, bool) or not isinstance(net_price, (Decimal, int, float, str)):
            raise InvalidOrder(f"the net price must be a number, not {show(net_price)}")
        try:
            net = Decimal(str(net_price)) if not isinstance(net_price, Decimal) else net_price
        except ArithmeticError:
            raise InvalidOrder(f"the net price must be a number, not {show(net_price)}") from None
        if not net.is_finite() or not abs(net) < MAX_PRICE:
            raise InvalidOrder(f"the net price {show(net_price)} is not usable")
        net = net.quantize(Decimal("0.000001"))
    try:
        t = to_enum(TimeInForce, tif, "time in force")
    except ValueError as exc:
        raise InvalidOrder(str(exc)) from None
    return list(legs), net, t


def submit_package(acct: PaperAccount, legs: Sequence[OrderRequest], net_price: Decimal | None,
                   tif: TimeInForce, now_ms: int, tag: str = "") -> list[Order]:
    """Place a package (see the module docstring); returns its leg orders — accepted (and
    filled at once when the quotes allow), or all rejected with one reason. Call inside the
    account's ``_call`` (``PaperAccount.submit_package``)."""
    from engine.paper.account import session_close_after

    acct.now_ms = now_ms
    group = f"P{acct.ids.order_id()}"
    units = _units([leg.qty for leg in legs])
    orders: list[Order] = []
    for leg in legs:
        oid = acct.ids.order_id()
        ev = OrderSubmitted(oid, now_ms, acct.name, leg.symbol, leg.side, leg.qty, OrderType.MARKET, tif,
                            None, None, None, None, None, group, Role.LEG, now_ms + acct.config.latency_ms,
                            tag or leg.tag, net_price, leg.qty // units)
        orders.append(acct._new_order(ev))
    reason = _package_problem(acct, orders, net_price, units)
    expire = None
    if reason is None and tif is TimeInForce.DAY and not acct.session_bars:
        try:
            expire = session_close_after(orders[0].active_from_ms, orders[0].symbol)
        except ValueError:
            reason = "a DAY order needs a session close, and the market calendar ends in 2100; use GTC"
    for o in orders:
        if reason is not None:
            acct._emit(o, OrderRejected(o.order_id, now_ms, reason=reason))
        else:
            acct._emit(o, OrderAccepted(o.order_id, now_ms, expire_at_ms=expire))
            acct._groups.setdefault(group, []).append(o)
            acct._activate_working(o)
    if reason is None:
        try_fill(acct, group, now_ms, [])
    return orders


def _package_problem(acct: PaperAccount, orders: list[Order], net_price: Decimal | None, units: int) -> str | None:
    today = ny_date(acct.now_ms)
    for o in orders:
        c = option_contract(o.symbol)
        if c is not None and c.expiry < today:
            return f"{c.describe()} expired on {c.expiry.isoformat()}"
    prices: list[Decimal] = []
    for o in orders:
        px = leg_price(acct, o.symbol, o.is_buy)
        if px is None:
            px = acct.prices.get(o.symbol)
        if px is None:
            return f"no price known for {o.symbol} yet; wait for its quote"
        if not o.is_buy and px <= 0 and net_price is None:
            return f"no bid for {o.symbol}: a package selling it needs a net limit"
        prices.append(px)
    legs = [(o.symbol, o.qty if o.is_buy else -o.qty, p) for o, p in zip(orders, prices)]
    fees = sum((acct.config.commission_for(o.symbol).fee(o.qty, p) for o, p in zip(orders, prices)), ZERO)
    if net_price is not None:
        # the cash part at the limit (the worst the package may fill at), not at the quotes
        at_quotes = sum((q * p for _s, q, p in legs), ZERO) / units
        adjust = (net_price - at_quotes) * _M * units
        fees += adjust
    return check_legs(acct, legs, fees)


def package_net(acct: PaperAccount, legs: Sequence[Order]) -> tuple[Decimal | None, list[Decimal], str]:
    """The package's net per unit at the quotes now (debit > 0), the legs' prices, and why
    there is none ("" when there is)."""
    prices: list[Decimal] = []
    for o in legs:
        q = acct.quotes.get(o.symbol)
        if q is None:
            return None, [], f"no quote for {o.symbol}"
        px = q.ask if o.is_buy else q.bid
        if not px > 0:
            return None, [], f"no bid for {o.symbol}: a sell leg has nothing to sell into"
        prices.append(px)
    net = sum((p * o.ratio * (1 if o.is_buy else -1) for p, o in zip(prices, legs)), ZERO)
    return net, prices, ""


def try_fill(acct: PaperAccount, group: str, t: int, fills: list[Fill]) -> list[Fill]:
    """Fill package ``group`` now if its quotes meet its net limit (all legs or none)."""
    legs = [o for o in acct._groups.get(group, ()) if o.role is Role.LEG]
    if not legs:
        return fills
    if any(not o.is_working for o in legs):
        gone = next(o for o in legs if not o.is_working)
        for o in legs:
            if o.is_working:
                acct._emit(o, OrderCancelled(o.order_id, t, reason=f"its package leg {gone.symbol} was {gone.state.value}"))
        return fills
    if any(t < o.active_from_ms for o in legs):
        return fills
    net, prices, _why = package_net(acct, legs)
    limit = legs[0].net_price
    ok = net is not None and (limit is None or net <= limit)
    if ok:
        fees = [acct.config.commission_for(o.symbol).order_fee(o.filled_qty, o.notional, o.leaves_qty, p, not o.is_buy)
                for o, p in zip(legs, prices)]
        problem = None
        opening = [(o.symbol, o.leaves_qty if o.is_buy else -o.leaves_qty, p) for o, p in zip(legs, prices)]
        if any(abs(acct.ledger.qty(s) + q) > abs(acct.ledger.qty(s)) for s, q, _p in opening):
            problem = check_legs(acct, opening, sum(fees, ZERO) - package_hold_of(acct, legs))
        if problem is not None:
            for o in legs:
                acct._emit(o, OrderCancelled(o.order_id, t, reason=f"package not filled: {problem}"))
            return fills
        for o, p, fee in zip(legs, prices, fees):
            qty = o.leaves_qty
            fill = Fill(acct.ids.fill_id(), o.order_id, acct.name, o.symbol, o.side, qty, p, fee, t)
            acct._emit(o, OrderFilled(o.order_id, t, fill=fill, leaves_qty=0))
            acct.ledger.apply(fill)
            acct.fill_log.append(fill)
            if acct._record:
                acct._fills.append(fill)
            fills.append(fill)
            acct.prices.setdefault(o.symbol, p)
        return fills
    if legs[0].tif in (TimeInForce.IOC, TimeInForce.FOK):
        why = "the package could not be filled immediately at its net price"
        for o in legs:
            acct._emit(o, OrderCancelled(o.order_id, t, reason=why))
    return fills


def package_hold_of(acct: PaperAccount, legs: Sequence[Order]) -> Decimal:
    """What this working package holds (it is released by its own fill)."""
    signed = {o.symbol: (o.leaves_qty if o.is_buy else -o.leaves_qty) for o in legs}
    try:
        extra = max(option_requirement(acct, signed) - option_requirement(acct), ZERO)
    except RequirementError:
        extra = ZERO
    units = min(o.leaves_qty // max(o.ratio, 1) for o in legs)
    net = legs[0].net_price
    if net is None:
        got, _p, _w = package_net(acct, legs)
        net = got if got is not None else ZERO
    return extra + max(net, ZERO) * _M * units


def match_packages(acct: PaperAccount, symbol: str, t: int, fills: list[Fill]) -> list[Fill]:
    """After a quote of ``symbol``: try the working packages with a leg in it."""
    groups = {o.oco_group for o in acct._working.get(symbol, ()) if o.role is Role.LEG and o.oco_group}
    for g in sorted(groups):
        try_fill(acct, g, t, fills)
    return fills


def cancel_package_rest(acct: PaperAccount, o: Order, t: int) -> None:
    """``o`` (a leg) stopped working: cancel the package's other working legs."""
    if o.role is not Role.LEG or not o.oco_group:
        return
    for x in acct._groups.get(o.oco_group, ()):
        if x is not o and x.is_working:
            acct._emit(x, OrderCancelled(x.order_id, t, reason=f"its package leg {o.symbol} was {o.state.value}"))


__all__ = [
    "MAX_LEGS", "check_legs", "check_single", "fill_problem", "leg_price", "long_option_value", "match_packages",
    "normalise_package", "option_buying_power", "option_requirement", "package_hold", "package_net", "share_exposure",
    "submit_package", "try_fill",
]


# ------------------------------------------------------------------ preview (confirmation)

def preview(acct: PaperAccount, legs: Sequence[OrderRequest], net_price: Decimal | None) -> dict[str, object]:
    """What a confirmation shows for option legs before they are sent (single leg or package):
    ``net`` per share per unit at the quotes now (debit > 0; None without every quote),
    ``units``, ``prices`` per leg, ``cash`` (the premium in dollars: debit > 0), ``fees``,
    ``requirement`` (the change of the Reg-T requirement), ``need`` (what it takes of the
    buying power), ``available`` (option buying power now), ``max_loss`` at expiry in dollars
    including the premium and fees (None: unlimited), ``max_profit`` (None: unlimited) and
    ``problem`` (why it would be refused, "" when it would go)."""
    units = _units([leg.qty for leg in legs]) or 1
    prices: list[Decimal | None] = [leg_price(acct, leg.symbol, leg.side is Side.BUY) for leg in legs]
    out: dict[str, object] = {"units": units, "prices": prices, "net": None, "cash": None, "fees": None,
                              "requirement": None, "need": None, "available": option_buying_power(acct),
                              "max_loss": None, "max_profit": None, "problem": ""}
    missing = [leg.symbol for leg, p in zip(legs, prices) if p is None]
    if missing:
        out["problem"] = f"no quote for {', '.join(missing)} yet"
        return out
    px = [p for p in prices if p is not None]
    signed = [(leg.symbol, leg.qty if leg.side is Side.BUY else -leg.qty, p) for leg, p in zip(legs, px)]
    net = sum((q * p for _s, q, p in signed), ZERO) / units
    fees = sum((acct.config.commission_for(leg.symbol).fee(leg.qty, p) for leg, p in zip(legs, px)), ZERO)
    cash = (net_price if net_price is not None and net_price < net else net) * _M * units
    try:
        change = option_requirement(acct, {s: q for s, q, _p in signed}) - option_requirement(acct)
    except RequirementError as exc:
        out["problem"] = str(exc)
        change = ZERO
    contracts: list[tuple[OptionContract, int]] = []
    for s, q, _p in signed:
        c = option_contract(s)
        if c is not None:
            contracts.append((c, q))
    loss = max_loss(contracts)
    worst_gain = _max_gain(contracts)
    out.update(net=net, cash=cash, fees=fees, requirement=change, need=cash + fees + change,
               max_loss=None if loss is None else loss + cash + fees,
               max_profit=None if worst_gain is None else worst_gain - cash - fees)
    if not out["problem"]:
        if len(legs) == 1:
            req = legs[0]
            out["problem"] = check_single(acct, req, req.qty) or ""
        else:
            out["problem"] = _package_problem_from(acct, signed, net_price, units, fees) or ""
    return out


def _package_problem_from(acct: PaperAccount, signed: list[tuple[str, int, Decimal]], net_price: Decimal | None,
                          units: int, fees: Decimal) -> str | None:
    if net_price is not None:
        at_quotes = sum((q * p for _s, q, p in signed), ZERO) / units
        fees += (net_price - at_quotes) * _M * units
    return check_legs(acct, signed, fees)


def _max_gain(legs: list[tuple[OptionContract, int]]) -> Decimal | None:
    """The largest payoff at the first expiry (premiums not counted); None when unbounded."""
    if not legs:
        return ZERO
    first = min(c.expiry for c, _q in legs)
    live = [(c, q) for c, q in legs if c.expiry >= first]
    if sum(q for c, q in live if c.is_call) > 0:
        return None
    nodes = {ZERO} | {c.strike for c, _q in live}
    return max(sum((q * _M * c.intrinsic(s) for c, q in live), ZERO) for s in nodes)
