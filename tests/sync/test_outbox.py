"""The offline outbox against a real service on loopback: offline -> queued -> delivered once
after reconnect, also across an app restart and when the first attempt's answer was lost."""
from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from engine.events import EventBus
from engine.store import open_database
from engine.watchlists import WatchlistService
from sync.client import ServiceClient, make_session
from sync.service import SyncService, SyncStatusChanged, SyncWorker
from sync.tokens import KeyringTokenStore
from tests.sync.conftest import PASSWORD


class Machine:
    """One workstation: its own local store, bus, watchlists and sync service."""

    def __init__(self, path: Any, url: str, keyring_account: str = "", session: requests.Session | None = None) -> None:
        self.path = path
        self.db = open_database(path)
        self.bus = EventBus()
        self.watchlists = WatchlistService(self.db, self.bus)
        self.client = ServiceClient(url, KeyringTokenStore(url + keyring_account),
                                    session=session or make_session(retries=1, backoff_s=0.01))
        self.sync = SyncService(self.db, self.bus, self.watchlists, self.client)
        self.statuses: list[SyncStatusChanged] = []
        self.bus.subscribe(SyncStatusChanged, self.statuses.append)

    def lists(self) -> dict[str, list[str]]:
        return {n: self.watchlists.symbols(n) for n in self.watchlists.names()}

    def outbox(self) -> list[tuple[Any, ...]]:
        with self.db.connect(write=False) as c:
            return c.execute("SELECT method, path, attempts, last_error FROM sync_outbox ORDER BY id").fetchall()

    def close(self) -> None:
        self.sync.close()
        self.db.dispose()


def _due_now(m: Machine) -> None:
    """Skip the backoff wait (the test does not sleep minutes)."""
    with m.db.connect() as c:
        c.execute("UPDATE sync_outbox SET next_try=0")


def test_offline_writes_are_queued_then_delivered_exactly_once_after_reconnect(
        loopback: Any, tmp_path: Any, memory_keyring: Any) -> None:
    m = Machine(tmp_path / "a.sqlite3", loopback.url)
    m.client.register("a@example.com", PASSWORD)
    m.client.login("a@example.com", PASSWORD)
    assert m.sync.sync_once().state == "synced"
    loopback.stop()  # the network goes away
    m.watchlists.create("Tech", ["AAPL", "MSFT"])
    m.watchlists.add("Tech", ["NVDA"])
    status = m.sync.sync_once()
    assert status.state == "offline" and status.pending == 1 and "cannot be reached" in status.message
    assert [(r[0], r[2]) for r in m.outbox()] == [("PUT", 1)] and "cannot be reached" in m.outbox()[0][3]
    m.watchlists.remove("Tech", ["MSFT"])
    _due_now(m)
    assert m.sync.sync_once().pending == 2  # a second write queued behind the first
    loopback.start()  # back online
    _due_now(m)
    status = m.sync.sync_once()
    assert status.state == "synced" and status.pending == 0 and m.outbox() == []
    items = loopback.items("a@example.com")
    assert len(items) == 1 and items[0].version == 2  # two writes, each applied once
    assert '"symbols": ["AAPL", "NVDA"]' in items[0].data
    assert m.sync.sync_once().state == "synced" and loopback.items("a@example.com")[0].version == 2
    m.close()


class LoseAnswers(requests.adapters.HTTPAdapter):
    """Sends the request, then drops the service's answer (as a cut connection would)."""

    lose = True

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().send(request, *args, **kwargs)
        if type(self).lose and request.method in ("PUT", "DELETE"):
            raise requests.ConnectionError("connection reset while reading the answer")
        return response


def test_a_write_whose_answer_was_lost_is_applied_once_after_an_app_restart(
        loopback: Any, tmp_path: Any, memory_keyring: Any) -> None:
    session = make_session(retries=0)
    session.mount("http://", LoseAnswers())
    m = Machine(tmp_path / "a.sqlite3", loopback.url, session=session)
    m.client.register("a@example.com", PASSWORD)
    m.client.login("a@example.com", PASSWORD)
    m.sync.sync_once()
    m.watchlists.create("Energy", ["XOM", "CVX"])
    status = m.sync.sync_once()
    assert status.state == "offline" and status.pending == 1
    first = loopback.items("a@example.com")
    assert len(first) == 1 and first[0].version == 1  # it did arrive
    idem = m.outbox()
    m.close()  # the app quits with the write still queued

    restarted = Machine(tmp_path / "a.sqlite3", loopback.url)  # same store, same keyring entry
    assert restarted.outbox() == idem
    _due_now(restarted)
    status = restarted.sync.sync_once()
    assert status.state == "synced" and restarted.outbox() == []
    items = loopback.items("a@example.com")
    assert len(items) == 1 and items[0].version == 1  # replayed, not applied again
    from sqlalchemy import func, select

    from server.models import IdempotencyKey

    with loopback.db() as db:
        assert db.execute(select(func.count()).select_from(IdempotencyKey)).scalar() == 1
    restarted.close()


