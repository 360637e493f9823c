"""PaperSession without Qt: selected account, quote cache, marks once per batch, command
results as values, watched symbols, session events on the bus — and the one quote path
(engine/paper/feed.py: QuoteFeed rounds, DataQuotes, ThrottledBars)."""
from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest

from engine.events import EventBus
from engine.paper import OrderRequest, OrderState, OrderType, PaperBroker, Side, TimeInForce
from engine.paper.feed import DataQuotes, QuoteFeed, ThrottledBars, quote_all
from engine.paper.orders import Quote
from engine.paper.session import PaperSession, mark_positions
from engine.paper.session_events import (
    AccountSelected,
    AccountsListed,
    MarksChanged,
    QuotesApplied,
    SessionEvent,
    SummaryChanged,
)
from engine.data.bars import Bars

T0 = 1_700_000_000_000  # Tue 2023-11-14 22:13 UTC


def make_bars(symbol: str, n: int = 5, timeframe: str = "1d") -> Bars:
    close = np.linspace(100.0, 104.0, n) + (0.5 if timeframe == "1m" else 0.0)
    step = 86400 if timeframe == "1d" else 60
    t = 1_600_000_000 // 86400 * 86400 + np.arange(n, dtype=np.int64) * step
    return Bars.from_arrays(symbol, timeframe, t, close, close + 1, close - 1, close, np.full(n, 1000.0), "csv")


class Clock:
    def __init__(self, t: int = T0) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


class Scripted:
    """A quote source whose bid/ask the test sets."""

    label = "test quotes"
    description = "scripted by the test"

    def __init__(self) -> None:
        self.prices: dict[str, tuple[str, str]] = {}
        self.asked: list[str] = []

    def quote(self, symbol: str, now_ms: int) -> Quote | None:
        self.asked.append(symbol)
        if symbol == "BOOM":
            raise ConnectionError("provider down")
        p = self.prices.get(symbol)
        return None if p is None else Quote(symbol, D(p[0]), D(p[1]), None, now_ms)


@pytest.fixture
def env(tmp_path):
    clock = Clock()
    bus = EventBus()
    broker = PaperBroker.open(tmp_path / "paper.sqlite3", bus=bus, clock=clock)
    broker.create_account("Paper", 100_000)
    src = Scripted()
    events: list[SessionEvent] = []
    bus.subscribe(SessionEvent, events.append)
    s = PaperSession(broker, bus, source=src, clock=clock)
    yield s, broker, src, events, clock
    s.close()
    broker.close()


def _quote(s: PaperSession, src: Scripted, symbol: str, bid: str, ask: str) -> None:
    src.prices[symbol] = (bid, ask)
    s.watch("test", [symbol])
    assert s.feed is not None
    s.feed.poll()


def test_selects_the_first_account_and_loads_its_state(env):
    s, broker, _src, _events, _clock = env
    assert s.account == "Paper" and s.summary.cash == D("100000")
    assert s.positions == {} and s.marks.unrealized == 0 and s.marks.complete
    assert s.quote_label == "test quotes" and s.quote_description == "scripted by the test"
    assert s.select("Nope").error == "no paper account named 'Nope'" and s.account == "Paper"


def test_market_order_fills_on_the_next_quote_and_positions_are_marked_once_per_batch(env):
    s, broker, src, events, clock = env
    _quote(s, src, "ACME", "99.95", "100.05")
    res = s.submit(OrderRequest("ACME", Side.BUY, 100))
    assert res.ok and res.value.state is OrderState.ACCEPTED
    events.clear()
    clock.t += 1000
    _quote(s, src, "ACME", "99.95", "100.05")
    assert s.positions["ACME"].qty == 100 and broker.fills("Paper")[0].price == D("100.05")
    clock.t += 1000
    events.clear()
    _quote(s, src, "ACME", "100.95", "101.05")  # mid 101.00
    m = s.mark("ACME")
    assert (m.last, m.market_value, m.unrealized) == (D("101.00"), D("10100.0000"), D("95.00"))
    assert s.marks.unrealized == D("95.00") and s.marks.complete
    batches = [e for e in events if isinstance(e, QuotesApplied)]
    assert len(batches) == 1 and batches[0].marks is s.marks  # one computation, shared
    assert [q.symbol for q in batches[0].quotes] == ["ACME"]
    # the broker marks the account at the same price: the account view agrees
    assert s.summary.unrealized_pnl == D("95.00")


