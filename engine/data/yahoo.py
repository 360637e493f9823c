"""Yahoo Finance bars through ``yfinance``, rate limited, with retries and clear errors.

``yfinance.download`` does not raise when it fails: it logs the error and returns an
empty frame. ``YahooProvider`` therefore listens to the ``yfinance`` logger during the
call and turns what it hears (and any exception that does escape, such as curl_cffi's
``RequestsError`` or requests' ``ConnectionError``, both ``OSError``) into one of:

- ``NoNetworkError`` -- host not resolvable, connection refused/reset, timeouts;
- ``UnknownSymbolError`` -- "possibly delisted", "no timezone found", "Quote not found";
- ``RateLimitedError`` -- "Too Many Requests" (retried first, see below);
- ``EmptyResponseError`` -- an empty frame and nothing said.

Politeness: at most one request per ``min_interval`` seconds (a token bucket of one
token); transient failures (rate limiting, timeouts, resets) are retried up to
``max_retries`` times after ``base_delay * 2**attempt`` seconds with full jitter, capped
at ``max_delay``. The clock, sleep and random source are injectable so tests run
instantly, as is the download function (tests pass recorded frames; never the network).

Frames are accepted in every layout yfinance 1.x produces: (Price, Ticker) MultiIndex
columns (the default, ``multi_level_index=True``) or flat ones, with or without
``Adj Close`` (absent with the default ``auto_adjust=True``), tz-naive dates for daily
bars and tz-aware exchange-time indexes for intraday bars.
"""
from __future__ import annotations

import logging
import random
import threading
import time as _time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.data.bars import INTRADAY, TIMEFRAMES, Bars
from engine.data.errors import (
    DataError,
    EmptyResponseError,
    NoNetworkError,
    ProviderError,
    RateLimitedError,
    UnknownSymbolError,
)

log = logging.getLogger(__name__)

NAME = "Yahoo Finance"
DownloadFn = Callable[..., Any]

# How far back Yahoo serves each intraday interval (days); requests beyond are refused.
INTRADAY_LOOKBACK_DAYS = {"1m": 7, "2m": 59, "5m": 59, "15m": 59, "30m": 59, "60m": 729, "1h": 729}
_YF_INTERVAL = {"1h": "60m"}

_NO_NETWORK = ("could not resolve", "resolve host", "dnserror", "name or service not known",
               "temporary failure in name resolution", "failed to connect", "connection refused",
               "network is unreachable", "no route to host", "connectionerror", "nodename nor servname")
_TRANSIENT = ("timed out", "timeout", "connection reset", "connection aborted", "remote end closed",
              "502", "503", "504", "bad gateway", "service unavailable")
_RATE = ("too many requests", "rate limit", "yfratelimiterror", "429")
_UNKNOWN = ("possibly delisted", "no timezone found", "quote not found", "no data found",
            "symbol may be delisted", "not found", "invalid ticker")


class _Transient(Exception):
    """A failure worth retrying (wraps the error to raise if retries run out)."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(str(error))
        self.error = error


class RateLimiter:
    """At most one request per ``min_interval`` seconds (one-token bucket)."""

    def __init__(self, min_interval: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.min_interval = min_interval
        self.clock = clock
        self.sleep = sleep
        self._next = -float("inf")
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until a request may go out; returns the seconds waited."""
        with self._lock:
            now = self.clock()
            delay = max(0.0, self._next - now)
            if delay > 0:
                self.sleep(delay)
                now += delay
            self._next = now + self.min_interval
            return delay


