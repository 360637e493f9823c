"""Multi-leg option strategies: P&L at expiry and before it, breakevens, max profit/loss,
probability of profit and position Greeks.

A ``Leg`` is a call, put or stock with a signed quantity (+ long, − short; options in
contracts of ``multiplier`` shares, stock in shares), a strike and time to expiry (years
from now) for options, and the per-share premium paid (long) or received (short) when the
position was opened. Money figures are per position in price units (contracts × 100).

Before expiry the option legs are priced with BSM at the **surface's** implied vol for
their strike and remaining time (``VolSurface.iv``; sticky strike: the surface as fitted
today, moved along its own time axis), not one flat vol. "At expiry" means the first
expiry of the strategy: later legs (calendars, diagonals) are valued off the surface then.
Probability of profit is the risk-neutral probability that the P&L at that date is > 0,
from the surface's terminal distribution (Breeden–Litzenberger on the fitted smile).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from engine.options import bsm
from engine.options._inputs import ArrayLike, FloatArray
from engine.options.surface import VolSurface

MULTIPLIER = 100
_KINDS = ("call", "put", "stock")


@dataclass(frozen=True, slots=True)
class Leg:
    """One leg; see the module docstring. ``premium`` NaN means "price it off the market"."""

    kind: str
    qty: int
    strike: float = float("nan")
    years: float = float("nan")
    premium: float = float("nan")

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"leg kind must be one of {', '.join(_KINDS)}, got {self.kind!r}")
        if isinstance(self.qty, bool) or not isinstance(self.qty, (int, np.integer)) or self.qty == 0:
            raise ValueError(f"leg quantity must be a non-zero integer, got {self.qty!r}")
        if self.kind != "stock":
            if not (math.isfinite(self.strike) and self.strike > 0):
                raise ValueError(f"an option leg needs a positive strike, got {self.strike!r}")
            if not (math.isfinite(self.years) and self.years > 0):
                raise ValueError(f"an option leg needs a positive time to expiry, got {self.years!r}")
        if not (math.isnan(self.premium) or (math.isfinite(self.premium) and self.premium >= 0)):
            raise ValueError(f"premium must be zero or positive, got {self.premium!r}")

    @property
    def size(self) -> int:
        """Shares controlled (signed): qty × 100 for options, qty for stock."""
        return int(self.qty) * (1 if self.kind == "stock" else MULTIPLIER)


@dataclass(frozen=True, slots=True)
class Market:
    """What legs are priced against: spot, rate, dividend yield and a fitted surface."""

    spot: float
    rate: float
    dividend: float
    surface: VolSurface

    def leg_value(self, leg: Leg, spots: ArrayLike, elapsed: float) -> FloatArray:
        """Per-share value of ``leg`` at underlying prices ``spots`` after ``elapsed`` years."""
        s = np.asarray(spots, dtype=np.float64)
        if leg.kind == "stock":
            return s.copy()
        remaining = leg.years - elapsed
        w = 1.0 if leg.kind == "call" else -1.0
        if remaining <= 1e-12:
            return np.asarray(np.maximum(w * (s - leg.strike), 0.0), dtype=np.float64)
        vol = float(self.surface.iv(leg.strike, remaining))
        sp = np.maximum(s, 1e-12)
        return np.asarray(bsm.price_raw(*np.broadcast_arrays(np.float64(w), sp, np.float64(leg.strike),
                                                             np.float64(remaining), np.float64(self.rate),
                                                             np.float64(self.dividend), np.float64(vol))),
                          dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Strategy:
    """A named set of legs (see ``Leg``); templates below build the usual ones."""

    name: str
    legs: tuple[Leg, ...]

    def __post_init__(self) -> None:
        if not self.legs:
            raise ValueError("a strategy needs at least one leg")

    @property
    def first_expiry(self) -> float:
        """Years to the nearest option expiry (0 for a stock-only position)."""
        ts = [leg.years for leg in self.legs if leg.kind != "stock"]
        return min(ts) if ts else 0.0

    def priced(self, market: Market) -> Strategy:
        """The strategy with every NaN premium set to the leg's value off ``market`` now."""
        legs = tuple(replace(leg, premium=float(market.leg_value(leg, market.spot, 0.0)))
                     if math.isnan(leg.premium) else leg for leg in self.legs)
        return Strategy(self.name, legs)

    def net_premium(self) -> float:
        """Money paid to open (positive = debit, negative = credit), all legs."""
        return float(sum(leg.size * leg.premium for leg in self.legs))

    def pnl(self, market: Market, spots: ArrayLike, elapsed: float | None = None) -> FloatArray:
        """Position P&L at ``spots`` after ``elapsed`` years (None: at the first expiry)."""
        self._require_premiums()
        t = self.first_expiry if elapsed is None else float(elapsed)
        if not (math.isfinite(t) and 0 <= t <= self.first_expiry + 1e-12):
            raise ValueError(f"elapsed must be between 0 and the first expiry "
                             f"({self.first_expiry:.4f} years), got {elapsed!r}")
        s = np.asarray(spots, dtype=np.float64)
        total = np.zeros(s.shape)
        for leg in self.legs:
            total += leg.size * (market.leg_value(leg, s, t) - leg.premium)
        return total

    def _require_premiums(self) -> None:
        if any(math.isnan(leg.premium) for leg in self.legs):
            raise ValueError("some legs have no premium: call priced(market) first")

    def _grid(self, market: Market, n: int = 4001) -> FloatArray:
        strikes = [leg.strike for leg in self.legs if leg.kind != "stock"]
        hi = max([market.spot] + strikes) * 3.0
        # The payoff at expiry is piecewise linear with kinks at the strikes: include them.
        return np.unique(np.concatenate([np.linspace(0.0, hi, n), strikes]))

    def breakevens(self, market: Market, elapsed: float | None = None) -> list[float]:
        """Underlying prices where the P&L crosses zero (at the first expiry by default)."""
        grid = self._grid(market)
        p = self.pnl(market, grid, elapsed)
        out = []
        sign = np.sign(p)
        for i in np.flatnonzero(sign[:-1] * sign[1:] < 0):
            x0, x1, y0, y1 = grid[i], grid[i + 1], p[i], p[i + 1]
            out.append(float(x0 - y0 * (x1 - x0) / (y1 - y0)))
        for i in np.flatnonzero((sign == 0)[1:-1]) + 1:
            out.append(float(grid[i]))
        return sorted(out)

    def max_profit_loss(self, market: Market) -> tuple[float, float]:
        """(max profit, max loss) at the first expiry; ``math.inf`` / ``-math.inf`` when
        unbounded (net long calls/stock above every strike: unbounded profit; net short:
        unbounded loss). The loss is a negative number."""
        grid = self._grid(market)
        p = self.pnl(market, grid)
        slope = (p[-1] - p[-2]) / (grid[-1] - grid[-2])
        top = math.inf if slope > 1e-6 else float(p.max())
        bottom = -math.inf if slope < -1e-6 else float(p.min())
        return top, bottom

    def probability_of_profit(self, market: Market) -> float:
        """Risk-neutral P(P&L at the first expiry > 0) from the surface's terminal
        distribution (Breeden–Litzenberger); a stock-only position uses 30 days."""
        t = self.first_expiry or 30 / 365
        strikes, cdf = market.surface.terminal_cdf(t)
        # The surface is for today's spot; the strategy's market spot may differ: scale.
        strikes = strikes * market.spot / market.surface.spot
        mids = 0.5 * (strikes[1:] + strikes[:-1])
        mass = np.diff(cdf)
        win = self.pnl(market, mids) > 0
        total = float(mass.sum()) + float(cdf[0]) + float(1 - cdf[-1])
        p = float(mass[win].sum())
        p += float(cdf[0]) if self.pnl(market, np.array([strikes[0] * 0.5]))[0] > 0 else 0.0
        p += float(1 - cdf[-1]) if self.pnl(market, np.array([strikes[-1] * 1.5]))[0] > 0 else 0.0
        return p / total

    def greeks(self, market: Market, elapsed: float = 0.0) -> dict[str, float]:
        """Position Greeks (sum of size × per-share Greek; stock has delta 1): delta in
        shares, gamma in shares per 1.00 move, vega/rho per point, theta per calendar day."""
        tot = dict.fromkeys(("delta", "gamma", "vega", "theta", "rho"), 0.0)
        for leg in self.legs:
            if leg.kind == "stock":
                tot["delta"] += leg.size
                continue
            remaining = leg.years - elapsed
            if remaining <= 0:
                continue
            vol = float(market.surface.iv(leg.strike, remaining))
            g = bsm.greeks(leg.kind, market.spot, leg.strike, remaining, market.rate, vol,
                           market.dividend, second_order=False)
            for name in tot:
                tot[name] += leg.size * float(getattr(g, name))
        return tot

    def summary(self, market: Market) -> dict[str, Any]:
        """Everything the strategy builder shows, as JSON-friendly values."""
        top, bottom = self.max_profit_loss(market)
        return {
            "name": self.name,
            "net_premium": self.net_premium(),
            "breakevens": self.breakevens(market),
            "max_profit": None if math.isinf(top) else top,
            "max_loss": None if math.isinf(bottom) else bottom,
            "max_profit_unbounded": math.isinf(top),
            "max_loss_unbounded": math.isinf(bottom),
            "probability_of_profit": self.probability_of_profit(market),
            "greeks": self.greeks(market),
        }


