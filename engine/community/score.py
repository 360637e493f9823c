"""The composite strategy score: one published formula, used by the service to rank.

``composite_score`` turns a strategy's history — equity points (epoch s, equity) and closed
trades (exit epoch s, P&L) — plus its community figures into five components, each 0–100,
and their weighted sum. Nothing here is secret; the same text is in the README.

Components (``scale(x, lo, hi)`` = 100 × (x − lo) / (hi − lo), clipped to 0..100; the return
metrics are empyrical's, from ``engine.performance``; ``A`` = periods per year of the points):

* **performance** = scale(CAGR, −10 %, +40 %).
* **risk** = ½ (100 − scale(|max drawdown|, 0, 50 %)) + ½ (100 − scale(annual volatility, 0, 60 %)).
* **consistency** = 100 × the share of profitable blocks of returns, a block being a month's
  worth of periods (round(A / 12), at least 1); a history shorter than one block is one block.
* **efficiency** = ½ scale(Sharpe, 0, 3) + ½ scale(profit factor, 1, 3); without a losing trade
  the profit factor counts as 3 (when there are winners) or 1 (no trades).
* **community** = 0.6 × rating + 0.2 × clones + 0.2 × followers, with rating = 25 × (R − 1)
  for the Bayesian-shrunk mean rating R = (C·m + Σ ratings) / (C + n) (prior mean m = 3 stars,
  weight C = 5 ratings: a strategy with one 5-star rating is not above one with fifty 4.8s),
  clones = scale(log10(1 + clones), 0, 3) (1,000 clones = 100), followers likewise.

Total = Σ weight × component with ``WEIGHTS`` (performance 30 %, risk 25 %, consistency
20 %, efficiency 15 %, community 10 %).

Anti-overfitting: a strategy with fewer than ``MIN_TRADES`` (30) closed trades is not ranked.
The out-of-sample score is computed on live paper results when there are any (then the
in-sample score covers the whole backtest), otherwise on the last 30 % of the history (then
the in-sample score covers the first 70 %). The rank score is the out-of-sample total where one
exists, else the in-sample total.

Periods per year ``A``: the points' own rate, (points − 1) / the years they span (365.25-day
years), so daily bars give ≈ 252, and thinned or intraday points their own rate; CAGR is then
the calendar growth rate whatever the spacing.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.performance import annual_volatility, cagr, max_drawdown, sharpe_ratio

#: The published weights of the components (they sum to 1).
WEIGHTS: dict[str, float] = {"performance": 0.30, "risk": 0.25, "consistency": 0.20,
                             "efficiency": 0.15, "community": 0.10}
COMPONENTS = tuple(WEIGHTS)
MIN_TRADES = 30
OOS_FRACTION = 0.30
PRIOR_RATING = 3.0
PRIOR_WEIGHT = 5.0
YEAR_S = 365.25 * 86_400


@dataclass(frozen=True, slots=True)
class History:
    """Equity points and closed trades of one run (a backtest or live paper trading).

    ``times`` (epoch s, increasing) and ``equity`` (positive) per point; ``trade_times``
    (exit epoch s) and ``trade_pnl`` per closed trade (any money unit: only signs and
    ratios are used)."""

    times: Sequence[int] | npt.NDArray[Any]
    equity: Sequence[float] | npt.NDArray[Any]
    trade_times: Sequence[int] | npt.NDArray[Any] = ()
    trade_pnl: Sequence[float] | npt.NDArray[Any] = ()


@dataclass(frozen=True, slots=True)
class Community:
    """Ratings (whole stars 1..5), clone and follower counts."""

    ratings: Sequence[int] = ()
    clones: int = 0
    followers: int = 0


@dataclass(frozen=True, slots=True)
class Components:
    """One scored period: each component 0..100, the weighted total, and the metrics used."""

    performance: float
    risk: float
    consistency: float
    efficiency: float
    community: float
    total: float
    metrics: dict[str, float | int | None]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ScoreCard:
    """``in_sample`` and (when there is one) ``out_of_sample``; ``rank_score`` is what the
    leaderboard sorts by (None when not ranked, ``reason`` says why)."""

    in_sample: Components | None
    out_of_sample: Components | None
    oos_source: str | None  # "live", "holdout" or None
    trades: int
    ranked: bool
    rank_score: float | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"in_sample": self.in_sample.as_dict() if self.in_sample else None,
                "out_of_sample": self.out_of_sample.as_dict() if self.out_of_sample else None,
                "oos_source": self.oos_source, "trades": self.trades, "ranked": self.ranked,
                "rank_score": self.rank_score, "reason": self.reason, "weights": dict(WEIGHTS)}


def scale(x: float, lo: float, hi: float) -> float:
    """100 × (x − lo) / (hi − lo) clipped to 0..100; NaN → 0, ±inf → the bound."""
    if math.isnan(x):
        return 0.0
    return float(min(100.0, max(0.0, 100.0 * (x - lo) / (hi - lo))))


def periods_per_year(times: npt.NDArray[np.int64]) -> float:
    """Returns per year of points at ``times`` (epoch s): (n − 1) / span in years; 252 for
    fewer than two points or no span."""
    if times.size < 2 or times[-1] <= times[0]:
        return 252.0
    years = float(times[-1] - times[0]) / YEAR_S
    return float((times.size - 1) / years)


def community_component(c: Community) -> float:
    """0.6 × shrunk rating + 0.2 × clones + 0.2 × followers (module docstring)."""
    ratings = [int(r) for r in c.ratings]
    if any(r < 1 or r > 5 for r in ratings):
        raise ValueError("ratings are whole stars from 1 to 5")
    if c.clones < 0 or c.followers < 0:
        raise ValueError("clone and follower counts cannot be negative")
    mean = (PRIOR_WEIGHT * PRIOR_RATING + sum(ratings)) / (PRIOR_WEIGHT + len(ratings))
    rating = 25.0 * (mean - 1.0)
    clones = scale(math.log10(1 + c.clones), 0, 3)
    followers = scale(math.log10(1 + c.followers), 0, 3)
    return 0.6 * rating + 0.2 * clones + 0.2 * followers


def _arrays(h: History) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64],
                                 npt.NDArray[np.float64]]:
    t = np.asarray(h.times, dtype=np.int64).reshape(-1)
    e = np.asarray(h.equity, dtype=np.float64).reshape(-1)
    tt = np.asarray(h.trade_times, dtype=np.int64).reshape(-1)
    tp = np.asarray(h.trade_pnl, dtype=np.float64).reshape(-1)
    if t.size != e.size:
        raise ValueError(f"{t.size} times for {e.size} equity points")
    if tt.size != tp.size:
        raise ValueError(f"{tt.size} trade times for {tp.size} trade results")
    if not np.all(np.isfinite(e)) or np.any(e <= 0):
        raise ValueError("equity points must be finite and positive")
    if not np.all(np.isfinite(tp)):
        raise ValueError("trade results must be finite")
    if t.size > 1 and np.any(np.diff(t) <= 0):
        raise ValueError("equity point times must increase")
    return t, e, tt, tp


def score_period(h: History, community: float) -> Components | None:
    """The components of one period (``community`` already computed); None below two points."""
    t, e, _, pnl = _arrays(h)
    if e.size < 2:
        return None
    r = e[1:] / e[:-1] - 1.0
    a = periods_per_year(t)
    growth = cagr(r, a)
    mdd = abs(max_drawdown(r))
    vol = annual_volatility(r, a) if r.size > 1 else 0.0
    vol = 0.0 if math.isnan(vol) else vol
    sr = sharpe_ratio(r, 0.0, a) if r.size > 1 else math.nan
    wins, losses = float(pnl[pnl > 0].sum()), float(-pnl[pnl < 0].sum())
    pf = wins / losses if losses > 0 else (3.0 if wins > 0 else 1.0)
    block = max(1, round(a / 12))
    full = r.size // block
    blocks = [r] if full == 0 else [r[k * block:(k + 1) * block] for k in range(full)]
    positive = sum(1 for b in blocks if float(np.prod(1 + b)) > 1.0)
    perf = scale(growth, -0.10, 0.40)
    risk = 0.5 * (100 - scale(mdd, 0, 0.50)) + 0.5 * (100 - scale(vol, 0, 0.60))
    cons = 100.0 * positive / len(blocks)
    eff = 0.5 * scale(sr if not math.isnan(sr) else 0.0, 0, 3) + 0.5 * scale(pf, 1, 3)
    parts = {"performance": perf, "risk": risk, "consistency": cons, "efficiency": eff, "community": community}
    total = sum(WEIGHTS[k] * v for k, v in parts.items())

    def fin(x: float) -> float | None:
        return x if math.isfinite(x) else None
    metrics: dict[str, float | int | None] = {
        "cagr": fin(growth), "max_drawdown": mdd, "volatility": vol, "sharpe": fin(sr),
        "profit_factor": fin(wins / losses) if losses > 0 else None,
        "win_rate": float(np.mean(pnl > 0)) if pnl.size else None, "trades": int(pnl.size),
        "total_return": float(e[-1] / e[0] - 1), "periods_per_year": a,
    }
    return Components(perf, risk, cons, eff, community, total, metrics)


def _cut(h: History, start_s: int | None, end_s: int | None) -> History:
    t, e, tt, tp = _arrays(h)
    m = np.ones(t.size, bool)
    mt = np.ones(tt.size, bool)
    if start_s is not None:
        m &= t >= start_s
        mt &= tt > start_s
    if end_s is not None:
        m &= t <= end_s
        mt &= tt <= end_s
    return History(t[m], e[m], tt[mt], tp[mt])


def window(h: History, start_s: int) -> History:
    """The part of ``h`` from ``start_s`` on (points at or after it; trades closed after it)."""
    return _cut(h, start_s, None)


def composite_score(backtest: History, community: Community = Community(), live: History | None = None,
                    *, min_trades: int = MIN_TRADES, oos_fraction: float = OOS_FRACTION) -> ScoreCard:
    """Score a strategy (module docstring): in-sample and out-of-sample components, whether
    it is ranked and its rank score.

    Raises ``ValueError`` for malformed histories (times not increasing, equity not positive,
    mismatched lengths) or ratings outside 1..5.
    """
    if not 0 < oos_fraction < 1:
        raise ValueError("the out-of-sample fraction must be between 0 and 1")
    comm = community_component(community)
    t, _, tt, _ = _arrays(backtest)
    trades = int(tt.size)
    oos: Components | None = None
    source: str | None = None
    if live is not None and len(live.times) >= 2:
        ins = score_period(backtest, comm)
        oos = score_period(live, comm)
        source = "live" if oos is not None else None
        trades += len(live.trade_times)
    elif t.size >= 4:
        k = int(math.floor((t.size - 1) * (1 - oos_fraction)))
        split = int(t[k])
        ins = score_period(_cut(backtest, None, split), comm)
        oos = score_period(_cut(backtest, split, None), comm)
        source = "holdout" if oos is not None else None
    else:
        ins = score_period(backtest, comm)
    if trades < min_trades:
        return ScoreCard(ins, oos, source, trades, False, None,
                         f"{trades} closed trades; at least {min_trades} are needed to be ranked")
    best = oos if oos is not None else ins
    if best is None:
        return ScoreCard(ins, oos, source, trades, False, None, "fewer than two equity points")
    return ScoreCard(ins, oos, source, trades, True, best.total, "")
