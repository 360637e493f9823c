"""Implied volatility over a whole chain: European (BSM) and American (Bjerksund–Stensland).

Method (European). Each price is reduced to the normalised out-of-the-money call of
Jäckel ("Let's be rational", 2015): with forward F = S e^{(r-q)T}, x = -|ln(F/K)| and the
undiscounted time value β = (P e^{rT} − forward intrinsic) / √(FK) (put-call parity turns an
in-the-money option into its out-of-the-money twin, so deep ITM prices lose nothing to
cancellation), solve b(x, s) = e^{x/2}Φ(x/s + s/2) − e^{−x/2}Φ(x/s − s/2) = β for
s = σ√T. The solver runs Halley steps on ln b(s) − ln β (ln b is close to linear in the
far wings, where Newton on the price itself stalls), started at the exact at-the-money
inverse blended with the inflection point s_c = √(2|x|), safeguarded by a bracket that
every step keeps (a step leaving it bisects instead); only unconverged elements iterate.
Accuracy: |Δσ| ≤ 1e-10 wherever the time value is ≥ 0.01 (tests check a grid of
moneyness × expiry × vol); the stop rule is a relative step below 1e-13.

Prices outside the no-arbitrage bounds give NaN with a reason per element, never a wrong
number (``Reason``): below the (forward, for European; spot, for American) intrinsic
value, at or above the upper bound (call: S e^{-qT}, put: K e^{-rT}; American: S and K),
zero time value (price equal to the lower bound: any vol down to 0 fits), bad input
(non-finite, spot/strike/price ≤ 0, years ≤ 0).
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

from engine.options import american, bsm
from engine.options._backend import kernels
from engine.options._inputs import (
    ArrayLike,
    BoolArray,
    FloatArray,
    KindLike,
    all_scalar,
    broadcast_sign,
    option_sign,
)

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_MAX_ITER = 60
_TOL = 1e-13
# Relative step at which the compiled solver stops. Looser values (1e-8) were tried: in the
# wings some steps are Newton or bisection steps, and the error then exceeds 1e-10.
_STOP = 1e-13
# Contracts from which the compiled solver runs on every core (below, numba's thread
# start-up costs more than it saves; the same threshold as american._PARALLEL_FROM).
_PARALLEL_FROM = 10_000


class Reason(enum.IntEnum):
    """Why an implied vol is NaN (``OK`` when it is a number)."""

    OK = 0
    BELOW_INTRINSIC = 1
    ABOVE_UPPER_BOUND = 2
    ZERO_TIME_VALUE = 3
    BAD_INPUT = 4
    NO_CONVERGENCE = 5

    @property
    def text(self) -> str:
        """A short phrase for the UI and the CLI's ``"reason"`` (``""`` for OK)."""
        return _TEXT[self]


_TEXT = {
    Reason.OK: "",
    Reason.BELOW_INTRINSIC: "below intrinsic",
    Reason.ABOVE_UPPER_BOUND: "above upper bound",
    Reason.ZERO_TIME_VALUE: "zero time value",
    Reason.BAD_INPUT: "bad input",
    Reason.NO_CONVERGENCE: "no convergence",
}
_TEXT_ARRAY = np.array([_TEXT[r] for r in Reason], dtype=object)


@dataclass(frozen=True, slots=True)
class ImpliedVol:
    """Implied vols (decimal, NaN where none) and a ``Reason`` code per element.

    For scalar inputs ``vol`` is a float and ``reason`` a ``Reason``; otherwise arrays
    (``reason`` of int8 codes: ``Reason(code)``; ``reason_text()`` gives the phrases).
    """

    vol: Any
    reason: Any

    def reason_text(self) -> Any:
        """The reason phrase(s): "" where the vol is a number, e.g. "below intrinsic"."""
        if isinstance(self.reason, Reason):
            return self.reason.text
        return _TEXT_ARRAY[np.asarray(self.reason, dtype=np.intp)]


