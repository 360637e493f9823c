"""Trend indicators: ADX, +DI, −DI, Ichimoku, SuperTrend, Parabolic SAR.

Inputs 1-D ``(time,)`` or 2-D ``(symbols, time)`` float64, outputs of the same shape.
ADX/DI and SAR follow TA-Lib exactly (warm-up and values). SuperTrend and SAR are path
dependent: a compiled loop per row (engine/indicators/_nb.py; ~5-7 ns per bar), or the
Python loop below (~0.5 µs per bar) when numba is unavailable.
Raise ValueError for bad periods or mismatched shapes.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from engine.indicators._backend import kernels
from engine.indicators._loops import sar_row
from engine.indicators._core import (
    Array, apply, as_inputs, check_period, check_positive, chunk_len, iir,
    rolling_max, rolling_min, run, shift_cols,
)
from engine.indicators.volatility import _atr_k


def _dm_tr(h: Array, l: Array, c: Array) -> tuple[Array, Array, Array]:
    """+DM, −DM and true range for bars 1..N-1 (TA-Lib's definitions)."""
    dp = h[:, 1:] - h[:, :-1]
    dm = l[:, :-1] - l[:, 1:]
    pdm = np.where((dp > 0) & (dp > dm), dp, 0.0)
    mdm = np.where((dm > 0) & (dm > dp), dm, 0.0)
    hh, ll, yc = h[:, 1:], l[:, 1:], c[:, :-1]
    tr = np.maximum(np.maximum(hh - ll, np.abs(hh - yc)), np.abs(ll - yc))
    return pdm, mdm, tr


def _wilder_sum(v: Array, n: int) -> Array:
    """TA-Lib's DM/TR smoothing over v (bars 1..N-1): sum of the first n-1 values, then
    S = S - S/n + v. Returned for bars n..N-1 (length N-n)."""
    s0 = v[:, :n - 1].sum(axis=1)
    return iir(v[:, n - 1:], 1.0 / n, s0, gain=1.0)


def _di_k(h: Array, l: Array, c: Array, n: int) -> tuple[Array, Array, Array]:
    """(+DI, −DI, TR-sum) for bars n..N-1."""
    pdm, mdm, tr = _dm_tr(h, l, c)
    sp = _wilder_sum(pdm, n)
    sm = _wilder_sum(mdm, n)
    st = _wilder_sum(tr, n)
    # TA-Lib 0.8 divides whenever the smoothed true range is not exactly 0 (probed: it
    # keeps the ratio through a long run of identical bars).
    zero = st == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        pdi = np.where(zero, 0.0, 100.0 * (sp / st))
        mdi = np.where(zero, 0.0, 100.0 * (sm / st))
    return pdi, mdi, st


def _di_chunks(h: Array, l: Array, c: Array, n: int) -> Any:
    """Yield (s, e, +DI, −DI, TR-sum) for bars s..e-1, chunk by chunk from bar n, carrying
    the three Wilder sums (same values as :func:`_di_k`, far fewer large temporaries)."""
    rows, N = h.shape
    pdm, mdm, tr = _dm_tr(h[:, :n], l[:, :n], c[:, :n])
    sums = [pdm.sum(axis=1), mdm.sum(axis=1), tr.sum(axis=1)]
    step = chunk_len(rows)
    for s in range(n, N, step):
        e = min(N, s + step)
        parts = _dm_tr(h[:, s - 1:e], l[:, s - 1:e], c[:, s - 1:e])
        sp, sm, st = (iir(v, 1.0 / n, s0, gain=1.0, out=v) for v, s0 in zip(parts, sums))
        sums = [sp[:, -1].copy(), sm[:, -1].copy(), st[:, -1].copy()]
        zero = st == 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(sp, st, out=sp)
            np.multiply(sp, 100.0, out=sp)
            np.divide(sm, st, out=sm)
            np.multiply(sm, 100.0, out=sm)
        if zero.any():
            sp[zero] = 0.0
            sm[zero] = 0.0
        yield s, e, sp, sm, st


def _plus_di_k(h: Array, l: Array, c: Array, n: int) -> Array:
    out = np.full(h.shape, np.nan)
    for s, e, pdi, _, _ in _di_chunks(h, l, c, n):
        out[:, s:e] = pdi
    return out


def _minus_di_k(h: Array, l: Array, c: Array, n: int) -> Array:
    out = np.full(h.shape, np.nan)
    for s, e, _, mdi, _ in _di_chunks(h, l, c, n):
        out[:, s:e] = mdi
    return out


def _adx_k(h: Array, l: Array, c: Array, n: int) -> Array:
    rows, N = h.shape
    first = 2 * n - 1
    out = np.full((rows, N), np.nan)
    if N <= first:
        return out
    adx = None
    for s, e, pdi, mdi, st in _di_chunks(h, l, c, n):
        tot = pdi + mdi
        ok = (st != 0.0) & (tot != 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            dx = np.where(ok, 100.0 * (np.abs(mdi - pdi) / tot), 0.0)
        if adx is None:
            if e <= first:
                return _adx_whole(h, l, c, n)  # the first ADX needs n DX values of one chunk
            adx = dx[:, :n].sum(axis=1) / n
            out[:, first] = adx
            dx, ok, s = dx[:, n:], ok[:, n:], first + 1
        if dx.shape[1] == 0:
            continue
        if not ok.all():
            return _adx_whole(h, l, c, n)  # rare: TA-Lib's "keep the previous ADX" case
        y = iir(dx, 1.0 / n, adx, out=out[:, s:e])
        adx = y[:, -1].copy()
    return out


def _adx_whole(h: Array, l: Array, c: Array, n: int) -> Array:
    rows, N = h.shape
    out = np.full((rows, N), np.nan)
    first = 2 * n - 1
    if N <= first:
        return out
    pdi, mdi, st = _di_k(h, l, c, n)
    s = pdi + mdi
    ok = (st != 0.0) & (s != 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        dx = np.where(ok, 100.0 * (np.abs(mdi - pdi) / s), 0.0)
    # dx covers bars n..N-1; the first ADX (bar 2n-1) is the plain mean of the first n.
    adx0 = dx[:, :n].sum(axis=1) / n
    rest, rest_ok = dx[:, n:], ok[:, n:]
    res = np.empty((rows, N - first))
    res[:, 0] = adx0
    if rest.shape[1]:
        if rest_ok.all():
            res[:, 1:] = iir(rest, 1.0 / n, adx0)
        else:
            # TA-Lib keeps the previous ADX where DX is undefined: run the recursion over
            # the defined bars only and carry the value forward across the others.
            from scipy.signal import lfilter  # type: ignore[import-untyped, unused-ignore]  # (slow import)

            a = 1.0 - 1.0 / n
            for r in range(rows):
                okr = rest_ok[r]
                vals = np.full(rest.shape[1], np.nan)
                if okr.any():
                    y, _ = lfilter([1.0 / n], [1.0, -a], rest[r, okr], zi=[a * adx0[r]])
                    vals[okr] = y
                pos = np.where(okr, np.arange(okr.size), -1)
                pos = np.maximum.accumulate(pos)
                filled = np.where(pos >= 0, vals[np.maximum(pos, 0)], adx0[r])
                res[r, 1:] = filled
    out[:, first:] = res
    return out


def adx(high: Any, low: Any, close: Any, n: int = 14) -> Array:
    """Average Directional Index, 0..100 (TA-Lib ADX): Wilder-smoothed DX; first 2n-1 bars
    NaN. Raises ValueError if n < 2."""
    n = check_period("n", n, 2)
    arrs, shape = as_inputs(high=high, low=low, close=close)
    if (nb := kernels()) is not None:
        return run(nb.dmi, arrs, shape, 1, 0, n, 2)
    return apply(lambda h, l, c: _adx_k(h, l, c, n), arrs, shape)


def plus_di(high: Any, low: Any, close: Any, n: int = 14) -> Array:
    """+DI, 0..100 (TA-Lib PLUS_DI): 100 * smoothed +DM / smoothed true range; first n
    bars NaN. Raises ValueError if n < 2."""
    n = check_period("n", n, 2)
    arrs, shape = as_inputs(high=high, low=low, close=close)
    if (nb := kernels()) is not None:
        return run(nb.dmi, arrs, shape, 1, 0, n, 0)
    return apply(lambda h, l, c: _plus_di_k(h, l, c, n), arrs, shape)


def minus_di(high: Any, low: Any, close: Any, n: int = 14) -> Array:
    """−DI, 0..100 (TA-Lib MINUS_DI): 100 * smoothed −DM / smoothed true range; first n
    bars NaN. Raises ValueError if n < 2."""
    n = check_period("n", n, 2)
    arrs, shape = as_inputs(high=high, low=low, close=close)
    if (nb := kernels()) is not None:
        return run(nb.dmi, arrs, shape, 1, 0, n, 1)
    return apply(lambda h, l, c: _minus_di_k(h, l, c, n), arrs, shape)


def _ichimoku_k(h: Array, l: Array, tenkan: int, kijun: int,
                senkou_b: int) -> tuple[Array, Array, Array, Array]:
    tk = (rolling_max(h, tenkan) + rolling_min(l, tenkan)) / 2.0
    kj = (rolling_max(h, kijun) + rolling_min(l, kijun)) / 2.0
    sa = shift_cols((tk + kj) / 2.0, kijun)
    sb = shift_cols((rolling_max(h, senkou_b) + rolling_min(l, senkou_b)) / 2.0, kijun)
    return tk, kj, sa, sb


def ichimoku(high: Any, low: Any, close: Any, tenkan: int = 9, kijun: int = 26,
             senkou_b: int = 52) -> tuple[Array, Array, Array, Array, Array]:
    """Ichimoku Kinko Hyo (tenkan, kijun, senkou_a, senkou_b, chikou), price units.

    Displacement convention: every output is aligned to the bar where it is *drawn*.
    tenkan[t] = midpoint of the high/low range of the last ``tenkan`` bars (current
    included), kijun likewise over ``kijun`` bars; senkou_a[t] = (tenkan + kijun)/2 computed
    ``kijun`` bars earlier (at t - kijun), senkou_b[t] = midpoint of the last ``senkou_b``
    bars computed at t - kijun; chikou[t] = close[t + kijun] — it looks into the future and
    is NaN for the last ``kijun`` bars, so never use chikou in a scan or backtest signal.
    The cloud projected beyond the last bar is not returned (the shape equals the input's).
    Raises ValueError for periods < 1.
    """
    tenkan = check_period("tenkan", tenkan, 1)
    kijun = check_period("kijun", kijun, 1)
    senkou_b = check_period("senkou_b", senkou_b, 1)
    arrs, shape = as_inputs(high=high, low=low, close=close)
    if (nb := kernels()) is not None:
        tk, kj, sa, sb = run(nb.ichimoku, arrs, shape, 4, 2, tenkan, kijun, senkou_b)
    else:
        tk, kj, sa, sb = apply(lambda h, l, c: _ichimoku_k(h, l, tenkan, kijun, senkou_b),
                               arrs, shape, n_out=4)
    c2 = arrs[2].reshape(1, -1) if arrs[2].ndim == 1 else arrs[2]
    chikou = shift_cols(c2, -kijun).reshape(shape)
    return tk, kj, sa, sb, chikou


def _supertrend_k(h: Array, l: Array, c: Array, n: int, mult: float) -> tuple[Array, Array]:
    rows, N = h.shape
    line = np.full((rows, N), np.nan)
    direction = np.full((rows, N), np.nan)
    if N <= n:
        return line, direction
    a = _atr_k(h, l, c, n)
    hl2 = (h + l) / 2.0
    bu = (hl2 + mult * a)[:, n:]
    bl = (hl2 - mult * a)[:, n:]
    cc = c[:, n - 1:]  # cc[i] is the close of bar n+i-1 ... so cc[i+1] is bar n+i
    for r in range(rows):
        ub, lb, cl = bu[r].tolist(), bl[r].tolist(), cc[r].tolist()
        lo_out = [0.0] * len(ub)
        d_out = [0.0] * len(ub)
        fu, fl, d = ub[0], lb[0], 1.0
        lo_out[0], d_out[0] = fl, d
        for i in range(1, len(ub)):
            pc = cl[i]  # previous close (bar n+i-1)
            u = ub[i]
            nfu = u if (u < fu or pc > fu) else fu
            b = lb[i]
            nfl = b if (b > fl or pc < fl) else fl
            close_i = cl[i + 1]
            if d > 0:
                if close_i < fl:
                    d = -1.0
            elif close_i > fu:
                d = 1.0
            fu, fl = nfu, nfl
            lo_out[i] = fl if d > 0 else fu
            d_out[i] = d
        line[r, n:] = lo_out
        direction[r, n:] = d_out
    return line, direction


def supertrend(high: Any, low: Any, close: Any, n: int = 10,
               mult: float = 3.0) -> tuple[Array, Array]:
    """SuperTrend (line, direction).

    basic bands = (high+low)/2 ± mult * ATR(n) (TA-Lib ATR). The final upper band only
    moves down (it resets to the basic band when the basic band is lower or the previous
    close was above it); the final lower band only moves up (reset when the basic band is
    higher or the previous close was below it). Direction starts at +1 (up) on bar n and
    flips to −1 when the close falls below the previous bar's final lower band, back to +1
    when the close rises above the previous final upper band. line = final lower band in
    an up trend, final upper band in a down trend. First n bars NaN.
    Raises ValueError if n < 1 or mult <= 0.
    """
    n = check_period("n", n, 1)
    mult = check_positive("mult", mult)
    arrs, shape = as_inputs(high=high, low=low, close=close)
    if (nb := kernels()) is not None:
        return run(nb.supertrend, arrs, shape, 2, 1, n, mult)
    return apply(lambda h, l, c: _supertrend_k(h, l, c, n, mult), arrs, shape, n_out=2)


def _sar_k(h: Array, l: Array, accel: float, maximum: float) -> Array:
    out = np.full(h.shape, np.nan)
    for r in range(h.shape[0]):
        row = [0.0] * h.shape[1]  # plain lists: several times faster than numpy scalars here
        sar_row(h[r].tolist(), l[r].tolist(), accel, maximum, row)
        out[r] = row
    return out


def sar(high: Any, low: Any, accel: float = 0.02, maximum: float = 0.2) -> Array:
    """Parabolic SAR (price units), TA-Lib SAR: first direction from the first two bars'
    −DM, acceleration ``accel`` per new extreme up to ``maximum``; bar 0 NaN.
    Raises ValueError unless 0 < accel and 0 < maximum."""
    accel = check_positive("accel", accel)
    maximum = check_positive("maximum", maximum)
    if accel > maximum:
        accel = maximum  # TA-Lib clamps the same way
    arrs, shape = as_inputs(high=high, low=low)
    if (nb := kernels()) is not None:
        return run(nb.sar, arrs, shape, 1, 0, accel, maximum)
    return apply(lambda h, l: _sar_k(h, l, accel, maximum), arrs, shape)
