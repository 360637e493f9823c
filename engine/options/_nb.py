"""numba kernels for engine/options (see ``_backend``); one pass per contract, no temporaries.

The formulas are the ones of the numpy code next to each public function (``bsm.greeks_raw``
and friends); tests run both and compare them to 1e-12.
"""
from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba import njit, prange
from numba.extending import intrinsic

_SQRT1_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


@njit(cache=True, inline="always")
def ncdf(x: float) -> float:
    return 0.5 * math.erfc(-x * _SQRT1_2)


@njit(cache=True, inline="always")
def npdf(x: float) -> float:
    return _INV_SQRT_2PI * math.exp(-0.5 * x * x)


@njit(cache=True)
def bsm_greeks(w, s, k, t, r, q, v, which, out):  # type: ignore[no-untyped-def]
    """which: 0 price only, 1 price + first order, 2 all; out: (9, n) float64."""
    n = s.shape[0]
    for i in range(n):
        wi = w[i]
        ti = t[i]
        sqrt_t = math.sqrt(ti)
        sig = v[i] * sqrt_t
        m = math.log(s[i] / k[i]) + (r[i] - q[i]) * ti
        if sig > 0.0:
            d1 = (m + 0.5 * sig * sig) / sig
            d2 = d1 - sig
        else:
            d1 = math.inf if m > 0.0 else (-math.inf if m < 0.0 else 0.0)
            d2 = d1
        dq = math.exp(-q[i] * ti)
        kd = k[i] * math.exp(-r[i] * ti)
        sd = s[i] * dq
        nd1 = ncdf(wi * d1)
        nd2 = ncdf(wi * d2)
        out[0, i] = wi * (sd * nd1 - kd * nd2)
        if which == 0:
            continue
        pdf = npdf(d1)
        wnd1 = wi * nd1
        wkn2 = wi * kd * nd2
        vega_raw = sd * pdf * sqrt_t
        out[1, i] = dq * wnd1
        out[3, i] = vega_raw / 100.0
        out[5, i] = wkn2 * ti / 100.0
        if sig > 0.0:
            out[2, i] = dq * pdf / (s[i] * sig)
            diffusion = sd * pdf * sig / (2.0 * ti)
        else:
            out[2, i] = 0.0
            diffusion = 0.0
        out[4, i] = (-diffusion - r[i] * wkn2 + q[i] * sd * wnd1) / 365.0
        if which == 1:
            continue
        if sig > 0.0:
            out[6, i] = -dq * pdf * d2 / v[i] / 100.0
            out[7, i] = vega_raw * d1 * d2 / v[i] / 10000.0
            out[8, i] = (q[i] * dq * wnd1 - dq * pdf * (2.0 * (r[i] - q[i]) * ti - d2 * sig)
                         / (2.0 * ti * sig)) / 365.0
        else:
            out[6, i] = 0.0
            out[7, i] = 0.0
            out[8, i] = 0.0


@njit(cache=True)
def crr(w, s, k, t, r, q, v, steps, american):  # type: ignore[no-untyped-def]
    """Cox-Ross-Rubinstein tree price of one contract (see american._crr_np)."""
    if t <= 0.0 or v <= 0.0:
        fwd = w * (s * math.exp(-q * t) - k * math.exp(-r * t))
        euro = fwd if fwd > 0.0 else 0.0
        intrinsic = w * (s - k)
        if american and intrinsic > euro:
            return intrinsic
        return euro
    dt = t / steps
    u = math.exp(v * math.sqrt(dt))
    d = 1.0 / u
    disc = math.exp(-r * dt)
    p = (math.exp((r - q) * dt) - d) / (u - d)
    pd = disc * (1.0 - p)
    pu = disc * p
    val = np.empty(steps + 1)
    st = np.empty(steps + 1)
    for j in range(steps + 1):
        st[j] = s * u ** (steps - 2 * j)
        x = w * (st[j] - k)
        val[j] = x if x > 0.0 else 0.0
    for n in range(steps - 1, -1, -1):
        for j in range(n + 1):
            c = pu * val[j] + pd * val[j + 1]
            if american:
                st[j] = st[j] * d
                x = w * (st[j] - k)
                if x > c:
                    c = x
            val[j] = c
    return val[0]


