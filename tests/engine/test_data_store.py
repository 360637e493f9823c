"""Bar cache (chunked blobs) and the DataService over it."""

import numpy as np
import pytest

from engine.data import bar_store
from engine.data.bar_store import BarStore, SymbolRecord
from engine.data.bars import Bars
from engine.data.errors import DataError, UnknownSymbolError
from engine.data.service import DataService
from engine.data.events import BarsUpdated
from engine.events import EventBus


def make_bars(n, t0=1_600_000_000, step=60, symbol="X", tf="1m", seed=1, source="csv"):
    rng = np.random.default_rng(seed)
    t = t0 + step * np.arange(n, dtype=np.int64)
    c = 100 + np.cumsum(rng.normal(0, 1, n))
    return Bars.from_arrays(symbol, tf, t, c, c + 1, c - 1, c + 0.25, rng.integers(0, 10**6, n), source=source)


def same(a, b):
    return all(np.asarray(getattr(a, k)).tobytes() == np.asarray(getattr(b, k)).tobytes()
               for k in ("time", "open", "high", "low", "close", "volume"))


def test_roundtrip_is_byte_exact_across_chunks(db, monkeypatch):
    monkeypatch.setattr(bar_store, "CHUNK_BARS", 1000)
    st = BarStore(db)
    bars = make_bars(3500)
    info = st.replace(bars)
    assert (info.rows, info.first_ts, info.last_ts) == (3500, int(bars.time[0]), int(bars.time[-1]))
    with db.raw() as conn:
        assert conn.execute("SELECT COUNT(*), SUM(n) FROM bar_chunks").fetchone() == (4, 3500)
    out = st.load("X", "1m")
    assert same(out, bars) and out.source == "csv" and out.time.dtype == np.int64
    part = st.load("X", "1m", start=int(bars.time[999]), end=int(bars.time[2001]))
    assert same(part, bars.slice(999, 2001))


def test_append_rewrites_only_the_last_chunk_and_overlap_replaces(db, monkeypatch):
    monkeypatch.setattr(bar_store, "CHUNK_BARS", 1000)
    st = BarStore(db)
    base = make_bars(2500)
    st.replace(base)
    with db.raw() as conn:
        before = dict(conn.execute("SELECT seq, data FROM bar_chunks").fetchall())
    # 10 new bars overlapping the last 3 stored ones, with different values
    new = make_bars(10, t0=int(base.time[-3]), seed=9)
    info = st.merge(new)
    assert info.rows == 2507
    with db.raw() as conn:
        after = dict(conn.execute("SELECT seq, data FROM bar_chunks").fetchall())
    assert after[0] == before[0] and after[1] == before[1]  # untouched full chunks
    assert after[2] != before[2]
    out = st.load("X", "1m")
    assert np.array_equal(out.time[:2497], base.time[:2497])
    assert np.array_equal(out.close[2497:], new.close)  # the new values won
    assert np.array_equal(out.close[:2497], base.close[:2497])
    assert np.all(np.diff(out.time) > 0)


def test_merge_into_the_middle_and_before_the_start(db, monkeypatch):
    monkeypatch.setattr(bar_store, "CHUNK_BARS", 100)
    st = BarStore(db)
    base = make_bars(350)
    st.replace(base)
    fix = make_bars(5, t0=int(base.time[120]), seed=4)
    st.merge(fix)
    early = make_bars(3, t0=int(base.time[0]) - 600, step=60, seed=5)
    st.merge(early)
    out = st.load("X", "1m")
    assert len(out) == 353
    assert np.array_equal(out.close[123:128], fix.close)
    assert np.array_equal(out.close[:3], early.close)
    assert np.array_equal(out.close[128:], base.close[125:])


def test_bad_bars_are_refused_and_change_nothing(db):
    st = BarStore(db)
    st.replace(make_bars(10))
    bad = make_bars(5)
    bad = Bars.from_arrays("X", "1m", bad.time[::-1], bad.open, bad.high, bad.low, bad.close, bad.volume)
    with pytest.raises(DataError, match="strictly increasing"):
        st.merge(bad)
    assert len(st.load("X", "1m")) == 10


def test_delete_cascades_to_chunks(db):
    st = BarStore(db)
    st.replace(make_bars(10))
    assert st.delete("X") == 1
    assert st.load("X", "1m") is None
    with db.raw() as conn:
        assert conn.execute("SELECT COUNT(*) FROM bar_chunks").fetchone()[0] == 0


def test_one_million_bars_roundtrip(db):
    # exact round trip at size; how fast it is belongs to the bench (data.store_load_1m), not here
    st = BarStore(db)
    bars = make_bars(1_000_000)
    st.replace(bars)
    st.load("X", "1m")
    out = st.load("X", "1m")
    assert same(out, bars)


# ----------------------------------------------------------------- DataService

