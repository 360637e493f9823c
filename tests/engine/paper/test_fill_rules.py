"""Golden tests: one per fill rule and per order type (numbers worked out by hand)."""
from decimal import Decimal as D

import pytest

from engine.paper.account import AccountKind, IdSource, PaperAccount, session_close_after
from engine.paper.fills import (
    FillConfig,
    FixedBps,
    FlatCommission,
    PercentCommission,
    PerShare,
    SpreadSlippage,
    SqrtImpact,
    parse_commission,
    parse_slippage,
)
from engine.paper.orders import OrderRequest, OrderState, OrderType, Quote, Side, TimeInForce
from tests.engine.paper.stubs import bar

S = "XYZ"
GTC = TimeInForce.GTC


def acct(kind="margin", cash=1_000_000, session_bars=False, last="10", **cfg) -> PaperAccount:
    a = PaperAccount("t", D(cash), AccountKind(kind), FillConfig(**cfg), ids=IdSource("t"),
                     session_bars=session_bars)
    if last is not None:
        a.prices[S] = D(last)
    return a


def req(side, qty=100, type_=OrderType.MARKET, tif=GTC, **kw) -> OrderRequest:
    return OrderRequest(S, Side(side), qty, type_, tif=tif, **kw)


def fills_of(a, o):
    return [(f.qty, f.price) for f in a.fill_log if f.order_id == o.order_id]


# ------------------------------------------------------------------ bar mode: market

def test_market_fills_at_next_bar_open_never_on_its_own_bar():
    a = acct()
    o = a.submit(req("buy"), 1000)
    a.on_bar(S, bar(10, 11, 9, 10.5, t=1000))  # the bar it was submitted on
    assert o.state is OrderState.ACCEPTED and not a.fill_log
    a.on_bar(S, bar(10.2, 11, 9, 10.5, t=2000))
    assert fills_of(a, o) == [(100, D("10.2"))] and o.state is OrderState.FILLED


# ------------------------------------------------------------------ limits

@pytest.mark.parametrize("side, limit, o_, h, l_, expected", [
    ("buy", "10", 9.5, 10.5, 9, "9.5"),    # opens below the limit: at the open
    ("buy", "10", 10.5, 11, 9.8, "10"),    # low reaches it: at the limit
    ("buy", "10", 10.5, 11, 10.1, None),   # never reaches
    ("sell", "10", 10.5, 11, 9, "10.5"),   # opens above: at the open
    ("sell", "10", 9.5, 10.2, 9, "10"),    # high reaches: at the limit
    ("sell", "10", 9.5, 9.9, 9, None),
])
def test_limit_rules(side, limit, o_, h, l_, expected):
    a = acct()
    a.ledger.positions  # noqa: B018
    if side == "sell":
        a.submit(req("buy"), 0)
        a.on_bar(S, bar(10, 10, 10, 10, t=500))
    o = a.submit(req(side, type_=OrderType.LIMIT, limit_price=D(limit)), 1000)
    a.on_bar(S, bar(o_, h, l_, 10, t=2000))
    got = fills_of(a, o)
    assert got == ([] if expected is None else [(100, D(expected))])


# ------------------------------------------------------------------ stops

@pytest.mark.parametrize("side, stop, o_, h, l_, expected", [
    ("buy", "10", 10.4, 11, 10.2, "10.4"),  # gaps through: at the open
    ("buy", "10", 9.5, 10.6, 9.4, "10"),    # high reaches: at the stop
    ("buy", "10", 9.5, 9.9, 9.4, None),
    ("sell", "10", 9.6, 9.8, 9, "9.6"),     # gaps down: at the open
    ("sell", "10", 10.5, 10.8, 9.9, "10"),
    ("sell", "10", 10.5, 10.8, 10.1, None),
])
def test_stop_rules(side, stop, o_, h, l_, expected):
    a = acct()
    o = a.submit(req(side, type_=OrderType.STOP, stop_price=D(stop)), 1000)
    a.on_bar(S, bar(o_, h, l_, 10, t=2000))
    assert fills_of(a, o) == ([] if expected is None else [(100, D(expected))])
    assert o.triggered is (expected is not None)


