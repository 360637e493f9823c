"""Backtests agree with backtrader: same fills (dates, prices) and equity to the cent."""
from __future__ import annotations

import json

import pytest

from engine.paper.backtest import FixedQty, RuleStrategy, run_backtest
from tests.engine.paper.stubs import (
    backtrader_sma_cross,
    fill_rows,
    load_yahoo,
    random_walk_bars,
    sma_cross_rules,
)

pytest.importorskip("backtrader")

ENTRY = "crosses_above(sma(close,10), sma(close,30))"
EXIT = "crosses_below(sma(close,10), sma(close,30))"


def _compare(ours, ref):
    assert len(ours) == len(ref["fills"]) > 20
    for a, b in zip(ours, ref["fills"]):
        assert a[:3] == b[:3]
        assert a[3] == pytest.approx(b[3], abs=1e-9)


def test_sma_cross_matches_backtrader_on_orcl(shared_data):
    bars = load_yahoo(shared_data / "ORCL-1995-2014.csv")
    entry, exit_ = sma_cross_rules(10, 30)
    result = run_backtest(bars, RuleStrategy(entry, exit_, FixedQty(100)), cash=100_000)
    ref = backtrader_sma_cross(bars, qty=100, cash=100_000.0)
    _compare(fill_rows(result), ref)
    assert abs(float(result.final_equity) - ref["value"]) < 0.005
    assert abs(float(result.final_cash) - ref["cash"]) < 0.005
    trades = result.to_dict()["trades"]
    assert trades[0]["entry_time"] == str(ref["fills"][0][0])
    assert all(t["qty"] == 100 for t in trades)


def test_sma_cross_matches_backtrader_on_a_random_walk_with_ties():
    bars = random_walk_bars(3000, seed=3)  # cent prices: the two SMAs sometimes tie exactly
    entry, exit_ = sma_cross_rules(10, 30)
    result = run_backtest(bars, RuleStrategy(entry, exit_, FixedQty(100)), cash=100_000)
    ref = backtrader_sma_cross(bars)
    _compare(fill_rows(result), ref)
    assert abs(float(result.final_equity) - ref["value"]) < 0.005


def test_cli_backtest_with_formulas_matches_backtrader(shared_data, capsys, home):
    from app.cli import main

    path = shared_data / "ORCL-1995-2014.csv"
    rc = main(["backtest", str(path), "--entry", ENTRY, "--exit", EXIT, "--qty", "100", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    ref = backtrader_sma_cross(load_yahoo(path), qty=100, cash=100_000.0)
    fills = ref["fills"]
    closed = len(fills) // 2
    assert len(out["trades"]) == closed
    for k, t in enumerate(out["trades"]):
        buy, sell = fills[2 * k], fills[2 * k + 1]
        assert (t["entry_time"], t["exit_time"]) == (str(buy[0]), str(sell[0]))
        assert t["entry_price"] == pytest.approx(buy[3], abs=1e-9)
        assert t["exit_price"] == pytest.approx(sell[3], abs=1e-9)
        assert t["pnl"] == pytest.approx((sell[3] - buy[3]) * 100, abs=1e-6)
    assert abs(out["final_equity"] - ref["value"]) < 0.005
    assert set(out["metrics"]) >= {"total_return", "cagr", "max_drawdown", "sharpe", "win_rate",
                                   "profit_factor", "trades", "exposure"}


def test_cli_commission_and_slippage_cost_money(shared_data, capsys, home):
    from app.cli import main

    path = str(shared_data / "ORCL-1995-2014.csv")
    base = ["backtest", path, "--entry", ENTRY, "--exit", EXIT, "--qty", "100", "--json"]
    main(base)
    free = json.loads(capsys.readouterr().out)
    main(base + ["--commission", "per_share:0.005:1.0", "--slippage", "bps:5"])
    costly = json.loads(capsys.readouterr().out)
    n_fills = 2 * len(costly["trades"]) + (1 if costly["open_qty"] else 0)
    assert costly["final_equity"] < free["final_equity"] - n_fills * 1.0 + 0.01  # ≥ $1 per fill
    assert main(base + ["--commission", "nonsense"]) == 1
    assert "per_share:RATE" in capsys.readouterr().err
