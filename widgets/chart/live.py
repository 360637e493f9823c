"""The live last bar: the chart's last bar moves with the paper session's quotes.

``LiveBar`` listens to a quote stream — in the app the ``TradingSession`` (its
``quotes_changed`` signal and ``quote(symbol)``), the same quotes the order ticket, the
watchlist and the broker's matching use, so a fill is always at a price the chart shows —
and asks the stream to quote the chart's symbol (``watch``).

* A quote inside the last bar's period changes that bar in place (high, low, close): only
  that bar and the last-price line are redrawn (``ChartWidget.update_last_bar``).
* A quote past the period starts a new bar on the timeframe boundary: intraday, whole
  periods after the last bar (so bars stay aligned to the session's first bar); daily,
  weekly and monthly, the quote's calendar day, ISO week or month in the exchange's time
  zone (``ChartWidget.append_bar``). The view moves with it only when the last bar was in
  view.
* Quotes older than the last bar, of another symbol, or more than ``MAX_GAP_DAYS`` after
  the last bar (a stale history: an old CSV under today's quotes) are ignored, as are
  chart types drawn from a transform (Renko, Kagi, …: their last brick is not a bar).
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject

from engine.market.calendar import exchange_tz
from engine.paper.orders import Quote

INTRADAY_SECONDS = {"1m": 60, "2m": 120, "5m": 300, "15m": 900, "30m": 1800, "60m": 3600, "1h": 3600,
                    "4h": 14400}
MAX_GAP_DAYS = 10


def quote_price(q: Quote) -> float:
    """The price a quote puts on the chart: its last trade, else the bid/ask midpoint."""
    p = q.last if q.last is not None else (q.bid + q.ask) / 2
    return float(p)


def _period_key(t: int, timeframe: str, tz: ZoneInfo) -> tuple[int, ...]:
    d = datetime.fromtimestamp(t, tz)
    if timeframe in ("1wk", "1w", "W"):
        iso = d.isocalendar()
        return (iso[0], iso[1])
    if timeframe in ("1mo", "M"):
        return (d.year, d.month)
    return (d.year, d.month, d.day)


def _period_start(t: int, timeframe: str, tz: ZoneInfo) -> int:
    """Where the daily/weekly/monthly bar holding ``t`` starts: 00:00 UTC of its first day
    (the stored daily bars' convention)."""
    d = datetime.fromtimestamp(t, tz).date()
    if timeframe in ("1wk", "1w", "W"):
        d = d.fromordinal(d.toordinal() - d.weekday())
    elif timeframe in ("1mo", "M"):
        d = d.replace(day=1)
    return int(datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp())


def next_bar(last_start: int, t: int, timeframe: str, tz: ZoneInfo | None = None) -> int | None:
    """Where a quote at ``t`` (epoch seconds) goes relative to the last bar starting at
    ``last_start``: ``None`` into that bar, else the start of the new bar (the timeframe
    boundary at or before ``t``). Raises ``ValueError`` for a quote before the last bar."""
    if t < last_start:
        raise ValueError("the quote is older than the last bar")
    sec = INTRADAY_SECONDS.get(timeframe)
    if sec is not None:
        k = (t - last_start) // sec
        return None if k == 0 else last_start + k * sec
    zone = tz or ZoneInfo("UTC")
    # the stored daily bar's time is 00:00 UTC of its date: read its date in UTC
    last_key = _period_key(last_start, timeframe, ZoneInfo("UTC"))
    if _period_key(t, timeframe, zone) == last_key:
        return None
    return _period_start(t, timeframe, zone)


class LiveBar(QObject):
    """Keeps ``chart``'s last bar in step with ``quotes`` (module docstring)."""

    def __init__(self, chart: Any, quotes: Any, parent: QObject | None = None) -> None:
        super().__init__(parent if parent is not None else chart)
        self.chart = chart
        self.quotes = quotes
        self.owner = f"chart:{id(chart):x}"
        self.updates = 0  # quotes applied in place
        self.new_bars = 0
        self._last_seen: tuple[str, int, float] | None = None
        quotes.quotes_changed.connect(self.on_quotes)
        chart.symbol_changed.connect(self._watch)
        chart.destroyed.connect(lambda *_a: self._unwatch())
        self._watch(chart.symbol)

    def _watch(self, symbol: str | None) -> None:
        if hasattr(self.quotes, "watch"):
            self.quotes.watch(self.owner, [symbol] if symbol else [])
        self._last_seen = None

    def _unwatch(self) -> None:
        try:
            self.quotes.watch(self.owner, [])
        except RuntimeError:  # the session went first at shutdown
            pass

    def on_quotes(self, *_: object) -> None:
        """Apply the latest quote of the chart's symbol (called on every quote round)."""
        c = self.chart
        b = c.bars
        if b is None or not len(b) or not c.draws_bars_as_they_are or b.symbol != c.symbol:
            return
        q = self.quotes.quote(b.symbol)
        if q is None:
            return
        price = quote_price(q)
        t = int(q.time_ms // 1000)
        seen = (b.symbol, t, price)
        if seen == self._last_seen or not (math.isfinite(price) and price > 0):
            return
        self._last_seen = seen
        last_start = int(b.time[-1])
        if t - last_start > MAX_GAP_DAYS * 86400:
            return  # a stale history: a bar today would sit right after an old one
        try:
            start = next_bar(last_start, t, b.timeframe, _zone(b.symbol))
        except ValueError:
            return
        if start is None:
            c.update_last_bar(max(float(b.high[-1]), price), min(float(b.low[-1]), price), price)
            self.updates += 1
        else:
            c.append_bar(start, price, price, price, price, 0.0)
            self.new_bars += 1


def _zone(symbol: str) -> ZoneInfo:
    return exchange_tz(symbol)


__all__ = ["INTRADAY_SECONDS", "LiveBar", "MAX_GAP_DAYS", "next_bar", "quote_price"]
