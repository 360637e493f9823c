"""``DataService``: the one object the app, widgets, CLI and other engines get bars from.

It owns the bar cache (``BarStore``) and the providers: demo data (the default, so the
app works offline on first start), Yahoo Finance, and CSV/DataFrame imports. Every
bar that reaches the user goes through the store, so imported and downloaded symbols
survive a restart; each write publishes ``engine.data.events.BarsUpdated`` on the bus the
service was given.

Cache rules (``get_bars``):

- a cached series is returned as it is unless ``refresh=True``; with the Yahoo source a
  cached *demo* series does not count (real and made-up bars are never mixed);
- demo source: a demo symbol not yet cached is generated and cached; other symbols must
  have been imported;
- Yahoo source, refresh: only what is new is fetched -- from the cached last bar on
  (inclusive, so a bar stored mid-session is completed) -- and merged into the cache;
- a timeframe the source cannot give for the symbol (any timeframe of an imported CSV
  symbol other than the imported one, 4h from demo data or Yahoo) is built from the finest
  stored bars that can make it (``engine.charts.resample``: session-aligned, open of first,
  max high, min low, close of last, summed volume). Built bars are not stored: they follow
  their source bars, and ``meta["built_from"]`` names the timeframe they came from.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine import events
from engine.data import demo as _demo
from engine.data.bar_store import BarStore, SeriesInfo, SymbolRecord
from engine.data.bars import INTRADAY, TIMEFRAMES, Bars
from engine.data.events import BarsUpdated
from engine.data.loaded_cache import LoadedCache
from engine.data.errors import DataError, EmptyResponseError, ProviderError, UnknownSymbolError
from engine.data.symbols import normalize_symbol
from engine.progress import Progress
from engine.store.db import CorruptChunk, Database
from engine.store.kv import KeyValueStore

if TYPE_CHECKING:  # pandas/yfinance cost ~0.5 s to import: loaded when first needed
    import pandas as pd

    from engine.data.yahoo import YahooProvider

log = logging.getLogger(__name__)

SOURCES = ("demo", "yahoo")
_SOURCE_KEY = "data.source"
#: Cached Yahoo bars are topped up when opened if the last bar is older than one bar of its
#: timeframe, at most once per RECHECK_S per (symbol, timeframe).
RECHECK_S = 60.0
_BAR_SECONDS = {"1m": 60, "2m": 120, "5m": 300, "15m": 900, "30m": 1800, "60m": 3600, "1h": 3600,
                "4h": 14_400, "1d": 86_400, "1wk": 7 * 86_400, "1mo": 28 * 86_400}
#: Timeframes the providers serve themselves (anything else is built from finer bars).
_NATIVE = {"demo": frozenset(TIMEFRAMES) - {"4h"}, "yahoo": frozenset(_BAR_SECONDS) - {"4h"}}


def _iso(ts: int, timeframe: str) -> str:
    import numpy as np

    d = np.datetime64(int(ts), "s")
    return str(d) if timeframe in INTRADAY else str(d.astype("datetime64[D]"))


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import stored. ``first``/``last``: ``YYYY-MM-DD`` (daily) or ``YYYY-MM-DDTHH:MM:SS`` (UTC)."""

    symbol: str
    timeframe: str
    rows: int
    first: str
    last: str
    source: str = "csv"
    layout: str = ""
    notes: tuple[str, ...] = ()
    skipped: int = 0  # rows left out on purpose (Yahoo's all-"null" rows; said in ``notes``)

    def to_dict(self) -> dict[str, object]:
        """The stable JSON keys: ``symbol, timeframe, rows, first, last``."""
        return {"symbol": self.symbol, "timeframe": self.timeframe, "rows": self.rows,
                "first": self.first, "last": self.last}


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    """A symbol the user can open: where its bars come from and which timeframes are cached."""

    symbol: str
    name: str
    source: str
    timeframes: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class SymbolCheck:
    """The answer of ``DataService.check_symbol``: ``ok`` the symbol may be added; ``message``
    why it was refused, or (with ``ok``) a warning such as "could not be checked"."""

    symbol: str
    ok: bool
    message: str = ""


