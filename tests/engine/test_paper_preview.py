"""engine.paper.preview: the order ticket's estimate agrees with what the broker does."""
from decimal import Decimal as D

import pytest

from engine.events import EventBus
from engine.paper import OrderRequest, OrderState, OrderType, PaperBroker, Side
from engine.paper.preview import offset_price, preview_order, reference_price, shares_for_amount


def req(side="buy", qty=100, type_=OrderType.MARKET, **kw):
    return OrderRequest("ACME", Side(side), qty, type_, **kw)


QUOTE = dict(bid=D("99.95"), ask=D("100.05"), last=D("100.00"))


def test_reference_price_per_order_type():
    assert reference_price(req(), **QUOTE) == D("100.05")  # buys pay the ask
    assert reference_price(req("sell"), **QUOTE) == D("99.95")  # sells get the bid
    assert reference_price(req(type_=OrderType.LIMIT, limit_price=D("98")), **QUOTE) == D("98")
    # a buy stop below the market would trigger at once: it costs the market
    assert reference_price(req(type_=OrderType.STOP, stop_price=D("95")), **QUOTE) == D("100.00")
    assert reference_price(req(type_=OrderType.STOP, stop_price=D("105")), **QUOTE) == D("105")
    assert reference_price(req("sell", type_=OrderType.STOP, stop_price=D("95")), **QUOTE) == D("95")
    assert reference_price(req(), bid=None, ask=None, last=None) is None


def test_cash_buy_cost_and_buying_power_after():
    p = preview_order(req(), buying_power=D("100000"), kind="cash", fee=D("1.00"), **QUOTE)
    assert (p.price, p.notional, p.cost, p.buying_power_after) == (D("100.05"), D("10005.00"), D("10006.00"), D("89994.00"))
    assert p.ok


def test_cash_buy_over_buying_power_says_by_how_much():
    p = preview_order(req(qty=1100), buying_power=D("100000"), kind="cash", **QUOTE)
    assert p.problems == ("exceeds buying power by $10,055.00",)  # 110,055 - 100,000


def test_cash_sell_needs_shares_and_frees_money():
    p = preview_order(req("sell", 10), buying_power=D("500"), kind="cash", position_qty=5, **QUOTE)
    assert p.problems == ("a cash account cannot sell short: you hold 5 ACME, this order sells 10",)
    p = preview_order(req("sell", 5), buying_power=D("500"), kind="cash", position_qty=5, **QUOTE)
    assert p.ok and p.cost == 0 and p.buying_power_after == D("999.75")


def test_margin_only_the_opening_part_commits_buying_power():
    # long 60: selling 100 closes 60 (frees 60 × 99.95) and opens a 40 short (commits 40 × 99.95)
    p = preview_order(req("sell", 100), buying_power=D("10000"), kind="margin", position_qty=60, **QUOTE)
    assert p.cost == D("3998.00") and p.buying_power_after == D("10000") - D("3998.00") + D("5997.00")
    p = preview_order(req("buy", 300), buying_power=D("20000"), kind="margin", **QUOTE)
    assert p.problems == ("exceeds buying power by $10,015.00",)


def test_missing_prices_and_bad_requests_are_problems():
    p = preview_order(req(), buying_power=D("1000"), kind="cash", bid=None, ask=None, last=None)
    assert p.price is None and p.problems == ("no quote for ACME yet; wait for one or use a limit order",)
    p = preview_order(req(type_=OrderType.LIMIT), buying_power=D("1000"), kind="cash", **QUOTE)
    assert p.problems == ("a limit order needs a limit price",)


def test_helpers_for_dollar_quantities_and_percent_legs():
    assert shares_for_amount(D("5000"), D("100.05")) == 49
    assert shares_for_amount(D("50"), D("100.05")) == 0
    assert shares_for_amount(D("50"), None) == 0
    assert offset_price(D("100.05"), D("2"), True, up=True) == D("102.05")
    assert offset_price(D("100.05"), D("1"), True, up=False) == D("99.05")
    assert offset_price(D("100"), D("2.5"), False, up=False) == D("97.50")
    with pytest.raises(ValueError, match="not a positive price"):
        offset_price(D("10"), D("100"), True, up=False)


def test_preview_agrees_with_the_broker(tmp_path):
    """Where the preview says an order exceeds buying power, the broker rejects it; where it
    fits, the broker accepts it and the buying power after matches."""
    b = PaperBroker.open(tmp_path / "p.sqlite3", bus=EventBus())
    try:
        b.create_account("a", 10_000)
        b.on_quote("ACME", D("99.95"), D("100.05"), D("100.00"))
        for qty in (99, 100):
            r = req(qty=qty, type_=OrderType.LIMIT, limit_price=D("100.05"))
            s = b.account_summary("a")
            p = preview_order(r, buying_power=s.buying_power, kind=s.kind, **QUOTE)
            o = b.submit("a", r)
            if p.ok:
                assert o.state is OrderState.ACCEPTED
                assert b.account_summary("a").buying_power == p.buying_power_after
                b.cancel(o.order_id)
            else:
                assert o.state is OrderState.REJECTED and "insufficient cash" in o.reason
        assert qty == 100 and not p.ok
    finally:
        b.close()
