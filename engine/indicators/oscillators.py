"""Oscillators: RSI, MACD, Stochastic, StochRSI, CCI, Williams %R, ROC, momentum.

Inputs are 1-D ``(time,)`` or 2-D ``(symbols, time)`` float64; outputs have the input's
shape, NaN during TA-Lib's warm-up. Where TA-Lib defines a 0/0 case (flat window) the
same value is returned (0.0). Raise ValueError for bad periods or mismatched shapes.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.indicators._backend import kernels
from engine.indicators._core import (
    TA_REL_EQ, Array, apply, as_inputs, check_period, chunk_len, ema_seeded, iir, windowed,
    rolling_max, rolling_mean, rolling_min, run, ta_equal,
)


def _rsi_k(x: Array, n: int) -> Array:
    rows, N = x.shape
    out = np.empty((rows, N))
    out[:, :min(n, N)] = np.nan
    if N <= n:
        return out
    d0 = np.diff(x[:, :n + 1], axis=1)
    g = np.maximum(d0, 0.0).sum(axis=1) / n
    lo = np.maximum(-d0, 0.0).sum(axis=1) / n
    _rsi_out(g[:, None], lo[:, None].copy(), out[:, n:n + 1])
    # Chunk by chunk along time, carrying the two Wilder averages: only ``out`` is large.
    step = chunk_len(rows)
    for s in range(n + 1, N, step):
        e = min(N, s + step)
        d = x[:, s:e] - x[:, s - 1:e - 1]
        gain = np.maximum(d, 0.0)
        np.negative(d, out=d)
        loss = np.maximum(d, 0.0, out=d)
        gy = iir(gain, 1.0 / n, g, out=out[:, s:e])
        ly = iir(loss, 1.0 / n, lo, out=gain)
        g = gy[:, -1].copy()
        lo = ly[:, -1].copy()
        _rsi_out(gy, ly, gy)
    return out


def _rsi_out(g: Array, lo: Array, out: Array) -> None:
    """out = 100 * g / (g + lo), 0 where g + lo is exactly 0 (TA-Lib 0.8, probed on long
    flat runs). Overwrites ``lo``; ``out`` may be ``g``."""
    tot = np.add(lo, g, out=lo)
    flat = tot == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(g, tot, out=out)
        np.multiply(out, 100.0, out=out)
    if flat.any():
        out[flat] = 0.0


def rsi(x: Any, n: int = 14) -> Array:
    """Relative Strength Index, 0..100, Wilder smoothing seeded with the plain mean of the
    first n changes (TA-Lib RSI, unstable period 0): first n bars NaN; 0 when flat.
    Raises ValueError if n < 2."""
    n = check_period("n", n, 2)
    (a,), shape = as_inputs(x=x)
    if (nb := kernels()) is not None:
        return run(nb.rsi, [a], shape, 1, 0, n)
    return apply(lambda v: _rsi_k(v, n), [a], shape)


def _macd_k(x: Array, fast: int, slow: int, signal: int) -> tuple[Array, Array, Array]:
    rows, N = x.shape
    if slow < fast:
        fast, slow = slow, fast
    start = slow - 1  # first bar of the MACD line
    # TA-Lib seeds the fast EMA so that it also starts at bar slow-1 (window ending there).
    line = ema_seeded(x, fast, slow - fast)
    slow_e = ema_seeded(x, slow, 0)
    np.subtract(line, slow_e, out=line)
    sig = ema_seeded(line, signal, start)  # reads the line from bar ``start`` on only
    lookback = start + signal - 1
    line[:, :min(lookback, N)] = np.nan
    return line, sig, np.subtract(line, sig, out=slow_e)


def macd(x: Any, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[Array, Array, Array]:
    """MACD (line, signal, histogram) with TA-Lib's alignment: both EMAs start at bar
    slow-1 (the fast one seeded with the mean of the ``fast`` values ending there), the
    signal is an EMA of the line; all three NaN for the first slow+signal-2 bars.
    Raises ValueError for periods < 2 (fast/slow) or < 1 (signal)."""
    fast = check_period("fast", fast, 2)
    slow = check_period("slow", slow, 2)
    signal = check_period("signal", signal, 1)
    (a,), shape = as_inputs(x=x)
    if (nb := kernels()) is not None:
        return run(nb.macd, [a], shape, 3, 0, fast, slow, signal)
    return apply(lambda v: _macd_k(v, fast, slow, signal), [a], shape, n_out=3)


def _fast_k(h: Array, l: Array, c: Array, n: int) -> Array:
    hh = rolling_max(h, n)
    ll = rolling_min(l, n)
    diff = (hh - ll) / 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ta_equal(hh, ll), np.where(np.isnan(hh), np.nan, 0.0), (c - ll) / diff)


def _stoch_k(h: Array, l: Array, c: Array, fastk: int, slowk: int,
             slowd: int) -> tuple[Array, Array]:
    rows, N = h.shape
    fk = _fast_k(h, l, c, fastk)
    sk = np.full((rows, N), np.nan)
    sd = np.full((rows, N), np.nan)
    s0 = fastk - 1
    if N > s0:
        sk[:, s0:] = rolling_mean(fk[:, s0:], slowk)
    s1 = s0 + slowk - 1
    if N > s1:
        sd[:, s1:] = rolling_mean(sk[:, s1:], slowd)
    lookback = s1 + slowd - 1
    sk[:, :min(lookback, N)] = np.nan
    return sk, sd


def stoch(high: Any, low: Any, close: Any, fastk: int = 5, slowk: int = 3,
          slowd: int = 3) -> tuple[Array, Array]:
    """Slow stochastic (%K, %D), 0..100, SMA smoothing (TA-Lib STOCH defaults): raw %K over
    ``fastk`` bars (0 when the range is flat), %K = SMA(raw, slowk), %D = SMA(%K, slowd);
    both NaN for the first fastk+slowk+slowd-3 bars. Raises ValueError for periods < 1."""
    fastk = check_period("fastk", fastk, 1)
    slowk = check_period("slowk", slowk, 1)
    slowd = check_period("slowd", slowd, 1)
    arrs, shape = as_inputs(high=high, low=low, close=close)
    if (nb := kernels()) is not None:
        return run(nb.stoch, arrs, shape, 2, 2, fastk, slowk, slowd)
    kern = windowed(lambda h, l, c: _stoch_k(h, l, c, fastk, slowk, slowd),
                    fastk + slowk + slowd - 3, 2)
    return apply(kern, arrs, shape, n_out=2)


def _stochrsi_k(x: Array, n: int, fastk: int, fastd: int) -> tuple[Array, Array]:
    rows, N = x.shape
    k = np.full((rows, N), np.nan)
    d = np.full((rows, N), np.nan)
    r = _rsi_k(x, n)
    if N <= n:
        return k, d
    rr = r[:, n:]
    fk = _fast_k(rr, rr, rr, fastk)
    s0 = n + fastk - 1
    lookback = s0 + fastd - 1
    if N > s0:
        d[:, s0:] = rolling_mean(fk[:, fastk - 1:], fastd)
    if N > lookback:
        k[:, lookback:] = fk[:, lookback - n:]
    return k, d


def stochrsi(x: Any, n: int = 14, fastk: int = 5, fastd: int = 3) -> tuple[Array, Array]:
    """Stochastic RSI as TA-Lib STOCHRSI: fast %K of RSI(n) over ``fastk`` bars (0..100,
    0 when flat) and %D = SMA(%K, fastd); both NaN for the first n+fastk+fastd-2 bars.
    Raises ValueError for n < 2 or other periods < 1."""
    n = check_period("n", n, 2)
    fastk = check_period("fastk", fastk, 1)
    fastd = check_period("fastd", fastd, 1)
    (a,), shape = as_inputs(x=x)
    if (nb := kernels()) is not None:
        return run(nb.stochrsi, [a], shape, 2, 3, n, fastk, fastd)
    return apply(lambda v: _stochrsi_k(v, n, fastk, fastd), [a], shape, n_out=2)


def _cci_k(h: Array, l: Array, c: Array, n: int) -> Array:
    rows, N = h.shape
    out = np.full((rows, N), np.nan)
    if N < n:
        return out
    tp = (h + l + c) / 3.0
    m = N - n + 1
    # Direct window sums in TA-Lib's order (oldest to newest), no running sums.
    avg = np.zeros((rows, m))
    for k in range(n):
        avg += tp[:, k:k + m]
    avg /= n
    dev = np.zeros((rows, m))
    for k in range(n):
        dev += np.abs(tp[:, k:k + m] - avg)
    last = tp[:, n - 1:]
    num = last - avg
    with np.errstate(divide="ignore", invalid="ignore"):
        # A typical price equal to its mean up to rounding gives 0, as in TA-Lib.
        flat = np.abs(num) <= TA_REL_EQ * np.maximum(np.abs(last), np.abs(avg))
        out[:, n - 1:] = np.where(~flat & (dev != 0.0),
                                  num / (0.015 * (dev / n)), 0.0)
    return out


def cci(high: Any, low: Any, close: Any, n: int = 14) -> Array:
    """Commodity Channel Index: (TP - SMA(TP)) / (0.015 * mean |TP - SMA(TP)|), TP the
    typical price (h+l+c)/3; first n-1 bars NaN, 0 on a flat window (TA-Lib CCI).
    Raises ValueError if n < 2."""
    n = check_period("n", n, 2)
    arrs, shape = as_inputs(high=high, low=low, close=close)
    if (nb := kernels()) is not None:
        return run(nb.cci, arrs, shape, 1, 1, n)
    return apply(windowed(lambda h, l, c: _cci_k(h, l, c, n), n - 1), arrs, shape)


def _willr_k(h: Array, l: Array, c: Array, n: int) -> Array:
    hh = rolling_max(h, n)
    ll = rolling_min(l, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ta_equal(hh, ll), np.where(np.isnan(hh), np.nan, 0.0),
                        ((hh - c) / (hh - ll)) * -100.0)


def willr(high: Any, low: Any, close: Any, n: int = 14) -> Array:
    """Williams %R, -100..0: (HH - close) / (HH - LL) * -100 over n bars; first n-1 bars
    NaN, 0 on a flat window (TA-Lib WILLR). Raises ValueError if n < 2."""
    n = check_period("n", n, 2)
    arrs, shape = as_inputs(high=high, low=low, close=close)
    if (nb := kernels()) is not None:
        return run(nb.willr, arrs, shape, 1, 1, n)
    return apply(windowed(lambda h, l, c: _willr_k(h, l, c, n), n - 1), arrs, shape)


def _roc_k(x: Array, n: int) -> Array:
    out = np.full(x.shape, np.nan)
    if x.shape[1] > n:
        prev = x[:, :-n]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, n:] = np.where(prev != 0.0, (x[:, n:] / prev - 1.0) * 100.0, 0.0)
    return out


def roc(x: Any, n: int = 10) -> Array:
    """Rate of change in percent: (x / x[t-n] - 1) * 100; first n bars NaN, 0 where
    x[t-n] is 0 (TA-Lib ROC). Raises ValueError if n < 1."""
    n = check_period("n", n, 1)
    (a,), shape = as_inputs(x=x)
    return apply(lambda v: _roc_k(v, n), [a], shape)


def _mom_k(x: Array, n: int) -> Array:
    out = np.full(x.shape, np.nan)
    if x.shape[1] > n:
        out[:, n:] = x[:, n:] - x[:, :-n]
    return out


def mom(x: Any, n: int = 10) -> Array:
    """Momentum: x - x[t-n] in the units of x; first n bars NaN (TA-Lib MOM).
    Raises ValueError if n < 1."""
    n = check_period("n", n, 1)
    (a,), shape = as_inputs(x=x)
    return apply(lambda v: _mom_k(v, n), [a], shape)


__all__ = ["rsi", "macd", "stoch", "stochrsi", "cci", "willr", "roc", "mom"]
