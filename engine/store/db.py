"""The local store: one SQLite file, SQLAlchemy 2.0, Alembic migrations.

Every connection gets ``journal_mode=WAL``, ``synchronous=FULL`` (the paper ledger must
survive a killed process) and ``foreign_keys=ON``. ``open_database`` refuses to touch a
file that is not a healthy SQLite database (``DatabaseCorrupt``): it never overwrites it,
and lists the backups a user can restore with ``restore_backup``.

Start-up cost matters (the window must be interactive in well under a second), so this
module imports neither SQLAlchemy nor Alembic: ``Database.engine`` (SQLAlchemy) is created
on first use, ``Database.connect()`` gives a plain ``sqlite3`` transaction for the hot
paths (bars, watchlists), and ``Base`` (the ORM declarative base) is built on first access.

Migration convention: revision ids are zero-padded numbers (``0001``, ``0002``, ...), one
linear chain, files named ``<rev>_<slug>.py``. That lets start-up compare the database's
``alembic_version`` with the newest file name without importing Alembic (≈150 ms) when
nothing needs upgrading.

Identity: every store is stamped ``PRAGMA application_id = APPLICATION_ID`` (0x53544B53,
ASCII "STKS") and ``PRAGMA user_version = <head revision as a number>``. Before anything
writes to an existing file it is probed read-only: a store of ours opens; a store of an
older build (no application id, but our ``alembic_version`` and only our tables) is
adopted and stamped; a store of a newer build (a revision this build does not have) is
refused (``NewerDatabase``), never downgraded; any other SQLite file with tables is
refused untouched (``ForeignDatabase``).

Upgrades run in one ``BEGIN IMMEDIATE`` transaction (SQLite has transactional DDL; the
migration engine uses SQLAlchemy's documented pysqlite recipe so the driver never commits
behind our back): every migration and its ``alembic_version`` stamp commit together or
not at all, so a crash or a full disk leaves the previous version intact. The same lock
serialises concurrent first starts; the version is read again once the lock is held.

Errors: ``translate_sqlite_error`` turns SQLite's errors (locked, disk full, read-only,
I/O error, missing table, malformed) into ``StoreError`` subclasses whose message is one
sentence saying what happened and what to do; ``store_errors(path)`` applies it to a block.
"""
from __future__ import annotations

import datetime as _dt
import logging
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from engine import paths

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_MAGIC = b"SQLite format 3\x00"
#: ``PRAGMA application_id`` of every Stock Scanner store: ASCII "STKS".
APPLICATION_ID = 0x53544B53
#: How long a connection waits for another process's write lock (seconds).
BUSY_TIMEOUT_S = 5.0
#: Every table some revision of ours creates (for adopting older stores).
KNOWN_TABLES = frozenset({
    "alembic_version", "watchlists", "watchlist_items", "kv",  # 0001
    "symbols", "bar_series", "bar_chunks",  # 0002
    "paper_accounts", "paper_orders", "paper_order_events", "paper_fills", "paper_equity",  # 0003
    "custom_indicators", "scan_presets", "scan_runs",  # 0004 (0005 adds a column only)
    "journal_entries", "journal_edits", "journal_attachments", "journal_mappings",  # 0006_journal
    "alerts", "alert_state", "alert_history", "alert_deliveries",  # 0007_alerts
    "option_chains",  # 0008_options
    "news", "news_symbols", "news_feeds",  # 0009_news
    "chart_drawings",  # 0010_drawings
    "sync_outbox", "sync_cache", "sync_cursors",  # 0011_sync
    "research_strategies",  # 0012_research
    "strategies",  # 0013_strategies
    "copy_relationships", "copy_links",  # 0014_copy
    "education_progress", "education_content",  # 0015_education
})
#: The tables a store at the head revision has (a test checks this against a fresh store).
HEAD_TABLES = KNOWN_TABLES


_BASE: Any = None


def __getattr__(name: str) -> Any:
    """``Base``: the declarative base of every ORM table, built on first access."""
    global _BASE
    if name == "Base":
        if _BASE is None:
            from sqlalchemy.orm import DeclarativeBase

            class Base(DeclarativeBase):
                """Declarative base of every ORM table of the local store."""

            _BASE = Base
        return _BASE
    raise AttributeError(name)


