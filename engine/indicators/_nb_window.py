"""numba kernels of the window extremes (highest/lowest: doubling for 1-3 bars, a
square-root decomposition up to 32, van Herk/Gil-Werman for long ones), written once for
both signs (conventions:
``engine.indicators._nb``)."""

from __future__ import annotations

from numba import literally  # type: ignore[attr-defined]
import numpy as np

from engine.indicators._nb_base import _finite1, _jit, _lead, _nan_head, _nan_outside, _span

# Window extremes, written once: the lowest of n values is minus the highest of their
# negations (exact for floats), so one kernel serves both through a sign s = +1 / -1 (a
# compile-time constant where it matters, so every select is a plain max or min). Three
# methods, chosen by window length (measured on the bench's 1M bars, AMD EPYC Zen 4):
# window doubling below 4 bars, a square-root decomposition from 4 to 32 bars (the
# extreme of each 4 bars, then ceil(n/4) of those joined: two vectorised passes for
# n <= 20), van Herk/Gil-Werman from 33 (three steps per bar whatever the window; the
# decomposition's joins grow with n/4).
_EXT_CHUNK = 512  # output bars per doubling chunk: both work buffers stay in L1
_EXT_DOUBLING_MAX = 32  # longest window WILLR's fused kernel computes in chunks
_EXT_VHGW_MIN = 33  # highest/lowest: van Herk/Gil-Werman from this window length


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
def _suffix_ext(x, b, n, s, suf):  # type: ignore[no-untyped-def]
    """suf[i] = max(s * x[b+i .. b+n-1]) for i < n, suf[n] = -inf (no values)."""
    suf[n] = -np.inf
    st = s * x[b + n - 1]
    suf[n - 1] = st
    for i in range(n - 2, -1, -1):
        v = s * x[b + i]
        st = v if v > st else st
        suf[i] = st


@_jit
def _bad_bits(a, i0, i1):  # type: ignore[no-untyped-def]
    """Nonzero when a[i0:i1] holds a NaN or an infinity: bit 11 of the OR of
    (exponent + 1) over the values' bits (the exponent is all ones only for NaN and
    infinities). Integer ORs vectorise and cost little inside another loop; a count of
    float comparisons there added ~25 % to highest's time."""
    b = a[i0:i1].view(np.int64)
    acc = 0
    for j in range(i1 - i0):
        acc |= ((b[j] >> 52) & 0x7FF) + 1
    return acc & 0x800


@_jit
def _ext_vhgw(x, n, s, out, check):  # type: ignore[no-untyped-def]
    """_ext_row by van Herk/Gil-Werman: with blocks of n bars, the window ending at bar
    i of a block is the block's prefix up to i joined with the previous block's suffix
    from i+1, so each bar costs one step of a running prefix, one of a running suffix
    and one join (the join vectorised), whatever n is. Exact (comparisons only).

    The running prefix and suffix are serial chains (each step waits for the previous
    max), so the series is cut into two halves on a block boundary and one loop runs
    both halves' chains: four independent chains in flight (measured on the bench's 1M
    bars, n=20: 0.62 ms against 0.87 ms one half at a time; four halves were slower,
    out of registers). With ``check``, the values are checked in the join loop (integer
    bits, see _bad_bits): returns False when one is not finite, ``out`` unfinished.

    ``s`` is the integer 1 or -1, compiled as a constant (``numba.literally``: one
    specialisation per sign), so ``s * x`` folds to ``x`` or ``-x`` and the sign costs
    no multiply in the loops (measured through the public call, n=20 on 1M bars, same
    runs: 0.945-0.950x -> 0.985-0.999x TA-Lib)."""
    literally(s)
    m = x.shape[0]
    if check and _bad_bits(x, 0, n):
        return False
    h = (m - n) // n // 2  # full blocks per half after block 0
    b_a = n
    b_b = n + h * n
    suf_a = np.empty(n + 1)  # suffix extremes (times s) of the block before; [n]: none
    nsuf_a = np.empty(n + 1)
    suf_b = np.empty(n + 1)
    nsuf_b = np.empty(n + 1)
    nsuf_a[n] = -np.inf
    nsuf_b[n] = -np.inf
    _suffix_ext(x, 0, n, s, suf_a)
    _suffix_ext(x, b_b - n, n, s, suf_b)
    out[n - 1] = s * suf_a[0]
    xi = x.view(np.int64)
    bad = 0
    for k in range(h):
        a0 = b_a + k * n
        c0 = b_b + k * n
        xa = x[a0:a0 + n]
        oa = out[a0:a0 + n]
        xc = x[c0:c0 + n]
        oc = out[c0:c0 + n]
        pa = -np.inf
        sa = -np.inf
        pc = -np.inf
        sc = -np.inf
        for i in range(n):
            j = n - 1 - i
            v = s * xa[i]
            pa = v if v > pa else pa
            oa[i] = pa
            u = s * xa[j]
            sa = u if u > sa else sa
            nsuf_a[j] = sa
            v2 = s * xc[i]
            pc = v2 if v2 > pc else pc
            oc[i] = pc
            u2 = s * xc[j]
            sc = u2 if u2 > sc else sc
            nsuf_b[j] = sc
        fa = suf_a[1:n + 1]
        fc = suf_b[1:n + 1]
        if check:
            ia = xi[a0:a0 + n]
            ic = xi[c0:c0 + n]
            for i in range(n):
                q = fa[i]
                v = oa[i]
                oa[i] = s * (v if v > q else q)
                q2 = fc[i]
                v2 = oc[i]
                oc[i] = s * (v2 if v2 > q2 else q2)
                bad |= (((ia[i] >> 52) & 0x7FF) + 1) | (((ic[i] >> 52) & 0x7FF) + 1)
        else:
            for i in range(n):
                q = fa[i]
                v = oa[i]
                oa[i] = s * (v if v > q else q)
                q2 = fc[i]
                v2 = oc[i]
                oc[i] = s * (v2 if v2 > q2 else q2)
        suf_a, nsuf_a = nsuf_a, suf_a
        suf_b, nsuf_b = nsuf_b, suf_b
    if bad & 0x800:
        return False
    # The rest after the second half: its last full blocks and a partial one.
    suf, nsuf = suf_b, nsuf_b
    for b0 in range(b_b + h * n, m, n):
        b1 = min(m, b0 + n)
        w = b1 - b0
        if check and _bad_bits(x, b0, b1):
            return False
        xb = x[b0:b1]
        ob = out[b0:b1]
        p = -np.inf
        st = -np.inf
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
    return True


