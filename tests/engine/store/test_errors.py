"""Store failures are StoreErrors with one-sentence messages, from every path."""
from __future__ import annotations

import sqlite3

import pytest

from engine.data.bar_store import BarStore
from engine.data.service import DataService
from engine.events import EventBus
from engine.store import db as dbmod
from engine.store.db import (
    DatabaseCorrupt,
    DatabaseIncomplete,
    DatabaseLocked,
    DiskFull,
    DiskIOError,
    ReadOnlyDatabase,
    StoreError,
    open_database,
    translate_sqlite_error,
)
from engine.store.kv import KeyValueStore
from tests.engine.store.stubs import make_bars, make_store_of_0004
from tests.faults import install


@pytest.fixture
def short_busy(monkeypatch):
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_S", 0.2)


@pytest.fixture
def locker():
    held = []

    def lock(path):
        conn = sqlite3.dbapi2.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.append(conn)

    yield lock
    for c in held:
        c.execute("ROLLBACK")
        c.close()


def one_sentence(msg: str) -> bool:
    body = msg.rstrip(".")
    return msg.endswith(".") and ". " not in body.replace(str(dbmod.Path.home()), "")


def test_locked_database_gives_database_locked_on_every_path(tmp_path, short_busy, locker):
    path = tmp_path / "s.sqlite3"
    db = open_database(path)
    csv = tmp_path / "LCK.csv"
    csv.write_text("Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\n")
    locker(path)
    svc = DataService(db, bus=EventBus())
    with pytest.raises(DatabaseLocked, match="locked by another process; close the other"):
        svc.import_csv(csv)
    with pytest.raises(DatabaseLocked):
        BarStore(db).replace(make_bars(5))
    with pytest.raises(DatabaseLocked):
        KeyValueStore(db).set("a", 1)


def test_locked_database_during_migration_gives_database_locked(tmp_path, short_busy, locker):
    path = tmp_path / "old.sqlite3"
    make_store_of_0004(path)
    locker(path)
    with pytest.raises(DatabaseLocked) as info:
        open_database(path)
    assert one_sentence(str(info.value))


def test_disk_full_during_import_is_disk_full_and_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    db = open_database(path)
    csv = tmp_path / "DSKF.csv"
    csv.write_text("Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\n")
    plan = install(monkeypatch)
    plan.arm(3)
    with pytest.raises(DiskFull, match="is full, so nothing was saved; free some space") as info:
        DataService(db, bus=EventBus()).import_csv(csv)
    assert one_sentence(str(info.value))
    plan.arm(None)
    assert BarStore(db).info("DSKF", "1d") is None


def test_read_only_database_is_read_only_database(tmp_path, monkeypatch):
    db = open_database(tmp_path / "s.sqlite3")
    plan = install(monkeypatch)
    plan.arm(1, "attempt to write a readonly database")
    with pytest.raises(ReadOnlyDatabase, match="is read-only, so nothing was saved; make the file"):
        KeyValueStore(db).set("a", 1)


@pytest.mark.parametrize(("text", "cls"), [
    ("database is locked", DatabaseLocked),
    ("database or disk is full", DiskFull),
    ("attempt to write a readonly database", ReadOnlyDatabase),
    ("disk I/O error", DiskIOError),
    ("no such table: bar_chunks", DatabaseIncomplete),
    ("database disk image is malformed", DatabaseCorrupt),
    ("something else entirely", StoreError),
])
def test_translate_sqlite_error(tmp_path, text, cls):
    err = translate_sqlite_error(sqlite3.OperationalError(text), tmp_path / "s.sqlite3")
    assert type(err) is cls
    assert str(tmp_path / "s.sqlite3") in str(err)
    if cls in (DatabaseLocked, DiskFull, ReadOnlyDatabase, DiskIOError):
        assert one_sentence(str(err)), str(err)


def test_translate_accepts_sqlalchemy_wrapped_errors(tmp_path):
    from sqlalchemy.exc import OperationalError

    wrapped = OperationalError("INSERT ...", {}, sqlite3.OperationalError("database or disk is full"))
    assert isinstance(translate_sqlite_error(wrapped, tmp_path / "s"), DiskFull)


def test_constraint_errors_are_not_store_errors(tmp_path):
    db = open_database(tmp_path / "s.sqlite3")
    with pytest.raises(sqlite3.IntegrityError):
        with db.connect() as c:
            c.execute("INSERT INTO watchlists(name) VALUES ('a')")
            c.execute("INSERT INTO watchlists(name) VALUES ('a')")
