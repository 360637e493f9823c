"""Trade statistics by hand, and breakdowns against a pandas groupby."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine.performance.trades import breakdown, local_time_parts, r_histogram, trade_stats


def test_trade_stats_worked_by_hand() -> None:
    # pnl in exit order: W W L 0 L L W ; r known for four trips
    pnl = [100.0, 50.0, -40.0, 0.0, -20.0, -40.0, 30.0]
    r = [2.0, 1.0, -1.0, math.nan, -0.5, math.nan, 0.5]
    s = trade_stats(pnl, r)
    assert (s.n, s.wins, s.losses) == (7, 3, 3)
    assert s.win_rate == pytest.approx(3 / 7)          # breakeven counts in n
    assert s.net_pnl == pytest.approx(80.0)             # 180 − 100
    assert s.gross_profit == pytest.approx(180.0) and s.gross_loss == pytest.approx(-100.0)
    assert s.profit_factor == pytest.approx(1.8)        # 180 / 100
    assert s.expectancy == pytest.approx(80 / 7)
    assert s.avg_win == pytest.approx(60.0)             # 180 / 3
    assert s.avg_loss == pytest.approx(-100 / 3)
    assert s.payoff_ratio == pytest.approx(1.8)         # 60 / 33.33
    assert (s.max_win_streak, s.max_loss_streak) == (2, 2)  # W W ; L L (the 0 broke L·L·L)
    assert (s.r_count, s.r_total) == (5, pytest.approx(2.0))
    assert s.r_mean == pytest.approx(0.4) and s.r_median == pytest.approx(0.5)


def test_no_losses_and_empty() -> None:
    s = trade_stats([10.0, 5.0])
    assert s.profit_factor == math.inf and math.isnan(s.payoff_ratio)
    e = trade_stats([])
    assert e.n == 0 and math.isnan(e.win_rate) and math.isnan(e.profit_factor)
    with pytest.raises(ValueError, match="finite"):
        trade_stats([1.0, math.nan])


def test_breakdown_matches_pandas_groupby() -> None:
    rng = np.random.default_rng(2)
    n = 2000
    pnl = np.round(rng.normal(5, 100, n), 2)
    sym = rng.choice(["AAPL", "MSFT", "NVDA", "TSLA"], n)
    got = breakdown(pnl, None, list(sym))
    df = pd.DataFrame({"pnl": pnl, "sym": sym})
    g = df.groupby("sym")["pnl"]
    for name, s in got.items():
        x = df.pnl[df.sym == name]
        assert s.n == g.count()[name]
        assert s.net_pnl == pytest.approx(g.sum()[name], rel=1e-12)
        assert s.win_rate == pytest.approx((x > 0).mean(), rel=1e-12)
        assert s.profit_factor == pytest.approx(x[x > 0].sum() / -x[x < 0].sum(), rel=1e-12)
        # longest win streak inside the group, in order
        runs = (x > 0).astype(int).groupby(((x > 0) != (x > 0).shift()).cumsum()).sum()
        assert s.max_win_streak == runs.max()


def test_multi_label_membership_counts_once() -> None:
    got = breakdown([10.0, -5.0, 3.0], None, [("a", "b", "a"), "b", None])
    assert got["a"].n == 1 and got["b"].n == 2 and got["b"].net_pnl == 5.0
    assert set(got) == {"a", "b"}


def test_r_histogram_bins() -> None:
    bins = r_histogram([-5.0, -0.2, 0.0, 0.4, 9.0, math.nan], edges=[-1.0, 0.0, 1.0])
    assert bins == [(-math.inf, -1.0, 1), (-1.0, 0.0, 1), (0.0, 1.0, 2), (1.0, math.inf, 1)]


def test_local_time_parts_dst() -> None:
    # 2024-07-01 13:30 UTC = 09:30 in New York (EDT), a Monday
    t = int(pd.Timestamp("2024-07-01 13:30", tz="UTC").value // 1_000_000)
    day, wd, hour = local_time_parts(np.array([t]), "America/New_York")
    assert (int(wd[0]), int(hour[0])) == (0, 9)
    day_utc, _, hour_utc = local_time_parts(np.array([t]))
    assert int(hour_utc[0]) == 13 and int(day[0]) == int(day_utc[0])
    with pytest.raises(ValueError, match="time zone"):
        local_time_parts(np.array([t]), "Mars/Olympus")
