"""Path-dependent chart-type loops written once, in plain Python.

``engine.charts._nb`` compiles these with numba; without numba they run as they are (slow
but the same numbers: tests run both). Every loop reads float64 arrays, skips a bar whose
inputs are not finite, writes into preallocated outputs and returns how many elements it
wrote, or -1 when the outputs were too small (the caller's bound was wrong: never expected).

Price levels of Renko and Point & Figure are kept as integer box counts (``k`` boxes from
the anchor) so that a long chart accumulates no rounding; a price reaches a level when it is
within ``EPS`` of a box of it (binary rounding of e.g. 1.3 / 0.1 must not lose a box).
"""
from __future__ import annotations

import math
from typing import Any

EPS = 1e-9
_NAN = float("nan")

Arr = Any  # a 1-D numpy array (numba types it; mypy sees Any)


def heikin_ashi(o: Arr, h: Arr, lo: Arr, c: Arr, out_o: Arr, out_h: Arr, out_l: Arr, out_c: Arr) -> int:
    """Heikin-Ashi candles; a bar with a non-finite input gives NaN and is skipped by the
    recursion (the next candle's open comes from the last finite one)."""
    n = o.shape[0]
    po = _NAN
    pc = _NAN
    have = False
    for i in range(n):
        oi = o[i]
        hi = h[i]
        li = lo[i]
        ci = c[i]
        if not (math.isfinite(oi) and math.isfinite(hi) and math.isfinite(li) and math.isfinite(ci)):
            out_o[i] = _NAN
            out_h[i] = _NAN
            out_l[i] = _NAN
            out_c[i] = _NAN
            continue
        hc = (oi + hi + li + ci) / 4.0
        ho = (po + pc) / 2.0 if have else (oi + ci) / 2.0
        out_o[i] = ho
        out_c[i] = hc
        out_h[i] = max(hi, ho, hc)
        out_l[i] = min(li, ho, hc)
        po = ho
        pc = hc
        have = True
    return int(n)


def renko(c: Arr, anchor: float, box: float, out_k: Arr, out_dir: Arr, out_bar: Arr) -> int:
    """Renko bricks on closes: ``out_k`` the brick's bottom in boxes from ``anchor``,
    ``out_dir`` +1 up / -1 down, ``out_bar`` the bar that completed it."""
    n = c.shape[0]
    cap = out_k.shape[0]
    lo = 0  # the previous brick spans [lo, hi] boxes; before the first, the anchor point
    hi = 0
    m = 0
    for i in range(n):
        ci = c[i]
        if not math.isfinite(ci):
            continue
        x = (ci - anchor) / box
        up = int(math.floor(x - hi + EPS))
        if up >= 1:
            if m + up > cap:
                return -1
            for j in range(up):
                out_k[m] = hi + j
                out_dir[m] = 1
                out_bar[m] = i
                m += 1
            lo = hi + up - 1
            hi = hi + up
            continue
        down = int(math.floor(lo - x + EPS))
        if down >= 1:
            if m + down > cap:
                return -1
            for j in range(down):
                out_k[m] = lo - j - 1
                out_dir[m] = -1
                out_bar[m] = i
                m += 1
            hi = lo - down + 1
            lo = lo - down
    return m


