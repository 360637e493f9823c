"""Option chains: a columnar data model, OCC symbols, bad-data flags and an offline demo chain.

``OptionChain`` holds one underlying's contracts as numpy columns (one row per contract):
expiry, years to expiry, strike, call/put, bid, ask, last, volume, open interest, IV and
BSM Greeks at that IV (units as ``engine.options.bsm``: vega/rho per point, theta per
calendar day), plus ``flags``: a bit mask of what is wrong with the row's data. A flagged
quote is never used silently: IV and Greeks are NaN for it, ``usable`` is False, and the
surface fit skips it.

``build_chain`` turns raw quotes into a chain (flags, IV from the mid by inverting the
American price by default — US equity options are American — and Greeks). ``demo_chain``
makes a deterministic chain for every demo symbol from an arbitrage-free skewed surface
(power-law SSVI, ``surface.default_svi``: one ρ for all expiries, η(1+|ρ|) <= 2, θ
increasing -- Gatheral–Jacquier 2014's conditions), strikes at least ±30 % of spot, spot = the
symbol's last demo close, expiries = the NYSE monthly expiries (third Fridays,
``engine.market.calendar``) plus four weeklies, American mids with realistic bid/ask
widths (so the dock is useful with no network). Yahoo chains come later (``ChainSource``
is the interface a fetcher implements).
"""
from __future__ import annotations

import datetime as _dt
import enum
import math
import re
import zlib
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from engine.options import american
from engine.options._inputs import FloatArray
from engine.options.iv import Reason, iv_and_greeks
from engine.options.surface import default_svi

DAYS_PER_YEAR = 365.0
MULTIPLIER = 100


class Flag(enum.IntFlag):
    """What is wrong with a row's quote (0 = nothing)."""

    NONE = 0
    CROSSED = 1       # bid > ask
    ZERO_BID = 2      # no bid (or a non-positive one)
    ZERO_ASK = 4      # no ask (or a non-positive one)
    NO_IV = 8         # no implied vol could be computed (the reason is in iv_reason)
    MISSING = 16      # a non-finite bid/ask


# ------------------------------------------------------------------ OCC symbols
_OCC = re.compile(r"^([A-Z0-9.]{1,6})\s*(\d{2})(\d{2})(\d{2})([CP])(\d{8})$")


@dataclass(frozen=True, slots=True)
class OccContract:
    """A parsed OCC option symbol."""

    root: str
    expiry: _dt.date
    kind: str  # "call" or "put"
    strike: float


def occ_symbol(root: str, expiry: _dt.date, kind: str, strike: float) -> str:
    """The 21-character OCC symbol, e.g. ``occ_symbol("AAPL", date(2024, 1, 19), "call",
    190)`` → ``"AAPL  240119C00190000"`` (root padded to 6, YYMMDD, C/P, strike × 1000 in 8
    digits). Raises ``ValueError`` for a bad root, kind or strike."""
    r = root.strip().upper()
    if not re.fullmatch(r"[A-Z0-9.]{1,6}", r):
        raise ValueError(f"an OCC root is 1-6 letters or digits, got {root!r}")
    k = kind.lower()
    if k not in ("call", "put", "c", "p"):
        raise ValueError(f"option type must be 'call' or 'put', got {kind!r}")
    milli = round(float(strike) * 1000)
    if not (math.isfinite(strike) and 0 < milli < 100_000_000) or abs(milli - strike * 1000) > 1e-6 * max(1.0, strike):
        raise ValueError(f"strike must be positive, below 100,000 and in steps of 0.001, got {strike!r}")
    if not 2000 <= expiry.year <= 2099:
        raise ValueError(f"OCC expiries are in 2000-2099, got {expiry}")
    return f"{r:<6}{expiry:%y%m%d}{'C' if k[0] == 'c' else 'P'}{milli:08d}"


def parse_occ(symbol: str) -> OccContract:
    """Parse an OCC symbol (padded or not: ``"AAPL  240119C00190000"`` or
    ``"AAPL240119C00190000"``). Raises ``ValueError`` when it is not one."""
    m = _OCC.match(symbol.strip().upper()) if isinstance(symbol, str) else None
    if m is None:
        raise ValueError(f"not an OCC option symbol: {symbol!r}")
    root, yy, mm, dd, cp, strike = m.groups()
    try:
        expiry = _dt.date(2000 + int(yy), int(mm), int(dd))
    except ValueError:
        raise ValueError(f"not an OCC option symbol (bad date): {symbol!r}") from None
    return OccContract(root, expiry, "call" if cp == "C" else "put", int(strike) / 1000.0)


