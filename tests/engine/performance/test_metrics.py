"""Return metrics against empyrical-reloaded (the reference) on real and random returns."""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from engine.performance import metrics as m
from engine.performance.returns import returns_from_equity, returns_from_prices, to_returns

ep = pytest.importorskip("empyrical")

PAIRS = [
    (m.sharpe_ratio, ep.sharpe_ratio),
    (m.sortino_ratio, ep.sortino_ratio),
    (m.cagr, ep.cagr),
    (m.annual_return, ep.annual_return),
    (m.annual_volatility, ep.annual_volatility),
    (m.max_drawdown, ep.max_drawdown),
    (m.calmar_ratio, ep.calmar_ratio),
    (m.downside_risk, ep.downside_risk),
]


def _column(path: Path, col: str) -> np.ndarray:
    with path.open(newline="") as f:
        return np.array([float(row[col]) for row in csv.DictReader(f)])


def _same(ours: float, ref: float) -> None:
    if math.isnan(ref):
        assert math.isnan(ours)
    elif math.isinf(ref):
        assert ours == ref
    else:
        assert ours == pytest.approx(ref, rel=1e-12, abs=0.0)


@pytest.mark.parametrize("name", ["ORCL-1995-2014.csv", "NVDA-1999-2014.csv"])
@pytest.mark.parametrize("col", ["Close", "Adj Close"])
def test_real_returns_match_empyrical(shared_data: Path, name: str, col: str) -> None:
    prices = _column(shared_data / name, col)
    r = returns_from_prices(prices)
    np.testing.assert_array_equal(r, ep.simple_returns(prices))
    assert r.size == prices.size - 1 > 4000
    for ours, ref in PAIRS:
        _same(ours(r), float(ref(r)))
    # risk-free and required return also as empyrical
    _same(m.sharpe_ratio(r, risk_free=0.0001), float(ep.sharpe_ratio(r, risk_free=0.0001)))
    _same(m.sortino_ratio(r, required_return=0.0002), float(ep.sortino_ratio(r, required_return=0.0002)))
    # a sanity figure a user would recognise: NVDA and ORCL fell > 80 % in 2000-2002
    assert m.max_drawdown(r) < -0.8


def test_random_series_match_empyrical_with_nan() -> None:
    rng = np.random.default_rng(7)
    for i in range(300):
        n = int(rng.integers(2, 2500))
        r = rng.normal(rng.normal(0, 0.001), rng.uniform(0.001, 0.05), n)
        if i % 3 == 0:
            r[rng.random(n) < 0.05] = np.nan
        for ours, ref in PAIRS:
            _same(ours(r), float(ref(r)))
        _same(m.annual_volatility(r, periods_per_year=52), float(ep.annual_volatility(r, annualization=52)))


@pytest.mark.parametrize("r", [
    [],                        # empty
    [0.01],                    # one return
    [0.0, 0.0, 0.0],           # constant zero: Sharpe/Sortino NaN
    [0.01, 0.01, 0.01],        # constant positive: Sharpe +inf, Sortino +inf
    [-0.01, -0.01],            # constant negative: Sharpe -inf
    [0.01, 0.02, 0.005],       # all positive: no drawdown, Calmar NaN, Sortino inf
    [np.nan, np.nan, np.nan],  # all missing
    [np.nan, 0.01, -0.02],
    [-1.0, 0.5],               # total loss
])
def test_edge_cases_as_empyrical(r: list[float]) -> None:
    a = np.asarray(r, dtype=float)
    for ours, ref in PAIRS:
        _same(ours(a), float(ref(a)))


def test_edge_values_spelled_out() -> None:
    assert m.sharpe_ratio([0.01, 0.01, 0.01]) == math.inf
    assert m.sortino_ratio([0.01, 0.02, 0.005]) == math.inf
    assert math.isnan(m.sortino_ratio([0.0, 0.0]))
    assert m.max_drawdown([0.01, 0.02]) == 0.0
    assert math.isnan(m.calmar_ratio([0.01, 0.02]))
    assert math.isnan(m.sharpe_ratio([0.01]))