def test_stop_limit_gap_then_limit_rule():
    a = acct()
    o = a.submit(req("buy", type_=OrderType.STOP_LIMIT, stop_price=D(10), limit_price=D("10.5")), 1000)
    a.on_bar(S, bar(10.8, 11, 10.3, 10.6, t=2000))  # gap over the stop, open above limit, low below
    assert fills_of(a, o) == [(100, D("10.5"))]


def test_stop_limit_intrabar_with_limit_beyond_stop_fills_at_stop():
    a = acct()
    o = a.submit(req("buy", type_=OrderType.STOP_LIMIT, stop_price=D(10), limit_price=D("10.2")), 1000)
    a.on_bar(S, bar(9.5, 10.6, 9.4, 10.4, t=2000))
    assert fills_of(a, o) == [(100, D(10))]


def test_stop_limit_with_limit_below_stop_waits_a_bar_then_works_as_limit():
    a = acct()
    o = a.submit(req("buy", type_=OrderType.STOP_LIMIT, stop_price=D(10), limit_price=D("9.8")), 1000)
    a.on_bar(S, bar(9.5, 10.6, 9.4, 10.4, t=2000))  # triggered; cannot know if 9.8 came after
    assert o.triggered and not fills_of(a, o)
    a.on_bar(S, bar(10.2, 10.3, 9.7, 10, t=3000))
    assert fills_of(a, o) == [(100, D("9.8"))]


# ------------------------------------------------------------------ trailing stops

def test_trailing_amount_ratchets_up_only_and_fills_at_the_stop():
    a = acct(last="10")
    a.submit(req("buy"), 0)
    a.on_bar(S, bar(10, 10, 10, 10, t=500))
    o = a.submit(req("sell", type_=OrderType.TRAILING_STOP, trail_amount=D(1)), 1000)
    assert o.stop_price == D(9)
    a.on_bar(S, bar(10.5, 12, 10.2, 11.5, t=2000))
    assert o.stop_price == D(11) and not fills_of(a, o)
    a.on_bar(S, bar(11.5, 11.8, 11.2, 11.4, t=3000))  # lower high: stop stays
    assert o.stop_price == D(11)
    a.on_bar(S, bar(11.4, 11.6, 10.5, 10.8, t=4000))
    assert fills_of(a, o) == [(100, D(11))]


def test_trailing_percent_buy_trails_lows_and_gap_fills_at_open():
    a = acct(last="100")
    o = a.submit(req("buy", type_=OrderType.TRAILING_STOP, trail_percent=D(5)), 1000)
    assert o.stop_price == D(105)
    a.on_bar(S, bar(99, 99.5, 90, 92, t=2000))
    assert o.stop_price == D("94.5")
    a.on_bar(S, bar(96, 97, 95, 96, t=3000))  # opens above 94.5: at the open
    assert fills_of(a, o) == [(100, D(96))]


# ------------------------------------------------------------------ OCO

def _long(a, qty=100):
    a.submit(req("buy", qty), 0)
    a.on_bar(S, bar(10, 10, 10, 10, t=500))


def test_oco_fill_cancels_sibling():
    a = acct()
    _long(a)
    tp, sl = a.submit_oco(req("sell", type_=OrderType.LIMIT, limit_price=D(12)),
                          req("sell", type_=OrderType.STOP, stop_price=D(9)), 1000)
    a.on_bar(S, bar(11, 12.5, 10.5, 12, t=2000))
    assert tp.state is OrderState.FILLED and sl.state is OrderState.CANCELLED
    assert "OCO" in sl.reason


