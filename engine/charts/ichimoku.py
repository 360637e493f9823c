"""Ichimoku Kinko Hyo laid out for drawing: every line at the x where it is drawn, the cloud
projected past the last bar.

``engine.indicators.ichimoku`` returns five series of the input's length, each aligned to the
bar where it is drawn, so the cloud's last ``kijun`` bars (computed from the newest bars but
drawn in the future) are not in it. A chart draws them: ``ichimoku_layout`` returns the spans
over ``n + displacement`` positions, position ``x`` = bar index (``x >= n``: that many bars
after the last one).

Definitions (textbook, Hosoda; the midpoint of a period is (highest high + lowest low) / 2 of
its last bars, the current bar included):

* tenkan-sen[t] = midpoint of the last ``tenkan`` (9) bars; kijun-sen[t] = of ``kijun`` (26);
* senkou span A drawn at t + displacement = (tenkan[t] + kijun[t]) / 2;
* senkou span B drawn at t + displacement = midpoint of the last ``senkou_b`` (52) bars at t;
* chikou span drawn at t - displacement = close[t].

The displacement is ``kijun`` (26), as in ``engine.indicators.ichimoku``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.indicators import highest, ichimoku, lowest

Array = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True, slots=True)
class IchimokuLayout:
    """The five lines by drawn position. ``tenkan``, ``kijun`` and ``chikou`` have ``n``
    values (chikou[x] = close[x + displacement], NaN for the last ``displacement``);
    ``senkou_a``/``senkou_b`` have ``n + displacement`` (x >= n is the projection)."""

    tenkan: Array
    kijun: Array
    chikou: Array
    senkou_a: Array
    senkou_b: Array
    displacement: int


def ichimoku_layout(high: Any, low: Any, close: Any, tenkan: int = 9, kijun: int = 26,
                    senkou_b: int = 52) -> IchimokuLayout:
    """Ichimoku of one series of bars, every line at its drawn x (module docstring).

    Prices in, prices out (NaN during each line's warm-up). Raises ``ValueError`` for a
    period < 1 or arrays that are not 1-D of one length.
    """
    h = np.asarray(high, dtype=np.float64)
    lo = np.asarray(low, dtype=np.float64)
    c = np.asarray(close, dtype=np.float64)
    if h.ndim != 1 or h.shape != lo.shape or h.shape != c.shape:
        raise ValueError("Ichimoku needs high, low and close as 1-D arrays of one length")
    tk, kj, sa, sb, ch = ichimoku(h, lo, c, tenkan, kijun, senkou_b)
    n = len(c)
    d = int(kijun)
    lead_a = (tk + kj) / 2.0
    lead_b = (highest(h, senkou_b) + lowest(lo, senkou_b)) / 2.0
    tail = slice(max(0, n - d), n)
    pad = np.full(max(0, d - n), np.nan)  # fewer bars than the displacement: nothing drawn yet
    span_a = np.concatenate([sa, pad, lead_a[tail]])
    span_b = np.concatenate([sb, pad, lead_b[tail]])
    return IchimokuLayout(tk, kj, ch, span_a, span_b, d)
