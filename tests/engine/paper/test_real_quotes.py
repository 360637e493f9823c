"""Quotes only from real data (issue 10): the newest bar of the finest timeframe stored for the
symbol, demo ticks from its own last price and inside its range, no quote (and why) without
data; and, over random symbols, data and order streams in a live session, every fill inside
the range of the data and no order accepted that the market checks refuse."""
from __future__ import annotations

import itertools
from decimal import Decimal as D

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine.data.bars import Bars
from engine.data.errors import DataError
from engine.data.service import DataService
from engine.events import EventBus
from engine.paper import OrderRequest, OrderType, PaperBroker, Side, TimeInForce
from engine.paper.feed import DataQuotes, DemoQuotes, PriceAnchor
from engine.paper.session import PaperSession

T0 = 1_700_000_000_000


@pytest.fixture
def fut(db, shared_data):
    """A data service in demo mode (the default) with only FUT-2006-1min.csv imported."""
    data = DataService(db, "demo", bus=EventBus())
    data.import_csv(shared_data / "FUT-2006-1min.csv", symbol="FUT")
    return data


def test_stored_timeframes_finest_first(fut, shared_data):
    assert fut.stored_timeframes("FUT") == ("1m",)
    fut.import_csv(shared_data / "ORCL-1995-2014.csv", symbol="FUT", timeframe="1d")
    assert fut.stored_timeframes("fut") == ("1m", "1d")
    assert fut.stored_timeframes("NOPE") == () and fut.stored_timeframes("not a symbol!") == ()


def test_the_fut_import_quotes_at_its_own_last_close_and_a_market_buy_fills_there(fut, tmp_path):
    bus = EventBus()
    broker = PaperBroker.open(tmp_path / "p.sqlite3", bus=bus, clock=lambda: T0)
    broker.create_account("Paper", 100_000)
    s = PaperSession(broker, bus, source=DataQuotes(fut), clock=lambda: T0)
    try:
        s.watch("ticket", ["FUT"])
        s.feed.poll()
        q = s.quote("FUT")
        assert q is not None and s.quote_label == "demo quotes"  # ~20.17 before: a price made from the name
        assert D("3800") < q.bid <= q.ask < D("3880") and s.no_quote_reason("FUT") == ""
        o = s.submit(OrderRequest("FUT", Side.BUY, 1)).value
        [f] = s.apply_quotes([q])
        bars = fut.load("FUT", "1m")
        assert f.order_id == o.order_id and f.price == q.ask
        assert float(bars.low.min()) <= float(f.price) <= float(bars.high.max())
    finally:
        s.close()
        broker.close()


def test_a_symbol_without_data_has_no_quote_no_fill_and_the_reason(fut, tmp_path):
    bus = EventBus()
    broker = PaperBroker.open(tmp_path / "p.sqlite3", bus=bus, clock=lambda: T0)
    broker.create_account("Paper", 100_000)
    s = PaperSession(broker, bus, source=DataQuotes(fut), clock=lambda: T0)
    try:
        s.watch("ticket", ["ZZZ"])
        assert s.feed.poll() == [] and s.quote("ZZZ") is None
        why = "ZZZ has no stored bars: import a CSV or switch the data source"
        assert s.no_quote_reason("ZZZ") == why and s.feed.no_quote_reason("ZZZ") == why
        res = s.submit(OrderRequest("ZZZ", Side.BUY, 1))
        assert res.value is None and res.error == why and broker.orders("Paper") == []
        res = s.submit(OrderRequest("ZZZ", Side.BUY, 1, OrderType.LIMIT, limit_price="20.18"), confirmed=True)
        assert res.value is None and res.error == why and broker.fills("Paper") == []
    finally:
        s.close()
        broker.close()


def test_delayed_quotes_use_the_finest_stored_timeframe(fut):
    fut.set_source("yahoo")  # the CSV import is usable by Yahoo mode too (it is not demo data)
    calls: list[tuple[str, str, bool]] = []

    def spy(symbol, timeframe="1d", refresh=False):
        calls.append((symbol, timeframe, refresh))
        return fut.load(symbol, timeframe)  # the cache only: no network in tests

    fut.get_bars = spy  # type: ignore[method-assign]
    src = DataQuotes(fut)
    q = src.quote("FUT", T0)
    assert calls[0][:2] == ("FUT", "1m") and q is not None
    assert q.bid <= D("3838") <= q.ask and D("3838") <= q.bid + D("2")  # the last close, inside its bar
    assert src.label == "delayed quotes"


def test_demo_ticks_need_a_start_price_and_stay_inside_the_range():
    assert DemoQuotes().quote("ANY", T0) is None  # no made-up price from the name any more
    src = DemoQuotes(start_price=lambda s: PriceAnchor(10.0, 9.9, 10.1), step_bps=200)
    for t in range(500):
        q = src.quote("X", t)
        assert D("9.9") <= q.bid <= q.ask <= D("10.1")