def _i64_as_f64_typer(typingctx, i):  # type: ignore[no-untyped-def]
    """The float64 whose bits are the int64 ``i`` (a bitcast, no conversion)."""
    sig = numba.types.float64(numba.types.int64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())
    return sig, codegen


_i64_as_f64: Any = intrinsic(_i64_as_f64_typer)

_LOG2E = 1.4426950408889634
_LN2_HI = 0.693145751953125  # ln 2 in 17 bits: k * _LN2_HI is exact for |k| < 2**36
_LN2_LO = 1.42860682030941723212e-6


@njit(cache=True, fastmath=True, inline="always")
def _exp_q(x):  # type: ignore[no-untyped-def]
    """exp(x) for the bivariate normal's quadrature exponents (x <= 0 up to rounding),
    as plain arithmetic so that LLVM vectorises the loop over the nodes (libm's exp is a
    call per value: 3.3x slower here). Range reduction x = k ln 2 + r, |r| <= ln2/2, a
    degree-12 Taylor polynomial (truncation 2e-16) and 2^k built from its exponent bits.
    Relative error <= 2e-14 against libm (1e-15 for |x| < 10); 0 below -708 (libm:
    subnormal or 0), and 0 for NaN, which arises only where Φ(a)Φ(b) or the exponent's
    limit make the term 0 (a or b infinite)."""
    xc = x if x > -708.0 else -708.0
    fx = math.floor(xc * _LOG2E + 0.5)
    r = xc - fx * _LN2_HI - fx * _LN2_LO
    p = 1.0 + r * (1.0 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (
        1.0 / 120 + r * (1.0 / 720 + r * (1.0 / 5040 + r * (1.0 / 40320 + r * (
            1.0 / 362880 + r * (1.0 / 3628800 + r * (1.0 / 39916800 + r * (
                1.0 / 479001600))))))))))))
    res = p * _i64_as_f64((np.int64(fx) + 1023) << 52)
    return res if x > -708.0 else 0.0


@njit(cache=True, fastmath=True, inline="always")
def _bvn(a, b, sign, bw, ba, bc):  # type: ignore[no-untyped-def]
    # P(X < a, Y < b), correlation sign * american._RHO (see american._bvn).
    hk = a * b
    hs = 0.5 * (a * a + b * b)
    acc = 0.0
    for j in range(bw.shape[0]):
        acc += bw[j] * _exp_q(sign * ba[j] * hk - bc[j] * hs)
    return sign * acc + ncdf(a) * ncdf(b)


@njit(cache=True, fastmath=True, inline="always")
def _bvn_n(a, b, na, nb_, sign, bw, ba, bc):  # type: ignore[no-untyped-def]
    # _bvn with Φ(a), Φ(b) given (they are shared between the ψ terms of one γ).
    hk = a * b
    hs = 0.5 * (a * a + b * b)
    acc = 0.0
    for j in range(bw.shape[0]):
        acc += bw[j] * _exp_q(sign * ba[j] * hk - bc[j] * hs)
    return sign * acc + na * nb_


@njit(cache=True, fastmath=True, inline="always")
def _psi_h(lh, ls, l1, l2, drift, T, sq2, e1, e2, e3, e4, n1, n2, n3, n4, pre2, pw1, pw2, pw12,  # type: ignore[no-untyped-def]
           bw, ba, bc):
    f1 = (ls - lh + drift * T) / sq2
    f2 = (2.0 * l2 - ls - lh + drift * T) / sq2
    f3 = (2.0 * l1 - ls - lh + drift * T) / sq2
    f4 = (ls + 2.0 * l1 - lh - 2.0 * l2 + drift * T) / sq2
    return pre2 * (
        _bvn_n(-e1, -f1, n1, ncdf(-f1), 1.0, bw, ba, bc)
        - pw2 * _bvn_n(-e2, -f2, n2, ncdf(-f2), 1.0, bw, ba, bc)
        - pw1 * _bvn_n(-e3, -f3, n3, ncdf(-f3), -1.0, bw, ba, bc)
        + pw12 * _bvn_n(-e4, -f4, n4, ncdf(-f4), -1.0, bw, ba, bc))


