import sqlite3

import pytest

from engine.health.backups import take_backup
from engine.store import DatabaseCorrupt, list_backups, open_database, restore_backup
from engine.store.db import head_revision


def test_fresh_connection_has_wal_full_sync_and_foreign_keys(db):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    raw = db.raw()
    assert raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert raw.execute("PRAGMA synchronous").fetchone()[0] == 2
    raw.close()


def test_migrations_reach_head_and_reopen_is_idempotent(db):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head_revision()
    db.dispose()
    again = open_database(db.path)
    again.dispose()


def test_unwritable_folder_gives_clear_error(tmp_path):
    from engine.paths import DataDirError

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DataDirError, match="cannot be written"):
        open_database(blocker / "sub" / "db.sqlite3")


def test_corrupt_database_is_refused_untouched_and_restorable(db):
    path = db.path
    with db.session() as s:
        s.execute(__import__("sqlalchemy").text("INSERT INTO kv(key, value) VALUES ('a', 'b')"))
    saved = take_backup(path)
    db.dispose()
    garbage = b"this is not a database" * 100
    path.write_bytes(garbage)
    for side in ("-wal", "-shm"):
        path.with_name(path.name + side).unlink(missing_ok=True)
    with pytest.raises(DatabaseCorrupt) as info:
        open_database(path)
    assert "damaged" in str(info.value) and saved.name in str(info.value)
    assert path.read_bytes() == garbage  # never overwritten
    assert list_backups(path) == [saved]
    aside = restore_backup(path, saved)
    assert aside.read_bytes() == garbage
    restored = open_database(path)
    with restored.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT value FROM kv WHERE key='a'").scalar() == "b"
    restored.dispose()