# ------------------------------------------------------------------ property: a live session
class Data:
    """A data service's quote-facing part over fixed bars (None: the symbol has none)."""

    def __init__(self, source: str, bars: dict[str, Bars | None]) -> None:
        self.source = source
        self.bars = bars

    def get_bars(self, symbol, timeframe="1d", refresh=False):
        b = self.bars.get(symbol)
        if b is None or b.timeframe != timeframe:
            raise DataError(f"No {timeframe} bars of {symbol} are stored.")
        return b

    def stored_timeframes(self, symbol):
        b = self.bars.get(symbol)
        return (b.timeframe,) if b is not None else ()


@st.composite
def series(draw, symbol):
    if draw(st.integers(0, 4)) == 0:
        return None  # no data at all
    n = draw(st.integers(1, 12))
    base = draw(st.floats(0.5, 5000, allow_nan=False))
    steps = draw(st.lists(st.floats(-0.05, 0.05), min_size=n, max_size=n))
    close = base * np.exp(np.cumsum(steps))
    spread = np.array(draw(st.lists(st.floats(0, 0.03), min_size=n, max_size=n)))
    opens = np.roll(close, 1)
    opens[0] = close[0]
    high = np.maximum(opens, close) * (1 + spread)
    low = np.minimum(opens, close) * (1 - spread)
    tf = draw(st.sampled_from(["1m", "5m", "1d"]))
    t = 1_600_000_000 + np.arange(n, dtype=np.int64) * 60
    return Bars.from_arrays(symbol, tf, t, opens, high, low, close, np.full(n, 1e5), "csv")


_ids = itertools.count()
KINDS = ["market", "limit", "stop", "bracket", "trailing"]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    bus = EventBus()
    clock = [T0]
    broker = PaperBroker.open(tmp_path_factory.mktemp("live") / "p.sqlite3", bus=bus, clock=lambda: clock[0])
    yield broker, bus, clock
    broker.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_live_fills_stay_inside_the_data_and_refused_orders_never_reach_the_broker(live, data):
    broker, bus, clock = live
    k = next(_ids)
    symbols = [f"S{k}{c}" for c in "ABC"]
    bars = {s: data.draw(series(s)) for s in symbols}
    mode = data.draw(st.sampled_from(["demo", "yahoo"]))
    account = f"acct{k}"
    broker.create_account(account, 1_000_000, "margin")
    s = PaperSession(broker, bus, account=account, source=DataQuotes(Data(mode, bars)), clock=lambda: clock[0])
    try:
        s.watch("test", symbols)
        for _step in range(data.draw(st.integers(1, 6))):
            clock[0] += 1000
            s.feed.poll()
            for _ in range(data.draw(st.integers(0, 3))):
                sym = data.draw(st.sampled_from(symbols))
                q = s.quote(sym)
                ref = q.ask if q is not None else D(str(round(data.draw(st.floats(0.5, 5000)), 2)))
                side = data.draw(st.sampled_from([Side.BUY, Side.SELL]))
                off = D(str(data.draw(st.integers(-30, 30)))) / 100  # -30 % .. +30 %
                px = max(D("0.01"), (ref * (1 + off)).quantize(D("0.01")))
                px2 = max(D("0.01"), (ref * (1 - off)).quantize(D("0.01")))
                kind = data.draw(st.sampled_from(KINDS))
                tif = data.draw(st.sampled_from([TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC]))
                if kind == "market":
                    req = OrderRequest(sym, side, 10, tif=tif)
                elif kind == "limit":
                    req = OrderRequest(sym, side, 10, OrderType.LIMIT, limit_price=px, tif=tif)
                elif kind == "stop":
                    req = OrderRequest(sym, side, 10, OrderType.STOP, stop_price=px, tif=tif)
                elif kind == "trailing":
                    req = OrderRequest(sym, side, 10, OrderType.TRAILING_STOP, trail_percent="2", tif=tif)
                else:
                    req = OrderRequest(sym, side, 10, take_profit=max(px, px2), stop_loss=min(px, px2),
                                       tif=TimeInForce.GTC) if side is Side.BUY else \
                        OrderRequest(sym, side, 10, take_profit=min(px, px2), stop_loss=max(px, px2),
                                     tif=TimeInForce.GTC)
                confirmed = data.draw(st.booleans())
                allowed = s.check([req]).allows(confirmed)
                before = len(broker.orders(account))
                res = s.submit(req, confirmed=confirmed)
                if not allowed:
                    assert res.value is None and len(broker.orders(account)) == before, (req, res)
                if bars[sym] is None:
                    assert res.value is None  # no data: no quote, no order
        clock[0] += 1000
        s.feed.poll()
        event(f"fills: {min(len(broker.fills(account)), 3)}")
        for f in broker.fills(account):
            b = bars[f.symbol]
            assert b is not None, f  # no data, no fill
            lo, hi = D(repr(float(b.low.min()))), D(repr(float(b.high.max())))
            assert lo - D("0.000001") <= f.price <= hi + D("0.000001"), (f, lo, hi, mode)
    finally:
        s.close()
