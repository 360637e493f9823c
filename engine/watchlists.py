"""Watchlists: named, ordered symbol lists kept in the local store (tables from 0001_core).

Plain sqlite3 (``Database.connect``): this runs at start-up, before SQLAlchemy is needed.
"""
from __future__ import annotations

import sqlite3

from dataclasses import dataclass

from engine.events import Event, EventBus
from engine.store.db import Database


@dataclass(frozen=True, slots=True)
class WatchlistChanged(Event):
    """Watchlist ``name`` was created, renamed (``name`` is the new name), deleted, or had
    symbols added or removed. Published after the write committed."""

    name: str


class WatchlistError(ValueError):
    """A watchlist operation the user asked for cannot be done (message says why)."""


def _clean(symbol: str) -> str:
    s = symbol.strip().upper()
    if not s or len(s) > 32 or any(ch.isspace() for ch in s):
        raise WatchlistError(f"{symbol!r} is not a valid symbol")
    return s


def watchlist_symbols(db: Database, name: str) -> list[str]:
    """Symbols of watchlist ``name`` in the user's order; ``WatchlistError`` if it does not
    exist. A read: needs no bus (the scanner's universes use it)."""
    with db.connect(write=False) as c:
        wid = WatchlistService._id(c, name)
        rows = c.execute(
            "SELECT symbol FROM watchlist_items WHERE watchlist_id=:w ORDER BY position, id", {"w": wid},
        )
        return [r[0] for r in rows]


class WatchlistService:
    """Create, rename, fill and read watchlists. Publishes ``WatchlistChanged``."""

    def __init__(self, db: Database, bus: EventBus) -> None:
        self.db = db
        self.bus = bus

    def names(self) -> list[str]:
        with self.db.connect(write=False) as c:
            return [r[0] for r in c.execute("SELECT name FROM watchlists ORDER BY position, id")]

    def symbols(self, name: str) -> list[str]:
        """Symbols of watchlist ``name`` in the user's order (raises if it does not exist)."""
        return watchlist_symbols(self.db, name)

    def create(self, name: str, symbols: list[str] | tuple[str, ...] = ()) -> None:
        name = name.strip()
        if not name:
            raise WatchlistError("a watchlist needs a name")
        with self.db.connect() as c:
            if c.execute("SELECT 1 FROM watchlists WHERE name=:n", {"n": name}).fetchone():
                raise WatchlistError(f"a watchlist named {name!r} already exists")
            pos = c.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM watchlists").fetchone()[0]
            c.execute("INSERT INTO watchlists(name, position) VALUES (:n, :p)", {"n": name, "p": pos})
        if symbols:
            self.add(name, symbols)
        else:
            self.bus.publish(WatchlistChanged(name))

    def add(self, name: str, symbols: list[str] | tuple[str, ...]) -> int:
        """Append symbols not yet in the list; returns how many were added."""
        cleaned = [_clean(s) for s in symbols]
        added = 0
        with self.db.connect() as c:
            wid = self._id(c, name)
            pos = c.execute(
                ("SELECT COALESCE(MAX(position), -1) + 1 FROM watchlist_items WHERE watchlist_id=:w"),
                {"w": wid},
            ).fetchone()[0]
            for s in dict.fromkeys(cleaned):
                r = c.execute(
                    ("INSERT OR IGNORE INTO watchlist_items(watchlist_id, symbol, position) "
                        "VALUES (:w, :s, :p)"
                    ),
                    {"w": wid, "s": s, "p": pos + added},
                )
                added += r.rowcount
        self.bus.publish(WatchlistChanged(name))
        return added

    def remove(self, name: str, symbols: list[str] | tuple[str, ...]) -> None:
        with self.db.connect() as c:
            wid = self._id(c, name)
            for s in symbols:
                c.execute(
                    ("DELETE FROM watchlist_items WHERE watchlist_id=:w AND symbol=:s"),
                    {"w": wid, "s": s.strip().upper()},
                )
        self.bus.publish(WatchlistChanged(name))

    def rename(self, old: str, new: str) -> None:
        new = new.strip()
        if not new:
            raise WatchlistError("a watchlist needs a name")
        with self.db.connect() as c:
            wid = self._id(c, old)
            if c.execute("SELECT 1 FROM watchlists WHERE name=:n", {"n": new}).fetchone():
                raise WatchlistError(f"a watchlist named {new!r} already exists")
            c.execute("UPDATE watchlists SET name=:n WHERE id=:w", {"n": new, "w": wid})
        self.bus.publish(WatchlistChanged(new))

    def delete(self, name: str) -> None:
        with self.db.connect() as c:
            wid = self._id(c, name)
            c.execute("DELETE FROM watchlists WHERE id=:w", {"w": wid})
        self.bus.publish(WatchlistChanged(name))

    @staticmethod
    def _id(conn: sqlite3.Connection, name: str) -> int:
        row = conn.execute("SELECT id FROM watchlists WHERE name=:n", {"n": name}).fetchone()
        if row is None:
            raise WatchlistError(f"there is no watchlist named {name!r}")
        return int(row[0])
