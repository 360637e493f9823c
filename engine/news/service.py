"""The news service: refresh from Yahoo Finance and the user's feeds, score, deduplicate,
store; read stored news (which stays readable offline); per-symbol daily sentiment.

Widgets get this object and never reach the store or the network themselves. ``refresh``
is slow (network): run it in a worker. A source that fails is reported in the
``RefreshReport`` and never stops the others or loses what is stored.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from engine.data.bars import Bars
from engine.events import EventBus
from engine.formula.panel import Panel
from engine.market.calendar import exchange_for
from engine.news.demo import demo_headlines
from engine.news.events import NewsUpdated
from engine.news.fetch import FeedError, check_feed_url, fetch_bytes, parse_feed
from engine.news.model import Headline, NewsError, NewsItem
from engine.news.series import DailySentiment, daily_sentiment, window_sentiment
from engine.news.store import Feed, NewsStore
from engine.news.yahoo import fetch_yahoo_news
from engine.store.db import Database

#: At most this many symbols are asked of Yahoo per refresh (politeness; the rest wait).
MAX_YAHOO_SYMBOLS = 50
_DEMO_DONE_KEY = "news/demo_v1"


@dataclass(frozen=True, slots=True)
class RefreshReport:
    """What a refresh did: ``fetched`` headlines seen, ``new`` stored, and one sentence per
    source that failed (``errors``)."""

    fetched: int = 0
    new: int = 0
    errors: tuple[str, ...] = field(default=())


class NewsService:
    """News for the workstation (see the module docstring).

    ``yahoo(symbol)`` and ``fetch(url)`` are the network calls (tests pass recorded or local
    ones); ``is_demo_symbol`` says which symbols are the fictional demo ones (never asked of
    Yahoo); ``known_symbols()`` are the tickers a feed headline is matched against."""

    def __init__(self, db: Database, bus: EventBus, *,
                 yahoo: Callable[[str], list[Headline]] = fetch_yahoo_news,
                 fetch: Callable[[str], bytes] = fetch_bytes,
                 is_demo_symbol: Callable[[str], bool] | None = None,
                 known_symbols: Callable[[], Iterable[str]] = lambda: ()) -> None:
        if is_demo_symbol is None:
            from engine.data.demo import is_demo_symbol as _is_demo

            is_demo_symbol = _is_demo
        self.store = NewsStore(db)
        self.db = db
        self.bus = bus
        self._yahoo = yahoo
        self._fetch = fetch
        self._is_demo = is_demo_symbol
        self._known = known_symbols

    # ------------------------------------------------------------------ writing
    def _score_and_store(self, headlines: Sequence[Headline]) -> int:
        from engine.sentiment import score

        if not headlines:
            return 0
        known = self.store.known_keys(headlines)
        fresh = [h for i, h in enumerate(headlines) if i not in known]
        scores = score([h.title for h in fresh]) if fresh else []
        scored = [(h, s.compound, s.label) for h, s in zip(fresh, scores)]
        # already-stored ones still go through add: they may bring new symbols
        scored += [(h, 0.0, "neutral") for i, h in enumerate(headlines) if i in known]
        return self.store.add(scored)

    def ensure_demo(self) -> int:
        """Store the generated demo headlines once (``engine.news.demo``); returns how many
        were added (0 when they already are)."""
        from engine.store.kv import KeyValueStore

        kv = KeyValueStore(self.db)
        if kv.get(_DEMO_DONE_KEY):
            return 0
        new = self._score_and_store(demo_headlines())
        kv.set(_DEMO_DONE_KEY, "1")
        if new:
            self.bus.publish(NewsUpdated(new))
        return new

    def refresh(self, symbols: Iterable[str] = (), *, feeds: bool = True) -> RefreshReport:
        """Fetch Yahoo Finance news for ``symbols`` (demo symbols are skipped; at most
        ``MAX_YAHOO_SYMBOLS``) and, with ``feeds``, every stored feed; score and store what
        is new. Network errors become ``RefreshReport.errors``; nothing stored is lost."""
        got: list[Headline] = []
        errors: list[str] = []
        real = [s for s in dict.fromkeys(x.strip().upper() for x in symbols if x.strip()) if not self._is_demo(s)]
        for sym in real[:MAX_YAHOO_SYMBOLS]:
            try:
                got += self._yahoo(sym)
            except NewsError as exc:
                errors.append(str(exc))
        if feeds:
            known = list(self._known())
            for f in self.store.feeds():
                try:
                    parsed = parse_feed(self._fetch(f.url), f.url, symbols=f.symbols, known=known)
                except NewsError as exc:
                    errors.append(str(exc))
                    self.store.feed_result(f.id, str(exc))
                    continue
                got += parsed.headlines
                self.store.feed_result(f.id)
        new = self._score_and_store(got)
        if new:
            self.bus.publish(NewsUpdated(new))
        return RefreshReport(len(got), new, tuple(errors))

    def mark_read(self, ids: Iterable[int], read: bool = True) -> int:
        """Mark headlines read (or unread); the state is stored. Returns how many changed."""
        n = self.store.mark_read(ids, read)
        if n:
            self.bus.publish(NewsUpdated(0))
        return n

    # ------------------------------------------------------------------ feeds
    def feeds(self) -> list[Feed]:
        """The user's feeds, in the order added."""
        return self.store.feeds()

    def add_feed(self, url: str, name: str = "", symbols: Sequence[str] = ()) -> Feed:
        """Add an RSS/Atom feed (fetched on the next refresh). Raises ``FeedError`` for an
        address that is not http(s) and ``NewsError`` for one already in the list."""
        u = check_feed_url(url)
        return self.store.add_feed(u, name.strip() or u, symbols)

    def remove_feed(self, feed_id: int) -> None:
        self.store.remove_feed(feed_id)

    # ------------------------------------------------------------------ reading
    def items(self, *, symbols: Iterable[str] | None = None, search: str = "", unread_only: bool = False,
              limit: int = 500) -> list[NewsItem]:
        """Stored headlines, newest first (see ``NewsStore.items``); works offline."""
        return self.store.items(symbols=symbols, search=search, unread_only=unread_only, limit=limit)

    def unread_count(self) -> int:
        return self.store.count(unread_only=True)

    def daily_sentiment(self, symbol: str, bars: Bars) -> DailySentiment:
        """``symbol``'s mean compound score and headline count per bar of ``bars``
        (``engine.news.series``)."""
        start = int(bars.time[0]) - 10 * 86_400 if len(bars) else None
        return daily_sentiment(self.store.scores_for(symbol, start=start), bars)

    def sentiment_panel(self, panel: Panel, days: int = 1) -> npt.NDArray[np.float64]:
        """What alert conditions read as ``sentiment(days)``: per symbol (row) and bar
        (column) of ``panel``, the mean compound of the headlines of the last ``days``
        sessions up to that bar (``engine.news.series.window_sentiment``); NaN without news.

        Rows are dated by the panel's time axis; the row of a symbol whose data is stale
        (``Panel.last_time`` older than the axis's end) by the axis shifted back to end at
        its own last bar, so its last column reads the news of its own last session. Raises ``ValueError`` for
        ``days`` < 1."""
        s, t = panel.shape
        out = np.full((s, t), np.nan)
        if s == 0 or t == 0:
            return out
        times = np.asarray(panel.time, dtype=np.int64)
        start = int(times[0]) - (10 + 2 * int(days)) * 86_400
        by_symbol = self.store.scores_for_many(panel.symbols, start=start)
        last = np.asarray(panel.last_time, dtype=np.int64)
        never = np.iinfo(np.int64).min
        sessions: dict[str, npt.NDArray[np.int64] | None] = {}
        for i, sym in enumerate(panel.symbols):
            pts = by_symbol.get(sym)
            if not pts or last[i] == never:
                continue
            # stale (its last bar older than the axis's): the axis shifted back to end there
            row_t = times if last[i] == times[-1] else times - (times[-1] - last[i])
            ex = exchange_for(sym)
            if ex not in sessions:
                sessions[ex] = _sessions(ex, start, int(times[-1])) if days > 1 else None
            out[i] = window_sentiment(pts, row_t, panel.timeframe, int(days), sessions[ex]).mean
        return out


def _sessions(exchange: str, start: int, end: int) -> npt.NDArray[np.int64] | None:
    """``exchange``'s session days (days since 1970-01-01) from ``start`` to ``end`` (epoch
    seconds), so ``sentiment(days)`` counts sessions, not loaded bars; None outside the
    calendar's years (then the bars' own days are the sessions)."""
    import datetime as dt

    from engine.market.calendar import get_calendar

    a = dt.datetime.fromtimestamp(start, dt.timezone.utc).date()
    b = dt.datetime.fromtimestamp(end, dt.timezone.utc).date() + dt.timedelta(days=1)
    try:
        days = get_calendar(exchange).sessions(a, b)
    except ValueError:
        return None
    return np.asarray(days.astype("datetime64[D]").astype(np.int64), dtype=np.int64)


__all__ = ["FeedError", "NewsService", "RefreshReport"]
