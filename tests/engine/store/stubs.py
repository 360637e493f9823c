"""Builders shared by the store tests."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from engine.data.bars import Bars
from engine.store.db import open_database


def make_bars(n: int, symbol: str = "X", tf: str = "1d", seed: int = 1, source: str = "csv") -> Bars:
    rng = np.random.default_rng(seed)
    t = 1_600_000_000 + 86_400 * np.arange(n, dtype=np.int64)
    c = 100 + np.cumsum(rng.normal(0, 1, n))
    return Bars.from_arrays(symbol, tf, t, c, c + 1, c - 1, c + 0.25, rng.integers(0, 10**6, n), source=source)


def sql(path: Path, *statements: str) -> list[tuple]:
    """Run statements on a plain connection (autocommit) and return the last one's rows."""
    conn = sqlite3.dbapi2.connect(path, isolation_level=None)
    try:
        rows: list[tuple] = []
        for s in statements:
            rows = conn.execute(s).fetchall()
        return rows
    finally:
        conn.close()


#: what revision 0006_journal adds (children first: foreign keys are on)
JOURNAL_DROPS = ("DROP TABLE journal_edits", "DROP TABLE journal_attachments", "DROP TABLE journal_mappings",
                 "DROP TABLE journal_entries")


def make_store_of_0004(path: Path) -> None:
    """A store as a build before this one left it: revision 0004, no checksum column,
    no application id."""
    open_database(path).dispose()
    sql(path,
        *JOURNAL_DROPS,
        "ALTER TABLE bar_chunks DROP COLUMN crc",
        "UPDATE alembic_version SET version_num='0004'",
        "PRAGMA application_id=0",
        "PRAGMA user_version=0")


def make_half_created_store(path: Path) -> None:
    """What an older build left when its first start died after 0001's tables: those
    tables, an empty alembic_version, no stamp."""
    open_database(path).dispose()
    tables = [r[0] for r in sql(path, "SELECT name FROM sqlite_master WHERE type='table'")]
    drops = [f'DROP TABLE "{t}"' for t in ("journal_edits", "journal_attachments", "journal_mappings",
                                            "journal_entries", "bar_chunks", "bar_series", "symbols", "paper_fills",
                                            "paper_order_events", "paper_equity", "paper_orders",
                                            "paper_accounts", "custom_indicators", "scan_presets",
                                            "scan_runs") if t in tables]
    sql(path, *drops, "DELETE FROM alembic_version", "PRAGMA application_id=0", "PRAGMA user_version=0")
