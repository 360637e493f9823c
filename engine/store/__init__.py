"""Local store (SQLite via SQLAlchemy 2.0, Alembic migrations)."""
from typing import Any

from engine.store.db import (  # noqa: F401
    Database,
    DatabaseCorrupt,
    DatabaseLocked,
    StoreError,
    list_backups,
    open_database,
    restore_backup,
)


def __getattr__(name: str) -> Any:
    if name == "Base":  # built lazily: importing SQLAlchemy's ORM costs ~0.3 s at start-up
        from engine.store import db

        return db.Base
    raise AttributeError(name)