class DataService:
    """Bars for everyone: cache first, then the active source (see module docstring)."""

    def __init__(
        self,
        db: Database,
        source: str = "demo",
        *,
        bus: events.EventBus,
        yahoo: YahooProvider | None = None,
    ) -> None:
        if source not in SOURCES:
            raise DataError(f"Unknown data source {source!r}; use one of {', '.join(SOURCES)}.")
        self.db = db
        self.store = BarStore(db)
        self.bus = bus
        self.demo = _demo.DemoProvider()
        self._yahoo = yahoo
        self._source = source
        self._lock = threading.Lock()
        #: wall clock in epoch seconds (tests replace it)
        self.clock: Callable[[], float] = time.time
        self._checked: dict[tuple[str, str], float] = {}
        #: (symbol, timeframe) whose last automatic top-up failed, with why (cache shown instead)
        self._failed: dict[tuple[str, str], str] = {}
        #: stored series read back, and timeframes built from them, by the store's fingerprint
        self._loaded = LoadedCache()

    # ------------------------------------------------------------------ construction
    @classmethod
    def open_default(cls, source: str | None = None, bus: events.EventBus | None = None) -> DataService:
        """The service over the default local store (``engine.paths``); the source is
        ``source``, else the one saved by ``set_source``, else "demo". Without ``bus`` the
        service gets a bus of its own (headless use: nobody else listens).

        Raises ``DataDirError``/``StoreError`` when the store cannot be opened.
        """
        from engine.store.db import open_database

        return cls.open_default_on(open_database(), source, bus=bus if bus is not None else events.EventBus())

    @classmethod
    def open_default_on(cls, db: Database, source: str | None = None, *,
                        bus: events.EventBus) -> DataService:
        """The service over ``db`` with ``source``, else the one saved by ``set_source``, else "demo"."""
        if source is None:
            saved = KeyValueStore(db).get(_SOURCE_KEY)
            source = saved if saved in SOURCES else "demo"
        return cls(db, source=source, bus=bus)

    # ------------------------------------------------------------------ source
    @property
    def source(self) -> str:
        """The active source: "demo" or "yahoo"."""
        return self._source

    @property
    def yahoo(self) -> YahooProvider:
        if self._yahoo is None:
            from engine.data.yahoo import YahooProvider

            self._yahoo = YahooProvider()
        return self._yahoo

    def set_source(self, source: str) -> None:
        """Switch the active source ("demo" | "yahoo") and remember it in the store."""
        if source not in SOURCES:
            raise DataError(f"Unknown data source {source!r}; use one of {', '.join(SOURCES)}.")
        self._source = source
        KeyValueStore(self.db).set(_SOURCE_KEY, source)

    # ------------------------------------------------------------------ bars
    def load(self, symbol: str, timeframe: str = "1d") -> Bars:
        """The cached bars of (symbol, timeframe); raises ``DataError`` if none are cached."""
        sym = normalize_symbol(symbol)
        fp = self.store.fingerprint(sym, timeframe)
        key = ("stored", sym, timeframe, fp)
        bars = self._loaded.get(key) if fp is not None else None
        if bars is not None:
            return bars  # the series has not been written since it was read: the same bars
        bars = self.store.load(sym, timeframe)
        if bars is None:
            raise DataError(
                f"No {timeframe} bars of {sym} are stored. Import a CSV, or refresh it from a data source."
            )
        self._loaded.put(key, bars)
        return bars

    def cached(self, symbol: str, timeframe: str = "1d") -> SeriesInfo | None:
        """What the cache holds for (symbol, timeframe), or None."""
        return self.store.info(normalize_symbol(symbol), timeframe)

    def stored_timeframes(self, symbol: str) -> tuple[str, ...]:
        """The timeframes of ``symbol`` with bars in the store that the active source uses,
        finest first ("1m" before "1d"); demo bars do not count while the source is Yahoo
        (``get_bars`` never mixes them in). Read-only; () for a symbol with nothing stored
        or one that is not a valid symbol."""
        try:
            sym = normalize_symbol(symbol)
        except DataError:
            return ()
        order = {tf: i for i, tf in enumerate(TIMEFRAMES)}
        found = [s.timeframe for s in self.store.series()
                 if s.symbol == sym and s.rows > 0 and (self._source == "demo" or s.source != "demo")]
        return tuple(sorted(found, key=lambda tf: (order.get(tf, len(order)), tf)))

    def get_bars(self, symbol: str, timeframe: str = "1d", refresh: bool = False) -> Bars:
        """Bars of ``symbol``: from the cache, else (or with ``refresh``) from the active source.

        Raises ``DataError`` subclasses: ``UnknownSymbolError`` (not a demo symbol in
        demo mode, or unknown to Yahoo), ``NoNetworkError``, ``RateLimitedError``, ... A cached
        series that fails its checksum is fetched again when it came from the active source;
        otherwise its ``CorruptChunk`` (a ``StoreError``) says to re-import it.
        """
        try:
            return self._get_bars(symbol, timeframe, refresh)
        except CorruptChunk as exc:
            info = self.store.info(exc.symbol, exc.timeframe)
            if info is None or info.source != self._source:
                raise
            log.warning("%s Fetching it again from %s.", exc, self._source)
            self.store.delete(exc.symbol, exc.timeframe)
            return self._get_bars(symbol, timeframe, refresh)

    def _get_bars(self, symbol: str, timeframe: str, refresh: bool) -> Bars:
        sym = normalize_symbol(symbol)
        info = self.store.info(sym, timeframe)
        if info is None or (refresh and not self._native(sym, timeframe)):
            built = self._build(sym, timeframe, refresh)
            if built is not None:
                return built
        if self._source == "demo":
            if info is not None and not (refresh and info.source == "demo"):
                return self.load(sym, timeframe)
            if not _demo.is_demo_symbol(sym):
                raise UnknownSymbolError(
                    "Demo data", sym,
                    "demo mode knows only the demo symbols; import a CSV or switch the source to Yahoo",
                )
            bars = self.demo.fetch(sym, timeframe)
            self._store(bars, replace=True)
            return bars
        # yahoo
        usable = info is not None and info.source != "demo"
        key = (sym, timeframe)
        if usable and not refresh and not self._due(key, info):
            return self.load(sym, timeframe)
        self._checked[key] = self.clock()
        if usable:
            assert info is not None
            try:
                new = self.yahoo.fetch(sym, timeframe, start=info.last_ts)
            except (EmptyResponseError, UnknownSymbolError) as exc:
                # Nothing new since the last bar (a weekend, a holiday): not an error.
                log.info("no new %s bars of %s: %s", timeframe, sym, exc)
                self._failed.pop(key, None)
                return self.load(sym, timeframe)
            except ProviderError as exc:
                if refresh:
                    raise
                # An automatic top-up that fails (offline, rate limited) keeps the cache.
                log.warning("could not update %s %s, showing cached bars: %s", sym, timeframe, exc)
                self._failed[key] = str(exc)
                return self.load(sym, timeframe)
            self._failed.pop(key, None)
            if len(new):
                self._store(new, replace=False)
            return self.load(sym, timeframe)
        bars = self.yahoo.fetch(sym, timeframe)
        if len(bars) == 0:
            raise EmptyResponseError("Yahoo Finance", sym)
        self._store(bars, replace=True)
        return self.load(sym, timeframe)

    def _native(self, sym: str, timeframe: str) -> bool:
        """True when the active source itself serves ``timeframe`` bars of ``sym``: a demo
        symbol in demo mode, a symbol not imported from CSV with Yahoo; never 4h."""
        if timeframe not in _NATIVE[self._source]:
            return False
        if self._source == "demo":
            return _demo.is_demo_symbol(sym)
        return not any(s.symbol == sym and s.source == "csv" for s in self.store.series())

    def _build(self, sym: str, timeframe: str, refresh: bool) -> Bars | None:
        """``timeframe`` bars of ``sym`` built from the finest stored (or, for 4h, fetchable)
        finer bars, when the source does not serve that timeframe; None to go on as before."""
        if self._native(sym, timeframe):
            return None
        from engine.charts.resample import finest, resample

        stored = [s.timeframe for s in self.store.series()
                  if s.symbol == sym and (self._source == "demo" or s.source != "demo")]
        base = finest(stored, timeframe)
        if base is None:
            fetchable = [tf for tf in ("1m", "60m") if self._native(sym, tf)]
            base = finest(fetchable, timeframe) if timeframe == "4h" else None
        if base is None:
            if stored:
                raise DataError(f"No {timeframe} bars of {sym} are stored, and its stored bars "
                                f"({', '.join(sorted(stored))}) cannot make them; import {timeframe} "
                                "or shorter bars.")
            return None
        source_bars = (self.get_bars(sym, base, refresh) if self._native(sym, base)
                       else self.load(sym, base))
        key = ("built", sym, base, timeframe, self.store.fingerprint(sym, base))
        built = self._loaded.get(key)
        if built is not None:
            return built  # built before from the very same stored bars
        try:
            built = resample(source_bars, timeframe)
        except ValueError as exc:
            raise DataError(f"{timeframe} bars of {sym} cannot be built from its {base} bars: {exc}.") from exc
        self._loaded.put(key, built)
        return built

    def update_failed(self, symbol: str, timeframe: str = "1d") -> str:
        """Why the last automatic top-up of (symbol, timeframe) from Yahoo failed (so
        ``get_bars`` returned the cached bars, which may be stale); "" when it did not."""
        if self._source != "yahoo":
            return ""
        return self._failed.get((normalize_symbol(symbol), timeframe), "")

    def _due(self, key: tuple[str, str], info: SeriesInfo | None) -> bool:
        """True when cached Yahoo bars should be topped up: the last bar is older than one
        bar of the timeframe and the last attempt is more than ``RECHECK_S`` ago."""
        if info is None:
            return True
        now = self.clock()
        if now - self._checked.get(key, float("-inf")) < RECHECK_S:
            return False
        return now - info.last_ts > _BAR_SECONDS.get(key[1], 86_400)

    def refresh_many(
        self, symbols: Iterable[str], timeframe: str = "1d"
    ) -> Generator[Progress, None, dict[str, Bars | DataError]]:
        """Refresh each symbol from the active source; a generator for the worker pattern.

        Yields ``Progress(done, total, text)`` before each symbol and once at the end;
        returns ``{symbol: Bars or the DataError it raised}``. Closing the generator
        stops after the symbol in progress (what is stored stays stored).
        """
        syms = list(dict.fromkeys(s.strip().upper() for s in symbols if s.strip()))
        results: dict[str, Bars | DataError] = {}
        total = len(syms)
        for i, sym in enumerate(syms):
            yield Progress(i, total, f"Refreshing {sym} ({timeframe})")
            try:
                results[sym] = self.get_bars(sym, timeframe, refresh=True)
            except DataError as exc:
                results[sym] = exc
        failed = sum(isinstance(v, DataError) for v in results.values())
        yield Progress(total, total, f"Refreshed {total - failed} of {total}"
                       + (f", {failed} failed" if failed else ""))
        return results

    # ------------------------------------------------------------------ imports
    def import_csv(self, path: str | Path, symbol: str | None = None,
                   timeframe: str | None = None) -> ImportResult:
        """Import a bar CSV into the store (replacing that symbol's bars of that timeframe).

        The whole file is validated first; on any problem ``CsvFormatError`` lists them
        with line numbers and the store is unchanged. Returns what was stored.
        """
        from engine.data.csv_import import read_bars_csv

        parsed = read_bars_csv(path, symbol=symbol, timeframe=timeframe)
        bars = parsed.bars
        self._store(bars, replace=True, record=SymbolRecord(bars.symbol, source="csv"))
        for note in parsed.notes:
            log.info("import %s: %s", Path(path).name, note)
        return ImportResult(bars.symbol, bars.timeframe, len(bars), _iso(int(bars.time[0]), bars.timeframe),
                            _iso(int(bars.time[-1]), bars.timeframe), "csv", parsed.layout, parsed.notes,
                            parsed.skipped_rows)

    def import_frame(self, df: pd.DataFrame, symbol: str, timeframe: str | None = None,
                     source: str = "csv") -> ImportResult:
        """Import an OHLCV DataFrame (DatetimeIndex or Date column) like ``import_csv``.

        Problems are reported with 1-based row numbers (``CsvFormatError``); nothing is
        stored unless all rows are valid.
        """
        from engine.data.csv_import import frame_to_bars

        bars, notes = frame_to_bars(df, symbol, timeframe, source=source)
        self._store(bars, replace=True, record=SymbolRecord(bars.symbol, source=source))
        return ImportResult(bars.symbol, bars.timeframe, len(bars), _iso(int(bars.time[0]), bars.timeframe),
                            _iso(int(bars.time[-1]), bars.timeframe), source, "frame", notes)

    # ------------------------------------------------------------------ symbols
    def check_symbol(self, symbol: str) -> SymbolCheck:
        """Whether ``symbol`` can be shown with the active source, before a list takes it.

        Demo: a demo symbol or one with cached (imported) bars. Yahoo: cached non-demo bars,
        else a quick lookup (one daily download, cached like any other). Offline or rate
        limited, the symbol is accepted with a warning that it could not be checked. Never
        raises for a bad symbol: the answer's ``message`` says why it was refused.
        """
        try:
            sym = normalize_symbol(symbol)
        except DataError as exc:
            return SymbolCheck(str(symbol).strip().upper(), False, str(exc))
        cached = [s for s in self.store.series() if s.symbol == sym]
        if self._source == "demo":
            if _demo.is_demo_symbol(sym) or cached:
                return SymbolCheck(sym, True)
            return SymbolCheck(sym, False, f"{sym} is not a demo symbol; demo mode knows only the demo "
                                           "symbols (import a CSV, or switch the source to Yahoo Finance "
                                           "in Settings → Data source).")
        if any(s.source != "demo" for s in cached):
            return SymbolCheck(sym, True)
        try:
            self.get_bars(sym, "1d")
        except (UnknownSymbolError, EmptyResponseError):
            return SymbolCheck(sym, False, f"Yahoo Finance does not know the symbol {sym}.")
        except ProviderError as exc:
            return SymbolCheck(sym, True, f"{sym} could not be checked ({exc}); it was added anyway.")
        except DataError as exc:
            return SymbolCheck(sym, False, str(exc))
        return SymbolCheck(sym, True)

    def demo_symbols(self) -> list[str]:
        """The tickers of the demo universe."""
        return _demo.demo_symbols()

    def symbols(self) -> list[SymbolInfo]:
        """Every symbol the user can open: cached or imported ones, plus (in demo mode) the
        demo universe. Sorted by symbol."""
        series = self.store.series()
        records = {r.symbol: r for r in self.store.symbol_records()}
        tfs: dict[str, list[str]] = {}
        src: dict[str, str] = {}
        for s in series:
            tfs.setdefault(s.symbol, []).append(s.timeframe)
            src.setdefault(s.symbol, s.source)
        out: dict[str, SymbolInfo] = {}
        if self._source == "demo":
            for d in _demo.UNIVERSE:
                out[d.symbol] = SymbolInfo(d.symbol, d.name, "demo", tuple(tfs.get(d.symbol, ())))
        for sym in set(tfs) | set(records):
            rec = records.get(sym)
            demo_info = _demo.describe(sym)
            name = (rec.name if rec and rec.name else (demo_info.name if demo_info else ""))
            source = src.get(sym) or (rec.source if rec else "")
            if source == "demo" and self._source != "demo":
                continue
            out[sym] = SymbolInfo(sym, name, source, tuple(tfs.get(sym, ())))
        return [out[k] for k in sorted(out)]

    def search(self, text: str, limit: int = 20) -> list[SymbolInfo]:
        """Symbols for the search box: prefix matches on the symbol first (shortest first),
        then case-insensitive substring matches on the name."""
        q = text.strip()
        if not q:
            return self.symbols()[:limit]
        qu, ql = q.upper(), q.lower()
        all_syms = self.symbols()
        first = sorted((s for s in all_syms if s.symbol.startswith(qu)), key=lambda s: (len(s.symbol), s.symbol))
        seen = {s.symbol for s in first}
        second = [s for s in all_syms if s.symbol not in seen and ql in s.name.lower()]
        return (first + second)[:limit]

    # ------------------------------------------------------------------ internals
    def _store(self, bars: Bars, *, replace: bool, record: SymbolRecord | None = None) -> SeriesInfo:
        if record is None:
            d = _demo.describe(bars.symbol) if bars.source == "demo" else None
            record = SymbolRecord(bars.symbol, name=d.name if d else "", sector=d.sector if d else "",
                                  source=bars.source)
        with self._lock:  # one transaction: the bars and the symbol's directory entry
            info = (self.store.replace(bars, record, durable=bars.source != "demo") if replace
                    else self.store.merge(bars, record))
        self.bus.publish(BarsUpdated(bars.symbol, bars.timeframe, len(bars)))
        return info