@njit(cache=True, fastmath=True, inline="always")
def _terms(S, K, T, R, B, V, t1, gamma, ls, l1, l2, lk, need_k, bw, ba, bc):  # type: ignore[no-untyped-def]
    """For one γ: (φ(S, t1, γ, I2, I2), φ(S, t1, γ, I1, I2), ψ(S, T, γ, I1, …), ψ(S, T, γ, K, …)).

    The same formulas as american._phi/_psi on logs computed once per contract; the
    powers (I/S)^κ, S^γ and the Φ(−e) terms are shared between the four."""
    v2 = V * V
    drift = B + (gamma - 0.5) * v2
    lam = -R + gamma * B + 0.5 * gamma * (gamma - 1.0) * v2
    kappa = 2.0 * B / v2 + (2.0 * gamma - 1.0)
    sq1 = V * math.sqrt(t1)
    sq2 = V * math.sqrt(T)
    pw2 = math.exp(kappa * (l2 - ls))
    pw1 = math.exp(kappa * (l1 - ls))
    pw12 = math.exp(kappa * (l1 - l2))
    # φ at t1 (both with I = I2)
    pre1 = math.exp(lam * t1 + gamma * ls)
    shift = 2.0 * (l2 - ls) / sq1
    d_2 = -((ls - l2) + drift * t1) / sq1
    d_1 = -((ls - l1) + drift * t1) / sq1
    phi2 = pre1 * (ncdf(d_2) - pw2 * ncdf(d_2 - shift))
    phi1 = pre1 * (ncdf(d_1) - pw2 * ncdf(d_1 - shift))
    # ψ at T: e's depend on γ only
    a1 = ls - l1
    a2 = 2.0 * l2 - ls - l1
    e1 = (a1 + drift * t1) / sq1
    e2 = (a2 + drift * t1) / sq1
    e3 = (a1 - drift * t1) / sq1
    e4 = (a2 - drift * t1) / sq1
    n1 = ncdf(-e1)
    n2 = ncdf(-e2)
    n3 = ncdf(-e3)
    n4 = ncdf(-e4)
    pre2 = math.exp(lam * T + gamma * ls)
    psi1 = _psi_h(l1, ls, l1, l2, drift, T, sq2, e1, e2, e3, e4, n1, n2, n3, n4, pre2, pw1, pw2, pw12,
                  bw, ba, bc)
    psik = _psi_h(lk, ls, l1, l2, drift, T, sq2, e1, e2, e3, e4, n1, n2, n3, n4, pre2, pw1, pw2, pw12,
                  bw, ba, bc) if need_k else 0.0
    return phi2, phi1, psi1, psik


