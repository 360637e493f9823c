"""BSM prices and Greeks against Hull's textbook values, put-call parity, finite differences
and py_vollib (an outside implementation) on random inputs; both backends."""
from __future__ import annotations

import numpy as np
import pytest

from engine.options import _backend, bsm


@pytest.fixture(params=["numba", "numpy"])
def backend(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    previous = _backend.set_backend(request.param)
    yield request.param
    _backend.set_backend(previous)


def _random(n: int, seed: int = 7) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    s = rng.uniform(20, 200, n)
    k = s * np.exp(rng.uniform(-0.5, 0.5, n))
    t = rng.uniform(0.02, 3.0, n)
    r = rng.uniform(-0.01, 0.08, n)
    q = rng.uniform(0.0, 0.05, n)
    v = rng.uniform(0.05, 0.9, n)
    kind = np.where(rng.random(n) < 0.5, "c", "p")
    return kind, s, k, t, r, q, v


def test_hull_textbook_values(backend: str) -> None:
    # Hull, Options, Futures and Other Derivatives, Example 15.6 (S=42, K=40, r=10%, σ=20%, T=0.5).
    assert round(bsm.price("call", 42, 40, 0.5, 0.10, 0.20), 2) == 4.76
    assert round(bsm.price("put", 42, 40, 0.5, 0.10, 0.20), 2) == 0.81


def test_put_call_parity(backend: str) -> None:
    _, s, k, t, r, q, v = _random(2000)
    c = bsm.price("call", s, k, t, r, v, q)
    p = bsm.price("put", s, k, t, r, v, q)
    np.testing.assert_allclose(c - p, s * np.exp(-q * t) - k * np.exp(-r * t), atol=1e-10)


def test_scalar_in_float_out_and_array_shape(backend: str) -> None:
    assert isinstance(bsm.price("c", 100, 100, 1, 0.05, 0.2), float)
    out = bsm.greeks("call", 100.0, np.array([[90.0, 100.0], [110.0, 120.0]]), 0.5, 0.03, 0.25)
    assert out.delta.shape == (2, 2)
    assert np.all(np.diff(out.price.ravel()) < 0)  # higher strike, cheaper call


def test_against_py_vollib(backend: str) -> None:
    from py_vollib.black_scholes_merton import black_scholes_merton
    from py_vollib.black_scholes_merton.greeks import analytical as an

    kind, s, k, t, r, q, v = _random(300, seed=3)
    g = bsm.greeks(kind, s, k, t, r, v, q, second_order=False)
    for i in range(s.size):
        args = (str(kind[i]), s[i], k[i], t[i], r[i], v[i], q[i])
        assert g.price[i] == pytest.approx(black_scholes_merton(*args), abs=1e-9)
        assert g.delta[i] == pytest.approx(an.delta(*args), abs=1e-9)
        assert g.gamma[i] == pytest.approx(an.gamma(*args), abs=1e-9)
        # py_vollib: vega and rho per 1 % (÷100), theta per calendar day (÷365) — ours too.
        assert g.vega[i] == pytest.approx(an.vega(*args), abs=1e-9)
        assert g.rho[i] == pytest.approx(an.rho(*args), abs=1e-9)
        assert g.theta[i] == pytest.approx(an.theta(*args), abs=1e-9)


def test_every_greek_matches_finite_differences(backend: str) -> None:
    kind, s, k, t, r, q, v = _random(400, seed=11)
    g = bsm.greeks(kind, s, k, t, r, v, q)

    def p(s_=s, t_=t, r_=r, v_=v):  # type: ignore[no-untyped-def]
        return bsm.price(kind, s_, k, t_, r_, v_, q)

    def d(s_=s, t_=t, v_=v):  # type: ignore[no-untyped-def]
        return bsm.delta(kind, s_, k, t_, r, v_, q)

    def vg(v_=v):  # type: ignore[no-untyped-def]
        return bsm.vega(kind, s, k, t, r, v_, q)

    hs, hv, ht, hr = s * 1e-4, 1e-5, 1e-6, 1e-6
    np.testing.assert_allclose(g.delta, (p(s_=s + hs) - p(s_=s - hs)) / (2 * hs), atol=1e-6)
    np.testing.assert_allclose(g.gamma, (d(s_=s + hs) - d(s_=s - hs)) / (2 * hs), atol=1e-6)
    np.testing.assert_allclose(g.vega, (p(v_=v + hv) - p(v_=v - hv)) / (2 * hv) / 100, atol=1e-6)
    np.testing.assert_allclose(g.rho, (p(r_=r + hr) - p(r_=r - hr)) / (2 * hr) / 100, atol=1e-6)
    np.testing.assert_allclose(g.theta, -(p(t_=t + ht) - p(t_=t - ht)) / (2 * ht) / 365, atol=1e-6)
    np.testing.assert_allclose(g.vanna, (d(v_=v + hv) - d(v_=v - hv)) / (2 * hv) / 100, atol=1e-6)
    np.testing.assert_allclose(g.volga, (vg(v_=v + hv) - vg(v_=v - hv)) / (2 * hv) / 100, atol=1e-6)
    np.testing.assert_allclose(g.charm, -(d(t_=t + ht) - d(t_=t - ht)) / (2 * ht) / 365, atol=1e-6)


def test_numba_and_numpy_agree() -> None:
    kind, s, k, t, r, q, v = _random(5000, seed=5)
    prev = _backend.set_backend("numba")
    try:
        a = bsm.greeks(kind, s, k, t, r, v, q)
        _backend.set_backend("numpy")
        b = bsm.greeks(kind, s, k, t, r, v, q)
    finally:
        _backend.set_backend(prev)
    for name in ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga", "charm"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-11, atol=1e-12, err_msg=name)


def test_expiry_and_zero_vol_limits(backend: str) -> None:
    # At expiry: intrinsic value, step delta, no gamma; zero vol: discounted forward intrinsic.
    g = bsm.greeks(["call", "put", "call"], [110.0, 90.0, 100.0], 100.0, 0.0, 0.05, 0.3)
    np.testing.assert_allclose(g.price, [10.0, 10.0, 0.0])
    np.testing.assert_allclose(g.delta, [1.0, -1.0, 0.5])
    np.testing.assert_array_equal(g.gamma, [0.0, 0.0, 0.0])
    assert np.all(np.isfinite(g.theta)) and np.all(np.isfinite(g.charm))
    p = bsm.price("call", 100.0, 100.0, 1.0, 0.05, 0.0)
    assert p == pytest.approx(100.0 - 100.0 * np.exp(-0.05))
    # Continuity: a tiny vol is priced like zero vol.
    assert bsm.price("put", 100.0, 120.0, 0.5, 0.02, 1e-9) == pytest.approx(120 * np.exp(-0.01) - 100, abs=1e-9)


@pytest.mark.parametrize("kwargs, word", [
    (dict(spot=-1.0), "spot must be positive"),
    (dict(strike=0.0), "strike must be positive"),
    (dict(years=-0.1), "years must be zero or positive"),
    (dict(vol=-0.2), "vol must be zero or positive"),
    (dict(rate=float("nan")), "rate must be finite"),
    (dict(spot="abc"), "spot must be a number"),
    (dict(kind="straddle"), "option type must be 'call' or 'put'"),
])
def test_bad_input_is_a_clear_value_error(kwargs: dict, word: str) -> None:
    args = dict(kind="call", spot=100.0, strike=100.0, years=1.0, rate=0.05, vol=0.2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=word):
        bsm.price(**args)


def test_bad_element_is_named() -> None:
    with pytest.raises(ValueError, match=r"element \[2\] is -5.0"):
        bsm.price("call", [100.0, 100.0, -5.0], 100.0, 1.0, 0.05, 0.2)
