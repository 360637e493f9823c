"""Walk-forward analysis: optimise in sample, test out of sample, stitch the OOS equity.

Windows are on the bar calendar (bar indices, so weekends and holidays are simply absent).
With ``n`` bars, ``k`` windows and an in-sample length ``r`` times the out-of-sample length
(``is_ratio``, default 3), each OOS block has ``L = n // (k + r)`` bars and the IS block
``r·L`` bars; the first bars that do not fit are left out so the last OOS block ends at the
last bar. **Rolling**: window j has IS [s + jL, s + jL + rL) and OOS [s + jL + rL, s + jL + rL + L).
**Anchored**: the IS block always starts at s (it grows by L each window).

For each window the search runs on the IS bars; its best point (enough trades, best
objective) is backtested on the OOS bars with the IS bars as indicator warm-up and entries
allowed only in the OOS block. The OOS returns are chained into one equity curve.

The verdict covers the whole search: the same search over all the bars, whose every trial
gives a per-bar return series; the deflated Sharpe ratio of its best trial (Bailey &
López de Prado 2014) and the PBO by CSCV over the trials' returns (Bailey et al. 2015).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.data.bars import Bars
from engine.research.params import ParamError, Params
from engine.research.search import (
    MIN_TRADES, Executor, Objective, SearchResult, Study, Window, run_point, search, segment_metrics,
)
from engine.research.stats import DeflatedSharpe, PBO, deflated_sharpe_of, pbo_cscv


@dataclass(frozen=True, slots=True)
class WFWindow:
    """Bar indices, half-open: in-sample [is_start, is_end), out-of-sample [is_end, oos_end)."""

    is_start: int
    is_end: int
    oos_end: int

    @property
    def oos_start(self) -> int:
        return self.is_end


def windows(n_bars: int, n_windows: int, *, is_ratio: int = 3, anchored: bool = False) -> list[WFWindow]:
    """The walk-forward windows over ``n_bars`` bars (see the module docstring).

    Raises ``ParamError`` for fewer than 1 window, a ratio below 1, or windows of fewer than
    2 out-of-sample bars.
    """
    for what, v, lo in (("bars", n_bars, 1), ("windows", n_windows, 1), ("the in-sample ratio", is_ratio, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ParamError(f"{what} must be a whole number ≥ {lo}, not {v!r}")
    oos = n_bars // (n_windows + is_ratio)
    if oos < 2:
        raise ParamError(f"{n_bars} bars are too few for {n_windows} walk-forward windows "
                         f"(each out-of-sample block would have {oos} bars)")
    ins = is_ratio * oos
    s = n_bars - (n_windows * oos + ins)
    out = []
    for j in range(n_windows):
        is_end = s + ins + j * oos
        out.append(WFWindow(s if anchored else s + j * oos, is_end, is_end + oos))
    return out


@dataclass(frozen=True, slots=True)
class WindowResult:
    window: WFWindow
    params: Params
    is_objective: float | None
    oos_objective: float | None
    is_metrics: dict[str, float | None]
    oos_metrics: dict[str, float | None]


@dataclass(frozen=True, slots=True)
class WalkForward:
    """Per-window results, the stitched OOS equity, and the verdict on the whole search."""

    windows: list[WindowResult]
    oos_equity: np.ndarray  # dollars, starting at the study's cash, one point per OOS bar (+1)
    oos_time: np.ndarray
    oos_metrics: dict[str, float | None]
    degradation: float | None  # 1 − mean OOS objective / mean IS objective
    stability: dict[str, dict[str, float]]
    full: SearchResult
    deflated: DeflatedSharpe | None
    pbo: PBO | None
    notes: list[str]

    def verdict(self) -> str:
        """One sentence a trader can act on."""
        bits = []
        if self.deflated is not None:
            bits.append(f"deflated Sharpe ratio {self.deflated.dsr:.2f} over {self.deflated.n_trials} trials")
        if self.pbo is not None:
            bits.append(f"probability of backtest overfitting {self.pbo.pbo:.0%}")
        ok = (self.deflated is not None and self.deflated.dsr >= 0.95
              and (self.pbo is None or self.pbo.pbo <= 0.5))
        head = "likely a real edge" if ok else "not distinguishable from luck"
        return f"{head}: " + ", ".join(bits) if bits else head


def walk_forward(data: Sequence[Bars], study: Study, n_windows: int, *, objective: str = "sharpe",
                 method: str = "grid", trials: int = 100, seed: int = 0, min_trades: int = MIN_TRADES,
                 is_ratio: int = 3, anchored: bool = False, cscv_blocks: int = 16,
                 executor: Executor | None = None, shipped: Any = None,
                 progress: Callable[[int, int], None] | None = None) -> WalkForward:
    """Walk-forward analysis of ``study`` on ``data`` (all series with the same bar count).

    ``min_trades`` applies to the full-sample search; in-sample searches scale it by the IS
    share of the bars. Raises ``ParamError`` for bad windows or inputs and whatever
    ``search`` raises.
    """
    if not data:
        raise ParamError("no bars for the walk-forward analysis")
    n = min(len(b) for b in data)
    if any(len(b) != n for b in data):
        raise ParamError("walk-forward needs every symbol on the same bar calendar (same number of bars)")
    wins = windows(n, n_windows, is_ratio=is_ratio, anchored=anchored)
    obj = Objective.parse(objective)
    steps = n_windows + 1
    results: list[WindowResult] = []
    oos_returns: list[np.ndarray] = []
    oos_times: list[np.ndarray] = []
    notes: list[str] = []
    for j, w in enumerate(wins):
        is_trades = max(1, round(min_trades * (w.is_end - w.is_start) / n)) if min_trades else 0
        res = search(data, study, objective=objective, method=method, trials=trials, seed=seed + j,
                     min_trades=is_trades, window=Window(w.is_start, w.is_end, w.is_start),
                     executor=executor, shipped=shipped, progress=_scaled(progress, j, steps))
        best = res.best
        if best.flagged:
            notes.append(f"window {j + 1}: no point reached {is_trades} trades in sample; the best is used anyway")
        oos = run_point(data, study, best.params, Window(w.is_start, w.oos_end, w.oos_start))
        results.append(WindowResult(w, best.params, best.objective, obj.shown(oos.metrics), best.metrics,
                                    oos.metrics))
        oos_returns.append(oos.returns)
        oos_times.append(data[0].time[w.oos_start:w.oos_end])
    r = np.concatenate(oos_returns) if oos_returns else np.zeros(0)
    equity = float(study.cash) * np.concatenate([[1.0], np.cumprod(1 + r)])
    t = np.concatenate([data[0].time[wins[0].oos_start - 1:wins[0].oos_start], *oos_times])
    trades_oos = sum(int(x.oos_metrics.get("trades") or 0) for x in results)
    oos_m = segment_metrics(equity, t, [])
    oos_m["trades"] = float(trades_oos)
    oos_m["win_rate"] = oos_m["profit_factor"] = None
    is_vals = [x.is_objective for x in results if x.is_objective is not None]
    oos_vals = [x.oos_objective for x in results if x.oos_objective is not None]
    degradation = None
    if is_vals and oos_vals and np.mean(is_vals) != 0:
        degradation = float(1 - np.mean(oos_vals) / np.mean(is_vals))
    full = search(data, study, objective=objective, method=method, trials=trials, seed=seed,
                  min_trades=min_trades, executor=executor, shipped=shipped,
                  progress=_scaled(progress, n_windows, steps))
    deflated, pbo = _verdict(full, obj, cscv_blocks, notes)
    return WalkForward(results, equity, t, oos_m, degradation, stability(results, study), full, deflated,
                       pbo, notes)


def _scaled(progress: Callable[[int, int], None] | None, step: int,
            steps: int) -> Callable[[int, int], None] | None:
    """Progress of search ``step`` of ``steps`` (each ``total`` points) as progress of the whole."""
    if progress is None:
        return None
    cb = progress

    def f(done: int, total: int) -> None:
        cb(step * total + done, steps * total)
    return f


def _verdict(full: SearchResult, obj: Objective, blocks: int, notes: list[str]) -> tuple[DeflatedSharpe | None, PBO | None]:
    evs = full.evaluations
    by_key = {tuple(sorted(e.params.items())): e for e in evs}
    best = by_key[tuple(sorted(full.best.params.items()))]
    srs = []
    for e in evs:
        r = e.returns
        sd = float(np.std(r, ddof=1)) if r.size > 1 else 0.0
        srs.append(float(np.mean(r)) / sd if sd > 0 else math.nan)
    deflated = None
    try:
        deflated = deflated_sharpe_of(best.returns, np.asarray(srs))
    except ValueError as exc:
        notes.append(f"no deflated Sharpe ratio: {exc}")
    pbo = None
    if len(evs) >= 2:
        m = np.stack([e.returns for e in evs], axis=1)
        b = blocks
        while b > 2 and m.shape[0] < 2 * b:
            b -= 2
        try:
            pbo = pbo_cscv(m, b)
        except ValueError as exc:
            notes.append(f"no PBO: {exc}")
    else:
        notes.append("no PBO: it needs at least 2 trials")
    return deflated, pbo


def stability(results: Sequence[WindowResult], study: Study) -> dict[str, dict[str, float]]:
    """Per parameter: the share of windows that chose the most common value, and for numbers
    the coefficient of variation (std / |mean|) of the chosen values."""
    out: dict[str, dict[str, float]] = {}
    for p in study.space.params:
        vals = [x.params[p.name] for x in results]
        if not vals:
            continue
        mode_share = Counter(vals).most_common(1)[0][1] / len(vals)
        d: dict[str, float] = {"mode_share": float(mode_share)}
        if p.numeric:
            a = np.asarray(vals, dtype=np.float64)
            d["cv"] = float(np.std(a) / abs(np.mean(a))) if np.mean(a) != 0 else math.nan
        out[p.name] = d
    return out
