"""Backtester: sizing, protective stops, last-bar rule, metrics, errors."""
from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest

from engine.data.bars import Bars
from engine.paper.backtest import (
    FixedQty,
    PercentEquity,
    RiskPerTrade,
    RuleStrategy,
    compute_metrics,
    run_backtest,
)
from engine.paper.fills import FillConfig, PerShare


def make_bars(closes, opens=None, lows=None, highs=None, volume=1e9) -> Bars:
    c = np.asarray(closes, float)
    o = np.asarray(opens if opens is not None else closes, float)
    lo = np.asarray(lows if lows is not None else np.minimum(o, c), float)
    hi = np.asarray(highs if highs is not None else np.maximum(o, c), float)
    t = (np.datetime64("2020-01-01") + np.arange(len(c))).astype("datetime64[s]").astype(np.int64)
    return Bars.from_arrays("T", "1d", t, o, hi, lo, c, np.full(len(c), volume))


def at(*idx, n):
    def f(bars):
        a = np.zeros(n, bool)
        a[list(idx)] = True
        return a
    return f


def test_fixed_qty_round_trip_at_next_opens_with_commission():
    bars = make_bars([10, 10, 12, 12, 13], opens=[10, 10.5, 11, 12.5, 13])
    r = run_backtest(bars, RuleStrategy(at(0, n=5), at(2, n=5), FixedQty(10)), cash=1000,
                     config=FillConfig(commission=PerShare(D("0.01"), D(1))))
    (t,) = r.trades
    assert (t.entry_price, t.exit_price, t.qty) == (D("10.5"), D("12.5"), 10)
    assert t.pnl == D(20) - D(2)  # $1 minimum commission on each fill
    assert r.final_equity == D("1018") and r.open_qty == 0


def test_order_made_on_the_last_bar_never_fills():
    bars = make_bars([10, 11, 12])
    r = run_backtest(bars, RuleStrategy(at(2, n=3), None, FixedQty(10)), cash=1000)
    assert r.fills == [] and r.final_equity == D(1000) and r.orders == 1


def test_open_position_is_valued_at_the_last_close():
    bars = make_bars([10, 11, 15])
    r = run_backtest(bars, RuleStrategy(at(0, n=3), None, FixedQty(10)), cash=1000)
    assert r.open_qty == 10 and r.final_equity == D(1000) - D(110) + D(150)
    assert r.trades == []


def test_percent_of_equity_sizing():
    bars = make_bars([100, 100, 100])
    r = run_backtest(bars, RuleStrategy(at(0, n=3), None, PercentEquity(50)), cash=100_000)
    assert r.open_qty == 500


def test_risk_per_trade_sizes_by_the_stop_and_the_stop_really_works():
    # 1 % of 100k = 1000 at risk; stop 5 % below the 100 close → 5 per share → 200 shares
    bars = make_bars([100, 100, 96, 90, 90], opens=[100, 100, 99, 94, 90], lows=[100, 99, 96, 89, 90])
    r = run_backtest(bars, RuleStrategy(at(0, n=5), None, RiskPerTrade(1, 5)), cash=100_000)
    (t,) = r.trades
    assert t.qty == 200 and t.entry_price == D(100)
    assert t.exit_price == D(94)  # bar 3 gaps below the 95 stop: filled at its open
    assert t.pnl == D(-1200)


def test_cash_account_rejection_is_reported_not_hidden():
    bars = make_bars([100, 100, 100])
    r = run_backtest(bars, RuleStrategy(at(0, n=3), None, FixedQty(1000)), cash=1000)
    assert r.fills == [] and len(r.rejected) == 1 and "insufficient cash" in r.rejected[0]


def test_metrics_by_definition():
    eq = np.array([100.0, 110.0, 99.0, 120.0])
    pos = np.array([0, 1, 1, 0])
    t = np.arange(4) * 86400
    m = compute_metrics(eq, pos, t, [], 100.0, False, 120.0)
    assert m["total_return"] == pytest.approx(0.2)
    assert m["max_drawdown"] == pytest.approx(0.1)  # 110 → 99
    rets = np.array([0.1, -0.1, 120 / 99 - 1])
    assert m["sharpe"] == pytest.approx(rets.mean() / rets.std(ddof=1) * np.sqrt(252))
    assert m["exposure"] == 0.5 and m["trades"] == 0 and m["win_rate"] is None
    assert m["cagr"] == pytest.approx(1.2 ** (365.25 / 3) - 1)


def test_errors_are_clear():
    with pytest.raises(ValueError, match="no bars"):
        run_backtest(make_bars([]), RuleStrategy(lambda b: np.zeros(0, bool)))
    with pytest.raises(ValueError, match="shape"):
        run_backtest(make_bars([1, 2]), RuleStrategy(lambda b: np.zeros(3, bool)))
    with pytest.raises(ValueError, match="not a number"):
        run_backtest(make_bars([1, 2]), RuleStrategy(lambda b: np.zeros(2, bool)), cash="lots")
    with pytest.raises(ValueError):
        run_backtest(make_bars([1, 2, 3]), RuleStrategy("close >", "close < 1"))


def test_formula_strings_drive_the_backtest():
    closes = [10, 9, 8, 9, 11, 12, 11, 9, 8]
    bars = make_bars(closes)
    r = run_backtest(bars, RuleStrategy("close > 10", "close < 10", FixedQty(1)), cash=100)
    # enters after bar 4 (11 > 10) at bar 5's open 12; exits after bar 7 (9 < 10) at bar 8's open 8
    (t,) = r.trades
    assert (t.entry_price, t.exit_price) == (D(12), D(8))
