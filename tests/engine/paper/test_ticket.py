"""The order ticket's rules without Qt: TicketSpec → OrderRequest(s) for every kind, units
(shares or $, trail $ or %, bracket legs as price or %), and the messages the ticket shows."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from engine.paper.orders import OrderType, Quote, Side, TimeInForce
from engine.paper.ticket import (
    TicketError,
    TicketKind,
    TicketSpec,
    build_requests,
    check_ticket,
    edit_text,
    market_spec,
    parse_decimal,
)

Q = Quote("ACME", D("99.95"), D("100.05"), None, 0)  # mid 100.00
BUY, SELL = Side.BUY, Side.SELL


def spec(kind: TicketKind = TicketKind.MARKET, side: Side = BUY, qty: object = "100", **kw: object) -> TicketSpec:
    return TicketSpec("acme", side, kind, qty, **kw)  # type: ignore[arg-type]


def one(s: TicketSpec, q: Quote | None = Q):
    [r] = build_requests(s, q).requests
    return r


def check(s: TicketSpec, q: Quote | None = Q, bp: str = "100000", kind: str = "cash", pos: int = 0):
    return check_ticket(s, q, buying_power=D(bp), kind=kind, position_qty=pos)


def test_every_order_type_makes_its_request():
    m = one(spec())
    assert (m.symbol, m.side, m.qty, m.type, m.tif) == ("ACME", BUY, 100, OrderType.MARKET, TimeInForce.DAY)
    lim = one(spec(TicketKind.LIMIT, limit="99.50", tif=TimeInForce.GTC))
    assert (lim.type, lim.limit_price, lim.tif) == (OrderType.LIMIT, D("99.50"), TimeInForce.GTC)
    stp = one(spec(TicketKind.STOP, side=SELL, stop="95"))
    assert (stp.type, stp.stop_price, stp.side) == (OrderType.STOP, D("95"), SELL)
    sl = one(spec(TicketKind.STOP_LIMIT, stop="101", limit="101.50"))
    assert (sl.type, sl.stop_price, sl.limit_price) == (OrderType.STOP_LIMIT, D("101"), D("101.50"))
    tr_amt = one(spec(TicketKind.TRAILING_STOP, side=SELL, trail="2.5"))
    assert (tr_amt.type, tr_amt.trail_amount, tr_amt.trail_percent) == (OrderType.TRAILING_STOP, D("2.5"), None)
    tr_pct = one(spec(TicketKind.TRAILING_STOP, side=SELL, trail="5", trail_percent=True))
    assert (tr_pct.trail_amount, tr_pct.trail_percent) == (None, D("5"))
    br = one(spec(TicketKind.BRACKET, take_profit="102", stop_loss="98", tif=TimeInForce.GTC))
    assert (br.type, br.take_profit, br.stop_loss, br.limit_price) == (OrderType.MARKET, D("102"), D("98"), None)
    brl = one(spec(TicketKind.BRACKET, limit_entry=True, limit="99", take_profit="101"))
    assert (brl.type, brl.limit_price, brl.take_profit, brl.stop_loss) == (OrderType.LIMIT, D("99"), D("101"), None)
    a, b = build_requests(spec(TicketKind.OCO, side=SELL, limit="110", stop="95", tif=TimeInForce.GTC), Q).requests
    assert (a.type, a.limit_price, b.type, b.stop_price, a.qty, b.qty) == (
        OrderType.LIMIT, D("110"), OrderType.STOP, D("95"), 100, 100)


def test_bracket_percent_legs_are_measured_from_the_entry():
    # market buy: from the ask 100.05, +2 % = 102.051 → 102.05, -1 % = 99.0495 → 99.05
    r = one(spec(TicketKind.BRACKET, take_profit="2", take_profit_percent=True, stop_loss="1", stop_loss_percent=True))
    assert (r.take_profit, r.stop_loss) == (D("102.05"), D("99.05"))
    # a short's take-profit is below the entry (the bid 99.95), its stop above
    s = one(spec(TicketKind.BRACKET, side=SELL, take_profit="2", take_profit_percent=True,
                 stop_loss="1", stop_loss_percent=True))
    assert (s.take_profit, s.stop_loss) == (D("97.95"), D("100.95"))
    # a limit entry: from the limit
    lim = one(spec(TicketKind.BRACKET, limit_entry=True, limit="90", take_profit="10", take_profit_percent=True))
    assert lim.take_profit == D("99.00")
    with pytest.raises(TicketError, match="no entry price yet to turn the take profit % into a price"):
        build_requests(spec(TicketKind.BRACKET, take_profit="2", take_profit_percent=True), None)
    with pytest.raises(TicketError, match="stop loss: -100% from 100.05 is not a positive price"):
        build_requests(spec(TicketKind.BRACKET, stop_loss="100", stop_loss_percent=True), Q)


def test_dollar_amounts_round_down_to_whole_shares_at_the_reference_price():
    orders = build_requests(spec(qty="5,000", qty_in_dollars=True), Q)
    assert orders.requests[0].qty == 49 and orders.shares_note == "= 49 shares at 100.05"
    lim = build_requests(spec(TicketKind.LIMIT, qty="$1,000", qty_in_dollars=True, limit="33.40"), Q)
    assert lim.requests[0].qty == 29  # at the limit, not the ask
    with pytest.raises(TicketError, match=r"^\$50.00 buys no whole share at 100.05$"):
        build_requests(spec(qty="50", qty_in_dollars=True), Q)
    with pytest.raises(TicketError, match="no price yet to turn the dollar amount into shares"):
        build_requests(spec(qty="5000", qty_in_dollars=True), None)


@pytest.mark.parametrize(("s", "message"), [
    (spec(TicketKind.LIMIT), "Limit price missing"),
    (spec(TicketKind.LIMIT, limit="abc"), "Limit price: 'abc' is not a number"),
    (spec(TicketKind.LIMIT, limit="-3"), "Limit price must be positive"),
    (spec(TicketKind.STOP), "Stop price missing"),
    (spec(TicketKind.STOP_LIMIT, stop="5"), "Limit price missing"),
    (spec(TicketKind.TRAILING_STOP), "Trail missing"),
    (spec(TicketKind.TRAILING_STOP, trail="150", trail_percent=True), "Trail percent must be below 100"),
    (spec(TicketKind.BRACKET), "A bracket needs a take profit, a stop loss, or both"),
    (spec(TicketKind.BRACKET, limit_entry=True, take_profit="101"), "Entry limit price missing"),
    (spec(TicketKind.BRACKET, take_profit="98", stop_loss="101"),
     "A long bracket needs stop loss < take profit; Buy bracket take profit 98.00 is below the ask 100.05: "
     "it would fill immediately; Buy bracket stop loss 101.00 is above the ask 100.05: it would trigger immediately"),
    (spec(TicketKind.BRACKET, take_profit="101", tif=TimeInForce.IOC), "A bracket entry cannot be IOC or FOK"),
    (spec(qty=""), "Quantity missing"),
    (spec(qty="1.5"), "Quantity must be a positive whole number of shares, not '1.5'"),
    (spec(qty="0"), "Quantity must be a positive whole number of shares, not '0'"),
    (TicketSpec(" ", BUY), "Symbol missing"),
    (spec(qty="2000"), "Exceeds buying power by $100,100.00"),
    (spec(side=SELL, qty="10"), "A cash account cannot sell short: you hold 0 ACME, this order sells 10"),
])
def test_messages_the_ticket_shows(s, message):
    c = check(s)
    assert c.message == message and not c.ok


def test_exceeds_buying_power_by_the_exact_amount_and_estimate():
    c = check(spec(qty="10"), bp="-234.06")  # 10 × 100.05 = 1,000.50 against -234.06 → short by 1,234.56
    assert c.message == "Exceeds buying power by $1,234.56"
    ok = check(spec(qty="100"))
    assert ok.ok and ok.message == "" and ok.preview.price == D("100.05")
    assert (ok.preview.cost, ok.preview.buying_power_after) == (D("10005.00"), D("89995.00"))


def test_no_quote_and_no_account():
    c = check(spec(), q=None)
    assert c.message.startswith("No quote for ACME yet") and len(c.requests) == 1 and not c.ok
    limit = check(spec(TicketKind.LIMIT, limit="99"), q=None)  # nothing to check a limit against either
    assert limit.message == "No quote for ACME yet: an order is checked against the market before it is sent"
    why = "ACME has no stored bars: import a CSV or switch the data source"
    told = check_ticket(spec(), None, buying_power=D("1000"), kind="cash", no_quote_reason=why)
    assert told.problems == (why,) and not told.ok
    none = check_ticket(spec(), Q, buying_power=None, kind=None)
    assert none.message == "Create a paper account first" and not none.ok


def test_values_the_broker_refuses_become_ticket_errors():
    with pytest.raises(TicketError):
        build_requests(spec(TicketKind.LIMIT, limit="1e30"), Q)
    assert check(spec(TicketKind.LIMIT, limit="1e30")).problems  # never an exception for typing


def test_market_spec_for_the_hotkeys():
    r = one(market_spec("ACME", SELL, "30"))
    assert (r.side, r.qty, r.type, r.tif) == (SELL, 30, OrderType.MARKET, TimeInForce.DAY)


def test_parse_decimal_and_edit_text():
    assert parse_decimal(" $1,234.50 ") == D("1234.50") and parse_decimal("") is None and parse_decimal(None) is None
    assert parse_decimal(7) == D(7)
    for bad in ("abc", "nan", "inf", "1.2.3"):
        with pytest.raises(ValueError, match="is not a number"):
            parse_decimal(bad)
    with pytest.raises(ValueError, match="not an exact number"):
        parse_decimal(0.1)  # type: ignore[arg-type]
    assert edit_text(D("100.00")) == "100.00" and edit_text(D("1E+2")) == "100.00"
    assert edit_text(D("96.505")) == "96.505" and edit_text(D("2.5"), 0) == "2.5" and edit_text(D("10"), 0) == "10"
    assert edit_text(None) == ""
