"""numba kernels of the volume indicators: OBV, MFI, VWAP (cumulative and by session)
(conventions: ``engine.indicators._nb``)."""

from __future__ import annotations

import math

import numpy as np

from engine.indicators._nb_base import (
    _BLOCK, _NAN, _jit, _nan_head, _nan_outside, _span, _ta_equal, _window_sums,
)

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
    """Cumulative VWAP over bars lo..hi-1 into orow; True when both sums end finite (a
    non-finite value makes its sub-block's sum, then every later carry, non-finite)."""
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
        # The running sums as four local ones side by side (four sub-blocks, eight
        # independent addition chains instead of two), then each sub-block's carry
        # (the sums before it) added in the vectorised division pass.
        q = w // 4
        t1 = t[q:]
        t2 = t[2 * q:]
        t3 = t[3 * q:]
        s1 = s[q:]
        s2 = s[2 * q:]
        s3 = s[3 * q:]
        v1 = vs[q:]
        v2 = vs[2 * q:]
        v3 = vs[3 * q:]
        p0 = p1 = p2 = p3 = 0.0
        c0 = c1 = c2 = c3 = 0.0
        for j in range(q):
            p0 += t[j]
            p1 += t1[j]
            p2 += t2[j]
            p3 += t3[j]
            c0 += vs[j]
            c1 += v1[j]
            c2 += v2[j]
            c3 += v3[j]
            t[j] = p0
            t1[j] = p1
            t2[j] = p2
            t3[j] = p3
            s[j] = c0
            s1[j] = c1
            s2[j] = c2
            s3[j] = c3
        for j in range(4 * q, w):  # the last sub-block's remainder (< 4 bars)
            p3 += t[j]
            c3 += vs[j]
            t[j] = p3
            s[j] = c3
        for k in range(4):
            a = k * q
            e = w if k == 3 else a + q
            tk = t[a:e]
            sk = s[a:e]
            ok_ = o[a:e]
            for j in range(e - a):
                num = tk[j] + pv
                den = sk[j] + cv
                ok_[j] = num / den if den != 0.0 else _NAN
            pv += p0 if k == 0 else (p1 if k == 1 else (p2 if k == 2 else p3))
            cv += c0 if k == 0 else (c1 if k == 1 else (c2 if k == 2 else c3))
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
