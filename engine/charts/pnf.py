"""Point & Figure columns (StockCharts ChartSchool, "Point & Figure Charting"), by the
**high/low method**.

Conventions:

* Boxes sit on multiples of the box size (0, box, 2·box, …): a high counts up to the box at
  or below it (``floor(high / box)``), a low down to the box at or above it
  (``ceil(low / box)``), both within 1e-9 of a box (binary rounding).
* In an X column, each bar's high is looked at first: a new X for every box it reaches above
  the column's top. Only if the high adds no box is the low looked at: a reversal to a new O
  column when the low reaches ``reversal`` boxes (default 3) **or more** below the top
  (exactly 3 reverses); the O column starts one box below the top. In an O column the other
  way round (low first, then the high for a reversal). So every column has at least
  ``reversal`` boxes and a gap fills every box it crosses at once.
* The first column: the reference is the box of the first bar's close; the first column is
  drawn when a high reaches ``reversal`` boxes above it (an X column from the box above the
  reference) or a low reaches ``reversal`` boxes below it (an O column from the box below);
  when one bar does both, the high wins.
* Each column covers the source bars from the bar that started it (the first from bar 0) up
  to the bar before the next starts; ``time`` is its first bar. Bars with a non-finite high
  or low are skipped. One bar or empty input gives no column unless that bar spans the
  reversal.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.charts import _backend
from engine.charts.elements import PnFColumns, bound, columns, count, grid, opened_ranges, positive


def point_and_figure(bars: Any, box: float, reversal: int = 3) -> PnFColumns:
    """Point & Figure columns of ``bars`` with ``box`` (price units) and ``reversal`` (boxes,
    1..100); see the module docstring. Raises ValueError/TypeError for a box that is not a
    positive finite number, a reversal out of range, or a box so small it would make more than
    ``MAX_ELEMENTS`` columns."""
    size = positive("box", box)
    rev = count("reversal", reversal, 1, 100)
    h, lo, c = columns(bars, "high", "low", "close")
    t = np.ascontiguousarray(bars.time, dtype=np.int64)
    n = h.shape[0]
    ok = np.isfinite(h) & np.isfinite(lo)
    span = float(np.nanmax(h[ok]) - np.nanmin(lo[ok])) if ok.any() else 0.0
    bound("box", size, span / size)  # refuses a box tiny against the prices
    cap = max(n, 1)  # at most one new column per bar
    kind = np.zeros(cap, dtype=np.int8)
    klo, khi, bar = (np.zeros(cap, dtype=np.int64) for _ in range(3))
    m = int(_backend.loop("pnf")(h, lo, c, size, rev, kind, klo, khi, bar))
    kind, klo, khi, bar = kind[:m], klo[:m], khi[:m], bar[:m]
    start, stop = opened_ranges(bar, n)
    return PnFColumns(t[start], start, stop, kind, grid(klo, size), grid(khi, size), size, rev)
