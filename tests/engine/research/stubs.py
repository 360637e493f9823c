"""Shared builders for the research tests."""
from __future__ import annotations

import numpy as np

from engine.data.bars import Bars

DAY = 86400
T0 = 1_577_836_800  # 2020-01-01


def random_bars(n: int, seed: int, *, symbol: str = "TEST", start: float = 50.0, vol: float = 0.02,
                volume: tuple[float, float] = (1e5, 1e6), decimals: int | None = 2) -> Bars:
    """A random-walk daily series (gaps between close and next open included)."""
    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(rng.normal(0, vol, n)))
    open_ = np.concatenate([[start], close[:-1]]) * np.exp(rng.normal(0, vol / 3, n))
    hi = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, vol / 2, n)))
    lo = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, vol / 2, n)))
    if decimals is not None:
        open_, close, hi, lo = (np.round(a, decimals) for a in (open_, close, hi, lo))
        hi = np.maximum.reduce([hi, open_, close])
        lo = np.minimum.reduce([lo, open_, close])
    v = rng.uniform(volume[0], volume[1], n).round()
    t = T0 + DAY * np.arange(n, dtype=np.int64)
    return Bars(symbol, "1d", t, open_, hi, lo, close, v)
