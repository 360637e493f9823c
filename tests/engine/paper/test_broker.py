"""PaperBroker: persistence and restart, events on the bus, service API, quote feed."""
from __future__ import annotations

import sqlite3
from decimal import Decimal as D

import numpy as np
import pytest

from engine.events import EventBus
from engine.paper import (
    AccountChanged,
    AccountExists,
    DelayedQuotes,
    DemoQuotes,
    FillOccurred,
    OrderNotFound,
    OrderRequest,
    OrderState,
    OrderType,
    OrderUpdated,
    PaperBroker,
    PositionChanged,
    QuoteFeed,
    Side,
    TimeInForce,
    UnknownAccount,
    bar_from,
    run_backtest,
)
from engine.paper.account import session_close_after
from engine.paper.fills import FillConfig
from engine.paper.backtest import FixedQty, RuleStrategy
from tests.engine.paper.stubs import load_yahoo, sma_cross_rules

T0 = 1_700_000_000_000  # Tue 2023-11-14 22:13 UTC


class Clock:
    def __init__(self, t: int = T0) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


@pytest.fixture
def env(tmp_path):
    clock = Clock()
    bus = EventBus()
    path = tmp_path / "paper.sqlite3"
    brokers = []

    def open_broker():
        # no commission: these tests are about the rules (costs: test_costs.py)
        b = PaperBroker.open(path, bus=bus, clock=clock, default_config=FillConfig())
        brokers.append(b)
        return b

    yield open_broker, clock, bus, path
    for b in brokers:
        try:
            b.close()
        except sqlite3.ProgrammingError:
            pass


def limit(side, qty, px, tif=TimeInForce.GTC, sym="AAPL"):
    return OrderRequest(sym, Side(side), qty, OrderType.LIMIT, limit_price=D(px), tif=tif)


def test_fill_publishes_events_after_commit(env):
    open_broker, clock, bus, _ = env
    b = open_broker()
    seen = []
    bus.subscribe(OrderUpdated, lambda e: seen.append(("order", e.order.state.value)))
    bus.subscribe(FillOccurred, lambda e: seen.append(("fill", e.fill.qty)))
    bus.subscribe(PositionChanged, lambda e: seen.append(("position", e.position.qty)))
    bus.subscribe(AccountChanged, lambda e: seen.append(("account", str(e.summary.cash))))
    b.create_account("main", 10_000)
    o = b.submit("main", limit("buy", 10, "100"))
    assert o.state is OrderState.ACCEPTED
    b.on_quote("AAPL", 99.5, 99.9, 99.7)
    assert seen == [("account", "10000.00"), ("order", "accepted"), ("order", "filled"), ("fill", 10),
                    ("position", 10), ("account", "9001.000000")]


def test_restart_resumes_gtc_orders_positions_and_cash(env):
    open_broker, clock, _bus, _ = env
    b = open_broker()
    b.create_account("main", 10_000, "margin")
    b.submit("main", limit("buy", 10, "100"))
    b.on_quote("AAPL", 99.5, 99.9, 99.7)
    working = b.submit("main", limit("sell", 10, "110"))
    b.close()
    b2 = open_broker()
    assert b2.accounts() == ["main"]
    assert [p.qty for p in b2.positions("main")] == [10]
    assert b2.account_summary("main").cash == D("9001")
    assert [o.order_id for o in b2.orders("main", working_only=True)] == [working.order_id]
    fills = b2.on_quote("AAPL", 110.0, 110.2, 110.1)  # the resumed order still works
    assert [f.order_id for f in fills] == [working.order_id]
    assert b2.positions("main") == [] and b2.account_summary("main").cash == D("10101")


def test_day_orders_expire_at_the_close_even_across_a_restart(env):
    open_broker, clock, _bus, _ = env
    b = open_broker()
    b.create_account("main", 10_000)
    day = b.submit("main", limit("buy", 1, "50", TimeInForce.DAY))
    gtc = b.submit("main", limit("buy", 1, "50"))
    b.close()
    clock.t = session_close_after(T0) + 1
    b2 = open_broker()
    assert b2.order(day.order_id).state is OrderState.EXPIRED
    assert b2.order(gtc.order_id).state is OrderState.ACCEPTED


def test_errors_are_clear(env):
    open_broker, *_ = env
    b = open_broker()
    b.create_account("main", 1_000)
    with pytest.raises(AccountExists):
        b.create_account("main", 5)
    with pytest.raises(UnknownAccount):
        b.submit("nope", limit("buy", 1, "1"))
    with pytest.raises(OrderNotFound):
        b.cancel("O-missing")
    with pytest.raises(ValueError, match="fractions of a cent"):
        b.create_account("other", "10.001")
    r = b.submit("main", limit("buy", 100, "50"))
    assert r.state is OrderState.REJECTED and "insufficient cash" in r.reason
    assert b.orders("main")[0].reason == r.reason  # a rejection is recorded too