# ---------------------------------------------------------------- templates
def custom(name: str, legs: list[Leg]) -> Strategy:
    """Any set of legs."""
    return Strategy(name, tuple(legs))


def vertical(kind: str, lower: float, upper: float, years: float, qty: int = 1, *,
             bullish: bool = True) -> Strategy:
    """Bull (long the lower strike, short the upper) or bear vertical spread of calls or puts."""
    sign = 1 if bullish else -1
    return Strategy(f"{'bull' if bullish else 'bear'} {kind} vertical",
                    (Leg(kind, sign * qty, lower, years), Leg(kind, -sign * qty, upper, years)))


def straddle(strike: float, years: float, qty: int = 1) -> Strategy:
    """Long call and long put at one strike (negative qty: short straddle)."""
    return Strategy("straddle", (Leg("call", qty, strike, years), Leg("put", qty, strike, years)))


def strangle(put_strike: float, call_strike: float, years: float, qty: int = 1) -> Strategy:
    """Long OTM put and long OTM call (negative qty: short strangle)."""
    return Strategy("strangle", (Leg("put", qty, put_strike, years), Leg("call", qty, call_strike, years)))


def iron_condor(k1: float, k2: float, k3: float, k4: float, years: float, qty: int = 1) -> Strategy:
    """Short iron condor: long put k1, short put k2, short call k3, long call k4 (k1<k2<k3<k4)."""
    if not k1 < k2 <= k3 < k4:
        raise ValueError("iron condor strikes must satisfy k1 < k2 <= k3 < k4")
    return Strategy("iron condor", (Leg("put", qty, k1, years), Leg("put", -qty, k2, years),
                                    Leg("call", -qty, k3, years), Leg("call", qty, k4, years)))