_EXT_SQRT_CHUNK = 512  # output bars per chunk of _ext_sqrt (its E4 buffer stays in L1)


@_jit
def _ext_sqrt(x, n, s, out, check):  # type: ignore[no-untyped-def]
    """_ext_row for 4 <= n by a square-root decomposition, chunk by chunk
    (_ext_sqrt_chunk). For n = 20 it is one pass of 4 loads and one of 5 per bar, each
    contiguous and vectorised, against van Herk/Gil-Werman's two serial chains and a join
    (measured on the bench's 1M bars, same runs: n=20 0.53-0.69 ms against 0.89-0.95 ms,
    TA-Lib MAX 0.91-1.00; n=32 1.13 against 1.20; from n=40 van Herk/Gil-Werman is the
    faster). With ``check``, the values are checked in the first pass (exponent bits, see
    _bad_bits): returns False at the first chunk holding a non-finite value, ``out``
    unfinished. ``s`` is the integer 1 or -1, compiled as a constant (``numba.literally``),
    so each select is a plain max or min."""
    literally(s)
    m = x.shape[0]
    e4 = np.empty(_EXT_SQRT_CHUNK + n)
    for t0 in range(n - 1, m, _EXT_SQRT_CHUNK):
        if not _ext_sqrt_chunk(x, n, s, t0, min(m, t0 + _EXT_SQRT_CHUNK), e4, out[t0:], check):
            return False
    return True


@_jit
def _ext_sqrt_chunk(x, n, s, t0, t1, e4, o, check):  # type: ignore[no-untyped-def]
    """o[i] = the extreme (s) of x[t-n+1..t] for t = t0 + i < t1 (t0 >= n-1, 4 <= n,
    t1 - t0 <= len(e4) - n + 4): the extreme of each 4 bars, E4[p] = ext(x[p-3..p]), then
    for each t the E4 windows ending at t, t-4, t-8, ... and the one starting at the
    window's first bar, t-(n-4) (they may overlap): ceil(n/4) of them, five per pass.
    With ``check``: False, ``o`` unfinished, when a value read is not finite."""
    literally(s)
    last = n - 4
    k = (n + 3) // 4  # E4 windows to join: offsets 0, 4, .., 4(k-2), and n-4
    o1 = min(4, last)
    o2 = min(8, last)
    o3 = min(12, last)
    o4 = min(16, last)
    w = t1 - t0
    base = t0 - last  # E4 of bars base .. t1-1 into e4[0 .. w+last)
    span = w + last
    a0 = x[base:base + span]
    a1 = x[base - 1:base - 1 + span]
    a2 = x[base - 2:base - 2 + span]
    a3 = x[base - 3:base - 3 + span]
    if check:
        ib = x[base:base + span].view(np.int64)
        bad = 0
        for j in range(span):
            e4[j] = _ext2(_ext2(a0[j], a1[j], s), _ext2(a2[j], a3[j], s), s)
            bad |= ((ib[j] >> 52) & 0x7FF) + 1
        if bad & 0x800:
            return False
    else:
        for j in range(span):
            e4[j] = _ext2(_ext2(a0[j], a1[j], s), _ext2(a2[j], a3[j], s), s)
    # o[i] joins e4[last + i - offset]
    b0 = e4[last:last + w]
    b1 = e4[last - o1:last - o1 + w]
    b2 = e4[last - o2:last - o2 + w]
    b3 = e4[last - o3:last - o3 + w]
    b4 = e4[last - o4:last - o4 + w]
    for i in range(w):
        o[i] = _ext2(_ext2(_ext2(b0[i], b1[i], s), _ext2(b2[i], b3[i], s), s), b4[i], s)
    q = 5
    while q < k:
        f1 = last - min(4 * q, last)
        f2 = last - min(4 * (q + 1), last)
        f3 = last - min(4 * (q + 2), last)
        f4 = last - min(4 * (q + 3), last)
        c1 = e4[f1:f1 + w]
        c2 = e4[f2:f2 + w]
        c3 = e4[f3:f3 + w]
        c4 = e4[f4:f4 + w]
        for i in range(w):
            o[i] = _ext2(_ext2(_ext2(o[i], c1[i], s), _ext2(c2[i], c3[i], s), s), c4[i], s)
        q += 4
    return True


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
    if n < 4:
        return _ext_doubling(x, n, s, out, check)
    if n < _EXT_VHGW_MIN:
        if s > 0:
            return _ext_sqrt(x, n, 1, out, check)
        return _ext_sqrt(x, n, -1, out, check)
    if s > 0:
        return _ext_vhgw(x, n, 1, out, check)
    return _ext_vhgw(x, n, -1, out, check)


@_jit
def _maxmin_row(h, l, n, hh, ll):  # type: ignore[no-untyped-def]
    """hh = highest of h and ll = lowest of l over the last n bars (NaN for the first n-1)."""
    _ext_row(h, n, 1.0, hh)
    _ext_row(l, n, -1.0, ll)


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
