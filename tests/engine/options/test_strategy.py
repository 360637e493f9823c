"""Strategies: textbook payoffs, breakevens, bounded/unbounded extremes, PoP against a
lognormal closed form on a flat surface, surface pricing before expiry, position Greeks."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr

from engine.options import bsm, strategy as st
from engine.options.surface import SviParams, SviSlice, VolSurface, synthetic_surface_quotes

SPOT, RATE, DIV = 100.0, 0.03, 0.0


def flat_market(vol: float = 0.25) -> st.Market:
    slices = tuple(SviSlice(t, SPOT * math.exp(RATE * t), SviParams(vol * vol * t, 0.0, 0.0, 0.0, 0.1), 0.0, 0)
                   for t in (0.1, 0.25, 0.5, 1.0))
    return st.Market(SPOT, RATE, DIV, VolSurface(SPOT, RATE, DIV, slices))


def skew_market() -> st.Market:
    q = synthetic_surface_quotes(spot=SPOT, rate=RATE, dividend=DIV)
    return st.Market(SPOT, RATE, DIV, VolSurface.fit(SPOT, RATE, DIV, q["years"], q["strikes"], q["iv"]))


def test_straddle_payoff_breakevens_and_extremes() -> None:
    m = flat_market()
    s = st.straddle(100.0, 0.25).priced(m)
    prem = s.net_premium() / 100
    assert prem == pytest.approx(bsm.price("call", SPOT, 100, 0.25, RATE, 0.25) + bsm.price("put", SPOT, 100, 0.25, RATE, 0.25))
    np.testing.assert_allclose(s.pnl(m, [80.0, 100.0, 130.0]), 100 * (np.array([20.0, 0.0, 30.0]) - prem))
    lo, hi = s.breakevens(m)
    assert lo == pytest.approx(100 - prem, abs=1e-6) and hi == pytest.approx(100 + prem, abs=1e-6)
    top, bottom = s.max_profit_loss(m)
    assert top == math.inf and bottom == pytest.approx(-100 * prem)


def test_iron_condor_is_bounded_both_ways() -> None:
    m = skew_market()
    s = st.iron_condor(85, 95, 105, 115, 0.3).priced(m)
    credit = -s.net_premium()
    assert credit > 0
    top, bottom = s.max_profit_loss(m)
    assert top == pytest.approx(credit, rel=1e-9)
    assert bottom == pytest.approx(-(1000 - credit), rel=1e-9)
    assert len(s.breakevens(m)) == 2


def test_short_call_loss_is_unbounded_and_covered_call_is_not() -> None:
    m = flat_market()
    naked = st.Strategy("short call", (st.Leg("call", -1, 105.0, 0.25),)).priced(m)
    assert naked.max_profit_loss(m)[1] == -math.inf
    cc = st.covered_call(105.0, 0.25).priced(m)
    top, bottom = cc.max_profit_loss(m)
    call = cc.legs[1].premium
    assert top == pytest.approx(100 * (105 - 100 + call), rel=1e-9)
    assert bottom == pytest.approx(100 * (0 - 100 + call), rel=1e-9)


def test_probability_of_profit_matches_lognormal_on_a_flat_surface() -> None:
    m = flat_market(0.3)
    s = st.Strategy("long call", (st.Leg("call", 1, 105.0, 0.5),)).priced(m)
    be = 105.0 + s.legs[0].premium
    t, v = 0.5, 0.3
    d2 = (math.log(SPOT / be) + (RATE - 0.5 * v * v) * t) / (v * math.sqrt(t))
    assert s.probability_of_profit(m) == pytest.approx(float(ndtr(d2)), abs=2e-3)


def test_probability_of_profit_on_the_skew_is_the_digital_of_the_smile() -> None:
    # A short put wins when S_T > K − premium: P = −e^{rT} dC/dK there, with C priced at the
    # smile's vol for each strike (a different path than the surface's CDF on a k grid).
    m = skew_market()
    t, be = 0.3, 89.0
    short_put = st.Strategy("short put", (st.Leg("put", -1, 90.0, t, premium=1.0),))
    h = 1e-3
    c = [bsm.price("call", SPOT, k, t, RATE, float(m.surface.iv(k, t))) for k in (be - h, be + h)]
    digital = -math.exp(RATE * t) * (c[1] - c[0]) / (2 * h)
    assert short_put.probability_of_profit(m) == pytest.approx(digital, abs=2e-3)
    # The put skew matters: the flat-vol answer at the ATM vol differs.
    flat = flat_market(float(m.surface.iv(SPOT, t)))
    assert abs(short_put.probability_of_profit(flat) - digital) > 5e-3


def test_before_expiry_priced_off_the_surface_not_one_vol() -> None:
    m = skew_market()
    s = st.vertical("put", 85.0, 100.0, 0.3, bullish=False).priced(m)
    assert float(s.pnl(m, SPOT, elapsed=0.0)) == pytest.approx(0.0, abs=1e-9)
    # Each leg carries its own strike's surface vol.
    v85, v100 = (float(m.surface.iv(k, 0.3)) for k in (85.0, 100.0))
    assert v85 > v100
    expect = 100 * (bsm.price("put", 95.0, 100, 0.2, RATE, float(m.surface.iv(100.0, 0.2)))
                    - bsm.price("put", 95.0, 85, 0.2, RATE, float(m.surface.iv(85.0, 0.2)))) - s.net_premium()
    assert float(s.pnl(m, 95.0, elapsed=0.1)) == pytest.approx(expect, rel=1e-9)


def test_calendar_valued_at_the_first_expiry() -> None:
    m = skew_market()
    s = st.calendar("call", 100.0, 0.15, 0.6).priced(m)
    p = s.pnl(m, [80.0, 100.0, 120.0])
    assert p[1] > p[0] and p[1] > p[2]  # a calendar peaks at its strike
    assert s.first_expiry == 0.15


def test_position_greeks_sum_the_legs() -> None:
    m = flat_market()
    s = st.collar(95.0, 110.0, 0.5).priced(m)
    g = s.greeks(m)
    dp = bsm.delta("put", SPOT, 95.0, 0.5, RATE, 0.25)
    dc = bsm.delta("call", SPOT, 110.0, 0.5, RATE, 0.25)
    assert g["delta"] == pytest.approx(100 + 100 * dp - 100 * dc)
    assert set(g) == {"delta", "gamma", "vega", "theta", "rho"}
    summary = s.summary(m)
    assert summary["max_profit_unbounded"] is False and summary["max_loss_unbounded"] is False


@pytest.mark.parametrize("build", [
    lambda: st.vertical("call", 95, 105, 0.25), lambda: st.straddle(100, 0.25),
    lambda: st.strangle(90, 110, 0.25), lambda: st.iron_condor(80, 90, 110, 120, 0.25),
    lambda: st.iron_butterfly(90, 100, 110, 0.25), lambda: st.butterfly("call", 90, 100, 110, 0.25),
    lambda: st.calendar("put", 100, 0.1, 0.5), lambda: st.diagonal("call", 105, 100, 0.1, 0.5),
    lambda: st.covered_call(105, 0.25), lambda: st.protective_put(95, 0.25),
    lambda: st.collar(95, 105, 0.25),
])
def test_every_template_summarises(build) -> None:  # type: ignore[no-untyped-def]
    m = skew_market()
    summary = build().priced(m).summary(m)
    assert 0.0 <= summary["probability_of_profit"] <= 1.0
    assert summary["breakevens"] == sorted(summary["breakevens"])


def test_bad_legs() -> None:
    with pytest.raises(ValueError, match="positive strike"):
        st.Leg("call", 1, -5.0, 0.5)
    with pytest.raises(ValueError, match="non-zero integer"):
        st.Leg("put", 0, 100.0, 0.5)
    with pytest.raises(ValueError, match="priced"):
        st.straddle(100, 0.25).pnl(flat_market(), 100.0)
