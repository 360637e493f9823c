"""numba kernels of the oscillators: RSI, MACD, STOCH, StochRSI, CCI, WILLR
(conventions: ``engine.indicators._nb``)."""

from __future__ import annotations

import math

import numpy as np

from engine.indicators._core import TA_REL_EQ
from engine.indicators._nb_base import (
    _BLOCK, _LANE_MIN_SEGMENTS, _finite1, _finite3, _jit, _lead, _muladd, _nan_head,
    _nan_outside, _span, _ta_equal, _warmup_len, _window_sums,
)
from engine.indicators._nb_moving import _sma_row
from engine.indicators._nb_window import (
    _EXT_CHUNK, _EXT_DOUBLING_MAX, _ext_chunk, _ext_sqrt_chunk, _maxmin_row,
)

@_jit
def _rsi_row(x, n, out):  # type: ignore[no-untyped-def]
    """TA-Lib 0.8 RSI (unstable period 0): Wilder averages (prev*(n-1) + move) * (1/n)
    (bit-identical to TA-Lib 0.8.1); 0 where both averages are exactly 0. Long tails
    run as two halves side by side (see _warmup_len). Returns True when every value of
    x was finite: a non-finite move makes an average inf or NaN for good (they only
    grow by non-negative moves), so the final averages tell."""
    m = x.shape[0]
    _nan_head(out, n)
    if m <= n:
        return _finite1(x)
    gain = 0.0
    loss = 0.0
    for t in range(1, n + 1):
        d = x[t] - x[t - 1]
        if d < 0:
            loss -= d
        else:
            gain += d
    loss /= n
    gain /= n
    out[n] = _rsi_value(gain, loss)
    inv = 1.0 / n
    a = float(n - 1)
    prev = x[n:]
    cur = x[n + 1:]
    o = out[n + 1:]
    cnt = m - n - 1
    warm = _warmup_len(inv)
    if cnt < _LANE_MIN_SEGMENTS * warm:
        gain, loss = _rsi_serial(prev, cur, gain, loss, a, inv, 0, cnt, o)
        return math.isfinite(gain + loss)
    return _rsi_lanes(prev, cur, gain, loss, a, inv, cnt // 2, warm, o)


@_jit
def _rsi_value(gain, loss):  # type: ignore[no-untyped-def]
    tot = gain + loss
    return 0.0 if tot == 0.0 else 100.0 * (gain / tot)


@_jit
def _rsi_serial(prev, cur, gain, loss, a, inv, i0, i1, o):  # type: ignore[no-untyped-def]
    """RSI steps for bars i0..i1-1 (move cur[i] - prev[i]) from the averages before
    bar i0; returns the averages after bar i1-1."""
    for i in range(i0, i1):
        d = cur[i] - prev[i]
        # d < 0 adds -d to the loss, else d to the gain; adding 0.0 changes neither.
        loss = (loss * a + (-d if d < 0 else 0.0)) * inv
        gain = (gain * a + (0.0 if d < 0 else d)) * inv
        o[i] = _rsi_value(gain, loss)
    return gain, loss


@_jit
def _rsi_lanes(prev, cur, gain, loss, a, inv, half, warm, o):  # type: ignore[no-untyped-def]
    """_rsi_serial over all bars as two halves side by side, the second started
    ``warm`` bars early from the seed's averages as a guess; checked bit for bit at the
    seam, recomputed serially if it differs. Returns True when all averages stayed
    finite (see _rsi_row)."""
    m = o.shape[0]
    w0 = half - warm
    g2 = gain
    l2 = loss
    for i in range(w0, half):
        d = cur[i] - prev[i]
        l2 = (l2 * a + (-d if d < 0 else 0.0)) * inv
        g2 = (g2 * a + (0.0 if d < 0 else d)) * inv
    sg = g2
    sl = l2
    pb = prev[half:]
    cb = cur[half:]
    ob = o[half:]
    for i in range(half):
        d = cur[i] - prev[i]
        loss = (loss * a + (-d if d < 0 else 0.0)) * inv
        gain = (gain * a + (0.0 if d < 0 else d)) * inv
        o[i] = _rsi_value(gain, loss)
        e = cb[i] - pb[i]
        l2 = (l2 * a + (-e if e < 0 else 0.0)) * inv
        g2 = (g2 * a + (0.0 if e < 0 else e)) * inv
        ob[i] = _rsi_value(g2, l2)
    if m > 2 * half:
        g2, l2 = _rsi_serial(prev, cur, g2, l2, a, inv, 2 * half, m, o)
    if not (gain == sg and loss == sl):
        g2, l2 = _rsi_serial(prev, cur, gain, loss, a, inv, half, m, o)
    return math.isfinite(gain + loss) and math.isfinite(g2 + l2)


@_jit
def rsi(x, out, n):  # type: ignore[no-untyped-def]
    for r in range(x.shape[0]):
        xr = x[r]
        o = out[r]
        lo = _lead(xr, xr, xr)
        if _rsi_row(xr[lo:], n, o[lo:]):  # optimistic: see _rsi_row
            _nan_head(o, lo)
            continue
        lo, hi = _span(xr, xr, xr, xr, 1)
        _nan_outside(o, lo, hi)
        _rsi_row(xr[lo:hi], n, o[lo:hi])


@_jit
def _macd_row(x, fast, slow, signal, ln, sg, hs):  # type: ignore[no-untyped-def]
    """TA-Lib MACD: both EMAs start at bar slow-1 (the fast one seeded on the ``fast``
    values ending there), the signal EMA is seeded on the first ``signal`` line values;
    all outputs NaN before bar slow+signal-2. One loop, three recurrences."""
    m = x.shape[0]
    start = slow - 1
    lookback = start + signal - 1
    _nan_head(ln, lookback)
    _nan_head(sg, lookback)
    _nan_head(hs, lookback)
    if lookback >= m:
        return
    kf = 2.0 / (fast + 1)
    ks = 2.0 / (slow + 1)
    kg = 2.0 / (signal + 1)
    total = 0.0
    for i in range(slow - fast, start + 1):
        total += x[i]
    ef = total / fast
    total = 0.0
    for i in range(start + 1):
        total += x[i]
    es = total / slow
    line = ef - es
    total = line
    for t in range(start + 1, lookback + 1):
        v = x[t]
        ef = _muladd(v - ef, kf, ef)
        es = _muladd(v - es, ks, es)
        line = ef - es
        total += line
    sig = total / signal
    ln[lookback] = line
    sg[lookback] = sig
    hs[lookback] = line - sig
    xs = x[lookback + 1:]
    lo = ln[lookback + 1:]
    so = sg[lookback + 1:]
    ho = hs[lookback + 1:]
    tail = m - lookback - 1
    warm = _warmup_len(min(kf, ks, kg))
    if tail >= _LANE_MIN_SEGMENTS * warm:
        half = tail // 2
        _macd_lanes(xs, ef, es, sig, kf, ks, kg, half, warm, lo, so, ho)
        return
    _macd_serial(xs, ef, es, sig, kf, ks, kg, 0, tail, lo, so, ho)


@_jit
def _macd_serial(xs, ef, es, sig, kf, ks, kg, i0, i1, lo, so, ho):  # type: ignore[no-untyped-def]
    """The MACD step for bars i0..i1-1 from the state (ef, es, sig) before bar i0, one
    loop writing the outputs directly: the fast and slow EMAs are independent chains and
    the signal's chain only waits for the line, so the CPU overlaps all three."""
    for i in range(i0, i1):
        v = xs[i]
        ef = _muladd(v - ef, kf, ef)
        es = _muladd(v - es, ks, es)
        line = ef - es
        sig = _muladd(line - sig, kg, sig)
        lo[i] = line
        so[i] = sig
        ho[i] = line - sig


@_jit
def _macd_lanes(xs, ef, es, sig, kf, ks, kg, half, warm, lo, so, ho):  # type: ignore[no-untyped-def]
    """_macd_serial over the whole tail as two interleaved chains (see _warmup_len): the
    second half starts ``warm`` bars early from a guessed state; the two halves' steps
    are independent, so the CPU runs them side by side. Exact: the second half's state at
    its first bar is checked to equal, bit for bit, the first half's state there (then
    every later value is the serial loop's); if it does not, it is recomputed serially."""
    m = xs.shape[0]
    w0 = half - warm
    g = xs[w0]
    bf = g
    bs = g
    bg = 0.0
    for i in range(w0, half):
        v = xs[i]
        bf = _muladd(v - bf, kf, bf)
        bs = _muladd(v - bs, ks, bs)
        bg = _muladd((bf - bs) - bg, kg, bg)
    sf, ss, sgg = bf, bs, bg
    b = xs[half:]
    lb = lo[half:]
    sb = so[half:]
    hb = ho[half:]
    for i in range(half):
        v = xs[i]
        ef = _muladd(v - ef, kf, ef)
        es = _muladd(v - es, ks, es)
        line = ef - es
        sig = _muladd(line - sig, kg, sig)
        lo[i] = line
        so[i] = sig
        ho[i] = line - sig
        u = b[i]
        bf = _muladd(u - bf, kf, bf)
        bs = _muladd(u - bs, ks, bs)
        bl = bf - bs
        bg = _muladd(bl - bg, kg, bg)
        lb[i] = bl
        sb[i] = bg
        hb[i] = bl - bg
    if m - half > half:  # odd length: the last bar
        _macd_serial(xs, bf, bs, bg, kf, ks, kg, 2 * half, m, lo, so, ho)
    if not (ef == sf and es == ss and sig == sgg):
        _macd_serial(xs, ef, es, sig, kf, ks, kg, half, m, lo, so, ho)


@_jit
def macd(x, line, sig, hist, fast, slow, signal):  # type: ignore[no-untyped-def]
    if slow < fast:
        fast, slow = slow, fast
    for r in range(x.shape[0]):
        xr = x[r]
        lo, hi = _span(xr, xr, xr, xr, 1)
        _nan_outside(line[r], lo, hi)
        _nan_outside(sig[r], lo, hi)
        _nan_outside(hist[r], lo, hi)
        _macd_row(xr[lo:hi], fast, slow, signal, line[r][lo:hi], sig[r][lo:hi],
                  hist[r][lo:hi])


@_jit
def _fastk_row(h, l, c, n, out, tmp):  # type: ignore[no-untyped-def]
    """Raw %K over n bars (TA-Lib STOCHF): 0 on a flat range (TA-Lib's rounding test).
    ``tmp``: scratch of len(h)."""
    m = h.shape[0]
    _maxmin_row(h, l, n, out, tmp)
    s = min(m, n - 1)
    hh = out[s:]
    ll = tmp[s:]
    cs = c[s:]
    for t in range(m - s):
        a = hh[t]
        b = ll[t]
        hh[t] = 0.0 if _ta_equal(a, b) else (cs[t] - b) / ((a - b) / 100.0)


@_jit
def stoch(h, l, c, k, d, fk, tmp, fastk, slowk, slowd):  # type: ignore[no-untyped-def]
    s0 = fastk - 1
    s1 = s0 + slowk - 1
    lookback = s1 + slowd - 1
    for r in range(h.shape[0]):
        hr = h[r]
        lr = l[r]
        cr = c[r]
        lo, hi = _span(hr, lr, cr, cr, 3)
        _nan_outside(k[r], lo, hi)
        _nan_outside(d[r], lo, hi)
        m = hi - lo
        ko = k[r][lo:hi]
        do = d[r][lo:hi]
        f = fk[:m]
        _fastk_row(hr[lo:hi], lr[lo:hi], cr[lo:hi], fastk, f, tmp[:m])
        _nan_head(ko, m)
        _nan_head(do, m)
        if m > s0:
            _sma_row(f[s0:], slowk, ko[s0:])
        if m > s1:
            _sma_row(ko[s1:], slowd, do[s1:])
        _nan_head(ko, lookback)


@_jit
def stochrsi(x, k, d, rs, fk, tmp, n, fastk, fastd):  # type: ignore[no-untyped-def]
    s0 = n + fastk - 1
    lookback = s0 + fastd - 1
    for r in range(x.shape[0]):
        xr = x[r]
        lo, hi = _span(xr, xr, xr, xr, 1)
        _nan_outside(k[r], lo, hi)
        _nan_outside(d[r], lo, hi)
        m = hi - lo
        ko = k[r][lo:hi]
        do = d[r][lo:hi]
        _nan_head(ko, m)
        _nan_head(do, m)
        if m <= n:
            continue
        rr = rs[:m]
        _rsi_row(xr[lo:hi], n, rr)
        f = fk[:m - n]
        q = rr[n:]
        _fastk_row(q, q, q, fastk, f, tmp[:m - n])
        if m > s0:
            _sma_row(f[fastk - 1:], fastd, do[s0:])
        if m > lookback:
            a = ko[lookback:]
            b = f[lookback - n:]
            for t in range(m - lookback):
                a[t] = b[t]


@_jit
def cci(h, l, c, out, tp, n):  # type: ignore[no-untyped-def]
    avg = np.empty(_BLOCK)
    dev = np.empty(_BLOCK)
    for r in range(h.shape[0]):
        hr = h[r]
        lr = l[r]
        cr = c[r]
        orow = out[r]
        lo, hi = _span(hr, lr, cr, cr, 3)
        _nan_outside(orow, lo, hi)
        m = hi - lo
        o = orow[lo:hi]
        _nan_head(o, n - 1)
        if m < n:
            continue
        hs = hr[lo:hi]
        ls = lr[lo:hi]
        cs = cr[lo:hi]
        for t in range(m):
            tp[t] = (hs[t] + ls[t] + cs[t]) / 3.0
        # Direct window sums oldest to newest (TA-Lib's order), blocked across bars.
        for t0 in range(n - 1, m, _BLOCK):
            t1 = min(m, t0 + _BLOCK)
            w = t1 - t0
            _window_sums(tp, n, t0, t1, avg)
            av = avg[:w]
            dv = dev[:w]
            for j in range(w):
                av[j] /= n
                dv[j] = 0.0
            for kk in range(n):
                tw = tp[t0 - n + 1 + kk:t1 - n + 1 + kk]
                for j in range(w):
                    dv[j] += abs(tw[j] - av[j])
            lw = tp[t0:t1]
            ow = o[t0:t1]
            for j in range(w):
                last = lw[j]
                a = av[j]
                num = last - a
                # A typical price equal to its mean up to rounding gives 0 (TA-Lib).
                flat = abs(num) <= TA_REL_EQ * max(abs(last), abs(a))
                ow[j] = 0.0 if (flat or dv[j] == 0.0) else num / (0.015 * (dv[j] / n))


@_jit
def _willr_fused(h, l, c, n, out):  # type: ignore[no-untyped-def]
    """WILLR of a row that may hold non-finite values, for windows up to
    _EXT_DOUBLING_MAX: chunk by chunk, the inputs are checked, the highest high and
    lowest low computed by the square-root decomposition (doubling below 4 bars) into two
    small buffers, and the output written
    once (one pass over memory instead of a span scan and three passes). True when
    every input was finite and ``out`` is done; False (``out`` unfinished) otherwise,
    or for a row shorter than n or a longer window.

    The value is TA-Lib 0.8.1's, bit for bit: (HH - close) / (HH - LL) * -100, one
    division (found by probing it; the older (HH - close) / ((HH - LL) / -100) differs
    in the last bit on a third of the bench's bars and costs a second division)."""
    m = h.shape[0]
    if m < n or n > _EXT_DOUBLING_MAX or not _finite3(h, l, c, 0, n - 1):
        return False
    _nan_head(out, n - 1)
    cl = _EXT_CHUNK
    a = np.empty(cl + n - 1)
    b = np.empty(cl + n - 1)
    hb = np.empty(cl + n - 1)
    lb = np.empty(cl + n - 1)
    for t0 in range(n - 1, m, cl):
        t1 = min(m, t0 + cl)
        w = t1 - t0 + n - 1
        if not _finite3(h, l, c, t0, t1):
            return False
        if n >= 4:  # the square-root decomposition (see _ext_sqrt), into hb/lb from 0
            _ext_sqrt_chunk(h, n, 1, t0, t1, a, hb, False)
            _ext_sqrt_chunk(l, n, -1, t0, t1, a, lb, False)
            hh = hb[:t1 - t0]
            lw = lb[:t1 - t0]
        else:
            _ext_chunk(h[t0 - n + 1:t1], w, n, 1.0, a, b, hb)
            _ext_chunk(l[t0 - n + 1:t1], w, n, -1.0, a, b, lb)
            hh = hb[n - 1:w]
            lw = lb[n - 1:w]
        cs = c[t0:t1]
        o = out[t0:t1]
        for t in range(t1 - t0):
            x = hh[t]
            y = lw[t]
            o[t] = 0.0 if _ta_equal(x, y) else ((x - cs[t]) / (x - y)) * -100.0
    return True


@_jit
def willr(h, l, c, out, ll, n):  # type: ignore[no-untyped-def]
    for r in range(h.shape[0]):
        hr = h[r]
        lr = l[r]
        cr = c[r]
        orow = out[r]
        lo = _lead(hr, lr, cr)
        if _willr_fused(hr[lo:], lr[lo:], cr[lo:], n, orow[lo:]):
            _nan_head(orow, lo)
            continue
        lo, hi = _span(hr, lr, cr, cr, 3)
        _nan_outside(orow, lo, hi)
        m = hi - lo
        o = orow[lo:hi]
        _maxmin_row(hr[lo:hi], lr[lo:hi], n, o, ll[:m])
        s = min(m, n - 1)
        hh = o[s:]
        lw = ll[s:]
        cs = cr[lo + s:hi]
        for t in range(m - s):
            a = hh[t]
            b = lw[t]
            hh[t] = 0.0 if _ta_equal(a, b) else ((a - cs[t]) / (a - b)) * -100.0