class _LogCatcher(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # noqa: BLE001 - a badly formatted record must not break the fetch
            self.messages.append(str(record.msg))


_cache_lock = threading.Lock()
_cache_dir: Path | None = None  # where yfinance's caches were last pointed


def yfinance_cache_dir() -> Path:
    """The folder for yfinance's own caches: ``<data dir>/cache/yfinance``."""
    from engine import paths

    return paths.data_dir() / "cache" / "yfinance"


def use_data_dir_cache(yf: Any) -> Path:
    """Point yfinance's caches (time zones, cookies, ISINs) into the data folder.

    yfinance keeps them in ``~/.cache/py-yfinance`` unless told otherwise; the app keeps
    every file in its data folder instead. Called before each download, so it follows a
    data folder changed at run time; re-pointing only when the folder changed keeps
    yfinance's open cache databases. Returns the folder (created by yfinance when used).
    """
    global _cache_dir
    folder = yfinance_cache_dir()
    with _cache_lock:
        if folder != _cache_dir:
            yf.set_tz_cache_location(str(folder))  # sets the cookie and ISIN caches too
            _cache_dir = folder
    return folder


def _default_download(**kwargs: Any) -> Any:
    import warnings

    import yfinance as yf

    use_data_dir_cache(yf)
    with warnings.catch_warnings():
        # yfinance 1.x trips pandas' deprecation warnings on every call; not ours to fix.
        warnings.simplefilter("ignore")
        return yf.download(**kwargs)


def _classify(symbol: str, text: str | list[str]) -> ProviderError | _Transient | None:
    """The error that messages (yfinance log lines or an exception text) point to, if any."""
    messages = [text] if isinstance(text, str) else text
    for keys, make in (
        (_RATE, lambda m: _Transient(RateLimitedError(NAME))),
        (_NO_NETWORK, lambda m: NoNetworkError(NAME, _short(m))),
        (_TRANSIENT, lambda m: _Transient(NoNetworkError(NAME, _short(m)))),
        (_UNKNOWN, lambda m: UnknownSymbolError(NAME, symbol, _short(m))),
    ):
        for msg in messages:
            low = msg.lower()
            if any(k in low for k in keys):
                return make(msg)
    return None


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def frame_to_arrays(df: pd.DataFrame, symbol: str) -> tuple[np.ndarray, ...] | None:
    """(time, open, high, low, close, volume) from a yfinance frame, or None if it is empty.

    Accepts (Price, Ticker) or (Ticker, Price) MultiIndex columns and flat columns; uses
    Close (with ``auto_adjust=True`` it is already adjusted, and ``Adj Close`` is then
    absent). Rows whose prices are all NaN (Yahoo sends such for halted days) are dropped.
    Times become UTC epoch seconds; tz-naive indexes are taken as dates/UTC.
    """
    if df is None or len(df) == 0:
        return None
    frame = df
    if isinstance(frame.columns, pd.MultiIndex):
        price_level = None
        for lvl in range(frame.columns.nlevels):
            vals = {str(v).lower() for v in frame.columns.get_level_values(lvl)}
            if "close" in vals:
                price_level = lvl
                break
        if price_level is None:
            raise EmptyResponseError(NAME, symbol, "the answer has no Close column")
        other = [lvl for lvl in range(frame.columns.nlevels) if lvl != price_level]
        if other:
            tickers = list(dict.fromkeys(frame.columns.get_level_values(other[0])))
            pick = symbol.upper() if symbol.upper() in tickers else tickers[0]
            frame = pd.DataFrame(frame.xs(pick, axis=1, level=other[0]))
        frame.columns = [str(c) for c in frame.columns]
    cols = {str(c).lower().replace(" ", ""): c for c in frame.columns}
    missing = [k for k in ("open", "high", "low", "close") if k not in cols]
    if missing:
        raise EmptyResponseError(NAME, symbol, "the answer lacks " + ", ".join(missing))
    o = frame[cols["open"]].to_numpy(dtype=np.float64, na_value=np.nan)
    h = frame[cols["high"]].to_numpy(dtype=np.float64, na_value=np.nan)
    lo = frame[cols["low"]].to_numpy(dtype=np.float64, na_value=np.nan)
    c = frame[cols["close"]].to_numpy(dtype=np.float64, na_value=np.nan)
    v = (frame[cols["volume"]].to_numpy(dtype=np.float64, na_value=np.nan)
         if "volume" in cols else np.zeros(len(frame)))
    idx = pd.DatetimeIndex(frame.index)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    t: np.ndarray = np.asarray(idx.as_unit("s").asi8, dtype=np.int64)
    keep = ~(np.isnan(o) & np.isnan(h) & np.isnan(lo) & np.isnan(c))
    keep &= ~np.isnan(c)
    if not keep.all():
        t, o, h, lo, c, v = (a[keep] for a in (t, o, h, lo, c, v))
    if len(t) == 0:
        return None
    o = np.where(np.isnan(o), c, o)
    h = np.where(np.isnan(h), np.maximum(o, c), h)
    lo = np.where(np.isnan(lo), np.minimum(o, c), lo)
    v = np.where(np.isnan(v), 0.0, v)
    order = np.argsort(t, kind="stable")
    t, o, h, lo, c, v = (a[order] for a in (t, o, h, lo, c, v))
    dup = np.concatenate([np.diff(t) == 0, [False]])  # keep the last of equal times
    if dup.any():
        t, o, h, lo, c, v = (a[~dup] for a in (t, o, h, lo, c, v))
    return t, o, h, lo, c, v


class YahooProvider:
    """Bars from Yahoo Finance (see module docstring for errors, pacing and retries)."""

    name = NAME
    source = "yahoo"
    is_demo = False

    def __init__(
        self,
        download: DownloadFn | None = None,
        *,
        min_interval: float = 0.5,
        max_retries: int = 3,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        clock: Callable[[], float] = _time.monotonic,
        sleep: Callable[[float], None] = _time.sleep,
        now: Callable[[], float] = _time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._download = download or _default_download
        self.limiter = RateLimiter(min_interval, clock, sleep)
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self._now = now
        self._rng = rng or random.Random()
        self._lock = threading.Lock()  # the log catcher sees one download at a time

    # ------------------------------------------------------------------ public
    def fetch(self, symbol: str, timeframe: str = "1d", start: int | None = None,
              end: int | None = None) -> Bars:
        """Bars of ``symbol`` from ``start`` (inclusive) to ``end`` (exclusive), UTC epoch seconds.

        With ``start=None``: all history for daily and longer bars, the most Yahoo serves
        for intraday ones (``INTRADAY_LOOKBACK_DAYS``). Raises ``NoNetworkError``,
        ``UnknownSymbolError``, ``EmptyResponseError``, ``RateLimitedError`` or
        ``DataError`` (unknown timeframe).
        """
        if timeframe not in TIMEFRAMES:
            raise DataError(f"Unknown timeframe {timeframe!r}; use one of {', '.join(TIMEFRAMES)}.")
        sym = symbol.strip().upper()
        kwargs = self._request(sym, timeframe, start, end)
        arrays = self._with_retries(sym, kwargs)
        t = arrays[0]
        keep = np.ones(len(t), bool)
        if start is not None:
            keep &= t >= int(start) - (int(start) % 86400 if timeframe not in INTRADAY else 0)
        if end is not None:
            keep &= t < int(end)
        if not keep.all():
            arrays = tuple(a[keep] for a in arrays)
        if timeframe not in INTRADAY:
            t0 = arrays[0]
            arrays = (t0 - t0 % 86400, *arrays[1:])
        t, o, h, lo, c, v = arrays
        return Bars.from_arrays(sym, timeframe, t, o, h, lo, c, v, source="yahoo")

    # ------------------------------------------------------------------ internals
    def _request(self, sym: str, timeframe: str, start: int | None, end: int | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(
            tickers=sym, interval=_YF_INTERVAL.get(timeframe, timeframe), auto_adjust=True,
            actions=False, progress=False, threads=False, multi_level_index=True, timeout=10,
        )
        if timeframe in INTRADAY:
            lookback = INTRADAY_LOOKBACK_DAYS[timeframe]
            earliest = int(self._now()) - lookback * 86400
            s = earliest if start is None else max(int(start), earliest)
            kwargs["start"] = pd.Timestamp(s, unit="s", tz="UTC").to_pydatetime()
            if end is not None:
                kwargs["end"] = pd.Timestamp(int(end), unit="s", tz="UTC").to_pydatetime()
        else:
            if start is None:
                kwargs["period"] = "max"
            else:
                kwargs["start"] = str(np.datetime64(int(start), "s").astype("datetime64[D]"))
            if end is not None:
                # yfinance's end is an exclusive date: round up so the day of ``end`` counts.
                kwargs["end"] = str((np.datetime64(int(end) - 1, "s").astype("datetime64[D]") + 1))
        return kwargs

    def _with_retries(self, sym: str, kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
        attempt = 0
        while True:
            self.limiter.wait()
            try:
                return self._once(sym, kwargs)
            except _Transient as tr:
                if attempt >= self.max_retries:
                    err = tr.error
                    if isinstance(err, RateLimitedError):
                        raise RateLimitedError(NAME, attempt + 1) from None
                    raise err from None
                delay = min(self.max_delay, self.base_delay * (2 ** attempt))
                delay = self._rng.uniform(0.0, delay)  # full jitter
                log.info("Yahoo %s: %s; retrying in %.1f s", sym, tr, delay)
                self._sleep(delay)
                attempt += 1

    def _once(self, sym: str, kwargs: dict[str, Any]) -> tuple[np.ndarray, ...]:
        catcher = _LogCatcher()
        yf_log = logging.getLogger("yfinance")
        with self._lock:
            # Hear yfinance's error lines even if the app silenced its logger, and keep
            # them off the console: they come back as one clear exception instead.
            saved = (yf_log.level, yf_log.propagate)
            if yf_log.getEffectiveLevel() > logging.WARNING:
                yf_log.setLevel(logging.WARNING)
            yf_log.propagate = False
            yf_log.addHandler(catcher)
            try:
                df = self._download(**kwargs)
            except OSError as exc:  # curl_cffi RequestsError and requests ConnectionError included
                kind = _classify(sym, f"{type(exc).__name__}: {exc}")
                if isinstance(kind, (ProviderError, _Transient)) and not isinstance(kind, UnknownSymbolError):
                    raise kind from exc
                raise _Transient(NoNetworkError(NAME, _short(str(exc)))) from exc
            except Exception as exc:  # noqa: BLE001 - yfinance's own exceptions
                kind = _classify(sym, f"{type(exc).__name__}: {exc}")
                if kind is not None:
                    raise kind from exc
                raise EmptyResponseError(NAME, sym, _short(f"{type(exc).__name__}: {exc}")) from exc
            finally:
                yf_log.removeHandler(catcher)
                yf_log.setLevel(saved[0])
                yf_log.propagate = saved[1]
                for msg in catcher.messages:
                    log.debug("yfinance said: %s", msg)
        arrays = frame_to_arrays(df, sym) if isinstance(df, pd.DataFrame) else None
        if arrays is not None:
            return arrays
        kind = _classify(sym, catcher.messages)
        if kind is not None:
            raise kind
        said = " | ".join(catcher.messages)
        raise EmptyResponseError(NAME, sym, _short(said) if said else "")