@njit(cache=True, fastmath=True, inline="always")
def _bs2002_one(S, K, T, R, B, V, bw, ba, bc):  # type: ignore[no-untyped-def]
    v2 = V * V
    t1 = 0.5 * (math.sqrt(5.0) - 1.0) * T
    beta = (0.5 - B / v2) + math.sqrt((B / v2 - 0.5) ** 2 + 2.0 * R / v2)
    b_inf = beta / (beta - 1.0) * K
    b0 = max(K, R / (R - B) * K)
    denom = (b_inf - b0) * b0
    h1 = -(B * t1 + 2.0 * V * math.sqrt(t1)) * K * K / denom
    h2 = -(B * T + 2.0 * V * math.sqrt(T)) * K * K / denom
    i1 = b0 + (b_inf - b0) * (1.0 - math.exp(h1))
    i2 = b0 + (b_inf - b0) * (1.0 - math.exp(h2))
    if S >= i2:
        return S - K
    ls = math.log(S)
    l1 = math.log(i1)
    l2 = math.log(i2)
    lk = math.log(K)
    a1 = (i1 - K) * math.exp(-beta * l1)
    a2 = (i2 - K) * math.exp(-beta * l2)
    pb2, pb1, sb1, _sbk = _terms(S, K, T, R, B, V, t1, beta, ls, l1, l2, lk, False, bw, ba, bc)
    p12, p11, s11, s1k = _terms(S, K, T, R, B, V, t1, 1.0, ls, l1, l2, lk, True, bw, ba, bc)
    p02, p01, s01, s0k = _terms(S, K, T, R, B, V, t1, 0.0, ls, l1, l2, lk, True, bw, ba, bc)
    return (a2 * math.exp(beta * ls)
            - a2 * pb2 + p12 - p11 - K * p02 + K * p01 + a1 * pb1
            - a1 * sb1 + s11 - s1k - K * s01 + K * s0k)


@njit(cache=True, fastmath=True, error_model="numpy")
def bs2002_call(s, k, t, r, b, v, bw, ba, bc, out):  # type: ignore[no-untyped-def]
    """BS2002 call values where early exercise can matter (see american._bs2002_call).

    fastmath: the inputs are finite and validated. error_model="numpy": a contract whose
    boundary degenerates in floating point (vol ~1e-9: β ~ 1/σ² rounds β/(β−1) to 1, so
    b_inf == b0) gives inf/NaN, which the caller replaces by the European/intrinsic
    floor, instead of raising ZeroDivisionError for the whole array."""
    for n in range(s.shape[0]):
        out[n] = _bs2002_one(s[n], k[n], t[n], r[n], b[n], v[n], bw, ba, bc)


@njit(cache=True, fastmath=True, parallel=True, error_model="numpy")
def bs2002_call_parallel(s, k, t, r, b, v, bw, ba, bc, out):  # type: ignore[no-untyped-def]
    """``bs2002_call`` over the machine's cores, for large arrays (thread start-up costs
    more than it saves below ~10,000 contracts)."""
    for n in prange(s.shape[0]):
        out[n] = _bs2002_one(s[n], k[n], t[n], r[n], b[n], v[n], bw, ba, bc)


@njit(cache=True)
def _ndtri_approx(p):  # type: ignore[no-untyped-def]
    # Acklam's rational approximation of the normal quantile (rel. error 1e-9): only an
    # initial guess, refined by Halley steps.
    a0, a1, a2, a3, a4, a5 = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                              1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b0, b1, b2, b3, b4 = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                          6.680131188771972e+01, -1.328068155288572e+01)
    c0, c1, c2, c3, c4, c5 = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                              -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d0, d1, d2, d3 = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                      3.754408661907416e+00)
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    if p < 0.02425:
        u = math.sqrt(-2.0 * math.log(p))
        return (((((c0 * u + c1) * u + c2) * u + c3) * u + c4) * u + c5) / ((((d0 * u + d1) * u + d2) * u + d3) * u + 1.0)
    if p > 1.0 - 0.02425:
        u = math.sqrt(-2.0 * math.log(1.0 - p))
        return -(((((c0 * u + c1) * u + c2) * u + c3) * u + c4) * u + c5) / ((((d0 * u + d1) * u + d2) * u + d3) * u + 1.0)
    u = p - 0.5
    rr = u * u
    return (((((a0 * rr + a1) * rr + a2) * rr + a3) * rr + a4) * rr + a5) * u / (((((b0 * rr + b1) * rr + b2) * rr + b3) * rr + b4) * rr + 1.0)