def test_demo_source_generates_caches_and_survives_restart(db):
    bus = EventBus()
    seen = []
    bus.subscribe(BarsUpdated, seen.append)
    svc = DataService(db, bus=bus)
    bars = svc.get_bars("acme")
    assert bars.source == "demo" and len(bars) > 2500
    assert seen == [BarsUpdated("ACME", "1d", len(bars))]
    again = DataService(db, bus=bus).load("ACME")
    assert same(again, bars) and again.source == "demo"
    assert len(seen) == 1  # the second read came from the cache
    with pytest.raises(UnknownSymbolError, match="demo"):
        svc.get_bars("AAPL")
    with pytest.raises(DataError, match="No 1d bars of NOPE"):
        svc.load("NOPE")


def test_symbols_and_search(db, tmp_path):
    svc = DataService(db, bus=EventBus())
    p = tmp_path / "ACMX-2020.csv"
    p.write_text("Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\n2020-01-03,1,2,0.5,1.5,10\n")
    svc.import_csv(p)
    svc.get_bars("ACME", "1m")
    infos = {s.symbol: s for s in svc.symbols()}
    assert len(infos) >= 51 and infos["ACMX"].source == "csv" and infos["ACMX"].timeframes == ("1d",)
    assert infos["ACME"].timeframes == ("1m",) and infos["ACME"].name == "Acme Demo Industries"
    hits = [s.symbol for s in svc.search("acm")]
    assert hits[:2] == ["ACME", "ACMX"]
    by_name = [s.symbol for s in svc.search("Demo Ban")]
    assert "GRNGT" in by_name and "TRSTB" in by_name
    assert len(svc.search("", limit=5)) == 5
    assert svc.demo_symbols()[0] == "ACME"


def test_yahoo_mode_hides_demo_bars_and_source_is_remembered(db):
    svc = DataService(db, bus=EventBus())
    svc.get_bars("ACME")
    svc.set_source("yahoo")
    assert "ACME" not in {s.symbol for s in svc.symbols()}
    import json

    reopened_source = json.loads(db.raw().execute("SELECT value FROM kv WHERE key='data.source'").fetchone()[0])
    assert reopened_source == "yahoo"
    assert DataService.open_default_on(db, bus=EventBus()).source == "yahoo"
    with pytest.raises(DataError, match="Unknown data source"):
        svc.set_source("bloomberg")


def test_import_and_symbol_record_are_one_transaction(db, tmp_path, monkeypatch):
    svc = DataService(db, bus=EventBus())
    p = tmp_path / "TXN.csv"
    p.write_text("Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\n")

    def boom(conn, records):
        raise RuntimeError("disk full")

    monkeypatch.setattr(BarStore, "_write_chunks", staticmethod(lambda *a: boom(None, None)))
    with pytest.raises(RuntimeError):
        svc.import_csv(p)
    assert svc.cached("TXN") is None
    assert "TXN" not in {r.symbol for r in svc.store.symbol_records()}


# ----------------------------------------------------------------- chunk checksums

def _flip_bytes_in_chunk(db, offset=800, count=8):
    from engine.store.db import Database

    conn = Database(db.path).raw()
    blob = bytearray(conn.execute("SELECT data FROM bar_chunks ORDER BY series_id, seq LIMIT 1").fetchone()[0])
    for k in range(offset, offset + count):
        blob[k] ^= 0x5A
    conn.execute("UPDATE bar_chunks SET data=? WHERE rowid=(SELECT rowid FROM bar_chunks ORDER BY series_id, seq LIMIT 1)",
                 (bytes(blob),))
    conn.close()


def test_a_damaged_chunk_is_refused_naming_the_series(db):
    from engine.store.db import CorruptChunk, StoreError

    st = BarStore(db)
    st.replace(make_bars(200, symbol="ORCL", tf="1d", step=86400))
    _flip_bytes_in_chunk(db)  # inside open[]: passes SQLite's quick_check
    assert db.raw().execute("PRAGMA quick_check").fetchone()[0] == "ok"
    with pytest.raises(CorruptChunk, match=r"bars of ORCL \(1d\).*damaged.*re-import or refresh ORCL") as info:
        st.load("ORCL", "1d")
    assert isinstance(info.value, StoreError)
    with pytest.raises(CorruptChunk):  # nor are new bars merged into damaged ones
        st.merge(make_bars(3, t0=1_600_000_000 + 86400 * 199, symbol="ORCL", tf="1d", step=86400))


def test_a_damaged_chunk_is_found_when_checksums_are_verified_in_parallel(db, monkeypatch):
    import engine.data.bar_store as bs
    from engine.store.db import CorruptChunk

    monkeypatch.setattr(bs, "_PARALLEL_CRC_BYTES", 0)  # the threaded path of large loads
    st = BarStore(db)
    st.replace(make_bars(200_000, symbol="ORCL", tf="1m", step=60))
    assert st.load("ORCL", "1m") is not None
    _flip_bytes_in_chunk(db)
    with pytest.raises(CorruptChunk, match=r"bars of ORCL \(1m\)"):
        st.load("ORCL", "1m")


def test_data_service_fetches_a_damaged_demo_series_again(db):
    svc = DataService(db, bus=EventBus())
    good = svc.get_bars("ACME")
    _flip_bytes_in_chunk(db)
    again = svc.get_bars("ACME")  # not a crash: regenerated from the source it came from
    assert same(again, good)
    assert same(svc.load("ACME"), good)
