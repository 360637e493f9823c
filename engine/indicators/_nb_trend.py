"""numba kernels of the trend indicators: +DI/-DI/ADX, Ichimoku, SuperTrend, SAR
(conventions: ``engine.indicators._nb``)."""

from __future__ import annotations

import numpy as np

from engine.indicators import _loops
from engine.indicators._nb_base import (
    _CHECK_CHUNK, _LANE_MIN_SEGMENTS, _NAN, _finite3, _jit, _lead, _nan_head, _nan_outside,
    _span, _tr, _warmup_len,
)
from engine.indicators._nb_volatility import _atr_row
from engine.indicators._nb_window import _maxmin_row

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
def _adx_chunk2(h, l, c, n, a, t0, u0, w, p1, m1, s1, x1, p2, m2, s2, x2,  # type: ignore[no-untyped-def]
                buf, out):
    """w bars of _adx_fused's two halves (from bar t0 and from bar u0), as three loops:
    the smoothed DMs and true range (serial chains, both halves side by side) into
    ``buf``; DX from them (no chain: its three divisions vectorised); the ADX (serial).
    The arithmetic of _dm_step/_adx_step, operation for operation; DX is NaN where it is
    not defined (the ADX then stays), which the finite inputs never give otherwise. Was
    one loop of seven scalar divisions per bar, bound by the divider (12-13 ms on the
    bench's 1M bars against TA-Lib's 12.5-13.5). Returns both halves' states."""
    bp1 = buf[0]
    bm1 = buf[1]
    bs1 = buf[2]
    bp2 = buf[3]
    bm2 = buf[4]
    bs2 = buf[5]
    d1 = buf[6]
    d2 = buf[7]
    for i in range(w):
        t = t0 + i
        p1, m1, s1 = _dm_step(h[t], h[t - 1], l[t], l[t - 1], c[t - 1], p1, m1, s1, n)
        u = u0 + i
        p2, m2, s2 = _dm_step(h[u], h[u - 1], l[u], l[u - 1], c[u - 1], p2, m2, s2, n)
        bp1[i] = p1
        bm1[i] = m1
        bs1[i] = s1
        bp2[i] = p2
        bm2[i] = m2
        bs2[i] = s2
    _dx_into(bp1, bm1, bs1, d1, w)
    _dx_into(bp2, bm2, bs2, d2, w)
    o1 = out[t0:t0 + w]
    o2 = out[u0:u0 + w]
    for i in range(w):
        v = d1[i]
        x1 = ((x1 * a) + v) / n if v == v else x1
        o1[i] = x1
        v2 = d2[i]
        x2 = ((x2 * a) + v2) / n if v2 == v2 else x2
        o2[i] = x2
    return p1, m1, s1, x1, p2, m2, s2, x2


@_jit
def _dx_into(pdm, mdm, str_, dx, w):  # type: ignore[no-untyped-def]
    """dx[i] = _adx_step's DX of the smoothed values at i, NaN where it is not defined."""
    for i in range(w):
        sv = str_[i]
        ok = sv != 0.0
        pdi = 100.0 * (pdm[i] / sv) if ok else 0.0
        mdi = 100.0 * (mdm[i] / sv) if ok else 0.0
        tot = mdi + pdi
        ok = ok and tot != 0.0
        dx[i] = 100.0 * (abs(mdi - pdi) / tot) if ok else _NAN


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
    buf = np.empty((8, _CHECK_CHUNK))
    for c0 in range(0, size, _CHECK_CHUNK):
        c1 = min(size, c0 + _CHECK_CHUNK)
        if not (_finite3(h, l, c, s0 + c0, s0 + c1)
                and _finite3(h, l, c, half + c0, half + c1)):
            return False
        p1, m1, s1, x1, p2, m2, s2, x2 = _adx_chunk2(h, l, c, n, a, s0 + c0, half + c0, c1 - c0,
                                                     p1, m1, s1, x1, p2, m2, s2, x2, buf, out)
    if half + size < m:
        if not _finite3(h, l, c, half + size, m):
            return False
        _adx_serial(h, l, c, (p2, m2, s2, x2), n, a, half + size, m, out)
    if (p1, m1, s1, x1) != seam:
        _adx_serial(h, l, c, (p1, m1, s1, x1), n, a, half, m, out)
    return True


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
