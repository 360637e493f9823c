"""Daily return series: validation and conversion from prices or equity.

A *return series* is a 1-D float64 array of simple periodic returns (0.01 = +1 %), one per
bar, as empyrical takes them. ``NaN`` is allowed and means a missing observation, treated
as empyrical treats it (see ``engine.performance.metrics``). Anything else non-finite, a
return below −100 % or a non-numeric input raises ``ValueError`` with one sentence.

Prices and equity are *points*: ``n + 1`` points give ``n`` returns, and return ``i`` is
the move from point ``i`` to point ``i + 1`` (``p[i+1] / p[i] − 1``, empyrical's
``simple_returns``). Drawdown indices (``metrics.drawdown_details``) refer to points.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
SeriesKind = Literal["prices", "returns", "equity"]


def _as_float_1d(values: npt.ArrayLike | Sequence[float], what: str) -> FloatArray:
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numbers") from None
    if a.ndim != 1:
        raise ValueError(f"{what} must be a one-dimensional series, not {a.ndim}-dimensional")
    return a


def check_returns(returns: npt.ArrayLike | Sequence[float]) -> FloatArray:
    """``returns`` as a validated float64 array (NaN kept: a missing observation).

    Raises ``ValueError`` when the series is not 1-D numbers, holds ±inf, or holds a return
    below −1 (a loss of more than everything).
    """
    a = _as_float_1d(returns, "returns")
    if np.isinf(a).any():
        raise ValueError(f"returns must be finite: position {int(np.flatnonzero(np.isinf(a))[0])} is infinite")
    with np.errstate(invalid="ignore"):
        below = a < -1.0
    if below.any():
        i = int(np.flatnonzero(below)[0])
        raise ValueError(f"return at position {i} is {a[i]:.6g}, below -1 (a loss of more than 100 %)")
    return a


def returns_from_points(points: npt.ArrayLike | Sequence[float], what: str = "prices") -> FloatArray:
    """Simple returns ``p[i+1] / p[i] − 1`` of ``n + 1`` positive points (prices or equity).

    Exactly empyrical's ``simple_returns`` on an ndarray. Raises ``ValueError`` when a point
    is not a positive finite number (a missing point cannot be compounded across).
    """
    p = _as_float_1d(points, what)
    if not np.isfinite(p).all():
        i = int(np.flatnonzero(~np.isfinite(p))[0])
        raise ValueError(f"{what} must be finite numbers: position {i} is {p[i]}")
    if (p <= 0).any():
        i = int(np.flatnonzero(p <= 0)[0])
        raise ValueError(f"{what} must be positive: position {i} is {p[i]:.6g}")
    out: FloatArray = np.diff(p)
    np.divide(out, p[:-1], out=out)
    return out


def returns_from_prices(prices: npt.ArrayLike | Sequence[float]) -> FloatArray:
    """Daily simple returns of a price series (``n + 1`` prices → ``n`` returns); see
    ``returns_from_points``."""
    return returns_from_points(prices, "prices")


def returns_from_equity(equity: npt.ArrayLike | Sequence[float]) -> FloatArray:
    """Daily simple returns of an account equity curve (``n + 1`` values → ``n`` returns);
    see ``returns_from_points``."""
    return returns_from_points(equity, "equity")


def to_returns(values: npt.ArrayLike | Sequence[float], kind: SeriesKind) -> FloatArray:
    """``values`` read as ``kind`` ("prices", "equity" or "returns") → a checked return series.

    Raises ``ValueError`` for an unknown kind or invalid values.
    """
    if kind == "returns":
        return check_returns(values)
    if kind in ("prices", "equity"):
        return returns_from_points(values, kind)
    raise ValueError(f"kind must be 'prices', 'returns' or 'equity', not {kind!r}")
