"""Volume indicators: OBV, MFI, VWAP.

Inputs 1-D ``(time,)`` or 2-D ``(symbols, time)`` float64 (volume in shares/contracts),
outputs of the same shape. Raise ValueError for bad periods or mismatched shapes.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.indicators._backend import kernels
from engine.indicators._core import (
    Array, apply, as_inputs, check_period, chunk_len, rolling_sum, run, ta_equal, windowed,
)

_DAY = 86_400


def _obv_k(c: Array, v: Array) -> Array:
    rows, N = c.shape
    out = np.empty((rows, N))
    out[:, 0] = v[:, 0]
    total = v[:, 0].copy()
    step = chunk_len(rows)
    for s in range(1, N, step):
        e = min(N, s + step)
        sign = np.sign(c[:, s:e] - c[:, s - 1:e - 1])
        np.multiply(sign, v[:, s:e], out=sign)
        sign[:, 0] += total
        np.cumsum(sign, axis=1, out=out[:, s:e])
        total = out[:, e - 1].copy()
    return out


def obv(close: Any, volume: Any) -> Array:
    """On-Balance Volume (volume units): starts at volume[0], then adds the bar's volume
    when the close rises, subtracts it when it falls (TA-Lib OBV; no warm-up)."""
    arrs, shape = as_inputs(close=close, volume=volume)
    if (nb := kernels()) is not None:
        return run(nb.obv, arrs, shape, 1, 0)
    return apply(_obv_k, arrs, shape)


def _mfi_k(h: Array, l: Array, c: Array, v: Array, n: int) -> Array:
    rows, N = h.shape
    out = np.full((rows, N), np.nan)
    if N <= n:
        return out
    tp = (h + l + c) / 3.0
    mf = tp * v
    d = np.diff(tp, axis=1)
    # Equal typical prices whose (h+l+c)/3 differ by rounding alone are no change (TA-Lib).
    d = np.where(ta_equal(tp[:, 1:], tp[:, :-1]), 0.0, d)
    pos = np.where(d > 0, mf[:, 1:], 0.0)
    neg = np.where(d < 0, mf[:, 1:], 0.0)
    ps = rolling_sum(pos, n)[:, n - 1:]
    ns = rolling_sum(neg, n)[:, n - 1:]
    tot = ps + ns
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, n:] = np.where(tot == 0.0, 0.0, 100.0 * (ps / tot))
    return out


def mfi(high: Any, low: Any, close: Any, volume: Any, n: int = 14) -> Array:
    """Money Flow Index, 0..100: positive money flow (typical price × volume on bars whose
    typical price rose) over the total of the last n bars (TA-Lib MFI); first n bars NaN,
    0 when there was no money flow at all (TA-Lib 0.8 no longer zeroes a total below 1,
    so fractional volumes work). Raises ValueError if n < 1."""
    n = check_period("n", n, 1)
    arrs, shape = as_inputs(high=high, low=low, close=close, volume=volume)
    if (nb := kernels()) is not None:
        return run(nb.mfi, arrs, shape, 1, 2, n)
    return apply(windowed(lambda h, l, c, v: _mfi_k(h, l, c, v, n), n), arrs, shape)


def _session_starts(time: Array) -> Array:
    """Bool per bar: True where a new UTC calendar day begins (first bar included)."""
    day = np.floor_divide(time, _DAY)
    start = np.ones(time.shape, dtype=bool)
    start[1:] = day[1:] != day[:-1]
    return start


def _vwap_k(h: Array, l: Array, c: Array, v: Array, starts: Array | None) -> Array:
    if starts is not None:
        return _vwap_sessions_k(h, l, c, v, starts)
    rows, N = h.shape
    out = np.empty((rows, N))
    pv_carry = np.zeros((rows, 1))
    v_carry = np.zeros((rows, 1))
    step = chunk_len(rows)
    for s in range(0, N, step):
        e = min(N, s + step)
        pv = np.add(h[:, s:e], l[:, s:e])
        pv += c[:, s:e]
        pv /= 3.0
        pv *= v[:, s:e]
        np.cumsum(pv, axis=1, out=pv)
        pv += pv_carry
        cv = np.cumsum(v[:, s:e], axis=1)
        cv += v_carry
        pv_carry = pv[:, -1:].copy()
        v_carry = cv[:, -1:].copy()
        _vwap_divide(pv, cv, out[:, s:e])
    return out


def _vwap_divide(pv: Array, cv: Array, out: Array) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(pv, cv, out=out)
    zero = cv == 0.0
    if zero.any():
        out[zero] = np.nan


def _vwap_sessions_k(h: Array, l: Array, c: Array, v: Array, starts: Array) -> Array:
    """Session VWAP: bars are laid out as (session, bar-in-session) with zero padding so
    each session's running sums start from 0 (no subtraction of larger totals)."""
    rows, N = h.shape
    first = np.flatnonzero(starts)
    lengths = np.diff(np.append(first, N))
    width = int(lengths.max())
    tp = (h + l + c) / 3.0
    if first.size * width > 4 * N + 4096:
        # Very uneven sessions: the padded grid would be mostly padding; go session by
        # session instead (same arithmetic).
        out = np.empty((rows, N))
        for b, n_bars in zip(first.tolist(), lengths.tolist()):
            sl = slice(b, b + n_bars)
            _vwap_divide(np.cumsum(tp[:, sl] * v[:, sl], axis=1), np.cumsum(v[:, sl], axis=1),
                         out[:, sl])
        return out
    sess = np.repeat(np.arange(first.size), lengths)
    pos = np.arange(N) - first[sess]
    grid_pv = np.zeros((rows, first.size, width))
    grid_v = np.zeros((rows, first.size, width))
    grid_pv[:, sess, pos] = tp * v
    grid_v[:, sess, pos] = v
    np.cumsum(grid_pv, axis=2, out=grid_pv)
    np.cumsum(grid_v, axis=2, out=grid_v)
    out = np.empty((rows, N))
    _vwap_divide(grid_pv[:, sess, pos], grid_v[:, sess, pos], out)
    return out


