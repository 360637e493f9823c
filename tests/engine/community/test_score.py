"""The composite score on constructed histories whose answers are worked out by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.community.score import (
    MIN_TRADES, WEIGHTS, Community, History, community_component, composite_score, scale, score_period,
)

DAY = 86_400
STEP = 365.25 * DAY / 252  # 252 points a year


def _history(returns: list[float] | np.ndarray, trades: list[float] | None = None, start: float = 100.0) -> History:
    r = np.asarray(returns, dtype=float)
    eq = start * np.concatenate([[1.0], np.cumprod(1 + r)])
    t = (np.arange(eq.size) * STEP).astype(np.int64)
    pnl = np.asarray(trades if trades is not None else [1.0] * MIN_TRADES, dtype=float)
    tt = np.linspace(t[1], t[-1], pnl.size).astype(np.int64) if pnl.size else np.array([], np.int64)
    return History(t, eq, tt, pnl)


def test_weights_are_published_and_sum_to_one() -> None:
    assert WEIGHTS == {"performance": 0.30, "risk": 0.25, "consistency": 0.20, "efficiency": 0.15, "community": 0.10}
    assert math.isclose(sum(WEIGHTS.values()), 1.0)


def test_scale_clips_and_maps_nan_to_zero() -> None:
    assert scale(0.15, -0.10, 0.40) == pytest.approx(50.0)
    assert scale(-1.0, -0.10, 0.40) == 0.0 and scale(9.0, -0.10, 0.40) == 100.0
    assert scale(math.nan, 0, 1) == 0.0 and scale(math.inf, 0, 3) == 100.0


def test_steady_15_percent_a_year_scores_78() -> None:
    # 252 equal daily returns compounding to +15 %: CAGR 15 % → performance 50; no drawdown,
    # no volatility → risk 100; every month up → consistency 100; Sharpe ≥ 3 and only winning
    # trades → efficiency 100; no ratings, clones or followers → community 0.6 × 50 = 30.
    g = 1.15 ** (1 / 252) - 1
    c = score_period(_history([g] * 252), community_component(Community()))
    assert c is not None
    assert c.metrics["cagr"] == pytest.approx(0.15, abs=1e-12)
    assert c.performance == pytest.approx(50.0, abs=1e-9)
    assert c.risk == pytest.approx(100.0, abs=1e-6)
    assert c.consistency == 100.0 and c.efficiency == 100.0 and c.community == pytest.approx(30.0)
    assert c.total == pytest.approx(0.3 * 50 + 0.25 * 100 + 0.2 * 100 + 0.15 * 100 + 0.1 * 30, abs=1e-6)


def test_drawdown_and_volatility_enter_risk() -> None:
    # one fall of 20 % and a recovery; |MDD| = 20 % → 100 − 40 = 60 for the drawdown half
    r = [0.0] * 10 + [-0.2] + [0.0] * 10 + [0.25] + [0.0] * 10
    c = score_period(_history(r), 0.0)
    assert c is not None
    assert c.metrics["max_drawdown"] == pytest.approx(0.2)
    vol = float(np.std(r, ddof=1) * math.sqrt(c.metrics["periods_per_year"]))
    assert c.metrics["volatility"] == pytest.approx(vol)
    assert c.risk == pytest.approx(0.5 * 60 + 0.5 * (100 - scale(vol, 0, 0.6)))


def test_consistency_counts_profitable_months() -> None:
    # 6 months of 21 days: up, down, up, down, up, up → 4 of 6 profitable
    signs = [1, -1, 1, -1, 1, 1]
    r = np.concatenate([[0.001 * s] * 21 for s in signs])
    c = score_period(_history(r), 0.0)
    assert c is not None and c.consistency == pytest.approx(100 * 4 / 6)
    # a history shorter than a month is one block
    short = score_period(_history([0.01, -0.005]), 0.0)
    assert short is not None and short.consistency == 100.0


def test_efficiency_from_sharpe_and_profit_factor() -> None:
    rng = np.random.default_rng(7)
    r = rng.normal(0.0005, 0.01, 300)
    trades = [2.0, -1.0] * 15  # profit factor 30 / 15 = 2 → 50
    c = score_period(_history(r, trades), 0.0)
    assert c is not None
    a = c.metrics["periods_per_year"]
    assert a == pytest.approx(252, rel=1e-6)  # (points − 1) / years of 252 points a year
    sr = float(np.mean(r) / np.std(r, ddof=1) * math.sqrt(a))
    assert c.metrics["sharpe"] == pytest.approx(sr, rel=1e-9)
    assert c.metrics["profit_factor"] == pytest.approx(2.0)
    assert c.metrics["win_rate"] == pytest.approx(0.5)
    assert c.efficiency == pytest.approx(0.5 * scale(sr, 0, 3) + 0.5 * 50)


def test_community_shrinks_ratings_toward_three_stars() -> None:
    # one 5-star rating: (5·3 + 5) / 6 = 3.33 stars → 25 × 2.33 = 58.3; 999 clones → 100; 9 followers → 33.3
    got = community_component(Community([5], clones=999, followers=9))
    assert got == pytest.approx(0.6 * 25 * (20 / 6 - 1) + 0.2 * 100 + 0.2 * 100 / 3)
    few = community_component(Community([5]))
    many = community_component(Community([5] * 50))
    assert few < many < 0.6 * 100 + 1e-9
    # fifty 4.8s beat one 5
    assert community_component(Community([5, 5, 5, 5, 4] * 10)) > few
    with pytest.raises(ValueError):
        community_component(Community([6]))
    with pytest.raises(ValueError):
        community_component(Community(clones=-1))


def test_fewer_than_30_trades_are_not_ranked() -> None:
    g = [0.001] * 200
    card = composite_score(_history(g, [1.0] * 29))
    assert not card.ranked and card.rank_score is None and card.trades == 29 and "30" in card.reason
    assert card.in_sample is not None  # still scored, for display
    card = composite_score(_history(g, [1.0] * 30))
    assert card.ranked and card.rank_score is not None


def test_holdout_is_the_last_30_percent_and_ranks_the_leaderboard() -> None:
    # 100 returns (101 points): the split point is point 70; the first 70 returns rise, the rest fall
    r = [0.003] * 70 + [-0.002] * 30
    h = _history(r, [1.0] * 20 + [-1.0] * 10)
    card = composite_score(h)
    assert card.oos_source == "holdout" and card.in_sample and card.out_of_sample
    assert card.in_sample.metrics["total_return"] == pytest.approx(1.003 ** 70 - 1)
    assert card.out_of_sample.metrics["total_return"] == pytest.approx(0.998 ** 30 - 1)
    assert card.in_sample.metrics["trades"] + card.out_of_sample.metrics["trades"] == 30
    assert card.rank_score == card.out_of_sample.total < card.in_sample.total


def test_live_paper_results_are_the_out_of_sample_score() -> None:
    bt = _history([0.003] * 100)
    live = _history([0.0] * 5 + [0.001] * 15, [1.0, -1.0])
    card = composite_score(bt, live=live)
    assert card.oos_source == "live" and card.trades == MIN_TRADES + 2
    assert card.in_sample is not None and card.in_sample.metrics["total_return"] == pytest.approx(1.003 ** 100 - 1)
    assert card.out_of_sample is not None and card.rank_score == card.out_of_sample.total


def test_malformed_histories_are_refused() -> None:
    with pytest.raises(ValueError, match="increase"):
        composite_score(History([0, 0], [1.0, 2.0]))
    with pytest.raises(ValueError, match="positive"):
        composite_score(History([0, 1], [1.0, -2.0]))
    with pytest.raises(ValueError, match="times for"):
        composite_score(History([0, 1, 2], [1.0, 2.0]))
    with pytest.raises(ValueError, match="finite"):
        composite_score(History([0, 1], [1.0, 2.0], [1], [math.nan]))
