"""Issue 7: hostile values at the broker's public API, bad stored events, bad market data,
overflow; issue 8: events published after the lock is released, the broker needs its bus."""
from __future__ import annotations

import json
import sqlite3
import threading
from decimal import Decimal as D

import pytest

from engine.events import EventBus, Notification
from engine.paper import (
    Bar,
    InvalidMarketData,
    InvalidOrder,
    InvalidValue,
    OrderRequest,
    OrderState,
    OrderType,
    OrderUpdated,
    PaperBroker,
    PaperError,
    Side,
    TimeInForce,
)
from engine.paper.fills import parse_commission, parse_slippage

BUY, SELL, LIMIT, GTC = Side.BUY, Side.SELL, OrderType.LIMIT, TimeInForce.GTC
T0 = 1_700_000_000_000


@pytest.fixture
def env(tmp_path):
    bus = EventBus()
    path = tmp_path / "paper.sqlite3"
    opened: list[PaperBroker] = []

    def open_broker(**kw):
        b = PaperBroker.open(path, bus=kw.pop("bus", bus), clock=lambda: T0, **kw)
        opened.append(b)
        return b

    yield open_broker, bus, path
    for b in opened:
        try:
            b.close()
        except sqlite3.ProgrammingError:
            pass


def rows(b: PaperBroker, table: str) -> int:
    return b.store.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


# ------------------------------------------------------------------ the issue's regression


def test_the_issues_float_limit_is_stored_exactly_and_the_store_reopens(env):
    open_broker, _bus, _ = env
    b = open_broker()
    b.create_account("main", 10_000)
    b.create_account("other", 5_000)
    o = b.submit("main", OrderRequest("ORCL", BUY, 5, LIMIT, limit_price=44.5, tif=GTC))
    assert o.state is OrderState.ACCEPTED and o.limit_price == D("44.5") and type(o.limit_price) is D
    b.close()
    again = open_broker()  # used to fail for every account of the store
    assert again.quarantined == []
    assert again.accounts() == ["main", "other"]
    assert again.order(o.order_id).limit_price == D("44.5")
    assert again.account_summary("main").buying_power == D("10000") - 5 * D("44.5")


def test_a_nan_limit_is_refused_and_nothing_is_stored(env):
    open_broker, _bus, _ = env
    b = open_broker()
    b.create_account("main", 10_000)
    before = rows(b, "paper_order_events")
    with pytest.raises(InvalidOrder, match="finite"):
        b.submit("main", OrderRequest("ORCL", BUY, 5, LIMIT, limit_price=D("NaN"), tif=GTC))
    assert rows(b, "paper_order_events") == before and b.orders("main") == []


def test_a_call_that_fails_half_way_commits_nothing(env, monkeypatch):
    open_broker, _bus, _ = env
    b = open_broker()
    b.create_account("main", 10_000)
    acct = b._accounts["main"]

    def boom(*_a, **_k):
        raise ArithmeticError("injected")

    monkeypatch.setattr(acct, "_check_buying_power", boom)
    with pytest.raises(ArithmeticError):
        b.submit("main", OrderRequest("ORCL", BUY, 5, LIMIT, limit_price=D(44), tif=GTC))
    assert rows(b, "paper_order_events") == 0 and rows(b, "paper_orders") == 0
    assert b.orders("main") == []  # memory was rebuilt from the store
    ok = b.submit("main", OrderRequest("ORCL", BUY, 5, LIMIT, limit_price=D(44), tif=GTC))
    assert ok.state is OrderState.ACCEPTED


# ------------------------------------------------------------------ quarantine


def plant(b: PaperBroker, account: str, order_id: str, events: list[tuple[str, str]]) -> None:
    """Write an order's rows straight into the store, as an old build or a bad disk might."""
    aid = b.store._ids[account]
    c = b.store.conn
    c.execute(
        "INSERT INTO paper_orders(order_id, account_id, symbol, side, type, tif, qty, filled_qty, state, "
        "created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,0,'accepted',?,?)",
        (order_id, aid, "ORCL", "buy", "limit", "gtc", 5, T0, T0),
    )
    for type_name, payload in events:
        c.execute("INSERT INTO paper_order_events(order_id, account_id, time_ms, type, payload) VALUES (?,?,?,?,?)",
                  (order_id, aid, T0, type_name, payload))


def submitted(order_id: str, account: str, limit_price: object) -> str:
    return json.dumps({
        "order_id": order_id, "time_ms": T0, "account": account, "symbol": "ORCL", "side": "buy", "qty": 5,
        "type": "limit", "tif": "gtc", "limit_price": limit_price, "stop_price": None, "trail_amount": None,
        "trail_percent": None, "parent_id": None, "oco_group": None, "role": "", "active_from_ms": T0, "tag": "",
    })