# ------------------------------------------------------------------ the chain
@dataclass(frozen=True)
class OptionChain:
    """One underlying's chain as numpy columns (see module docstring)."""

    symbol: str
    spot: float
    as_of: _dt.date
    rate: float
    dividend: float
    source: str          # "demo", "yahoo", ...
    delayed: bool
    expiry: np.ndarray   # datetime64[D]
    years: FloatArray
    strike: FloatArray
    is_call: np.ndarray  # bool
    bid: FloatArray
    ask: FloatArray
    last: FloatArray
    volume: np.ndarray   # int64
    open_interest: np.ndarray  # int64
    iv: FloatArray
    iv_reason: np.ndarray  # int8 Reason codes
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray
    rho: FloatArray
    flags: np.ndarray    # uint8 Flag bits

    def __len__(self) -> int:
        return int(self.strike.size)

    @property
    def mid(self) -> FloatArray:
        """(bid + ask) / 2; NaN where the quote is flagged."""
        m = 0.5 * (self.bid + self.ask)
        return np.asarray(np.where(self.quote_ok, m, np.nan), dtype=np.float64)

    @property
    def quote_ok(self) -> np.ndarray:
        """Rows whose bid/ask are usable (no CROSSED/ZERO/MISSING flag)."""
        bad = Flag.CROSSED | Flag.ZERO_BID | Flag.ZERO_ASK | Flag.MISSING
        return np.asarray((self.flags & int(bad)) == 0)

    @property
    def usable(self) -> np.ndarray:
        """Rows with a usable quote and an implied vol."""
        return np.asarray(self.flags == 0)

    def expiries(self) -> list[_dt.date]:
        """Distinct expiries, ascending."""
        return [d.astype(_dt.date) for d in np.unique(self.expiry)]

    def select(self, expiry: _dt.date | None = None, kind: str | None = None) -> OptionChain:
        """The rows of one expiry and/or one type ("call"/"put")."""
        mask = np.ones(len(self), dtype=bool)
        if expiry is not None:
            mask &= self.expiry == np.datetime64(expiry, "D")
        if kind is not None:
            if kind not in ("call", "put"):
                raise ValueError(f"kind must be 'call' or 'put', got {kind!r}")
            mask &= self.is_call == (kind == "call")
        return self._take(mask)

    def _take(self, mask: np.ndarray) -> OptionChain:
        cols = {n: getattr(self, n)[mask] for n in _COLUMNS}
        return OptionChain(self.symbol, self.spot, self.as_of, self.rate, self.dividend,
                           self.source, self.delayed, **cols)

    def occ_symbols(self) -> list[str]:
        """OCC symbol per row."""
        return [occ_symbol(self.symbol, e.astype(_dt.date), "call" if c else "put", float(k))
                for e, c, k in zip(self.expiry, self.is_call, self.strike)]

    def to_rows(self) -> list[dict[str, Any]]:
        """JSON-friendly rows (NaN → None; flags as a list of names)."""
        def num(x: Any) -> Any:
            f = float(x)
            return None if not math.isfinite(f) else f
        out = []
        for i, sym in enumerate(self.occ_symbols()):
            fl = Flag(int(self.flags[i]))
            out.append({
                "symbol": sym, "expiry": str(self.expiry[i]), "type": "call" if self.is_call[i] else "put",
                "strike": float(self.strike[i]), "bid": num(self.bid[i]), "ask": num(self.ask[i]),
                "last": num(self.last[i]), "volume": int(self.volume[i]),
                "open_interest": int(self.open_interest[i]), "iv": num(self.iv[i]),
                "iv_reason": Reason(int(self.iv_reason[i])).text or None,
                "delta": num(self.delta[i]), "gamma": num(self.gamma[i]), "vega": num(self.vega[i]),
                "theta": num(self.theta[i]), "rho": num(self.rho[i]),
                "flags": [f.name for f in Flag if f and f in fl and f.name],
            })
        return out


_COLUMNS = ("expiry", "years", "strike", "is_call", "bid", "ask", "last", "volume", "open_interest",
            "iv", "iv_reason", "delta", "gamma", "vega", "theta", "rho", "flags")


def years_to_expiry(as_of: _dt.date, expiry: np.ndarray) -> FloatArray:
    """ACT/365 years from ``as_of`` to each expiry's close; an expiry on ``as_of`` itself
    counts a quarter of a day (the rest of the session), so it still has a time value."""
    days = (np.asarray(expiry, dtype="datetime64[D]") - np.datetime64(as_of, "D")).astype(np.int64)
    return np.asarray(np.where(days > 0, days, 0.25) / DAYS_PER_YEAR, dtype=np.float64)