class StoreError(RuntimeError):
    """The local store cannot be used; the message says why and what to do."""


class DatabaseCorrupt(StoreError):
    def __init__(self, path: Path, detail: str, backups: list[Path]) -> None:
        self.path = path
        self.backups = backups
        hint = (
            f" Backups you can restore: {', '.join(b.name for b in backups)}."
            if backups
            else " No backup exists yet."
        )
        super().__init__(
            f"The database {path} is damaged ({detail}). It has not been changed.{hint}"
        )


class DatabaseLocked(StoreError):
    """Another process holds a write lock for longer than the busy timeout."""


class DatabaseIncomplete(DatabaseCorrupt):
    """A table the store should have is missing (a damaged or half-created store)."""

    def __init__(self, path: Path, table: str, backups: list[Path]) -> None:
        self.table = table
        super().__init__(path, f"table {table} is missing", backups)


class CorruptChunk(DatabaseCorrupt):
    """A stored chunk of bars fails its checksum; the series must be re-imported or refreshed."""

    def __init__(self, path: Path, symbol: str, timeframe: str, seq: int) -> None:
        self.symbol = symbol
        self.timeframe = timeframe
        self.seq = seq
        self.path = path
        self.backups = []
        StoreError.__init__(
            self,
            f"The stored bars of {symbol} ({timeframe}) in {path} are damaged (chunk {seq} fails its "
            f"checksum); re-import or refresh {symbol} to replace them.",
        )


class ForeignDatabase(StoreError):
    """The file is an SQLite database of another program; it is left untouched."""


class NewerDatabase(StoreError):
    """The store was written by a newer build (a schema this build does not know)."""


class DiskFull(StoreError):
    """The disk is full; the transaction was rolled back."""


class ReadOnlyDatabase(StoreError):
    """The database file (or its folder) cannot be written."""


class DiskIOError(StoreError):
    """The operating system reported an I/O error; the transaction was rolled back."""


def translate_sqlite_error(exc: BaseException, path: Path | str) -> StoreError:
    """The ``StoreError`` for an SQLite error (``sqlite3`` or SQLAlchemy-wrapped) on ``path``.

    Known causes get their own class: ``DatabaseLocked``, ``DiskFull``,
    ``ReadOnlyDatabase``, ``DiskIOError``, ``DatabaseIncomplete`` (no such table),
    ``DatabaseCorrupt`` (malformed file); anything else a plain ``StoreError``. Every
    message is one sentence saying what happened and what to do.
    """
    known = _known_store_error(exc, Path(path))
    if known is not None:
        return known
    orig = getattr(exc, "orig", None) or exc
    return StoreError(f"The database {path} could not be used ({orig}); see the log for details.")


def _known_store_error(exc: BaseException, path: Path) -> StoreError | None:
    if isinstance(exc, StoreError):
        return exc
    orig = getattr(exc, "orig", None) or exc
    if not isinstance(orig, sqlite3.Error) or isinstance(orig, sqlite3.IntegrityError):
        return None
    text = str(orig).lower()
    if "locked" in text or "busy" in text:
        return DatabaseLocked(
            f"The database {path} is locked by another process; close the other Stock Scanner "
            "window or command using it and try again."
        )
    if "disk is full" in text or "database or disk is full" in text:
        return DiskFull(
            f"The disk holding {path} is full, so nothing was saved; free some space and try again."
        )
    if "readonly" in text or "read-only" in text:
        return ReadOnlyDatabase(
            f"The database {path} is read-only, so nothing was saved; make the file and its folder "
            "writable, or choose another data folder."
        )
    if "disk i/o error" in text:
        return DiskIOError(
            f"A disk error interrupted the work on {path}, so nothing was saved; check the disk and try again."
        )
    m = re.search(r"no such table: (?:main\.)?(\w+)", str(orig))
    if m:
        return DatabaseIncomplete(path, m.group(1), list_backups(path))
    if "malformed" in text or "not a database" in text:
        return DatabaseCorrupt(path, str(orig), list_backups(path))
    return None


