"""Fault injection for the local store, the way SQLite tests itself: fail the n-th write.

``install(monkeypatch)`` wraps ``sqlite3.connect`` so every connection made afterwards
(``Database.raw()``, the SQLAlchemy engines' creators, ``PaperBroker.open``) is a
``FaultyConnection``: each write statement (INSERT/UPDATE/DELETE/REPLACE/CREATE/DROP/ALTER,
COMMIT, stamping pragmas) counts, and the ``plan.fail_at``-th raises
``sqlite3.OperationalError`` (by default "database or disk is full") instead of running.

    plan = install(monkeypatch)          # counting only
    do_the_thing(); n = plan.writes      # how many writes the path makes
    plan.arm(k)                          # the k-th write from now on fails
"""
from __future__ import annotations

import re
import sqlite3
from typing import Any

DISK_FULL = "database or disk is full"
IO_ERROR = "disk I/O error"

_WRITE = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|COMMIT|END|"
    r"PRAGMA\s+(application_id|user_version)\s*=)",
    re.IGNORECASE,
)


class FaultPlan:
    """Counts write statements; raises on the ``fail_at``-th (1-based) once armed."""

    def __init__(self) -> None:
        self.writes = 0
        self.fail_at: int | None = None
        self.error = DISK_FULL
        self.fired = False
        self.statements: list[str] = []

    def arm(self, n: int | None, error: str = DISK_FULL) -> None:
        """Count from zero again; the ``n``-th write fails (None: only count)."""
        self.writes = 0
        self.fail_at = n
        self.error = error
        self.fired = False
        self.statements = []

    def hit(self, sql: str) -> None:
        if not _WRITE.match(sql):
            return
        self.writes += 1
        self.statements.append(sql.split("(", 1)[0][:60])
        if self.fail_at is not None and self.writes == self.fail_at:
            self.fired = True
            raise sqlite3.OperationalError(self.error)


def install(monkeypatch: Any) -> FaultPlan:
    """Route every new sqlite3 connection through a ``FaultPlan`` (undone by monkeypatch)."""
    plan = FaultPlan()
    real_connect = sqlite3.connect

    class FaultyCursor(sqlite3.Cursor):
        def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
            plan.hit(sql)
            return super().execute(sql, parameters)

        def executemany(self, sql: str, seq: Any, /) -> sqlite3.Cursor:  # type: ignore[override]
            plan.hit(sql)
            return super().executemany(sql, seq)

        def executescript(self, script: str, /) -> sqlite3.Cursor:  # type: ignore[override]
            plan.hit(script)
            return super().executescript(script)

    class FaultyConnection(sqlite3.Connection):
        def cursor(self, factory: Any = FaultyCursor) -> sqlite3.Cursor:  # type: ignore[override]
            return super().cursor(factory)

        def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
            return self.cursor().execute(sql, parameters)

        def executemany(self, sql: str, seq: Any, /) -> sqlite3.Cursor:  # type: ignore[override]
            return self.cursor().executemany(sql, seq)

        def executescript(self, script: str, /) -> sqlite3.Cursor:  # type: ignore[override]
            return self.cursor().executescript(script)

        def commit(self) -> None:
            if self.in_transaction:
                plan.hit("COMMIT")
            super().commit()

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", FaultyConnection)
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    return plan


def integrity(path: Any) -> str:
    """``PRAGMA integrity_check`` of the file at ``path`` (on a plain connection)."""
    conn = sqlite3.dbapi2.connect(path)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    return "; ".join(r[0] for r in rows)
