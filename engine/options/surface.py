"""Volatility surface: raw SVI per expiry, interpolated in total variance, with arbitrage checks.

Coordinates: log-moneyness ``k = ln(K / F(T))`` with the forward ``F = S e^{(r-q)T}``; total
implied variance ``w(k, T) = σ_iv(k, T)² T``. Per expiry, raw SVI (Gatheral 2004):

    w(k) = a + b (ρ (k − m) + sqrt((k − m)² + σ²))

fitted to mid IVs by weighted least squares (scipy ``least_squares``), weights 1/(ask IV −
bid IV) so tight quotes count more, with bounds b ≥ 0, |ρ| < 1, σ > 0 and Roger Lee's wing
bound b(1 + |ρ|) ≤ 2 imposed by a penalty, and a + bσ√(1−ρ²) ≥ 0 (no negative variance).

Between expiries the surface is linear in total variance at fixed k; before the first
expiry w scales with T (flat IV), after the last IV is held flat. Checks: butterfly
(Gatheral's g(k) ≥ 0 on a k grid, per expiry) and calendar (w non-decreasing in T at fixed
k); each violation is listed. Skew measures: ATM IV per expiry (term structure) and the
25-delta risk reversal and butterfly (forward deltas).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import least_squares
from scipy.special import ndtr, ndtri

from engine.options._inputs import ArrayLike, FloatArray


@dataclass(frozen=True, slots=True)
class SviParams:
    """Raw SVI parameters of one expiry (total variance in k = ln(K/F))."""

    a: float
    b: float
    rho: float
    m: float
    sigma: float

    def total_variance(self, k: ArrayLike) -> FloatArray:
        """w(k) = a + b(ρ(k−m) + √((k−m)² + σ²))."""
        x = np.asarray(k, dtype=np.float64) - self.m
        return np.asarray(self.a + self.b * (self.rho * x + np.sqrt(x * x + self.sigma ** 2)), dtype=np.float64)

    def derivatives(self, k: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
        """w, dw/dk, d²w/dk² at ``k``."""
        x = np.asarray(k, dtype=np.float64) - self.m
        root = np.sqrt(x * x + self.sigma ** 2)
        w = self.a + self.b * (self.rho * x + root)
        w1 = self.b * (self.rho + x / root)
        w2 = self.b * self.sigma ** 2 / root ** 3
        return w, w1, w2

    def g(self, k: ArrayLike) -> FloatArray:
        """Gatheral's butterfly density factor g(k); g < 0 means butterfly arbitrage."""
        kk = np.asarray(k, dtype=np.float64)
        w, w1, w2 = self.derivatives(kk)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray((1 - kk * w1 / (2 * w)) ** 2 - w1 ** 2 / 4 * (1 / w + 0.25) + w2 / 2,
                              dtype=np.float64)


