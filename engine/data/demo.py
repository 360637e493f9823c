"""The demo provider: made-up but realistic bars, the same on every machine and every run.

So that the workstation is fully usable on first start without a network, the demo
universe has ``len(UNIVERSE)`` fictional companies (tickers, names and sectors invented;
``Bars.source == "demo"`` always, and the UI labels them). The model, per business day t:

- a market factor ``m_t``: GARCH(1,1) volatility with Student-t (df 4) innovations --
  fat tails and volatility clustering; generated once and cached;
- each symbol: ``r_t = mu + beta * m_t + e_t`` with its own GARCH(1,1)/t idiosyncratic
  part ``e_t``, so symbols correlate through their beta;
- an overnight gap: part of the day's move, plus quarterly "earnings" jumps, happens
  between the previous close and the open;
- high/low: wicks proportional to the day's volatility; volume: a per-symbol base level
  with log-normal noise, rising with the size of the move (spikes on big days).

Daily bars are the NYSE sessions from ``DAILY_START`` to ``DAILY_END``: the model runs on
every weekday and the exchange's full-day closures (``_NYSE_CLOSED``) are then dropped, so a
holiday's move shows in the next session's gap, as news over a long weekend does, and every
other bar is what it was when holidays were not known. 1-minute bars cover the sessions
(``engine.market.calendar``, XNYS: 09:30-16:00 America/New_York as UTC epoch seconds across
daylight-saving changes, 09:30-13:00 on early closes) of the last ``INTRADAY_DAYS`` daily
bars, and agree with them: the minutes of a day open at the day's open, close at its close,
and reach exactly its high and low; their volumes add up to the day's. Other timeframes are
resampled from these.

Determinism: every random stream is numpy's PCG64 seeded from ``zlib.crc32`` of a fixed
label (never Python's salted ``hash()``); prices are rounded to cents and volumes to whole
shares, so float differences in the last bit between machines cannot show.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from engine.data.bars import INTRADAY, TIMEFRAMES, Bars
from engine.data.errors import DataError, UnknownSymbolError

DAILY_START = np.datetime64("2014-01-02", "D")
DAILY_END = np.datetime64("2026-10-30", "D")  # a Friday; fixed so the data never changes
INTRADAY_DAYS = 22
SESSION_MINUTES = 390  # 09:30-16:00, a regular session
DEMO_EXCHANGE = "XNYS"
_T_DF = 4.0
_T_SCALE = float(np.sqrt((_T_DF - 2.0) / _T_DF))  # unit-variance Student-t


@dataclass(frozen=True, slots=True)
class DemoSymbol:
    """A fictional company of the demo universe."""

    symbol: str
    name: str
    sector: str


_RAW = [
    # symbol, name, sector
    ("ACME", "Acme Demo Industries", "Industrials"),
    ("GLOBX", "Globex Demo Corporation", "Industrials"),
    ("INITK", "Initech Demo Software", "Technology"),
    ("UMBRL", "Umbrella Demo Pharma", "Health Care"),
    ("HOOLI", "Hooli Demo Search", "Communication"),
    ("STARK", "Stark Demo Dynamics", "Industrials"),
    ("WAYNE", "Wayne Demo Enterprises", "Industrials"),
    ("TYRLL", "Tyrell Demo Robotics", "Technology"),
    ("CYBDN", "Cyberdyne Demo Systems", "Technology"),
    ("SOYLN", "Soylent Demo Foods", "Consumer Staples"),
    ("VANDL", "Vandelay Demo Imports", "Consumer Discretionary"),
    ("OCORP", "OmniCorp Demo Holdings", "Industrials"),
    ("MASSV", "Massive Demo Dynamic", "Technology"),
    ("PIEDP", "Pied Piper Demo Compression", "Technology"),
    ("AVIAT", "Aviato Demo Travel", "Consumer Discretionary"),
    ("DUNMF", "Dunder Demo Paper", "Materials"),
    ("KRUST", "Krusty Demo Restaurants", "Consumer Discretionary"),
    ("DUFFB", "Duff Demo Brewing", "Consumer Staples"),
    ("GRNGT", "Gringotts Demo Bank", "Financials"),
    ("LANNB", "Lannister Demo Capital", "Financials"),
    ("OSCRP", "Oscorp Demo Biotech", "Health Care"),
    ("WONKA", "Wonka Demo Confectionery", "Consumer Staples"),
    ("NAKAT", "Nakatomi Demo Trading", "Financials"),
    ("WEYLD", "Weyland Demo Aerospace", "Industrials"),
    ("GEKKO", "Gekko Demo Partners", "Financials"),
    ("BLUTH", "Bluth Demo Homes", "Real Estate"),
    ("PAWNE", "Pawnee Demo Utilities", "Utilities"),
    ("SPRNG", "Springfield Demo Nuclear", "Utilities"),
    ("MONAR", "Monarch Demo Solutions", "Technology"),
    ("ROXXN", "Roxxon Demo Energy", "Energy"),
    ("PETRX", "Petrox Demo Oil", "Energy"),
    ("SHNRA", "Shinra Demo Power", "Utilities"),
    ("BIGKH", "Big Kahuna Demo Burger", "Consumer Discretionary"),
    ("NUKAC", "Nuka Demo Beverages", "Consumer Staples"),
    ("VAULT", "Vault-Tec Demo Shelters", "Real Estate"),
    ("ABSTG", "Abstergo Demo Health", "Health Care"),
    ("APRTR", "Aperture Demo Science", "Health Care"),
    ("BLKMS", "Black Mesa Demo Research", "Health Care"),
    ("CHOAM", "CHOAM Demo Spice", "Materials"),
    ("YOYOD", "Yoyodyne Demo Propulsion", "Industrials"),
    ("GLDFN", "Goldfinch Demo Mining", "Materials"),
    ("IRONH", "Ironhide Demo Steel", "Materials"),
    ("BRTLE", "Bright Leaf Demo Tobacco", "Consumer Staples"),
    ("CLDWV", "Cloudwave Demo Networks", "Communication"),
    ("PIXLR", "Pixelar Demo Studios", "Communication"),
    ("QNTML", "Quantumleaf Demo Chips", "Technology"),
    ("SLRFX", "Solarflux Demo Renewables", "Energy"),
    ("HRBRN", "Harborline Demo Shipping", "Industrials"),
    ("MDVNT", "Medivant Demo Devices", "Health Care"),
    ("TRSTB", "Trustbridge Demo Bancorp", "Financials"),
    ("URBNK", "Urbanika Demo REIT", "Real Estate"),
    ("FRSTL", "Firstlight Demo Telecom", "Communication"),
    ("AGRNV", "Agrinova Demo Farms", "Consumer Staples"),
    ("NRTHW", "Northwind Demo Traders", "Consumer Discretionary"),
    ("CNTSO", "Contoso Demo Cloud", "Technology"),
    ("FABRK", "Fabrikam Demo Textiles", "Consumer Discretionary"),
]

UNIVERSE: tuple[DemoSymbol, ...] = tuple(DemoSymbol(s, n, sec) for s, n, sec in _RAW)
_BY_SYMBOL = {d.symbol: d for d in UNIVERSE}

# Per-sector (annual idiosyncratic vol, beta centre)
_SECTOR = {
    "Technology": (0.24, 1.25), "Communication": (0.22, 1.1), "Health Care": (0.24, 0.9),
    "Financials": (0.18, 1.15), "Industrials": (0.17, 1.0), "Consumer Discretionary": (0.20, 1.1),
    "Consumer Staples": (0.13, 0.7), "Energy": (0.24, 1.05), "Materials": (0.19, 1.0),
    "Utilities": (0.12, 0.55), "Real Estate": (0.16, 0.85),
}


def _seed(label: str) -> int:
    return zlib.crc32(label.encode("utf-8"))


def _rng(label: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(_seed("stockscanner-demo/" + label)))


# NYSE full-day closures from DAILY_START to DAILY_END (month-day per year), as exchange_calendars
# 4.13 has them; tests/engine/test_data_demo.py checks them against engine.market.calendar.
# Kept here, not asked of the calendar, so the daily demo bars (shown at start-up) need neither
# exchange_calendars nor pandas, and stay the same whatever a later library release adds.
_NYSE_CLOSED = {
    2014: "01-20 02-17 04-18 05-26 07-04 09-01 11-27 12-25",
    2015: "01-01 01-19 02-16 04-03 05-25 07-03 09-07 11-26 12-25",
    2016: "01-01 01-18 02-15 03-25 05-30 07-04 09-05 11-24 12-26",
    2017: "01-02 01-16 02-20 04-14 05-29 07-04 09-04 11-23 12-25",
    2018: "01-01 01-15 02-19 03-30 05-28 07-04 09-03 11-22 12-05 12-25",
    2019: "01-01 01-21 02-18 04-19 05-27 07-04 09-02 11-28 12-25",
    2020: "01-01 01-20 02-17 04-10 05-25 07-03 09-07 11-26 12-25",
    2021: "01-01 01-18 02-15 04-02 05-31 07-05 09-06 11-25 12-24",
    2022: "01-17 02-21 04-15 05-30 06-20 07-04 09-05 11-24 12-26",
    2023: "01-02 01-16 02-20 04-07 05-29 06-19 07-04 09-04 11-23 12-25",
    2024: "01-01 01-15 02-19 03-29 05-27 06-19 07-04 09-02 11-28 12-25",
    2025: "01-01 01-09 01-20 02-17 04-18 05-26 06-19 07-04 09-01 11-27 12-25",
    2026: "01-01 01-19 02-16 04-03 05-25 06-19 07-03 09-07",
}


def exchange_holidays() -> np.ndarray:
    """The weekdays from ``DAILY_START`` to ``DAILY_END`` without demo bars (datetime64[D])."""
    return np.array([f"{y}-{md}" for y, mds in _NYSE_CLOSED.items() for md in mds.split()],
                    dtype="datetime64[D]")


@lru_cache(maxsize=1)
def _weekdays() -> np.ndarray:
    """Every Mon-Fri from DAILY_START to DAILY_END: the days the model runs on."""
    days = np.arange(DAILY_START, DAILY_END + 1, dtype="datetime64[D]")
    return days[np.is_busday(days)]


@lru_cache(maxsize=1)
def _session_mask() -> np.ndarray:
    mask = ~np.isin(_weekdays(), exchange_holidays())
    mask.setflags(write=False)
    return mask


@lru_cache(maxsize=1)
def business_days() -> np.ndarray:
    """The daily bar dates (datetime64[D]) of the demo data: NYSE sessions, Mon-Fri without
    the exchange's holidays."""
    days: np.ndarray = _weekdays()[_session_mask()]
    return days


