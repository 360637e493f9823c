"""First starts and upgrades: all-or-nothing, serialised; foreign and newer files untouched."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from engine.data.bar_store import BarStore
from engine.store import db as dbmod
from engine.store.db import (
    APPLICATION_ID,
    HEAD_TABLES,
    DatabaseIncomplete,
    DiskFull,
    ForeignDatabase,
    NewerDatabase,
    StoreError,
    head_revision,
    revision_number,
    open_database,
    revision_number,
)
from engine.store.kv import KeyValueStore
from tests.faults import IO_ERROR, install, integrity
from tests.engine.store.stubs import make_bars, make_half_created_store, make_store_of_0004, sql


def stamp(path):
    return sql(path, "PRAGMA application_id")[0][0], sql(path, "PRAGMA user_version")[0][0]


def revision(path):
    try:
        rows = sql(path, "SELECT version_num FROM alembic_version")
    except sqlite3.OperationalError:
        return None
    return rows[0][0] if rows else None


def user_tables(path):
    return {r[0] for r in sql(path, "SELECT name FROM sqlite_master WHERE type='table' "
                                    "AND name NOT LIKE 'sqlite_%'")}


def test_fresh_store_is_stamped_and_has_every_head_table(tmp_path):
    path = tmp_path / "s.sqlite3"
    open_database(path).dispose()
    assert stamp(path) == (APPLICATION_ID, revision_number(head_revision()))
    assert user_tables(path) == HEAD_TABLES  # the constant the fast path checks is true
    assert revision(path) == head_revision()


def test_opening_a_store_at_head_writes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    open_database(path).dispose()
    plan = install(monkeypatch)
    open_database(path).dispose()
    assert plan.writes == 0, plan.statements


def test_first_start_failing_at_any_write_leaves_a_store_that_opens(tmp_path, monkeypatch):
    plan = install(monkeypatch)
    open_database(tmp_path / "count.sqlite3").dispose()
    total = plan.writes
    assert total >= 25  # every CREATE, the version stamps, the pragmas and the COMMIT
    for n in range(1, total + 1):
        path = tmp_path / f"s{n}.sqlite3"
        error = "database or disk is full" if n % 2 else IO_ERROR  # both kinds, half the time
        plan.arm(n, error)
        with pytest.raises(StoreError) as info:
            open_database(path)
        assert plan.fired
        if error.startswith("database or disk"):
            assert isinstance(info.value, DiskFull) and "full" in str(info.value)
        # before: nothing was created (no half-made tables, no stamp)
        assert user_tables(path) == set(), (n, plan.statements[-1])
        assert integrity(path) == "ok"
        plan.arm(None)
        open_database(path).dispose()  # the next start succeeds
        assert revision(path) == head_revision() and stamp(path)[0] == APPLICATION_ID


def test_upgrade_failing_at_any_write_keeps_the_previous_version(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite3"
    make_store_of_0004(path)
    db = dbmod.Database(path)
    conn = db.raw()
    bars = make_bars(300)
    from engine.data.bar_store import pack_chunk
    conn.execute("INSERT INTO bar_series(symbol, timeframe, source, first_ts, last_ts, rows, updated_at) "
                 "VALUES ('X','1d','csv',?,?,300,0)", (int(bars.time[0]), int(bars.time[-1])))
    conn.execute("INSERT INTO bar_chunks(series_id, seq, first_ts, last_ts, n, data) VALUES (1,0,?,?,300,?)",
                 (int(bars.time[0]), int(bars.time[-1]),
                  pack_chunk(bars.time, bars.open, bars.high, bars.low, bars.close, bars.volume)))
    conn.execute("INSERT INTO kv(key, value) VALUES ('k', '42')")
    conn.close()
    before = path.read_bytes()
    plan = install(monkeypatch)
    # counting run on a copy
    copy = tmp_path / "copy.sqlite3"
    copy.write_bytes(before)
    open_database(copy).dispose()
    total = plan.writes
    assert total >= 4  # ALTER, crc UPDATE, version UPDATE, pragmas, COMMIT
    for n in range(1, total + 1):
        plan.arm(n)
        with pytest.raises(DiskFull):
            open_database(path)
        assert revision(path) == "0004" and stamp(path) == (0, 0), n
        assert "crc" not in {r[1] for r in sql(path, "PRAGMA table_info(bar_chunks)")}
        assert integrity(path) == "ok"
    plan.arm(None)
    db = open_database(path)
    assert revision(path) == head_revision() and stamp(path)[0] == APPLICATION_ID
    assert KeyValueStore(db).get("k") == 42
    out = BarStore(db).load("X", "1d")
    assert np.array_equal(out.close, bars.close)
    assert sql(path, "SELECT crc IS NOT NULL FROM bar_chunks") == [(1,)]  # computed by 0005


def test_an_older_builds_store_is_adopted_with_its_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    make_store_of_0004(path)
    sql(path, "INSERT INTO watchlists(name, position) VALUES ('Mine', 0)")
    open_database(path).dispose()
    assert stamp(path) == (APPLICATION_ID, revision_number(head_revision()))
    assert sql(path, "SELECT name FROM watchlists") == [("Mine",)]


def test_a_store_left_half_created_by_an_older_build_opens(tmp_path):
    # Older builds committed 0001's tables before the version stamp; after a crash every
    # start failed with "table watchlists already exists".
    path = tmp_path / "half.sqlite3"
    make_half_created_store(path)
    assert revision(path) is None and "watchlists" in user_tables(path)
    open_database(path).dispose()
    assert revision(path) == head_revision() and user_tables(path) == HEAD_TABLES


def test_a_foreign_sqlite_file_is_refused_byte_for_byte_untouched(tmp_path):
    path = tmp_path / "notes.sqlite3"
    sql(path, "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)", "INSERT INTO notes(body) VALUES ('hi')")
    before = path.read_bytes()
    with pytest.raises(ForeignDatabase, match="another program.*has not been changed"):
        open_database(path)
    assert path.read_bytes() == before
    assert user_tables(path) == {"notes"}


def test_a_file_with_another_application_id_is_refused_untouched(tmp_path):
    path = tmp_path / "other.sqlite3"
    sql(path, "PRAGMA application_id=1234", "CREATE TABLE kv(key TEXT, value TEXT)")
    before = path.read_bytes()
    with pytest.raises(ForeignDatabase):
        open_database(path)
    assert path.read_bytes() == before


def test_a_newer_builds_store_is_refused_untouched(tmp_path):
    path = tmp_path / "new.sqlite3"
    open_database(path).dispose()
    sql(path, "UPDATE alembic_version SET version_num='0099'", "PRAGMA user_version=99")
    before = path.read_bytes()
    with pytest.raises(NewerDatabase, match=r"newer Stock Scanner \(schema 0099.*update Stock Scanner"):
        open_database(path)
    assert path.read_bytes() == before
    assert revision(path) == "0099"


def test_a_store_missing_a_table_is_called_incomplete(tmp_path):
    path = tmp_path / "s.sqlite3"
    db = open_database(path)
    sql(path, "DROP TABLE kv")
    with pytest.raises(DatabaseIncomplete, match="table kv is missing"):
        open_database(path)
    # and at run time, through the store layer
    with pytest.raises(DatabaseIncomplete, match="table kv is missing"):
        KeyValueStore(db).set("a", 1)
