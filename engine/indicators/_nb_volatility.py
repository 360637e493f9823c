"""numba kernels of volatility and channels: ATR, NATR, Bollinger Bands, Donchian,
Keltner (conventions: ``engine.indicators._nb``)."""

from __future__ import annotations

import math

import numpy as np

from engine.indicators._nb_base import (
    _CHECK_CHUNK, _LANE_MIN_SEGMENTS, _NAN, _finite1, _finite3, _jit, _lead, _muladd,
    _nan_head, _nan_outside, _span, _tr, _warmup_len,
)
from engine.indicators._nb_moving import _ema_row
from engine.indicators._nb_window import _maxmin_row

@_jit
def _atr_row(h, l, c, n, out):  # type: ignore[no-untyped-def]
    """TA-Lib ATR: seed = mean of the first n true ranges (bars 1..n) at bar n, then the
    Wilder average a*prev + (1-a)*tr, a = (n-1)/n; n == 1 is the true range itself (NaN at bar 0)."""
    m = h.shape[0]
    if m == 0:
        return
    if n == 1:
        out[0] = _NAN
        for t in range(m - 1):
            out[t + 1] = _tr(h[t + 1], l[t + 1], c[t])
        return
    _nan_head(out, n)
    if m <= n:
        return
    total = 0.0
    for t in range(1, n + 1):
        total += _tr(h[t], l[t], c[t - 1])
    prev = total / n
    out[n] = prev
    # TA-Lib 0.8's loop (bit for bit): prev = a*prev + tr*(1 - a), a = (n-1)/n, one
    # multiply-add per bar.
    a = (n - 1) / n
    inv = 1.0 - a
    hs = h[n + 1:]
    ls = l[n + 1:]
    cs = c[n:]
    o = out[n + 1:]
    cnt = m - n - 1
    warm = _warmup_len(inv)
    if cnt < _LANE_MIN_SEGMENTS * warm:
        _atr_serial(hs, ls, cs, prev, a, inv, 0, cnt, o)
    else:
        _atr_lanes(hs, ls, cs, prev, a, inv, cnt // 2, warm, o)


@_jit
def _atr_serial(hs, ls, cs, prev, a, inv, i0, i1, o):  # type: ignore[no-untyped-def]
    """ATR steps for bars i0..i1-1 (hs[i], ls[i] with the previous close cs[i]) from the
    ATR ``prev`` before bar i0."""
    for i in range(i0, i1):
        prev = _muladd(prev, a, _tr(hs[i], ls[i], cs[i]) * inv)
        o[i] = prev


@_jit
def _atr_lanes(hs, ls, cs, prev, a, inv, half, warm, o):  # type: ignore[no-untyped-def]
    """_atr_serial over all bars as two halves side by side (see _warmup_len), the
    second started ``warm`` bars early from a guess; checked at the seam. Chunk by chunk,
    both halves' inputs are first checked to be finite (while they are in cache, so the
    inputs are read from memory once): returns False, with ``o`` unfinished, at the first
    chunk holding a non-finite value (the caller then finds the span and starts over)."""
    m = o.shape[0]
    w0 = half - warm
    q = _tr(hs[w0], ls[w0], cs[w0])
    for i in range(w0, half):
        q = _muladd(q, a, _tr(hs[i], ls[i], cs[i]) * inv)
    seam = q
    hb = hs[half:]
    lb = ls[half:]
    cb = cs[half:]
    ob = o[half:]
    for c0 in range(0, half, _CHECK_CHUNK):
        c1 = min(half, c0 + _CHECK_CHUNK)
        if not (_finite3(hs, ls, cs, c0, c1) and _finite3(hb, lb, cb, c0, c1)):
            return False
        h0 = hs[c0:c1]
        l0 = ls[c0:c1]
        k0 = cs[c0:c1]
        o0 = o[c0:c1]
        h1 = hb[c0:c1]
        l1 = lb[c0:c1]
        k1 = cb[c0:c1]
        o1 = ob[c0:c1]
        for i in range(c1 - c0):
            prev = _muladd(prev, a, _tr(h0[i], l0[i], k0[i]) * inv)
            o0[i] = prev
            q = _muladd(q, a, _tr(h1[i], l1[i], k1[i]) * inv)
            o1[i] = q
    if m > 2 * half:
        if not _finite3(hs, ls, cs, 2 * half, m):
            return False
        _atr_serial(hs, ls, cs, q, a, inv, 2 * half, m, o)
    if prev != seam:
        _atr_serial(hs, ls, cs, prev, a, inv, half, m, o)
    return True


@_jit
def _atr_fused(h, l, c, n, out):  # type: ignore[no-untyped-def]
    """_atr_row for a row that may hold non-finite values, checking them on the way:
    True when every input was finite and ``out`` is done; False (``out`` unfinished)
    for a row shorter than the seed, n == 1, or one with a non-finite value."""
    m = h.shape[0]
    if n < 2 or m <= n:
        return False
    a = (n - 1) / n
    inv = 1.0 - a
    # The loop reads each bar's high and low and the close before it: the seed bars and
    # the last close (read by no later bar) are checked here.
    if not _finite3(h, l, c, 0, n + 1) or not math.isfinite(c[m - 1]):
        return False
    _nan_head(out, n)
    total = 0.0
    for t in range(1, n + 1):
        total += _tr(h[t], l[t], c[t - 1])
    prev = total / n
    out[n] = prev
    hs = h[n + 1:]
    ls = l[n + 1:]
    cs = c[n:]
    o = out[n + 1:]
    # The finiteness check is folded into the loop (see _atr_tail); long rows run as
    # four quarters side by side (_atr_tail4).
    return _atr_tail4(hs, ls, cs, prev, a, inv, o, _warmup_len(inv))


@_jit
def _atr_tail(hs, ls, cs, prev, a, inv, o):  # type: ignore[no-untyped-def]
    """_atr_fused's loop after the seed: o[i] = the ATR after bar i (high hs[i], low
    ls[i], previous close cs[i]) from ``prev``. True when every input was finite and
    low <= high throughout; otherwise ``o`` is unfinished and the caller takes the span
    path (TA-Lib's formula throughout).

    The true range as max(high, prev close) - min(low, prev close): for low <= high
    that is the very subtraction TA-Lib's larger-of-three picks (rounding is monotonic,
    so the largest exact difference gives the largest rounded one), bit for bit, in
    three operations instead of seven (the loop is bound by its operation count: 1.65
    -> 1.35 ms on 1M bars here). A bar whose high is not >= its low (low > high, or a
    NaN) gets a NaN true range by one compare and select, and any infinity makes the
    range infinite, so the average ends non-finite for good (inf and NaN persist through
    the multiply-add) exactly when the row needs the span path: one finiteness test at
    the end replaces the per-bar finiteness term and running minimum of high - low used
    before (bit-identical; 1.73 -> 1.39 ms against TA-Lib's 1.64 in one loaded run).
    With the per-bar finiteness term, two halves side by side were slower (1.7-1.9 ms);
    without it, long rows run in four quarters (_atr_tail4)."""
    for i in range(o.shape[0]):
        hv = hs[i]
        lv = ls[i]
        yv = cs[i]
        top = hv if hv > yv else yv
        bot = lv if lv < yv else yv
        tr = (top - bot) if hv >= lv else _NAN
        prev = _muladd(prev, a, tr * inv)
        o[i] = prev
    return math.isfinite(prev)


@_jit
def _atr_step(prev, a, inv, hv, lv, yv):  # type: ignore[no-untyped-def]
    """One step of _atr_tail's loop (its true-range shortcut and NaN select)."""
    top = hv if hv > yv else yv
    bot = lv if lv < yv else yv
    tr = (top - bot) if hv >= lv else _NAN
    return _muladd(prev, a, tr * inv)


@_jit
def _atr_guess(hs, ls, cs, a, inv, b, warm):  # type: ignore[no-untyped-def]
    """A guessed ATR state before bar b: ``warm`` steps from the true range at b - warm
    (see _warmup_len); by then it is the true state bit for bit, or the seam check fails."""
    q = _tr(hs[b - warm], ls[b - warm], cs[b - warm])
    for i in range(b - warm, b):
        q = _atr_step(q, a, inv, hs[i], ls[i], cs[i])
    return q


@_jit
def _atr_tail4(hs, ls, cs, prev, a, inv, o, warm):  # type: ignore[no-untyped-def]
    """_atr_tail over all bars as four quarters side by side (see _warmup_len): quarters
    1-3 start ``warm`` bars early from a guess; each seam is checked (the state a quarter
    ends with against the guess its successor started from) and, from the first seam that
    fails, the rest is recomputed serially. The same numbers and the same result as
    _atr_tail: a non-finite state stays non-finite to its quarter's end, and NaN breaks
    the seam check after it. The serial loop is bound by its multiply-add's latency, one
    chain per bar; four chains overlap (measured on the bench's 1M bars: 1.38 -> 1.00-1.07
    ms, TA-Lib 1.36-1.37, same runs; two halves were 1.38)."""
    m = o.shape[0]
    if m < 2 * _LANE_MIN_SEGMENTS * warm:
        return _atr_tail(hs, ls, cs, prev, a, inv, o)
    q4 = m // 4
    b1 = q4
    b2 = 2 * q4
    b3 = 3 * q4
    g1 = _atr_guess(hs, ls, cs, a, inv, b1, warm)
    g2 = _atr_guess(hs, ls, cs, a, inv, b2, warm)
    g3 = _atr_guess(hs, ls, cs, a, inv, b3, warm)
    s1 = g1
    s2 = g2
    s3 = g3
    p0 = prev
    h1 = hs[b1:]
    l1 = ls[b1:]
    c1 = cs[b1:]
    o1 = o[b1:]
    h2 = hs[b2:]
    l2 = ls[b2:]
    c2 = cs[b2:]
    o2 = o[b2:]
    h3 = hs[b3:]
    l3 = ls[b3:]
    c3 = cs[b3:]
    o3 = o[b3:]
    for i in range(q4):
        p0 = _atr_step(p0, a, inv, hs[i], ls[i], cs[i])
        o[i] = p0
        g1 = _atr_step(g1, a, inv, h1[i], l1[i], c1[i])
        o1[i] = g1
        g2 = _atr_step(g2, a, inv, h2[i], l2[i], c2[i])
        o2[i] = g2
        g3 = _atr_step(g3, a, inv, h3[i], l3[i], c3[i])
        o3[i] = g3
    for i in range(4 * q4, m):  # the last quarter's remainder (< 4 bars)
        g3 = _atr_step(g3, a, inv, hs[i], ls[i], cs[i])
        o[i] = g3
    if p0 != s1:
        return _atr_tail(hs[b1:], ls[b1:], cs[b1:], p0, a, inv, o[b1:])
    if g1 != s2:
        return _atr_tail(hs[b2:], ls[b2:], cs[b2:], g1, a, inv, o[b2:])
    if g2 != s3:
        return _atr_tail(hs[b3:], ls[b3:], cs[b3:], g2, a, inv, o[b3:])
    return math.isfinite(g3)


# BBANDS as TA-Lib 0.8 computes it (its bbands.c SMA path, issues #117/#118/#243 there):
# the middle band is the SMA's running total; the deviation is the "shifted-data"
# variance E[d^2] - E[d]^2 of d = x - shift, two running sums updated O(1) per bar, with
# the shift re-anchored on the window's mean (and both sums recomputed from the window)
# every 32*n bars, or sooner when the sums go stale (variance below 1e-6 of E[d^2], or
# a removed square above 1e6 times the rest). TA-Lib's build does not contract these
# expressions (checked: plain multiplies and adds give its numbers bit for bit on the
# bench's 1M bars, the tests' price files and a flat stretch, n 2..50, k 1.7..3.3; fused
# multiply-adds differ), so none is written here. The two-pass deviation this replaces
# was O(n) per bar and differed from TA-Lib 0.8 by ~1e-13 (up to 0.7 % where a long
# walk falls to 1e-11 and the running total's rounding swamps the mean).
_BB_CHUNK = 512  # bars per chunk: the serial recurrence writes small buffers (L1)


@_jit
def _bb_reseed(x, i, n, inv):  # type: ignore[no-untyped-def]
    """TA-Lib's reseed at bar i: the shift becomes the mean of x[i-n+1..i], both sums
    are recomputed over that window, the variance is taken (with the floor that owns
    its sign), then the oldest bar is removed. Returns (shift, v1, v2, variance)."""
    ws = i - (n - 1)
    win = x[ws:i + 1]
    s = 0.0
    for j in range(n):
        s += win[j]
    shift = s * inv
    v1 = 0.0
    v2 = 0.0
    for j in range(n):
        t = win[j] - shift
        v1 += t
        v2 += t * t
    m1 = v1 * inv
    var = v2 * inv - m1 * m1
    if var < 0.000000000001 * (v2 * inv):
        var = 0.0
    t = win[0] - shift
    v1 -= t
    v2 -= t * t
    return shift, v1, v2, var


@_jit
def _bb_row(x, n, kdev, up, mid, low, tot, var):  # type: ignore[no-untyped-def]
    """TA-Lib 0.8 BBANDS (SMA, nbdevup = nbdevdn = kdev) of x into up/mid/low, chunk by
    chunk: the serial recurrence stores the running total and the variance of each bar
    in the small buffers tot/var (length _BB_CHUNK); a vectorised pass then divides,
    takes the roots and writes the three outputs once. True when the running total
    ended finite, which proves every value of x finite (see sma)."""
    m = x.shape[0]
    _nan_head(up, n - 1)
    _nan_head(mid, n - 1)
    _nan_head(low, n - 1)
    if m < n:
        return _finite1(x)
    inv = 1.0 / n
    shift = x[0]
    ma = 0.0
    v1 = 0.0
    v2 = 0.0
    for j in range(n - 1):
        v = x[j]
        ma += v
        t = v - shift
        v1 += t
        v2 += t * t
    cnt = 32 * n
    for c0 in range(n - 1, m, _BB_CHUNK):
        c1 = min(m, c0 + _BB_CHUNK)
        w = c1 - c0
        new = x[c0:c1]
        old = x[c0 - n + 1:c1 - n + 1]
        tb = tot[:w]
        vb = var[:w]
        for j in range(w):
            v = new[j]
            ma += v
            t = v - shift
            v1 += t
            v2 += t * t
            m1 = v1 * inv
            vr = v2 * inv - m1 * m1
            tb[j] = ma
            u = old[j]
            ma -= u
            t = u - shift
            v1 -= t
            tsq = t * t
            v2 -= tsq
            cnt -= 1
            if vr < 0.000001 * (v2 * inv) or tsq > 1000000.0 * v2 or cnt <= 0:
                cnt = 32 * n
                shift, v1, v2, vr = _bb_reseed(x, c0 + j, n, inv)
            vb[j] = vr
        mw = mid[c0:c1]
        uw = up[c0:c1]
        dw = low[c0:c1]
        for j in range(w):
            md = tb[j] / n
            vr = vb[j]
            sd = np.sqrt(vr) if vr != 0.0 else 0.0
            width = sd * kdev
            mw[j] = md
            uw[j] = md + width
            dw[j] = md - width
    return math.isfinite(ma)


@_jit
def bbands(x, up, mid, low, n, kdev):  # type: ignore[no-untyped-def]
    tot = np.empty(_BB_CHUNK)
    var = np.empty(_BB_CHUNK)
    for r in range(x.shape[0]):
        xr = x[r]
        # The whole row from its first finite bar, no scan first: a finite running
        # total proves the row finite (see sma); otherwise its span, computed again.
        lo = _lead(xr, xr, xr)
        hi = xr.shape[0]
        if not _bb_row(xr[lo:], n, kdev, up[r][lo:], mid[r][lo:], low[r][lo:], tot, var):
            lo, hi = _span(xr, xr, xr, xr, 1)
            _bb_row(xr[lo:hi], n, kdev, up[r][lo:hi], mid[r][lo:hi], low[r][lo:hi],
                    tot, var)
        _nan_outside(up[r], lo, hi)
        _nan_outside(mid[r], lo, hi)
        _nan_outside(low[r], lo, hi)


@_jit
def atr(h, l, c, out, n):  # type: ignore[no-untyped-def]
    for r in range(h.shape[0]):
        hr = h[r]
        lr = l[r]
        cr = c[r]
        o = out[r]
        lo = _lead(hr, lr, cr)
        if _atr_fused(hr[lo:], lr[lo:], cr[lo:], n, o[lo:]):
            _nan_head(o, lo)
            continue
        lo, hi = _span(hr, lr, cr, cr, 3)
        _nan_outside(o, lo, hi)
        _atr_row(hr[lo:hi], lr[lo:hi], cr[lo:hi], n, o[lo:hi])


@_jit
def natr(h, l, c, out, n):  # type: ignore[no-untyped-def]
    for r in range(h.shape[0]):
        hr = h[r]
        lr = l[r]
        cr = c[r]
        orow = out[r]
        lo, hi = _span(hr, lr, cr, cr, 3)
        _nan_outside(orow, lo, hi)
        o = orow[lo:hi]
        cs = cr[lo:hi]
        _atr_row(hr[lo:hi], lr[lo:hi], cs, n, o)
        for t in range(hi - lo):
            v = o[t]
            cl = cs[t]
            o[t] = v if np.isnan(v) else (0.0 if cl == 0.0 else (v / cl) * 100.0)


@_jit
def donchian(h, l, up, mid, low, n):  # type: ignore[no-untyped-def]
    for r in range(h.shape[0]):
        hr = h[r]
        lr = l[r]
        lo, hi = _span(hr, lr, lr, lr, 2)
        _nan_outside(up[r], lo, hi)
        _nan_outside(mid[r], lo, hi)
        _nan_outside(low[r], lo, hi)
        u = up[r][lo:hi]
        d = low[r][lo:hi]
        md = mid[r][lo:hi]
        _maxmin_row(hr[lo:hi], lr[lo:hi], n, u, d)
        for t in range(hi - lo):
            md[t] = (u[t] + d[t]) / 2.0


@_jit
def keltner(h, l, c, up, mid, low, band, n, kdev, atr_n):  # type: ignore[no-untyped-def]
    k = 2.0 / (n + 1)
    for r in range(h.shape[0]):
        hr = h[r]
        lr = l[r]
        cr = c[r]
        lo, hi = _span(hr, lr, cr, cr, 3)
        _nan_outside(up[r], lo, hi)
        _nan_outside(mid[r], lo, hi)
        _nan_outside(low[r], lo, hi)
        m = hi - lo
        md = mid[r][lo:hi]
        u = up[r][lo:hi]
        d = low[r][lo:hi]
        b = band[:m]
        _ema_row(cr[lo:hi], n, 0, k, md)
        _atr_row(hr[lo:hi], lr[lo:hi], cr[lo:hi], atr_n, b)
        for t in range(m):
            bt = kdev * b[t]
            u[t] = md[t] + bt
            d[t] = md[t] - bt
            md[t] = _NAN if np.isnan(bt) else md[t]