def _garch(z: np.ndarray, omega: float, alpha: float, beta: float) -> np.ndarray:
    """GARCH(1,1) returns from unit-variance shocks ``z`` (daily variance units)."""
    # sigma2_t = omega + (alpha z_{t-1}^2 + beta) sigma2_{t-1}: a linear recursion.
    a = (alpha * z * z + beta).tolist()
    s2 = omega / (1.0 - alpha - beta)
    out = [0.0] * len(a)
    for i in range(len(a)):
        out[i] = s2
        s2 = omega + a[i] * s2
    return np.asarray(np.sqrt(np.asarray(out)) * z, dtype=np.float64)


@lru_cache(maxsize=1)
def market_factor() -> tuple[np.ndarray, np.ndarray]:
    """(daily market log returns, their conditional volatility), cached."""
    n = len(_weekdays())
    rng = _rng("market")
    z = rng.standard_t(_T_DF, n) * _T_SCALE
    var = (0.18 / np.sqrt(252)) ** 2
    r = _garch(z, omega=var * 0.04, alpha=0.09, beta=0.87)
    sigma = np.abs(r / np.where(z == 0, 1, z))
    return r + 0.07 / 252, sigma


def demo_symbols() -> list[str]:
    """The tickers of the demo universe, in a fixed order."""
    return [d.symbol for d in UNIVERSE]


