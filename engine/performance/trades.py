"""Trade statistics over closed round trips, overall and broken down by group.

Inputs are parallel float arrays, one value per round trip in exit-time order: ``pnl`` the
net P&L (after fees) in money, ``r`` the R-multiple (NaN when the trip had no stop).

Definitions:

* a **win** is a trip with pnl > 0, a **loss** pnl < 0; a trip at exactly 0 is *breakeven*:
  it counts in ``n`` but is neither, and it ends both streaks.
* **win rate** = wins / n (all trips, breakeven included); NaN when n = 0.
* **profit factor** = Σ winning pnl / |Σ losing pnl|; +inf with wins and no losses, NaN
  with neither.
* **expectancy** = mean pnl per trip (money); **average win** = mean pnl of wins,
  **average loss** = mean pnl of losses (negative); **payoff ratio** = average win /
  |average loss| (NaN without both).
* **longest win / loss streak**: the longest run of consecutive wins (losses) in the order
  given (exit-time order).
* **R**: count of trips with an R, mean, median, sum, and the histogram of ``r_histogram``.

``group_stats`` computes the same numbers for many groups at once with ``np.bincount``
(a trip may belong to several groups: pass one (row, group) pair per membership).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Default R histogram edges: ≤ −3 R, half-R bins to +5 R, ≥ +5 R.
R_EDGES: tuple[float, ...] = tuple(np.arange(-3.0, 5.01, 0.5).tolist())


@dataclass(frozen=True, slots=True)
class TradeStats:
    """Statistics of a set of round trips (definitions in the module docstring). Money in
    the journal's currency; rates are fractions (0.61 = 61 %)."""

    n: int
    wins: int
    losses: int
    net_pnl: float
    gross_profit: float
    gross_loss: float
    win_rate: float
    profit_factor: float
    expectancy: float
    avg_win: float
    avg_loss: float
    payoff_ratio: float
    max_win_streak: int
    max_loss_streak: int
    r_count: int
    r_mean: float
    r_median: float
    r_total: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _f(values: npt.ArrayLike | Sequence[float], what: str, allow_nan: bool) -> FloatArray:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional")
    bad = np.isinf(a) if allow_nan else ~np.isfinite(a)
    if bad.any():
        raise ValueError(f"{what} must be finite: position {int(np.flatnonzero(bad)[0])} is {a[bad][0]}")
    return a


def _ratio(num: npt.NDArray[Any], den: npt.NDArray[Any]) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.asarray(num, dtype=np.float64) / np.asarray(den, dtype=np.float64)
    return out


def _streaks(sign: npt.NDArray[np.int8], group: IntArray, n_groups: int) -> tuple[IntArray, IntArray]:
    """Longest run of +1 (wins) and of −1 (losses) per group; rows sorted by group, in order."""
    win = np.zeros(n_groups, dtype=np.int64)
    loss = np.zeros(n_groups, dtype=np.int64)
    if sign.size == 0:
        return win, loss
    brk = np.ones(sign.size, dtype=bool)
    brk[1:] = (sign[1:] != sign[:-1]) | (group[1:] != group[:-1])
    starts = np.flatnonzero(brk)
    lengths = np.diff(np.append(starts, sign.size))
    run_sign = sign[starts]
    run_group = group[starts]
    w = run_sign == 1
    np.maximum.at(win, run_group[w], lengths[w])
    lo = run_sign == -1
    np.maximum.at(loss, run_group[lo], lengths[lo])
    return win, loss


def _by_group(group: IntArray, n_groups: int) -> IntArray:
    """Stable order of rows by group: radix sort on small integer keys (much faster than a
    lexsort for the few hundred groups a journal has)."""
    key = group.astype(np.int16) if n_groups < 2**15 else group
    return np.argsort(key, kind="stable")


def r_ranks(r: FloatArray) -> IntArray:
    """Rank of each trip's R among the present ones (−1 for NaN): computed once per journal,
    it lets ``group_stats`` take medians with an integer sort instead of a float sort."""
    ranks = np.full(r.size, -1, dtype=np.int64)
    ok = np.flatnonzero(~np.isnan(r))
    ranks[ok[np.argsort(r[ok], kind="stable")]] = np.arange(ok.size)
    return ranks


def _group_medians(r: FloatArray, rank: IntArray, rows: IntArray, group: IntArray,
                   n_groups: int) -> FloatArray:
    out = np.full(n_groups, math.nan)
    rk = rank[rows]
    ok = rk >= 0
    if not ok.any():
        return out
    by_rank = np.empty(r.size, dtype=np.float64)
    by_rank[rank[rank >= 0]] = r[rank >= 0]
    span = int(r.size) + 1
    key = np.sort(group[ok] * span + rk[ok])
    g = key // span
    v = by_rank[key % span]
    cnt = np.bincount(g, minlength=n_groups)
    start = np.concatenate(([0], np.cumsum(cnt)[:-1]))
    has = cnt > 0
    lo = start[has] + (cnt[has] - 1) // 2
    hi = start[has] + cnt[has] // 2
    out[has] = (v[lo] + v[hi]) / 2.0
    return out


