"""Local store (SQLite via SQLAlchemy 2.0, Alembic migrations)."""
from engine.store.db import (  # noqa: F401
    Base,
    Database,
    DatabaseCorrupt,
    DatabaseLocked,
    StoreError,
    backup,
    list_backups,
    open_database,
    restore_backup,
)
