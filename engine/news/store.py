"""News in the local store (migration ``0009_news``): headlines with their sentiment and
read state, the symbols each is about, and the user's feeds.

Deduplication happens here, in one transaction per batch: a headline whose normalised URL
or title is already stored adds only its symbols to the stored one (the first copy's text,
time and read state stay).
"""
from __future__ import annotations

import builtins
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.news.model import Headline, NewsError, NewsItem, normalise_title, normalise_url
from engine.store.db import Database

MAX_LIST = 5_000


@dataclass(frozen=True, slots=True)
class Feed:
    """An RSS/Atom feed the user added; ``symbols`` are the tickers all its items are about."""

    id: int
    url: str
    name: str
    symbols: tuple[str, ...]
    last_ok_at: int | None
    last_error: str


def _now() -> int:
    return int(time.time())


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class NewsStore:
    """Read and write stored news (plain sqlite3 transactions)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ headlines
    def add(self, scored: Sequence[tuple[Headline, float, str]], now: int | None = None) -> int:
        """Store scored headlines ``(headline, compound, label)``; returns how many were new.
        Duplicates (same normalised URL or title, in the store or in the batch) only add
        their symbols. Raises ``NewsError`` for a compound outside −1…1 or an unknown label."""
        t = _now() if now is None else int(now)
        for h, value, label in scored:
            if not isinstance(h, Headline):
                raise TypeError("NewsStore.add takes Headline values")
            if not (isinstance(value, (int, float)) and math.isfinite(value) and -1.0 <= value <= 1.0):
                raise NewsError(f"The sentiment of {h.title[:60]!r} is not a number in -1..1.")
            if label not in ("positive", "neutral", "negative"):
                raise NewsError(f"Unknown sentiment label {label!r}.")
        new = 0
        with self.db.connect() as c:
            for h, compound, label in scored:
                uk, tk = normalise_url(h.url), normalise_title(h.title)
                row = c.execute("SELECT id FROM news WHERE url_key=? OR title_key=? LIMIT 1", (uk, tk)).fetchone()
                if row is None:
                    cur = c.execute(
                        "INSERT INTO news(url, url_key, title, title_key, source, origin, published_at, fetched_at, "
                        "summary, compound, label, read_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                        (h.url, uk, h.title, tk, h.source, h.origin, h.published, t, h.summary, float(compound),
                         label))
                    nid = int(cur.lastrowid or 0)
                    new += 1
                else:
                    nid = int(row[0])
                c.executemany("INSERT OR IGNORE INTO news_symbols(news_id, symbol) VALUES (?, ?)",
                              [(nid, s) for s in h.symbols])
        return new

    def known_keys(self, headlines: Iterable[Headline]) -> set[int]:
        """Indexes (into ``headlines``) of those already stored (so they need no scoring)."""
        hs = list(headlines)
        out: set[int] = set()
        with self.db.connect(write=False) as c:
            for i, h in enumerate(hs):
                if c.execute("SELECT 1 FROM news WHERE url_key=? OR title_key=? LIMIT 1",
                             (normalise_url(h.url), normalise_title(h.title))).fetchone():
                    out.add(i)
        return out

    def items(self, *, symbols: Iterable[str] | None = None, search: str = "", unread_only: bool = False,
              since: int | None = None, limit: int = 500) -> builtins.list[NewsItem]:
        """Stored headlines, newest first: about any of ``symbols`` (None: all), whose title,
        summary or source contains ``search`` (case-insensitive), unread ones only if asked,
        published at or after ``since``; at most ``limit`` (1..5000)."""
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIST:
            raise NewsError(f"The news limit must be 1 to {MAX_LIST}.")
        where: list[str] = []
        args: list[object] = []
        if symbols is not None:
            syms = sorted({s.strip().upper() for s in symbols if s.strip()})
            if not syms:
                return []
            where.append(f"n.id IN (SELECT news_id FROM news_symbols WHERE symbol IN ({','.join('?' * len(syms))}))")
            args += syms
        q = search.strip()
        if q:
            where.append("(n.title LIKE ? ESCAPE '\\' OR n.summary LIKE ? ESCAPE '\\' OR n.source LIKE ? ESCAPE '\\')")
            args += [_like(q)] * 3
        if unread_only:
            where.append("n.read_at IS NULL")
        if since is not None:
            where.append("n.published_at >= ?")
            args.append(int(since))
        sql = ("SELECT n.id, n.title, n.url, n.source, n.published_at, n.origin, n.summary, n.compound, n.label, "
               "n.read_at, (SELECT group_concat(symbol, ',') FROM news_symbols s WHERE s.news_id = n.id) FROM news n"
               + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY n.published_at DESC, n.id DESC LIMIT ?")
        with self.db.connect(write=False) as c:
            rows = c.execute(sql, [*args, limit]).fetchall()
        return [NewsItem(int(r[0]), r[1], r[2], r[3], int(r[4]), r[5], tuple(sorted((r[10] or "").split(","))) if r[10]
                         else (), r[6], float(r[7]), r[8], r[9] is not None) for r in rows]

    def count(self, unread_only: bool = False) -> int:
        with self.db.connect(write=False) as c:
            sql = "SELECT count(*) FROM news" + (" WHERE read_at IS NULL" if unread_only else "")
            return int(c.execute(sql).fetchone()[0])

    def mark_read(self, ids: Iterable[int], read: bool = True, now: int | None = None) -> int:
        """Mark headlines read (or unread again); returns how many changed."""
        t = _now() if now is None else int(now)
        id_list = [int(i) for i in ids]
        with self.db.connect() as c:
            if read:
                cur = c.executemany("UPDATE news SET read_at=? WHERE id=? AND read_at IS NULL",
                                    [(t, i) for i in id_list])
            else:
                cur = c.executemany("UPDATE news SET read_at=NULL WHERE id=? AND read_at IS NOT NULL",
                                    [(i,) for i in id_list])
            return int(cur.rowcount)

    def scores_for(self, symbol: str, start: int | None = None, end: int | None = None
                   ) -> builtins.list[tuple[int, float]]:
        """(published, compound) of ``symbol``'s headlines with ``start <= published < end``, oldest first."""
        args: list[object] = [symbol.strip().upper()]
        sql = ("SELECT n.published_at, n.compound FROM news n JOIN news_symbols s ON s.news_id = n.id "
               "WHERE s.symbol = ?")
        if start is not None:
            sql += " AND n.published_at >= ?"
            args.append(int(start))
        if end is not None:
            sql += " AND n.published_at < ?"
            args.append(int(end))
        with self.db.connect(write=False) as c:
            return [(int(p), float(v)) for p, v in c.execute(sql + " ORDER BY n.published_at", args).fetchall()]

    def scores_for_many(self, symbols: Sequence[str], start: int | None = None
                        ) -> dict[str, builtins.list[tuple[int, float]]]:
        """``scores_for`` of many symbols in a few queries: symbol → (published, compound),
        oldest first; symbols without news are absent."""
        syms = list(dict.fromkeys(s.strip().upper() for s in symbols if s and s.strip()))
        out: dict[str, builtins.list[tuple[int, float]]] = {}
        with self.db.connect(write=False) as c:
            for i in range(0, len(syms), 500):  # well under SQLite's bound-parameter limit
                chunk = syms[i:i + 500]
                sql = ("SELECT s.symbol, n.published_at, n.compound FROM news n JOIN news_symbols s "
                       f"ON s.news_id = n.id WHERE s.symbol IN ({','.join('?' * len(chunk))})")
                args: list[object] = list(chunk)
                if start is not None:
                    sql += " AND n.published_at >= ?"
                    args.append(int(start))
                for sym, p, v in c.execute(sql + " ORDER BY n.published_at", args):
                    out.setdefault(sym, []).append((int(p), float(v)))
        return out

    # ------------------------------------------------------------------ feeds
    def feeds(self) -> builtins.list[Feed]:
        with self.db.connect(write=False) as c:
            rows = c.execute("SELECT id, url, name, symbols, last_ok_at, last_error FROM news_feeds ORDER BY id"
                             ).fetchall()
        return [Feed(int(r[0]), r[1], r[2], tuple(s for s in r[3].split(",") if s), r[4], r[5]) for r in rows]

    def add_feed(self, url: str, name: str, symbols: Sequence[str] = ()) -> Feed:
        """Add a feed (its URL checked by the caller). Raises ``NewsError`` if it is already there."""
        syms = ",".join(dict.fromkeys(s.strip().upper() for s in symbols if s.strip()))
        with self.db.connect() as c:
            if c.execute("SELECT 1 FROM news_feeds WHERE url=?", (url,)).fetchone():
                raise NewsError(f"The feed {url} is already in the list.")
            cur = c.execute("INSERT INTO news_feeds(url, name, symbols, added_at) VALUES (?, ?, ?, ?)",
                            (url, name, syms, _now()))
            fid = int(cur.lastrowid or 0)
        return Feed(fid, url, name, tuple(s for s in syms.split(",") if s), None, "")

    def remove_feed(self, feed_id: int) -> None:
        with self.db.connect() as c:
            c.execute("DELETE FROM news_feeds WHERE id=?", (int(feed_id),))

    def feed_result(self, feed_id: int, error: str = "", now: int | None = None) -> None:
        """Record a feed's last fetch: ``error`` empty for success."""
        t = _now() if now is None else int(now)
        with self.db.connect() as c:
            if error:
                c.execute("UPDATE news_feeds SET last_error=? WHERE id=?", (error, int(feed_id)))
            else:
                c.execute("UPDATE news_feeds SET last_ok_at=?, last_error='' WHERE id=?", (t, int(feed_id)))
