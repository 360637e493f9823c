"""Strategy definitions, their local store, universe backtests and the live paper runner."""
from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest

from engine.community.strategies import (
    CATEGORIES, LiveRunner, StrategyDef, StrategyError, StrategyStore, backtest_universe, live_results, run_payload,
)
from engine.paper.backtest import run_backtest
from tests.engine.research.stubs import random_bars

SMA = StrategyDef("SMA cross", "trend_following", "crosses_above(sma(close, 5), sma(close, 20))",
                  "crosses_below(sma(close, 5), sma(close, 20))", "percent_equity", 50.0, stop_loss_pct=8.0)


def test_categories_match_the_service() -> None:
    from server.routers.strategies import CATEGORIES as SERVICE

    assert CATEGORIES == SERVICE and len(CATEGORIES) == 8


@pytest.mark.parametrize("change, message", [
    ({"name": " "}, "name"), ({"category": "astrology"}, "category"), ({"entry": "sma(close, 5)"}, "condition"),
    ({"entry": "close >"}, "entry rule"), ({"sizing_kind": "fixed_qty", "sizing_value": 1.5}, "whole"),
    ({"sizing_kind": "risk_per_trade", "sizing_value": 1.0}, "stop distance"),
    ({"stop_loss_pct": 150.0}, "stop loss"), ({"sizing_value": float("nan")}, "positive"),
    ({"timeframe": "2d"}, "timeframe"),
])
def test_validate_refuses_bad_rules(change: dict[str, object], message: str) -> None:
    from dataclasses import replace

    with pytest.raises(StrategyError, match=message):
        replace(SMA, **change).validate()  # type: ignore[arg-type]


def test_rules_round_trip_through_the_service_shape() -> None:
    s = StrategyDef("R", "swing", "close > open", None, "risk_per_trade", 1.0, 4.0, None, 12.0, "1d", "sp500")
    back = StrategyDef.from_rules("R", "swing", s.rules())
    assert back == s
    from server.routers.strategies import RulesIn

    assert RulesIn.model_validate(s.rules()).sizing.stop_pct == 4.0


def test_store_saves_updates_and_refuses_a_taken_name(db) -> None:  # noqa: ANN001 - fixture
    store = StrategyStore(db)
    a = store.save(SMA)
    assert a.id is not None and a.created_at > 0 and a.rules() == SMA.rules()
    b = store.save(StrategyDef("Other", "momentum", "close > sma(close, 50)"))
    with pytest.raises(StrategyError, match="already exists"):
        store.save(StrategyDef("SMA cross", "momentum", "close > open"))
    from dataclasses import replace

    store.save(replace(a, remote_id=42, visibility="public", results={"backtest": {"points": [[1, 2]]}}))
    got = store.get(a.id)
    assert got is not None and got.remote_id == 42 and got.visibility == "public"
    assert got.results["backtest"]["points"] == [[1, 2]]
    assert [s.name for s in store.all()] == ["Other", "SMA cross"]
    assert store.delete(b.id or 0) and store.by_name("Other") is None


def test_a_one_symbol_universe_is_the_plain_backtest() -> None:
    bars = random_bars(400, 3, symbol="AAA")
    u = backtest_universe(SMA, [bars], cash=100_000)
    plain = run_backtest(bars, SMA.rule_strategy(), cash=100_000)
    assert u.final_equity == plain.final_equity
    assert len(u.trades) == len(plain.trades) > 3
    np.testing.assert_allclose(u.equity, plain.equity)
    assert u.score["in_sample"] is not None and set(u.score["weights"]) == {
        "performance", "risk", "consistency", "efficiency", "community"}


def test_universe_equity_is_the_sum_of_equal_sleeves() -> None:
    a = random_bars(300, 1, symbol="AAA")
    b = random_bars(200, 2, symbol="BBB")  # shorter: its sleeve is cash, then holds after its end
    u = backtest_universe(SMA, [a, b], cash=100_001)
    ra = run_backtest(a, SMA.rule_strategy(), cash=D("50000.50"))
    rb = run_backtest(b, SMA.rule_strategy(), cash=D("50000.50"))
    assert u.final_equity == ra.final_equity + rb.final_equity
    expected = ra.equity + np.concatenate([rb.equity, np.full(100, rb.equity[-1])])
    np.testing.assert_allclose(u.equity, expected)
    assert [t.exit_time for _s, t in u.trades] == sorted(t.exit_time for _s, t in u.trades)
    pay = u.payload()
    assert len(pay["points"]) == 300 and pay["points"][0] == [int(a.time[0]), 10_000_100]
    assert len(pay["trades"]) == len(u.trades)


def test_run_payload_is_cents_with_increasing_times_and_bounded() -> None:
    pay = run_payload([(10, D("100.005")), (10, D("101")), (20, 99.5)], [(15, D("-1.25"))])
    assert pay == {"points": [[10, 10100], [20, 9950]], "trades": [[15, -125]]}
    big = run_payload([(k, 100.0) for k in range(50_000)], [])
    assert len(big["points"]) <= 1_000 and big["points"][0] == [0, 10_000] and big["points"][-1] == [49_999, 10_000]


def test_live_runner_trades_through_the_paper_session(tmp_path) -> None:  # noqa: ANN001 - fixture
    from engine.data.bars import Bars
    from engine.events import EventBus
    from engine.paper import PaperBroker
    from engine.paper.orders import Quote
    from engine.paper.session import PaperSession

    t_ms = [1_700_000_000_000]
    bus = EventBus()
    broker = PaperBroker.open(tmp_path / "paper.sqlite3", bus=bus, clock=lambda: t_ms[0])
    broker.create_account("strategy: up-days", 10_000)
    session = PaperSession(broker, bus, clock=lambda: t_ms[0])
    try:
        s = StrategyDef("up-days", "swing", "close > open", "close < open", "fixed_qty", 10)
        days = [(100.0, 100.5), (100.2, 101.0)]  # (open, close): the last day is up, so the entry is true

        def bars_of(sym: str) -> Bars:
            o, c = (np.asarray(x) for x in zip(*days))
            t = 1_699_900_000 + 86_400 * np.arange(c.size, dtype=np.int64)
            return Bars(sym, "1d", t, o, np.maximum(o, c) + 1, np.minimum(o, c) - 1, c, np.full(c.size, 1e6))

        session.apply_quotes([Quote("AAA", D("100.95"), D("101.05"), None, t_ms[0])])
        acts = LiveRunner(session, s, ["AAA"], bars_of).step()
        assert [a.what for a in acts] == ["entry"], acts
        runner = LiveRunner(session, s, ["AAA"], bars_of)
        runner.step()
        assert runner.step() == []  # once per bar
        t_ms[0] += 60_000
        session.apply_quotes([Quote("AAA", D("100.95"), D("101.05"), None, t_ms[0])])  # the market buy fills
        assert session.positions["AAA"].qty == 10
        days.append((100.5, 99.0))  # a down day: exit
        acts = runner.step()
        assert [a.what for a in acts] == ["exit"], acts
        t_ms[0] += 60_000
        session.apply_quotes([Quote("AAA", D("98.95"), D("99.05"), None, t_ms[0])])
        assert session.positions["AAA"].qty == 0
        live = live_results(session)
        assert len(live["trades"]) == 1 and live["trades"][0][1] < 0  # bought ~101.05, sold ~98.95
        assert live["points"][0][1] == 1_000_000  # the starting cash, then after each fill
        assert live["points"][-1][1] == 1_000_000 - 2_100 - 200  # 10,000 − 21 loss − 2 fees
    finally:
        session.close()
        broker.close()