def test_command_results_are_values_with_one_sentence_errors(env):
    s, broker, src, _events, _clock = env
    _quote(s, src, "ACME", "99.95", "100.05")
    rejected = s.submit(OrderRequest("ACME", Side.BUY, 5000, OrderType.LIMIT, limit_price=D("100")))
    assert rejected.value.state is OrderState.REJECTED and not rejected.ok
    assert rejected.error.startswith("order rejected: ")
    missing = s.cancel("no-such-order")
    assert missing.value is None and missing.error == "no paper order 'no-such-order'"  # no KeyError quotes
    bad = s.modify("no-such-order", qty=-1)
    assert bad.value is None and "new quantity" in bad.error
    ok = s.submit(OrderRequest("ACME", Side.BUY, 10, OrderType.LIMIT, limit_price=D("90"), tif=TimeInForce.GTC))
    assert ok.ok and s.cancel(ok.value.order_id).value.state is OrderState.CANCELLED
    nothing = s.reverse("ACME")  # no position: nothing to turn around, and no error
    assert nothing.value is None and nothing.ok
    assert s.submit_all([]).error == "a ticket makes one order or an OCO pair, not 0 orders"


def test_oco_pair_and_a_session_without_account(tmp_path):
    bus = EventBus()
    broker = PaperBroker.open(tmp_path / "p.sqlite3", bus=bus)
    try:
        s = PaperSession(broker, bus)
        assert s.account == "" and s.summary is None and s.feed is None
        assert s.submit(OrderRequest("ACME", Side.BUY, 1)).error == "create a paper account first"
        assert s.quote_label == "no quote source"
        events: list[SessionEvent] = []
        bus.subscribe(SessionEvent, events.append)
        assert s.create_account("Swing", "25000", "margin").ok
        assert s.account == "Swing" and s.summary.kind.value == "margin"
        kinds = [type(e) for e in events]
        assert AccountsListed in kinds and AccountSelected in kinds and SummaryChanged in kinds
        assert all(e.session is s for e in events)
        assert "exists already" in s.create_account("Swing", "1", "cash").error
        assert s.create_account("Bad", "-5", "cash").error is not None
        legs = [OrderRequest("ACME", Side.SELL, 1, OrderType.LIMIT, limit_price=D("110"), tif="gtc"),
                OrderRequest("ACME", Side.SELL, 1, OrderType.STOP, stop_price=D("95"), tif="gtc")]
        unquoted = s.submit_all(legs)  # nothing to check the prices against: not sent
        assert unquoted.error == "no quote for ACME: there is no quote source" and broker.orders("Swing") == []
        s.apply_quotes([Quote("ACME", D("99.95"), D("100.05"), None, T0)])
        pair = s.submit_all(legs)
        assert pair.ok and len(pair.value) == 2
        s.close()
    finally:
        broker.close()


def test_events_of_another_account_do_not_touch_the_selected_one(env):
    s, broker, src, events, clock = env
    broker.create_account("Other", 50_000)
    _quote(s, src, "ACME", "99.95", "100.05")
    broker.submit("Other", OrderRequest("ACME", Side.BUY, 10))
    clock.t += 1000
    events.clear()
    _quote(s, src, "ACME", "99.95", "100.05")
    assert broker.positions("Other")[0].qty == 10
    assert s.positions == {} and not [e for e in events if isinstance(e, MarksChanged)]
    s.select("Other")
    assert s.positions["ACME"].qty == 10 and s.mark("ACME").unrealized == D("-0.50")  # at mid 100.00


def test_watched_symbols_and_a_failing_symbol_does_not_stop_the_round(env):
    s, broker, src, _events, _clock = env
    s.watch("ticket", [" acme ", "", "BOOM"])
    s.watch("chart", ["GLOBX"])
    assert s.watched_symbols() == ["ACME", "BOOM", "GLOBX"]
    src.prices["GLOBX"] = ("9.99", "10.01")
    s.feed.poll()
    assert src.asked == ["ACME", "BOOM", "GLOBX"] and s.quote("GLOBX").ask == D("10.01")
    assert s.quote("ACME") is None  # no quote for it: not invented
    s.watch("ticket", [])
    assert s.watched_symbols() == ["GLOBX"]


def test_feed_rounds_one_at_a_time_and_closed_feed_drops_a_late_round(env):
    s, _broker, src, _events, _clock = env
    feed = s.feed
    assert feed.begin() is None  # nothing to quote
    s.watch("t", ["ACME"])
    src.prices["ACME"] = ("9.99", "10.01")
    rnd = feed.begin()
    assert rnd.symbols == ("ACME",) and rnd.now_ms == T0
    assert feed.begin() is None  # in flight
    quotes = feed.fetch(rnd)
    feed.end()
    s.close()
    assert feed.apply(quotes) == [] and s.quote("ACME") is None
    assert feed.begin() is None


def test_quote_feed_still_drives_a_bare_broker(env):
    _s, broker, src, _events, clock = env
    src.prices["DEMO"] = ("49.99", "50.01")
    feed = QuoteFeed(broker, src, symbols=lambda: ["DEMO"], clock=clock)
    feed.poll()
    o = broker.submit("Paper", OrderRequest("DEMO", Side.BUY, 10, tif=TimeInForce.GTC))
    clock.t += 1000
    [f] = feed.poll()
    assert f.order_id == o.order_id and f.price == D("50.01")
    with pytest.raises(TypeError, match="PaperSession or a PaperBroker"):
        QuoteFeed(object(), src)  # type: ignore[arg-type]


