"""Kagi lines (StockCharts ChartSchool, "Kagi Charts"), on closing prices.

Conventions:

* Reversal: a fixed price amount, or a percentage of the line's extreme (the highest close of
  an up line, the lowest of a down line).
* The line starts at the first finite close; the first line is drawn once a close has moved
  the reversal amount from it (up or down).
* While closes go on in the line's direction the line extends to them; when a close moves
  against it by the reversal amount **or more** (exactly the amount reverses) a new line
  starts at the old line's extreme and goes to that close. Smaller moves against the line,
  flat runs and gaps in time draw nothing; a gap in price extends or reverses the line in one
  step like any close.
* Thickness: the first line is yang (thick) if it rises, yin (thin) if it falls. A line
  turns yang when it rises above the previous shoulder (the top of the last up line; the first
  line's start counts as a waist/shoulder) and yin when it falls below the previous waist (the
  bottom of the last down line). ``yang`` is the thickness at the line's end, ``switch`` the
  price where it changed within the line (NaN when it did not).
* Each line covers the source bars from the bar where it started (the first from bar 0) up to
  the bar before the next line starts; ``time`` is its first bar. The last line is the one in
  progress. Bars with a non-finite close are skipped. One bar or empty input gives no line.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.charts import _backend
from engine.charts.elements import KagiLines, columns, opened_ranges, positive


def kagi(bars: Any, reversal: float, *, percent: bool = False) -> KagiLines:
    """Kagi lines of ``bars``; ``reversal`` in price units, or in percent (4 = 4 %) of the
    line's extreme when ``percent``. Raises ValueError/TypeError for a reversal that is not a
    positive finite number (or 100 % or more with ``percent``)."""
    rev = positive("reversal", reversal)
    if percent and rev >= 100:
        raise ValueError(f"a percentage reversal must be below 100 %, not {reversal!r}")
    (c,) = columns(bars, "close")
    t = np.ascontiguousarray(bars.time, dtype=np.int64)
    n = c.shape[0]
    cap = max(n, 1)
    op, cl, sw = np.empty(cap), np.empty(cap), np.empty(cap)
    bar = np.empty(cap, dtype=np.int64)
    yang = np.empty(cap, dtype=np.int8)
    m = int(_backend.loop("kagi")(c, rev / 100 if percent else rev, percent, op, cl, bar, yang, sw))
    op, cl, sw, bar, yang = op[:m], cl[:m], sw[:m], bar[:m], yang[:m]
    start, stop = opened_ranges(bar, n)
    return KagiLines("kagi", t[start], start, stop, op, np.maximum(op, cl), np.minimum(op, cl), cl,
                     yang.astype(bool), sw)