@contextmanager
def store_errors(path: Path | str) -> Iterator[None]:
    """Re-raise known SQLite errors of the block as ``StoreError`` (see ``translate_sqlite_error``)."""
    try:
        yield
    except sqlite3.Error as exc:
        err = _known_store_error(exc, Path(path))
        if err is None:
            raise
        raise err from exc


def connect_sqlite(path: Path | str, **kwargs: Any) -> sqlite3.Connection:
    """Every connection of the store is made here (tests wrap ``sqlite3.connect`` to inject faults)."""
    kwargs.setdefault("timeout", BUSY_TIMEOUT_S)
    conn: sqlite3.Connection = sqlite3.connect(path, **kwargs)
    return conn


def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    cur = dbapi_conn.cursor()
    # busy_timeout first: switching a fresh file to WAL needs a lock another process may hold
    cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Database:
    """An open local store: plain sqlite3 transactions, and SQLAlchemy on demand."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @cached_property
    def engine(self) -> "Engine":
        """The SQLAlchemy engine (created, and SQLAlchemy imported, on first use)."""
        from sqlalchemy import create_engine, event

        path = self.path
        eng = create_engine(f"sqlite:///{path}", creator=lambda: connect_sqlite(path))
        event.listen(eng, "connect", _on_connect)
        return eng

    @cached_property
    def sessions(self) -> "sessionmaker[Session]":
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def connect(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """A plain sqlite3 connection in one transaction: committed on success, else rolled back.

        ``write=True`` takes the write lock up front (``BEGIN IMMEDIATE``), so a writer waits
        for another (busy timeout) instead of failing half-way.
        Known SQLite errors (locked, disk full, read-only, ...) are raised as ``StoreError``s.
        """
        with store_errors(self.path):
            conn = self.raw()
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                conn.close()

    @contextmanager
    def session(self) -> Iterator["Session"]:
        """A session committed on success and rolled back on error."""
        s = self.sessions()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def raw(self) -> sqlite3.Connection:
        """A plain sqlite3 connection with the same pragmas (for bulk/blob paths)."""
        conn = connect_sqlite(self.path, isolation_level=None)
        try:
            _on_connect(conn, None)
        except BaseException:
            conn.close()
            raise
        return conn

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


@dataclass(frozen=True, slots=True)
class StoreProbe:
    """What a read-only look at an existing database file found."""

    application_id: int
    user_version: int
    tables: frozenset[str]
    revision: str | None  # alembic_version's row; None if the table is missing or empty


def _read_probe(conn: sqlite3.Connection) -> StoreProbe:
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    user_version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    tables = frozenset(
        r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
    )
    revision = None
    if "alembic_version" in tables:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = str(row[0]) if row else None
    return StoreProbe(app_id, user_version, tables, revision)


def probe_file(path: Path) -> StoreProbe | None:
    """Look at ``path`` read-only: None if there is no file (or an empty one).

    Raises ``DatabaseCorrupt`` if it is not a healthy SQLite file and ``DatabaseLocked``
    if another process holds it; the file is never changed.
    """
    if not path.exists() or path.stat().st_size == 0:
        return None
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != SQLITE_MAGIC:
        raise DatabaseCorrupt(path, "not an SQLite file", list_backups(path))
    try:
        conn = connect_sqlite(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("PRAGMA quick_check").fetchone()
            probe = _read_probe(conn) if row and row[0] == "ok" else None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        known = _known_store_error(exc, path)
        if isinstance(known, (DatabaseLocked, DiskIOError)):
            raise known from exc
        raise DatabaseCorrupt(path, str(exc), list_backups(path)) from exc
    if probe is None:
        raise DatabaseCorrupt(path, f"integrity check: {row[0] if row else '?'}", list_backups(path))
    return probe


def check_file(path: Path) -> None:
    """Raise ``DatabaseCorrupt`` if ``path`` exists and is not a healthy SQLite file."""
    probe_file(path)


def backups_dir(path: Path) -> Path:
    return path.parent / "backups"


def list_backups(path: Path) -> list[Path]:
    """Backups of ``path``, newest first."""
    d = backups_dir(path)
    if not d.is_dir():
        return []
    return sorted(d.glob(f"{path.stem}-*.sqlite3"), reverse=True)


def restore_backup(path: Path, backup_file: Path) -> Path:
    """Put ``backup_file`` in place of ``path``; the damaged file is kept beside it.

    Returns where the damaged file was moved.
    """
    check_file(backup_file)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    if path.exists():
        path.replace(aside)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.replace(aside.with_name(aside.name + suffix))
    shutil.copy2(backup_file, path)
    return aside


_REVISION_RE = re.compile(r'^revision\s*=\s*["\']([^"\']+)["\']', re.M)


def revision_number(revision: str) -> int:
    """The number a revision id starts with ("0005" → 5, "0007_alerts" → 7): ``user_version``."""
    return int(revision.split("_", 1)[0])


def known_revisions() -> list[str]:
    """The migration ids of this build, oldest first (see module docstring). An id is the
    file's ``revision = "..."``: the number of its file name ("0005"), or the number and an
    area name ("0007_alerts") for revisions written on parallel branches."""
    out = []
    for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"):
        m = _REVISION_RE.search(p.read_text(encoding="utf-8"))
        out.append(m.group(1) if m else p.name.split("_", 1)[0])
    return sorted(out, key=lambda r: (revision_number(r), r))


def head_revision() -> str:
    """The newest migration id, from the file names (see module docstring)."""
    return known_revisions()[-1]


def current_revision(db: Database) -> str | None:
    """The store's ``alembic_version`` (None for a new store); read-only."""
    probe = probe_file(db.path)
    return probe.revision if probe else None