def kagi(c: Arr, rev: float, pct: bool, out_open: Arr, out_close: Arr, out_bar: Arr,
         out_yang: Arr, out_switch: Arr) -> int:
    """Kagi lines on closes; ``rev`` a price amount, or a fraction of the line's extreme
    when ``pct``. ``out_yang`` 1 when the line ends thick, ``out_switch`` the price where
    its thickness changed (NaN when it did not)."""
    n = c.shape[0]
    m = 0
    started = False
    direction = 0
    start = 0.0
    ext = 0.0
    yang = False
    shoulder = math.inf  # top of the last up line (none yet)
    waist = -math.inf  # bottom of the last down line (none yet)
    for i in range(n):
        ci = c[i]
        if not math.isfinite(ci):
            continue
        if not started:
            started = True
            start = ci
            ext = ci
            continue
        if direction == 0:
            r = rev * abs(start) if pct else rev
            if ci - start >= r * (1.0 - EPS):
                direction = 1
                yang = True
                waist = start
            elif start - ci >= r * (1.0 - EPS):
                direction = -1
                yang = False
                shoulder = start
            else:
                continue
            ext = ci
            out_open[0] = start
            out_close[0] = ci
            out_bar[0] = 0
            out_yang[0] = 1 if yang else 0
            out_switch[0] = _NAN
            m = 1
            continue
        r = rev * abs(ext) if pct else rev
        if direction == 1:
            if ci > ext:
                ext = ci
                out_close[m - 1] = ci
                if not yang and ci > shoulder:
                    yang = True
                    out_yang[m - 1] = 1
                    out_switch[m - 1] = shoulder
            elif ext - ci >= r * (1.0 - EPS):
                shoulder = ext
                direction = -1
                out_open[m] = ext
                out_close[m] = ci
                out_bar[m] = i
                out_switch[m] = _NAN
                if yang and ci < waist:
                    yang = False
                    out_switch[m] = waist
                out_yang[m] = 1 if yang else 0
                ext = ci
                m += 1
        else:
            if ci < ext:
                ext = ci
                out_close[m - 1] = ci
                if yang and ci < waist:
                    yang = False
                    out_yang[m - 1] = 0
                    out_switch[m - 1] = waist
            elif ci - ext >= r * (1.0 - EPS):
                waist = ext
                direction = 1
                out_open[m] = ext
                out_close[m] = ci
                out_bar[m] = i
                out_switch[m] = _NAN
                if not yang and ci > shoulder:
                    yang = True
                    out_switch[m] = shoulder
                out_yang[m] = 1 if yang else 0
                ext = ci
                m += 1
    return m


def pnf(h: Arr, lo: Arr, c: Arr, box: float, reversal: int, out_kind: Arr, out_lo: Arr,
        out_hi: Arr, out_bar: Arr) -> int:
    """Point & Figure columns by the high/low method; levels in boxes (price / box)."""
    n = h.shape[0]
    m = 0
    ref = 0
    have_ref = False
    kind = 0  # 0 before the first column, 1 X, -1 O
    clo = 0
    chi = 0
    for i in range(n):
        hi = h[i]
        li = lo[i]
        if not (math.isfinite(hi) and math.isfinite(li)):
            continue
        kh = int(math.floor(hi / box + EPS))
        kl = int(math.ceil(li / box - EPS))
        if not have_ref:
            ci = c[i]
            ref = int(math.floor((ci if math.isfinite(ci) else li) / box + EPS))
            have_ref = True
        if kind == 0:
            if kh >= ref + reversal:
                kind, clo, chi = 1, ref + 1, kh
            elif kl <= ref - reversal:
                kind, clo, chi = -1, kl, ref - 1
            else:
                continue
            out_bar[0] = 0
            m = 1
        elif kind == 1:
            if kh > chi:
                chi = kh
            elif kl <= chi - reversal:
                out_kind[m - 1], out_lo[m - 1], out_hi[m - 1] = kind, clo, chi
                kind, clo, chi = -1, kl, chi - 1
                out_bar[m] = i
                m += 1
        else:
            if kl < clo:
                clo = kl
            elif kh >= clo + reversal:
                out_kind[m - 1], out_lo[m - 1], out_hi[m - 1] = kind, clo, chi
                kind, clo, chi = 1, clo + 1, kh
                out_bar[m] = i
                m += 1
        out_kind[m - 1], out_lo[m - 1], out_hi[m - 1] = kind, clo, chi
    return m