def vwap(high: Any, low: Any, close: Any, volume: Any, time: Any = None) -> Array:
    """Volume-weighted average price of the typical price (h+l+c)/3, in price units.

    Without ``time`` (or for daily and slower bars) it is cumulative from the first bar.
    With ``time`` (int64 UTC epoch seconds, shape (time,) shared by all rows) and intraday
    bars (some two consecutive bars less than a day apart) it restarts at the first bar of
    each UTC calendar day. NaN while the accumulated volume is 0.
    Raises ValueError when time has the wrong length or is not increasing.
    """
    arrs, shape = as_inputs(high=high, low=low, close=close, volume=volume)
    starts = None
    if time is not None:
        t = np.asarray(time)
        if t.ndim != 1 or t.shape[0] != shape[-1]:
            raise ValueError(f"time must be 1-D with {shape[-1]} values (one per bar), "
                             f"got shape {t.shape}")
        t = t.astype(np.int64)
        steps = np.diff(t)
        if steps.size and (steps <= 0).any():
            bad = int(np.argmax(steps <= 0)) + 1
            raise ValueError(f"time must be strictly increasing; bar {bad} is not after "
                             f"bar {bad - 1}")
        if steps.size and steps.min() < _DAY:
            starts = _session_starts(t)
    nb = kernels()
    if starts is None:
        if nb is not None:
            return run(nb.vwap, arrs, shape, 1, 0)
        return apply(lambda h, l, c, v: _vwap_k(h, l, c, v, None), arrs, shape)
    if nb is not None:
        return run(nb.vwap_sessions, arrs, shape, 1, 0, starts)
    # Sessions are tied to bar times, so leading NaNs must not shift rows: compute on the
    # raw layout (NaN rows propagate through the cumulative sums only within a session).
    return _vwap_sessions(arrs, shape, starts)


def _vwap_sessions(arrs: list[Array], shape: tuple[int, ...], starts: Array) -> Array:
    xs = [a.reshape(1, -1) if a.ndim == 1 else a for a in arrs]
    valid = np.isfinite(xs[0])
    for a in xs[1:]:
        valid &= np.isfinite(a)
    h, l, c, v = (np.where(valid, a, 0.0) for a in xs)
    out = _vwap_k(h, l, c, v, starts)
    # A bar without data gives no VWAP, and (gap rule) neither does the rest of its row.
    any_valid = valid.any(axis=1)
    first = np.where(any_valid, valid.argmax(axis=1), valid.shape[1])
    t = np.arange(valid.shape[1])
    after_first = t[None, :] >= first[:, None]
    bad = after_first & ~valid
    poisoned = np.logical_or.accumulate(bad, axis=1)
    out[~after_first | poisoned] = np.nan
    return out.reshape(shape)