def test_oco_both_reachable_in_one_bar_assumes_the_stop_first():
    a = acct()
    _long(a)
    tp, sl = a.submit_oco(req("sell", type_=OrderType.LIMIT, limit_price=D(12)),
                          req("sell", type_=OrderType.STOP, stop_price=D(9)), 1000)
    a.on_bar(S, bar(10, 12.5, 8.5, 10, t=2000))
    assert sl.state is OrderState.FILLED and fills_of(a, sl) == [(100, D(9))]
    assert tp.state is OrderState.CANCELLED


def test_cash_account_oco_exit_pair_is_not_double_counted():
    a = acct("cash", cash=10_000)
    _long(a)
    tp, sl = a.submit_oco(req("sell", type_=OrderType.LIMIT, limit_price=D(12)),
                          req("sell", type_=OrderType.STOP, stop_price=D(9)), 1000)
    assert tp.is_working and sl.is_working


# ------------------------------------------------------------------ bracket

def test_bracket_stop_loss_activated_inside_the_bar_is_hit_by_the_rest_of_it():
    a = acct()
    entry = a.submit(req("buy", 100, OrderType.LIMIT, limit_price=D(10), take_profit=D(12), stop_loss=D(9)), 1000)
    tp, sl = a._children[entry.order_id]
    assert tp.state is OrderState.WAITING and sl.state is OrderState.WAITING
    a.on_bar(S, bar(10.5, 10.8, 8.5, 10.6, t=2000))
    # the entry fills at its limit; the stop-loss, active from then on, meets the low 8.5
    assert fills_of(a, entry) == [(100, D(10))]
    assert fills_of(a, sl) == [(100, D(9))]
    assert tp.state is OrderState.CANCELLED and a.ledger.qty(S) == 0


def test_bracket_gap_through_the_stop_at_entry_fills_at_the_entry_price():
    a = acct()
    entry = a.submit(req("buy", 100, OrderType.MARKET, take_profit=D(12), stop_loss=D(9)), 1000)
    _tp, sl = a._children[entry.order_id]
    a.on_bar(S, bar(8.8, 9.5, 8.7, 9.2, t=2000))  # opens below the stop-loss
    assert fills_of(a, entry) == [(100, D("8.8"))] and fills_of(a, sl) == [(100, D("8.8"))]


def test_bracket_children_never_act_before_the_entry_fills():
    a = acct()
    entry = a.submit(req("buy", 100, OrderType.LIMIT, limit_price=D(8), take_profit=D(12), stop_loss=D(7)), 1000)
    tp, sl = a._children[entry.order_id]
    a.on_bar(S, bar(10, 13, 8.5, 12, t=2000))  # TP level traded, entry not
    assert not a.fill_log and tp.state is OrderState.WAITING and sl.state is OrderState.WAITING
    a.cancel(entry.order_id, 2500)
    assert tp.state is OrderState.CANCELLED and sl.state is OrderState.CANCELLED


def test_bracket_partial_entry_then_more_fills_resize_children():
    a = acct(participation=0.1)
    entry = a.submit(req("buy", 250, OrderType.MARKET, take_profit=D(20), stop_loss=D(5)), 1000)
    tp, sl = a._children[entry.order_id]
    a.on_bar(S, bar(10, 10.5, 9.5, 10, v=1000, t=2000))
    assert entry.filled_qty == 100 and tp.qty == 100 and sl.qty == 100 and tp.is_active
    a.on_bar(S, bar(10, 10.5, 9.5, 10, v=1000, t=3000))
    assert entry.filled_qty == 200 and tp.qty == 200 and sl.qty == 200
    a.on_bar(S, bar(10, 21, 9.5, 20, v=1_000_000, t=4000))
    assert entry.state is OrderState.FILLED
    assert fills_of(a, tp) == [(250, D(20))] and sl.state is OrderState.CANCELLED
    assert a.ledger.qty(S) == 0


# ------------------------------------------------------------------ time in force

