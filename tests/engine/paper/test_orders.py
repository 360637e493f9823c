"""The order life cycle: transition table, illegal moves, duplicate fills."""
from decimal import Decimal as D

import pytest

from engine.paper.errors import InvalidOrder
from engine.paper.orders import (
    TRANSITIONS,
    DuplicateFill,
    Fill,
    IllegalTransition,
    Order,
    OrderAccepted,
    OrderActivated,
    OrderCancelled,
    OrderFilled,
    OrderHeld,
    OrderModified,
    OrderRejected,
    OrderRequest,
    OrderState,
    OrderSubmitted,
    OrderType,
    Side,
    TimeInForce,
)


def new_order(qty=100) -> Order:
    return Order(OrderSubmitted("o1", 0, "acct", "AAPL", Side.BUY, qty, OrderType.MARKET, TimeInForce.GTC))


def fill(fid, qty, leaves, price="10"):
    return OrderFilled("o1", 5, fill=Fill(fid, "o1", "acct", "AAPL", Side.BUY, qty, D(price), D(0), 5),
                       leaves_qty=leaves)


def test_happy_path_new_accepted_partial_filled():
    o = new_order()
    o.apply(OrderAccepted("o1", 1))
    assert o.state is OrderState.ACCEPTED
    o.apply(fill("f1", 40, 60, "10"))
    assert o.state is OrderState.PARTIALLY_FILLED and o.filled_qty == 40 and o.leaves_qty == 60
    o.apply(fill("f2", 60, 0, "11"))
    assert o.state is OrderState.FILLED
    assert o.avg_fill_price == D("10.6")  # (40*10 + 60*11) / 100, exact
    assert [type(e).__name__ for e in o.events] == [
        "OrderSubmitted", "OrderAccepted", "OrderFilled", "OrderFilled"]


@pytest.mark.parametrize("ev", [
    OrderCancelled("o1", 9, reason="x"),
    OrderAccepted("o1", 9),
    OrderModified("o1", 9, qty=10),
])
def test_terminal_states_refuse_everything(ev):
    o = new_order()
    o.apply(OrderAccepted("o1", 1))
    o.apply(fill("f1", 100, 0))
    with pytest.raises(IllegalTransition, match="not allowed in state 'filled'"):
        o.apply(ev)
    assert o.state is OrderState.FILLED and len(o.events) == 3  # unchanged


def test_new_order_cannot_fill_before_acceptance():
    o = new_order()
    with pytest.raises(IllegalTransition):
        o.apply(fill("f1", 10, 90))
    assert o.filled_qty == 0


def test_rejected_is_terminal_with_reason():
    o = new_order()
    o.apply(OrderRejected("o1", 1, reason="insufficient cash"))
    assert o.state is OrderState.REJECTED and o.reason == "insufficient cash"
    with pytest.raises(IllegalTransition):
        o.apply(OrderAccepted("o1", 2))


def test_duplicate_fill_id_is_rejected_and_changes_nothing():
    o = new_order()
    o.apply(OrderAccepted("o1", 1))
    o.apply(fill("f1", 10, 90))
    with pytest.raises(DuplicateFill):
        o.apply(fill("f1", 10, 80))
    assert o.filled_qty == 10


def test_overfill_is_illegal():
    o = new_order(qty=10)
    o.apply(OrderAccepted("o1", 1))
    with pytest.raises(IllegalTransition, match="does not fit"):
        o.apply(fill("f1", 11, 0))
    assert o.filled_qty == 0 and o.state is OrderState.ACCEPTED


def test_waiting_child_cannot_fill_until_activated():
    o = new_order()
    o.apply(OrderHeld("o1", 1))
    assert o.state is OrderState.WAITING
    with pytest.raises(IllegalTransition):
        o.apply(fill("f1", 10, 90))
    o.apply(OrderActivated("o1", 2, qty=30))
    assert o.state is OrderState.ACCEPTED and o.qty == 30