def test_watchlists_follow_the_user_to_another_machine_and_stay_readable_offline(
        loopback: Any, tmp_path: Any, memory_keyring: Any) -> None:
    a = Machine(tmp_path / "a.sqlite3", loopback.url, "#a")
    a.client.register("a@example.com", PASSWORD)
    a.client.login("a@example.com", PASSWORD)
    a.watchlists.create("Tech", ["AAPL", "MSFT"])
    a.watchlists.create("Banks", ["JPM"])
    assert a.sync.sync_once().state == "synced"

    b = Machine(tmp_path / "b.sqlite3", loopback.url, "#b")
    b.watchlists.create("Tech", ["IBM"])  # same name before the first sync: the synced one wins
    b.watchlists.create("Local", ["TSLA"])
    b.client.login("a@example.com", PASSWORD)
    assert b.sync.sync_once().state == "synced"
    assert b.lists() == {"Tech": ["AAPL", "MSFT"], "Banks": ["JPM"], "Local": ["TSLA"]}

    # changes both ways: a rename and a delete on B, an edit on A
    b.watchlists.rename("Banks", "Financials")
    assert b.sync.sync_once().state == "synced"  # a rename keeps the item (its key)
    b.watchlists.delete("Local")
    assert b.sync.sync_once().state == "synced"
    a.watchlists.add("Tech", ["GOOG"])
    a.sync.sync_once()
    assert a.lists() == {"Tech": ["AAPL", "MSFT", "GOOG"], "Financials": ["JPM"]}
    b.sync.sync_once()
    assert b.lists() == a.lists()
    keys = [(i.key, i.deleted) for i in loopback.items("a@example.com")]
    assert sum(1 for _k, d in keys if d) == 1 and len(keys) == 3  # Local's tombstone

    # offline, B still has the synced lists and their cache
    loopback.stop()
    assert b.sync.sync_once().state == "offline"
    assert b.lists()["Tech"] == ["AAPL", "MSFT", "GOOG"]
    store = b.sync.store()
    assert store is not None
    cached = {i.data.get("name") for i in store.items("watchlist").values() if not i.deleted}
    assert cached == {"Tech", "Financials"}
    loopback.start()
    a.close()
    b.close()


def test_signed_out_nothing_is_sent_and_the_status_says_so(loopback: Any, tmp_path: Any, memory_keyring: Any) -> None:
    m = Machine(tmp_path / "a.sqlite3", loopback.url)
    m.watchlists.create("Tech", ["AAPL"])
    assert m.sync.sync_once().state == "signed_out"
    assert m.outbox() == []
    m.close()


def test_a_refused_write_is_kept_aside_with_its_reason_and_the_rest_goes_on(
        loopback: Any, tmp_path: Any, memory_keyring: Any) -> None:
    m = Machine(tmp_path / "a.sqlite3", loopback.url)
    m.client.register("a@example.com", PASSWORD)
    m.client.login("a@example.com", PASSWORD)
    m.sync.sync_once()
    store = m.sync.store()
    assert store is not None
    with m.db.connect() as c:  # a write the service will refuse (an unknown field)
        store.enqueue(c, "PUT", m.client.item_path("watchlist", "k1"),
                      {"data": {"name": "X", "symbols": [], "colour": "red"}}, "watchlist", "k1")
    m.watchlists.create("Fine", ["AAPL"])
    status = m.sync.sync_once()
    assert status.state == "error" and "colour" in status.message
    assert [i.data for i in loopback.items("a@example.com")] == ['{"name": "Fine", "symbols": ["AAPL"]}']
    m.close()


def test_the_worker_thread_delivers_without_being_asked(loopback: Any, tmp_path: Any, memory_keyring: Any) -> None:
    m = Machine(tmp_path / "a.sqlite3", loopback.url)
    m.client.register("a@example.com", PASSWORD)
    m.client.login("a@example.com", PASSWORD)
    worker = SyncWorker(m.sync, poll_s=30)
    worker.start()
    try:
        m.watchlists.create("Auto", ["SPY"])  # the change wakes the worker
        deadline = time.monotonic() + 15
        while not loopback.items("a@example.com") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(loopback.items("a@example.com")) == 1
        import threading

        assert any(t.name == "sync-worker" for t in threading.enumerate())
    finally:
        worker.stop()
    m.close()