def group_stats(pnl: npt.ArrayLike | Sequence[float], r: npt.ArrayLike | Sequence[float] | None,
                rows: npt.ArrayLike, groups: npt.ArrayLike, n_groups: int,
                ranks: IntArray | None = None) -> list[TradeStats]:
    """``TradeStats`` for each of ``n_groups`` groups; membership given as parallel arrays
    ``rows`` (index into pnl/r) and ``groups`` (0 … n_groups − 1), in exit-time order of rows.
    ``ranks``: ``r_ranks(r)`` when the caller computes many breakdowns of the same trips.

    Raises ``ValueError`` for non-finite pnl, infinite R, or group indices out of range.
    """
    p = _f(pnl, "pnl", allow_nan=False)
    rr = np.full(p.size, math.nan) if r is None else _f(r, "r", allow_nan=True)
    if rr.size != p.size:
        raise ValueError("pnl and r must have the same length")
    ri = np.asarray(rows, dtype=np.int64)
    gi = np.asarray(groups, dtype=np.int64)
    if ri.shape != gi.shape or ri.ndim != 1:
        raise ValueError("rows and groups must be one-dimensional and of equal length")
    if gi.size and (gi.min() < 0 or gi.max() >= n_groups):
        raise ValueError(f"group indices must be in 0 … {n_groups - 1}")
    if ri.size and (ri.min() < 0 or ri.max() >= p.size):
        raise ValueError("row indices must index pnl")
    if ri.size > 1 and (np.diff(ri) < 0).any():
        order = np.lexsort((ri, gi))  # by group, then by row (= exit-time order)
    else:
        order = _by_group(gi, n_groups)
    ri, gi = ri[order], gi[order]
    v = p[ri]
    rv = rr[ri]
    win = v > 0
    los = v < 0
    n = np.bincount(gi, minlength=n_groups)
    wins = np.bincount(gi, weights=win, minlength=n_groups).astype(np.int64)
    losses = np.bincount(gi, weights=los, minlength=n_groups).astype(np.int64)
    net = np.bincount(gi, weights=v, minlength=n_groups)
    gp = np.bincount(gi, weights=np.where(win, v, 0.0), minlength=n_groups)
    gl = np.bincount(gi, weights=np.where(los, v, 0.0), minlength=n_groups)
    has_r = ~np.isnan(rv)
    r_n = np.bincount(gi, weights=has_r, minlength=n_groups).astype(np.int64)
    r_sum = np.bincount(gi, weights=np.where(has_r, rv, 0.0), minlength=n_groups)
    r_med = _group_medians(rr, r_ranks(rr) if ranks is None else ranks, ri, gi, n_groups)
    sign = np.sign(v).astype(np.int8)
    ws, ls = _streaks(sign, gi, n_groups)
    nf = n.astype(np.float64)
    win_rate = _ratio(wins.astype(np.float64), nf)
    pf = _ratio(gp, 0.0 - gl)  # not -gl: -(0.0) is -0.0 and would make "no losses" -inf
    expectancy = _ratio(net, nf)
    avg_win = _ratio(gp, wins.astype(np.float64))
    avg_loss = _ratio(gl, losses.astype(np.float64))
    payoff = _ratio(avg_win, -avg_loss)
    r_mean = _ratio(r_sum, r_n.astype(np.float64))
    cols = zip(n.tolist(), wins.tolist(), losses.tolist(), net.tolist(), gp.tolist(), gl.tolist(),
               win_rate.tolist(), pf.tolist(), expectancy.tolist(), avg_win.tolist(),
               avg_loss.tolist(), payoff.tolist(), ws.tolist(), ls.tolist(), r_n.tolist(),
               r_mean.tolist(), r_med.tolist(), r_sum.tolist())
    return [TradeStats(*c) for c in cols]


def trade_stats(pnl: npt.ArrayLike | Sequence[float],
                r: npt.ArrayLike | Sequence[float] | None = None) -> TradeStats:
    """``TradeStats`` of all trips (pnl net of fees in exit-time order; r NaN when unknown).

    Raises ``ValueError`` for non-finite pnl or infinite R.
    """
    p = _f(pnl, "pnl", allow_nan=False)
    rows = np.arange(p.size, dtype=np.int64)
    return group_stats(p, r, rows, np.zeros(p.size, dtype=np.int64), 1)[0]