def test_day_order_expires_after_one_daily_bar():
    a = acct(session_bars=True)
    o = a.submit(req("buy", type_=OrderType.LIMIT, limit_price=D(5), tif=TimeInForce.DAY), 1000)
    a.on_bar(S, bar(10, 11, 9, 10, t=2000))
    assert o.state is OrderState.EXPIRED and "session close" in o.reason


def test_day_order_expires_at_16h_new_york_intraday():
    t = 1_700_000_000_000  # 2023-11-14 22:13 UTC (after the close: next session)
    close = session_close_after(t)
    a = acct()
    o = a.submit(req("buy", type_=OrderType.LIMIT, limit_price=D(5), tif=TimeInForce.DAY), t)
    assert o.expire_at_ms == close
    a.on_bar(S, bar(10, 11, 9, 10, t=close - 60_000))
    assert o.is_working
    a.expire_due(close)
    assert o.state is OrderState.EXPIRED


def test_ioc_fills_what_it_can_and_cancels_the_rest():
    a = acct(participation=0.1)
    o = a.submit(req("buy", 250, tif=TimeInForce.IOC), 1000)
    a.on_bar(S, bar(10, 10, 10, 10, v=1000, t=2000))
    assert o.filled_qty == 100 and o.state is OrderState.CANCELLED and "IOC" in o.reason


def test_fok_fills_nothing_when_it_cannot_fill_everything():
    a = acct(participation=0.1)
    o = a.submit(req("buy", 250, tif=TimeInForce.FOK), 1000)
    a.on_bar(S, bar(10, 10, 10, 10, v=1000, t=2000))
    assert o.filled_qty == 0 and o.state is OrderState.CANCELLED and "FOK" in o.reason
    o2 = a.submit(req("buy", 50, tif=TimeInForce.FOK), 3000)
    a.on_bar(S, bar(10, 10, 10, 10, v=1000, t=4000))
    assert o2.state is OrderState.FILLED


def test_gtc_survives_many_bars():
    a = acct(session_bars=True)
    o = a.submit(req("buy", type_=OrderType.LIMIT, limit_price=D(5)), 1000)
    for k in range(2, 10):
        a.on_bar(S, bar(10, 11, 9, 10, t=k * 1000))
    assert o.is_working


# ------------------------------------------------------------------ modify / cancel

def test_modify_limit_then_fill_at_new_limit_and_cancel():
    a = acct()
    o = a.submit(req("buy", type_=OrderType.LIMIT, limit_price=D(8)), 1000)
    a.modify(o.order_id, 1500, limit_price=D("9.5"))
    a.on_bar(S, bar(10, 10.5, 9.2, 10, t=2000))
    assert fills_of(a, o) == [(100, D("9.5"))]
    o2 = a.submit(req("buy", type_=OrderType.LIMIT, limit_price=D(1)), 3000)
    a.cancel(o2.order_id, 3500)
    a.on_bar(S, bar(1, 1, 0.5, 1, t=4000))
    assert o2.state is OrderState.CANCELLED and not fills_of(a, o2)
    with pytest.raises(ValueError):
        a.modify(o.order_id, 5000, qty=10)


# ------------------------------------------------------------------ size

def test_volume_participation_spreads_a_large_order_over_bars():
    a = acct(participation=0.1)
    o = a.submit(req("buy", 250), 1000)
    for k, px in enumerate([10, 11, 12], start=2):
        a.on_bar(S, bar(px, px, px, px, v=1000, t=k * 1000))
    assert fills_of(a, o) == [(100, D(10)), (100, D(11)), (50, D(12))]


def test_zero_volume_bar_has_no_cap():
    a = acct(participation=0.1)
    o = a.submit(req("buy", 250), 1000)
    a.on_bar(S, bar(10, 10, 10, 10, v=0, t=2000))
    assert o.filled_qty == 250


# ------------------------------------------------------------------ slippage / commission / latency