def test_crossed_quotes_are_refused_and_not_cached(env):
    s, _broker, _src, _events, _clock = env
    s.apply_quotes([Quote("ACME", D("10.05"), D("10.00"), None, T0), Quote("GOOD", D("1.00"), D("1.01"), None, T0)])
    assert s.quote("ACME") is None and s.quote("GOOD").bid == D("1.00")


def test_mark_positions_without_a_quote_is_incomplete():
    from engine.paper.ledger import PositionView

    ps = [PositionView("A", 10, D("5"), D("50"), D(0), D(0)), PositionView("B", -5, D("20"), D("-100"), D(0), D(0))]
    m = mark_positions("x", ps, {"A": Quote("A", D("5.49"), D("5.51"), D("5.50"), 0)})
    assert m.unrealized == D("5.00") and not m.complete and m.get("B").last is None


def test_quote_all_skips_failures():
    src = Scripted()
    src.prices["A"] = ("1", "2")
    assert [q.symbol for q in quote_all(src, ["BOOM", "A", "NONE"], 5)] == ["A"]


def test_delayed_quote_bars_refresh_at_most_once_a_minute():
    calls = []

    class Data:
        source = "yahoo"
        fail = False

        def get_bars(self, symbol, timeframe="1d", refresh=False):
            calls.append(refresh)
            if refresh and self.fail:
                raise ConnectionError("offline")
            return make_bars(symbol, n=5, timeframe=timeframe)

        def stored_timeframes(self, symbol):
            return ("1m",)

    now = [1000.0]
    data = Data()
    bars_for = ThrottledBars(data, "1m", refresh_s=60, monotonic=lambda: now[0])
    bars_for("ACME")
    bars_for("ACME")
    now[0] += 61
    data.fail = True
    assert len(bars_for("ACME")) == 5  # the refresh failed: the cached bars still quote
    now[0] += 2
    bars_for("ACME")  # offline: no new try at every quote round
    assert calls == [True, False, True, False, False]


def test_data_quotes_follow_the_data_source():
    class Data:
        source = "demo"

        def get_bars(self, symbol, timeframe="1d", refresh=False):
            return make_bars(symbol, n=5, timeframe=timeframe)

        def stored_timeframes(self, symbol):
            return ("1m", "1d")

    data = Data()
    src = DataQuotes(data)
    last = float(make_bars("ACME", n=5, timeframe="1m").close[-1])  # the finest timeframe stored
    q = src.quote("ACME", 1)
    assert src.label == "demo quotes" and "Not market prices" in src.description
    assert abs(float(q.last) / last - 1) < 0.01  # demo ticks start at the symbol's last close
    data.source = "yahoo"
    q = src.quote("ACME", 2)
    assert src.label == "delayed quotes" and "finest timeframe stored" in src.description
    assert q.bid < D(repr(float(make_bars("ACME", n=5, timeframe="1m").close[-1]))) < q.ask


def test_delayed_quotes_say_when_the_source_is_offline():
    from engine.paper.feed import DataQuotes

    class Offline:
        source = "yahoo"

        def __init__(self):
            self.failed = {}

        def get_bars(self, symbol, timeframe, refresh=False):
            return None

        def update_failed(self, symbol, timeframe="1d"):
            return self.failed.get((symbol, timeframe), "")

        def stored_timeframes(self, symbol):
            return ("1m",)

    data = Offline()
    q = DataQuotes(data)
    assert q.stale_reason("ACME") == ""
    data.failed[("ACME", "1m")] = "Network is unreachable"
    assert q.stale_reason("ACME").startswith("the quote is stale")
    data.source = "demo"  # demo ticks are never "stale": they are made here
    assert q.stale_reason("ACME") == ""


def test_a_failed_refresh_makes_the_delayed_quote_stale_until_a_good_one():
    import numpy as np

    from engine.data.bars import Bars
    from engine.paper.feed import DataQuotes

    class Flaky:
        source = "yahoo"
        online = False

        def get_bars(self, symbol, timeframe, refresh=False):
            if refresh and not self.online:
                raise OSError("Network is unreachable")
            t = np.array([1_700_000_000], dtype=np.int64)
            one = np.array([10.0])
            return Bars(symbol, timeframe, t, one, one, one, one, np.array([100.0]), source="yahoo")

        def stored_timeframes(self, symbol):
            return ("1m",)

    data = Flaky()
    clock = [0.0]
    q = DataQuotes(data, refresh_s=60.0)
    q.bars.monotonic = lambda: clock[0]
    assert q.quote("ACME", 0) is not None  # the cached close is still quoted...
    assert q.stale_reason("ACME")  # ...but said to be stale
    data.online, clock[0] = True, 61.0
    q.quote("ACME", 0)
    assert q.stale_reason("ACME") == ""
