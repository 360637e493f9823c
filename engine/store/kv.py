"""Small named values of the workspace (the open symbol, the data source, a dock's setup)
in the ``kv`` table (migration 0001), stored as JSON."""
from __future__ import annotations

import json
import logging

from engine.store.db import Database

log = logging.getLogger(__name__)


class KeyValueStore:
    """Small workspace state (e.g. the open symbol) in the ``kv`` table, JSON values."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str, default: object = None) -> object:
        with self.db.connect(write=False) as c:
            row = c.execute("SELECT value FROM kv WHERE key=:k", {"k": key}).fetchone()
        if row is None:
            return default
        try:
            return json.loads(row[0])
        except ValueError:  # a damaged entry must not stop the app: treat it as unset
            log.warning("ignoring unreadable value of %r in the kv table", key)
            return default

    def set(self, key: str, value: object) -> None:
        with self.db.connect() as c:
            c.execute(
                ("INSERT INTO kv(key, value) VALUES (:k, :v) ON CONFLICT(key) DO UPDATE SET value=:v"),
                {"k": key, "v": json.dumps(value)},
            )
