"""Moving averages: SMA, EMA, WMA, DEMA, TEMA (TA-Lib conventions and warm-up).

Every function takes a 1-D series ``(time,)`` or a panel ``(symbols, time)`` of float64
prices and returns float64 of the same shape, NaN during the warm-up (exactly where TA-Lib
has NaN). Raises ValueError for a bad period or input shape.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.indicators._backend import kernels
from engine.indicators._core import (
    Array, apply, as_inputs, check_period, ema_seeded, rolling_mean, rolling_wsum, run,
    windowed,
)


def _sma_k(x: Array, n: int) -> Array:
    return rolling_mean(x, n)


def _ema_k(x: Array, n: int) -> Array:
    return ema_seeded(x, n, 0)


def _wma_k(x: Array, n: int) -> Array:
    return rolling_wsum(x, n) / (n * (n + 1) / 2.0)


def _dema_k(x: Array, n: int) -> Array:
    e1 = ema_seeded(x, n, 0)
    e2 = ema_seeded(e1, n, n - 1)  # reads e1 from its first value on
    np.multiply(e1, 2.0, out=e1)
    np.subtract(e1, e2, out=e1)
    return e1


def _tema_k(x: Array, n: int) -> Array:
    e1 = ema_seeded(x, n, 0)
    e2 = ema_seeded(e1, n, n - 1)
    e3 = ema_seeded(e2, n, 2 * (n - 1))
    np.subtract(e1, e2, out=e1)
    np.multiply(e1, 3.0, out=e1)
    np.add(e1, e3, out=e1)
    return e1


def sma(x: Any, n: int) -> Array:
    """Simple moving average of the last ``n`` values (first n-1 bars NaN).
    Units: those of ``x``. Raises ValueError if n < 1."""
    n = check_period("n", n, 1)
    (a,), shape = as_inputs(x=x)
    if (nb := kernels()) is not None:
        return run(nb.sma, [a], shape, 1, 0, n)
    return apply(lambda v: _sma_k(v, n), [a], shape)


def ema(x: Any, n: int) -> Array:
    """Exponential moving average, alpha = 2/(n+1), seeded with the SMA of the first n
    values at bar n-1 (TA-Lib default). Raises ValueError if n < 1."""
    n = check_period("n", n, 1)
    (a,), shape = as_inputs(x=x)
    if (nb := kernels()) is not None:
        return run(nb.ema, [a], shape, 1, 0, n)
    return apply(lambda v: _ema_k(v, n), [a], shape)


def wma(x: Any, n: int) -> Array:
    """Linearly weighted moving average (weight n on the newest bar, 1 on the oldest);
    first n-1 bars NaN. Raises ValueError if n < 1."""
    n = check_period("n", n, 1)
    (a,), shape = as_inputs(x=x)
    if (nb := kernels()) is not None:
        return run(nb.wma, [a], shape, 1, 0, n)
    return apply(windowed(lambda v: _wma_k(v, n), n - 1), [a], shape)


def dema(x: Any, n: int) -> Array:
    """Double EMA: 2*EMA - EMA(EMA); first 2(n-1) bars NaN (TA-Lib DEMA).
    Raises ValueError if n < 1."""
    n = check_period("n", n, 1)
    (a,), shape = as_inputs(x=x)
    if (nb := kernels()) is not None:
        return run(nb.dema, [a], shape, 1, 0, n)
    return apply(lambda v: _dema_k(v, n), [a], shape)


def tema(x: Any, n: int) -> Array:
    """Triple EMA: 3*E1 - 3*E2 + E3; first 3(n-1) bars NaN (TA-Lib TEMA).
    Raises ValueError if n < 1."""
    n = check_period("n", n, 1)
    (a,), shape = as_inputs(x=x)
    if (nb := kernels()) is not None:
        return run(nb.tema, [a], shape, 1, 0, n)
    return apply(lambda v: _tema_k(v, n), [a], shape)
