"""Matching of a paper account: its working orders against a bar (bar mode) or a quote
(quote mode), in the order market, stops, limits; IOC/FOK handling, trailing stops, and the
fill itself (its price from ``engine.paper.fills``, its affordability from
``engine.paper.margin``, then bracket and OCO follow-ups from ``engine.paper.contingent``).
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from engine.paper.fills import Match, fill_price, match_bar, match_quote, participation_cap, trail_stop
from engine.paper.orders import (
    Bar,
    Fill,
    Order,
    OrderFilled,
    OrderState,
    OrderTrailMoved,
    OrderTriggered,
    OrderType,
    Quote,
    Role,
    TimeInForce,
)

if TYPE_CHECKING:
    from engine.paper.account import PaperAccount

_ACC = OrderState.ACCEPTED
_PF = OrderState.PARTIALLY_FILLED
_IOC = TimeInForce.IOC
_FOK = TimeInForce.FOK
#: matching order within one bar or quote: market first, then stops, then limits
_LEG = Role.LEG
_RANK = {
    OrderType.MARKET: 0,
    OrderType.STOP: 1,
    OrderType.TRAILING_STOP: 1,
    OrderType.STOP_LIMIT: 1,
    OrderType.LIMIT: 2,
}


def on_bar(acct: PaperAccount, symbol: str, bar: Bar) -> list[Fill]:
    """Match ``symbol``'s working orders against ``bar`` (bar-mode rules); returns the fills.
    Runs inside a public call of the account (``PaperAccount.on_bar``, or the backtester's
    loop), which commits the batch."""
    acct.now_ms = bar.time_ms
    lst = acct._working.get(symbol)
    fills: list[Fill] = []
    if lst:
        t = bar.time_ms
        for o in lst:
            if o.expire_at_ms is not None and o.expire_at_ms <= t:
                for x in list(lst):
                    if x.expire_at_ms is not None and x.expire_at_ms <= t and x.is_working:
                        acct._cancel(x, t, "DAY order expired at the session close", expired=True)
                break
        eligible = [o for o in lst if (o.state is _ACC or o.state is _PF) and t > o.created_ms
                    and t >= o.active_from_ms and o.role is not _LEG]
        if len(eligible) > 1:
            eligible.sort(key=lambda o: _RANK[o.type])
        cap = participation_cap(bar.volume, acct.config.participation)
        used = 0
        late = acct._late
        for o in eligible:
            if not o.is_active:
                continue
            if o.type is OrderType.TRAILING_STOP and o.stop_price is None:
                acct._emit(o, OrderTrailMoved(o.order_id, t, stop_price=trail_stop(o, bar.open), ref_price=bar.open))
            m = match_bar(o, bar.open, bar.high, bar.low)
            used += acct._execute(o, m, bar, None, None if cap is None else cap - used, t, fills)
            if o.tif is _IOC or o.tif is _FOK:
                acct._after_attempt(o, t)
        while late:
            o, act_px = late.pop(0)
            if not o.is_active:
                continue
            m = match_bar(o, act_px, bar.high, bar.low)
            used += acct._execute(o, m, bar, None, None if cap is None else cap - used, t, fills)
        for o in eligible:
            if o.is_active and o.type is OrderType.TRAILING_STOP:
                acct._ratchet(o, bar.low if o.is_buy else bar.high, t)
        if acct.session_bars:
            for o in eligible:
                if o.is_working and o.tif is TimeInForce.DAY:
                    acct._cancel(o, t, "DAY order expired at the session close", expired=True)
    acct.prices[symbol] = bar.close
    return fills


def on_quote(acct: PaperAccount, q: Quote) -> list[Fill]:
    """Match the symbol's working orders against quote ``q`` (quote-mode rules); returns the
    fills. Runs inside ``PaperAccount.on_quote``, which commits the batch."""
    fills: list[Fill] = []
    t = q.time_ms
    acct.now_ms = t
    lst = acct._working.get(q.symbol)
    if lst:
        for o in list(lst):
            if o.expire_at_ms is not None and o.expire_at_ms <= t and o.is_working:
                acct._cancel(o, t, "DAY order expired at the session close", expired=True)
        # package legs fill only together, at their net price (``engine.paper.package``)
        eligible = [o for o in lst if o.is_active and t >= o.active_from_ms and t >= o.created_ms
                    and o.role is not _LEG]
        eligible.sort(key=lambda o: _RANK[o.type])
        last = q.last if q.last is not None else (q.bid + q.ask) / 2
        acct.prices[q.symbol] = last
        # displayed size, shared by all of this account's orders on that side
        shown: dict[bool, int | None] = {True: q.ask_size, False: q.bid_size}

        def take(o: Order) -> None:
            left = shown[o.is_buy]
            got = acct._execute(o, match_quote(o, q), None, q, left, t, fills)
            if left is not None:
                shown[o.is_buy] = left - got

        for o in eligible:
            if not o.is_active:
                continue
            if o.type is OrderType.TRAILING_STOP and o.stop_price is None:
                acct._emit(o, OrderTrailMoved(o.order_id, t, stop_price=trail_stop(o, last), ref_price=last))
            take(o)
            acct._after_attempt(o, t)
            if o.is_active and o.type is OrderType.TRAILING_STOP:
                acct._ratchet(o, last, t)
        # children activated by fills above act on this same quote
        while acct._late:
            o, _ = acct._late.pop(0)
            if o.is_active:
                take(o)
    else:
        acct.prices[q.symbol] = q.last if q.last is not None else (q.bid + q.ask) / 2
    return fills


def after_attempt(acct: PaperAccount, o: Order, t: int) -> None:
    """IOC/FOK: what did not fill at the first chance is cancelled."""
    if o.is_working and o.tif in (TimeInForce.IOC, TimeInForce.FOK):
        why = "IOC: the rest could not be filled immediately" if o.tif is TimeInForce.IOC else \
            "FOK: the whole quantity could not be filled immediately"
        acct._cancel(o, t, why)


def ratchet(acct: PaperAccount, o: Order, price: Decimal, t: int) -> None:
    """Move trailing stop ``o`` after a better ``price`` (never back)."""
    ref = o.trail_ref
    better = ref is None or (price < ref if o.is_buy else price > ref)
    if not better:
        return
    new = trail_stop(o, price)
    old = o.stop_price
    if old is None or (new < old if o.is_buy else new > old):
        acct._emit(o, OrderTrailMoved(o.order_id, t, stop_price=new, ref_price=price))


def execute(
    acct: PaperAccount, o: Order, m: Match, bar: Bar | None, q: Quote | None, cap: int | None, t: int,
    fills: list[Fill],
) -> int:
    """Turn a match into a fill (or a trigger, or nothing); returns shares filled."""
    if m.trigger is not None and not o.triggered:
        acct._emit(o, OrderTriggered(o.order_id, t, price=m.trigger))
    if m.price is None:
        return 0
    leaves = o.qty - o.filled_qty
    qty = leaves if cap is None else min(leaves, cap)
    if qty < leaves and o.tif is TimeInForce.FOK:
        return 0  # cancelled by _after_attempt
    if qty <= 0:
        return 0
    volume = bar.volume if bar is not None else 0.0
    price = fill_price(o, m, acct.config.slippage, qty, volume, bar, q is not None)
    fee = acct.config.commission_for(o.symbol).order_fee(o.filled_qty, o.notional, qty, price, not o.is_buy)
    why = acct._fill_problem(o, qty, price, fee)
    if why is not None:
        acct._cancel(o, t, why)
        return 0
    fill = Fill(acct.ids.fill_id(), o.order_id, acct.name, o.symbol, o.side, qty, price, fee, t)
    acct._emit(o, OrderFilled(o.order_id, t, fill=fill, leaves_qty=leaves - qty))
    acct.ledger.apply(fill)
    acct.fill_log.append(fill)
    if acct._record:
        acct._fills.append(fill)
    fills.append(fill)
    if o.order_id in acct._children:
        acct._sync_children(o, t, price)
    if o.oco_group is not None:
        acct._after_oco_fill(o, fill, t)
    return qty
