"""Option chains from Yahoo Finance (``yfinance``), cached in the local store.

``YahooChainSource.fetch`` asks ``Ticker.options`` for the expiries and
``Ticker.option_chain(expiry)`` for each of the nearest ``max_expiries`` (one request per
``min_interval`` seconds, as for bars), turns the calls/puts frames into one
``OptionChain`` (``chain_from_frames``: source "yahoo", ``delayed=True`` -- Yahoo's option
quotes are delayed ~15 minutes) and writes the raw quotes with the fetch time to the
``option_chains`` table (migration ``0008_options``). IVs and Greeks are always recomputed
from the quotes (American, from the mid): Yahoo's own ``impliedVolatility`` column is not
used. Bad rows are flagged by ``build_chain`` (crossed, zero or missing bid/ask, no IV) and
never silently used.

``ChainService.get`` is what the dock and the CLI call: the demo chain for a demo symbol in
demo mode; otherwise the cached chain while it is younger than ``max_age`` seconds, else a
fresh fetch; when the fetch fails (offline, rate limited) the cached chain comes back with
its age and the reason (``ChainResult.error``); with no cache the error is raised.

Tests pass a ``ticker`` factory that plays back recorded frames; never the network.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import threading
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.data.errors import DataError, NoNetworkError, ProviderError, RateLimitedError, UnknownSymbolError
from engine.options.chain import OptionChain, build_chain

log = logging.getLogger(__name__)

NAME = "Yahoo Finance"
DEFAULT_RATE = 0.04
#: A cached chain younger than this is shown without asking Yahoo again (seconds).
DEFAULT_MAX_AGE = 15 * 60
TickerFactory = Callable[[str], Any]

_QUOTE_COLUMNS = ("expiry", "strike", "is_call", "bid", "ask", "last", "volume", "open_interest")
_NET_WORDS = ("resolve", "connect", "network", "timed out", "timeout", "unreachable", "connection")
_RATE_WORDS = ("too many requests", "rate limit", "429")


def _default_ticker(symbol: str) -> Any:
    import yfinance as yf

    return yf.Ticker(symbol)


def _finite_or_nan(values: Any) -> np.ndarray:
    import pandas as pd

    arr = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(np.where(np.isfinite(arr), arr, np.nan), dtype=np.float64)


def _counts(values: Any) -> np.ndarray:
    arr = _finite_or_nan(values)
    return np.asarray(np.where(np.isfinite(arr) & (arr > 0), np.round(arr), 0), dtype=np.int64)


def quotes_from_frames(expiry: _dt.date, calls: Any, puts: Any) -> dict[str, np.ndarray]:
    """The quote columns of one expiry from yfinance's ``option_chain(expiry)`` frames
    (columns ``strike``, ``bid``, ``ask``, ``lastPrice``, ``volume``, ``openInterest``; NaN
    volume/open interest count as 0). Rows without a positive finite strike are dropped.
    Raises ``DataError`` when a frame lacks the strike/bid/ask columns."""
    parts: list[dict[str, np.ndarray]] = []
    for frame, is_call in ((calls, True), (puts, False)):
        if frame is None or len(frame) == 0:
            continue
        missing = [c for c in ("strike", "bid", "ask") if c not in frame.columns]
        if missing:
            raise DataError(f"Yahoo's option chain for {expiry} has no {', '.join(missing)} column.")
        k = _finite_or_nan(frame["strike"])
        keep = np.isfinite(k) & (k > 0)
        n = int(keep.sum())
        def col(name: str, frame: Any = frame, keep: np.ndarray = keep, n: int = n) -> np.ndarray:
            return _finite_or_nan(frame[name])[keep] if name in frame.columns else np.full(n, np.nan)

        parts.append({
            "expiry": np.full(n, np.datetime64(expiry, "D")),
            "strike": k[keep], "is_call": np.full(n, is_call),
            "bid": col("bid"), "ask": col("ask"), "last": col("lastPrice"),
            "volume": _counts(frame["volume"])[keep] if "volume" in frame.columns else np.zeros(n, np.int64),
            "open_interest": (_counts(frame["openInterest"])[keep] if "openInterest" in frame.columns
                              else np.zeros(n, np.int64)),
        })
    if not parts:
        dtypes: tuple[Any, ...] = ("datetime64[D]", float, bool, float, float, float, np.int64, np.int64)
        return {c: np.empty(0, dtype=d) for c, d in zip(_QUOTE_COLUMNS, dtypes)}
    return {c: np.concatenate([p[c] for p in parts]) for c in _QUOTE_COLUMNS}


def _underlying_values(underlying: Any) -> tuple[float | None, float, int | None]:
    """(spot, dividend yield, quote time) from option_chain's ``underlying`` dict."""
    if not isinstance(underlying, dict):
        return None, 0.0, None
    spot = None
    for key in ("regularMarketPrice", "postMarketPrice", "regularMarketPreviousClose"):
        v = underlying.get(key)
        if isinstance(v, (int, float)) and math.isfinite(v) and v > 0:
            spot = float(v)
            break
    q = underlying.get("trailingAnnualDividendYield")
    # a decimal; anything outside 0-20 % is not a yield we trust (Yahoo mixes percent fields)
    div = float(q) if isinstance(q, (int, float)) and math.isfinite(q) and 0.0 <= q <= 0.2 else 0.0
    ts = underlying.get("regularMarketTime")
    when = int(ts) if isinstance(ts, (int, float)) and math.isfinite(ts) and ts > 0 else None
    return spot, div, when