def test_a_bad_stored_event_is_quarantined_and_every_other_account_opens(env):
    open_broker, bus, _ = env
    b = open_broker()
    b.create_account("main", 10_000)
    b.create_account("other", 5_000)
    good = b.submit("main", OrderRequest("ORCL", BUY, 5, LIMIT, limit_price=D(40), tif=GTC))
    other = b.submit("other", OrderRequest("ORCL", BUY, 1, LIMIT, limit_price=D(40), tif=GTC))
    accepted = json.dumps({"order_id": "OBAD-1", "time_ms": T0, "expire_at_ms": None})
    # what the old code committed for limit_price=44.5: a raw JSON float
    plant(b, "main", "OBAD-1", [("OrderSubmitted", submitted("OBAD-1", "main", 44.5)), ("OrderAccepted", accepted)])
    plant(b, "main", "OBAD-2", [("OrderSubmitted", submitted("OBAD-2", "main", {"d": "NaN"}))])
    plant(b, "other", "OBAD-3", [("OrderSubmitted", "{not json")])
    b.close()
    notes: list[Notification] = []
    bus.subscribe(Notification, notes.append)
    again = open_broker()
    assert again.accounts() == ["main", "other"]
    assert [o.order_id for o in again.orders("main")] == [good.order_id]
    assert [o.order_id for o in again.orders("other")] == [other.order_id]
    assert {(q.account, q.order_id) for q in again.quarantined} == {
        ("main", "OBAD-1"), ("main", "OBAD-2"), ("other", "OBAD-3")}
    assert "limit price" in next(q.reason for q in again.quarantined if q.order_id == "OBAD-1")
    assert notes and notes[0].level == "warning"
    states = dict(again.store.conn.execute("SELECT order_id, state FROM paper_orders").fetchall())
    assert states["OBAD-1"] == "quarantined" and states[good.order_id] == "accepted"
    # the buying power ignores the quarantined order, and trading goes on
    assert again.account_summary("main").buying_power == D("10000") - 5 * D(40)
    fills = again.on_quote("ORCL", 39.9, 40.0)
    assert {f.order_id for f in fills} == {good.order_id, other.order_id}


def test_an_unreadable_account_row_is_left_out_and_the_others_open(env):
    open_broker, _bus, _ = env
    b = open_broker()
    b.create_account("main", 10_000)
    b.create_account("broken", 10_000)
    b.store.conn.execute("UPDATE paper_accounts SET kind='platinum' WHERE name='broken'")
    b.close()
    again = open_broker()
    assert again.accounts() == ["main"]
    assert [(q.account, q.order_id) for q in again.quarantined] == [("broken", None)]
    with pytest.raises(PaperError, match="exists already"):
        again.create_account("broken", 1)  # its row is still there


# ------------------------------------------------------------------ market data


@pytest.mark.parametrize("o, h, lo, c, msg", [
    ("0", "11", "0", "10", "bar open must be positive"),
    ("-1", "11", "1", "10", "positive"),
    ("10", "9", "11", "10", "high 9.000000 is below its low"),
    ("NaN", "11", "9", "10", "finite"),
    ("10", "Infinity", "9", "10", "finite"),
    ("10", "1e22", "9", "10", "too large"),
    ("12", "11", "9", "10", "outside its range"),
])
def test_a_bad_bar_is_refused_and_changes_nothing(env, o, h, lo, c, msg):
    open_broker, _bus, _ = env
    b = open_broker()
    b.create_account("main", 10_000, "margin")
    b.on_quote("ORCL", 10, 10)
    mkt = b.submit("main", OrderRequest("ORCL", BUY, 5, tif=GTC))
    before = rows(b, "paper_order_events")
    with pytest.raises(InvalidMarketData, match=msg):
        b.on_bar("ORCL", Bar(T0 + 60_000, D(o), D(h), D(lo), D(c), 1e6))
    assert b.order(mkt.order_id).state is OrderState.ACCEPTED and b.fills("main") == []
    assert rows(b, "paper_order_events") == before


def test_bad_bar_types_are_refused(env):
    open_broker, _bus, _ = env
    b = open_broker()
    b.create_account("main", 10_000)
    for bar in (None, "bar", Bar(T0, 10.0, 11.0, 9.0, 10.0, -5.0), Bar("t", D(10), D(11), D(9), D(10))):
        with pytest.raises(InvalidMarketData):
            b.on_bar("ORCL", bar)  # type: ignore[arg-type]
    # a float bar is normalised like any price and fills
    b.submit("main", OrderRequest("ORCL", BUY, 1, LIMIT, limit_price=D(10), tif=GTC))
    got = b.on_bar("ORCL", Bar(T0 + 60_000, 10.0, 11.0, 9.0, 10.5, 0.0))
    assert [f.price for f in got] == [D(10)]


@pytest.mark.parametrize("bid, ask, kw, msg", [
    (10.1, 10.0, {}, "crossed quote"),
    (0, 10.0, {}, "bid must be positive"),
    (-1, 10.0, {}, "positive"),
    (float("nan"), 10.0, {}, "finite"),
    (9.9, float("inf"), {}, "finite"),
    (D("sNaN"), 10.0, {}, "finite"),
    (9.9, 10.0, {"last": D("NaN")}, "finite"),
    (9.9, 10.0, {"bid_size": -1}, "bid size"),
    (9.9, 10.0, {"time_ms": "now"}, "quote time"),
    ("x", 10.0, {}, "not a number"),
    (9.9, D("1e22"), {}, "too large"),
])
def test_a_bad_quote_is_refused_and_changes_nothing(env, bid, ask, kw, msg):
    open_broker, _bus, _ = env
    b = open_broker()
    b.create_account("main", 10_000)
    o = b.submit("main", OrderRequest("ORCL", BUY, 5, LIMIT, limit_price=D(50), tif=GTC))
    with pytest.raises(InvalidMarketData, match=msg):
        b.on_quote("ORCL", bid, ask, **kw)
    assert b.order(o.order_id).state is OrderState.ACCEPTED and b.fills("main") == []


