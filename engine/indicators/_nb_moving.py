"""numba kernels of the moving averages: SMA, EMA (lanes with the carry fix-up), WMA,
DEMA, TEMA (conventions: ``engine.indicators._nb``)."""

from __future__ import annotations

import math

import numpy as np

from engine.indicators._nb_base import (
    _LANE_MIN_SEGMENTS, _finite1, _jit, _lead, _muladd, _nan_head, _nan_outside, _span,
    _warmup_len,
)

@_jit
def _sma_row(x, n, out):  # type: ignore[no-untyped-def]
    """TA-Lib TA_INT_SMA: running total (add newest, emit total/n, drop oldest)."""
    m = x.shape[0]
    _nan_head(out, n - 1)
    if m < n:
        return _finite1(x)
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
    _RESEED bars. Those blocks are independent: two of them run side by side (two
    dependency chains the CPU overlaps; each block's arithmetic is unchanged, so the
    numbers are those of one block at a time, bit for bit). A block's S ends finite
    only if every value it read (its seed window and its bars) was finite: a non-finite
    value leaves S inf or NaN to the block's end, so no scan is needed first."""
    m = xs.shape[0]
    _nan_head(o, n - 1)
    if m < n:
        return _finite1(xs)
    nblk = (m - (n - 1) + _RESEED - 1) // _RESEED
    pairs = (nblk - 1) // 2  # pairs of full blocks; the last may be short
    ok = True
    # Each pair divides the previous pair's 2 * _RESEED sums inside its own loop, eight
    # at a time in straight-line code (two vector divisions the divider runs while the
    # sums' chains wait on their latency); the last pair's are divided after.
    pend = np.zeros(2 * _RESEED)
    for p in range(pairs):
        b = n - 1 + 2 * p * _RESEED
        ok &= _wma_two(xs, n, divider, b, o, pend)
        pend = o[b:b + 2 * _RESEED]
    if pairs:
        _div_by(pend, divider)
    for b in range(n - 1 + 2 * pairs * _RESEED, m, _RESEED):
        ok &= _wma_block(xs, n, divider, b, min(m, b + _RESEED), o)
    return ok


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
    vectorised; a scalar division per bar was what bounded WMA's two chains."""
    for i in range(a.shape[0]):
        a[i] = a[i] / d


@_jit
def _wma_two(xs, n, divider, b, o, pend):  # type: ignore[no-untyped-def]
    """_wma_block for the two full blocks starting at b and b + _RESEED, side by side,
    leaving their 2 * _RESEED weighted sums o[b:b + 2 * _RESEED] undivided; the previous
    pair's undivided sums ``pend`` (2 * _RESEED) are divided meanwhile."""
    c = b + _RESEED
    w1, s1 = _wma_seed(xs, n, b)
    w2, s2 = _wma_seed(xs, n, c)
    o[b] = w1
    o[c] = w2
    n1 = xs[b + 1:c]
    d1 = xs[b + 1 - n:c - n]
    o1 = o[b + 1:c]
    n2 = xs[c + 1:c + _RESEED]
    d2 = xs[c + 1 - n:c + _RESEED - n]
    o2 = o[c + 1:c + _RESEED]
    steps = (_RESEED - 1) // 4
    for k in range(steps):
        i = 4 * k
        for j in range(4):
            v = n1[i + j]
            u = n2[i + j]
            w1 = (w1 - s1) + v * n
            s1 = (s1 + v) - d1[i + j]
            w2 = (w2 - s2) + u * n
            s2 = (s2 + u) - d2[i + j]
            o1[i + j] = w1
            o2[i + j] = w2
        q = pend[8 * k:8 * k + 8]
        q[0] = q[0] / divider
        q[1] = q[1] / divider
        q[2] = q[2] / divider
        q[3] = q[3] / divider
        q[4] = q[4] / divider
        q[5] = q[5] / divider
        q[6] = q[6] / divider
        q[7] = q[7] / divider
    for i in range(4 * steps, _RESEED - 1):
        v = n1[i]
        u = n2[i]
        w1 = (w1 - s1) + v * n
        s1 = (s1 + v) - d1[i]
        w2 = (w2 - s2) + u * n
        s2 = (s2 + u) - d2[i]
        o1[i] = w1
        o2[i] = w2
    _div_by(pend[8 * steps:], divider)
    return math.isfinite(s1) and math.isfinite(s2)


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