def _judge(probe: StoreProbe | None, path: Path) -> bool:
    """True if the store at ``path`` is ready as it is; False if it needs upgrading or stamping.

    Raises ``ForeignDatabase``, ``NewerDatabase`` or ``DatabaseIncomplete`` (nothing is changed).
    """
    if probe is None:
        return False
    head = head_revision()
    ours = probe.application_id == APPLICATION_ID
    if not ours:
        adoptable = (
            probe.application_id == 0
            and (not probe.tables or ("alembic_version" in probe.tables and probe.tables <= KNOWN_TABLES))
        )
        if not adoptable:
            raise ForeignDatabase(
                f"The file {path} is an SQLite database of another program, not a Stock Scanner store, "
                "and has not been changed; move it away or choose another data folder."
            )
    if (probe.revision is not None and probe.revision not in known_revisions()) or (
        ours and probe.user_version > revision_number(head)
    ):
        raise NewerDatabase(
            f"The database {path} was written by a newer Stock Scanner (schema "
            f"{probe.revision or probe.user_version}, this build knows up to {head}) and has not been "
            "changed; update Stock Scanner to open it."
        )
    if ours and probe.revision == head:
        missing = sorted(HEAD_TABLES - probe.tables)
        if missing:
            raise DatabaseIncomplete(path, missing[0], list_backups(path))
        return True
    return False