def _new_york_date(epoch_s: float) -> _dt.date:
    from zoneinfo import ZoneInfo

    return _dt.datetime.fromtimestamp(epoch_s, ZoneInfo("America/New_York")).date()


def chain_from_quotes(symbol: str, spot: float, as_of: _dt.date, rate: float, dividend: float,
                      quotes: dict[str, np.ndarray]) -> OptionChain:
    """A delayed Yahoo ``OptionChain`` (IV, Greeks and flags by ``build_chain``) from quote
    columns. Raises ``ValueError`` like ``build_chain``."""
    q: dict[str, Any] = dict(quotes)
    return build_chain(symbol, spot, as_of, rate, dividend, source="yahoo", delayed=True, **q)


def chain_from_frames(symbol: str, frames: dict[_dt.date, tuple[Any, Any]], underlying: Any,
                      rate: float = DEFAULT_RATE, now: float | None = None) -> OptionChain:
    """One ``OptionChain`` from recorded ``option_chain`` answers: ``frames`` maps each
    expiry to its (calls, puts) frames; spot and dividend yield come from ``underlying``.
    Raises ``DataError`` when there is no usable spot price or no contract."""
    spot, div, when = _underlying_values(underlying)
    if spot is None:
        raise DataError(f"Yahoo gave no price for {symbol}'s underlying; its chain cannot be valued.")
    as_of = _new_york_date(when if when is not None else (now if now is not None else _time.time()))
    cols = [quotes_from_frames(e, c, p) for e, (c, p) in sorted(frames.items())]
    quotes = {c: np.concatenate([q[c] for q in cols]) for c in _QUOTE_COLUMNS} if cols else {}
    if not quotes or quotes["strike"].size == 0:
        raise DataError(f"Yahoo listed no option contracts for {symbol}.")
    return chain_from_quotes(symbol, spot, as_of, rate, div, quotes)


# ------------------------------------------------------------------ the cache

def _encode(chain: OptionChain) -> str:
    def clean(a: np.ndarray) -> list[Any]:
        if a.dtype.kind == "f":
            return [None if not math.isfinite(x) else float(x) for x in a.tolist()]
        if a.dtype.kind == "M":
            return [str(x) for x in a]
        return list(a.tolist())
    return json.dumps({c: clean(getattr(chain, c)) for c in _QUOTE_COLUMNS}, separators=(",", ":"))


def _decode(text: str) -> dict[str, np.ndarray]:
    raw = json.loads(text)
    out: dict[str, np.ndarray] = {"expiry": np.array(raw["expiry"], dtype="datetime64[D]")}
    for c in ("strike", "bid", "ask", "last"):
        out[c] = np.array([np.nan if x is None else x for x in raw[c]], dtype=np.float64)
    out["is_call"] = np.array(raw["is_call"], dtype=bool)
    for c in ("volume", "open_interest"):
        out[c] = np.array(raw[c], dtype=np.int64)
    return out