def test_fixed_bps_slippage_is_against_the_trader_and_inside_the_bar():
    a = acct(slippage=FixedBps(D(5)))
    o = a.submit(req("buy"), 1000)
    a.on_bar(S, bar(100, 101, 99, 100, t=2000))
    assert fills_of(a, o) == [(100, D("100.05"))]
    s = a.submit(req("sell"), 3000)
    a.on_bar(S, bar(100, 100.01, 99.99, 100, t=4000))
    assert fills_of(a, s) == [(100, D("99.99"))]  # 99.95 clipped to the bar's low


def test_spread_and_sqrt_impact_slippage():
    a = acct(slippage=SpreadSlippage(D(10)))
    o = a.submit(req("buy"), 1000)
    a.on_bar(S, bar(100, 101, 99, 100, t=2000))
    assert fills_of(a, o) == [(100, D("100.05"))]  # half of 10 bps
    b = acct(slippage=SqrtImpact(D("0.1")), participation=1.0)
    o = b.submit(req("buy", 100), 1000)
    b.on_bar(S, bar(100, 102, 98, 100, v=10_000, t=2000))
    # impact = 0.1 × (4/100) × sqrt(100/10000) = 0.0004 of the price → 100.04
    assert fills_of(b, o) == [(100, D("100.04"))]


def test_limit_fill_is_never_slipped_beyond_the_limit():
    a = acct(slippage=FixedBps(D(50)))
    o = a.submit(req("buy", type_=OrderType.LIMIT, limit_price=D(10)), 1000)
    a.on_bar(S, bar(10.5, 11, 9.9, 10, t=2000))
    assert fills_of(a, o) == [(100, D(10))]


@pytest.mark.parametrize("model, qty, price, fee", [
    (PerShare(D("0.005"), D(1)), 100, "10", "1.00"),
    (PerShare(D("0.005"), D(1)), 1000, "10", "5.00"),
    (PerShare(D("0.005"), D(1), D(1)), 1000, "0.20", "2.00"),  # capped at 1 % of $200
    (PercentCommission(D("0.1")), 100, "100", "10.00"),
    (PercentCommission(D("0.1")), 7, "3.33", "0.03"),  # 0.02331 rounds up
    (FlatCommission(D("1.5")), 5, "10", "1.50"),
])
def test_commission_models(model, qty, price, fee):
    assert model.fee(qty, D(price)) == D(fee)


def test_commission_is_booked_in_cash():
    a = acct(commission=PerShare(D("0.005"), D(1)))
    a.submit(req("buy"), 1000)
    a.on_bar(S, bar(10, 10, 10, 10, t=2000))
    assert a.ledger.cash == D(1_000_000) - D(1000) - D(1)


def test_spec_parsing_and_clear_errors():
    assert parse_commission("per_share:0.005:1.0") == PerShare(D("0.005"), D("1.0"))
    assert parse_slippage("bps:5") == FixedBps(D(5))
    with pytest.raises(ValueError, match="per_share:RATE"):
        parse_commission("bogus:1")
    with pytest.raises(ValueError, match="bps:N"):
        parse_slippage("bps:x")


def test_latency_in_quote_mode():
    a = acct(latency_ms=500)
    o = a.submit(req("buy"), 10_000)
    a.on_quote(Quote(S, D("9.9"), D(10), D("9.95"), 10_100))
    assert o.filled_qty == 0
    a.on_quote(Quote(S, D("9.9"), D(10), D("9.95"), 10_500))
    assert fills_of(a, o) == [(100, D(10))]


def test_latency_in_bar_mode_skips_bars_before_activation():
    a = acct(latency_ms=1500)
    o = a.submit(req("buy"), 1000)
    a.on_bar(S, bar(10, 10, 10, 10, t=2000))
    assert o.filled_qty == 0
    a.on_bar(S, bar(11, 11, 11, 11, t=3000))
    assert fills_of(a, o) == [(100, D(11))]


# ------------------------------------------------------------------ quote mode

