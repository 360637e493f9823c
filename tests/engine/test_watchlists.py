import pytest

from engine.events import EventBus, WatchlistChanged
from engine.store.kv import KeyValueStore
from engine.watchlists import WatchlistError, WatchlistService


def test_watchlist_lifecycle_keeps_order_and_publishes(db):
    bus = EventBus()
    seen = []
    bus.subscribe(WatchlistChanged, lambda e: seen.append(e.name))
    svc = WatchlistService(db, bus)
    svc.create("Tech", ["msft", "AAPL"])
    assert svc.add("Tech", ["nvda", "AAPL"]) == 1  # duplicate ignored
    assert svc.symbols("Tech") == ["MSFT", "AAPL", "NVDA"]
    svc.remove("Tech", ["aapl"])
    assert svc.symbols("Tech") == ["MSFT", "NVDA"]
    svc.rename("Tech", "Semis")
    assert svc.names() == ["Semis"]
    assert "Tech" in seen and "Semis" in seen


def test_watchlist_errors_are_clear(db):
    svc = WatchlistService(db, EventBus())
    svc.create("A")
    with pytest.raises(WatchlistError, match="already exists"):
        svc.create("A")
    with pytest.raises(WatchlistError, match="no watchlist named 'B'"):
        svc.symbols("B")
    with pytest.raises(WatchlistError, match="not a valid symbol"):
        svc.add("A", ["BAD SYMBOL"])
    assert svc.symbols("A") == []


def test_deleting_a_watchlist_cascades_its_items(db):
    svc = WatchlistService(db, EventBus())
    svc.create("A", ["X"])
    svc.delete("A")
    with db.engine.connect() as c:
        assert c.exec_driver_sql("SELECT COUNT(*) FROM watchlist_items").scalar() == 0


def test_kv_roundtrip(db):
    kv = KeyValueStore(db)
    assert kv.get("missing", 7) == 7
    kv.set("open", {"symbol": "ACME", "tf": "1d"})
    kv.set("open", {"symbol": "GLOBX", "tf": "1d"})
    assert kv.get("open") == {"symbol": "GLOBX", "tf": "1d"}


def test_kv_treats_an_unreadable_value_as_unset(db):
    with db.connect() as c:
        c.execute("INSERT INTO kv(key, value) VALUES ('broken', '{not json')")
    assert KeyValueStore(db).get("broken", "fallback") == "fallback"