def line_break(c: Arr, lines: int, out_open: Arr, out_close: Arr, out_bar: Arr) -> int:
    """Line Break lines on closes (``lines`` = how many lines a reversal must break)."""
    n = c.shape[0]
    m = 0
    base = 0.0
    have_base = False
    for i in range(n):
        ci = c[i]
        if not math.isfinite(ci):
            continue
        if not have_base:
            base = ci
            have_base = True
            continue
        if m == 0:
            if ci != base:
                out_open[0] = base
                out_close[0] = ci
                out_bar[0] = i
                m = 1
            continue
        lo_last = min(out_open[m - 1], out_close[m - 1])
        hi_last = max(out_open[m - 1], out_close[m - 1])
        up = out_close[m - 1] > out_open[m - 1]
        first = max(0, m - lines)
        new_open = _NAN
        if up:
            if ci > hi_last:
                new_open = hi_last
            else:
                low_n = math.inf
                for j in range(first, m):
                    low_n = min(low_n, out_open[j], out_close[j])
                if ci < low_n:
                    new_open = lo_last
        else:
            if ci < lo_last:
                new_open = lo_last
            else:
                high_n = -math.inf
                for j in range(first, m):
                    high_n = max(high_n, out_open[j], out_close[j])
                if ci > high_n:
                    new_open = hi_last
        if not math.isnan(new_open):
            if m >= out_open.shape[0]:
                return -1
            out_open[m] = new_open
            out_close[m] = ci
            out_bar[m] = i
            m += 1
    return m


def range_bars(o: Arr, h: Arr, lo: Arr, c: Arr, size: float, out_o: Arr, out_h: Arr, out_l: Arr,
               out_c: Arr, out_bar: Arr, out_last: Arr) -> int:
    """Range bars of height ``size`` from each bar's assumed path (open, low, high, close
    for an up bar; open, high, low, close for a down bar); the last bar may be shorter."""
    n = o.shape[0]
    cap = out_o.shape[0]
    m = 0
    bo = 0.0
    bh = 0.0
    bl = 0.0
    tol = size * EPS
    for i in range(n):
        oi = o[i]
        hi = h[i]
        li = lo[i]
        ci = c[i]
        if not (math.isfinite(oi) and math.isfinite(hi) and math.isfinite(li) and math.isfinite(ci)):
            continue
        for step in range(4):
            if step == 0:
                p = oi
            elif step == 3:
                p = ci
            elif (step == 1) == (ci >= oi):
                p = li
            else:
                p = hi
            if m == 0:
                bo = p
                bh = p
                bl = p
                out_bar[0] = i
                m = 1
            while True:
                if p > bl + size + tol:
                    top = bl + size
                    out_o[m - 1], out_h[m - 1], out_l[m - 1], out_c[m - 1] = bo, top, bl, top
                    out_last[m - 1] = i
                    if m >= cap:
                        return -1
                    bo = top
                    bh = top
                    bl = top
                    out_bar[m] = i
                    m += 1
                elif p < bh - size - tol:
                    bottom = bh - size
                    out_o[m - 1], out_h[m - 1], out_l[m - 1], out_c[m - 1] = bo, bh, bottom, bottom
                    out_last[m - 1] = i
                    if m >= cap:
                        return -1
                    bo = bottom
                    bh = bottom
                    bl = bottom
                    out_bar[m] = i
                    m += 1
                else:
                    break
            bh = max(bh, p)
            bl = min(bl, p)
            out_o[m - 1], out_h[m - 1], out_l[m - 1], out_c[m - 1] = bo, bh, bl, p
            out_last[m - 1] = i
    return m


def session_bins(t: Arr, off: Arr, sdays: Arr, opens: Arr, closes: Arr, step: int, out: Arr) -> int:
    """Bin start of each bar time ``t`` (UTC s; ``off`` the exchange's UTC offset there) for
    bins of ``step`` seconds cut at the session open and close (``sdays`` sorted session
    dates as days since 1970, with their ``opens``/``closes``) and at the exchange's midnight;
    see ``engine.charts.resample``. ``t`` sorted."""
    n = t.shape[0]
    ns = sdays.shape[0]
    j = 0
    for i in range(n):
        ti = t[i]
        local = ti + off[i]
        day = local // 86400
        midnight = ti - (local - day * 86400)
        while j < ns and sdays[j] < day:
            j += 1
        if j < ns and sdays[j] == day:
            o = opens[j]
            c = closes[j]
            if ti < o:
                k = o - ((o - ti + step - 1) // step) * step
                out[i] = k if k > midnight else midnight
            elif ti < c:
                out[i] = o + ((ti - o) // step) * step
            else:
                out[i] = c + ((ti - c) // step) * step
        else:
            out[i] = midnight + ((ti - midnight) // step) * step
    return int(n)