def test_quote_mode_market_never_inside_the_spread():
    a = acct()
    b = a.submit(req("buy"), 1000)
    a.on_quote(Quote(S, D("9.90"), D("10.10"), D(10), 1000))
    assert fills_of(a, b) == [(100, D("10.10"))]
    s = a.submit(req("sell"), 2000)
    a.on_quote(Quote(S, D("9.90"), D("10.10"), D(10), 2000))
    assert fills_of(a, s) == [(100, D("9.90"))]


def test_quote_mode_limit_and_stop():
    a = acct()
    lim = a.submit(req("buy", type_=OrderType.LIMIT, limit_price=D(10)), 1000)
    a.on_quote(Quote(S, D("9.95"), D("10.05"), D(10), 1000))
    assert not fills_of(a, lim)
    a.on_quote(Quote(S, D("9.90"), D("9.98"), D("9.94"), 2000))
    assert fills_of(a, lim) == [(100, D("9.98"))]
    st = a.submit(req("sell", type_=OrderType.STOP, stop_price=D("9.5")), 3000)
    a.on_quote(Quote(S, D("9.45"), D("9.55"), D("9.6"), 3000))  # last above the stop
    assert not fills_of(a, st)
    a.on_quote(Quote(S, D("9.40"), D("9.50"), D("9.45"), 4000))
    assert fills_of(a, st) == [(100, D("9.40"))]


def test_quote_displayed_size_caps_the_fill():
    a = acct()
    o = a.submit(req("buy", 300), 1000)
    a.on_quote(Quote(S, D("9.9"), D(10), D(10), 1000, 500, 200))
    assert o.filled_qty == 200 and o.state is OrderState.PARTIALLY_FILLED


# ------------------------------------------------------------------ accounts

def test_cash_account_rejects_what_it_cannot_pay_with_the_numbers():
    a = acct("cash", cash=1000)
    o = a.submit(req("buy", 200), 1000)  # 200 × 10 = 2000 > 1000
    assert o.state is OrderState.REJECTED
    assert "insufficient cash" in o.reason and "$2,000.00" in o.reason and "$1,000.00" in o.reason


def test_cash_account_cannot_short():
    a = acct("cash", cash=10_000)
    o = a.submit(req("sell", 10), 1000)
    assert o.state is OrderState.REJECTED and "cannot sell short" in o.reason


def test_margin_account_leverage_two_overnight_four_intraday():
    over = acct("margin", cash=30_000)
    over.day_trading = False
    assert over.submit(req("buy", 6000), 1000).state is OrderState.ACCEPTED  # 60k = 2×
    assert over.submit(req("buy", 100), 1000).state is OrderState.REJECTED
    day = acct("margin", cash=30_000)
    day.day_trading = True
    assert day.submit(req("buy", 12000), 1000).state is OrderState.ACCEPTED  # 120k = 4×
    r = day.submit(req("buy", 100), 1000)
    assert r.state is OrderState.REJECTED and "buying power" in r.reason


def test_margin_short_sale_and_pnl():
    a = acct("margin", cash=10_000)
    o = a.submit(req("sell", 100), 1000)
    a.on_bar(S, bar(10, 10, 10, 10, t=2000))
    assert a.ledger.qty(S) == -100 and a.ledger.cash == D(11_000)
    a.submit(req("buy", 100), 3000)
    a.on_bar(S, bar(8, 8, 8, 8, t=4000))
    assert a.ledger.qty(S) == 0 and a.ledger.cash == D(10_200) and a.ledger.realized == D(200)
    assert o.state is OrderState.FILLED


def test_flatten_and_reverse():
    a = acct("margin", cash=100_000)
    _long(a)
    extra = a.submit(req("buy", type_=OrderType.LIMIT, limit_price=D(5)), 900)
    rev = a.reverse(S, 1000)
    assert extra.state is OrderState.CANCELLED and rev.qty == 200 and rev.side is Side.SELL
    a.on_bar(S, bar(10, 10, 10, 10, t=2000))
    assert a.ledger.qty(S) == -100
    fl = a.flatten(S, 3000)
    a.on_bar(S, bar(10, 10, 10, 10, t=4000))
    assert fl.side is Side.BUY and a.ledger.qty(S) == 0
    c = acct("cash", cash=100_000)
    _long(c)
    assert c.reverse(S, 1000).state is OrderState.REJECTED


