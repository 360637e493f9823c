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
"""
from __future__ import annotations

import datetime as _dt
import logging
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import paths

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_MAGIC = b"SQLite format 3\x00"
BACKUPS_KEPT = 5


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


def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


class Database:
    """An open local store: plain sqlite3 transactions, and SQLAlchemy on demand."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @cached_property
    def engine(self) -> "Engine":
        """The SQLAlchemy engine (created, and SQLAlchemy imported, on first use)."""
        from sqlalchemy import create_engine, event

        eng = create_engine(f"sqlite:///{self.path}")
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
        """
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
        conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        _on_connect(conn, None)
        return conn

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def check_file(path: Path) -> None:
    """Raise ``DatabaseCorrupt`` if ``path`` exists and is not a healthy SQLite file."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != SQLITE_MAGIC:
        raise DatabaseCorrupt(path, "not an SQLite file", list_backups(path))
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
        try:
            row = conn.execute("PRAGMA quick_check").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc):
            raise DatabaseLocked(f"The database {path} is locked by another process.") from exc
        raise DatabaseCorrupt(path, str(exc), list_backups(path)) from exc
    if not row or row[0] != "ok":
        raise DatabaseCorrupt(path, f"integrity check: {row[0] if row else '?'}", list_backups(path))


def backups_dir(path: Path) -> Path:
    return path.parent / "backups"


def list_backups(path: Path) -> list[Path]:
    """Backups of ``path``, newest first."""
    d = backups_dir(path)
    if not d.is_dir():
        return []
    return sorted(d.glob(f"{path.stem}-*.sqlite3"), reverse=True)


def backup(path: Path) -> Path | None:
    """Copy a healthy database to ``backups/`` with SQLite's online backup API.

    Keeps the newest ``BACKUPS_KEPT``. Returns the backup's path (None if nothing to copy).
    """
    if not path.exists() or path.stat().st_size == 0:
        return None
    d = backups_dir(path)
    d.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = d / f"{path.stem}-{stamp}.sqlite3"
    src = sqlite3.connect(path, timeout=5.0)
    try:
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    for old in list_backups(path)[BACKUPS_KEPT:]:
        old.unlink(missing_ok=True)
    return dest


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


def head_revision() -> str:
    """The newest migration id, from the file names (see module docstring)."""
    revs = [
        p.name.split("_", 1)[0]
        for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    ]
    return max(revs)


def current_revision(db: Database) -> str | None:
    conn = db.raw()
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no table yet
        return None
    finally:
        conn.close()
    return row[0] if row else None


def upgrade(db: Database) -> None:
    """Apply pending Alembic migrations (imports Alembic only when needed)."""
    if current_revision(db) == head_revision():
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_database(path: Path | None = None, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the local store at ``path`` (default: the data dir's).

    Raises ``DataDirError`` if the folder cannot be written, ``DatabaseCorrupt`` if the
    file is damaged (it is left untouched), ``DatabaseLocked`` if another process holds it.
    """
    path = Path(path) if path else paths.database_path()
    paths.ensure_writable(path.parent)
    check_file(path)
    db = Database(path)
    if migrate:
        try:
            upgrade(db)
        except Exception as exc:
            if "locked" in str(exc):
                raise DatabaseLocked(f"The database {path} is locked by another process.") from exc
            raise
    return db
