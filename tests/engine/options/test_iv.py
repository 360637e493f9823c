"""Implied volatility: round trips over moneyness × expiry × vol grids (1e-10 in vol where the
time value is >= 0.01), reasons outside the no-arbitrage bounds, py_vollib agreement."""
from __future__ import annotations

import numpy as np
import pytest

from engine.options import _backend, american, bsm
from engine.options.iv import Reason, implied_vol, iv_and_greeks


@pytest.fixture(params=["numba", "numpy"])
def backend(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    previous = _backend.set_backend(request.param)
    yield request.param
    _backend.set_backend(previous)


@pytest.mark.parametrize("kind", ["call", "put"])
def test_round_trip_grid(backend: str, kind: str) -> None:
    # Standardised moneyness ln(K/S)/(σ√T) from -3 to 3, 1 day to 10 years, vol 2 % to 400 %:
    # deep ITM, deep OTM and near expiry. Domain: time value >= 0.01 and σ√T <= 3 (beyond
    # that the price sits within ~1e-10 of its upper bound and no double-precision price
    # pins the vol to 1e-10).
    m = np.linspace(-3, 3, 121)
    t = np.array([1, 2, 7, 30, 91, 365, 3 * 365, 3650]) / 365
    v = np.array([0.02, 0.05, 0.1, 0.3, 0.8, 2.0, 4.0])
    mm, tt, vv = np.meshgrid(m, t, v, indexing="ij")
    kk = 100 * np.exp(mm * vv * np.sqrt(tt))
    p = bsm.price(kind, 100.0, kk, tt, 0.05, vv, 0.01)
    w = 1 if kind == "call" else -1
    tv = p - np.maximum(w * (100 * np.exp(-0.01 * tt) - kk * np.exp(-0.05 * tt)), 0)
    domain = (tv >= 0.01) & (vv * np.sqrt(tt) <= 3)
    res = implied_vol(kind, p, 100.0, kk, tt, 0.05, 0.01)
    assert domain.sum() > 4000
    assert np.all(res.reason[domain] == Reason.OK)
    assert np.max(np.abs(res.vol[domain] - vv[domain])) <= 1e-10


def test_random_chain_round_trip(backend: str) -> None:
    rng = np.random.default_rng(9)
    n = 20000
    s = rng.uniform(5, 500, n)
    k = s * np.exp(rng.uniform(-0.8, 0.8, n))
    t = rng.uniform(1 / 365, 2, n)
    r = rng.uniform(-0.01, 0.08, n)
    q = rng.uniform(0, 0.05, n)
    v = rng.uniform(0.03, 1.5, n)
    kind = np.where(rng.random(n) < 0.5, "call", "put")
    p = bsm.price(kind, s, k, t, r, v, q)
    w = np.where(kind == "call", 1.0, -1.0)
    tv = p - np.maximum(w * (s * np.exp(-q * t) - k * np.exp(-r * t)), 0)
    res = implied_vol(kind, p, s, k, t, r, q)
    ok = tv >= 0.01
    assert np.max(np.abs(res.vol[ok] - v[ok])) <= 1e-10
    # Wherever a vol is returned at all it reprices the option.
    got = np.isfinite(res.vol)
    np.testing.assert_allclose(bsm.price(kind[got], s[got], k[got], t[got], r[got], res.vol[got], q[got]),
                               p[got], atol=1e-9)


def test_out_of_bounds_give_nan_with_reason(backend: str) -> None:
    s, k, t, r = 100.0, 90.0, 0.5, 0.05
    fwd_intrinsic = s - k * np.exp(-r * t)
    prices = [fwd_intrinsic - 0.5, s + 1.0, fwd_intrinsic, -1.0, np.nan, 14.0]
    res = implied_vol("call", prices, s, k, t, r)
    assert list(res.reason) == [Reason.BELOW_INTRINSIC, Reason.ABOVE_UPPER_BOUND,
                                Reason.ZERO_TIME_VALUE, Reason.BAD_INPUT, Reason.BAD_INPUT, Reason.OK]
    assert np.isnan(res.vol[:5]).all() and np.isfinite(res.vol[5])
    assert list(res.reason_text()[:3]) == ["below intrinsic", "above upper bound", "zero time value"]
    # Expired or bad spot: per element, not an exception.
    assert implied_vol("put", 1.0, 100.0, 100.0, 0.0, 0.05).reason == Reason.BAD_INPUT
    assert implied_vol("put", 1.0, -3.0, 100.0, 1.0, 0.05).reason is Reason.BAD_INPUT


def test_scalar_result_and_textbook() -> None:
    res = implied_vol("call", 4.759422392871532, 42.0, 40.0, 0.5, 0.10)
    assert isinstance(res.vol, float) and res.reason is Reason.OK
    assert res.vol == pytest.approx(0.20, abs=1e-12)
    assert res.reason_text() == ""


def test_against_py_vollib() -> None:
    from py_vollib.black_scholes_merton.implied_volatility import implied_volatility

    rng = np.random.default_rng(1)
    n = 200
    s = rng.uniform(50, 150, n)
    k = s * np.exp(rng.uniform(-0.3, 0.3, n))
    t = rng.uniform(0.05, 2, n)
    r = rng.uniform(0, 0.06, n)
    q = rng.uniform(0, 0.03, n)
    v = rng.uniform(0.1, 0.8, n)
    kind = np.where(rng.random(n) < 0.5, "c", "p")
    p = bsm.price(kind, s, k, t, r, v, q)
    ours = implied_vol(kind, p, s, k, t, r, q).vol
    theirs = np.array([implied_volatility(p[i], s[i], k[i], t[i], r[i], q[i], str(kind[i])) for i in range(n)])
    np.testing.assert_allclose(ours, theirs, atol=1e-9)


def test_american_iv_round_trip() -> None:
    rng = np.random.default_rng(3)
    n = 400
    s = rng.uniform(50, 150, n)
    k = s * np.exp(rng.uniform(-0.3, 0.3, n))
    t = rng.uniform(0.05, 1.5, n)
    r = rng.uniform(0.0, 0.06, n)
    q = rng.uniform(0.0, 0.04, n)
    v = rng.uniform(0.1, 0.8, n)
    kind = np.where(rng.random(n) < 0.5, "call", "put")
    p = american.price(kind, s, k, t, r, v, q)
    res = implied_vol(kind, p, s, k, t, r, q, style="american")
    tv = p - np.maximum(np.where(kind == "call", 1, -1) * (s - k), 0)
    # Where the price moves with the vol (vega >= 0.001 per point): deep ITM American
    # prices are nearly flat in vol, and any vol within ~1e-4 reprices them to 1e-11.
    ok = (tv >= 0.01) & (bsm.vega(kind, s, k, t, r, v, q) >= 1e-3)
    assert ok.sum() > 300
    assert np.all(res.reason[ok] == Reason.OK)
    assert np.max(np.abs(res.vol[ok] - v[ok])) <= 1e-8
    got = np.isfinite(res.vol)
    np.testing.assert_allclose(american.price(kind[got], s[got], k[got], t[got], r[got], res.vol[got], q[got]),
                               p[got], atol=1e-9)
    below = implied_vol("put", 9.0, 90.0, 100.0, 0.5, 0.05, style="american")
    assert below.reason is Reason.BELOW_INTRINSIC  # an American put below S-K is arbitrage


def test_iv_and_greeks_nan_where_no_vol() -> None:
    res, g = iv_and_greeks("call", [14.0, 200.0], 100.0, 90.0, 0.5, 0.05)
    assert np.isfinite(g.delta[0]) and np.isnan(g.delta[1])
    assert res.reason[1] == Reason.ABOVE_UPPER_BOUND


def test_unknown_style() -> None:
    with pytest.raises(ValueError, match="style must be"):
        implied_vol("call", 1.0, 100, 100, 1, 0.05, style="bermudan")
