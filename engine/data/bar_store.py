"""The bar cache in the local store: bars per (symbol, timeframe), loaded as numpy arrays.

Layout (migration 0002): ``bar_series`` has one row per (symbol, timeframe) with its
source, first/last time and row count; ``bar_chunks`` holds the bars themselves, up to
``CHUNK_BARS`` per row, as one blob of packed little-endian columns::

    time int64[n] | open f8[n] | high f8[n] | low f8[n] | close f8[n] | volume f8[n]

so a chunk is ``48 * n`` bytes. Each chunk row also holds ``crc``, the CRC-32 of the blob
(migration 0005), checked on every load: a damaged blob raises ``CorruptChunk`` naming
the series instead of loading wrong prices (a chunk without one, NULL, is loaded unchecked). Loading is one query, ``numpy.frombuffer`` views and one
copy into preallocated arrays (a million bars in a few tens of ms). Blobs are not
compressed: price and volume floats barely compress and zlib would triple the load time.

Writes go through a plain ``sqlite3`` connection (``Database.raw()``) in one
``BEGIN IMMEDIATE`` transaction: a failed write changes nothing. ``merge`` (incremental
refresh) rewrites only the chunks from the first one that the new bars touch, normally
just the last chunk, and bars with the same timestamp as stored ones replace them.
"""
from __future__ import annotations

import sqlite3
import threading
import time as _time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.data.bars import Bars
from engine.data.errors import DataError
from engine.store.db import CorruptChunk, Database, store_errors

CHUNK_BARS = 65_536
_MMAP_BYTES = 1 << 30
_COLS = ("open", "high", "low", "close", "volume")
_I8 = np.dtype("<i8")
_F8 = np.dtype("<f8")


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """What the cache holds for one (symbol, timeframe). Times are UTC epoch seconds."""

    symbol: str
    timeframe: str
    source: str
    first_ts: int
    last_ts: int
    rows: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class SymbolRecord:
    """A row of the symbol directory (for search and completion)."""

    symbol: str
    name: str = ""
    exchange: str = ""
    sector: str = ""
    source: str = ""


def pack_chunk(t: np.ndarray, o: np.ndarray, h: np.ndarray, lo: np.ndarray,
               c: np.ndarray, v: np.ndarray) -> bytes:
    """Pack equal-length columns into the chunk blob format (see module docstring)."""
    return b"".join((
        np.ascontiguousarray(t, dtype=_I8).tobytes(),
        np.ascontiguousarray(o, dtype=_F8).tobytes(),
        np.ascontiguousarray(h, dtype=_F8).tobytes(),
        np.ascontiguousarray(lo, dtype=_F8).tobytes(),
        np.ascontiguousarray(c, dtype=_F8).tobytes(),
        np.ascontiguousarray(v, dtype=_F8).tobytes(),
    ))


def _validate(bars: Bars) -> None:
    n = len(bars)
    if n == 0:
        raise DataError(f"No bars to store for {bars.symbol} ({bars.timeframe}).")
    for name in _COLS:
        if getattr(bars, name).shape != (n,):
            raise DataError(f"Bars of {bars.symbol}: column {name} has a different length than time.")
    if n > 1 and not bool(np.all(np.diff(bars.time) > 0)):
        raise DataError(f"Bars of {bars.symbol} ({bars.timeframe}): times must be strictly increasing.")