def build_chain(symbol: str, spot: float, as_of: _dt.date, rate: float, dividend: float, *,
                expiry: Any, strike: Any, is_call: Any, bid: Any, ask: Any, last: Any = None,
                volume: Any = None, open_interest: Any = None, source: str = "unknown",
                delayed: bool = True, style: str = "american") -> OptionChain:
    """A chain from raw quotes: flags bad quotes, IV from the mid of usable quotes only
    (``style`` "american" inverts BS2002, "european" BSM), BSM Greeks at that IV.

    Rows expiring before ``as_of`` are dropped. Raises ``ValueError`` for a non-positive
    spot, non-finite rate/dividend, or columns of different lengths.
    """
    if not (math.isfinite(spot) and spot > 0):
        raise ValueError(f"spot must be positive and finite, got {spot!r}")
    if not (math.isfinite(rate) and math.isfinite(dividend)):
        raise ValueError("rate and dividend must be finite")
    exp = np.asarray(expiry, dtype="datetime64[D]").ravel()
    n = exp.size
    def col(x: Any, fill: float, dtype: Any = np.float64) -> np.ndarray:
        arr = np.full(n, fill, dtype=dtype) if x is None else np.asarray(x, dtype=dtype).ravel()
        if arr.size != n:
            raise ValueError(f"every column must have {n} rows, got {arr.size}")
        return arr
    k, c = col(strike, np.nan), col(is_call, False, bool)
    b, a, lst = col(bid, np.nan), col(ask, np.nan), col(last, np.nan)
    vol_, oi = col(volume, 0, np.int64), col(open_interest, 0, np.int64)
    if np.any(~np.isfinite(k) | (k <= 0)):
        raise ValueError("every strike must be positive and finite")
    keep = exp >= np.datetime64(as_of, "D")
    exp, k, c, b, a, lst, vol_, oi = (x[keep] for x in (exp, k, c, b, a, lst, vol_, oi))
    flags = np.zeros(exp.size, dtype=np.uint8)
    with np.errstate(invalid="ignore"):
        flags |= np.where(~np.isfinite(b) | ~np.isfinite(a), Flag.MISSING, 0).astype(np.uint8)
        flags |= np.where(b > a, Flag.CROSSED, 0).astype(np.uint8)
        flags |= np.where(np.isfinite(b) & (b <= 0), Flag.ZERO_BID, 0).astype(np.uint8)
        flags |= np.where(np.isfinite(a) & (a <= 0), Flag.ZERO_ASK, 0).astype(np.uint8)
    t = years_to_expiry(as_of, exp)
    ok = flags == 0
    mid = np.where(ok, 0.5 * (b + a), np.nan)
    res, g = iv_and_greeks(np.where(c, "call", "put"), mid, spot, k, t, rate, dividend, style=style)
    ivs = np.asarray(res.vol, dtype=np.float64)
    flags |= np.where(ok & ~np.isfinite(ivs), Flag.NO_IV, 0).astype(np.uint8)
    reason = np.asarray(res.reason, dtype=np.int8)
    d, gm, vg, th, rh = (np.asarray(getattr(g, f), dtype=np.float64) for f in ("delta", "gamma", "vega", "theta", "rho"))
    return OptionChain(symbol.upper(), float(spot), as_of, float(rate), float(dividend), source, delayed,
                       exp, t, k, c, b, a, lst, vol_, oi, ivs, reason, d, gm, vg, th, rh, flags)


class ChainSource(Protocol):
    """What a chain fetcher (Yahoo, later) provides: the expiries and one expiry's chain."""

    def expiries(self, symbol: str) -> list[_dt.date]: ...

    def chain(self, symbol: str, expiry: _dt.date | None = None) -> OptionChain: ...


# ------------------------------------------------------------------ demo chain
DEMO_RATE = 0.04


def _tick(price: FloatArray) -> FloatArray:
    # US penny-pilot style ticks: 0.01 below 3.00, 0.05 above.
    return np.asarray(np.where(price < 3.0, 0.01, 0.05), dtype=np.float64)


def _strike_step(spot: float) -> float:
    for limit, step in ((25, 0.5), (50, 1.0), (100, 2.5), (250, 5.0), (1000, 10.0)):
        if spot < limit:
            return step
    return 25.0


def demo_expiries(as_of: _dt.date) -> list[_dt.date]:
    """Four weekly Friday expiries (the session before a Friday holiday) after ``as_of``,
    the next eight NYSE monthly expiries and the next two January LEAPS, ascending."""
    from engine.market.calendar import get_calendar, monthly_expiries

    cal = get_calendar()
    monthly = [d for y in (as_of.year, as_of.year + 1, as_of.year + 2) for d in monthly_expiries(y) if d > as_of]
    chosen = set(monthly[:8])
    chosen |= {d for d in monthly if d.month == 1}.intersection(monthly[8:]) if len(monthly) > 8 else set()
    weeklies: list[_dt.date] = []
    d = as_of + _dt.timedelta(days=(4 - as_of.weekday()) % 7 or 7)
    while len(weeklies) < 4:
        e = d
        while not cal.is_session(e):
            e -= _dt.timedelta(days=1)
        if e > as_of and e not in chosen:
            weeklies.append(e)
        d += _dt.timedelta(days=7)
    return sorted(chosen | set(weeklies))


