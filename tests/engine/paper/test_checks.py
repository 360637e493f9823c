"""Orders checked against the market before they are sent (engine/paper/checks.py), in the
ticket's check and in every PaperSession submit and modify (issue 10)."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from engine.events import EventBus
from engine.paper import OrderRequest, OrderState, OrderType, PaperBroker, Side, TimeInForce
from engine.paper.checks import check_order
from engine.paper.fills import FillConfig
from engine.paper.orders import Quote
from engine.paper.session import PaperSession
from engine.paper.ticket import TicketKind, TicketSpec, check_ticket

T0 = 1_700_000_000_000
ORCL = Quote("ORCL", D("44.93"), D("44.96"), D("44.945"), T0)
BUY, SELL = Side.BUY, Side.SELL


def req(side, kind=OrderType.LIMIT, qty=100, sym="ORCL", **kw):
    return OrderRequest(sym, side, qty, kind, **kw)


def test_the_orcl_bracket_left_over_from_nukac_is_refused_before_sending():
    spec = TicketSpec("ORCL", BUY, TicketKind.BRACKET, "100", take_profit="77.00", stop_loss="74.50")
    c = check_ticket(spec, ORCL, buying_power=D("100000"), kind="cash")
    assert not c.ok
    assert "Buy bracket stop loss 74.50 is above the ask 44.96: it would trigger immediately" in c.problems


def test_the_orcl_bracket_is_not_sent_by_the_session(tmp_path):
    bus = EventBus()
    broker = PaperBroker.open(tmp_path / "p.sqlite3", bus=bus, clock=lambda: T0)
    broker.create_account("Paper", 100_000)
    s = PaperSession(broker, bus)
    try:
        s.apply_quotes([ORCL])
        res = s.submit(req(BUY, OrderType.MARKET, take_profit="77.00", stop_loss="74.50"))
        assert res.value is None and res.error == \
            "Buy bracket stop loss 74.50 is above the ask 44.96: it would trigger immediately"
        assert broker.orders("Paper") == [] and broker.fills("Paper") == []  # nothing reached the broker
        res = s.submit(req(BUY, OrderType.MARKET, take_profit="77.00", stop_loss="74.50"), confirmed=True)
        assert res.value is None and broker.orders("Paper") == []  # a refusal is not a question
    finally:
        s.close()
        broker.close()


@pytest.mark.parametrize(("r", "why"), [
    (req(BUY, OrderType.STOP, stop_price="40.00"), "Buy stop 40.00 is below the ask 44.96: it would trigger immediately"),
    (req(BUY, OrderType.STOP, stop_price="44.96"), "Buy stop 44.96 is at the ask 44.96: it would trigger immediately"),
    (req(SELL, OrderType.STOP, stop_price="46.00"), "Sell stop 46.00 is above the bid 44.93: it would trigger immediately"),
    (req(SELL, OrderType.STOP_LIMIT, stop_price="45", limit_price="44.5"),
     "Sell stop 45.00 is above the bid 44.93: it would trigger immediately"),
    (req(BUY, OrderType.MARKET, take_profit="44.00", stop_loss="43.00"),
     "Buy bracket take profit 44.00 is below the ask 44.96: it would fill immediately"),
    (req(SELL, OrderType.MARKET, take_profit="46.00", stop_loss="47.00"),
     "Sell bracket take profit 46.00 is above the bid 44.93: it would fill immediately"),
    (req(SELL, OrderType.MARKET, take_profit="43.00", stop_loss="44.00"),
     "Sell bracket stop loss 44.00 is below the bid 44.93: it would trigger immediately"),
    (req(BUY, OrderType.MARKET, take_profit="46.00", stop_loss="44.94"),  # below the ask, above the bid
     "Sell stop loss 44.94 is above the bid 44.93: it would trigger immediately"),
    (req(BUY, OrderType.LIMIT, limit_price="44.00", take_profit="46.00", stop_loss="44.50"),
     "Buy bracket stop loss 44.50 is above the entry limit 44.00: it would trigger as soon as the entry fills"),
])
def test_stops_and_brackets_on_the_wrong_side_are_refused(r, why):
    c = check_order(r, ORCL)
    assert why in c.refusals and not c.allows(confirmed=True)


@pytest.mark.parametrize("r", [
    req(BUY, OrderType.STOP, stop_price="45.50"),
    req(SELL, OrderType.STOP, stop_price="44.00"),
    req(BUY, OrderType.MARKET, take_profit="47.00", stop_loss="43.00"),
    req(SELL, OrderType.MARKET, take_profit="43.00", stop_loss="47.00"),
    req(BUY, OrderType.LIMIT, limit_price="44.90"),
    req(SELL, OrderType.LIMIT, limit_price="45.00"),
    req(BUY, OrderType.TRAILING_STOP, trail_percent="2"),
])
def test_orders_on_the_right_side_near_the_market_pass(r):
    c = check_order(r, ORCL)
    assert c.refusals == () and c.confirm == () and c.allows(confirmed=False)


def test_a_limit_far_through_the_market_asks_for_confirmation_on_both_sides():
    q = Quote("X", D("114.95"), D("115.05"), D("115.00"), T0)
    buy = check_order(req(BUY, sym="X", limit_price="1000"), q)
    assert buy.refusals == () and len(buy.confirm) == 1 and not buy.allows(False) and buy.allows(True)
    assert buy.confirm[0].startswith("Buy limit 1000.00 is 769.6 % above the market 115.00: it would fill at once")
    sell = check_order(req(SELL, sym="X", limit_price="50"), q)
    assert sell.confirm[0].startswith("Sell limit 50.00 is 56.5 % below the market 115.00: it would fill at once")


def test_any_price_beyond_the_configured_distance_asks_and_the_distance_is_settable():
    q = Quote("X", D("99.95"), D("100.05"), D("100.00"), T0)
    far = req(BUY, sym="X", limit_price="85")  # 15 % below: resting, not marketable, but far
    assert check_order(far, q).confirm == ("Buy limit 85.00 is 15.0 % below the market 100.00 (more than 10 %). "
                                           "Send it anyway?",)
    assert check_order(far, q, max_distance_pct=D(20)).confirm == ()
    assert check_order(req(SELL, sym="X", limit_price="111"), q).confirm  # above, on the sell side
    assert check_order(req(SELL, sym="X", limit_price="109"), q).confirm == ()
    stop = check_order(req(SELL, OrderType.STOP, sym="X", stop_price="80"), q)
    assert stop.refusals == () and "Sell stop 80.00 is 20.0 % below" in stop.confirm[0]


def test_no_quote_no_order():
    c = check_order(req(BUY, limit_price="44"), None)
    assert c.refusals and "no quote for ORCL" in c.refusals[0]


@pytest.fixture
def seat(tmp_path):
    bus = EventBus()
    broker = PaperBroker.open(tmp_path / "p.sqlite3", bus=bus, clock=lambda: T0, default_config=FillConfig())
    broker.create_account("Paper", 100_000)
    s = PaperSession(broker, bus)
    s.apply_quotes([ORCL])
    yield s, broker
    s.close()
    broker.close()


def test_a_confirmation_refuses_unless_confirmed(seat):
    s, broker = seat
    far = req(BUY, limit_price="30", tif=TimeInForce.GTC)
    asked = s.submit(far)
    assert asked.value is None and asked.confirm and asked.error.startswith("needs confirmation: Buy limit 30.00")
    assert broker.orders("Paper") == []
    sent = s.submit(far, confirmed=True)
    assert sent.ok and sent.value.state is OrderState.ACCEPTED


def test_modify_runs_the_same_checks(seat):
    s, broker = seat
    o = s.submit(req(BUY, OrderType.STOP, qty=10, stop_price="45.50", tif=TimeInForce.GTC)).value
    assert o is not None and o.state is OrderState.ACCEPTED
    moved = s.modify(o.order_id, stop_price=D("44.00"))
    assert moved.value is None and moved.error == "Buy stop 44.00 is below the ask 44.96: it would trigger immediately"
    assert broker.order(o.order_id).stop_price == D("45.50")  # unchanged
    far = s.modify(o.order_id, stop_price="60")
    assert far.value is None and far.confirm and broker.order(o.order_id).stop_price == D("45.50")
    assert s.modify(o.order_id, stop_price="60", confirmed=True).value.stop_price == D("60")
    lim = s.submit(req(BUY, qty=10, limit_price="44.50", tif=TimeInForce.GTC)).value
    assert s.modify(lim.order_id, limit_price="30").confirm  # 33 % below the market
    assert s.modify(lim.order_id, limit_price="44.60", qty=20).value.qty == 20


def test_modify_changes_the_time_in_force_and_it_survives_a_restart(tmp_path):
    bus = EventBus()
    path = tmp_path / "p.sqlite3"
    broker = PaperBroker.open(path, bus=bus, clock=lambda: T0, default_config=FillConfig())
    broker.create_account("Paper", 100_000)
    s = PaperSession(broker, bus)
    s.apply_quotes([ORCL])
    o = s.submit(req(BUY, qty=10, limit_price="44.50", tif=TimeInForce.DAY)).value
    assert o.tif is TimeInForce.DAY
    assert s.modify(o.order_id, tif="gtc").value.tif is TimeInForce.GTC
    bad = s.modify(o.order_id, tif="ioc")
    assert bad.value is None and bad.error == "a working order's time in force can become DAY or GTC, not IOC"
    s.close()
    broker.close()
    again = PaperBroker.open(path, bus=EventBus(), clock=lambda: T0 + 3 * 86_400_000)  # days later
    try:
        kept = again.order(o.order_id)
        assert kept.tif is TimeInForce.GTC and kept.state is OrderState.ACCEPTED  # a DAY order would have expired
        assert again.modify(o.order_id, tif="day").tif is TimeInForce.DAY
    finally:
        again.close()


@pytest.mark.parametrize(("side", "entry", "tp", "sl", "new", "why"), [
    (BUY, "44.50", "46.00", "43.50", "46.20",
     "Buy bracket take profit 46.00 is below the entry limit 46.20: it would fill as soon as the entry fills"),
    (BUY, "44.50", "46.00", "43.50", "43.40",
     "Buy bracket stop loss 43.50 is above the entry limit 43.40: it would trigger as soon as the entry fills"),
    (SELL, "45.50", "44.00", "46.50", "43.90",
     "Sell bracket take profit 44.00 is above the entry limit 43.90: it would fill as soon as the entry fills"),
    (SELL, "45.50", "44.00", "46.50", "46.50",
     "Sell bracket stop loss 46.50 is at the entry limit 46.50: it would trigger as soon as the entry fills"),
])
def test_moving_a_bracket_entry_past_its_legs_is_refused(seat, side, entry, tp, sl, new, why):
    s, broker = seat
    assert s.create_account("Margin", 100_000, "margin").ok  # a sell entry opens a short
    o = s.submit(req(side, qty=10, limit_price=entry, take_profit=tp, stop_loss=sl, tif=TimeInForce.GTC)).value
    assert o is not None and o.state is OrderState.ACCEPTED
    moved = s.modify(o.order_id, limit_price=new, confirmed=True)
    assert moved.value is None and moved.error == why
    assert broker.order(o.order_id).limit_price == D(entry)  # unchanged
    inside = D(entry) + (D("0.10") if side is BUY else D("-0.10"))
    assert s.modify(o.order_id, limit_price=inside).value.limit_price == inside  # between the legs: fine


def test_moving_a_waiting_leg_past_its_entry_is_refused(seat):
    s, broker = seat
    o = s.submit(req(BUY, qty=10, limit_price="44.50", take_profit="46.00", stop_loss="43.50",
                     tif=TimeInForce.GTC)).value
    legs = {x.role.value: x for x in broker.orders("Paper") if x.parent_id == o.order_id}
    moved = s.modify(legs["stop_loss"].order_id, stop_price="44.60", confirmed=True)
    assert moved.value is None and moved.error == \
        "Buy bracket stop loss 44.60 is above the entry limit 44.50: it would trigger as soon as the entry fills"
    assert s.modify(legs["take_profit"].order_id, limit_price="45.00").value.limit_price == D("45.00")