@njit(cache=True, inline="always")
def _solve_s(xi, bi, max_iter, tol):  # type: ignore[no-untyped-def]
    ex = math.exp(0.5 * xi)
    ratio = bi / ex
    if ratio > 1.0 - 1e-16:
        ratio = 1.0 - 1e-16
    s_atm = 2.0 * _ndtri_approx(0.5 * (1.0 + ratio))
    s_c = math.sqrt(-2.0 * xi)
    s = s_atm if s_atm > s_c else max(s_atm, 0.5 * s_c)
    if s < 1e-8:
        s = 1e-8
    lo = 0.0
    hi = math.inf
    ln_beta = math.log(bi)
    for _ in range(max_iter):
        d1 = xi / s + 0.5 * s
        d2 = d1 - s
        b = ex * ncdf(d1) - ncdf(d2) / ex
        db = ex * npdf(d1)
        f = math.log(b) - ln_beta if b > 0.0 else -math.inf
        if f < 0.0:
            lo = s
        elif f > 0.0:
            hi = s
        else:
            return s
        if b > 0.0 and db > 0.0:
            nu = db / b
            f2 = nu * (d1 * d2 / s) - nu * nu
            step = -f / nu
            denom = 1.0 - 0.5 * f * f2 / (nu * nu)
            new = s + (step / denom if abs(denom) > 0.5 else step)
        else:
            new = math.nan
        if not (new > lo and new < hi):
            new = 0.5 * (lo + hi) if hi < math.inf else 2.0 * s
        if abs(new - s) <= tol * new:
            return new
        s = new
    return math.nan


@njit(cache=True)
def normalised_iv(x, beta, max_iter, tol, out):  # type: ignore[no-untyped-def]
    """s with b(x, s) = beta per element (see iv.normalised_iv_np; same steps)."""
    for i in range(x.shape[0]):
        out[i] = _solve_s(x[i], beta[i], max_iter, tol)


@njit(cache=True, inline="always")
def _european_iv_one(i, w, p, s, k, t, r, q, max_iter, tol, vol, reason):  # type: ignore[no-untyped-def]
    pi = p[i]
    si = s[i]
    ki = k[i]
    ti = t[i]
    ri = r[i]
    qi = q[i]
    vol[i] = math.nan
    if not (math.isfinite(pi) and math.isfinite(si) and math.isfinite(ki) and math.isfinite(ti)
            and math.isfinite(ri) and math.isfinite(qi)) or si <= 0.0 or ki <= 0.0 \
            or ti <= 0.0 or pi <= 0.0:
        reason[i] = 4
        return
    fwd = si * math.exp((ri - qi) * ti)
    undisc = pi * math.exp(ri * ti)
    intrinsic = w[i] * (fwd - ki)
    if intrinsic < 0.0:
        intrinsic = 0.0
    upper = fwd if w[i] > 0 else ki
    tv = undisc - intrinsic
    eps = 4e-15 * max(fwd, ki)
    if undisc >= upper:
        reason[i] = 2
        return
    if abs(tv) <= eps:
        reason[i] = 3
        return
    if tv < -eps:
        reason[i] = 1
        return
    x = -abs(math.log(fwd / ki))
    sv = _solve_s(x, tv / math.sqrt(fwd * ki), max_iter, tol)
    if math.isfinite(sv):
        vol[i] = sv / math.sqrt(ti)
        reason[i] = 0
    else:
        reason[i] = 5


@njit(cache=True)
def european_iv(w, p, s, k, t, r, q, max_iter, tol, vol, reason):  # type: ignore[no-untyped-def]
    """The whole of iv._european per element: checks, reason codes, solve (same rules)."""
    for i in range(p.shape[0]):
        _european_iv_one(i, w, p, s, k, t, r, q, max_iter, tol, vol, reason)


@njit(cache=True, parallel=True)
def european_iv_parallel(w, p, s, k, t, r, q, max_iter, tol, vol, reason):  # type: ignore[no-untyped-def]
    """``european_iv`` over the machine's cores, for large chains (see iv._PARALLEL_FROM)."""
    for i in prange(p.shape[0]):
        _european_iv_one(i, w, p, s, k, t, r, q, max_iter, tol, vol, reason)