@dataclass(frozen=True, slots=True)
class SviSlice:
    """One fitted expiry: time (years), forward, parameters, fit error (IV RMSE), points and
    the log-moneyness range of its quotes."""

    years: float
    forward: float
    params: SviParams
    rmse_iv: float
    n_points: int
    k_min: float = float("nan")  # the quoted log-moneyness range (NaN: unknown)
    k_max: float = float("nan")

    def iv(self, k: ArrayLike) -> FloatArray:
        """Implied vol (decimal) at log-moneyness ``k``."""
        return np.asarray(np.sqrt(np.maximum(self.params.total_variance(k), 0.0) / self.years),
                          dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Violation:
    """An arbitrage found by ``VolSurface.check_arbitrage``.

    ``kind``: "butterfly" (g(k) < 0 at expiry ``years``) or "calendar" (w(k, years) below
    the earlier expiry's ``years_before``); ``amount``: g(k), or the total-variance drop.
    """

    kind: str
    years: float
    k: float
    amount: float
    years_before: float | None = None


def fit_svi(k: ArrayLike, iv: ArrayLike, years: float, *, weights: ArrayLike | None = None,
            forward: float = float("nan"), arbitrage_free: bool = False,
            previous: SviSlice | None = None) -> SviSlice:
    """Fit raw SVI to implied vols ``iv`` at log-moneyness ``k`` of one expiry.

    ``weights``: per-point weights (e.g. 1/(ask IV − bid IV)); equal weights if None.
    ``arbitrage_free``: keep the slice free of butterfly arbitrage within its quoted strikes
    (Gatheral–Jacquier's g(k) >= 0 on ``check_grid``; when the free fit breaks it, it is
    refitted with a penalty on g < 0) and, given ``previous`` (the slice of the expiry
    before), of calendar arbitrage where both have quotes: w(k) >= w_previous(k), made exact
    by raising ``a`` by the largest shortfall (a parallel lift keeps the smile's shape).
    Raises ``ValueError`` with fewer than 5 finite points, years <= 0, or mismatched lengths.
    """
    kk = np.asarray(k, dtype=np.float64).ravel()
    vv = np.asarray(iv, dtype=np.float64).ravel()
    ww = np.ones_like(kk) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if not (kk.size == vv.size == ww.size):
        raise ValueError(f"k, iv and weights must have one length, got {kk.size}, {vv.size}, {ww.size}")
    if not (math.isfinite(years) and years > 0):
        raise ValueError(f"years must be positive and finite, got {years!r}")
    good = np.isfinite(kk) & np.isfinite(vv) & (vv > 0) & np.isfinite(ww) & (ww > 0)
    if good.sum() < 5:
        raise ValueError(f"an SVI fit needs at least 5 valid points, got {int(good.sum())}")
    kk, vv, ww = kk[good], vv[good], ww[good]
    ww = ww / ww.mean()
    w_obs = vv * vv * years
    atm = float(np.interp(0.0, kk[np.argsort(kk)], w_obs[np.argsort(kk)]))
    span = max(float(kk.max() - kk.min()), 0.05)
    # Initial guess from the wings' slopes: b(1±ρ) are the right/left asymptotic slopes.
    order = np.argsort(kk)
    ks, ws = kk[order], w_obs[order]
    q = max(2, ks.size // 4)
    left = (ws[q - 1] - ws[0]) / max(ks[q - 1] - ks[0], 1e-6)
    right = (ws[-1] - ws[-q]) / max(ks[-1] - ks[-q], 1e-6)
    b0 = float(np.clip((right - left) / 2, 1e-3, 1.5))
    rho0 = float(np.clip((right + left) / (right - left) if right != left else 0.0, -0.9, 0.9))
    sig0 = 0.1 * span + 0.05
    a0 = max(atm - b0 * sig0 * math.sqrt(1 - rho0 ** 2), 1e-6)
    x0 = np.array([a0, b0, rho0, 0.0, sig0])
    lo = np.array([-2.0 * w_obs.max(), 1e-8, -0.999, ks[0] - span, 1e-4])
    hi = np.array([2.0 * w_obs.max() + 1e-6, 2.0, 0.999, ks[-1] + span, 2.0 * span + 1.0])
    x0 = np.clip(x0, lo + 1e-9, hi - 1e-9)
    grid = check_grid(float(ks[0]), float(ks[-1])) if arbitrage_free else np.empty(0)
    both = (overlap_grid((float(ks[0]), float(ks[-1])), (previous.k_min, previous.k_max))
            if arbitrage_free and previous is not None else np.empty(0))
    floor = previous.params.total_variance(both) if previous is not None and both.size else np.empty(0)
    # Penalty scales: a violation of 1e-4 in g, or of 1e-4 of the ATM total variance in w,
    # costs about as much as a 1-vol-point miss on every quote.
    pen_g = 30.0 * math.sqrt(kk.size / max(grid.size, 1))
    pen_w = pen_g / max(atm, 1e-8)

    def resid(p: FloatArray, constrained: bool = False) -> FloatArray:
        a, b, rho, m, sig = p
        model = a + b * (rho * (kk - m) + np.sqrt((kk - m) ** 2 + sig * sig))
        iv_model = np.sqrt(np.maximum(model, 1e-12) / years)
        pen_lee = max(b * (1 + abs(rho)) - 2.0, 0.0) * 100.0
        pen_neg = max(-(a + b * sig * math.sqrt(1 - rho * rho)), 0.0) * 100.0
        parts = [(iv_model - vv) * ww, [pen_lee, pen_neg]]
        if constrained:
            sp = SviParams(a, b, rho, m, sig)
            with np.errstate(divide="ignore", invalid="ignore"):
                g = np.nan_to_num(sp.g(grid), nan=-1.0)
            parts.append(np.maximum(1e-6 - g, 0.0) * pen_g)  # a margin keeps the optimum at g > 0
            if floor.size:
                parts.append(np.maximum(floor * (1 + 1e-6) - sp.total_variance(both), 0.0) * pen_w)
        return np.asarray(np.concatenate(parts), dtype=np.float64)

    best = None
    for m0 in (0.0, float(ks[np.argmin(ws)])):
        x0[3] = np.clip(m0, lo[3] + 1e-9, hi[3] - 1e-9)
        sol = least_squares(resid, x0, bounds=(lo, hi), method="trf", x_scale="jac",
                            xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=2000)
        if best is None or sol.cost < best.cost:
            best = sol
    assert best is not None
    params = SviParams(*(float(x) for x in best.x))
    if grid.size and (not _butterfly_free(params, grid)
                      or (floor.size and bool(np.any(params.total_variance(both) < floor)))):
        # Candidates: the free optimum lifted above the previous slice, and a refit from it
        # with the no-arbitrage penalties (then lifted by what they left, a tiny amount);
        # the one closest to the quotes among the butterfly-free ones wins.
        sol = least_squares(resid, np.clip(best.x, lo + 1e-12, hi - 1e-12), bounds=(lo, hi), method="trf",
                            x_scale="jac", xtol=1e-10, ftol=1e-10, gtol=1e-10, max_nfev=300,
                            kwargs={"constrained": True})
        cands = [_lift(params, both, floor), _lift(SviParams(*(float(x) for x in sol.x)), both, floor)]
        free = [c for c in cands if _butterfly_free(c, grid)]
        params = min(free or cands[1:], key=lambda c: _rmse_iv(c, kk, vv, years))
    fitted = np.sqrt(np.maximum(params.total_variance(kk), 0.0) / years)
    rmse = float(np.sqrt(np.mean((fitted - vv) ** 2)))
    return SviSlice(float(years), float(forward), params, rmse, int(kk.size), float(ks[0]), float(ks[-1]))


CHECK_POINTS = 301


def check_grid(k_min: float, k_max: float, n: int = CHECK_POINTS) -> FloatArray:
    """The log-moneyness points where a slice is checked (and kept) arbitrage-free."""
    return np.linspace(k_min, k_max, n)


def overlap_grid(a: tuple[float, float], b: tuple[float, float], n: int = CHECK_POINTS) -> FloatArray:
    """Check points where two slices both have quotes (empty if their ranges do not meet
    or one is unknown)."""
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        return np.empty(0)
    return np.linspace(lo, hi, n)


def _lift(p: SviParams, grid: FloatArray, floor: FloatArray) -> SviParams:
    # Raise w by the largest shortfall below ``floor`` on ``grid`` (a parallel shift in a).
    short = float(np.max(floor - p.total_variance(grid))) if floor.size else 0.0
    if short <= 0.0:
        return p
    return SviParams(p.a + short * (1 + 1e-9) + 1e-12, p.b, p.rho, p.m, p.sigma)


def _rmse_iv(p: SviParams, k: FloatArray, iv: FloatArray, years: float) -> float:
    return float(np.sqrt(np.mean((np.sqrt(np.maximum(p.total_variance(k), 0.0) / years) - iv) ** 2)))


def _butterfly_free(p: SviParams, grid: FloatArray) -> bool:
    with np.errstate(divide="ignore", invalid="ignore"):
        return bool(np.all(p.g(grid) >= 0.0))


@dataclass(frozen=True)
class VolSurface:
    """SVI slices over expiries with total-variance interpolation (see module docstring).

    ``spot``, ``rate``, ``dividend`` define the forwards F(T) = S e^{(r−q)T} used to turn
    strikes into log-moneyness.
    """

    spot: float
    rate: float
    dividend: float
    slices: tuple[SviSlice, ...] = field(default_factory=tuple)

    @classmethod
    def fit(cls, spot: float, rate: float, dividend: float, years: ArrayLike, strikes: ArrayLike,
            iv_mid: ArrayLike, iv_bid: ArrayLike | None = None, iv_ask: ArrayLike | None = None
            ) -> VolSurface:
        """Fit one SVI slice per distinct ``years`` value from quotes (one row per option).

        NaN IVs (bad quotes) are skipped; an expiry with fewer than 5 usable quotes is left
        out. Raises ``ValueError`` when no expiry can be fitted or spot is not positive.
        """
        if not (math.isfinite(spot) and spot > 0):
            raise ValueError(f"spot must be positive and finite, got {spot!r}")
        t = np.asarray(years, dtype=np.float64).ravel()
        kx = np.asarray(strikes, dtype=np.float64).ravel()
        mid = np.asarray(iv_mid, dtype=np.float64).ravel()
        if iv_bid is not None and iv_ask is not None:
            spread = np.asarray(iv_ask, dtype=np.float64).ravel() - np.asarray(iv_bid, dtype=np.float64).ravel()
            wts = 1.0 / np.where(np.isfinite(spread) & (spread > 1e-4), spread, np.nan)
            wts = np.where(np.isfinite(wts), wts, np.nanmedian(wts) if np.isfinite(wts).any() else 1.0)
        else:
            wts = np.ones_like(mid)
        out: list[SviSlice] = []
        for ti in np.unique(t[np.isfinite(t) & (t > 0)]):
            sel = t == ti
            fwd = spot * math.exp((rate - dividend) * ti)
            try:
                # In increasing T, so each slice is kept above the one before (calendar).
                out.append(fit_svi(np.log(kx[sel] / fwd), mid[sel], float(ti), weights=wts[sel], forward=fwd,
                                   arbitrage_free=True, previous=out[-1] if out else None))
            except ValueError:
                continue
        if not out:
            raise ValueError("no expiry has 5 or more usable implied vols to fit")
        return cls(float(spot), float(rate), float(dividend), tuple(out))

    @property
    def years(self) -> FloatArray:
        """Expiry times of the slices (sorted)."""
        return np.array([s.years for s in self.slices])

    def forward(self, years: ArrayLike) -> FloatArray:
        """Forward price at ``years``."""
        return np.asarray(self.spot * np.exp((self.rate - self.dividend) * np.asarray(years, dtype=np.float64)),
                          dtype=np.float64)

    def total_variance(self, k: ArrayLike, years: ArrayLike) -> FloatArray:
        """w(k, T), linear in T between slices at fixed k (flat IV outside the slices)."""
        kk, tt = np.broadcast_arrays(np.asarray(k, dtype=np.float64), np.asarray(years, dtype=np.float64))
        ts = self.years
        grid = np.stack([s.params.total_variance(kk) for s in self.slices])  # (n_slices, ...)
        res = np.empty(kk.shape)
        j = np.searchsorted(ts, tt, side="right")
        first, last = tt <= ts[0], tt >= ts[-1]
        res[first] = (grid[0] * tt / ts[0])[first]
        res[last] = (grid[-1] * tt / ts[-1])[last]
        mid = ~(first | last)
        if mid.any():
            jm = j[mid]
            t0, t1 = ts[jm - 1], ts[jm]
            flat = grid.reshape(len(ts), -1)
            cols = np.flatnonzero(mid.ravel())
            w0, w1 = flat[jm - 1, cols], flat[jm, cols]
            frac = (tt[mid] - t0) / (t1 - t0)
            res[mid] = w0 + (w1 - w0) * frac
        return res

    def iv(self, strike: ArrayLike, years: ArrayLike) -> FloatArray:
        """Implied vol (decimal) at ``strike`` and ``years`` (> 0) from the surface."""
        t = np.asarray(years, dtype=np.float64)
        if np.any(~np.isfinite(t)) or np.any(t <= 0):
            raise ValueError("years must be positive and finite for a surface vol")
        k = np.log(np.asarray(strike, dtype=np.float64) / self.forward(t))
        return np.asarray(np.sqrt(np.maximum(self.total_variance(k, t), 0.0) / t), dtype=np.float64)

    def check_arbitrage(self, k_min: float = -1.5, k_max: float = 1.5, n: int = CHECK_POINTS, *,
                        within_quotes: bool = False) -> list[Violation]:
        """Butterfly (g(k) < 0) and calendar (w decreasing in T) violations on a k grid:
        ``k_min``..``k_max`` for every slice, or with ``within_quotes`` each slice's own
        quoted range (butterfly) and the range two neighbouring slices share (calendar) --
        SVI beyond a slice's last strike is extrapolation."""
        ks = np.linspace(k_min, k_max, n)
        found: list[Violation] = []
        for sl in self.slices:
            grid = check_grid(sl.k_min, sl.k_max, n) if within_quotes and math.isfinite(sl.k_min) else ks
            with np.errstate(divide="ignore", invalid="ignore"):
                g = sl.params.g(grid)
            for i in np.flatnonzero(g < -1e-9):
                found.append(Violation("butterfly", sl.years, float(grid[i]), float(g[i])))
        for a, b in zip(self.slices[:-1], self.slices[1:]):
            grid = overlap_grid((a.k_min, a.k_max), (b.k_min, b.k_max), n) if within_quotes else ks
            drop = a.params.total_variance(grid) - b.params.total_variance(grid)
            for i in np.flatnonzero(drop > 1e-9):
                found.append(Violation("calendar", b.years, float(grid[i]), float(drop[i]), a.years))
        return found

    def term_structure(self) -> tuple[FloatArray, FloatArray]:
        """(years, ATM-forward IV) per fitted expiry."""
        return self.years, np.array([float(s.iv(0.0)) for s in self.slices])

    def skew(self, years: float) -> dict[str, float]:
        """ATM IV, 25-delta call and put IVs, risk reversal (call − put) and butterfly
        ((call + put)/2 − ATM) at ``years``, with forward (undiscounted) deltas."""
        if not (math.isfinite(years) and years > 0):
            raise ValueError(f"years must be positive and finite, got {years!r}")
        atm = float(np.sqrt(self.total_variance(0.0, years) / years))
        out = {"atm": atm}
        for name, d in (("call25", 0.25), ("put25", -0.25)):
            # Forward delta N(d1) = 0.25 (call) / N(d1) − 1 = −0.25 (put): k = σ²T/2 − d1 σ√T.
            d1 = float(ndtri(d if d > 0 else 1 + d))
            vol = atm
            for _ in range(50):
                k = 0.5 * vol * vol * years - d1 * vol * math.sqrt(years)
                new = float(np.sqrt(self.total_variance(k, years) / years))
                if abs(new - vol) < 1e-12:
                    break
                vol = new
            out[name] = vol
        out["risk_reversal_25d"] = out["call25"] - out["put25"]
        out["butterfly_25d"] = 0.5 * (out["call25"] + out["put25"]) - atm
        return out

    def terminal_cdf(self, years: float, n: int = 801) -> tuple[FloatArray, FloatArray]:
        """Risk-neutral P(S_T <= K) on a strike grid, by Breeden–Litzenberger on the smile:
        CDF(K) = 1 + ∂C/∂K with C the undiscounted call price at the surface vol.

        Returns (strikes, cdf); the cdf is made non-decreasing and clipped to [0, 1].
        """
        if not (math.isfinite(years) and years > 0):
            raise ValueError(f"years must be positive and finite, got {years!r}")
        fwd = float(self.forward(years))
        atm = float(np.sqrt(self.total_variance(0.0, years) / years))
        sd = max(atm * math.sqrt(years), 0.01)
        ks = np.linspace(-10.0 * sd, 6.0 * sd, n)  # the put skew fattens the left tail
        strikes = fwd * np.exp(ks)
        h = 1e-4
        def call(kk: FloatArray) -> FloatArray:
            w = np.maximum(self.total_variance(kk, years), 1e-14)
            s = np.sqrt(w)
            d1 = -kk / s + 0.5 * s
            return np.asarray(fwd * (ndtr(d1) - np.exp(kk) * ndtr(d1 - s)), dtype=np.float64)
        dcdk = (call(ks + h) - call(ks - h)) / (2 * h)
        cdf = 1.0 + dcdk / strikes
        cdf = np.clip(np.maximum.accumulate(cdf), 0.0, 1.0)
        return strikes, cdf


def synthetic_surface_quotes(spot: float = 100.0, rate: float = 0.03, dividend: float = 0.01,
                             params: dict[float, SviParams] | None = None,
                             strikes_per_expiry: int = 25) -> dict[str, Any]:
    """Quotes (years, strikes, IVs) generated from known SVI slices: for tests and demos."""
    if params is None:
        params = default_svi(np.array([0.05, 0.15, 0.3, 0.6, 1.0, 2.0]))
    years, strikes, ivs = [], [], []
    for t, p in sorted(params.items()):
        fwd = spot * math.exp((rate - dividend) * t)
        width = 2.5 * math.sqrt(max(float(p.total_variance(0.0)), 1e-6))
        ks = np.linspace(-width, 0.8 * width, strikes_per_expiry)
        years += [t] * ks.size
        strikes += list(fwd * np.exp(ks))
        ivs += list(np.sqrt(p.total_variance(ks) / t))
    return {"years": np.array(years), "strikes": np.array(strikes), "iv": np.array(ivs),
            "spot": spot, "rate": rate, "dividend": dividend, "params": params}


def default_svi(years: FloatArray, atm_vol: float = 0.3, skew: float = -0.5,
                term_slope: float = -0.1) -> dict[float, SviParams]:
    """Arbitrage-free equity-like SVI slices: ATM vol falling gently with maturity, a
    put skew (ρ < 0), curvature shrinking with T (a power-law SSVI-like choice)."""
    out: dict[float, SviParams] = {}
    for t in np.asarray(years, dtype=np.float64):
        vol = atm_vol * (1 + term_slope * math.log(max(t, 1e-3) / 0.25) / 3)
        theta = vol * vol * t
        # Power-law SSVI φ(θ) = η/(√θ √(1+θ)), η(1+|ρ|) <= 2: free of static arbitrage.
        phi = 0.8 / (math.sqrt(max(theta, 1e-8)) * math.sqrt(1 + theta))
        # SSVI slice in raw form: a = θ(1−ρ²)/2, b = θφ/2, m = −ρ/φ, σ = √(1−ρ²)/φ.
        rho = skew
        out[float(t)] = SviParams(theta * (1 - rho * rho) / 2, theta * phi / 2, rho, -rho / phi,
                                  math.sqrt(1 - rho * rho) / phi)
    return out
