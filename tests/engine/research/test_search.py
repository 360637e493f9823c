"""Search (grid, random, TPE), ranking with the minimum trade count, walk-forward windows and the verdict."""
from __future__ import annotations

import math

import pytest

from engine.paper.backtest import FixedQty, RuleStrategy, run_backtest
from engine.research.params import ParamError
from engine.research.search import Objective, Study, search
from engine.research.walkforward import WFWindow, walk_forward, windows
from tests.engine.research.stubs import random_bars

ENTRY = "crosses_above(sma(close, {fast}), sma(close, {slow}))"
EXIT = "crosses_below(sma(close, {fast}), sma(close, {slow}))"


def _study(params=("fast=5:20:5", "slow=10:40:10"), cons=("fast < slow",)) -> Study:  # type: ignore[no-untyped-def]
    return Study.from_text(ENTRY, EXIT, list(params), list(cons))


def test_grid_ranks_by_objective_and_flags_few_trades_last() -> None:
    bars = random_bars(1200, 42)
    counts = sorted(r.metrics["trades"] or 0 for r in search([bars], _study(), min_trades=0).rows)
    thr = int(counts[len(counts) // 2])  # about half the points fall below
    res = search([bars], _study(), objective="sharpe", min_trades=thr)
    assert len(res.rows) == 12  # 4 × 4 minus the 4 with fast ≥ slow
    assert all(r.params["fast"] < r.params["slow"] for r in res.rows)
    flags = [r.flagged for r in res.rows]
    assert flags == sorted(flags)  # unflagged first
    ok = [r.objective for r in res.rows if not r.flagged and r.objective is not None]
    assert ok == sorted(ok, reverse=True)
    assert any(flags) and not all(flags)
    assert all(((r.metrics["trades"] or 0) < thr) == r.flagged for r in res.rows)
    # the best row's figures are the paper engine's
    b = res.best.params
    ref = run_backtest(bars, RuleStrategy(ENTRY.format(**b), EXIT.format(**b), FixedQty(100)), cash=100000)
    assert res.best.metrics["trades"] == ref.metrics["trades"]
    assert res.best.metrics["sharpe"] == pytest.approx(ref.metrics["sharpe"], rel=1e-12)
    assert res.best.metrics["max_drawdown"] == pytest.approx(ref.metrics["max_drawdown"], rel=1e-12)


def test_drawdown_is_minimised_and_custom_objectives_work() -> None:
    bars = random_bars(800, 7)
    res = search([bars], _study(), objective="max_drawdown", min_trades=0)
    dds = [r.metrics["max_drawdown"] for r in res.rows]
    assert dds == sorted(dds)
    custom = search([bars], _study(), objective="sharpe * (1 - max_drawdown)", min_trades=0)
    vals = [r.objective for r in custom.rows if r.objective is not None]
    assert vals == sorted(vals, reverse=True)
    with pytest.raises(ParamError, match="not a metric"):
        Objective.parse("sharpe + alpha")


def test_random_and_bayes_stay_on_the_constrained_grid() -> None:
    bars = random_bars(600, 3)
    st = _study(("fast=2:20:2", "slow=5:60:5"))
    r1 = search([bars], st, method="random", trials=15, seed=1, min_trades=0)
    r2 = search([bars], st, method="random", trials=15, seed=1, min_trades=0)
    assert [r.params for r in r1.rows] == [r.params for r in r2.rows] and len(r1.rows) == 15
    bay = search([bars], st, method="bayes", trials=20, seed=0, min_trades=0)
    assert 0 < len(bay.rows) <= 20
    assert all(r.params["fast"] < r.params["slow"] and r.params["fast"] % 2 == 0 for r in bay.rows)
    assert len({tuple(r.params.values()) for r in bay.rows}) == len(bay.rows)


def test_unknown_parameter_in_formula_is_refused() -> None:
    with pytest.raises(ParamError, match="not a declared parameter"):
        Study.from_text(ENTRY, "close < sma(close, {slowest})", ["fast=5:10", "slow=20:30"])


def test_walk_forward_windows_on_a_hand_checked_calendar() -> None:
    # 100 bars, 3 windows, IS = 3 × OOS: OOS = 100 // 6 = 16 bars, IS = 48, the first 4 bars unused
    assert windows(100, 3) == [WFWindow(4, 52, 68), WFWindow(20, 68, 84), WFWindow(36, 84, 100)]
    assert windows(100, 3, anchored=True) == [WFWindow(4, 52, 68), WFWindow(4, 68, 84), WFWindow(4, 84, 100)]
    assert windows(10, 1, is_ratio=1) == [WFWindow(0, 5, 10)]
    with pytest.raises(ParamError, match="too few"):
        windows(10, 5)


def test_walk_forward_stitches_oos_and_gives_a_verdict() -> None:
    bars = random_bars(1500, 11)
    st = _study()
    wf = walk_forward([bars], st, 3, min_trades=5)
    w = windows(1500, 3)
    assert [x.window for x in wf.windows] == w
    n_oos = sum(x.oos_end - x.oos_start for x in w)
    assert len(wf.oos_equity) == n_oos + 1 and wf.oos_equity[0] == 100000
    # the stitched curve's total return is the product of the windows' OOS total returns
    prod = math.prod(1 + (x.oos_metrics["total_return"] or 0) for x in wf.windows)
    assert wf.oos_equity[-1] / wf.oos_equity[0] == pytest.approx(prod, rel=1e-9)
    assert wf.deflated is not None and 0 <= wf.deflated.dsr <= 1
    assert wf.deflated.n_trials == 12
    assert wf.pbo is not None and 0 <= wf.pbo.pbo <= 1
    assert set(wf.stability) == {"fast", "slow"}
    assert "deflated Sharpe ratio" in wf.verdict()