class BarStore:
    """Reads and writes cached bars. Safe to use from several threads (one connection per call)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        # Known SQLite failures (locked, disk full, read-only...) leave as StoreErrors.
        with store_errors(self.db.path):
            conn = self.db.raw()
            try:
                # Memory-mapped reads skip one copy of every page through SQLite's page cache.
                conn.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
                yield conn
            finally:
                conn.close()

    @contextmanager
    def _write(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        with self._conn() as conn:
            if not durable:
                # Regenerable data (demo bars): skip the fsync per commit; WAL stays consistent.
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ reads
    def info(self, symbol: str, timeframe: str) -> SeriesInfo | None:
        """The cached series' metadata, or None if nothing is cached."""
        with self._conn() as conn:
            row = conn.execute(
                "SELECT symbol, timeframe, source, first_ts, last_ts, rows, updated_at "
                "FROM bar_series WHERE symbol=? AND timeframe=?",
                (symbol, timeframe),
            ).fetchone()
        return SeriesInfo(*row) if row else None

    def series(self) -> list[SeriesInfo]:
        """Every cached series, sorted by symbol then timeframe."""
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT symbol, timeframe, source, first_ts, last_ts, rows, updated_at "
                "FROM bar_series ORDER BY symbol, timeframe"
            ).fetchall()
        return [SeriesInfo(*r) for r in rows]

    def fingerprint(self, symbol: str, timeframe: str) -> tuple[object, ...] | None:
        """What identifies the stored bars of (symbol, timeframe) as they are now (None when
        none are stored): the series' row (id, source, range, rows, update time) and its chunks'
        count, last sequence number, bar count and checksum sum. Every write changes it (a new
        or rewritten chunk changes the count, the sequence or the checksums)."""
        with self._conn() as conn:
            head = conn.execute(
                "SELECT id, source, first_ts, last_ts, rows, updated_at FROM bar_series "
                "WHERE symbol=? AND timeframe=?",
                (symbol, timeframe),
            ).fetchone()
            if head is None:
                return None
            agg = conn.execute(
                "SELECT COUNT(*), MAX(seq), TOTAL(n), TOTAL(crc) FROM bar_chunks WHERE series_id=?", (head[0],)
            ).fetchone()
        return (*head, *agg)

    def load(self, symbol: str, timeframe: str, start: int | None = None,
             end: int | None = None) -> Bars | None:
        """Cached bars with ``start <= time < end`` (epoch seconds, None = open), or None.

        Only the chunks overlapping the range are read.
        """
        with self._conn() as conn:
            head = conn.execute(
                "SELECT id, source, rows FROM bar_series WHERE symbol=? AND timeframe=?",
                (symbol, timeframe),
            ).fetchone()
            if head is None:
                return None
            sid, source, total = head
            t_lo = -(2**63) if start is None else int(start)
            t_hi = 2**63 - 1 if end is None else int(end) - 1
            if start is None and end is None:
                chunks = conn.execute(
                    "SELECT n, data, crc, seq FROM bar_chunks WHERE series_id=? ORDER BY seq", (sid,)
                ).fetchall()
            else:
                chunks = conn.execute(
                    "SELECT n, data, crc, seq FROM bar_chunks WHERE series_id=? AND last_ts>=? AND first_ts<=? "
                    "ORDER BY seq",
                    (sid, t_lo, t_hi),
                ).fetchall()
        bad = _first_bad_chunk(chunks)
        if bad is not None:
            raise CorruptChunk(self.db.path, symbol, timeframe, bad)
        out_t, outs = _unpack_many(chunks)
        n_total = len(out_t)
        o, h, lo, c, v = outs
        bars = Bars(symbol, timeframe, out_t, o, h, lo, c, v, source=source)
        if start is not None or end is not None:
            i = int(np.searchsorted(out_t, t_lo, side="left"))
            j = int(np.searchsorted(out_t, t_hi, side="right"))
            if i != 0 or j != n_total:
                bars = bars.slice(i, j)
        elif n_total != total:
            raise DataError(
                f"The cached bars of {symbol} ({timeframe}) are inconsistent "
                f"({n_total} stored, {total} expected). Refresh or re-import them."
            )
        return bars

    # ------------------------------------------------------------------ writes
    def replace(self, bars: Bars, record: SymbolRecord | None = None, durable: bool = True) -> SeriesInfo:
        """Store ``bars`` as the whole series of (symbol, timeframe), dropping what was there.

        ``record`` (optional) updates the symbol directory in the same transaction.
        ``durable=False`` (for bars that can be regenerated, like demo data) commits
        without waiting for the disk.
        """
        _validate(bars)
        with self._write(durable) as conn:
            if record is not None:
                self._upsert(conn, [record])
            conn.execute("DELETE FROM bar_series WHERE symbol=? AND timeframe=?",
                         (bars.symbol, bars.timeframe))
            sid = self._new_series(conn, bars)
            self._write_chunks(conn, sid, 0, bars.time, [getattr(bars, c) for c in _COLS])
            return self._finish(conn, sid, bars.source)

    def merge(self, bars: Bars, record: SymbolRecord | None = None) -> SeriesInfo:
        """Add ``bars`` to the cached series; bars at an existing time replace the stored ones.

        Rewrites only the chunks from the first one whose range reaches ``bars``' first
        time (for an incremental refresh: the last chunk) and appends new chunks.
        ``record`` (optional) updates the symbol directory in the same transaction.
        """
        _validate(bars)
        with self._write() as conn:
            if record is not None:
                self._upsert(conn, [record])
            head = conn.execute(
                "SELECT id FROM bar_series WHERE symbol=? AND timeframe=?",
                (bars.symbol, bars.timeframe),
            ).fetchone()
            if head is None:
                sid = self._new_series(conn, bars)
                self._write_chunks(conn, sid, 0, bars.time, [getattr(bars, c) for c in _COLS])
                return self._finish(conn, sid, bars.source)
            sid = head[0]
            first_new = int(bars.time[0])
            row = conn.execute(
                "SELECT MIN(seq) FROM bar_chunks WHERE series_id=? AND last_ts>=?", (sid, first_new)
            ).fetchone()
            start_seq = row[0]
            if start_seq is None:  # all new bars come after the stored ones
                last = conn.execute(
                    "SELECT seq, n FROM bar_chunks WHERE series_id=? ORDER BY seq DESC LIMIT 1", (sid,)
                ).fetchone()
                if last is None:
                    start_seq = 0
                elif last[1] < CHUNK_BARS:
                    start_seq = last[0]  # fill up the partial last chunk
                else:
                    start_seq = last[0] + 1
            old = conn.execute(
                "SELECT n, data, crc, seq FROM bar_chunks WHERE series_id=? AND seq>=? ORDER BY seq",
                (sid, start_seq),
            ).fetchall()
            for n, blob, crc, seq in old:  # never merge new bars into damaged ones
                if len(blob) != 48 * n or (crc is not None and zlib.crc32(blob) != crc):
                    raise CorruptChunk(self.db.path, bars.symbol, bars.timeframe, seq)
            old_t, old_cols = _unpack_many(old)
            new_cols = [getattr(bars, c) for c in _COLS]
            # New bars first so that np.unique's first occurrence (the new one) wins.
            all_t = np.concatenate([bars.time, old_t])
            uniq, idx = np.unique(all_t, return_index=True)
            cols = [np.concatenate([nc, oc])[idx] for nc, oc in zip(new_cols, old_cols)]
            conn.execute("DELETE FROM bar_chunks WHERE series_id=? AND seq>=?", (sid, start_seq))
            self._write_chunks(conn, sid, start_seq, uniq, cols)
            return self._finish(conn, sid, bars.source)

    def delete(self, symbol: str, timeframe: str | None = None) -> int:
        """Drop the cached series of ``symbol`` (one timeframe or all). Returns how many."""
        with self._write() as conn:
            if timeframe is None:
                cur = conn.execute("DELETE FROM bar_series WHERE symbol=?", (symbol,))
            else:
                cur = conn.execute("DELETE FROM bar_series WHERE symbol=? AND timeframe=?",
                                   (symbol, timeframe))
            return int(cur.rowcount)

    def upsert_symbols(self, records: Iterable[SymbolRecord]) -> None:
        """Add or update rows of the symbol directory (empty fields keep the stored value)."""
        recs = list(records)
        if not recs:
            return
        with self._write() as conn:
            self._upsert(conn, recs)

    @staticmethod
    def _upsert(conn: sqlite3.Connection, records: list[SymbolRecord]) -> None:
        conn.executemany(
            "INSERT INTO symbols(symbol, name, exchange, sector, source) VALUES (?,?,?,?,?) "
            "ON CONFLICT(symbol) DO UPDATE SET "
            "name=CASE WHEN excluded.name<>'' THEN excluded.name ELSE symbols.name END, "
            "exchange=CASE WHEN excluded.exchange<>'' THEN excluded.exchange ELSE symbols.exchange END, "
            "sector=CASE WHEN excluded.sector<>'' THEN excluded.sector ELSE symbols.sector END, "
            "source=CASE WHEN excluded.source<>'' THEN excluded.source ELSE symbols.source END",
            [(r.symbol, r.name, r.exchange, r.sector, r.source) for r in records],
        )

    def symbol_records(self) -> list[SymbolRecord]:
        """The whole symbol directory, sorted by symbol."""
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT symbol, name, exchange, sector, source FROM symbols ORDER BY symbol"
            ).fetchall()
        return [SymbolRecord(*r) for r in rows]

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _new_series(conn: sqlite3.Connection, bars: Bars) -> int:
        cur = conn.execute(
            "INSERT INTO bar_series(symbol, timeframe, source, first_ts, last_ts, rows, updated_at) "
            "VALUES (?,?,?,?,?,?,?)",
            (bars.symbol, bars.timeframe, bars.source, 0, 0, 0, int(_time.time())),
        )
        return int(cur.lastrowid)  # type: ignore[arg-type]

    @staticmethod
    def _write_chunks(conn: sqlite3.Connection, sid: int, seq0: int, t: np.ndarray,
                      cols: list[np.ndarray]) -> None:
        rows = []
        for k, i in enumerate(range(0, len(t), CHUNK_BARS)):
            j = min(i + CHUNK_BARS, len(t))
            blob = pack_chunk(t[i:j], *(c[i:j] for c in cols))
            rows.append((sid, seq0 + k, int(t[i]), int(t[j - 1]), j - i, blob, zlib.crc32(blob)))
        conn.executemany(
            "INSERT INTO bar_chunks(series_id, seq, first_ts, last_ts, n, data, crc) VALUES (?,?,?,?,?,?,?)",
            rows,
        )

    @staticmethod
    def _finish(conn: sqlite3.Connection, sid: int, source: str) -> SeriesInfo:
        first, last, rows = conn.execute(
            "SELECT MIN(first_ts), MAX(last_ts), COALESCE(SUM(n), 0) FROM bar_chunks WHERE series_id=?",
            (sid,),
        ).fetchone()
        conn.execute(
            "UPDATE bar_series SET source=?, first_ts=?, last_ts=?, rows=?, updated_at=? WHERE id=?",
            (source, first, last, rows, int(_time.time()), sid),
        )
        row = conn.execute(
            "SELECT symbol, timeframe, source, first_ts, last_ts, rows, updated_at FROM bar_series WHERE id=?",
            (sid,),
        ).fetchone()
        return SeriesInfo(*row)