def implied_vol(kind: KindLike, price: ArrayLike, spot: ArrayLike, strike: ArrayLike,
                years: ArrayLike, rate: ArrayLike, dividend: ArrayLike = 0.0, *,
                style: str = "european") -> ImpliedVol:
    """Implied volatility (decimal) of option prices per share, vectorised over a chain.

    ``style``: "european" (BSM inverse, accuracy 1e-10 in vol) or "american" (inverts the
    Bjerksund–Stensland 2002 price, accuracy 1e-8). Bad elements (non-finite values,
    spot/strike/price <= 0, years <= 0) give NaN with ``Reason.BAD_INPUT`` rather than an
    error, so one bad quote does not sink a chain. Raises ``ValueError`` only for an unknown
    ``style`` or option type and for shapes that do not broadcast.
    """
    if style not in ("european", "american"):
        raise ValueError(f"style must be 'european' or 'american', got {style!r}")
    scalar = all_scalar(kind, price, spot, strike, years, rate, dividend)
    try:
        arrs = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64)
                                     for a in (price, spot, strike, years, rate, dividend)))
    except ValueError:
        raise ValueError("price, spot, strike, years, rate and dividend cannot be broadcast "
                         "to one shape") from None
    except TypeError:
        raise ValueError("price, spot, strike, years, rate and dividend must be numbers") from None
    w = broadcast_sign(option_sign(kind), arrs[0].shape)
    shape = np.broadcast_shapes(w.shape, arrs[0].shape)
    # np.array copies: a broadcast view (read-only) must not reach the numba kernels.
    flat = [np.array(np.broadcast_to(a, shape), dtype=np.float64).ravel() for a in (w, *arrs)]
    w_, p, s, k, t, r, q = flat
    if style == "european":
        vol, reason = _european(w_, p, s, k, t, r, q)
    else:
        vol, reason = _american(w_, p, s, k, t, r, q)
    if scalar:
        return ImpliedVol(float(vol[0]), Reason(int(reason[0])))
    return ImpliedVol(vol.reshape(shape), reason.reshape(shape))


def _bad_mask(p: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray,
              q: FloatArray) -> BoolArray:
    finite = np.isfinite(p) & np.isfinite(s) & np.isfinite(k) & np.isfinite(t) & np.isfinite(r) & np.isfinite(q)
    with np.errstate(invalid="ignore"):
        return np.asarray(~finite | (s <= 0) | (k <= 0) | (t <= 0) | (p <= 0))


def _european(w: FloatArray, p: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray,
              r: FloatArray, q: FloatArray) -> tuple[FloatArray, npt.NDArray[np.int8]]:
    n = p.size
    nb = kernels()
    if nb is not None:
        vol = np.empty(n)
        reason = np.empty(n, dtype=np.int8)
        kernel = nb.european_iv_parallel if n >= _PARALLEL_FROM else nb.european_iv
        kernel(w, p, s, k, t, r, q, _MAX_ITER, _STOP, vol, reason)
        return vol, reason
    vol = np.full(n, np.nan)
    reason = np.full(n, int(Reason.BAD_INPUT), dtype=np.int8)
    ok = ~_bad_mask(p, s, k, t, r, q)
    if not ok.any():
        return vol, reason
    idx = np.flatnonzero(ok)
    w_, p_, s_, k_, t_, r_, q_ = (a[idx] for a in (w, p, s, k, t, r, q))
    fwd = s_ * np.exp((r_ - q_) * t_)
    undisc = p_ * np.exp(r_ * t_)
    intrinsic = np.maximum(w_ * (fwd - k_), 0.0)
    upper = np.where(w_ > 0, fwd, k_)
    tv = undisc - intrinsic
    # Rounding of the inputs themselves: a time value within a few ulps of the scale is 0.
    eps = 4e-15 * np.maximum(fwd, k_)
    code = np.full(idx.size, int(Reason.OK), dtype=np.int8)
    code[tv < -eps] = Reason.BELOW_INTRINSIC
    code[(np.abs(tv) <= eps)] = Reason.ZERO_TIME_VALUE
    code[undisc >= upper] = Reason.ABOVE_UPPER_BOUND  # same precedence as _nb.european_iv
    solve = code == Reason.OK
    x = -np.abs(np.log(fwd / k_))
    beta = tv / np.sqrt(fwd * k_)
    sv = np.full(idx.size, np.nan)
    if solve.any():
        res = normalised_iv_np(x[solve], beta[solve])
        sv[solve] = res
        bad = solve & ~np.isfinite(sv)
        code[bad] = Reason.NO_CONVERGENCE
    vol[idx] = sv / np.sqrt(t_)
    reason[idx] = code
    return vol, reason