def demo_chain(symbol: str, *, style: str = "american") -> OptionChain:
    """A deterministic chain for a demo symbol (see module docstring); ``as_of`` is the last
    demo session, spot its close. Raises ``UnknownSymbolError`` for a non-demo symbol."""
    from engine.data.demo import DemoProvider

    bars = DemoProvider().fetch(symbol, "1d")
    spot = float(bars.close[-1])
    as_of = np.datetime64(int(bars.time[-1]), "s").astype("datetime64[D]").astype(_dt.date)
    rng = np.random.default_rng(zlib.crc32(f"options:{bars.symbol}".encode()))
    # Vol level from the last year of demo closes, so a wild demo stock has rich options.
    rets = np.diff(np.log(np.asarray(bars.close[-253:], dtype=np.float64)))
    atm = float(np.clip(rets.std() * math.sqrt(252) * rng.uniform(1.0, 1.2), 0.12, 1.2))
    div = float(np.round(rng.uniform(0.0, 0.03), 4))
    exps = demo_expiries(as_of)
    ts = years_to_expiry(as_of, np.array(exps, dtype="datetime64[D]"))
    svi = default_svi(ts, atm_vol=atm, skew=float(rng.uniform(-0.75, -0.35)))
    step = _strike_step(spot)
    rows: dict[str, list[Any]] = {n: [] for n in ("expiry", "strike", "is_call", "iv")}
    for e, t in zip(exps, ts):
        p = svi[float(t)]
        sd = atm * math.sqrt(t)
        # At least ±30 % of spot for every expiry (a weekly's ±3 sd is only a handful of
        # strikes, too few for a smile), wider for long expiries.
        lo = max(step, math.floor(min(0.7 * spot, spot * math.exp(-3.2 * sd - 0.02)) / step) * step)
        hi = math.ceil(max(1.3 * spot, spot * math.exp(2.6 * sd + 0.02)) / step) * step
        strikes = np.arange(lo, hi + step / 2, step)
        fwd = spot * math.exp((DEMO_RATE - div) * t)
        vols = np.sqrt(p.total_variance(np.log(strikes / fwd)) / t)
        for cp in (True, False):
            rows["expiry"] += [e] * strikes.size
            rows["strike"] += list(strikes)
            rows["is_call"] += [cp] * strikes.size
            rows["iv"] += list(vols)
    k = np.array(rows["strike"])
    c = np.array(rows["is_call"])
    exp_arr = np.array(rows["expiry"], dtype="datetime64[D]")
    t_arr = years_to_expiry(as_of, exp_arr)
    theo = american.price(np.where(c, "call", "put"), spot, k, t_arr, DEMO_RATE, np.array(rows["iv"]), div)
    # Spreads: a few cents plus a share of the price, wider far from the money and for
    # long-dated contracts; rounded out to the tick, so the mid is near the model value.
    money = np.abs(np.log(k / spot)) / np.maximum(atm * np.sqrt(t_arr), 1e-6)
    width = (0.02 + 0.03 * theo) * (1 + 0.15 * money) * (1 + 0.5 * t_arr)
    width = np.minimum(width, 0.5 + 0.08 * theo)
    tick = _tick(theo)
    bid = np.floor((theo - width / 2) / tick) * tick
    ask = np.ceil((theo + width / 2) / tick) * tick
    bid = np.where(bid < 0.01, 0.0, np.round(bid, 2))  # far wings: no bid (flagged ZERO_BID)
    ask = np.round(np.maximum(ask, 0.01), 2)
    liquidity = np.exp(-0.5 * money ** 2) / (1 + 4 * t_arr)
    oi = np.round(rng.lognormal(7.5, 0.8, k.size) * liquidity).astype(np.int64)
    volume = np.round(oi * rng.uniform(0.0, 0.3, k.size)).astype(np.int64)
    last = np.round(np.clip(theo + rng.normal(0, 0.25, k.size) * width, bid, ask), 2)
    last = np.where(volume > 0, last, np.nan)
    return build_chain(bars.symbol, spot, as_of, DEMO_RATE, div, expiry=exp_arr, strike=k, is_call=c,
                       bid=bid, ask=ask, last=last, volume=volume, open_interest=oi, source="demo",
                       delayed=False, style=style)