def iron_butterfly(lower: float, middle: float, upper: float, years: float, qty: int = 1) -> Strategy:
    """Short iron butterfly: short straddle at ``middle``, long wings at ``lower``/``upper``."""
    s = iron_condor(lower, middle, middle, upper, years, qty)
    return Strategy("iron butterfly", s.legs)


def butterfly(kind: str, lower: float, middle: float, upper: float, years: float, qty: int = 1) -> Strategy:
    """Long butterfly: +1 lower, −2 middle, +1 upper (calls or puts)."""
    if not lower < middle < upper:
        raise ValueError("butterfly strikes must satisfy lower < middle < upper")
    return Strategy(f"{kind} butterfly", (Leg(kind, qty, lower, years), Leg(kind, -2 * qty, middle, years),
                                          Leg(kind, qty, upper, years)))


def calendar(kind: str, strike: float, near: float, far: float, qty: int = 1) -> Strategy:
    """Long calendar: short the near expiry, long the far one, same strike."""
    if not near < far:
        raise ValueError("a calendar needs near < far")
    return Strategy(f"{kind} calendar", (Leg(kind, -qty, strike, near), Leg(kind, qty, strike, far)))


def diagonal(kind: str, near_strike: float, far_strike: float, near: float, far: float,
             qty: int = 1) -> Strategy:
    """Long diagonal: short near expiry at ``near_strike``, long far expiry at ``far_strike``."""
    if not near < far:
        raise ValueError("a diagonal needs near < far")
    return Strategy(f"{kind} diagonal", (Leg(kind, -qty, near_strike, near), Leg(kind, qty, far_strike, far)))


def covered_call(call_strike: float, years: float, qty: int = 1) -> Strategy:
    """100 shares per contract and a short call."""
    return Strategy("covered call", (Leg("stock", qty * MULTIPLIER), Leg("call", -qty, call_strike, years)))


def protective_put(put_strike: float, years: float, qty: int = 1) -> Strategy:
    """100 shares per contract and a long put."""
    return Strategy("protective put", (Leg("stock", qty * MULTIPLIER), Leg("put", qty, put_strike, years)))


def collar(put_strike: float, call_strike: float, years: float, qty: int = 1) -> Strategy:
    """Shares, a long put below and a short call above."""
    return Strategy("collar", (Leg("stock", qty * MULTIPLIER), Leg("put", qty, put_strike, years),
                               Leg("call", -qty, call_strike, years)))


TEMPLATES = ("vertical", "straddle", "strangle", "iron_condor", "iron_butterfly", "butterfly",
             "calendar", "diagonal", "covered_call", "protective_put", "collar")
