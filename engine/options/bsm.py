"""Black-Scholes-Merton prices and Greeks with a continuous dividend yield, vectorised.

Every argument may be a scalar or an array; arrays broadcast against each other (a whole
chain in one call). All-scalar calls return Python floats, otherwise numpy arrays.

Units and conventions (the same in the CLI and the options dock):

* ``spot``, ``strike``: price units (> 0). ``years``: time to expiry in years (ACT/365, >= 0).
* ``rate``, ``dividend``, ``vol``: continuously compounded annual decimals (0.05 = 5 %).
* ``price``: per share (multiply by the contract multiplier, 100, for a contract).
* ``delta``: dV/dS. ``gamma``: d²V/dS².
* ``vega``: change in price for a 1 percentage-point rise in vol (dV/dσ / 100).
* ``rho``: change in price for a 1 percentage-point rise in the rate (dV/dr / 100).
* ``theta``: change in price for one calendar day passing (-dV/dT / 365).
* ``vanna``: change in delta for a 1 vol-point rise (d²V/dS dσ / 100).
* ``volga`` (vomma): change in vega (per point) for a 1 vol-point rise (d²V/dσ² / 10,000).
* ``charm``: change in delta for one calendar day passing (-d²V/dS dT / 365).

Limits: at ``years == 0`` or ``vol == 0`` the price is the discounted forward intrinsic
value ``max(±(S e^{-qT} - K e^{-rT}), 0)``, delta is a step (half at the money), vega is its
limit (zero except at the forward money when only vol is zero), and gamma, vanna, volga,
charm and the diffusion part of theta are 0 (they do not exist at the strike itself).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr

from engine.options._backend import kernels
from engine.options._inputs import (
    ArrayLike,
    FloatArray,
    KindLike,
    all_scalar,
    broadcast_sign,
    check_market,
    option_sign,
    out,
)

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True, slots=True)
class Greeks:
    """Price and Greeks of one or many contracts (floats, or arrays of one shape).

    Units: see the module docstring (vega/rho per 1 point, theta/charm per calendar day).
    The second-order fields are None when they were not asked for.
    """

    price: Any
    delta: Any
    gamma: Any
    vega: Any
    theta: Any
    rho: Any
    vanna: Any = None
    volga: Any = None
    charm: Any = None

    def as_dict(self) -> dict[str, Any]:
        """The fields that were computed, by name (for JSON output)."""
        names = ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga", "charm")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


def price(kind: KindLike, spot: ArrayLike, strike: ArrayLike, years: ArrayLike,
          rate: ArrayLike, vol: ArrayLike, dividend: ArrayLike = 0.0) -> Any:
    """European option price per share (see the module docstring for units).

    ``kind``: "call"/"put" (or "c"/"p"), booleans (True = call), or an array of them.
    Raises ``ValueError`` for a non-finite argument, spot or strike <= 0, years < 0,
    vol < 0, an unknown option type or shapes that do not broadcast.
    """
    w, s, k, t, r, q, v = _prepare(kind, spot, strike, years, rate, dividend, vol)
    p = price_raw(w, s, k, t, r, q, v)
    return out(p, all_scalar(kind, spot, strike, years, rate, vol, dividend))


def greeks(kind: KindLike, spot: ArrayLike, strike: ArrayLike, years: ArrayLike,
           rate: ArrayLike, vol: ArrayLike, dividend: ArrayLike = 0.0, *,
           second_order: bool = True) -> Greeks:
    """Price, delta, gamma, vega, theta, rho and (unless ``second_order=False``) vanna,
    volga and charm; one shared computation of d1/d2 and the normal cdf/pdf.

    Units as in the module docstring. Raises ``ValueError`` like ``price``.
    """
    w, s, k, t, r, q, v = _prepare(kind, spot, strike, years, rate, dividend, vol)
    g = greeks_raw(w, s, k, t, r, q, v, second_order=second_order)
    if all_scalar(kind, spot, strike, years, rate, vol, dividend):
        return Greeks(*(None if x is None else float(x) for x in
                        (g.price, g.delta, g.gamma, g.vega, g.theta, g.rho, g.vanna, g.volga, g.charm)))
    return g


def delta(kind: KindLike, spot: ArrayLike, strike: ArrayLike, years: ArrayLike,
          rate: ArrayLike, vol: ArrayLike, dividend: ArrayLike = 0.0) -> Any:
    """dV/dS; see ``greeks`` (raises ``ValueError`` like ``price``)."""
    return greeks(kind, spot, strike, years, rate, vol, dividend, second_order=False).delta


def gamma(kind: KindLike, spot: ArrayLike, strike: ArrayLike, years: ArrayLike,
          rate: ArrayLike, vol: ArrayLike, dividend: ArrayLike = 0.0) -> Any:
    """d²V/dS²; see ``greeks`` (raises ``ValueError`` like ``price``)."""
    return greeks(kind, spot, strike, years, rate, vol, dividend, second_order=False).gamma


def vega(kind: KindLike, spot: ArrayLike, strike: ArrayLike, years: ArrayLike,
         rate: ArrayLike, vol: ArrayLike, dividend: ArrayLike = 0.0) -> Any:
    """Price change per 1 vol point; see ``greeks`` (raises ``ValueError`` like ``price``)."""
    return greeks(kind, spot, strike, years, rate, vol, dividend, second_order=False).vega


def theta(kind: KindLike, spot: ArrayLike, strike: ArrayLike, years: ArrayLike,
          rate: ArrayLike, vol: ArrayLike, dividend: ArrayLike = 0.0) -> Any:
    """Price change per calendar day; see ``greeks`` (raises ``ValueError`` like ``price``)."""
    return greeks(kind, spot, strike, years, rate, vol, dividend, second_order=False).theta


def rho(kind: KindLike, spot: ArrayLike, strike: ArrayLike, years: ArrayLike,
        rate: ArrayLike, vol: ArrayLike, dividend: ArrayLike = 0.0) -> Any:
    """Price change per 1 rate point; see ``greeks`` (raises ``ValueError`` like ``price``)."""
    return greeks(kind, spot, strike, years, rate, vol, dividend, second_order=False).rho


def _prepare(kind: KindLike, spot: ArrayLike, strike: ArrayLike, years: ArrayLike,
             rate: ArrayLike, dividend: ArrayLike, vol: ArrayLike) -> tuple[FloatArray, ...]:
    s, k, t, r, q, v = check_market(spot, strike, years, rate, dividend, vol)
    w = broadcast_sign(option_sign(kind), s.shape)
    if w.shape != s.shape:
        s, k, t, r, q, v = np.broadcast_arrays(s, k, t, r, q, v)
    return w, s, k, t, r, q, v


def _d1_d2(s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, q: FloatArray,
           v: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """d1, d2, sqrt(T), σ√T; where σ√T == 0, d1 = d2 = ±inf by the forward's side (0 at it)."""
    sqrt_t = np.sqrt(t)
    sig = v * sqrt_t
    m = np.log(s / k) + (r - q) * t
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = (m + 0.5 * sig * sig) / sig
    degenerate = sig == 0.0
    if degenerate.any():
        d1 = np.where(degenerate, np.sign(m) * np.inf, d1)
        d1 = np.where(degenerate & (m == 0.0), 0.0, d1)
        d2 = np.where(degenerate, d1, d1 - sig)
    else:
        d2 = d1 - sig
    return d1, d2, sqrt_t, sig