@dataclass(frozen=True)
class CachedChain:
    """A chain read from the store and when it was fetched (epoch seconds)."""

    chain: OptionChain
    fetched_at: int


class ChainCache:
    """Yahoo chains in the ``option_chains`` table, one row per underlying."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def save(self, chain: OptionChain, fetched_at: int) -> None:
        """Replace ``chain.symbol``'s cached chain (one statement: all or nothing)."""
        with self.db.connect() as c:
            c.execute(
                "INSERT INTO option_chains(symbol, source, fetched_at, as_of, spot, dividend, quotes) "
                "VALUES (:s, :src, :f, :a, :spot, :q, :quotes) ON CONFLICT(symbol) DO UPDATE SET "
                "source=:src, fetched_at=:f, as_of=:a, spot=:spot, dividend=:q, quotes=:quotes",
                {"s": chain.symbol, "src": chain.source, "f": int(fetched_at), "a": chain.as_of.isoformat(),
                 "spot": chain.spot, "q": chain.dividend, "quotes": _encode(chain)})

    def load(self, symbol: str, rate: float = DEFAULT_RATE) -> CachedChain | None:
        """The cached chain of ``symbol`` (IV and Greeks recomputed), or None; a damaged
        row is logged and treated as absent."""
        with self.db.connect(write=False) as c:
            row = c.execute("SELECT fetched_at, as_of, spot, dividend, quotes FROM option_chains "
                            "WHERE symbol=:s", {"s": symbol.upper()}).fetchone()
        if row is None:
            return None
        try:
            chain = chain_from_quotes(symbol.upper(), float(row[2]), _dt.date.fromisoformat(row[1]), rate,
                                      float(row[3]), _decode(row[4]))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring the unreadable cached option chain of %s: %s", symbol, exc)
            return None
        return CachedChain(chain, int(row[0]))


# ------------------------------------------------------------------ the source

def _classify(symbol: str, exc: BaseException) -> ProviderError:
    text = f"{type(exc).__name__}: {exc}".lower()
    if any(w in text for w in _RATE_WORDS):
        return RateLimitedError(NAME)
    if isinstance(exc, OSError) or any(w in text for w in _NET_WORDS):
        return NoNetworkError(NAME, str(exc)[:160])
    return UnknownSymbolError(NAME, symbol, str(exc)[:160])


class YahooChainSource:
    """Fetches chains through ``yfinance`` (see module docstring)."""

    def __init__(self, ticker: TickerFactory | None = None, *, max_expiries: int = 12,
                 min_interval: float = 0.5, rate: float = DEFAULT_RATE,
                 clock: Callable[[], float] = _time.time, sleep: Callable[[float], None] = _time.sleep) -> None:
        if not (isinstance(max_expiries, int) and max_expiries >= 1):
            raise ValueError(f"max_expiries must be a positive integer, got {max_expiries!r}")
        if not (math.isfinite(rate) and -0.1 < rate < 1.0):
            raise ValueError(f"rate is an annual decimal (0.04 = 4 %), got {rate!r}")
        self._ticker = ticker or _default_ticker
        self.max_expiries = max_expiries
        self.min_interval = min_interval
        self.rate = rate
        self.clock = clock
        self.sleep = sleep
        self._last = -math.inf
        self._lock = threading.Lock()

    def _polite(self) -> None:
        with self._lock:
            wait = self._last + self.min_interval - _time.monotonic()
            if wait > 0:
                self.sleep(wait)
            self._last = _time.monotonic()

    def expiries(self, symbol: str) -> list[_dt.date]:
        """Yahoo's listed expiries of ``symbol``, ascending. Raises ``ProviderError``."""
        sym = symbol.strip().upper()
        self._polite()
        try:
            listed = self._ticker(sym).options
        except Exception as exc:  # noqa: BLE001 - yfinance raises many kinds; classified
            raise _classify(sym, exc) from exc
        out = []
        for text in listed or ():
            try:
                out.append(_dt.date.fromisoformat(str(text)))
            except ValueError:
                log.warning("ignoring Yahoo expiry %r of %s", text, sym)
        if not out:
            raise UnknownSymbolError(NAME, sym, "no listed options")
        return sorted(out)

    def chain(self, symbol: str, expiry: _dt.date | None = None) -> OptionChain:
        """The chain of ``symbol``: one expiry, or the nearest ``max_expiries``.
        Raises ``ProviderError`` (network, rate limit, unknown symbol) or ``DataError``."""
        sym = symbol.strip().upper()
        chosen = [expiry] if expiry is not None else self.expiries(sym)[: self.max_expiries]
        frames: dict[_dt.date, tuple[Any, Any]] = {}
        underlying: Any = None
        ticker = self._ticker(sym)
        for e in chosen:
            self._polite()
            try:
                res = ticker.option_chain(e.isoformat())
            except Exception as exc:  # noqa: BLE001 - classified
                raise _classify(sym, exc) from exc
            frames[e] = (res.calls, res.puts)
            underlying = underlying or getattr(res, "underlying", None)
        return chain_from_frames(sym, frames, underlying, rate=self.rate, now=self.clock())