def _migration_engine(path: Path) -> "Engine":
    """An engine whose transactions are real SQLite transactions around DDL too.

    pysqlite left to itself commits around DDL; SQLAlchemy's documented recipe switches
    the driver's transaction handling off (``isolation_level=None``) and emits the BEGIN
    itself, here ``BEGIN IMMEDIATE`` so the write lock is held from the start.
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    eng = create_engine(f"sqlite:///{path}", creator=lambda: connect_sqlite(path), poolclass=NullPool)

    @event.listens_for(eng, "connect")
    def _connect(dbapi_conn: sqlite3.Connection, record: object) -> None:
        dbapi_conn.isolation_level = None
        _on_connect(dbapi_conn, record)

    @event.listens_for(eng, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return eng


def _clear_half_created(conn: Any, probe: StoreProbe, path: Path) -> None:
    """Drop the empty tables an older build left when its first start died before the
    version stamp (every later start then failed with ``table watchlists already exists``)."""
    leftovers = sorted(probe.tables - {"alembic_version"})
    for t in leftovers:
        if conn.exec_driver_sql(f'SELECT 1 FROM "{t}" LIMIT 1').first() is not None:
            raise DatabaseIncomplete(path, "alembic_version", list_backups(path))
    # children before parents (the tables are empty, but foreign keys are on)
    children_first = ("watchlist_items", "bar_chunks", "paper_fills", "paper_order_events",
                      "paper_equity", "paper_orders", "journal_edits", "journal_attachments",
                      "alert_deliveries", "alert_history", "alert_state", "news_symbols")
    for t in sorted(leftovers, key=lambda t: (t not in children_first, t)):
        conn.exec_driver_sql(f'DROP TABLE "{t}"')
    log.warning("%s: removed the empty tables of an interrupted first start: %s", path, ", ".join(leftovers))


#: Stores this process found healthy and at head, with the signature of their files then
#: (``_signature``). ``PRAGMA quick_check`` reads every page of the file, and the workstation
#: opens its store twice at start-up (the shell, then the paper broker): the second check
#: of an unchanged file is skipped. Any change to the file or its WAL checks it again.
_VERIFIED: dict[Path, tuple[tuple[int, int] | None, ...]] = {}


def _signature(path: Path) -> tuple[tuple[int, int] | None, ...]:
    """(size, mtime in ns) of the store file (None: no file) and of its ``-wal`` when that
    holds frames; an empty or missing WAL (connections create and remove it as they open
    and close) means the file alone is the content."""
    out: list[tuple[int, int] | None] = []
    for i, p in enumerate((path, path.with_name(path.name + "-wal"))):
        try:
            st = p.stat()
        except OSError:
            out.append(None)
            continue
        out.append(None if i and st.st_size == 0 else (st.st_size, st.st_mtime_ns))
    return tuple(out)


def upgrade(db: Database) -> None:
    """Bring the store to the head revision and stamp it as ours (see module docstring).

    Does nothing (and imports nothing) when the store is ours and at head; a store this
    process already found so, whose files have not changed since, is not read again.
    Raises ``ForeignDatabase``/``NewerDatabase``/``DatabaseIncomplete`` without changing the
    file, and the ``StoreError`` of ``translate_sqlite_error`` if SQLite fails (then the
    store keeps its previous version).
    """
    key = db.path.resolve()
    sig = _signature(key)
    if sig[0] is not None and _VERIFIED.get(key) == sig:
        return
    _VERIFIED.pop(key, None)
    if _judge(probe_file(db.path), db.path):
        _VERIFIED[key] = sig
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = head_revision()
    eng = _migration_engine(db.path)
    try:
        with eng.begin() as conn:  # BEGIN IMMEDIATE: one writer at a time, all or nothing
            driver = cast(sqlite3.Connection, conn.connection.driver_connection)  # pysqlite
            probe: StoreProbe | None = _read_probe(driver)
            if probe is not None and not probe.tables:
                probe = None
            if _judge(probe, db.path):
                return  # another process finished the upgrade while we waited for the lock
            if probe is not None and probe.revision is None and probe.tables - {"alembic_version"}:
                _clear_half_created(conn, probe, db.path)
            if probe is None or probe.revision != head:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
            conn.exec_driver_sql(f"PRAGMA application_id={APPLICATION_ID}")
            conn.exec_driver_sql(f"PRAGMA user_version={revision_number(head)}")
    except StoreError:
        raise
    except Exception as exc:
        known = _known_store_error(exc, db.path)
        if known is None:
            raise
        raise known from exc
    finally:
        eng.dispose()
    _VERIFIED[key] = _signature(key)  # checked before the upgrade (or new), and ours at head now


def open_database(path: Path | None = None, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the local store at ``path`` (default: the data dir's).

    Raises ``DataDirError`` if the folder cannot be written, ``DatabaseCorrupt`` if the
    file is damaged, ``ForeignDatabase`` if it belongs to another program, ``NewerDatabase``
    if a newer build wrote it (all three leave it untouched), ``DatabaseLocked`` if another
    process holds it, and the other ``StoreError``s of ``translate_sqlite_error`` (disk
    full, read-only, ...) if the upgrade fails; a failed upgrade changes nothing.
    """
    path = Path(path) if path else paths.database_path()
    paths.ensure_writable(path.parent)
    db = Database(path)
    if migrate:
        upgrade(db)
    else:
        check_file(path)
    return db
