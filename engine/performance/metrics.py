"""Return-series metrics with empyrical's definitions (empyrical-reloaded is the test reference).

All functions take daily simple returns (``engine.performance.returns``) and mirror
empyrical's arithmetic step by step, so results agree to rounding (tests: 1e-12 relative).

Definitions (``N`` = number of returns including NaN, ``x`` = the non-NaN returns,
``A`` = periods per year, 252 by default, ``rf`` = risk-free return *per period*, 0 unless set):

* **Sharpe** = mean(x − rf) / std(x − rf, ddof=1) × √A. Sample standard deviation (ddof=1),
  as empyrical. When every present value is equal the deviation is taken as exactly 0, so a
  constant positive series gives +inf, a constant zero series NaN. NaN when N < 2.
* **Sortino** = mean(x − MAR) × A / downside_risk, with downside_risk =
  √(mean(min(x − MAR, 0)²)) × √A over all present returns (not only the negative ones;
  empyrical's "target downside deviation"). MAR (required return) 0 unless set. No return
  below MAR → downside 0 → +inf for a positive mean, NaN for a zero mean. NaN when N < 2.
* **CAGR** (empyrical ``annual_return``/``cagr``) = (Π(1 + x))^(A / N) − 1. N counts NaN
  returns (they take time but compound as 0). NaN when N = 0.
* **Annual volatility** = std(x, ddof=1) × A^(1/2). NaN when N < 2.
* **Max drawdown** = min over points of (wealth − running peak) / running peak, with wealth
  starting at 1 before the first return: a negative fraction (−0.25 = 25 % below the peak),
  0 when the series never falls. NaN returns compound as 0. NaN when N = 0.
* **Calmar** = CAGR / |max drawdown|; NaN when there is no drawdown or the ratio is infinite.

NaN handling, as empyrical: a NaN return is a missing observation — skipped by means and
standard deviations, compounded as 0 % by CAGR and drawdown, and still counted in N (time
passes). ±inf or returns below −1 raise ``ValueError``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.performance.returns import FloatArray, check_returns

PERIODS_PER_YEAR = 252
MS_PER_DAY = 86_400_000

ReturnsLike = npt.ArrayLike | Sequence[float]


def _present(r: FloatArray) -> FloatArray:
    mask = ~np.isnan(r)
    return r if mask.all() else r[mask]


def _seqsum(x: FloatArray) -> float:
    """Left-to-right sum (as bottleneck, empyrical's backend, adds); numpy's ``sum`` adds
    pairwise, which differs in the last bits and matters when a mean is near zero."""
    return float(np.cumsum(x)[-1]) if x.size else 0.0


def _mean(x: FloatArray) -> float:
    return float(_seqsum(x) / x.size) if x.size else math.nan


def _std1(x: FloatArray) -> float:
    """Sample standard deviation (ddof=1); NaN below two values (bottleneck's nanstd)."""
    if x.size < 2:
        return math.nan
    d = x - _seqsum(x) / x.size
    return float(np.sqrt(_seqsum(d * d) / (x.size - 1)))


def _div(a: float, b: float) -> float:
    """a / b with IEEE semantics (±inf, NaN) instead of ZeroDivisionError, as numpy divides."""
    if b == 0.0:
        if a == 0.0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _check_factor(periods_per_year: float) -> float:
    if not (isinstance(periods_per_year, (int, float)) and math.isfinite(periods_per_year)
            and periods_per_year > 0):
        raise ValueError(f"periods_per_year must be a positive number, not {periods_per_year!r}")
    return float(periods_per_year)


def _check_rate(rate: float, what: str) -> float:
    if not (isinstance(rate, (int, float)) and math.isfinite(rate)):
        raise ValueError(f"{what} must be a finite number, not {rate!r}")
    return float(rate)


def sharpe_ratio(returns: ReturnsLike, risk_free: float = 0.0,
                 periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Annualised Sharpe ratio (empyrical ``sharpe_ratio``); ``risk_free`` per period.

    Raises ``ValueError`` for invalid returns or parameters.
    """
    r = check_returns(returns)
    rf = _check_rate(risk_free, "risk_free")
    a = _check_factor(periods_per_year)
    if r.size < 2:
        return math.nan
    x = _present(r if rf == 0 else r - rf)
    std = _std1(x)
    if x.size and math.isfinite(std) and x.max() == x.min():
        std = 0.0
    return _div(_mean(x), std) * float(np.sqrt(a))


def downside_risk(returns: ReturnsLike, required_return: float = 0.0,
                  periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Annualised downside deviation below ``required_return`` (empyrical ``downside_risk``).

    Raises ``ValueError`` for invalid returns or parameters.
    """
    r = check_returns(returns)
    mar = _check_rate(required_return, "required_return")
    a = _check_factor(periods_per_year)
    if r.size < 1:
        return math.nan
    return _downside(_present(r if mar == 0 else r - mar), a)


def _downside(x: FloatArray, a: float) -> float:
    d = np.minimum(x, 0.0)
    return float(np.sqrt(_mean(d * d))) * float(np.sqrt(a))


def sortino_ratio(returns: ReturnsLike, required_return: float = 0.0,
                  periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Annualised Sortino ratio (empyrical ``sortino_ratio``): +inf with no return below
    ``required_return`` and a positive mean, NaN with a zero mean or fewer than 2 returns.

    Raises ``ValueError`` for invalid returns or parameters.
    """
    r = check_returns(returns)
    mar = _check_rate(required_return, "required_return")
    a = _check_factor(periods_per_year)
    if r.size < 2:
        return math.nan
    x = _present(r if mar == 0 else r - mar)
    return _div(_mean(x) * a, _downside(x, a))


def cagr(returns: ReturnsLike, periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Compound annual growth rate (empyrical ``annual_return`` = ``cagr``), a fraction.

    Raises ``ValueError`` for invalid returns or parameters.
    """
    r = check_returns(returns)
    a = _check_factor(periods_per_year)
    if r.size < 1:
        return math.nan
    ending = float(np.nanprod(r + 1, axis=0))
    return float(ending ** (1 / (r.size / a)) - 1)


annual_return = cagr


def annual_volatility(returns: ReturnsLike, periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Annualised standard deviation of returns, ddof=1 (empyrical ``annual_volatility``).

    Raises ``ValueError`` for invalid returns or parameters.
    """
    r = check_returns(returns)
    a = _check_factor(periods_per_year)
    if r.size < 2:
        return math.nan
    return _std1(_present(r)) * float(a ** (1.0 / 2.0))


def wealth_points(returns: ReturnsLike) -> FloatArray:
    """Wealth at each of the ``n + 1`` points, starting at 100 before the first return
    (empyrical's anchor; NaN returns compound as 0). Raises ``ValueError`` for invalid returns."""
    r = check_returns(returns)
    w = np.empty(r.size + 1)
    w[0] = 100.0
    tail = w[1:]
    np.add(np.where(np.isnan(r), 0.0, r), 1, out=tail)
    tail.cumprod(out=tail)
    np.multiply(tail, 100.0, out=tail)
    return w


def drawdown_series(returns: ReturnsLike) -> FloatArray:
    """Drawdown at each return (``n`` values): (wealth − running peak) / running peak, ≤ 0.

    Raises ``ValueError`` for invalid returns.
    """
    w = wealth_points(returns)
    peak = np.fmax.accumulate(w)
    dd: FloatArray = (w - peak) / peak
    return dd[1:]


def max_drawdown(returns: ReturnsLike) -> float:
    """Maximum drawdown as a negative fraction (empyrical ``max_drawdown``); 0 when the
    series never falls, NaN when empty. Raises ``ValueError`` for invalid returns."""
    r = check_returns(returns)
    if r.size < 1:
        return math.nan
    return min(0.0, float(drawdown_series(r).min()))


def calmar_ratio(returns: ReturnsLike, periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """CAGR / |max drawdown| (empyrical ``calmar_ratio``); NaN with no drawdown or an
    infinite ratio. Raises ``ValueError`` for invalid returns or parameters."""
    r = check_returns(returns)
    mdd = max_drawdown(r)
    if not mdd < 0:
        return math.nan
    out = cagr(r, periods_per_year) / abs(mdd)
    return math.nan if math.isinf(out) else out


@dataclass(frozen=True, slots=True)
class Drawdown:
    """The maximum drawdown of a series, located.

    Indices are *points* (``n + 1`` for ``n`` returns: point 0 is before the first return;
    for a price series they are the price indices). ``pct`` a negative fraction;
    ``value`` the same fall in money for a series that started at ``start_value``
    (negative). ``recovery`` is the first point back at the peak, None while under water;
    ``duration_bars`` runs from the peak to the recovery (or to the last point when not
    recovered); ``duration_days`` the same in calendar days when times were given.
    """

    pct: float
    value: float
    peak: int | None
    trough: int | None
    recovery: int | None
    decline_bars: int
    duration_bars: int
    duration_days: float | None

    @property
    def recovered(self) -> bool:
        return self.recovery is not None


def _times_ms(times: npt.ArrayLike | Sequence[int], n_points: int) -> npt.NDArray[np.int64]:
    t = np.asarray(times)
    if t.ndim != 1 or t.size != n_points:
        raise ValueError(f"times must have one value per point ({n_points}), not {t.size}")
    if np.issubdtype(t.dtype, np.datetime64):
        return t.astype("datetime64[ms]").astype(np.int64)
    if not np.issubdtype(t.dtype, np.integer):
        raise ValueError("times must be datetime64 values or integer milliseconds since the epoch")
    return t.astype(np.int64)


def drawdown_details(returns: ReturnsLike, times: npt.ArrayLike | Sequence[int] | None = None,
                     start_value: float = 1.0) -> Drawdown:
    """The maximum drawdown with its peak, trough and recovery (see ``Drawdown``).

    ``times`` (optional): one datetime64 or epoch-millisecond value per point (``n + 1``).
    Raises ``ValueError`` for invalid returns, times or a non-positive ``start_value``.
    """
    r = check_returns(returns)
    if not (math.isfinite(start_value) and start_value > 0):
        raise ValueError(f"start_value must be a positive number, not {start_value!r}")
    t = None if times is None else _times_ms(times, r.size + 1)
    if r.size == 0:
        return Drawdown(math.nan, math.nan, None, None, None, 0, 0, None)
    w = wealth_points(r)
    peak_w = np.fmax.accumulate(w)
    dd = (w - peak_w) / peak_w
    trough = int(np.argmin(dd))
    if not dd[trough] < 0:
        return Drawdown(0.0, 0.0, None, None, None, 0, 0, None)
    top = peak_w[trough]
    peak = trough - int(np.argmax(w[trough::-1] == top))
    after = np.flatnonzero(w[trough:] >= top)
    recovery = trough + int(after[0]) if after.size else None
    end = recovery if recovery is not None else r.size
    days = None if t is None else float(t[end] - t[peak]) / MS_PER_DAY
    value = float((w[trough] - top) / 100.0 * start_value)
    return Drawdown(float(dd[trough]), value, peak, trough, recovery, trough - peak, end - peak, days)


def exposure(positions: npt.ArrayLike | Sequence[float]) -> float:
    """Fraction of bars with a position open (``positions[i] != 0``), in [0, 1]; NaN when
    empty. Raises ``ValueError`` for non-finite positions."""
    p = np.asarray(positions, dtype=np.float64)
    if p.ndim != 1 or not np.isfinite(p).all():
        raise ValueError("positions must be a one-dimensional series of finite numbers")
    return float(np.count_nonzero(p) / p.size) if p.size else math.nan


def time_in_market(starts_ms: npt.ArrayLike, ends_ms: npt.ArrayLike, span_start_ms: int,
                   span_end_ms: int) -> float:
    """Fraction of [span_start, span_end) covered by at least one [start, end) holding
    interval (overlaps counted once), in [0, 1].

    Raises ``ValueError`` when the span is empty or an interval ends before it starts.
    """
    s = np.asarray(starts_ms, dtype=np.int64)
    e = np.asarray(ends_ms, dtype=np.int64)
    if span_end_ms <= span_start_ms:
        raise ValueError("the span must end after it starts")
    if s.shape != e.shape or s.ndim != 1:
        raise ValueError("starts and ends must be one-dimensional and of equal length")
    if (e < s).any():
        raise ValueError("a holding interval ends before it starts")
    s = np.clip(s, span_start_ms, span_end_ms)
    e = np.clip(e, span_start_ms, span_end_ms)
    if s.size == 0:
        return 0.0
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    reach = np.maximum.accumulate(e)
    new = np.ones(s.size, dtype=bool)
    new[1:] = s[1:] > reach[:-1]
    group = np.cumsum(new) - 1
    g_start = s[new]
    g_end = np.zeros(g_start.size, dtype=np.int64)
    np.maximum.at(g_end, group, e)
    return float((g_end - g_start).sum() / (span_end_ms - span_start_ms))


@dataclass(frozen=True, slots=True)
class ReturnMetrics:
    """The headline metrics of one return series (see the module docstring for definitions).

    ``to_dict`` gives the CLI's ``analyze`` keys: sharpe, sortino, calmar, cagr, volatility,
    max_drawdown, … (floats; NaN/inf kept — ``json_safe`` turns them into null).
    """

    n: int
    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sortino: float
    downside_risk: float
    calmar: float
    max_drawdown: float
    drawdown: Drawdown
    periods_per_year: float
    risk_free: float

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        dd = d.pop("drawdown")
        d["max_drawdown_value"] = dd["value"]
        d["max_drawdown_peak"] = dd["peak"]
        d["max_drawdown_trough"] = dd["trough"]
        d["max_drawdown_recovery"] = dd["recovery"]
        d["max_drawdown_duration_bars"] = dd["duration_bars"]
        d["max_drawdown_duration_days"] = dd["duration_days"]
        return d


def json_safe(d: dict[str, Any]) -> dict[str, Any]:
    """``d`` with non-finite floats replaced by None (JSON has no NaN or infinity)."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def analyze_returns(returns: ReturnsLike, risk_free: float = 0.0,
                    periods_per_year: float = PERIODS_PER_YEAR,
                    times: npt.ArrayLike | Sequence[int] | None = None,
                    start_value: float = 1.0) -> ReturnMetrics:
    """All return metrics of one series at once (the ``analyze`` CLI verb and reviews).

    ``risk_free`` per period (applies to Sharpe); ``times`` and ``start_value`` locate the
    drawdown (``drawdown_details``). Raises ``ValueError`` for invalid input.
    """
    r = check_returns(returns)
    rf = _check_rate(risk_free, "risk_free")
    a = _check_factor(periods_per_year)
    dd = drawdown_details(r, times, start_value)
    total = float(np.nanprod(r + 1) - 1) if r.size else math.nan
    return ReturnMetrics(
        n=int(r.size), total_return=total, cagr=cagr(r, a), volatility=annual_volatility(r, a),
        sharpe=sharpe_ratio(r, rf, a), sortino=sortino_ratio(r, 0.0, a),
        downside_risk=downside_risk(r, 0.0, a), calmar=calmar_ratio(r, a),
        max_drawdown=max_drawdown(r), drawdown=dd, periods_per_year=a, risk_free=rf)
