"""numba kernels of the moving averages: SMA, EMA (lanes with the carry fix-up), WMA,
DEMA, TEMA (conventions: ``engine.indicators._nb``)."""

from __future__ import annotations

import math

import numpy as np

from engine.indicators._nb_base import (
    _LANE_MIN_SEGMENTS, _finite1, _jit, _lead, _muladd, _nan_head, _nan_outside, _span,
    _warmup_len,
)

_SMA_LANES_MIN = 65536  # rows at least this long run as _SMA_LANES running totals
_SMA_LANES = 4
_SMA_CHUNK = 256  # bars per lane between the vectorised divisions (all stays in L1)


@_jit
def _sma_row(x, n, out):  # type: ignore[no-untyped-def]
    """TA-Lib TA_INT_SMA: running total (add newest, emit total/n, drop oldest)."""
    m = x.shape[0]
    _nan_head(out, n - 1)
    if m < n:
        return _finite1(x)
    if m - (n - 1) >= _SMA_LANES_MIN:
        return _sma_lanes(x, n, out)
    total = 0.0
    for i in range(n - 1):
        total += x[i]
    new = x[n - 1:]
    o = out[n - 1:]
    for i in range(m - n + 1):
        total += new[i]
        tmp = total
        total -= x[i]
        o[i] = tmp / n
    # True when every value of x was finite (see sma); callers on a span ignore it.
    return math.isfinite(total)


@_jit
def _sma_seed(x, n, b):  # type: ignore[no-untyped-def]
    """The running total TA-Lib's loop holds before adding bar b: x[b-n+1..b-1], in order."""
    total = 0.0
    for i in range(b - n + 1, b):
        total += x[i]
    return total


@_jit
def _sma_lanes(x, n, out):  # type: ignore[no-untyped-def]
    """_sma_row's loop for a long row as four running totals side by side, each over a
    quarter of the bars and seeded as TA-Lib seeds its first one (the n-1 values before
    its first bar, summed in order). The loop is bound by the latency of its two
    dependent additions per bar; four independent chains overlap, and the divisions run
    vectorised on each chunk of totals while it is in L1. Within a quarter the
    arithmetic is TA-Lib's, operation for operation; a quarter's total starts exact
    where TA-Lib's carries the rounding of every bar before it, so the two differ by
    TA-Lib's drift, and ours is the closer to the exact mean: on a 1M-bar walk from 1.7
    to 2,000,000, SMA 2/20/200 are 1e-11/2e-12/1.4e-11 off the exact mean (long-double
    window sums) where TA-Lib's are 2.2e-10/9.9e-11/5.7e-11. Rows shorter than
    _SMA_LANES_MIN never take this path: bit for bit TA-Lib's. True when every value of
    x was finite: each value enters some total, which then never becomes finite again
    (see sma)."""
    m = x.shape[0]
    q = (m - (n - 1)) // _SMA_LANES  # bars per lane; the last lane takes the remainder
    b0 = n - 1
    b1 = b0 + q
    b2 = b1 + q
    b3 = b2 + q
    t0 = _sma_seed(x, n, b0)
    t1 = _sma_seed(x, n, b1)
    t2 = _sma_seed(x, n, b2)
    t3 = _sma_seed(x, n, b3)
    for c in range(0, q, _SMA_CHUNK):
        w = min(_SMA_CHUNK, q - c)
        n0 = x[b0 + c:b0 + c + w]
        n1 = x[b1 + c:b1 + c + w]
        n2 = x[b2 + c:b2 + c + w]
        n3 = x[b3 + c:b3 + c + w]
        d0 = x[b0 + c - n + 1:b0 + c - n + 1 + w]
        d1 = x[b1 + c - n + 1:b1 + c - n + 1 + w]
        d2 = x[b2 + c - n + 1:b2 + c - n + 1 + w]
        d3 = x[b3 + c - n + 1:b3 + c - n + 1 + w]
        o0 = out[b0 + c:b0 + c + w]
        o1 = out[b1 + c:b1 + c + w]
        o2 = out[b2 + c:b2 + c + w]
        o3 = out[b3 + c:b3 + c + w]
        for i in range(w):
            t0 += n0[i]
            t1 += n1[i]
            t2 += n2[i]
            t3 += n3[i]
            o0[i] = t0
            o1[i] = t1
            o2[i] = t2
            o3[i] = t3
            t0 -= d0[i]
            t1 -= d1[i]
            t2 -= d2[i]
            t3 -= d3[i]
        for i in range(w):
            o0[i] = o0[i] / n
            o1[i] = o1[i] / n
            o2[i] = o2[i] / n
            o3[i] = o3[i] / n
    # the last lane's remainder (fewer than _SMA_LANES bars), serially
    for i in range(b3 + q, m):
        t3 += x[i]
        out[i] = t3 / n
        t3 -= x[i - n + 1]
    return (math.isfinite(t0) and math.isfinite(t1) and math.isfinite(t2)
            and math.isfinite(t3))


