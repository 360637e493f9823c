"""Quotes for live paper trading: a small poller the app drives from a timer or worker.

``QuoteFeed.poll()`` asks a quote source for every symbol that needs one (working orders
or open positions, by default) and feeds the quotes to the ``PaperBroker``, then expires
DAY orders whose session has closed. Sources:

* ``DelayedQuotes``: from the data layer — the last bar's close of a symbol (delayed data),
  with a bid/ask around it (``spread_bps``; bid rounded down and ask up to the cent).
* ``DemoQuotes``: offline demo ticks — a deterministic random walk per symbol around a
  starting price (the last close if a function for it is given), with a spread. It is demo
  data: whoever shows its quotes must label them so (``DemoQuotes.is_demo``).
"""
from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable, Iterable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Protocol

from engine.data.bars import Bars
from engine.paper.broker import PaperBroker
from engine.paper.money import CENT
from engine.paper.orders import Fill, Quote


class QuoteSource(Protocol):
    """Anything that can quote a symbol now (None: no quote available)."""

    def quote(self, symbol: str, now_ms: int) -> Quote | None: ...


def _spread_quote(symbol: str, mid: float, spread_bps: float, now_ms: int) -> Quote | None:
    if not (mid > 0) or math.isinf(mid):
        return None
    half = Decimal(repr(mid * spread_bps / 20000))
    m = Decimal(repr(mid))
    bid = (m - half).quantize(CENT, ROUND_FLOOR)
    ask = (m + half).quantize(CENT, ROUND_CEILING)
    if ask == bid:
        ask += CENT
    if bid <= 0:
        return None
    return Quote(symbol, bid, ask, m.quantize(Decimal("0.0001")), now_ms)


class DelayedQuotes:
    """Quotes from the data layer's latest bar close (``bars_for(symbol)``), spread around it."""

    is_demo = False

    def __init__(self, bars_for: Callable[[str], Bars | None], spread_bps: float = 5.0) -> None:
        self.bars_for = bars_for
        self.spread_bps = spread_bps

    def quote(self, symbol: str, now_ms: int) -> Quote | None:
        bars = self.bars_for(symbol)
        if bars is None or len(bars) == 0:
            return None
        return _spread_quote(symbol, float(bars.close[-1]), self.spread_bps, now_ms)


class DemoQuotes:
    """Deterministic demo ticks: each call moves a symbol's price one random-walk step
    (σ ``step_bps`` basis points), seeded by the symbol name and ``seed``."""

    def __init__(
        self, start_price: Callable[[str], float | None] | None = None, spread_bps: float = 5.0,
        step_bps: float = 8.0, seed: int = 0,
    ) -> None:
        self.start_price = start_price
        self.spread_bps = spread_bps
        self.step = step_bps / 10000
        self.seed = seed
        self._state: dict[str, tuple[float, random.Random]] = {}

    def quote(self, symbol: str, now_ms: int) -> Quote | None:
        st = self._state.get(symbol)
        if st is None:
            h = int.from_bytes(hashlib.sha256(f"{self.seed}:{symbol}".encode()).digest()[:8], "big")
            start = self.start_price(symbol) if self.start_price is not None else None
            if start is None or not (start > 0):
                start = 20.0 + (h % 18000) / 100.0  # 20 .. 200
            st = (float(start), random.Random(h))
        price, rng = st
        price *= math.exp(rng.gauss(0.0, self.step))
        self._state[symbol] = (price, rng)
        return _spread_quote(symbol, price, self.spread_bps, now_ms)


class QuoteFeed:
    """Polls ``source`` for the broker's symbols and feeds the quotes to ``broker``."""

    def __init__(
        self, broker: PaperBroker, source: QuoteSource,
        symbols: Callable[[], Iterable[str]] | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.broker = broker
        self.source = source
        self.symbols = symbols or broker.watched_symbols
        self.clock = clock or (lambda: int(time.time() * 1000))

    def poll(self) -> list[Fill]:
        """One round: a quote per symbol into the broker, then DAY expiry. Returns the fills."""
        now = self.clock()
        fills: list[Fill] = []
        for s in list(self.symbols()):
            q = self.source.quote(s, now)
            if q is not None:
                fills.extend(self.broker.on_quote(s, q.bid, q.ask, q.last, q.time_ms, q.bid_size, q.ask_size))
        self.broker.expire_due()
        return fills
