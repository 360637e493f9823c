"""Line Break lines (StockCharts ChartSchool, "Three Line Break Charts"), on closing prices.

Conventions:

* The first line is drawn from the first finite close to the first close that differs
  from it.
* A close above the top of the last line draws a new up line from that top to the close
  (after down lines this is a reversal only if it also breaks the test below); a close below
  the bottom of the last line draws a new down line from that bottom.
* Reversal: after up lines, a down line needs a close **below the lowest price of the last
  ``lines`` lines** (default 3; fewer when fewer exist); it is drawn from the bottom of the
  last up line to the close. After down lines, an up line needs a close above the highest
  price of the last ``lines`` lines, drawn from the top of the last down line.
* A close equal to a line's top or bottom (or to the break level) draws nothing: it must
  exceed it. Flat runs draw nothing; a gap is one line to the close.
* Each line covers the source bars after the bar of the previous line up to its own bar
  (the first from bar 0); ``time`` is that range's first bar. Bars with a non-finite close
  are skipped. One bar or empty input gives no line.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.charts import _backend
from engine.charts.elements import Elements, columns, completed_ranges, count


def line_break(bars: Any, lines: int = 3) -> Elements:
    """Line Break lines of ``bars``; ``lines`` (1..100) is how many lines a reversal must
    break. Raises ValueError/TypeError for ``lines`` out of range."""
    n_lines = count("lines", lines, 1, 100)
    (c,) = columns(bars, "close")
    t = np.ascontiguousarray(bars.time, dtype=np.int64)
    cap = max(c.shape[0], 1)
    op, cl = np.empty(cap), np.empty(cap)
    bar = np.empty(cap, dtype=np.int64)
    m = int(_backend.loop("line_break")(c, n_lines, op, cl, bar))
    op, cl, bar = op[:m], cl[:m], bar[:m]
    start, stop = completed_ranges(bar)
    return Elements("linebreak", t[start], start, stop, op, np.maximum(op, cl), np.minimum(op, cl), cl)
