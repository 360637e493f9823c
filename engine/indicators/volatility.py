"""Volatility and channels: Bollinger Bands (+ %B, bandwidth), ATR, NATR, Donchian,
Keltner.

Inputs 1-D ``(time,)`` or 2-D ``(symbols, time)`` float64, outputs of the same shape with
TA-Lib's warm-up NaNs. Raise ValueError for bad periods/multipliers or mismatched shapes.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.indicators._backend import kernels
from engine.indicators._core import (
    Array, apply, as_inputs, check_period, check_positive, chunk_len, ema_seeded, iir,
    windowed,
    rolling_max, rolling_mean, rolling_min, rolling_var, run, true_range, wilder_mean,
)


def _bb_k(x: Array, n: int, k: float) -> tuple[Array, Array, Array]:
    mid = rolling_mean(x, n)
    std = np.sqrt(rolling_var(x, n, mid))
    std[np.isnan(mid)] = np.nan
    width = k * std
    return mid + width, mid, mid - width


def bbands(x: Any, n: int = 20, k: float = 2.0) -> tuple[Array, Array, Array]:
    """Bollinger Bands (upper, mid, lower): SMA(n) ± k * population standard deviation
    over n bars (TA-Lib BBANDS with nbdevup = nbdevdn = k, SMA); first n-1 bars NaN.
    Raises ValueError if n < 2 or k <= 0."""
    n = check_period("n", n, 2)
    k = check_positive("k", k)
    (a,), shape = as_inputs(x=x)
    if (nb := kernels()) is not None:
        return run(nb.bbands, [a], shape, 3, 0, n, k)
    return apply(windowed(lambda v: _bb_k(v, n, k), n - 1, 3), [a], shape, n_out=3)


def bb_percent_b(x: Any, n: int = 20, k: float = 2.0) -> Array:
    """%B = (x - lower) / (upper - lower): 0 on the lower band, 1 on the upper band.
    NaN during the warm-up and where the bands coincide (zero width: undefined)."""
    upper, _, lower = bbands(x, n, k)
    xa = np.asarray(x, dtype=np.float64)
    w = upper - lower
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w > 0, (xa - lower) / w, np.nan)


def bb_bandwidth(x: Any, n: int = 20, k: float = 2.0) -> Array:
    """Bandwidth = (upper - lower) / mid as a fraction (multiply by 100 for percent).
    NaN during the warm-up and where mid is 0."""
    upper, mid, lower = bbands(x, n, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mid != 0, (upper - lower) / mid, np.nan)


def _atr_k(h: Array, l: Array, c: Array, n: int) -> Array:
    if n == 1:
        return true_range(h, l, c)
    rows, N = h.shape
    out = np.empty((rows, N))
    out[:, :min(n, N)] = np.nan
    if N <= n:
        return out
    prev = true_range(h[:, :n + 1], l[:, :n + 1], c[:, :n + 1])[:, 1:].sum(axis=1) / n
    out[:, n] = prev
    # Chunk by chunk, carrying the Wilder average: only ``out`` is large.
    step = chunk_len(rows)
    for s in range(n + 1, N, step):
        e = min(N, s + step)
        tr = true_range(h[:, s - 1:e], l[:, s - 1:e], c[:, s - 1:e])[:, 1:]
        y = iir(tr, 1.0 / n, prev, out=out[:, s:e])
        prev = y[:, -1].copy()
    return out


def atr(high: Any, low: Any, close: Any, n: int = 14) -> Array:
    """Average True Range (price units), Wilder smoothing seeded with the mean of the first
    n true ranges (TA-Lib ATR): first n bars NaN. Raises ValueError if n < 1."""
    n = check_period("n", n, 1)
    arrs, shape = as_inputs(high=high, low=low, close=close)
    if (nb := kernels()) is not None:
        return run(nb.atr, arrs, shape, 1, 0, n)
    return apply(lambda h, l, c: _atr_k(h, l, c, n), arrs, shape)


def _natr_k(h: Array, l: Array, c: Array, n: int) -> Array:
    a = _atr_k(h, l, c, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c == 0.0, np.where(np.isnan(a), np.nan, 0.0), (a / c) * 100.0)


def natr(high: Any, low: Any, close: Any, n: int = 14) -> Array:
    """Normalised ATR: ATR / close * 100 (percent); 0 where close is 0 (TA-Lib NATR).
    Raises ValueError if n < 1."""
    n = check_period("n", n, 1)
    arrs, shape = as_inputs(high=high, low=low, close=close)
    if (nb := kernels()) is not None:
        return run(nb.natr, arrs, shape, 1, 0, n)
    return apply(lambda h, l, c: _natr_k(h, l, c, n), arrs, shape)


def _donchian_k(h: Array, l: Array, n: int) -> tuple[Array, Array, Array]:
    up = rolling_max(h, n)
    lo = rolling_min(l, n)
    return up, (up + lo) / 2.0, lo


def donchian(high: Any, low: Any, n: int = 20) -> tuple[Array, Array, Array]:
    """Donchian channel (upper, mid, lower): highest high and lowest low of the last n bars
    *including the current bar*, mid their average; first n-1 bars NaN.
    (For breakout rules compare the close with ``shift(upper, 1)``.)
    Raises ValueError if n < 1."""
    n = check_period("n", n, 1)
    arrs, shape = as_inputs(high=high, low=low)
    if (nb := kernels()) is not None:
        return run(nb.donchian, arrs, shape, 3, 0, n)
    return apply(lambda h, l: _donchian_k(h, l, n), arrs, shape, n_out=3)


def _keltner_k(h: Array, l: Array, c: Array, n: int, k: float,
               atr_n: int) -> tuple[Array, Array, Array]:
    mid = ema_seeded(c, n, 0)
    band = k * _atr_k(h, l, c, atr_n)
    up, lo = mid + band, mid - band
    mid = np.where(np.isnan(band), np.nan, mid)
    return up, mid, lo


def keltner(high: Any, low: Any, close: Any, n: int = 20, k: float = 2.0,
            atr_n: int = 10) -> tuple[Array, Array, Array]:
    """Keltner channel (upper, mid, lower): mid = EMA(close, n) (TA-Lib EMA), bands
    mid ± k * ATR(atr_n) (TA-Lib ATR). All three NaN until both EMA and ATR exist, i.e.
    the first max(n-1, atr_n) bars. Raises ValueError for periods < 1 or k <= 0."""
    n = check_period("n", n, 1)
    atr_n = check_period("atr_n", atr_n, 1)
    k = check_positive("k", k)
    arrs, shape = as_inputs(high=high, low=low, close=close)
    if (nb := kernels()) is not None:
        return run(nb.keltner, arrs, shape, 3, 1, n, k, atr_n)
    return apply(lambda h, l, c: _keltner_k(h, l, c, n, k, atr_n), arrs, shape, n_out=3)