def test_oco_partial_fill_reduces_the_sibling():
    a = acct(participation=0.1)
    _long(a, 300)
    tp, sl = a.submit_oco(req("sell", 300, OrderType.LIMIT, limit_price=D(12)),
                          req("sell", 300, OrderType.STOP, stop_price=D(8)), 1000)
    a.on_bar(S, bar(11, 12.5, 10.5, 12, v=1000, t=2000))  # 100 of the limit fill (10 % cap)
    assert tp.filled_qty == 100 and sl.qty == 200 and sl.is_working
    a.on_bar(S, bar(12, 12, 7.5, 8, v=1_000_000, t=3000))  # stops first: the stop takes the rest
    assert fills_of(a, sl) == [(200, D(8))] and a.ledger.qty(S) == 0
    assert tp.state is OrderState.CANCELLED


def test_trailing_stop_in_quote_mode_trails_the_last_price():
    a = acct(last="10")
    _long(a)
    o = a.submit(req("sell", type_=OrderType.TRAILING_STOP, trail_percent=D(10)), 1000)
    assert o.stop_price == D(9)
    a.on_quote(Quote(S, D("11.9"), D("12.1"), D(12), 2000))
    assert o.stop_price == D("10.8")
    a.on_quote(Quote(S, D("11.0"), D("11.2"), D("11.1"), 3000))
    assert o.stop_price == D("10.8") and o.is_working  # never back down
    a.on_quote(Quote(S, D("10.7"), D("10.9"), D("10.75"), 4000))
    assert fills_of(a, o) == [(100, D("10.7"))]  # triggered by the last, sold at the bid


def test_margin_protective_stop_holds_no_buying_power():
    a = acct("margin", cash=30_000)
    a.day_trading = False
    _long(a, 3000)  # 30k of stock on 30k equity: 30k of the 60k overnight limit left
    before = a.buying_power()
    a.submit(req("sell", 3000, OrderType.STOP, stop_price=D(9)), 1000)  # only reduces
    assert a.buying_power() == before == D(30_000)
    a.submit(req("buy", 1000, OrderType.LIMIT, limit_price=D(10)), 1000)
    assert a.buying_power() == D(20_000)


def test_quote_displayed_size_is_shared_by_the_accounts_orders():
    a = acct()
    o1 = a.submit(req("buy", 150), 1000)
    o2 = a.submit(req("buy", 150), 1000)
    a.on_quote(Quote(S, D("9.9"), D(10), D(10), 1000, 500, 200))
    assert o1.filled_qty + o2.filled_qty == 200


def test_margin_by_the_clock_four_times_in_regular_hours_two_after():
    import datetime as dt
    from zoneinfo import ZoneInfo

    ny = ZoneInfo("America/New_York")
    at_10 = int(dt.datetime(2024, 3, 5, 10, 0, tzinfo=ny).timestamp() * 1000)  # a Tuesday
    at_20 = int(dt.datetime(2024, 3, 5, 20, 0, tzinfo=ny).timestamp() * 1000)
    a = acct("margin", cash=30_000)
    assert a.submit(req("buy", 9000), at_10).state is OrderState.ACCEPTED  # 90k ≤ 4 × 30k
    b = acct("margin", cash=30_000)
    r = b.submit(req("buy", 9000), at_20)
    assert r.state is OrderState.REJECTED and "2×" in r.reason
    small = acct("margin", cash=20_000)  # under $25,000: no day-trading leverage
    assert small.submit(req("buy", 4100), at_10).state is OrderState.REJECTED