@_jit
def _ema_row(x, n, start, k, out):  # type: ignore[no-untyped-def]
    """TA-Lib TA_INT_EMA over x[start:]: seed = mean of the first n values (at start+n-1),
    then prev = (x - prev)*k + prev. NaN before the seed."""
    m = x.shape[0]
    seed_at = start + n - 1
    _nan_head(out, seed_at)
    if seed_at >= m:
        return
    total = 0.0
    for i in range(start, seed_at + 1):
        total += x[i]
    prev = total / n
    out[seed_at] = prev
    xs = x[seed_at + 1:]
    o = out[seed_at + 1:]
    if m - seed_at - 1 >= _EMA_LANES_MIN:
        _ema_lanes(xs, prev, k, o)
        return
    for i in range(m - seed_at - 1):
        prev = _muladd(xs[i] - prev, k, prev)
        o[i] = prev


_EMA_LANES = 8
_EMA_LANES_MIN = 8192  # shorter tails run the plain recurrence (bit-identical to TA-Lib)


# The carry fix-up stops where its terms can no longer change a double: a term below
# 2^-56 of the value is under 1/8 ulp. Powers (1-k)^(j+1) and products carry*power are
# never formed below ~1e-290, far above the subnormal range (< 2.2e-308), whose
# arithmetic is 10-100x slower on many CPUs (a Xeon ran EMA at 11.6 ms instead of ~1 ms).
_FIX_REL = 2.0 ** -56
_FIX_FLOOR = 1e-290
_FIX_CHUNK = 256


@_jit
def _ema_powers(b, count):  # type: ignore[no-untyped-def]
    """(b^1, b^2, ...) for at most ``count`` terms, ending before the first below
    _FIX_FLOOR (0 <= b < 1): no subnormal number is ever produced."""
    pw = np.empty(count)
    p = 1.0
    c = 0
    while c < count:
        p *= b
        if p < _FIX_FLOOR:
            break
        pw[c] = p
        c += 1
    return pw[:c]


@_jit
def _ema_fixup(og, pw, carry):  # type: ignore[no-untyped-def]
    """og[j] += pw[j] * carry while the term can still change og[j]; returns how many
    terms were added. Terms whose product would fall below _FIX_FLOOR are not formed;
    after a chunk of _FIX_CHUNK terms that were all below 1/8 ulp of their values the
    rest (smaller still) are dropped."""
    ac = abs(carry)
    lim = min(og.shape[0], pw.shape[0])
    if ac == 0.0 or lim == 0:
        return 0
    # pw is decreasing: keep the j with pw[j] >= _FIX_FLOOR / |carry| (binary search).
    floor = _FIX_FLOOR / ac
    lo, hi = 0, lim
    while lo < hi:
        mid = (lo + hi) // 2
        if pw[mid] >= floor:
            lo = mid + 1
        else:
            hi = mid
    lim = lo
    for j0 in range(0, lim, _FIX_CHUNK):
        j1 = min(lim, j0 + _FIX_CHUNK)
        g = og[j0:j1]
        pc = pw[j0:j1]
        live = 0
        for j in range(j1 - j0):
            t = pc[j] * carry
            v = g[j] + t
            g[j] = v
            live += abs(t) >= _FIX_REL * abs(v)
        if live == 0:
            return j1
    return lim


