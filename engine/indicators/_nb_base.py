"""Shared pieces of the indicator kernels: the numba decorator, TA-Lib's multiply-add,
the span rule (first finite bar up to the next non-finite one), finiteness checks, the
two-halves warm-up length and the true range. Imported by the family modules
(``_nb_moving``, ``_nb_oscillators``, ``_nb_volatility``, ``_nb_trend``, ``_nb_volume``,
``_nb_window``); see ``_nb`` for the conventions every kernel follows."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba.extending import intrinsic

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


@_jit
def _finite1(a):  # type: ignore[no-untyped-def]
    """Every value of ``a`` finite (one vectorised, branch-free pass)."""
    good = 0
    for j in range(a.shape[0]):
        good += abs(a[j]) < np.inf
    return good == a.shape[0]


@_jit
def _tr(h, l, yc):  # type: ignore[no-untyped-def]
    """TA-Lib TRUE_RANGE of one bar given the previous close."""
    return max(max(h - l, abs(yc - h)), abs(yc - l))


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