def r_histogram(r: npt.ArrayLike | Sequence[float],
                edges: Sequence[float] = R_EDGES) -> list[tuple[float, float, int]]:
    """Counts of R-multiples in bins ``[edges[i], edges[i+1])``, plus an open bin below the
    first edge (−inf) and one from the last edge up (+inf). NaN R (no stop) is left out.

    Returns (low, high, count) triples. Raises ``ValueError`` for unsorted edges or infinite R.
    """
    rr = _f(r, "r", allow_nan=True)
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < 1 or not np.isfinite(e).all() or (np.diff(e) <= 0).any():
        raise ValueError("edges must be finite and strictly increasing")
    x = rr[~np.isnan(rr)]
    idx = np.searchsorted(e, x, side="right")  # 0: below edges[0]; len(e): ≥ last edge
    counts = np.bincount(idx, minlength=e.size + 1)
    bounds = np.concatenate(([-math.inf], e, [math.inf]))
    return [(float(bounds[i]), float(bounds[i + 1]), int(counts[i])) for i in range(e.size + 1)]


Label = str | Sequence[str] | None

WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def encode_labels(labels: Sequence[Label]) -> tuple[IntArray, IntArray, list[str]]:
    """(rows, groups, names) memberships of per-trip labels: a string (one group), a
    sequence of strings (several groups; repeats count once), or None (no group).

    Raises ``ValueError`` for a label that is not a string."""
    codes: dict[str, int] = {}
    rows: list[int] = []
    groups: list[int] = []
    for i, lab in enumerate(labels):
        if lab is None:
            continue
        if isinstance(lab, str):
            rows.append(i)
            groups.append(codes.setdefault(lab, len(codes)))
            continue
        for name in dict.fromkeys(lab):
            if not isinstance(name, str):
                raise ValueError(f"labels must be strings, not {type(name).__name__} (trip {i})")
            rows.append(i)
            groups.append(codes.setdefault(name, len(codes)))
    return (np.asarray(rows, dtype=np.int64), np.asarray(groups, dtype=np.int64), list(codes))


def breakdown(pnl: npt.ArrayLike | Sequence[float], r: npt.ArrayLike | Sequence[float] | None,
              labels: Sequence[Label]) -> dict[str, TradeStats]:
    """``TradeStats`` per label (tag, emotion, setup, symbol, …), in first-seen order.

    ``labels[i]`` belongs to trip ``i`` (see ``encode_labels``). Raises ``ValueError`` when
    lengths differ or values are invalid.
    """
    p = _f(pnl, "pnl", allow_nan=False)
    if len(labels) != p.size:
        raise ValueError(f"one label per trip is needed ({p.size}), not {len(labels)}")
    rows, groups, names = encode_labels(labels)
    return dict(zip(names, group_stats(p, r, rows, groups, len(names))))


def coded_breakdown(pnl: npt.ArrayLike | Sequence[float], r: npt.ArrayLike | Sequence[float] | None,
                    codes: npt.ArrayLike, names: Sequence[str],
                    ranks: IntArray | None = None) -> dict[str, TradeStats]:
    """``TradeStats`` per integer code (``codes[i]`` in 0 … len(names) − 1, or −1 for none),
    keyed by ``names``; groups without trips are left out. Raises ``ValueError`` on bad codes."""
    c = np.asarray(codes, dtype=np.int64)
    rows = np.flatnonzero(c >= 0)
    stats = group_stats(pnl, r, rows, c[rows], len(names), ranks)
    return {names[i]: s for i, s in enumerate(stats) if s.n}


def local_time_parts(times_ms: npt.ArrayLike, tz: str | None = None) -> tuple[IntArray, IntArray, IntArray]:
    """(day number, weekday, hour) of epoch-millisecond times in time zone ``tz`` (IANA name,
    None = UTC). Day number counts local calendar days from 1970-01-01 (0); weekday 0 = Monday.

    Raises ``ValueError`` for an unknown time zone.
    """
    t = np.asarray(times_ms, dtype=np.int64)
    if tz is not None and tz.upper() != "UTC":
        import pandas as pd  # only for zone rules (DST); UTC needs none

        try:
            idx = pd.DatetimeIndex(t.astype("datetime64[ms]")).tz_localize("UTC").tz_convert(tz)
        except Exception as exc:  # noqa: BLE001 - pandas/zoneinfo raise several kinds
            raise ValueError(f"unknown time zone {tz!r}") from exc
        t = np.asarray(idx.tz_localize(None).as_unit("ms").asi8, dtype=np.int64)  # wall-clock ms
    day = np.floor_divide(t, 86_400_000)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
    hour = np.floor_divide(t - day * 86_400_000, 3_600_000)
    return day, weekday, hour