def is_demo_symbol(symbol: str) -> bool:
    return symbol.upper() in _BY_SYMBOL


@lru_cache(maxsize=128)
def _daily_arrays(symbol: str) -> tuple[np.ndarray, ...]:
    info = _BY_SYMBOL[symbol]
    days = _weekdays()
    n = len(days)
    m, m_sigma = market_factor()
    rng = _rng(symbol)
    vol_c, beta_c = _SECTOR[info.sector]
    beta = beta_c + rng.normal(0.0, 0.15)
    ann_vol = vol_c * rng.uniform(0.75, 1.3)
    drift = rng.normal(0.0, 0.05) / 252
    price0 = float(np.exp(rng.uniform(np.log(8.0), np.log(400.0))))
    base_volume = float(np.exp(rng.uniform(np.log(3e5), np.log(3e7))))
    var = (ann_vol / np.sqrt(252)) ** 2
    z = rng.standard_t(_T_DF, n) * _T_SCALE
    e = _garch(z, omega=var * 0.05, alpha=0.08, beta=0.87)
    # quarterly earnings: a jump at one fixed phase every 63 trading days
    jumps = np.zeros(n)
    phase = int(rng.integers(0, 63))
    jd = np.arange(phase, n, 63)
    jumps[jd] = rng.normal(0.0, 2.5, len(jd)) * np.sqrt(var)
    r = drift + beta * m + e + jumps
    r[0] = 0.0
    sigma_day = np.sqrt(beta * beta * m_sigma * m_sigma + var)
    # overnight share of the move, with its own noise; the jumps gap entirely
    gap = 0.25 * (r - jumps) + jumps + rng.normal(0.0, 0.15, n) * sigma_day
    gap[0] = 0.0
    log_close = np.log(price0) + np.cumsum(r)
    close = np.round(np.exp(log_close), 2)
    prev_close = np.concatenate([[close[0]], close[:-1]])
    open_ = np.round(prev_close * np.exp(gap), 2)
    top = np.maximum(open_, close)
    bot = np.minimum(open_, close)
    wick_hi = np.abs(rng.normal(0.0, 0.45, n)) * sigma_day
    wick_lo = np.abs(rng.normal(0.0, 0.45, n)) * sigma_day
    high = np.maximum(np.round(top * np.exp(wick_hi), 2), top)
    low = np.minimum(np.round(bot * np.exp(-wick_lo), 2), bot)
    low = np.maximum(low, 0.01)
    move = np.abs(r) / sigma_day
    volume = np.round(base_volume * np.exp(rng.normal(0.0, 0.25, n)) * (0.6 + 0.35 * move * move))
    t = days.astype("datetime64[s]").astype(np.int64)
    keep = _session_mask()
    out = tuple(a[keep] for a in (t, open_, high, low, close, volume))
    for a in out:
        a.setflags(write=False)
    return out


