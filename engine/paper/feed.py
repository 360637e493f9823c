"""Quotes for live paper trading: the one quote path from data to the broker.

One protocol, ``QuoteSource`` (``quote(symbol, now_ms) -> Quote | None`` plus a ``label``
and a ``description`` the user is shown), and one poller, ``QuoteFeed``, used by the app,
the CLI and the tests alike. A round has two halves so that a GUI can run the slow half in
a worker:

1. ``QuoteFeed.begin()`` picks the symbols that need a quote (the target's
   ``watched_symbols()``) and the time, or returns None while a round is in flight or after
   ``close()``; ``QuoteFeed.fetch(round)`` asks the source for each symbol (any thread —
   it touches only the source; a failing symbol is logged and skipped).
2. ``QuoteFeed.apply(quotes)`` hands them to the target on the broker's thread
   (``PaperSession.apply_quotes``, or for a bare ``PaperBroker`` ``broker.on_quote`` per
   quote and then ``expire_due``); ``QuoteFeed.end()`` closes the round.

``QuoteFeed.poll()`` does all of it at once (headless use).

Sources (a quote only ever comes from the symbol's own data: with none there is no quote,
and ``no_quote_reason(symbol)`` says why in one sentence):

* ``DelayedQuotes``: from the data layer -- the last bar's close of a symbol (delayed data),
  with a bid/ask around it (``spread_bps``; bid rounded down and ask up to the cent, both
  kept inside that bar's [low, high], so no fill is at a price the data never showed).
* ``DemoQuotes``: offline demo ticks -- a deterministic random walk per symbol starting at
  the symbol's own last price (``PriceAnchor``) and reflected inside the range its data
  spans, with a spread. It is demo data: whoever shows its quotes must label them so
  (``DemoQuotes.is_demo``). A symbol without an anchor gets no quote.
* ``DataQuotes``: what the app and the CLI use -- the newest bar of the *finest timeframe
  stored* for the symbol (``DataService.stored_timeframes``): ``DemoQuotes`` anchored there
  while the data source is the demo provider, ``DelayedQuotes`` over those bars
  (``ThrottledBars``: refreshed at most once a minute per symbol) otherwise, and for a
  symbol with nothing stored the provider's 1-minute bars. Decided per call, so a change
  of data source or a new import takes effect at once.
"""
from __future__ import annotations

import hashlib
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Protocol, runtime_checkable

from engine.data.bars import Bars
from engine.paper.broker import PaperBroker
from engine.paper.money import CENT
from engine.paper.orders import Fill, Quote, quote_last  # noqa: F401 - quote_last re-exported

log = logging.getLogger(__name__)


class QuoteSource(Protocol):
    """Anything that can quote a symbol now (None: no quote available).

    ``label`` names the quotes for the user next to every price ("demo quotes");
    ``description`` is one sentence on where they come from.
    """

    @property
    def label(self) -> str: ...

    @property
    def description(self) -> str: ...

    def quote(self, symbol: str, now_ms: int) -> Quote | None: ...


@runtime_checkable
class QuoteSink(Protocol):
    """What a feed delivers to: the symbols it needs, and where the quotes go."""

    def watched_symbols(self) -> list[str]: ...

    def apply_quotes(self, quotes: Sequence[Quote]) -> list[Fill]: ...


class BarsProvider(Protocol):
    """The part of ``engine.data.service.DataService`` the quote sources use."""

    @property
    def source(self) -> str: ...

    def get_bars(self, symbol: str, timeframe: str = "1d", refresh: bool = False) -> Bars: ...

    def stored_timeframes(self, symbol: str) -> tuple[str, ...]: ...


def _spread_quote(symbol: str, mid: float, spread_bps: float, now_ms: int,
                  low: float | None = None, high: float | None = None) -> Quote | None:
    """A quote ``spread_bps`` wide around ``mid``, bid rounded down and ask up to the cent;
    with ``low``/``high`` (the data's range) the bid, ask and last are kept inside it."""
    if not (mid > 0) or math.isinf(mid):
        return None
    lo = Decimal(repr(low)) if low is not None and low > 0 and math.isfinite(low) else None
    hi = Decimal(repr(high)) if high is not None and math.isfinite(high) else None
    half = Decimal(repr(mid * spread_bps / 20000))
    m = Decimal(repr(mid))
    if lo is not None:
        m = max(m, lo)
    if hi is not None:
        m = min(m, hi)
    bid = (m - half).quantize(CENT, ROUND_FLOOR)
    ask = (m + half).quantize(CENT, ROUND_CEILING)
    if ask == bid:
        ask += CENT
    if lo is not None:
        bid = max(bid, lo)
    if hi is not None:
        ask = min(ask, hi)
    if bid <= 0 or bid > ask:
        return None
    last = m.quantize(Decimal("0.0001"))
    last = min(max(last, bid), ask)
    return Quote(symbol, bid, ask, last, now_ms)


