"""Engine, sessions and migrations of the service database (SQLite or PostgreSQL)."""
from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800)
    _ping_when_idle(engine)
    return engine


#: A pooled connection idle longer than this is tested before use.
IDLE_PING_S = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """``pool_pre_ping`` without its round trip on every checkout: a connection that sat idle
    for more than ``IDLE_PING_S`` (when a server restart or a proxy may have dropped it) is
    tested with ``SELECT 1``; a dead one is replaced before the request sees it. Under load,
    connections come back within milliseconds and go out again untested."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= IDLE_PING_S:
            return
        autocommit = dbapi_conn.autocommit
        try:
            dbapi_conn.autocommit = True
            dbapi_conn.execute("SELECT 1")
            dbapi_conn.autocommit = autocommit
        except Exception as exc:  # noqa: BLE001 - any failure means the connection is gone
            raise DisconnectionError(f"a pooled connection was dead: {exc}") from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


#: The PostgreSQL advisory lock that serialises migrations (any fixed 64-bit number; this is
#: the first 8 bytes of sha256("stockscanner.server.migrate") as a signed integer).
MIGRATION_LOCK_ID = int.from_bytes(hashlib.sha256(b"stockscanner.server.migrate").digest()[:8], "big", signed=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent).

    Safe when several service processes start at once on one database (compose replicas, two
    hosts, systemd restarts): on PostgreSQL each takes a session-level advisory lock first, so
    one migrates while the others wait and then find nothing to do. Without it two processes
    both run ``CREATE TABLE`` and the second one dies (``DuplicateTable``). On a SQLite file the
    same is done with an exclusive ``flock`` on ``<file>.migrate.lock`` (POSIX)."""
    from alembic import command

    if engine.dialect.name == "postgresql":
        with engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            lock.commit()  # the lock belongs to the session; no transaction stays open
            try:
                command.upgrade(_alembic_config(engine), "head")
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
                lock.commit()
        return
    if engine.dialect.name == "sqlite":
        with _file_lock(engine):
            command.upgrade(_alembic_config(engine), "head")
        return
    command.upgrade(_alembic_config(engine), "head")


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database
    try:
        import fcntl
    except ImportError:  # Windows: one embedded service per data folder, nothing to serialise
        fcntl = None  # type: ignore[assignment]
    if fcntl is None or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def migration_state(engine: Engine) -> tuple[str | None, str | None]:
    """(current revision in the database, newest revision in the code)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head


def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session