@lru_cache(maxsize=32)
def _minute_arrays(symbol: str, last_day: np.datetime64 = DAILY_END) -> tuple[np.ndarray, ...]:
    """1-minute bars of the ``INTRADAY_DAYS`` daily bars up to ``last_day`` (the provider uses
    ``DAILY_END``; tests pick a window with holidays, an early close and a DST change)."""
    from engine.market.calendar import get_calendar  # builds exchange_calendars on first use

    cal = get_calendar(DEMO_EXCHANGE)
    t_d, o_d, h_d, l_d, c_d, v_d = _daily_arrays(symbol)
    sessions = business_days()
    end = int(np.searchsorted(sessions, sessions.dtype.type(last_day), side="right"))
    days = sessions[max(0, end - INTRADAY_DAYS):end]
    k = len(days)
    o_d, h_d, l_d, c_d, v_d = (a[end - k:end] for a in (o_d, h_d, l_d, c_d, v_d))
    rng = _rng(symbol + "/1m")
    out_t, out_o, out_h, out_l, out_c, out_v = [], [], [], [], [], []
    for j in range(k):
        minutes = cal.minutes(days[j])  # the real session: shorter on early closes
        n = len(minutes)
        u = np.linspace(-1.0, 1.0, n)
        profile = 0.6 + 1.4 * u * u  # U-shaped intraday activity
        lo0, lc = 0.0, float(np.log(c_d[j] / o_d[j]))
        lh, ll = float(np.log(h_d[j] / o_d[j])), float(np.log(l_d[j] / o_d[j]))
        steps = rng.standard_t(_T_DF, n) * _T_SCALE * np.sqrt(profile)
        walk = np.concatenate([[0.0], np.cumsum(steps)])
        bridge = walk - walk[-1] * np.linspace(0.0, 1.0, n + 1)  # 0 at both ends
        scale = max(lh - ll, 1e-4) / max(bridge.max() - bridge.min(), 1e-12) * 0.6
        path = lo0 + (lc - lo0) * np.linspace(0.0, 1.0, n + 1) + bridge * scale
        mo, mc = path[:-1], path[1:]
        wick = np.abs(rng.normal(0.0, 0.3, (2, n))) * scale * np.sqrt(profile)
        mh = np.maximum(mo, mc) + wick[0]
        ml = np.minimum(mo, mc) - wick[1]
        # Monotone piecewise-linear map so the minutes reach exactly the day's high/low.
        top, bot = max(lo0, lc), min(lo0, lc)
        pmax, pmin = float(mh.max()), float(ml.min())

        def fmap(x: np.ndarray, top: float = top, bot: float = bot, pmax: float = pmax,
                 pmin: float = pmin, lh: float = lh, ll: float = ll) -> np.ndarray:
            y = x.copy()
            hi = x > top
            lo = x < bot
            y[hi] = top + (x[hi] - top) * ((lh - top) / (pmax - top) if pmax > top else 0.0)
            y[lo] = bot - (bot - x[lo]) * ((bot - ll) / (bot - pmin) if pmin < bot else 0.0)
            return y

        base = o_d[j]
        po = np.round(base * np.exp(fmap(mo)), 2)
        pc = np.round(base * np.exp(fmap(mc)), 2)
        ph = np.round(base * np.exp(fmap(mh)), 2)
        pl = np.round(base * np.exp(fmap(ml)), 2)
        po[0], pc[-1] = o_d[j], c_d[j]
        ph = np.minimum(np.maximum(ph, np.maximum(po, pc)), h_d[j])
        pl = np.maximum(np.minimum(pl, np.minimum(po, pc)), l_d[j])
        ph[int(np.argmax(mh))] = h_d[j]
        pl[int(np.argmin(ml))] = l_d[j]
        w = profile * rng.gamma(2.0, 1.0, n) * (1.0 + 40.0 * np.abs(np.diff(path)))
        vol = np.floor(v_d[j] * w / w.sum())
        vol[int(np.argmax(w))] += v_d[j] - vol.sum()  # minutes add up to the day
        out_t.append(minutes)
        out_o.append(po)
        out_h.append(ph)
        out_l.append(pl)
        out_c.append(pc)
        out_v.append(vol)
    arrays = tuple(np.concatenate(x) for x in (out_t, out_o, out_h, out_l, out_c, out_v))
    for a in arrays:
        a.setflags(write=False)
    return arrays


