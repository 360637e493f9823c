"""numba kernels of the indicator library (imported on first use by ``_backend.kernels``).

Every public kernel takes its 2-D C-contiguous float64 inputs ``(rows, time)``, then its
outputs of the same shape, then 1-D scratch rows of length ``time``, then its parameters
(see ``_core.run``; large arrays are allocated by numpy, whose allocator recycles them
far better than numba's does for several 8 MB arrays per call). Per row it finds
the span the library's contract defines (from the first bar where every input is finite
up to, not including, the next bar where one is not: see ``engine/indicators/__init__``),
computes on that span as if it were the whole series, and leaves NaN outside it.

Arithmetic follows TA-Lib's C loops where that gives TA-Lib's numbers: running sums for
SMA/STOCH/StochRSI/BBANDS mid (bit-identical to TA-Lib 0.8.1 on the tests' 1M-bar walk),
``(x - prev)*k + prev`` for EMA/DEMA/TEMA/MACD, Wilder ``(prev*(n-1) + move) * (1/n)`` for
RSI (bit-identical), TA-Lib's DM/TR smoothing and ADX, SAR step for step, sequential seeds.
Where TA-Lib 0.8 was found by probing to treat rounding noise as equality, the kernels use
the same tests as the numpy kernels (``_core.ta_equal``, exact-zero denominators). Sums
TA-Lib 0.8 keeps accurate over long series (BBANDS deviation, CCI, MFI, WMA) are computed
per window directly (oldest to newest), or, for WMA, carried and recomputed exactly every
1024 bars.

Compiled with ``fastmath=False`` (no reassociation, no implicit contraction: rounding
stays IEEE as written; the multiply-adds TA-Lib's own build fuses are written as
``_muladd``, so EMA/DEMA/TEMA/MACD/ATR give TA-Lib's numbers bit for bit) and ``error_model="numpy"`` (a division by zero gives inf/NaN like numpy
instead of raising; every such case is guarded anyway).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba.extending import intrinsic

from engine.indicators import _loops
from engine.indicators._core import TA_REL_EQ

_NAN = np.nan
_BLOCK = 256  # bars per block in the blocked window sums (stays in L1)


def _jit(fn: Callable[..., Any]) -> Any:
    try:
        return numba.njit(fn, cache=True, nogil=True, fastmath=False, error_model="numpy")
    except RuntimeError:
        # numba found no writable cache folder at all: compile in every process instead.
        return numba.njit(fn, cache=False, nogil=True, fastmath=False, error_model="numpy")


def _muladd_typer(typingctx, a, b, c):  # type: ignore[no-untyped-def]
    """``a * b + c`` as LLVM's ``fmuladd``: one fused multiply-add (a single rounding)
    where the CPU has FMA, a multiply then an add where it has not.

    This is what TA-Lib's own build does: its wheels compile every function twice (GCC
    target clones, e.g. ``TA_EMA.fma``) with floating-point contraction, and pick the FMA
    clone on an FMA CPU. Written where TA-Lib's C has ``x * y + z``, it gives TA-Lib's
    numbers bit for bit on both kinds of CPU (checked: EMA/MACD/DEMA/TEMA/ATR/SAR on the
    bench's 1M bars) and shortens the recurrence's dependency chain (one instruction
    instead of two). numba caches compiled code per CPU model and features, so a cache
    built on one kind of CPU is never used on the other."""
    sig = numba.types.float64(numba.types.float64, numba.types.float64,
                              numba.types.float64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        d = ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fmuladd", [d],
                                              ir.FunctionType(d, [d, d, d]))
        return builder.call(fn, args)
    return sig, codegen


_muladd: Any = intrinsic(_muladd_typer)


# --------------------------------------------------------------------------- spans
# Performance notes (measured): index 1-D row views with loop variables counting from 0
# (numba then drops its negative-index fix-up and LLVM vectorises the loop), and prefer
# selects (``a if c else b``) to branches on data-dependent conditions.

@_jit
def _bad_from(row, lo):  # type: ignore[no-untyped-def]
    """First index >= lo where ``row`` is NaN or infinite (len(row) if none)."""
    n = row.shape[0]
    i = lo
    while i < n:
        e = min(n, i + 1024)
        seg = row[i:e]
        good = 0
        for j in range(e - i):
            good += abs(seg[j]) < np.inf
        if good != e - i:
            for j in range(e - i):
                if not abs(seg[j]) < np.inf:
                    return i + j
        i = e
    return n


@_jit
def _span(a, b, c, d, k):  # type: ignore[no-untyped-def]
    """[lo, hi) of one row: the first bar where a..d are all finite, up to the next bar
    where one is not. Only the first k rows are distinct (callers with fewer inputs pass
    one row several times); only those are scanned for the end of the run."""
    n = a.shape[0]
    lo = 0
    while lo < n and not (math.isfinite(a[lo]) and math.isfinite(b[lo])
                          and math.isfinite(c[lo]) and math.isfinite(d[lo])):
        lo += 1
    hi = _bad_from(a, lo)
    if k > 1:
        hi = min(hi, _bad_from(b, lo))
    if k > 2:
        hi = min(hi, _bad_from(c, lo))
    if k > 3:
        hi = min(hi, _bad_from(d, lo))
    return lo, hi


@_jit
def _lead(a, b, c):  # type: ignore[no-untyped-def]
    """The first bar where a, b and c are all finite (len(a) if none)."""
    n = a.shape[0]
    lo = 0
    while lo < n and not (math.isfinite(a[lo]) and math.isfinite(b[lo])
                          and math.isfinite(c[lo])):
        lo += 1
    return lo


@_jit
def _nan_outside(o, lo, hi):  # type: ignore[no-untyped-def]
    o[:lo] = _NAN
    o[hi:] = _NAN


@_jit
def _nan_head(o, k):  # type: ignore[no-untyped-def]
    o[:min(k, o.shape[0])] = _NAN


@_jit
def _ta_equal(a, b):  # type: ignore[no-untyped-def]
    return abs(a - b) <= TA_REL_EQ * (abs(a) + abs(b))


# --------------------------------------------------------------------------- row kernels

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


# Two chains at once (MACD, DEMA, ATR). A recurrence y' = f(y, x) that forgets its
# state (|df/dy| <= 1 - k < 1) run from a wrong state converges on the true one; in
# floating point it becomes equal bit for bit (both runs then stay identical forever).
# So the second half of a series can start early from a guessed state, side by side with
# the first half, and give the serial loop's numbers exactly; this is checked at the
# seam (the second half's state at its first bar against the first half's there) and
# recomputed serially in the rare case it differs. The warm-up lets the guess's error
# fall by e^-60 (below 1e-26 of the value) before the seam, then a margin for rounding.
_LANE_MIN_SEGMENTS = 8  # lanes only when each half is this many warm-ups long


@_jit
def _warmup_len(k):  # type: ignore[no-untyped-def]
    """Bars for a state error to shrink by e^-60 at decay 1-k per bar, plus a margin."""
    return int(60.0 / -math.log1p(-k)) + 256 if k < 1.0 else 256


# Window extremes, written once: the lowest of n values is minus the highest of their
# negations (exact for floats), so one kernel serves both through a sign s = +1 / -1 that
# multiplies the values on the way in and the result on the way out (x * -1 is exact).
# Two methods, chosen by window length (measured on the bench's 1M bars): window doubling
# for short windows (a few vectorised passes), van Herk/Gil-Werman for long ones (three
# steps per bar whatever the window: doubling's passes grow with log n and its chunks
# recompute n-1 bars each).
_EXT_CHUNK = 1024  # output bars per doubling chunk: both work buffers stay in L1
_EXT_DOUBLING_MAX = 32  # longest window computed by doubling


@_jit
def _finite1(a):  # type: ignore[no-untyped-def]
    """Every value of ``a`` finite (one vectorised, branch-free pass)."""
    good = 0
    for j in range(a.shape[0]):
        good += abs(a[j]) < np.inf
    return good == a.shape[0]


@_jit
def _ext2(a, b, s):  # type: ignore[no-untyped-def]
    """The higher of a and b for s > 0, the lower for s < 0 (s is loop-invariant in every
    caller: LLVM unswitches the loop, each copy a plain max or min)."""
    return (a if a > b else b) if s > 0 else (a if a < b else b)


@_jit
def _ext_pass(src, dst, o1, o2, o3, s, i0, m):  # type: ignore[no-untyped-def]
    """dst[i] = the extreme (s: see _ext2) of src[i], src[i-o1], src[i-o2], src[i-o3]
    for i0 <= i < m (i0 >= o1, o2, o3): one contiguous, branch-free, vectorised pass."""
    w = m - i0
    a0 = src[i0:m]
    a1 = src[i0 - o1:m - o1]
    a2 = src[i0 - o2:m - o2]
    a3 = src[i0 - o3:m - o3]
    d = dst[i0:m]
    for j in range(w):
        d[j] = _ext2(_ext2(a0[j], a1[j], s), _ext2(a2[j], a3[j], s), s)


@_jit
def _ext_doubling(x, n, s, out, check):  # type: ignore[no-untyped-def]
    """_ext_row by window doubling by fours, in cache-sized chunks: after a pass with
    offsets span, 2*span, 3*span each value is the extreme of the 4*span values ending
    there; the last pass joins at most four such windows (they may overlap) into the n-bar
    window. All passes are contiguous and branch-free (vectorised; no data-dependent
    branch to mispredict on noisy prices)."""
    m = x.shape[0]
    cl = max(_EXT_CHUNK, n)
    a = np.empty(cl + n - 1)
    b = np.empty(cl + n - 1)
    for t0 in range(n - 1, m, cl):
        t1 = min(m, t0 + cl)
        w = t1 - t0 + n - 1  # this chunk's inputs: x[t0-n+1 : t1]
        src = x[t0 - n + 1:t1]
        if check and not _finite1(x[t0:t1]):
            return False
        _ext_chunk(src, w, n, s, a, b, out[t0 - n + 1:t1])
    return True


@_jit
def _ext_chunk(src, w, n, s, a, b, dst):  # type: ignore[no-untyped-def]
    """One chunk of _ext_doubling: dst[i] = the extreme of src[i-n+1..i] for
    n-1 <= i < w, with a and b (length >= w) as work buffers."""
    span = 1
    flip = False
    while span * 4 <= n:
        d = b if flip else a
        _ext_pass(src, d, span, 2 * span, 3 * span, s, 4 * span - 1, w)
        src = d
        flip = not flip
        span *= 4
    # [t-n+1, t] is covered by the span-windows ending at t, t-span, t-2*span and
    # t-(n-span), as many of them as n needs (the others repeat the last offset).
    q = (n + span - 1) // span
    last = n - span
    o1 = last if q == 2 else (span if q > 2 else 0)
    o2 = 2 * span if q == 4 else last
    _ext_pass(src, dst, o1, o2, last, s, n - 1, w)


@_jit
def _ext_vhgw(x, n, s, out):  # type: ignore[no-untyped-def]
    """_ext_row by van Herk/Gil-Werman: with blocks of n bars, the window ending at bar
    i of a block is the block's prefix up to i joined with the previous block's suffix
    from i+1, so each bar costs one step of a running prefix, one of a running suffix
    and one join (the join vectorised), whatever n is. Exact (comparisons only)."""
    m = x.shape[0]
    suf = np.empty(n + 1)  # suffix extremes (times s) of the previous block; suf[n]: none
    nsuf = np.empty(n + 1)
    suf[n] = -np.inf
    nsuf[n] = -np.inf
    st = s * x[n - 1]
    suf[n - 1] = st
    for i in range(n - 2, -1, -1):
        v = s * x[i]
        st = v if v > st else st
        suf[i] = st
    out[n - 1] = s * st
    for b0 in range(n, m, n):
        b1 = min(m, b0 + n)
        w = b1 - b0
        xb = x[b0:b1]
        ob = out[b0:b1]
        p = -np.inf
        st = -np.inf
        # The two running extremes are independent chains: one loop runs both. On the
        # values times s (exact), as plain maxima: measured 2-3x faster here than
        # max/min selects (_ext2), and than checking finiteness inside this loop.
        for i in range(w):
            v = s * xb[i]
            p = v if v > p else p
            ob[i] = p
            j = w - 1 - i
            u = s * xb[j]
            st = u if u > st else st
            nsuf[j] = st
        sp = suf[1:w + 1]
        for i in range(w):
            q = sp[i]
            v = ob[i]
            ob[i] = s * (v if v > q else q)
        suf, nsuf = nsuf, suf


@_jit
def _ext_row(x, n, s, out, check=False):  # type: ignore[no-untyped-def]
    """out[t] = s * max(s * x[t-n+1..t]) for t >= n-1 (NaN before): the highest of the
    last n values for s = 1, the lowest for s = -1. Exact (comparisons only), so both
    methods give TA-Lib MAX/MIN's numbers bit for bit. With ``check``, x is checked to
    be finite chunk by chunk while it is in cache: returns False, ``out`` unfinished, at
    the first chunk holding a non-finite value (True when done)."""
    m = x.shape[0]
    _nan_head(out, n - 1)
    if m < n:
        return not check or _finite1(x)
    # The chunks check the bars they end windows at; the first window's older bars are
    # read by no chunk's check.
    if check and not _finite1(x[:n - 1]):
        return False
    if n <= _EXT_DOUBLING_MAX:
        return _ext_doubling(x, n, s, out, check)
    if check and not _finite1(x):
        return False
    _ext_vhgw(x, n, s, out)
    return True


@_jit
def _maxmin_row(h, l, n, hh, ll):  # type: ignore[no-untyped-def]
    """hh = highest of h and ll = lowest of l over the last n bars (NaN for the first n-1)."""
    _ext_row(h, n, 1.0, hh)
    _ext_row(l, n, -1.0, ll)


@_jit
def _tr(h, l, yc):  # type: ignore[no-untyped-def]
    """TA-Lib TRUE_RANGE of one bar given the previous close."""
    return max(max(h - l, abs(yc - h)), abs(yc - l))


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


_CHECK_CHUNK = 512  # bars per finiteness check in the fused kernels (inputs stay in L1)


@_jit
def _finite3(a, b, c, i0, i1):  # type: ignore[no-untyped-def]
    """a, b and c all finite over i0..i1-1 (one vectorised, branch-free pass)."""
    sa = a[i0:i1]
    sb = b[i0:i1]
    sc = c[i0:i1]
    good = 0
    for j in range(i1 - i0):
        good += abs(sa[j]) < np.inf
        good += abs(sb[j]) < np.inf
        good += abs(sc[j]) < np.inf
    return good == 3 * (i1 - i0)


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
    # One serial pass, the finiteness check folded into it: (x - x) is +0.0 for a finite
    # x and NaN otherwise, and adding +0.0 to the (non-negative) true-range term changes
    # nothing, so the numbers are TA-Lib's bit for bit while a non-finite input leaves
    # the average NaN for good (prev * a + NaN is NaN). Measured here: as fast as the
    # two halves side by side with a separate in-cache check (the loop is bound by
    # memory traffic, not by the recurrence's latency), 1.4x faster than them overall.
    #
    # The true range as max(high, prev close) - min(low, prev close): for low <= high
    # that is the very subtraction TA-Lib's larger-of-three picks (rounding is monotonic,
    # so the largest exact difference gives the largest rounded one), bit for bit, in
    # three operations instead of seven; the loop is bound by its operation count. A
    # non-finite close makes that range inf or NaN; q - q is +0.0 exactly when high and
    # low are finite (NaN otherwise). The lowest high - low is kept: a bar with low >
    # high (bad data, where the shortcut is not TA-Lib's formula) sends the row to the
    # span path too, which uses TA-Lib's formula throughout.
    return _atr_tail(hs, ls, cs, prev, a, inv, o)


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
    -> 1.35 ms on 1M bars here). A non-finite close makes that range inf or NaN, so the
    average; q - q is +0.0 exactly when high and low are finite (NaN otherwise), and
    adding +0.0 changes no value. The lowest high - low is kept to see low > high (bad
    data, where the shortcut is not TA-Lib's formula). Two halves side by side, a
    helper per bar returning a tuple: both measured slower (1.7-1.9 ms)."""
    least = 0.0
    for i in range(o.shape[0]):
        hv = hs[i]
        lv = ls[i]
        yv = cs[i]
        q = hv - lv
        top = hv if hv > yv else yv
        bot = lv if lv < yv else yv
        least = q if q < least else least
        prev = _muladd(prev, a, (top - bot) * inv + (q - q))
        o[i] = prev
    return math.isfinite(prev) and least >= 0.0


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
def _dm_seed(h, l, c, n):  # type: ignore[no-untyped-def]
    """TA-Lib's seed of the directional movement: +DM, -DM and true-range sums over bars
    1..n-1 (the ADX kernel and its two-halves variant start from the same sums)."""
    pdm = 0.0
    mdm = 0.0
    str_ = 0.0
    for t in range(1, n):
        dp = h[t] - h[t - 1]
        dm = l[t - 1] - l[t]
        if dm > 0 and dp < dm:
            mdm += dm
        elif dp > 0 and dp > dm:
            pdm += dp
        str_ += _tr(h[t], l[t], c[t - 1])
    return pdm, mdm, str_


@_jit
def _dmi_row(h, l, c, n, mode, out):  # type: ignore[no-untyped-def]
    """TA-Lib's directional movement loop. mode 0: +DI, 1: -DI (from bar n), 2: ADX (from
    bar 2n-1; the previous ADX is kept where DX is undefined)."""
    m = h.shape[0]
    first = n if mode < 2 else 2 * n - 1
    _nan_head(out, first)
    if m <= first:
        return
    pdm, mdm, str_ = _dm_seed(h, l, c, n)
    sum_dx = 0.0
    adx = 0.0
    a = float(n - 1)
    for t in range(n, m):
        dp = h[t] - h[t - 1]
        dm = l[t - 1] - l[t]
        is_m = dm > 0 and dp < dm
        is_p = (not is_m) and dp > 0 and dp > dm
        mdm = (mdm - mdm / n) + (dm if is_m else 0.0)
        pdm = (pdm - pdm / n) + (dp if is_p else 0.0)
        str_ = str_ - (str_ / n) + _tr(h[t], l[t], c[t - 1])
        ok = str_ != 0.0
        if mode == 0:
            out[t] = 100.0 * (pdm / str_) if ok else 0.0
            continue
        if mode == 1:
            out[t] = 100.0 * (mdm / str_) if ok else 0.0
            continue
        pdi = 100.0 * (pdm / str_) if ok else 0.0
        mdi = 100.0 * (mdm / str_) if ok else 0.0
        tot = mdi + pdi
        ok = ok and tot != 0.0
        dx = 100.0 * (abs(mdi - pdi) / tot) if ok else 0.0
        if t < 2 * n:
            sum_dx += dx
            if t == 2 * n - 1:
                adx = sum_dx / n
                out[t] = adx
        else:
            if ok:
                adx = ((adx * a) + dx) / n
            out[t] = adx


@_jit
def _dm_step(hc, hp, lc, lp, cp, pdm, mdm, str_, n):  # type: ignore[no-untyped-def]
    """One bar of _dmi_row's smoothed +DM, -DM and true range (same arithmetic), the
    up/down classification as selects (no branch on the noisy moves)."""
    dp = hc - hp
    dm = lp - lc
    is_m = (dm > 0) & (dp < dm)
    is_p = (not is_m) & (dp > 0) & (dp > dm)
    mdm = (mdm - mdm / n) + (dm if is_m else 0.0)
    pdm = (pdm - pdm / n) + (dp if is_p else 0.0)
    str_ = str_ - (str_ / n) + _tr(hc, lc, cp)
    return pdm, mdm, str_


@_jit
def _adx_step(pdm, mdm, str_, adx, n, a):  # type: ignore[no-untyped-def]
    """_dmi_row's ADX update from the smoothed DMs (the previous ADX where DX is not
    defined)."""
    ok = str_ != 0.0
    pdi = 100.0 * (pdm / str_) if ok else 0.0
    mdi = 100.0 * (mdm / str_) if ok else 0.0
    tot = mdi + pdi
    ok = ok and tot != 0.0
    dx = 100.0 * (abs(mdi - pdi) / tot) if ok else 0.0
    return ((adx * a) + dx) / n if ok else adx


@_jit
def _adx_serial(h, l, c, st, n, a, i0, i1, out):  # type: ignore[no-untyped-def]
    """ADX for bars i0..i1-1 of the full row from the state st = (+DM, -DM, TR, ADX)
    after bar i0-1; returns the state after bar i1-1."""
    pdm, mdm, str_, adx = st
    for t in range(i0, i1):
        pdm, mdm, str_ = _dm_step(h[t], h[t - 1], l[t], l[t - 1], c[t - 1], pdm, mdm,
                                  str_, n)
        adx = _adx_step(pdm, mdm, str_, adx, n, a)
        out[t] = adx
    return pdm, mdm, str_, adx


@_jit
def _adx_fused(h, l, c, n, out):  # type: ignore[no-untyped-def]
    """_dmi_row's ADX (mode 2) for a long row that may hold non-finite values: the tail
    after the seed runs as two halves side by side (the smoothed DMs and the ADX forget
    their start, see _warmup_len), the second warmed up from a guess and checked bit
    for bit at the seam; the inputs are checked to be finite chunk by chunk on the way.
    True when done; False, ``out`` unfinished, for a short row or one holding a
    non-finite value (the caller then takes the span path)."""
    m = h.shape[0]
    first = 2 * n - 1
    a = float(n - 1)
    warm = 2 * _warmup_len(1.0 / n)  # the DMs settle, then the ADX fed by them
    cnt = m - first - 1
    if cnt < _LANE_MIN_SEGMENTS * warm or not _finite3(h, l, c, 0, first + 1):
        return False
    _dmi_row(h[:first + 1], l[:first + 1], c[:first + 1], n, 2, out[:first + 1])
    # the state after bar `first`, exactly as _dmi_row leaves it (re-run: the seed part
    # is 2n bars, nothing next to 1M)
    pdm, mdm, str_ = _dm_seed(h, l, c, n)
    for t in range(n, first + 1):
        pdm, mdm, str_ = _dm_step(h[t], h[t - 1], l[t], l[t - 1], c[t - 1], pdm, mdm,
                                  str_, n)
    st = (pdm, mdm, str_, out[first])
    s0 = first + 1
    half = s0 + cnt // 2  # first bar of the second half
    w0 = half - warm
    # the second half's warm-up, from the seed's state as a guess (writes nothing)
    p2, m2, s2, x2 = st
    for t in range(w0, half):
        p2, m2, s2 = _dm_step(h[t], h[t - 1], l[t], l[t - 1], c[t - 1], p2, m2, s2, n)
        x2 = _adx_step(p2, m2, s2, x2, n, a)
    seam = (p2, m2, s2, x2)
    p1, m1, s1, x1 = st
    size = cnt // 2
    for c0 in range(0, size, _CHECK_CHUNK):
        c1 = min(size, c0 + _CHECK_CHUNK)
        if not (_finite3(h, l, c, s0 + c0, s0 + c1)
                and _finite3(h, l, c, half + c0, half + c1)):
            return False
        for i in range(c0, c1):
            t = s0 + i
            p1, m1, s1 = _dm_step(h[t], h[t - 1], l[t], l[t - 1], c[t - 1], p1, m1, s1, n)
            x1 = _adx_step(p1, m1, s1, x1, n, a)
            out[t] = x1
            u = half + i
            p2, m2, s2 = _dm_step(h[u], h[u - 1], l[u], l[u - 1], c[u - 1], p2, m2, s2, n)
            x2 = _adx_step(p2, m2, s2, x2, n, a)
            out[u] = x2
    if half + size < m:
        if not _finite3(h, l, c, half + size, m):
            return False
        _adx_serial(h, l, c, (p2, m2, s2, x2), n, a, half + size, m, out)
    if (p1, m1, s1, x1) != seam:
        _adx_serial(h, l, c, (p1, m1, s1, x1), n, a, half, m, out)
    return True


@_jit
def _window_sums(x, n, t0, t1, acc):  # type: ignore[no-untyped-def]
    """acc[j] = x[t-n+1] + ... + x[t] (oldest to newest) for t = t0 + j < t1."""
    w = t1 - t0
    a = acc[:w]
    for j in range(w):
        a[j] = 0.0
    for k in range(n):
        xw = x[t0 - n + 1 + k:t1 - n + 1 + k]
        for j in range(w):
            a[j] += xw[j]


# --------------------------------------------------------------------------- moving averages

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
    for p in range(pairs):
        ok &= _wma_two(xs, n, divider, n - 1 + 2 * p * _RESEED, o)
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
def _wma_two(xs, n, divider, b, o):  # type: ignore[no-untyped-def]
    """_wma_block for the two full blocks starting at b and b + _RESEED, side by side."""
    c = b + _RESEED
    w1, s1 = _wma_seed(xs, n, b)
    w2, s2 = _wma_seed(xs, n, c)
    o[b] = w1 / divider
    o[c] = w2 / divider
    n1 = xs[b + 1:c]
    d1 = xs[b + 1 - n:c - n]
    o1 = o[b + 1:c]
    n2 = xs[c + 1:c + _RESEED]
    d2 = xs[c + 1 - n:c + _RESEED - n]
    o2 = o[c + 1:c + _RESEED]
    for i in range(_RESEED - 1):
        v = n1[i]
        u = n2[i]
        w1 = (w1 - s1) + v * n
        s1 = (s1 + v) - d1[i]
        w2 = (w2 - s2) + u * n
        s2 = (s2 + u) - d2[i]
        o1[i] = w1
        o2[i] = w2
    _div_by(o1, divider)
    _div_by(o2, divider)
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


# --------------------------------------------------------------------------- oscillators

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
    lowest low computed by doubling into two small buffers, and the output written
    once (one pass over memory instead of a span scan and three passes). True when
    every input was finite and ``out`` is done; False (``out`` unfinished) otherwise,
    or for a row shorter than n or a longer window."""
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
        _ext_chunk(h[t0 - n + 1:t1], w, n, 1.0, a, b, hb)
        _ext_chunk(l[t0 - n + 1:t1], w, n, -1.0, a, b, lb)
        hh = hb[n - 1:w]
        lw = lb[n - 1:w]
        cs = c[t0:t1]
        o = out[t0:t1]
        for t in range(t1 - t0):
            x = hh[t]
            y = lw[t]
            o[t] = 0.0 if _ta_equal(x, y) else (x - cs[t]) / ((x - y) / -100.0)
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
            hh[t] = 0.0 if _ta_equal(a, b) else (a - cs[t]) / ((a - b) / -100.0)


# --------------------------------------------------------------------------- volatility

@_jit
def bbands(x, up, mid, low, n, kdev):  # type: ignore[no-untyped-def]
    acc = np.empty(_BLOCK)
    for r in range(x.shape[0]):
        xr = x[r]
        # The middle band first, on the whole row from its first finite bar: a finite
        # result proves the row finite (see sma), so no separate scan; else the span.
        lo = _lead(xr, xr, xr)
        hi = xr.shape[0]
        if not _sma_row(xr[lo:], n, mid[r][lo:]):
            lo, hi = _span(xr, xr, xr, xr, 1)
            _sma_row(xr[lo:hi], n, mid[r][lo:hi])
        _nan_outside(up[r], lo, hi)
        _nan_outside(mid[r], lo, hi)
        _nan_outside(low[r], lo, hi)
        m = hi - lo
        xs = xr[lo:hi]
        md = mid[r][lo:hi]
        u = up[r][lo:hi]
        d = low[r][lo:hi]
        _nan_head(u, n - 1)
        _nan_head(d, n - 1)
        # Population variance around the window's mean, two-pass per window (squared
        # deviations summed oldest to newest): stable when the spread is tiny next to
        # the price, as TA-Lib 0.8's is.
        for t0 in range(n - 1, m, _BLOCK):
            t1 = min(m, t0 + _BLOCK)
            w = t1 - t0
            a = acc[:w]
            mw = md[t0:t1]
            for j in range(w):
                a[j] = 0.0
            # Four window positions per sweep, added in the same order as one at a time
            # (bit-identical): the running sums are loaded and stored a quarter as often.
            k4 = n - n % 4
            for kk in range(0, k4, 4):
                x0 = xs[t0 - n + 1 + kk:t1 - n + 1 + kk]
                x1 = xs[t0 - n + 2 + kk:t1 - n + 2 + kk]
                x2 = xs[t0 - n + 3 + kk:t1 - n + 3 + kk]
                x3 = xs[t0 - n + 4 + kk:t1 - n + 4 + kk]
                for j in range(w):
                    mj = mw[j]
                    d0 = x0[j] - mj
                    d1 = x1[j] - mj
                    d2 = x2[j] - mj
                    d3 = x3[j] - mj
                    a[j] = (((a[j] + d0 * d0) + d1 * d1) + d2 * d2) + d3 * d3
            for kk in range(k4, n):
                xw = xs[t0 - n + 1 + kk:t1 - n + 1 + kk]
                for j in range(w):
                    dv = xw[j] - mw[j]
                    a[j] += dv * dv
            uw = u[t0:t1]
            dw = d[t0:t1]
            for j in range(w):
                width = kdev * np.sqrt(a[j] / n)
                uw[j] = mw[j] + width
                dw[j] = mw[j] - width


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


# --------------------------------------------------------------------------- trend

@_jit
def dmi(h, l, c, out, n, mode):  # type: ignore[no-untyped-def]
    for r in range(h.shape[0]):
        hr = h[r]
        lr = l[r]
        cr = c[r]
        o = out[r]
        if mode == 2:
            lo = _lead(hr, lr, cr)
            if _adx_fused(hr[lo:], lr[lo:], cr[lo:], n, o[lo:]):
                _nan_head(o, lo)
                continue
        lo, hi = _span(hr, lr, cr, cr, 3)
        _nan_outside(o, lo, hi)
        _dmi_row(hr[lo:hi], lr[lo:hi], cr[lo:hi], n, mode, o[lo:hi])


@_jit
def ichimoku(h, l, c, tk, kj, sa, sb, t1, t2,  # type: ignore[no-untyped-def]
             tenkan, kijun, senkou_b):
    for r in range(h.shape[0]):
        hr = h[r]
        lr = l[r]
        cr = c[r]
        lo, hi = _span(hr, lr, cr, cr, 3)
        _nan_outside(tk[r], lo, hi)
        _nan_outside(kj[r], lo, hi)
        _nan_outside(sa[r], lo, hi)
        _nan_outside(sb[r], lo, hi)
        m = hi - lo
        hs = hr[lo:hi]
        ls = lr[lo:hi]
        a = t1[:m]
        b = t2[:m]
        tko = tk[r][lo:hi]
        kjo = kj[r][lo:hi]
        sao = sa[r][lo:hi]
        sbo = sb[r][lo:hi]
        _maxmin_row(hs, ls, tenkan, a, b)
        for t in range(m):
            tko[t] = (a[t] + b[t]) / 2.0
        _maxmin_row(hs, ls, kijun, a, b)
        for t in range(m):
            kjo[t] = (a[t] + b[t]) / 2.0
        _maxmin_row(hs, ls, senkou_b, a, b)
        _nan_head(sao, kijun)
        _nan_head(sbo, kijun)
        for t in range(kijun, m):
            sao[t] = (tko[t - kijun] + kjo[t - kijun]) / 2.0
            sbo[t] = (a[t - kijun] + b[t - kijun]) / 2.0


@_jit
def supertrend(h, l, c, line, direction, a, n, mult):  # type: ignore[no-untyped-def]
    for r in range(h.shape[0]):
        hr = h[r]
        lr = l[r]
        cr = c[r]
        lo, hi = _span(hr, lr, cr, cr, 3)
        _nan_outside(line[r], lo, hi)
        _nan_outside(direction[r], lo, hi)
        m = hi - lo
        hs = hr[lo:hi]
        ls = lr[lo:hi]
        cs = cr[lo:hi]
        ln = line[r][lo:hi]
        dr = direction[r][lo:hi]
        _nan_head(ln, n)
        _nan_head(dr, n)
        if m <= n:
            continue
        _atr_row(hs, ls, cs, n, a[:m])
        hl2 = (hs[n] + ls[n]) / 2.0
        fu = hl2 + mult * a[n]
        fl = hl2 - mult * a[n]
        d = 1.0
        ln[n] = fl
        dr[n] = d
        for t in range(n + 1, m):
            hl2 = (hs[t] + ls[t]) / 2.0
            pc = cs[t - 1]
            u = hl2 + mult * a[t]
            nfu = u if (u < fu or pc > fu) else fu
            b = hl2 - mult * a[t]
            nfl = b if (b > fl or pc < fl) else fl
            if d > 0:
                if cs[t] < fl:
                    d = -1.0
            elif cs[t] > fu:
                d = 1.0
            fu = nfu
            fl = nfl
            ln[t] = fl if d > 0 else fu
            dr[t] = d


# TA-Lib SAR's step loop lives in _loops (shared with the numpy fallback); the numba
# kernel runs the same steps without branches (_sar_step), as tested bit for bit
_sar_row_loops = _jit(_loops.sar_row)


@_jit
def _sar_step(is_long, sar, ep, af, ph, pl, nh, nl, accel, maximum):  # type: ignore[no-untyped-def]
    """One bar of _loops.sar_row (same operations in the same order), both trends'
    outcomes computed and the right one selected: the reversal and new-extreme tests
    on noisy prices are unpredictable, a mispredicted branch costs more than the work.
    Returns (out, is_long, sar, ep, af) after the bar."""
    afu = af + accel
    afu = maximum if afu > maximum else afu
    # long: reversal to short
    a1 = ep
    a1 = ph if a1 < ph else a1
    a1 = nh if a1 < nh else a1
    b1 = a1 + accel * (nl - a1)
    b1 = ph if b1 < ph else b1
    b1 = nh if b1 < nh else b1
    # long: trend goes on
    up1 = nh > ep
    ep1 = nh if up1 else ep
    af1 = afu if up1 else af
    c1 = sar + af1 * (ep1 - sar)
    c1 = pl if c1 > pl else c1
    c1 = nl if c1 > nl else c1
    # short: reversal to long
    a2 = ep
    a2 = pl if a2 > pl else a2
    a2 = nl if a2 > nl else a2
    b2 = a2 + accel * (nh - a2)
    b2 = pl if b2 > pl else b2
    b2 = nl if b2 > nl else b2
    # short: trend goes on
    up2 = nl < ep
    ep2 = nl if up2 else ep
    af2 = afu if up2 else af
    c2 = sar + af2 * (ep2 - sar)
    c2 = ph if c2 < ph else c2
    c2 = nh if c2 < nh else c2
    rev = (nl <= sar) if is_long else (nh >= sar)
    out = (a1 if is_long else a2) if rev else sar
    nsar = (b1 if is_long else b2) if rev else (c1 if is_long else c2)
    nep = (nl if is_long else nh) if rev else (ep1 if is_long else ep2)
    naf = accel if rev else (af1 if is_long else af2)
    return out, is_long != rev, nsar, nep, naf


@_jit
def _sar_row(high, low, accel, maximum, out):  # type: ignore[no-untyped-def]
    """_loops.sar_row (TA-Lib SAR) with its loop body as _sar_step."""
    n = high.shape[0]
    if n < 2:
        _sar_row_loops(high, low, accel, maximum, out)
        return
    out[0] = _NAN
    af = accel
    dm = low[0] - low[1]
    dp = high[1] - high[0]
    is_long = not (dm > 0 and dm > dp)
    if is_long:
        ep = high[1]
        sar = low[0]
    else:
        ep = low[1]
        sar = high[0]
    # the first step's "previous bar" is bar 1 itself (as in TA-Lib)
    o, is_long, sar, ep, af = _sar_step(is_long, sar, ep, af, high[1], low[1], high[1],
                                        low[1], accel, maximum)
    out[1] = o
    if n - 2 < _LANE_MIN_SEGMENTS * _SAR_WARM:
        _sar_serial(high, low, accel, maximum, is_long, sar, ep, af, 2, n, out)
        return
    # Two halves side by side (see _warmup_len): SAR forgets its start too, in its own
    # way: two runs from different states become equal bit for bit once both reverse on
    # the same bar (measured on the bench's 1M bars: within 113 bars of a guessed
    # start, median 19-33), and stay equal. The seam is checked, as for the others.
    half = 2 + (n - 2) // 2
    w0 = half - _SAR_WARM
    g = _sar_serial(high, low, accel, maximum, True, low[w0 - 1], high[w0 - 1], accel,
                    w0, half, out[:0])
    l2, s2, e2, a2 = g
    l1, s1, e1, a1 = is_long, sar, ep, af
    ob = out[half:]
    for i in range(2, half):
        u = i + half - 2
        o, l1, s1, e1, a1 = _sar_step(l1, s1, e1, a1, high[i - 1], low[i - 1], high[i],
                                      low[i], accel, maximum)
        out[i] = o
        o, l2, s2, e2, a2 = _sar_step(l2, s2, e2, a2, high[u - 1], low[u - 1], high[u],
                                      low[u], accel, maximum)
        ob[i - 2] = o
    if 2 * half - 2 < n:
        _sar_serial(high, low, accel, maximum, l2, s2, e2, a2, 2 * half - 2, n, out)
    if (l1, s1, e1, a1) != g:
        _sar_serial(high, low, accel, maximum, l1, s1, e1, a1, half, n, out)


_SAR_WARM = 4096  # bars of warm-up before the seam (36x the longest seen)


@_jit
def _sar_serial(high, low, accel, maximum, is_long, sar, ep, af, t0, t1, out):  # type: ignore[no-untyped-def]
    """SAR steps for bars t0..t1-1 (t0 >= 2) from the state after bar t0-1; writes out[t]
    when out is not empty; returns the state after bar t1-1."""
    write = out.shape[0] > 0
    for t in range(t0, t1):
        o, is_long, sar, ep, af = _sar_step(is_long, sar, ep, af, high[t - 1], low[t - 1],
                                            high[t], low[t], accel, maximum)
        if write:
            out[t] = o
    return is_long, sar, ep, af


@_jit
def sar(h, l, out, accel, maximum):  # type: ignore[no-untyped-def]
    for r in range(h.shape[0]):
        hr = h[r]
        lr = l[r]
        o = out[r]
        lo, hi = _span(hr, lr, lr, lr, 2)
        _nan_outside(o, lo, hi)
        _sar_row(hr[lo:hi], lr[lo:hi], accel, maximum, o[lo:hi])


# --------------------------------------------------------------------------- volume

@_jit
def obv(c, v, out):  # type: ignore[no-untyped-def]
    for r in range(c.shape[0]):
        cr = c[r]
        vr = v[r]
        orow = out[r]
        lo, hi = _span(cr, vr, vr, vr, 2)
        _nan_outside(orow, lo, hi)
        if hi == lo:
            continue
        total = vr[lo]
        orow[lo] = total
        prev = cr[lo:hi - 1]
        cur = cr[lo + 1:hi]
        vol = vr[lo + 1:hi]
        o = orow[lo + 1:hi]
        for t in range(hi - lo - 1):
            p = prev[t]
            q = cur[t]
            # TA-Lib adds the volume on a rise and subtracts it on a fall; v * sign (+1, -1 or
            # 0) is exactly v, -v or a zero that leaves the total as it is. Written as
            # arithmetic (no branch on the noisy sign) so only the addition is serial.
            sign = np.sign(q - p)
            total += vol[t] * sign
            o[t] = total


@_jit
def mfi(h, l, c, v, out, pos, neg, n):  # type: ignore[no-untyped-def]
    ps = np.empty(_BLOCK)
    ns = np.empty(_BLOCK)
    for r in range(h.shape[0]):
        hr = h[r]
        lr = l[r]
        cr = c[r]
        vr = v[r]
        orow = out[r]
        lo, hi = _span(hr, lr, cr, vr, 4)
        _nan_outside(orow, lo, hi)
        m = hi - lo
        o = orow[lo:hi]
        _nan_head(o, n)
        if m <= n:
            continue
        # pos[t-1]/neg[t-1]: money flow of bar t when its typical price rose/fell
        # (equal up to rounding counts as unchanged, as in TA-Lib 0.8).
        hs = hr[lo + 1:hi]
        ls = lr[lo + 1:hi]
        cs = cr[lo + 1:hi]
        vs = vr[lo + 1:hi]
        prev = (hr[lo] + lr[lo] + cr[lo]) / 3.0
        for t in range(m - 1):
            tp = (hs[t] + ls[t] + cs[t]) / 3.0
            mf = tp * vs[t]
            same = _ta_equal(tp, prev)
            pos[t] = mf if (tp > prev and not same) else 0.0
            neg[t] = mf if (tp < prev and not same) else 0.0
            prev = tp
        # Window sums computed directly per window. TA-Lib carries running sums, but
        # also returns 0 after a flat stretch where running sums would leave rounding
        # residue (103.7 instead of 0 on the tests' halted-stock bars); direct sums are
        # exactly 0 there and within ~1e-8 (of 100) of TA-Lib elsewhere, as the numpy
        # kernel is.
        for t0 in range(n - 1, m - 1, _BLOCK):
            t1 = min(m - 1, t0 + _BLOCK)
            w = t1 - t0
            _window_sums(pos, n, t0, t1, ps)
            _window_sums(neg, n, t0, t1, ns)
            ow = o[t0 + 1:t1 + 1]
            for j in range(w):
                tot = ps[j] + ns[j]
                ow[j] = 0.0 if tot == 0.0 else 100.0 * (ps[j] / tot)


@_jit
def vwap(h, l, c, v, out):  # type: ignore[no-untyped-def]
    tpv = np.empty(_BLOCK * 4)
    cum = np.empty(_BLOCK * 4)
    for r in range(h.shape[0]):
        hr = h[r]
        lr = l[r]
        cr = c[r]
        vr = v[r]
        orow = out[r]
        # Optimistic, no scan first: a non-finite value makes a running sum inf or NaN
        # for good (x * 0 is NaN for x inf or NaN), so finite final sums prove the row
        # finite. Otherwise the row's span is found and computed again.
        lo = 0
        while lo < hr.shape[0] and not (math.isfinite(hr[lo]) and math.isfinite(lr[lo])
                                        and math.isfinite(cr[lo]) and math.isfinite(vr[lo])):
            lo += 1
        if _vwap_span(hr, lr, cr, vr, orow, lo, hr.shape[0], tpv, cum):
            _nan_head(orow, lo)
            continue
        lo, hi = _span(hr, lr, cr, vr, 4)
        _nan_outside(orow, lo, hi)
        _vwap_span(hr, lr, cr, vr, orow, lo, hi, tpv, cum)


@_jit
def _vwap_span(hr, lr, cr, vr, orow, lo, hi, tpv, cum):  # type: ignore[no-untyped-def]
    """Cumulative VWAP over bars lo..hi-1 into orow; True when both sums end finite."""
    pv = 0.0
    cv = 0.0
    # Block by block so the three passes (typical price x volume, the two running
    # sums, the division) stay in cache: the kernel is bound by memory traffic.
    for b0 in range(lo, hi, _BLOCK * 4):
        b1 = min(hi, b0 + _BLOCK * 4)
        w = b1 - b0
        hs = hr[b0:b1]
        ls = lr[b0:b1]
        cs = cr[b0:b1]
        vs = vr[b0:b1]
        o = orow[b0:b1]
        t = tpv[:w]
        s = cum[:w]
        for j in range(w):
            t[j] = (hs[j] + ls[j] + cs[j]) / 3.0 * vs[j]
        for j in range(w):
            pv += t[j]
            cv += vs[j]
            t[j] = pv
            s[j] = cv
        for j in range(w):
            o[j] = t[j] / s[j] if s[j] != 0.0 else _NAN
    return math.isfinite(pv) and math.isfinite(cv)


@_jit
def vwap_sessions(h, l, c, v, out, starts):  # type: ignore[no-untyped-def]
    """Session VWAP on the raw layout: sums restart where ``starts`` (bool per bar) is
    True; bars before a row's first valid bar contribute nothing."""
    for r in range(h.shape[0]):
        hr = h[r]
        lr = l[r]
        cr = c[r]
        vr = v[r]
        orow = out[r]
        lo, hi = _span(hr, lr, cr, vr, 4)
        _nan_outside(orow, lo, hi)
        pv = 0.0
        cv = 0.0
        for t in range(lo, hi):
            if starts[t]:
                pv = 0.0
                cv = 0.0
            pv += (hr[t] + lr[t] + cr[t]) / 3.0 * vr[t]
            cv += vr[t]
            orow[t] = pv / cv if cv != 0.0 else _NAN


@_jit
def _ext_checked(xr, n, s, o):  # type: ignore[no-untyped-def]
    """_ext_row on a whole row under the span rule: the values are checked for
    finiteness on the way (no separate scan); only a row with a gap is scanned for its
    span and computed again."""
    lo = _lead(xr, xr, xr)
    if _ext_row(xr[lo:], n, s, o[lo:], True):
        _nan_head(o, lo)
        return
    lo, hi = _span(xr, xr, xr, xr, 1)
    _nan_outside(o, lo, hi)
    _ext_row(xr[lo:hi], n, s, o[lo:hi])


@_jit
def rolling_max(x, out, n):  # type: ignore[no-untyped-def]
    for r in range(x.shape[0]):
        xr = x[r]
        o = out[r]
        _ext_checked(xr, n, 1.0, o)


@_jit
def rolling_min(x, out, n):  # type: ignore[no-untyped-def]
    for r in range(x.shape[0]):
        xr = x[r]
        o = out[r]
        _ext_checked(xr, n, -1.0, o)