def test_failed_commit_leaves_nothing_unacknowledged(env, monkeypatch):
    open_broker, *_ = env
    b = open_broker()
    b.create_account("main", 10_000)
    kept = b.submit("main", limit("buy", 1, "50"))

    def broken(*_a, **_k):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(b.store, "commit", broken)
    with pytest.raises(sqlite3.OperationalError):
        b.submit("main", limit("buy", 2, "50"))
    monkeypatch.undo()
    assert [o.order_id for o in b.orders("main")] == [kept.order_id]


def test_modify_cancel_flatten_and_equity_curve(env):
    open_broker, clock, *_ = env
    b = open_broker()
    b.create_account("main", 10_000, "margin")
    o = b.submit("main", limit("buy", 10, "90"))
    o = b.modify(o.order_id, limit_price=D("100"))
    assert o.limit_price == D("100")
    b.on_quote("AAPL", 99.5, 99.9, 99.7)
    clock.t += 1000
    flat = b.flatten("main", "AAPL")
    assert flat.side is Side.SELL and flat.qty == 10
    b.on_quote("AAPL", 101.0, 101.2, 101.1)
    assert b.positions("main") == []
    curve = b.equity_curve("main")
    assert curve[0][1] == D("10000.00") and curve[-1][1] == D("10011")
    c = b.submit("main", limit("buy", 1, "10"))
    assert b.cancel(c.order_id).state is OrderState.CANCELLED


def test_quote_feed_with_demo_ticks_fills_market_orders_at_the_ask(env):
    open_broker, clock, *_ = env
    b = open_broker()
    b.create_account("main", 100_000)
    src = DemoQuotes(start_price=lambda s: 50.0)
    feed = QuoteFeed(b, src, symbols=lambda: ["DEMO"], clock=clock)
    feed.poll()  # a first quote makes a price known
    o = b.submit("main", OrderRequest("DEMO", Side.BUY, 10, tif=TimeInForce.GTC))
    clock.t += 1000
    fills = feed.poll()
    assert len(fills) == 1 and fills[0].order_id == o.order_id
    q2 = DemoQuotes(start_price=lambda s: 50.0)
    q2.quote("DEMO", 0)
    again = q2.quote("DEMO", 0)
    assert fills[0].price == again.ask  # deterministic, and a buy pays the ask
    assert again.bid < again.ask


def test_delayed_quotes_from_bars_straddle_the_last_close(shared_data):
    bars = load_yahoo(shared_data / "ORCL-1995-2014.csv")
    q = DelayedQuotes(lambda s: bars, spread_bps=10).quote("ORCL", 5)
    last = D(repr(float(bars.close[-1])))
    assert q.bid <= last <= q.ask and q.bid < q.ask and q.time_ms == 5
    # and never outside the bar the quote comes from
    assert D(repr(float(bars.low[-1]))) <= q.bid and q.ask <= D(repr(float(bars.high[-1])))


def test_backtest_and_paper_run_fill_alike(env, shared_data):
    """Feeding the same bars and decisions to the live broker gives the backtest's fills."""
    open_broker, clock, *_ = env
    bars = load_yahoo(shared_data / "ORCL-1995-2014.csv").slice(0, 800)
    entry_fn, exit_fn = sma_cross_rules()
    bt = run_backtest(bars, RuleStrategy(entry_fn, exit_fn, FixedQty(100)), cash=100_000)
    entry, exit_ = entry_fn(bars), exit_fn(bars)
    b = open_broker()
    b.create_account("live", 100_000)
    for i in range(len(bars)):
        bar = bar_from(bars, i)
        clock.t = bar.time_ms
        b.on_bar("ORCL", bar)
        pos = sum(p.qty for p in b.positions("live"))
        busy = b.orders("live", working_only=True)
        if pos == 0 and entry[i] and not busy:
            b.submit("live", OrderRequest("ORCL", Side.BUY, 100, tif=TimeInForce.GTC))
        elif pos > 0 and exit_[i] and not busy:
            b.submit("live", OrderRequest("ORCL", Side.SELL, pos, tif=TimeInForce.GTC))
    live = [(f.time_ms, f.side, f.qty, f.price) for f in b.fills("live")]
    assert live == [(f.time_ms, f.side, f.qty, f.price) for f in bt.fills]
    assert len(live) > 10
    assert np.isclose(float(b.account_summary("live").cash), float(bt.final_cash))


def test_broker_can_be_used_from_a_worker_thread_and_commits_durably(env):
    import threading

    open_broker, _clock, _bus, path = env
    b = open_broker()
    b.create_account("main", 10_000)
    errors = []

    def work():
        try:
            b.submit("main", limit("buy", 1, "50"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    th = threading.Thread(target=work)
    th.start()
    th.join()
    assert errors == []
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT COUNT(*) FROM paper_orders").fetchone()[0] == 1
    conn.close()
    raw = b.store.conn
    assert raw.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1