# ------------------------------------------------------------------ overflow and enums


def test_overflowing_values_give_one_sentence_and_change_nothing(env):
    open_broker, _bus, _ = env
    b = open_broker()
    with pytest.raises(InvalidValue, match="too large"):
        b.create_account("rich", D("1e26"))
    with pytest.raises(InvalidValue, match="account kind must be one of cash, margin"):
        b.create_account("x", 100, "platinum")
    assert b.accounts() == [] and rows(b, "paper_accounts") == 0
    b.create_account("main", 10_000)
    with pytest.raises(InvalidOrder, match="too large"):
        b.submit("main", OrderRequest("ORCL", BUY, 10**30))
    with pytest.raises(InvalidOrder, match="too large"):
        b.submit("main", OrderRequest("ORCL", BUY, 1, LIMIT, limit_price=D("1e22")))
    with pytest.raises(InvalidOrder, match="side must be one of"):
        b.submit("main", OrderRequest("ORCL", "long", 1))  # type: ignore[arg-type]
    with pytest.raises(InvalidOrder, match="must be an OrderRequest"):
        b.submit("main", {"symbol": "ORCL"})  # type: ignore[arg-type]
    o = b.submit("main", OrderRequest("ORCL", BUY, 1, LIMIT, limit_price=D(10), tif=GTC))
    for kw in ({"qty": 10**30}, {"limit_price": D("1e400")}, {"limit_price": float("nan")}, {"qty": "3"}):
        with pytest.raises(InvalidOrder):
            b.modify(o.order_id, **kw)
    assert b.order(o.order_id).limit_price == D(10) and b.order(o.order_id).qty == 1
    assert rows(b, "paper_order_events") == 2  # submitted + accepted, nothing since


@pytest.mark.parametrize("spec", ["percent:1e400", "per_share:1e30", "flat:1e20", "percent:101", "per_share:0.01:1:200"])
def test_absurd_commissions_are_refused(spec):
    with pytest.raises(ValueError, match="not understood"):
        parse_commission(spec)


@pytest.mark.parametrize("spec", ["bps:1e400", "bps:20000", "sqrt:1e30"])
def test_absurd_slippage_is_refused(spec):
    with pytest.raises(ValueError, match="not understood"):
        parse_slippage(spec)


# ------------------------------------------------------------------ events after the lock


def test_a_subscriber_that_calls_the_broker_from_another_thread_does_not_deadlock(env):
    open_broker, bus, _ = env
    b = open_broker()
    b.create_account("main", 10_000)
    done: list[object] = []

    def on_order(ev: OrderUpdated) -> None:
        if ev.order.state is OrderState.ACCEPTED and not done:
            t = threading.Thread(target=lambda: done.append(b.on_quote("ORCL", 9.9, 10.0)), daemon=True)
            t.start()
            t.join(5)
            done.append("joined" if not t.is_alive() else "stuck")

    bus.subscribe(OrderUpdated, on_order)
    b.submit("main", OrderRequest("ORCL", BUY, 1, LIMIT, limit_price=D(10), tif=GTC))
    assert done[-1] == "joined"  # before: the quote thread waited for the lock the publisher held
    assert len(done[0]) == 1  # the quote filled the order


def test_a_blocked_subscriber_does_not_stall_quotes(env):
    open_broker, bus, _ = env
    b = open_broker()
    b.create_account("main", 10_000)
    release = threading.Event()
    entered = threading.Event()
    seen: list[str] = []

    def slow(ev: OrderUpdated) -> None:
        seen.append(ev.order.state.value)
        if not entered.is_set():
            entered.set()
            release.wait(10)

    bus.subscribe(OrderUpdated, slow)
    t = threading.Thread(
        target=lambda: b.submit("main", OrderRequest("ORCL", BUY, 1, LIMIT, limit_price=D(10), tif=GTC)),
        daemon=True)
    t.start()
    assert entered.wait(5)
    q = threading.Thread(target=lambda: b.on_quote("ORCL", 9.9, 10.0), daemon=True)
    q.start()
    q.join(5)
    try:
        assert not q.is_alive()  # the quote went through while the subscriber blocked
        assert len(b.fills("main")) == 1
    finally:
        release.set()
        t.join(5)
    assert seen == ["accepted", "filled"]  # still in commit order, published by the drainer


def test_the_broker_needs_its_bus(tmp_path):
    with pytest.raises(TypeError):
        PaperBroker.open(tmp_path / "p.sqlite3")  # type: ignore[call-arg]
