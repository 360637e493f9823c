"""Range bars: every bar spans the same price range, whatever the time (after Vicente
Nicolellis; ChartSchool has no article, so TradingView's rules are followed).

Conventions:

* A range bar opens where the previous one closed (the first at the first bar's open); it
  grows until price moves more than ``size`` from its low (it then closes at low + size) or
  from its high (closes at high - size), and the next bar opens at that close. Every
  finished bar has high - low = ``size`` exactly; reaching exactly ``size`` does not start a
  new bar, going beyond it does. The last bar is the one in progress (may be shorter).
* Inside a source bar price is assumed to go open → low → high → close when the bar closes at
  or above its open, else open → high → low → close (the usual assumption without ticks).
* A gap between one bar's close and the next open is filled with full range bars, as if price
  had traded through it; flat runs draw nothing new.
* Each range bar covers the source bars from the one it opened on to the last one that added
  a price to it (``stop`` is one past that): a source bar that finishes one range bar and
  opens the next belongs to both. Bars with a non-finite price are skipped.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.charts import _backend
from engine.charts.elements import Elements, bound, columns, positive


def range_bars(bars: Any, size: float) -> Elements:
    """Range bars of ``bars`` with range ``size`` (price units). Raises ValueError/TypeError
    for a size that is not a positive finite number or so small it would make more than
    ``MAX_ELEMENTS`` bars."""
    r = positive("range", size)
    o, h, lo, c = columns(bars, "open", "high", "low", "close")
    t = np.ascontiguousarray(bars.time, dtype=np.int64)
    ok = np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)
    fo, fh, fl, fc = o[ok], h[ok], lo[ok], c[ok]
    travel = float((np.abs(fo[1:] - fc[:-1]).sum() + 3 * (fh - fl).sum()) if fo.shape[0] else 0.0)
    cap = bound("range", r, travel / r + fo.shape[0])
    oo, oh, ol, oc = (np.empty(cap) for _ in range(4))
    first, last = np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64)
    m = int(_backend.loop("range_bars")(o, h, lo, c, r, oo, oh, ol, oc, first, last))
    if m < 0:  # pragma: no cover - the bound is a proof: each bar needs `size` of travel
        raise RuntimeError("range bars: output bound exceeded")
    start, stop = first[:m], last[:m] + 1
    return Elements("range", t[start], start, stop, oo[:m], oh[:m], ol[:m], oc[:m])