class DelayedQuotes:
    """Quotes from the data layer's latest bar close (``bars_for(symbol)``), spread around it."""

    is_demo = False
    label = "delayed quotes"

    def __init__(self, bars_for: Callable[[str], Bars | None], spread_bps: float = 5.0) -> None:
        self.bars_for = bars_for
        self.spread_bps = spread_bps

    @property
    def description(self) -> str:
        return f"Delayed quotes: the last bar's close of the data source, {self.spread_bps:g} bps spread."

    def quote(self, symbol: str, now_ms: int) -> Quote | None:
        bars = self.bars_for(symbol)
        if bars is None or len(bars) == 0:
            return None
        return _spread_quote(symbol, float(bars.close[-1]), self.spread_bps, now_ms,
                             float(bars.low[-1]), float(bars.high[-1]))


@dataclass(frozen=True, slots=True)
class PriceAnchor:
    """Where a symbol's demo ticks start (``start``, its last close) and the range they stay
    in (``low``..``high``, the range of its data); ``key`` names the data it came from, and
    a new key restarts the walk there (the user imported new bars)."""

    start: float
    low: float = 0.0
    high: float = math.inf
    key: object = None


class DemoQuotes:
    """Deterministic demo ticks: each call moves a symbol's price one random-walk step
    (σ ``step_bps`` basis points), seeded by the symbol name and ``seed``, from where
    ``start_price(symbol)`` says (a price, or a ``PriceAnchor`` with the range to stay in).
    No start price: no quote (never a made-up one)."""

    is_demo = True
    label = "demo quotes"

    def __init__(
        self, start_price: Callable[[str], float | PriceAnchor | None] | None = None, spread_bps: float = 5.0,
        step_bps: float = 8.0, seed: int = 0,
    ) -> None:
        self.start_price = start_price
        self.spread_bps = spread_bps
        self.step = step_bps / 10000
        self.seed = seed
        self._state: dict[str, tuple[float, random.Random, PriceAnchor]] = {}
        self._lock = threading.Lock()  # one quote round at a time, but be safe across threads

    @property
    def description(self) -> str:
        return (f"Demo quotes: simulated ticks starting at the symbol's own last close and staying inside "
                f"the range of its data, {self.spread_bps:g} bps spread. Not market prices.")

    def anchor(self, symbol: str) -> PriceAnchor | None:
        """Where ``symbol``'s ticks start, or None when it has no usable price."""
        got = self.start_price(symbol) if self.start_price is not None else None
        if got is None:
            return None
        a = got if isinstance(got, PriceAnchor) else PriceAnchor(float(got))
        ok = a.start > 0 and math.isfinite(a.start) and 0 <= a.low <= a.start <= a.high
        return a if ok else None

    def quote(self, symbol: str, now_ms: int) -> Quote | None:
        a = self.anchor(symbol)
        if a is None:
            with self._lock:
                self._state.pop(symbol, None)
            return None
        with self._lock:
            st = self._state.get(symbol)
        if st is None or st[2].key != a.key:
            h = int.from_bytes(hashlib.sha256(f"{self.seed}:{symbol}".encode()).digest()[:8], "big")
            st = (a.start, random.Random(h), a)
        price, rng, _ = st
        price *= math.exp(rng.gauss(0.0, self.step))
        # reflect at the edges of the data's range: a demo tick never leaves what the data showed
        if price > a.high:
            price = a.high * a.high / price
        if a.low > 0 and price < a.low:
            price = a.low * a.low / price
        price = min(max(price, a.low), a.high)
        with self._lock:
            self._state[symbol] = (price, rng, a)
        return _spread_quote(symbol, price, self.spread_bps, now_ms,
                             a.low if a.low > 0 else None, a.high if math.isfinite(a.high) else None)