# ------------------------------------------------------------------ the service

@dataclass(frozen=True)
class ChainResult:
    """What the dock shows: the chain, when its quotes were fetched (epoch s; None for the
    demo chain), whether it came from the cache, and why a refresh failed (empty if not)."""

    chain: OptionChain
    fetched_at: int | None
    from_cache: bool
    error: str = ""

    def age_seconds(self, now: float | None = None) -> float | None:
        """Seconds since the quotes were fetched (None for a demo chain)."""
        if self.fetched_at is None:
            return None
        return max(0.0, (now if now is not None else _time.time()) - self.fetched_at)

    def label(self, now: float | None = None) -> str:
        """"demo chain", "Yahoo, delayed, 3 min old" or "... (cached: offline)"."""
        if self.chain.source == "demo":
            return "demo chain (generated, not market data)"
        age = self.age_seconds(now) or 0.0
        text = f"{NAME}, delayed, {format_age(age)} old"
        if self.error:
            text += f" — cached; refresh failed: {self.error}"
        return text


def format_age(seconds: float) -> str:
    """"40 s", "12 min", "3 h", "2 days"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


class ChainService:
    """Chains for the dock and the CLI (see module docstring). ``source`` returns the app's
    data source ("demo" or "yahoo")."""

    def __init__(self, db: Any, source: Callable[[], str], yahoo: YahooChainSource | None = None,
                 *, max_age: float = DEFAULT_MAX_AGE) -> None:
        self.cache = ChainCache(db) if db is not None else None
        self.source = source
        self.yahoo = yahoo or YahooChainSource()
        self.max_age = max_age

    def get(self, symbol: str, refresh: bool = False) -> ChainResult:
        """The chain of ``symbol`` (see module docstring). Raises ``DataError`` (with a
        one-sentence message) when there is none to show."""
        from engine.data.demo import is_demo_symbol
        from engine.options.chain import demo_chain

        sym = symbol.strip().upper()
        if not sym:
            raise DataError("No symbol given for an option chain.")
        if self.source() != "yahoo":
            if not is_demo_symbol(sym):
                raise DataError(f"Demo mode has option chains only for the demo symbols, not {sym}; "
                                "switch the data source to Yahoo for real chains.")
            return ChainResult(demo_chain(sym), None, False)
        cached = self.cache.load(sym, self.yahoo.rate) if self.cache is not None else None
        now = self.yahoo.clock()
        if cached is not None and not refresh and now - cached.fetched_at < self.max_age:
            return ChainResult(cached.chain, cached.fetched_at, True)
        try:
            chain = self.yahoo.chain(sym)
        except DataError as exc:
            if cached is None:
                raise
            return ChainResult(cached.chain, cached.fetched_at, True, str(exc))
        fetched = int(now)
        if self.cache is not None:
            self.cache.save(chain, fetched)
        return ChainResult(chain, fetched, False)