def test_modify_below_filled_is_illegal():
    o = new_order()
    o.apply(OrderAccepted("o1", 1))
    o.apply(fill("f1", 50, 50))
    with pytest.raises(IllegalTransition):
        o.apply(OrderModified("o1", 2, qty=40))
    o.apply(OrderModified("o1", 3, qty=50))  # down to what is filled: complete
    assert o.state is OrderState.FILLED


def test_replay_rebuilds_the_same_order():
    o = new_order()
    o.apply(OrderAccepted("o1", 1))
    o.apply(fill("f1", 30, 70))
    o.apply(OrderCancelled("o1", 4, reason="user"))
    again = Order.from_events(o.events)
    assert again.view() == o.view()


def test_every_table_entry_leaves_from_a_working_or_new_state():
    for (state, _kind), _new in TRANSITIONS.items():
        assert state in (OrderState.NEW, OrderState.WAITING, OrderState.ACCEPTED, OrderState.PARTIALLY_FILLED)


@pytest.mark.parametrize("req, msg", [
    (OrderRequest("AAPL", Side.BUY, 10, OrderType.LIMIT), "needs a limit price"),
    (OrderRequest("AAPL", Side.BUY, 10, OrderType.STOP), "needs a stop price"),
    (OrderRequest("AAPL", Side.BUY, 10, OrderType.TRAILING_STOP), "exactly one of trail"),
    (OrderRequest("AAPL", Side.BUY, 10, take_profit=D(9), stop_loss=D(10)), "stop loss < take profit"),
    (OrderRequest("AAPL", Side.BUY, 10, tif=TimeInForce.IOC, stop_loss=D(9)), "cannot be IOC"),
])
def test_malformed_requests_explain_themselves(req, msg):
    assert any(msg in p for p in req.problems())


@pytest.mark.parametrize("kw, msg", [
    (dict(qty=0), "positive whole number"),
    (dict(qty=-5), "positive whole number"),
    (dict(qty=10**30), "too large"),
    (dict(qty=5.0), "whole number"),
    (dict(qty=True), "whole number"),
    (dict(limit_price=D("NaN")), "finite"),
    (dict(limit_price=D("sNaN")), "finite"),
    (dict(limit_price=float("inf")), "finite"),
    (dict(limit_price=D("-1")), "positive"),
    (dict(limit_price=D("1e22")), "too large"),
    (dict(limit_price="abc"), "not a number"),
    (dict(limit_price=[1]), "number"),
    (dict(side="up"), "side must be one of buy, sell"),
    (dict(type="limt"), "order type must be one of"),
    (dict(tif=3), "time in force must be one of"),
    (dict(symbol=""), "symbol is empty"),
    (dict(symbol=None), "symbol must be text"),
    (dict(trail_percent=D(100)), "between 0 and 100"),
    (dict(tag=5), "tag must be text"),
])
def test_bad_values_are_refused_when_the_request_is_built(kw, msg):
    args = dict(symbol="AAPL", side=Side.BUY, qty=10, type=OrderType.LIMIT, limit_price=D(10))
    args.update(kw)
    with pytest.raises(InvalidOrder, match=msg) as err:
        OrderRequest(**args)
    assert "\n" not in str(err.value) and str(err.value).count(". ") == 0  # one sentence


def test_floats_and_strings_are_normalised_to_exact_values():
    r = OrderRequest("ORCL", "BUY", 5, "limit", limit_price=44.5, tif="gtc", stop_loss="40.25")
    assert (r.side, r.type, r.tif) == (Side.BUY, OrderType.LIMIT, TimeInForce.GTC)
    assert r.limit_price == D("44.5") and type(r.limit_price) is D
    assert r.limit_price.as_tuple().exponent == -6  # quantized to 1e-6
    assert r.stop_loss == D("40.25")
    assert OrderRequest("ORCL", Side.BUY, 5, limit_price=0.1).limit_price == D("0.1")
