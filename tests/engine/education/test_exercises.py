"""Each exercise checker detects completion from real engine state and does not fire on near
misses (a stop 1 % below is not 2 %; sma 20 is not sma 50; ema 50 is not sma 50; ...)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import numpy as np
import pytest

from engine.charts.drawings import Drawing, DrawingStore
from engine.data.bars import Bars
from engine.education.content import Material
from engine.education.exercises import EngineState, check, last_scan_formula, last_scan_run, reference_matches
from engine.events import EventBus
from engine.journal.roundtrips import Leg, RoundTrip
from engine.journal.store import JournalStore
from engine.paper import OrderRequest, OrderType, PaperBroker, Side
from engine.paper.orders import Quote
from engine.paper.session import PaperSession
from engine.scanner.filters import ScanDefinition
from engine.scanner.scanner import Scanner
from engine.scanner.store import ScanStore
from engine.scanner.universe import Universe
from engine.store.db import open_database

T0 = 1_700_000_000_000


def ex(check_name: str, **params) -> Material:
    return Material("x", "exercise", "x", instructions="x", check=check_name, params=params)


@pytest.fixture
def session(tmp_path):
    bus = EventBus()
    broker = PaperBroker.open(tmp_path / "p.sqlite3", bus=bus, clock=lambda: T0)
    broker.create_account("Paper", 100_000, "margin")
    s = PaperSession(broker, bus)
    s.apply_quotes([Quote("ACME", D("99.95"), D("100.05"), D("100.00"), T0)])
    yield s
    s.close()
    broker.close()


def _state(s: PaperSession) -> EngineState:
    return EngineState(orders=lambda: s.snapshot()[0], last_price=s.last_price)


def _bracket(s: PaperSession, stop: str, side: Side = Side.BUY, qty: int = 100, limit: str = "100.00"):
    tp = str(D(limit) * (D("1.05") if side == Side.BUY else D("0.95")))
    r = s.submit(OrderRequest("ACME", side, qty, OrderType.LIMIT, limit_price=limit, take_profit=tp, stop_loss=stop),
                 confirmed=True)
    assert r.error in (None, ""), r.error
    return r.value


BRACKET = ex("bracket_order", symbol="ACME", side="buy", stop_pct=2.0, tolerance_pct=0.2)


def test_bracket_with_a_2_percent_stop_is_done(session):
    assert not check(BRACKET, _state(session)).done  # nothing yet
    _bracket(session, "98.00")
    r = check(BRACKET, _state(session))
    assert r.done, r.detail
    assert "2.00 % below" in r.detail


def test_bracket_with_a_1_percent_stop_is_a_near_miss(session):
    _bracket(session, "99.00")
    r = check(BRACKET, _state(session))
    assert not r.done and "1.00 % below" in r.detail and "2 % ± 0.2" in r.detail
    _bracket(session, "97.50")  # 2.5 %: outside the tolerance too
    assert not check(BRACKET, _state(session)).done


def test_a_plain_stop_order_or_a_sell_bracket_is_not_a_buy_bracket(session):
    session.submit(OrderRequest("ACME", Side.SELL, 100, OrderType.STOP, stop_price="98.00"), confirmed=True)
    assert not check(BRACKET, _state(session)).done
    _bracket(session, "102.00", side=Side.SELL)  # a sell bracket with its stop 2 % above
    assert not check(BRACKET, _state(session)).done
    sell = ex("bracket_order", symbol="ACME", side="sell", stop_pct=2.0, tolerance_pct=0.2)
    assert check(sell, _state(session)).done


def test_a_cancelled_bracket_does_not_count(session):
    order = _bracket(session, "98.00")
    assert check(BRACKET, _state(session)).done
    assert session.cancel(order.order_id).error in (None, "")
    assert not check(BRACKET, _state(session)).done


def test_order_type(session):
    want = ex("order_type", symbol="ACME", type="limit", side="buy")
    session.submit(OrderRequest("ACME", Side.BUY, 10, OrderType.STOP, stop_price="101.00"), confirmed=True)
    r = check(want, _state(session))
    assert not r.done and "buy stop" in r.detail
    session.submit(OrderRequest("ACME", Side.SELL, 10, OrderType.LIMIT, limit_price="101.00"), confirmed=True)
    assert not check(want, _state(session)).done  # the wrong side
    session.submit(OrderRequest("ACME", Side.BUY, 10, OrderType.LIMIT, limit_price="99.00"), confirmed=True)
    assert check(want, _state(session)).done


def test_risk_sized_order(session):
    want = ex("risk_sized_order", risk_dollars=200, tolerance_pct=5)
    _bracket(session, "98.00", qty=50)  # 50 × 2 = $100: half the risk
    r = check(want, _state(session))
    assert not r.done and "$100.00" in r.detail
    _bracket(session, "98.00", qty=100)  # 100 × 2 = $200
    assert check(want, _state(session)).done


def _chart(**kw):
    base = {"symbol": "ACME", "timeframe": "1d", "overlays": [], "studies": {"items": []}}
    base.update(kw)
    return base


def test_chart_timeframe_and_study():
    tf = ex("chart_timeframe", timeframe="1h")
    assert not check(tf, EngineState(charts=lambda: [_chart(timeframe="4h")])).done
    assert check(tf, EngineState(charts=lambda: [_chart(), _chart(timeframe="60m")])).done  # the chart's id for 1 hour
    assert not check(tf, EngineState(charts=lambda: [_chart(timeframe="30m")])).done
    sma50 = ex("chart_study", study="sma", period=50)
    for near in (["sma(close, 20)"], ["ema(close, 50)"], ["sma(high, 50)"], ["sma(close, 50) > close"]):
        assert not check(sma50, EngineState(charts=lambda n=near: [_chart(overlays=n)])).done, near
    assert check(sma50, EngineState(charts=lambda: [_chart(overlays=["sma(close,50)"])])).done
    rsi14 = ex("chart_study", study="rsi", period=14)
    assert check(rsi14, EngineState(charts=lambda: [_chart(overlays=["rsi(close)"])])).done  # the default is 14
    bb = ex("chart_study", study="bbands", period=20)
    item = {"id": "s1", "kind": "bbands", "params": {"n": 30, "k": 2.0}, "styles": {}, "visible": True}
    assert not check(bb, EngineState(charts=lambda: [_chart(studies={"items": [item]})])).done
    item = dict(item, params={"n": 20, "k": 2.0})
    assert check(bb, EngineState(charts=lambda: [_chart(studies={"items": [item]})])).done


def test_chart_drawing_reads_the_drawing_store(tmp_path):
    db = open_database(tmp_path / "s.sqlite3")
    store = DrawingStore(db)
    state = EngineState(charts=lambda: [_chart()], drawings=lambda sym: store.load(sym)[0])
    hline = ex("chart_drawing", kind="horizontal_line")
    assert not check(hline, state).done
    store.save("ACME", [Drawing.create("vline", [(1_700_000_000, 100.0)])])
    r = check(hline, state)
    assert not r.done and "vline" in r.detail
    store.save("OTHER", [Drawing.create("hline", [(1_700_000_000, 100.0)])])  # not on an open chart
    assert not check(hline, state).done
    store.save("ACME", [Drawing.create("hline", [(1_700_000_000, 100.0)])])
    assert check(hline, state).done
    assert not check(ex("chart_drawing", kind="trendline"), state).done


def _bars(symbol: str, closes) -> Bars:
    n = len(closes)
    c = np.asarray(closes, dtype=float)
    t = np.arange(n, dtype=np.int64) * 86_400 + 1_600_000_000
    return Bars(symbol, "1d", t, c, c * 1.01, c * 0.99, c, np.full(n, 1e6))


def test_scan_matches_the_reference_on_the_same_data(tmp_path):
    rng = np.random.default_rng(3)
    falling = {f"F{i}": 100 * np.cumprod(1 - np.abs(rng.normal(0.01, 0.004, 60))) for i in range(3)}
    rising = {f"R{i}": 100 * np.cumprod(1 + np.abs(rng.normal(0.01, 0.004, 60))) for i in range(3)}
    data = {**falling, **rising}

    def bars(sym, _tf):
        return _bars(sym, data[sym])

    db = open_database(tmp_path / "s.sqlite3")
    scans = ScanStore(db)
    scanner = Scanner(bars, store=scans)
    universe = Universe("Demo universe", tuple(sorted(data)), "demo")
    want = ex("scan", universe="demo", reference="rsi(close, 14) < 30")
    state = EngineState(
        last_scan=lambda: last_scan_run(db), last_scan_formula=lambda: last_scan_formula(db),
        universe_name=lambda key: "Demo universe" if key == "demo" else key,
        reference_scan=lambda key, f: reference_matches(bars, universe.symbols, f))
    assert not check(want, state).done  # no scan yet

    def run(formula: str, u: Universe = universe) -> None:
        from engine.progress import run_to_end

        run_to_end(scanner.run(ScanDefinition("mine", formula), u))

    run("rsi(close, 14) > 70")  # the opposite
    r = check(want, state)
    assert not r.done and "differ" in r.detail
    run("rsi(close, 14) < 30", Universe("Watchlist: x", ("F0", "R0"), "watchlist"))  # another universe
    assert "run it on 'Demo universe'" in check(want, state).detail
    run("rsi(close, 14) < 30")
    r = check(want, state)
    assert r.done, r.detail
    assert "3 symbols" in r.detail
    # the reference run recorded nothing: the user's run is still the last
    assert _last_run(db).universe == "Demo universe"
    # nothing matches the reference: an empty scan of another formula is not the exercise
    none = ex("scan", universe="demo", reference="close < 0")
    run("close < -5")
    r = check(none, state)
    assert not r.done and "different formula" in r.detail
    run("close<0")  # the same formula, spelled differently
    assert check(none, state).done


def _last_run(db):
    import json

    from engine.scanner.store import ScanRun

    with db.connect(write=False) as c:
        r = c.execute("SELECT scan_key, universe, ran_at, symbols FROM scan_runs ORDER BY ran_at DESC, id DESC LIMIT 1").fetchone()
    return None if r is None else ScanRun(r[0], r[1], r[2], tuple(json.loads(r[3])))


def test_custom_indicator_and_journal_emotion(tmp_path):
    from engine.formula.service import FormulaService

    db = open_database(tmp_path / "s.sqlite3")
    formulas = FormulaService(db, EventBus())
    journal = JournalStore(db)

    def last():
        entries = journal.entries()
        return entries[-1] if entries else None

    state = EngineState(custom_indicators=lambda: [c.name for c in formulas.list()], last_journal_entry=last)
    assert not check(ex("custom_indicator"), state).done
    formulas.save("my_osc", "rsi(close, 7) - 50")
    assert check(ex("custom_indicator"), state).done

    emo = ex("journal_emotion")
    assert "no closed trade" in check(emo, state).detail

    def trip(exit_ms: int) -> RoundTrip:
        return RoundTrip("ACME", "long", (Leg(exit_ms - 60_000, 10, D(100), D(0)),),
                         (Leg(exit_ms, 10, D(101), D(0)),), D(10), D(0))

    first = journal.add(trip(T0)).entry
    journal.edit(first.id, emotion_before="calm")
    assert check(emo, state).done
    journal.add(trip(T0 + 3_600_000))  # a later trade without a tag: the last trade is what counts
    r = check(emo, state)
    assert not r.done and "no emotion tag" in r.detail
    journal.edit(last().id, setups=("breakout",))  # a tag that is not an emotion
    assert not check(emo, state).done
    journal.edit(last().id, emotion_after="relieved")
    assert check(emo, state).done