def _norm_call(x: FloatArray, s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Normalised OTM call b(x, s) and its derivative db/ds (x <= 0, s > 0)."""
    d1 = x / s + 0.5 * s
    d2 = d1 - s
    ex = np.exp(0.5 * x)
    b = ex * ndtr(d1) - ndtr(d2) / ex
    db = ex * np.exp(-0.5 * d1 * d1) * _INV_SQRT_2PI
    return b, db


def initial_guess(x: FloatArray, beta: FloatArray) -> FloatArray:
    """A starting s = σ√T for ``normalised_iv``: the exact at-the-money inverse
    2Φ⁻¹((1 + β e^{-x/2})/2), which the far wings pull towards the inflection point."""
    ratio = np.clip(beta * np.exp(-0.5 * x), 0.0, 1.0 - 1e-16)
    s_atm = 2.0 * ndtri(0.5 * (1.0 + ratio))
    s_c = np.sqrt(-2.0 * x)
    return np.asarray(np.where(s_atm > s_c, s_atm, np.maximum(s_atm, 0.5 * s_c)), dtype=np.float64)


def normalised_iv_np(x: FloatArray, beta: FloatArray) -> FloatArray:
    """s = σ√T with b(x, s) = β for x <= 0 and 0 < β < e^{x/2} (numpy; see module doc)."""
    s = np.maximum(initial_guess(x, beta), 1e-8)
    lo = np.zeros_like(s)
    hi = np.full_like(s, np.inf)
    ln_beta = np.log(beta)
    out = np.full_like(s, np.nan)
    active = np.arange(s.size)
    for _ in range(_MAX_ITER):
        if active.size == 0:
            break
        xa, sa = x[active], s[active]
        b, db = _norm_call(xa, sa)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.log(b) - ln_beta[active]
            nu = db / b
            d1 = xa / sa + 0.5 * sa
            d2 = d1 - sa
            f2 = nu * (d1 * d2 / sa) - nu * nu
            step = -f / nu
            denom = 1.0 - 0.5 * f * f2 / (nu * nu)
            halley = np.where(np.abs(denom) > 0.5, step / denom, step)
        # f is increasing in s: tighten the bracket with the sign of f.
        la, ha = lo[active], hi[active]
        la = np.where(f < 0, sa, la)
        ha = np.where(f > 0, sa, ha)
        new = sa + halley
        out_of = ~np.isfinite(new) | (new <= la) | (new >= ha)
        bis = np.where(np.isfinite(ha), 0.5 * (la + ha), 2.0 * sa)
        new = np.where(out_of, bis, new)
        done = (np.abs(new - sa) <= _TOL * new) | (f == 0)
        lo[active], hi[active], s[active] = la, ha, new
        out[active[done]] = new[done]
        active = active[~done]
    return out


def _american(w: FloatArray, p: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray,
              r: FloatArray, q: FloatArray) -> tuple[FloatArray, npt.NDArray[np.int8]]:
    n = p.size
    vol = np.full(n, np.nan)
    reason = np.full(n, int(Reason.BAD_INPUT), dtype=np.int8)
    ok = ~_bad_mask(p, s, k, t, r, q)
    if not ok.any():
        return vol, reason
    idx = np.flatnonzero(ok)
    w_, p_, s_, k_, t_, r_, q_ = (a[idx] for a in (w, p, s, k, t, r, q))
    lo_v = np.full(idx.size, 1e-4)
    hi_v = np.full(idx.size, 8.0)
    p_lo = american.price_raw(w_, s_, k_, t_, r_, q_, lo_v)
    p_hi = american.price_raw(w_, s_, k_, t_, r_, q_, hi_v)
    intrinsic = np.maximum(w_ * (s_ - k_), 0.0)
    upper = np.where(w_ > 0, s_, k_)
    eps = 4e-15 * np.maximum(s_, k_)
    code = np.full(idx.size, int(Reason.OK), dtype=np.int8)
    code[p_ < intrinsic - eps] = Reason.BELOW_INTRINSIC
    code[(p_ >= intrinsic - eps) & (p_ <= np.maximum(p_lo, intrinsic) + eps)] = Reason.ZERO_TIME_VALUE
    code[(p_ >= upper) | ((p_ > p_hi) & (code == Reason.OK))] = Reason.ABOVE_UPPER_BOUND
    sol = np.full(idx.size, np.nan)
    act = np.flatnonzero(code == Reason.OK)
    a, b = lo_v[act], hi_v[act]
    fa, fb = p_lo[act] - p_[act], p_hi[act] - p_[act]
    # Illinois regula falsi: bracketed, superlinear, vectorised over the unconverged.
    side = np.zeros(act.size, dtype=np.int8)
    for _ in range(100):
        if act.size == 0:
            break
        c = np.where(fb != fa, b - fb * (b - a) / (fb - fa), 0.5 * (a + b))
        c = np.where((c <= a) | (c >= b), 0.5 * (a + b), c)
        fc = american.price_raw(w_[act], s_[act], k_[act], t_[act], r_[act], q_[act], c) - p_[act]
        done = (np.abs(fc) <= 1e-14 * np.maximum(p_[act], 1.0)) | ((b - a) <= 1e-10 * c)
        left = np.sign(fc) == np.sign(fa)
        a_new = np.where(left, c, a)
        fa_new = np.where(left, fc, np.where(side == -1, 0.5 * fa, fa))
        b_new = np.where(left, b, c)
        fb_new = np.where(left, np.where(side == 1, 0.5 * fb, fb), fc)
        side = np.where(left, 1, -1).astype(np.int8)
        sol[act[done]] = c[done]
        keep = ~done
        act, a, b, fa, fb, side = act[keep], a_new[keep], b_new[keep], fa_new[keep], fb_new[keep], side[keep]
    code[(code == Reason.OK) & ~np.isfinite(sol)] = Reason.NO_CONVERGENCE
    vol[idx] = sol
    reason[idx] = code
    return vol, reason


def iv_and_greeks(kind: KindLike, price: ArrayLike, spot: ArrayLike, strike: ArrayLike,
                  years: ArrayLike, rate: ArrayLike, dividend: ArrayLike = 0.0, *,
                  style: str = "european") -> tuple[ImpliedVol, bsm.Greeks]:
    """``implied_vol`` and the BSM Greeks at that vol (NaN where the vol is NaN), for the
    chain table. Raises ``ValueError`` like ``implied_vol``."""
    res = implied_vol(kind, price, spot, strike, years, rate, dividend, style=style)
    vol = np.asarray(res.vol, dtype=np.float64)
    shape = vol.shape
    w = np.broadcast_to(option_sign(kind), shape)
    s, k, t, r, q = (np.broadcast_to(np.asarray(a, dtype=np.float64), shape)
                     for a in (spot, strike, years, rate, dividend))
    good = np.isfinite(vol)
    s1, k1, t1, r1, q1 = (np.where(good, a, 1.0) for a in (s, k, t, r, q))
    g = bsm.greeks_raw(np.where(good, w, 1.0), s1, k1, t1, r1, q1, np.where(good, vol, 0.2), second_order=False)
    fields = [np.where(good, getattr(g, n), np.nan) for n in ("price", "delta", "gamma", "vega", "theta", "rho")]
    if np.ndim(res.vol) == 0:
        return res, bsm.Greeks(*(float(f) for f in fields))
    return res, bsm.Greeks(*fields)