def _unpack_many(chunks: list[tuple[int, bytes, int | None, int]]) -> tuple[np.ndarray, list[np.ndarray]]:
    total = sum(c[0] for c in chunks)
    t = np.empty(total, dtype=np.int64)
    cols = [np.empty(total, dtype=np.float64) for _ in _COLS]
    pos = 0
    for n, blob, *_ in chunks:
        t[pos:pos + n] = np.frombuffer(blob, dtype=_I8, count=n)
        for k, arr in enumerate(cols):
            arr[pos:pos + n] = np.frombuffer(blob, dtype=_F8, count=n, offset=8 * n * (k + 1))
        pos += n
    return t, cols


#: Above this many bytes the chunk checksums are verified on two threads (zlib releases the GIL
#: for large buffers, so a 1M-bar load pays about half the CRC time on a 2-core machine).
_PARALLEL_CRC_BYTES = 8 << 20
_CRC_POOL: Any = None
_CRC_POOL_LOCK = threading.Lock()


def _chunk_ok(row: tuple[int, bytes, int | None, int]) -> bool:
    n, blob, crc, _seq = row
    return len(blob) == 48 * n and (crc is None or zlib.crc32(blob) == crc)


def _first_bad_chunk(chunks: list[Any]) -> int | None:
    """The ``seq`` of the first chunk whose size or CRC-32 is wrong (None if all are sound)."""
    global _CRC_POOL
    if sum(len(c[1]) for c in chunks) < _PARALLEL_CRC_BYTES or len(chunks) < 2:
        oks: Iterable[bool] = map(_chunk_ok, chunks)
    else:
        with _CRC_POOL_LOCK:
            if _CRC_POOL is None:
                from concurrent.futures import ThreadPoolExecutor

                _CRC_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bar-crc")
        oks = _CRC_POOL.map(_chunk_ok, chunks)
    for row, ok in zip(chunks, oks):
        if not ok:
            return int(row[3])
    return None
