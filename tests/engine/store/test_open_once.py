"""The store's health check (``PRAGMA quick_check`` reads every page) runs once per process
for an unchanged file: the workstation opens its store twice at start-up (issue 8)."""
import pytest

from engine.store import DatabaseCorrupt, open_database
from engine.store import db as store_db


@pytest.fixture
def probes(monkeypatch):
    calls = []
    real = store_db.probe_file

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(store_db, "probe_file", counting)
    return calls


def test_an_unchanged_store_is_checked_once(db, probes):
    db.dispose()
    open_database(db.path).dispose()
    open_database(db.path).dispose()
    assert probes == []  # the fixture's open checked it; nothing changed since


def test_a_written_store_is_checked_again(db, probes):
    with db.connect() as conn:
        conn.execute("INSERT INTO kv(key, value) VALUES ('a', 'b')")
    open_database(db.path).dispose()
    assert len(probes) == 1
    open_database(db.path).dispose()
    assert len(probes) == 1


def test_a_store_damaged_after_its_check_is_refused(db, probes):
    path = db.path
    db.dispose()
    garbage = b"not a database" * 300
    path.write_bytes(garbage)
    for side in ("-wal", "-shm"):
        path.with_name(path.name + side).unlink(missing_ok=True)
    with pytest.raises(DatabaseCorrupt):
        open_database(path)
    assert path.read_bytes() == garbage