def _flat(*arrays: FloatArray) -> list[FloatArray]:
    return [np.ascontiguousarray(a, dtype=np.float64).ravel() for a in arrays]


def price_raw(w: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray,
              q: FloatArray, v: FloatArray) -> FloatArray:
    """``price`` without validation, on arrays of one shape (w = +1 call / -1 put)."""
    nb = kernels()
    if nb is not None:
        shape = np.shape(s)
        flat = _flat(w, s, k, t, r, q, v)
        buf = np.empty((9, flat[0].size))
        nb.bsm_greeks(*flat, 0, buf)
        return np.asarray(buf[0].reshape(shape), dtype=np.float64)
    return price_np(w, s, k, t, r, q, v)


def price_np(w: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray,
             q: FloatArray, v: FloatArray) -> FloatArray:
    """The numpy implementation of ``price_raw``."""
    d1, d2, _, _ = _d1_d2(s, k, t, r, q, v)
    sd = s * np.exp(-q * t)
    kd = k * np.exp(-r * t)
    return np.asarray(w * (sd * ndtr(w * d1) - kd * ndtr(w * d2)), dtype=np.float64)


def greeks_raw(w: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray,
               q: FloatArray, v: FloatArray, *, second_order: bool = True) -> Greeks:
    """``greeks`` without validation, on arrays of one shape (w = +1 call / -1 put)."""
    nb = kernels()
    if nb is None:
        return greeks_np(w, s, k, t, r, q, v, second_order=second_order)
    shape = np.shape(s)
    flat = _flat(w, s, k, t, r, q, v)
    buf = np.empty((9 if second_order else 6, flat[0].size))
    nb.bsm_greeks(*flat, 2 if second_order else 1, buf)
    rows = [buf[i].reshape(shape) for i in range(buf.shape[0])]
    return Greeks(*rows)


def greeks_np(w: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray,
              q: FloatArray, v: FloatArray, *, second_order: bool = True) -> Greeks:
    """The numpy implementation of ``greeks_raw``."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return _greeks_np(w, s, k, t, r, q, v, second_order)


def _greeks_np(w: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray,
               q: FloatArray, v: FloatArray, second_order: bool) -> Greeks:
    d1, d2, sqrt_t, sig = _d1_d2(s, k, t, r, q, v)
    dq = np.exp(-q * t)
    kd = k * np.exp(-r * t)
    sd = s * dq
    nd1 = ndtr(w * d1)
    nd2 = ndtr(w * d2)
    pdf = np.exp(-0.5 * d1 * d1) * _INV_SQRT_2PI
    live = sig > 0.0
    safe_sig = np.where(live, sig, 1.0)
    wnd1 = w * nd1
    wkn2 = w * kd * nd2
    price_ = w * (sd * nd1 - kd * nd2)
    delta_ = dq * wnd1
    g_raw = np.where(live, dq * pdf / (s * safe_sig), 0.0)
    vega_raw = sd * pdf * sqrt_t
    diffusion = np.where(live, sd * pdf * sig / (2.0 * np.where(live, t, 1.0)), 0.0)
    theta_ = (-diffusion - r * wkn2 + q * sd * wnd1) / DAYS_PER_YEAR
    rho_ = wkn2 * t / 100.0
    if not second_order:
        return Greeks(price_, delta_, g_raw, vega_raw / 100.0, theta_, rho_)
    safe_v = np.where(live, v, 1.0)
    vanna_ = np.where(live, -dq * pdf * d2 / safe_v, 0.0) / 100.0
    volga_ = np.where(live, vega_raw * d1 * d2 / safe_v, 0.0) / 10_000.0
    safe_t = np.where(live, t, 1.0)
    charm_ = np.where(live, q * dq * wnd1 - dq * pdf * (2.0 * (r - q) * t - d2 * sig)
                      / (2.0 * safe_t * safe_sig), 0.0) / DAYS_PER_YEAR
    return Greeks(price_, delta_, g_raw, vega_raw / 100.0, theta_, rho_, vanna_, volga_, charm_)
