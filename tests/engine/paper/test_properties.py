"""Hypothesis properties over random OHLCV bars and random order streams."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.paper.account import AccountKind, IdSource, PaperAccount
from engine.paper.fills import FillConfig, FixedBps, NoSlippage, PerShare, SqrtImpact
from engine.paper.ledger import Ledger
from engine.paper.orders import Bar, OrderRequest, OrderState, OrderType, Role, Side, TimeInForce

S = "XYZ"
cents = lambda n: D(n) / 100  # noqa: E731


@st.composite
def bar_series(draw):
    n = draw(st.integers(3, 25))
    price = draw(st.integers(500, 5000))  # cents
    bars = []
    for k in range(n):
        pts = [max(1, price + draw(st.integers(-300, 300))) for _ in range(4)]
        o, c = pts[0], pts[1]
        h = max(pts)
        lo = min(pts)
        vol = draw(st.sampled_from([0.0, 500.0, 2000.0, 1e6]))
        bars.append(Bar((k + 1) * 60_000, cents(o), cents(h), cents(lo), cents(c), vol))
        price = c
    return bars


order_kinds = st.sampled_from(["market", "limit", "stop", "stop_limit", "trail_amt", "trail_pct", "oco", "bracket"])
tifs = st.sampled_from([TimeInForce.GTC, TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK])


@st.composite
def order_stream(draw, n_bars):
    out = []
    for k in range(n_bars):
        for _ in range(draw(st.integers(0, 2))):
            out.append((k, draw(order_kinds), draw(st.sampled_from([Side.BUY, Side.SELL])),
                        draw(st.integers(1, 400)), draw(st.integers(-400, 400)), draw(st.integers(1, 400)),
                        draw(tifs)))
    return out


def _request(kind, side, qty, off, off2, tif, ref):
    px = max(cents(1), ref + cents(off))
    px2 = max(cents(1), ref + cents(off2) * (1 if side is Side.BUY else -1))
    if kind == "market":
        return OrderRequest(S, side, qty, tif=tif)
    if kind == "limit":
        return OrderRequest(S, side, qty, OrderType.LIMIT, limit_price=px, tif=tif)
    if kind == "stop":
        return OrderRequest(S, side, qty, OrderType.STOP, stop_price=px, tif=tif)
    if kind == "stop_limit":
        return OrderRequest(S, side, qty, OrderType.STOP_LIMIT, stop_price=px, limit_price=px2, tif=tif)
    if kind == "trail_amt":
        return OrderRequest(S, side, qty, OrderType.TRAILING_STOP, trail_amount=cents(abs(off2)), tif=tif)
    if kind == "trail_pct":
        return OrderRequest(S, side, qty, OrderType.TRAILING_STOP, trail_percent=D(abs(off2) % 50 + 1) / 4, tif=tif)
    raise AssertionError(kind)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), bars=bar_series(),
       slip=st.sampled_from([NoSlippage(), FixedBps(D(7)), SqrtImpact(D("0.2"))]),
       participation=st.sampled_from([0.1, 0.5, 1.0]),
       session_bars=st.booleans())
def test_random_orders_on_random_bars_keep_every_invariant(data, bars, slip, participation, session_bars):
    cfg = FillConfig(slippage=slip, commission=PerShare(D("0.005"), D(1)), participation=participation)
    a = PaperAccount("p", D(10_000_000), AccountKind.MARGIN, cfg, ids=IdSource("p"), session_bars=session_bars)
    a.prices[S] = bars[0].open
    stream = data.draw(order_stream(len(bars)))
    pairs = []
    brackets = []
    bar_of_fill = {}
    for k, b in enumerate(bars):
        before = {f.fill_id for f in a.fill_log}
        a.on_bar(S, b)
        for f in a.fill_log:
            if f.fill_id not in before:
                bar_of_fill[f.fill_id] = b
        for (kk, kind, side, qty, off, off2, tif) in stream:
            if kk != k:
                continue
            ref = b.close
            t = b.time_ms
            if kind == "oco":
                x = _request("limit", side, qty, off, off2, TimeInForce.GTC, ref)
                y = _request("stop", side, qty, -off, off2, TimeInForce.GTC, ref)
                pairs.append(a.submit_oco(x, y, t))
            elif kind == "bracket":
                lo, hi = sorted([max(cents(1), ref - cents(abs(off) + 1)), ref + cents(abs(off2) + 1)])
                tp, sl = (hi, lo) if side is Side.BUY else (lo, hi)
                e = a.submit(OrderRequest(S, side, qty, OrderType.MARKET if off % 2 else OrderType.LIMIT,
                                          limit_price=None if off % 2 else ref, tif=TimeInForce.GTC,
                                          take_profit=tp, stop_loss=sl), t)
                brackets.append(e)
            else:
                a.submit(_request(kind, side, qty, off, off2, tif, ref), t)

        # the incrementally kept reserves equal a full scan of the working orders
        for buy in (True, False):
            assert a._reserved(S, buy) == _reserved_by_scan(a, S, buy)
            assert a._reserved(None, buy) == _reserved_by_scan(a, None, buy)

    fills_by_order = defaultdict(list)
    for f in a.fill_log:
        fills_by_order[f.order_id].append(f)
        b = bar_of_fill[f.fill_id]
        # every fill price within the bar's [low, high]
        assert b.low <= f.price <= b.high
    for o in a.orders.values():
        fs = fills_by_order[o.order_id]
        # filled ≤ ordered, and the order's own count agrees with the fills
        assert o.filled_qty == sum(f.qty for f in fs) <= o.qty
        assert o.state is not OrderState.FILLED or o.filled_qty == o.qty
        for f in fs:
            b = bar_of_fill[f.fill_id]
            if o.type is OrderType.LIMIT or (o.type is OrderType.STOP_LIMIT and type(slip) is NoSlippage):
                # a buy limit never fills above its limit (a sell limit never below)
                assert f.price <= o.limit_price if o.is_buy else f.price >= o.limit_price
            if type(slip) is NoSlippage and o.type is OrderType.STOP and o.role is not Role.STOP_LOSS:
                # gaps fill at the open
                gapped = b.open >= o.stop_price if o.is_buy else b.open <= o.stop_price
                if gapped and f is fs[0]:
                    assert f.price == b.open
            if type(slip) is NoSlippage and o.type is OrderType.MARKET and o.parent_id is None:
                assert f.price == b.open
    # cash + position value change only by P&L and fees
    led = Ledger.from_fills(D(10_000_000), a.fill_log)
    assert led.cash == a.ledger.cash
    last = {S: bars[-1].close}
    fees = sum((f.fee for f in a.fill_log), D(0))
    assert a.ledger.equity(last) - D(10_000_000) == a.ledger.realized + a.ledger.unrealized(last) - fees
    assert a.ledger.cash == D(10_000_000) - sum((f.signed_qty * f.price + f.fee for f in a.fill_log), D(0))
    # an OCO fill cancels its sibling
    for x, y in pairs:
        for p, q in ((x, y), (y, x)):
            if p.state is OrderState.FILLED:
                assert q.state is OrderState.CANCELLED and q.filled_qty < q.qty
    # bracket children never act before their parent fills
    for e in brackets:
        first = min((f.time_ms for f in fills_by_order[e.order_id]), default=None)
        for c in a._children.get(e.order_id, []):
            cf = fills_by_order[c.order_id]
            if first is None:
                assert not cf and c.state in (OrderState.WAITING, OrderState.CANCELLED, OrderState.REJECTED)
            else:
                assert all(f.time_ms >= first for f in cf)
            assert sum(f.qty for f in cf) <= e.filled_qty


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n=st.integers(2, 30), sized=st.booleans())
def test_quote_mode_market_fills_never_inside_the_spread(data, n, sized):
    from engine.paper.orders import Quote

    a = PaperAccount("q", D(10_000_000), AccountKind.MARGIN, FillConfig(), ids=IdSource("q"))
    mid = 5000
    quotes = {}
    for k in range(n):
        mid = max(200, mid + data.draw(st.integers(-50, 50)))
        spread = data.draw(st.integers(1, 20))
        t = (k + 1) * 1000
        size = data.draw(st.integers(1, 300)) if sized else None
        q = Quote(S, cents(mid), cents(mid + spread), cents(mid + data.draw(st.integers(0, spread))), t, size, size)
        before = len(a.fill_log)
        a.on_quote(q)
        for f in a.fill_log[before:]:
            quotes[f.fill_id] = q
        for _ in range(data.draw(st.integers(0, 2))):
            side = data.draw(st.sampled_from([Side.BUY, Side.SELL]))
            kind = data.draw(st.sampled_from(["market", "limit", "stop"]))
            off = data.draw(st.integers(-40, 40))
            a.submit(_request(kind, side, data.draw(st.integers(1, 200)), off, 5, TimeInForce.GTC,
                              cents(mid)), t)
    for f in a.fill_log:
        q = quotes[f.fill_id]
        o = a.orders[f.order_id]
        assert f.price == (q.ask if o.is_buy else q.bid)  # at the touch, never inside the spread
        if o.type is OrderType.LIMIT:
            assert f.price <= o.limit_price if o.is_buy else f.price >= o.limit_price
    for o in a.orders.values():
        assert o.filled_qty <= o.qty


def _reserved_by_scan(a, symbol, buy):
    """Reference: what working orders hold back, by scanning every one; an OCO group holds
    the most that any one of its working members could take."""
    from engine.paper.orders import OrderState

    def px(o):
        return a._ref_price(o.symbol, o.type, o.limit_price, o.stop_price, o.is_buy) or D(0)

    live = [o for o in a.orders.values()
            if o.is_working and o.state is not OrderState.WAITING and o.is_buy == buy
            and (symbol is None or o.symbol == symbol)]
    shares, money = 0, D(0)
    for o in live:
        if o.oco_group is None:
            shares += o.leaves_qty
            money += o.leaves_qty * px(o)
    for g in {o.oco_group for o in live if o.oco_group is not None}:
        members = [o for o in live if o.oco_group == g]
        shares += max(o.leaves_qty for o in members)
        money += max(o.leaves_qty * px(o) for o in members)
    return shares, money