@_jit
def _ema_lanes(xs, prev, k, o):  # type: ignore[no-untyped-def]
    """o[i] = prev_i = (xs[i] - prev_{i-1})*k + prev_{i-1}, long tails.

    The plain loop is one long dependency chain (latency-bound). Here the tail is cut into
    8 segments run side by side from a zero state (8 independent chains the CPU overlaps),
    then each segment gets its true start added back: prev_{s+j} = z_j + (1-k)^(j+1) *
    prev_{s-1}, a vectorised pass that stops where the term no longer changes the value
    (see _ema_fixup). Same recurrence, different rounding order: agrees with the plain
    loop to ~1e-15 relative (tests hold it to TA-Lib within 1e-12)."""
    m = xs.shape[0]
    seg = (m + _EMA_LANES - 1) // _EMA_LANES
    z = np.zeros(_EMA_LANES)
    z[0] = prev
    for j in range(seg):
        for c in range(_EMA_LANES):
            i = c * seg + j
            if i < m:
                zc = ((xs[i] - z[c]) * k) + z[c]
                z[c] = zc
                o[i] = zc
    pw = _ema_powers(1.0 - k, seg)
    for c in range(1, _EMA_LANES):
        s0 = c * seg
        if s0 >= m:
            break
        _ema_fixup(o[s0:min(m, s0 + seg)], pw, o[s0 - 1])


@_jit
def sma(x, out, n):  # type: ignore[no-untyped-def]
    for r in range(x.shape[0]):
        xr = x[r]
        o = out[r]
        # Optimistic: the whole row from its first finite bar, no scan first. Every
        # value is added to the running total, and a total that once holds an inf or a
        # NaN never becomes finite again (inf - inf is NaN), so a finite last total
        # proves every value finite. Otherwise the row's span is found and recomputed.
        lo = _lead(xr, xr, xr)
        if _sma_row(xr[lo:], n, o[lo:]):
            _nan_head(o, lo)
            continue
        lo, hi = _span(xr, xr, xr, xr, 1)
        _nan_outside(o, lo, hi)
        _sma_row(xr[lo:hi], n, o[lo:hi])


@_jit
def ema(x, out, n):  # type: ignore[no-untyped-def]
    k = 2.0 / (n + 1)
    for r in range(x.shape[0]):
        xr = x[r]
        o = out[r]
        lo, hi = _span(xr, xr, xr, xr, 1)
        _nan_outside(o, lo, hi)
        _ema_row(xr[lo:hi], n, 0, k, o[lo:hi])


_RESEED = 1024  # bars between exact recomputations of the WMA running sums


