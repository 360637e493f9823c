"""Which pane a study goes to."""
from __future__ import annotations

import numpy as np


def is_price_like(values: np.ndarray, close: np.ndarray) -> bool:
    """Whether an overlay lives on the price scale (an average, a band) rather than its own
    (an oscillator, a volume measure): its values stay within about 20% of the close."""
    if np.asarray(values).dtype == bool:
        return False  # true/false: a 0/1 step belongs in its own pane
    y = np.asarray(values, dtype=float)
    ok = np.isfinite(y) & np.isfinite(close) & (close != 0)
    if not ok.any():
        return True  # nothing to draw yet: keep it with the price
    dev = np.abs(y[ok] / close[ok] - 1.0)
    return bool(np.median(dev) < 0.2 and np.quantile(dev, 0.95) < 0.5)
