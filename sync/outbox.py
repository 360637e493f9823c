"""The offline outbox and the cache of pulled items, in the local store (tables of 0011_sync).

Writes go here first and are delivered in order by ``sync.service.SyncService``; each row
keeps the ``Idempotency-Key`` it is always sent with, so a retry after a lost answer (or after
an app restart) is applied once by the service. Everything is per ``account`` (the service URL
and the e-mail), so one user's queued writes are never sent as another's.
"""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Any

from engine.store.db import Database


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    idem_key: str
    method: str
    path: str
    body: Any
    kind: str
    key: str
    attempts: int
    next_try: float
    last_error: str


@dataclass(frozen=True, slots=True)
class CachedItem:
    kind: str
    key: str
    data: dict[str, Any]
    deleted: bool
    #: the service's version; 0 while the item was only written here
    version: int
    updated_at: str


class SyncStore:
    """Outbox, cache and cursor of one account."""

    def __init__(self, db: Database, account: str) -> None:
        self.db = db
        self.account = account

    # --- outbox ------------------------------------------------------------------------------

    def enqueue(self, c: sqlite3.Connection, method: str, path: str, body: Any, kind: str, key: str) -> str:
        """Queue a write inside the caller's transaction ``c``; returns its idempotency key."""
        idem = uuid.uuid4().hex
        c.execute("INSERT INTO sync_outbox(account, idem_key, method, path, body, kind, key, attempts, "
                  "next_try, last_error, failed, created_at) VALUES (?,?,?,?,?,?,?,0,0,'',0,?)",
                  (self.account, idem, method, path, None if body is None else json.dumps(body, sort_keys=True),
                   kind, key, time.time()))
        return idem

    def due(self, now: float) -> list[OutboxEntry]:
        """Writes waiting to be sent, oldest first, up to the first that must wait (order is kept)."""
        with self.db.connect(write=False) as c:
            rows = c.execute("SELECT id, idem_key, method, path, body, kind, key, attempts, next_try, last_error "
                             "FROM sync_outbox WHERE account=? AND failed=0 ORDER BY id", (self.account,)).fetchall()
        out = []
        for r in rows:
            if r[8] > now:
                break
            out.append(OutboxEntry(r[0], r[1], r[2], r[3], None if r[4] is None else json.loads(r[4]),
                                   r[5], r[6], r[7], r[8], r[9]))
        return out

    def pending(self) -> int:
        with self.db.connect(write=False) as c:
            return int(c.execute("SELECT COUNT(*) FROM sync_outbox WHERE account=? AND failed=0",
                                 (self.account,)).fetchone()[0])

    def next_try(self) -> float | None:
        with self.db.connect(write=False) as c:
            row = c.execute("SELECT MIN(next_try) FROM sync_outbox WHERE account=? AND failed=0",
                            (self.account,)).fetchone()
        return None if row[0] is None else float(row[0])

    def failures(self) -> list[tuple[str, str]]:
        """(path, reason) of writes the service refused for good."""
        with self.db.connect(write=False) as c:
            return [(r[0], r[1]) for r in c.execute(
                "SELECT path, last_error FROM sync_outbox WHERE account=? AND failed=1 ORDER BY id", (self.account,))]

    def clear_failures(self) -> None:
        with self.db.connect() as c:
            c.execute("DELETE FROM sync_outbox WHERE account=? AND failed=1", (self.account,))

    def has_pending(self, c: sqlite3.Connection, kind: str, key: str) -> bool:
        return c.execute("SELECT 1 FROM sync_outbox WHERE account=? AND kind=? AND key=? AND failed=0",
                         (self.account, kind, key)).fetchone() is not None

    def delivered(self, entry: OutboxEntry, answer: Any) -> None:
        """``entry`` reached the service: drop it and take the service's version and time."""
        with self.db.connect() as c:
            c.execute("DELETE FROM sync_outbox WHERE id=?", (entry.id,))
            if isinstance(answer, dict) and not self.has_pending(c, entry.kind, entry.key):
                c.execute("UPDATE sync_cache SET version=?, updated_at=? WHERE account=? AND kind=? AND key=?",
                          (int(answer.get("version", 0)), str(answer.get("updated_at", "")), self.account,
                           entry.kind, entry.key))

    def retry_later(self, entry: OutboxEntry, error: str, delay_s: float) -> None:
        with self.db.connect() as c:
            c.execute("UPDATE sync_outbox SET attempts=attempts+1, next_try=?, last_error=? WHERE id=?",
                      (time.time() + delay_s, error, entry.id))

    def failed(self, entry: OutboxEntry, error: str) -> None:
        with self.db.connect() as c:
            c.execute("UPDATE sync_outbox SET attempts=attempts+1, failed=1, last_error=? WHERE id=?",
                      (error, entry.id))

    # --- cache -------------------------------------------------------------------------------

    def items(self, kind: str, c: sqlite3.Connection | None = None) -> dict[str, CachedItem]:
        """The cached items of ``kind`` (tombstones included), by key."""
        def read(conn: sqlite3.Connection) -> dict[str, CachedItem]:
            return {r[0]: CachedItem(kind, r[0], json.loads(r[1]), bool(r[2]), int(r[3]), r[4]) for r in conn.execute(
                "SELECT key, data, deleted, version, updated_at FROM sync_cache WHERE account=? AND kind=? "
                "ORDER BY updated_at, key", (self.account, kind))}
        if c is not None:
            return read(c)
        with self.db.connect(write=False) as conn:
            return read(conn)

    def put_cache(self, c: sqlite3.Connection, item: CachedItem) -> None:
        c.execute("INSERT INTO sync_cache(account, kind, key, data, deleted, version, updated_at) "
                  "VALUES (?,?,?,?,?,?,?) ON CONFLICT(account, kind, key) DO UPDATE SET data=excluded.data, "
                  "deleted=excluded.deleted, version=excluded.version, updated_at=excluded.updated_at",
                  (self.account, item.kind, item.key, json.dumps(item.data, sort_keys=True), int(item.deleted),
                   item.version, item.updated_at))

    # --- cursor ------------------------------------------------------------------------------

    def cursor(self) -> tuple[str, int, float] | None:
        """(updated_after, after_id, last_sync_at), or None before the first pull."""
        with self.db.connect(write=False) as c:
            row = c.execute("SELECT updated_after, after_id, last_sync_at FROM sync_cursors WHERE account=?",
                            (self.account,)).fetchone()
        return None if row is None else (str(row[0]), int(row[1]), float(row[2]))

    def set_cursor(self, c: sqlite3.Connection, updated_after: str, after_id: int) -> None:
        c.execute("INSERT INTO sync_cursors(account, updated_after, after_id, last_sync_at) VALUES (?,?,?,?) "
                  "ON CONFLICT(account) DO UPDATE SET updated_after=excluded.updated_after, "
                  "after_id=excluded.after_id, last_sync_at=excluded.last_sync_at",
                  (self.account, updated_after, after_id, time.time()))

    def touch_cursor(self) -> None:
        with self.db.connect() as c:
            c.execute("UPDATE sync_cursors SET last_sync_at=? WHERE account=?", (time.time(), self.account))