@_jit
def wma(x, out, n):  # type: ignore[no-untyped-def]
    divider = float((n * (n + 1)) // 2)
    for r in range(x.shape[0]):
        xr = x[r]
        o = out[r]
        # Optimistic, no scan first (see _wma_row); otherwise the span, computed again.
        lo = _lead(xr, xr, xr)
        if _wma_row(xr[lo:], n, divider, o[lo:]):
            _nan_head(o, lo)
            continue
        lo, hi = _span(xr, xr, xr, xr, 1)
        _nan_outside(o, lo, hi)
        _wma_row(xr[lo:hi], n, divider, o[lo:hi])


@_jit
def _wma_row(xs, n, divider, o):  # type: ignore[no-untyped-def]
    """TA-Lib's WMA of xs into o. True when every value of xs was finite.

    TA-Lib's WMA carries the weighted sum W and the plain sum S of the window:
    W(t) = W(t-1) - S(t-1) + n*x[t]. Carried over a long series their rounding drifts
    (TA-Lib 0.8's does not), so both are recomputed directly, in TA-Lib's order, every
    _RESEED bars. Those blocks are independent: four of them run side by side (four
    dependency chains the CPU overlaps; each block's arithmetic is unchanged, so the
    numbers are those of one block at a time, bit for bit). A block's S ends finite
    only if every value it read (its seed window and its bars) was finite: a non-finite
    value leaves S inf or NaN to the block's end, so no scan is needed first."""
    m = xs.shape[0]
    _nan_head(o, n - 1)
    if m < n:
        return _finite1(xs)
    nblk = (m - (n - 1) + _RESEED - 1) // _RESEED
    quads = (nblk - 1) // 4  # groups of four full blocks; the last block may be short
    ok = True
    for p in range(quads):
        ok &= _wma_four(xs, n, divider, n - 1 + 4 * p * _RESEED, o)
    for b in range(n - 1 + 4 * quads * _RESEED, m, _RESEED):
        ok &= _wma_block(xs, n, divider, b, min(m, b + _RESEED), o)
    return ok


_WMA_CHUNK = 128  # bars per block between _wma_four's vectorised divisions


@_jit
def _wma_four(xs, n, divider, b, o):  # type: ignore[no-untyped-def]
    """_wma_block for the four full blocks starting at b, b + R, b + 2R, b + 3R
    (R = _RESEED) side by side, chunk by chunk, each chunk's weighted sums divided
    (vectorised) while in L1. True when all four plain sums ended finite."""
    R = _RESEED
    w0, s0 = _wma_seed(xs, n, b)
    w1, s1 = _wma_seed(xs, n, b + R)
    w2, s2 = _wma_seed(xs, n, b + 2 * R)
    w3, s3 = _wma_seed(xs, n, b + 3 * R)
    o[b] = w0 / divider
    o[b + R] = w1 / divider
    o[b + 2 * R] = w2 / divider
    o[b + 3 * R] = w3 / divider
    for c in range(1, R, _WMA_CHUNK):
        w = min(_WMA_CHUNK, R - c)
        a0 = b + c
        a1 = a0 + R
        a2 = a1 + R
        a3 = a2 + R
        n0 = xs[a0:a0 + w]
        n1 = xs[a1:a1 + w]
        n2 = xs[a2:a2 + w]
        n3 = xs[a3:a3 + w]
        d0 = xs[a0 - n:a0 - n + w]
        d1 = xs[a1 - n:a1 - n + w]
        d2 = xs[a2 - n:a2 - n + w]
        d3 = xs[a3 - n:a3 - n + w]
        o0 = o[a0:a0 + w]
        o1 = o[a1:a1 + w]
        o2 = o[a2:a2 + w]
        o3 = o[a3:a3 + w]
        for i in range(w):
            v0 = n0[i]
            v1 = n1[i]
            v2 = n2[i]
            v3 = n3[i]
            w0 = (w0 - s0) + v0 * n
            w1 = (w1 - s1) + v1 * n
            w2 = (w2 - s2) + v2 * n
            w3 = (w3 - s3) + v3 * n
            s0 = (s0 + v0) - d0[i]
            s1 = (s1 + v1) - d1[i]
            s2 = (s2 + v2) - d2[i]
            s3 = (s3 + v3) - d3[i]
            o0[i] = w0
            o1[i] = w1
            o2[i] = w2
            o3[i] = w3
        for i in range(w):
            o0[i] = o0[i] / divider
            o1[i] = o1[i] / divider
            o2[i] = o2[i] / divider
            o3[i] = o3[i] / divider
    return (math.isfinite(s0) and math.isfinite(s1) and math.isfinite(s2)
            and math.isfinite(s3))


@_jit
def _wma_seed(xs, n, b):  # type: ignore[no-untyped-def]
    """The weighted and plain sums of the window ending at bar b, TA-Lib's order."""
    wsum = 0.0
    ssum = 0.0
    win = xs[b - n + 1:b + 1]
    for k in range(n):
        v = win[k]
        ssum += v
        wsum += v * (k + 1)
    return wsum, ssum


@_jit
def _wma_block(xs, n, divider, b, e, o):  # type: ignore[no-untyped-def]
    """WMA for bars b..e-1 from sums recomputed at bar b, carried after it; True when
    the plain sum ended finite (see _wma_row)."""
    wsum, ssum = _wma_seed(xs, n, b)
    o[b] = wsum / divider
    new = xs[b + 1:e]
    old = xs[b + 1 - n:e - n]
    ob = o[b + 1:e]
    for i in range(e - b - 1):
        v = new[i]
        wsum = (wsum - ssum) + v * n
        ssum = (ssum + v) - old[i]
        ob[i] = wsum
    _div_by(ob, divider)
    return math.isfinite(ssum)


@_jit
def _div_by(a, d):  # type: ignore[no-untyped-def]
    """a[i] /= d: the same IEEE divisions as one per bar inside a recurrence, but
    vectorised (a scalar division per bar would bound the chains)."""
    for i in range(a.shape[0]):
        a[i] = a[i] / d


@_jit
def _dema_row(x, n, k, out):  # type: ignore[no-untyped-def]
    """2*E1 - E2 with E2 = EMA of E1 seeded on E1's first n values: both recurrences run
    in one loop (independent dependency chains), as TA-Lib's DEMA does."""
    m = x.shape[0]
    s2 = 2 * (n - 1)
    _nan_head(out, s2)
    if s2 >= m:
        return
    _ema_row(x[:s2 + 1], n, 0, k, out[:s2 + 1])  # E1 into out[n-1..s2] as scratch
    total = 0.0
    for i in range(n - 1, s2 + 1):
        total += out[i]
    e2 = total / n
    e1 = out[s2]
    _nan_head(out, s2)
    out[s2] = (2.0 * e1) - e2
    xs = x[s2 + 1:]
    o = out[s2 + 1:]
    tail = m - s2 - 1
    warm = _warmup_len(k)
    if tail < _LANE_MIN_SEGMENTS * warm:
        _dema_serial(xs, e1, e2, k, 0, tail, o)
        return
    _dema_lanes(xs, e1, e2, k, tail // 2, warm, o)


@_jit
def _dema_lanes(xs, e1, e2, k, half, warm, o):  # type: ignore[no-untyped-def]
    """_dema_serial over all of xs as two halves side by side (see _warmup_len), the
    second one started ``warm`` bars early; checked at the seam, recomputed if it fails."""
    tail = xs.shape[0]
    w0 = half - warm
    b1 = xs[w0]
    b2 = b1
    for i in range(w0, half):
        b1 = _muladd(xs[i] - b1, k, b1)
        b2 = _muladd(b1 - b2, k, b2)
    s1, s2_ = b1, b2
    xb = xs[half:]
    ob = o[half:]
    for i in range(half):
        e1 = _muladd(xs[i] - e1, k, e1)
        e2 = _muladd(e1 - e2, k, e2)
        o[i] = (2.0 * e1) - e2
        b1 = _muladd(xb[i] - b1, k, b1)
        b2 = _muladd(b1 - b2, k, b2)
        ob[i] = (2.0 * b1) - b2
    if tail > 2 * half:
        _dema_serial(xs, b1, b2, k, 2 * half, tail, o)
    if not (e1 == s1 and e2 == s2_):
        _dema_serial(xs, e1, e2, k, half, tail, o)


@_jit
def _dema_serial(xs, e1, e2, k, i0, i1, o):  # type: ignore[no-untyped-def]
    """DEMA steps for bars i0..i1-1 from the EMAs (e1, e2) before bar i0."""
    for i in range(i0, i1):
        e1 = _muladd(xs[i] - e1, k, e1)
        e2 = _muladd(e1 - e2, k, e2)
        o[i] = (2.0 * e1) - e2


@_jit
def dema(x, out, n):  # type: ignore[no-untyped-def]
    k = 2.0 / (n + 1)
    for r in range(x.shape[0]):
        xr = x[r]
        o = out[r]
        lo, hi = _span(xr, xr, xr, xr, 1)
        _nan_outside(o, lo, hi)
        _dema_row(xr[lo:hi], n, k, o[lo:hi])


@_jit
def _tema_row(x, n, k, out):  # type: ignore[no-untyped-def]
    """E3 + (3*E1 - 3*E2) (TA-Lib TEMA), the three recurrences in one loop."""
    m = x.shape[0]
    s3 = 3 * (n - 1)
    _nan_head(out, s3)
    if s3 >= m:
        return
    b1 = np.empty(s3 + 1)
    b2 = np.empty(s3 + 1)
    _ema_row(x[:s3 + 1], n, 0, k, b1)
    _ema_row(b1, n, n - 1, k, b2)
    total = 0.0
    for i in range(2 * (n - 1), s3 + 1):
        total += b2[i]
    e3 = total / n
    e1 = b1[s3]
    e2 = b2[s3]
    out[s3] = e3 + ((3.0 * e1) - (3.0 * e2))
    xs = x[s3 + 1:]
    o = out[s3 + 1:]
    for i in range(m - s3 - 1):
        e1 = _muladd(xs[i] - e1, k, e1)
        e2 = _muladd(e1 - e2, k, e2)
        e3 = _muladd(e2 - e3, k, e3)
        o[i] = e3 + ((3.0 * e1) - (3.0 * e2))


@_jit
def tema(x, out, n):  # type: ignore[no-untyped-def]
    k = 2.0 / (n + 1)
    for r in range(x.shape[0]):
        xr = x[r]
        o = out[r]
        lo, hi = _span(xr, xr, xr, xr, 1)
        _nan_outside(o, lo, hi)
        _tema_row(xr[lo:hi], n, k, o[lo:hi])