class ThrottledBars:
    """``bars_for(symbol, timeframe)`` for ``DelayedQuotes``: the symbol's bars of
    ``timeframe`` (default ``self.timeframe``), refreshed from the data source at most
    every ``refresh_s`` seconds per symbol (the cache in between).

    A failed refresh falls back to the cached bars (None when there are none), and waits
    ``refresh_s`` before the next try; ``failed[symbol]`` says why until a good refresh.
    """

    def __init__(self, data: BarsProvider, timeframe: str = "1m", refresh_s: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.data = data
        self.timeframe = timeframe
        self.refresh_s = refresh_s
        self.monotonic = monotonic
        self._last: dict[str, float] = {}
        #: symbol -> why its last refresh failed (cleared by the next good one): its bars are stale
        self.failed: dict[str, str] = {}

    def due(self, symbol: str) -> bool:
        """True when the next call for ``symbol`` refreshes from the data source."""
        return self.monotonic() - self._last.get(symbol, -math.inf) >= self.refresh_s

    def __call__(self, symbol: str, timeframe: str | None = None) -> Bars | None:
        tf = timeframe or self.timeframe
        refresh = self.due(symbol)
        if refresh:
            self._last[symbol] = self.monotonic()  # a failed refresh, too, waits refresh_s before the next try
        try:
            bars = self.data.get_bars(symbol, tf, refresh=refresh)
        except Exception as exc:  # noqa: BLE001 - a failed refresh falls back to what is cached
            if not refresh:
                raise
            self.failed[symbol] = str(exc) or type(exc).__name__
            if tf not in self.data.stored_timeframes(symbol):
                return None  # nothing cached to fall back on: no quote (never a made-up one)
            return self.data.get_bars(symbol, tf)
        if refresh:
            self.failed.pop(symbol, None)
        return bars


def no_bars_reason(symbol: str) -> str:
    """The sentence for a symbol without any stored bars."""
    return f"{symbol} has no stored bars: import a CSV or switch the data source"


class DataQuotes:
    """The app's quote source over a data service (see module docstring)."""

    def __init__(self, data: BarsProvider, spread_bps: float = 5.0, refresh_s: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.data = data
        self.refresh_s = refresh_s
        self.monotonic = monotonic
        self.demo = DemoQuotes(start_price=self._anchor, spread_bps=spread_bps)
        self.bars = ThrottledBars(data, "1m", refresh_s=refresh_s, monotonic=monotonic)
        self.delayed = DelayedQuotes(self._delayed_bars, spread_bps=spread_bps)
        #: symbol -> (monotonic time, timeframe, anchor): demo anchors re-read every refresh_s
        self._anchors: dict[str, tuple[float, str, PriceAnchor | None]] = {}
        #: symbol -> why it has no quote ("" once it had one)
        self._why: dict[str, str] = {}
        #: symbol -> the timeframe its last delayed quote came from
        self._tf: dict[str, str] = {}

    def _symbol(self, symbol: str) -> str:
        return symbol.strip().upper() if isinstance(symbol, str) else ""

    def _finest(self, symbol: str) -> str | None:
        tfs = self.data.stored_timeframes(symbol)
        return tfs[0] if tfs else None

    def _anchor(self, symbol: str) -> PriceAnchor | None:
        now = self.monotonic()
        got = self._anchors.get(symbol)
        if got is not None and now - got[0] < self.refresh_s:
            return got[2]
        tf = self._finest(symbol)
        try:
            # nothing stored: a demo symbol's own demo bars (generated here); any other symbol
            # raises, and has no quote
            bars = self.data.get_bars(symbol, tf or "1d")
        except Exception as exc:  # noqa: BLE001 - no data: no quote, and why
            log.info("no demo start price for %s: %s", symbol, exc)
            self._why[symbol] = no_bars_reason(symbol) if tf is None else f"{symbol}: {exc}"
            self._anchors[symbol] = (now, tf or "", None)
            return None
        if len(bars) == 0:
            self._why[symbol] = no_bars_reason(symbol)
            self._anchors[symbol] = (now, tf or "", None)
            return None
        key = (bars.timeframe, int(bars.time[-1]), len(bars), float(bars.close[-1]))
        a = PriceAnchor(float(bars.close[-1]), float(bars.low.min()), float(bars.high.max()), key)
        self._anchors[symbol] = (now, bars.timeframe, a)
        return a

    def _delayed_bars(self, symbol: str) -> Bars | None:
        tf = self._finest(symbol)
        if tf is None and not self.bars.due(symbol):
            return None  # nothing stored and the provider was asked less than refresh_s ago
        bars = self.bars(symbol, tf or "1m")
        if bars is None or len(bars) == 0:
            why = self.bars.failed.get(symbol, "")
            self._why[symbol] = (f"{symbol} has no stored bars and the data source sent none ({why}): "
                                 "import a CSV or check the symbol") if why else no_bars_reason(symbol)
            return None
        self._tf[symbol] = bars.timeframe
        return bars

    @property
    def is_demo(self) -> bool:
        return self.data.source == "demo"

    @property
    def label(self) -> str:
        return self.demo.label if self.is_demo else self.delayed.label

    @property
    def description(self) -> str:
        if self.is_demo:
            return self.demo.description
        return (f"Delayed quotes: the newest bar's close of the finest timeframe stored for the symbol "
                f"(1-minute bars from the data source when none are), refreshed each minute, "
                f"{self.delayed.spread_bps:g} bps spread.")

    def quote(self, symbol: str, now_ms: int) -> Quote | None:
        sym = self._symbol(symbol)
        q = (self.demo if self.is_demo else self.delayed).quote(sym, now_ms)
        if q is not None:
            self._why.pop(sym, None)
        elif sym not in self._why:
            self._why[sym] = no_bars_reason(sym)
        return q

    def no_quote_reason(self, symbol: str) -> str:
        """Why ``symbol`` has no quote, one sentence ("" when it has one or has not been
        asked yet): e.g. "FUT has no stored bars: import a CSV or switch the data source"."""
        return self._why.get(self._symbol(symbol), "")

    def stale_reason(self, symbol: str) -> str:
        """Why ``symbol``'s quote may be stale ("" when it is not): the data source's last
        top-up of its bars failed (offline), so the quote is the last cached close."""
        if self.is_demo:
            return ""
        sym = self._symbol(symbol)
        tf = self._tf.get(sym, "1m")
        failed = getattr(self.data, "update_failed", None)
        why = str(failed(sym, tf)) if failed is not None else ""
        why = why or self.bars.failed.get(sym, "")
        if not why:
            return ""
        return ("the quote is stale: the data source could not be reached, so it is the last "
                "cached close")


def quote_all(source: QuoteSource, symbols: Iterable[str], now_ms: int) -> list[Quote]:
    """Ask ``source`` for each of ``symbols`` at ``now_ms`` (epoch ms); symbols without a
    quote are left out, and one that fails is logged and skipped (never stops the others)."""
    out: list[Quote] = []
    for s in symbols:
        try:
            q = source.quote(s, now_ms)
        except Exception as exc:  # noqa: BLE001 - one bad symbol must not stop the others
            log.info("no paper quote for %s: %s", s, exc)
            continue
        if q is not None:
            out.append(q)
    return out


class BrokerSink:
    """A bare ``PaperBroker`` as a feed's target: ``on_quote`` per quote, then DAY expiry."""

    def __init__(self, broker: PaperBroker, symbols: Callable[[], Iterable[str]] | None = None) -> None:
        self.broker = broker
        self._symbols = symbols or broker.watched_symbols

    def watched_symbols(self) -> list[str]:
        return list(self._symbols())

    def apply_quotes(self, quotes: Sequence[Quote]) -> list[Fill]:
        return apply_to_broker(self.broker, quotes)


def apply_to_broker(broker: PaperBroker, quotes: Sequence[Quote]) -> list[Fill]:
    """Feed ``quotes`` to ``broker`` (its thread), then expire DAY orders; returns the fills.

    A quote the broker refuses (``InvalidMarketData``: crossed, bad price) is logged and
    skipped; the others still go in.
    """
    fills: list[Fill] = []
    for q in quotes:
        try:
            fills.extend(broker.on_quote(q.symbol, q.bid, q.ask, q.last, q.time_ms, q.bid_size, q.ask_size))
        except ValueError as exc:
            log.warning("paper quote for %s refused: %s", q.symbol, exc)
    broker.expire_due()
    return fills


@dataclass(frozen=True, slots=True)
class QuoteRound:
    """One round of a feed: the symbols to quote and the time (epoch ms) to quote them at."""

    symbols: tuple[str, ...]
    now_ms: int


class QuoteFeed:
    """Polls ``source`` for the target's symbols and feeds the quotes to the target.

    ``target`` is a ``QuoteSink`` (``PaperSession``) or a ``PaperBroker`` (wrapped in
    ``BrokerSink``; ``symbols`` then overrides ``broker.watched_symbols``). ``clock()`` is
    epoch milliseconds. See the module docstring for the two halves of a round.
    """

    def __init__(
        self, target: QuoteSink | PaperBroker, source: QuoteSource,
        symbols: Callable[[], Iterable[str]] | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        if isinstance(target, QuoteSink) and symbols is None:
            self.target: QuoteSink = target
        elif isinstance(target, PaperBroker):
            self.target = BrokerSink(target, symbols)
        else:
            raise TypeError(f"a quote feed needs a PaperSession or a PaperBroker, not {type(target).__name__}")
        self.source = source
        self.clock = clock or (lambda: int(time.time() * 1000))
        self.busy = False
        self.closed = False
        self._lock = threading.Lock()
        self._missing: dict[str, str] = {}

    @property
    def label(self) -> str:
        """What the user is told these quotes are (the source's ``label``)."""
        return str(getattr(self.source, "label", "quotes"))

    @property
    def description(self) -> str:
        """A sentence on where the quotes come from (the source's ``description``)."""
        return str(getattr(self.source, "description", self.label))

    def stale_reason(self, symbol: str) -> str:
        """The source's reason why ``symbol``'s quote is stale ("" when fresh or unknown)."""
        fn = getattr(self.source, "stale_reason", None)
        return str(fn(symbol)) if fn is not None else ""

    def begin(self) -> QuoteRound | None:
        """Start a round: the symbols that need a quote now, or None when a round is in
        flight, the feed is closed or nothing needs a quote."""
        if self.busy or self.closed:
            return None
        syms = tuple(dict.fromkeys(s for s in self.target.watched_symbols() if s))
        if not syms:
            return None
        self.busy = True
        return QuoteRound(syms, self.clock())

    def fetch(self, rnd: QuoteRound) -> list[Quote]:
        """The quotes of ``rnd`` from the source (safe on a worker thread); the symbols
        left without one are remembered for ``no_quote_reason``."""
        out = quote_all(self.source, rnd.symbols, rnd.now_ms)
        got = {q.symbol for q in out}
        with self._lock:
            for s in rnd.symbols:
                if s in got:
                    self._missing.pop(s, None)
                else:
                    self._missing[s] = f"the {self.label} have no price for {s}"
        return out

    def no_quote_reason(self, symbol: str) -> str:
        """Why the source gave ``symbol`` no quote in the latest round, one sentence ("" when
        it gave one, or was not asked yet): the source's own ``no_quote_reason`` when it has one."""
        fn = getattr(self.source, "no_quote_reason", None)
        why = str(fn(symbol)) if fn is not None else ""
        if why:
            return why
        with self._lock:
            return self._missing.get(symbol.strip().upper() if isinstance(symbol, str) else "", "")

    def apply(self, quotes: Sequence[Quote]) -> list[Fill]:
        """Hand ``quotes`` to the target (the broker's thread); dropped after ``close()``."""
        if self.closed:
            return []
        return self.target.apply_quotes(quotes)

    def end(self) -> None:
        """The round is over (call it whether the fetch worked or not)."""
        self.busy = False

    def close(self) -> None:
        """Stop for good: a round still in flight is dropped (the broker may be closing)."""
        self.closed = True

    def poll(self) -> list[Fill]:
        """One whole round now, on this thread: quotes into the target, then DAY expiry.
        Returns the fills (empty when there was nothing to quote)."""
        rnd = self.begin()
        if rnd is None:
            if not self.closed and not self.busy:
                self.target.apply_quotes([])  # still expire DAY orders
            return []
        try:
            return self.apply(self.fetch(rnd))
        finally:
            self.end()


__all__ = [
    "BarsProvider", "BrokerSink", "DataQuotes", "DelayedQuotes", "DemoQuotes", "PriceAnchor", "QuoteFeed",
    "QuoteRound", "QuoteSink", "QuoteSource", "ThrottledBars", "apply_to_broker", "no_bars_reason", "quote_all",
    "quote_last",
]
