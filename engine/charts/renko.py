"""Renko bricks (StockCharts ChartSchool, "Renko Charts"), on closing prices.

Conventions:

* Box: a fixed price amount (``box``), or the ATR box: the last value of ``ATR(n)``
  (``engine.indicators.atr``, Wilder/TA-Lib, over the finite bars) used as a fixed box for the
  whole chart, as StockCharts does (a box that changed along the chart would make bricks of
  different heights).
* Anchor: the first brick is measured from the **first finite close** (not a multiple of the
  box): the levels are ``first close + k * box``.
* A new up brick is drawn when the close is at least one box above the top of the previous
  brick; a new down brick when it is at least one box below its bottom (so a reversal needs
  a move of two boxes from the previous brick's close, the classic rule). Reaching the
  threshold exactly counts (within 1e-9 of a box, to absorb binary rounding).
* A gap, or any close that moves several boxes at once, draws every brick it passes, all
  completed on that bar. Flat runs draw nothing.
* Each brick covers the source bars after the bar that completed the previous brick up to
  the bar that completed it (the first from bar 0); ``time`` is that range's first bar.
  Bricks completed on one bar after the first cover just that bar.
* Bars whose close is not finite are skipped (they stay inside the range of the brick being
  formed). One bar or empty input gives no bricks.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.charts import _backend
from engine.charts.elements import RenkoBricks, bound, columns, completed_ranges, count, grid, positive


def atr_box(bars: Any, n: int = 14) -> float:
    """The ATR box: the last ``ATR(n)`` of the bars' finite rows (price units).

    Raises ValueError for ``n`` outside 1..10000, or when there are not more than ``n`` finite
    bars (ATR has no value yet) or the ATR is 0 (every bar flat).
    """
    from engine.indicators import atr

    n = count("ATR period", n)
    h, lo, c = columns(bars, "high", "low", "close")
    ok = np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)
    finite = int(np.count_nonzero(ok))
    if finite <= n:
        raise ValueError(f"ATR({n}) needs more than {n} bars; these have {finite}")
    if finite < ok.shape[0]:  # copies only when some bar is not finite (1M bars: 24 MB less to copy)
        h, lo, c = h[ok], lo[ok], c[ok]
    value = float(atr(h, lo, c, n)[-1])
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"ATR({n}) of these bars is {value:g}: every bar is flat, choose a fixed box")
    return value


def renko(bars: Any, box: float | None = None, *, atr: int | None = None) -> RenkoBricks:
    """Renko bricks of ``bars`` with a fixed ``box`` (price units) or the ATR box of period
    ``atr`` (exactly one of the two); see the module docstring for the rules.

    Raises ValueError/TypeError for a missing, non-positive or non-finite box, both or neither
    of ``box``/``atr``, or a box so small it would make more than ``MAX_ELEMENTS`` bricks.
    """
    if (box is None) == (atr is None):
        raise ValueError("Renko needs a box size or an ATR period (one of the two)")
    size = positive("box", box) if box is not None else atr_box(bars, atr if atr is not None else 14)
    (c,) = columns(bars, "close")
    t = np.ascontiguousarray(bars.time, dtype=np.int64)
    fin = c[np.isfinite(c)]
    anchor = float(fin[0]) if fin.shape[0] else 0.0
    cap = bound("box", size, float(np.abs(np.diff(fin)).sum()) / size + 1 if fin.shape[0] else 0.0)
    k = np.empty(cap, dtype=np.int64)
    d = np.empty(cap, dtype=np.int8)
    bar = np.empty(cap, dtype=np.int64)
    m = int(_backend.loop("renko")(c, anchor, size, k, d, bar))
    if m < 0:  # pragma: no cover - the bound above is a proof, not an estimate
        raise RuntimeError("renko: output bound exceeded")
    k, d, bar = k[:m], d[:m], bar[:m]
    bottom, top = grid(k, size, anchor), grid(k + 1, size, anchor)
    up = d > 0
    start, stop = completed_ranges(bar)
    return RenkoBricks("renko", t[start], start, stop, np.where(up, bottom, top), top, bottom,
                       np.where(up, top, bottom), d, size)