_STEP = {"1m": 60, "2m": 120, "5m": 300, "15m": 900, "30m": 1800, "60m": 3600, "1h": 3600}


def _resample(arrs: tuple[np.ndarray, ...], keys: np.ndarray) -> tuple[np.ndarray, ...]:
    """Aggregate (time, open, high, low, close, volume) over runs of equal ``keys``."""
    t, o, h, lo, c, v = arrs
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    ends = np.concatenate([starts[1:], [len(t)]]) - 1
    return (t[starts], o[starts], np.maximum.reduceat(h, starts), np.minimum.reduceat(lo, starts),
            c[ends], np.add.reduceat(v, starts))


class DemoProvider:
    """Deterministic made-up bars for the demo universe (see module docstring)."""

    name = "Demo data"
    source = "demo"
    is_demo = True

    def universe(self) -> tuple[DemoSymbol, ...]:
        return UNIVERSE

    def fetch(self, symbol: str, timeframe: str = "1d", start: int | None = None,
              end: int | None = None) -> Bars:
        """Demo bars of ``symbol`` with ``start <= time < end`` (UTC epoch seconds).

        Raises ``UnknownSymbolError`` for a symbol outside the demo universe and
        ``DataError`` for an unknown timeframe.
        """
        sym = symbol.upper()
        if sym not in _BY_SYMBOL:
            raise UnknownSymbolError(self.name, symbol, "not one of the demo symbols")
        if timeframe not in TIMEFRAMES:
            raise DataError(f"Unknown timeframe {timeframe!r}; use one of {', '.join(TIMEFRAMES)}.")
        if timeframe in INTRADAY:
            arrs = _minute_arrays(sym)
            if timeframe != "1m":
                step = _STEP[timeframe]
                arrs = _resample(arrs, keys=arrs[0] // step)
        else:
            arrs = _daily_arrays(sym)
            if timeframe == "1wk":
                d = arrs[0] // 86400  # 1970-01-01 was a Thursday: shift to Monday-based weeks
                arrs = _resample(arrs, keys=(d + 3) // 7)
            elif timeframe == "1mo":
                arrs = _resample(arrs, keys=arrs[0].astype("datetime64[s]").astype("datetime64[M]")
                                 .astype(np.int64))
        t = arrs[0]
        i = 0 if start is None else int(np.searchsorted(t, start, side="left"))
        j = len(t) if end is None else int(np.searchsorted(t, end, side="left"))
        t, o, h, lo, c, v = (a[i:j] for a in arrs)
        return Bars(sym, timeframe, t, o, h, lo, c, v, source="demo", meta={"name": _BY_SYMBOL[sym].name})


def describe(symbol: str) -> DemoSymbol | None:
    """Name and sector of a demo symbol, or None."""
    return _BY_SYMBOL.get(symbol.upper())
