"""Heikin-Ashi candles (StockCharts ChartSchool, "Heikin-Ashi").

Conventions:

* HA close = (open + high + low + close) / 4 of the bar;
* HA open = (previous HA open + previous HA close) / 2; the first candle's open is
  (open + close) / 2 of the first bar;
* HA high = max(high, HA open, HA close), HA low = min(low, HA open, HA close).

One candle per source bar (``start = i``, ``stop = i + 1``). A bar with a non-finite price
gives a NaN candle and is skipped by the recursion: the next candle's open comes from the last
finite candle (a gap in the data is not a move). Empty input gives no candles.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.charts import _backend
from engine.charts.elements import Elements, columns


def heikin_ashi(bars: Any) -> Elements:
    """Heikin-Ashi candles of ``bars`` (``Bars`` or anything with time/open/high/low/close
    arrays), prices in the bars' units. Raises ValueError when the columns' lengths differ."""
    o, h, lo, c = columns(bars, "open", "high", "low", "close")
    t = np.ascontiguousarray(bars.time, dtype=np.int64)
    n = t.shape[0]
    out = [np.empty(n) for _ in range(4)]
    _backend.loop("heikin_ashi")(o, h, lo, c, *out)
    idx = np.arange(n, dtype=np.int64)
    return Elements("heikin-ashi", t.copy(), idx, idx + 1, out[0], out[1], out[2], out[3])
