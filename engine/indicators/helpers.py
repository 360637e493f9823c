"""Series helpers used by the formula language: shift, highest, lowest, crossings,
percent change. Inputs 1-D ``(time,)`` or 2-D ``(symbols, time)``; time runs along the
last axis.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.indicators._backend import kernels
from engine.indicators._core import (
    Array, apply, as_inputs, as_series, check_period, rolling_max, rolling_min, run,
    shift_cols,
)


def shift(x: Any, n: int) -> Array:
    """Value ``n`` bars ago: y[t] = x[t-n] (n < 0 looks ahead: y[t] = x[t+|n|]); NaN where
    that bar does not exist. Raises ValueError if n is not an integer."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"n must be an integer, got {n!r}")
    a = as_series("x", x)
    two = a.reshape(1, -1) if a.ndim == 1 else a
    return shift_cols(two, int(n)).reshape(a.shape)


def highest(x: Any, n: int) -> Array:
    """Highest value of the last ``n`` bars including the current one; first n-1 bars NaN.
    Raises ValueError if n < 1."""
    n = check_period("n", n, 1)
    (a,), shape = as_inputs(x=x)
    if (nb := kernels()) is not None:
        return run(nb.rolling_max, [a], shape, 1, 0, n)
    return apply(lambda v: rolling_max(v, n), [a], shape)


def lowest(x: Any, n: int) -> Array:
    """Lowest value of the last ``n`` bars including the current one; first n-1 bars NaN.
    Raises ValueError if n < 1."""
    n = check_period("n", n, 1)
    (a,), shape = as_inputs(x=x)
    if (nb := kernels()) is not None:
        return run(nb.rolling_min, [a], shape, 1, 0, n)
    return apply(lambda v: rolling_min(v, n), [a], shape)


def _pair(a: Any, b: Any) -> tuple[Array, Array]:
    aa = np.asarray(a, dtype=np.float64)
    bb = np.asarray(b, dtype=np.float64)
    try:
        aa, bb = np.broadcast_arrays(aa, bb)
    except ValueError:
        raise ValueError(f"cannot compare series of shapes {aa.shape} and {bb.shape}") from None
    if aa.ndim not in (1, 2):
        raise ValueError("crosses_above/crosses_below need a 1-D or 2-D series (a scalar "
                         "may stand for a constant level)")
    return aa, bb


#: Two values closer than this (relative) are equal for ``crosses_above/below``: a
#: running-sum SMA and an exactly summed one differ by ~1e-15 relative, and a crossing
#: must not appear or vanish on rounding noise (two averages that tie exactly, as SMA 10
#: and SMA 30 of ORCL on 2004-06-29, are equal, not "crossed").
CROSS_RTOL = 1e-12


def cross_diff(a: Any, b: Any) -> Array:
    """a - b with differences within ``CROSS_RTOL`` of the operands' size set to 0 (NaN stays NaN)."""
    aa, bb = _pair(a, b)
    d = aa - bb
    with np.errstate(invalid="ignore"):
        noise = np.abs(d) <= CROSS_RTOL * np.maximum(np.abs(aa), np.abs(bb))
    return np.where(noise, 0.0, d)


def _crossed(d: Array, up: bool) -> Array:
    out = np.zeros(d.shape, dtype=bool)
    if up:
        out[..., 1:] = (d[..., 1:] > 0) & (d[..., :-1] <= 0)
    else:
        out[..., 1:] = (d[..., 1:] < 0) & (d[..., :-1] >= 0)
    return out


def crosses_above(a: Any, b: Any) -> Array:
    """Bool array: True at bar t when a[t] > b[t] and a[t-1] <= b[t-1] (False at bar 0 and
    wherever a NaN is involved). ``b`` (or ``a``) may be a scalar level. Values equal
    within ``CROSS_RTOL`` count as equal."""
    return _crossed(cross_diff(a, b), up=True)


def crosses_below(a: Any, b: Any) -> Array:
    """Bool array: True at bar t when a[t] < b[t] and a[t-1] >= b[t-1] (False at bar 0 and
    wherever a NaN is involved). ``b`` (or ``a``) may be a scalar level. Values equal
    within ``CROSS_RTOL`` count as equal."""
    return _crossed(cross_diff(a, b), up=False)


def change_pct(x: Any, n: int = 1) -> Array:
    """Percent change over ``n`` bars: (x[t] / x[t-n] - 1) * 100; NaN for the first n bars
    and where x[t-n] is 0. Raises ValueError if n < 1."""
    n = check_period("n", n, 1)
    a = as_series("x", x)
    prev = shift(a, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(prev != 0, (a / prev - 1.0) * 100.0, np.nan)