@pytest.mark.parametrize("bad, msg", [
    ([0.1, math.inf], "finite"),
    ([0.1, -1.5], "below -1"),
    ([[0.1, 0.2]], "one-dimensional"),
    (["a", "b"], "numbers"),
])
def test_invalid_returns_raise_one_sentence(bad: object, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        m.sharpe_ratio(bad)  # type: ignore[arg-type]


def test_points_helpers_and_validation() -> None:
    np.testing.assert_allclose(returns_from_equity([100.0, 110.0, 99.0]), [0.1, -0.1])
    np.testing.assert_allclose(to_returns([0.1, -0.1], "returns"), [0.1, -0.1])
    with pytest.raises(ValueError, match="positive"):
        returns_from_prices([10.0, 0.0, 11.0])
    with pytest.raises(ValueError, match="finite"):
        returns_from_prices([10.0, math.nan])
    with pytest.raises(ValueError, match="kind"):
        to_returns([1.0, 2.0], "ticks")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="periods_per_year"):
        m.cagr([0.1, 0.2], periods_per_year=0)


def test_drawdown_details_located_by_hand() -> None:
    # equity points 100, 120, 90, 60, 84, 120, 130: peak 120 at point 1, trough 60 at point 3
    # (−50 %), back to 120 at point 5. Decline 2 bars, duration 4 bars.
    eq = np.array([100.0, 120.0, 90.0, 60.0, 84.0, 120.0, 130.0])
    r = returns_from_equity(eq)
    days = np.array(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-08",
                     "2024-01-09", "2024-01-10"], dtype="datetime64[D]")
    dd = m.drawdown_details(r, times=days, start_value=100.0)
    assert dd.pct == pytest.approx(-0.5, rel=1e-12)
    assert dd.pct == ep.max_drawdown(r)
    assert dd.value == pytest.approx(-60.0, rel=1e-12)  # 120 → 60 on a 100 start
    assert (dd.peak, dd.trough, dd.recovery) == (1, 3, 5)
    assert (dd.decline_bars, dd.duration_bars) == (2, 4)
    assert dd.duration_days == 7.0  # Jan 2 → Jan 9
    # not recovered: the duration runs to the last point
    dd2 = m.drawdown_details(returns_from_equity([100.0, 80.0, 90.0]))
    assert (dd2.peak, dd2.trough, dd2.recovery, dd2.duration_bars) == (0, 1, None, 2)
    assert not dd2.recovered
    with pytest.raises(ValueError, match="one value per point"):
        m.drawdown_details(r, times=days[:-1])


def test_drawdown_series_matches_empyrical() -> None:
    rng = np.random.default_rng(3)
    r = rng.normal(0, 0.02, 500)
    from empyrical.stats import drawdown_series as ref

    expected = ref(r)
    expected = expected[1:] if expected.size == r.size + 1 else expected  # ndarray keeps the anchor
    np.testing.assert_allclose(m.drawdown_series(r), expected, rtol=1e-12, atol=0)


def test_exposure_and_time_in_market() -> None:
    assert m.exposure([0, 100, 100, 0]) == 0.5
    # [0,10) and [5,20) overlap → [0,20); [30,40) → 30 of a 100 span
    assert m.time_in_market([0, 5, 30], [10, 20, 40], 0, 100) == pytest.approx(0.30)
    with pytest.raises(ValueError, match="ends before"):
        m.time_in_market([10], [5], 0, 100)


def test_analyze_returns_keys_for_the_cli() -> None:
    r = np.random.default_rng(5).normal(0.0005, 0.01, 300)
    d = m.analyze_returns(r).to_dict()
    for key in ("sharpe", "sortino", "calmar", "cagr", "volatility", "max_drawdown"):
        assert isinstance(d[key], float)
    assert d["sharpe"] == pytest.approx(ep.sharpe_ratio(r), rel=1e-12)
    assert d["max_drawdown"] == ep.max_drawdown(r)
    safe = m.json_safe(m.analyze_returns([0.01, 0.02]).to_dict())
    assert safe["calmar"] is None and safe["sortino"] is None
