"""Offline-first sync of the user's shared data (first: watchlists) with the service.

``SyncService.sync_once()`` is one round, on the calling thread (the background ``SyncWorker``
thread in the app, never the GUI thread):

1. *Record*: the local watchlists are compared with the cache (what the service last had, plus
   the writes already queued); each difference becomes a write in the outbox (a new list: a
   ``PUT`` with a new key; changed symbols or a rename: a ``PUT`` of its key; a deleted list: a
   ``DELETE``), in the same transaction as the cache update. This works offline.
2. *Deliver*: queued writes are sent in order, each with its ``Idempotency-Key``; a write that
   cannot be sent (offline, 5xx) waits with exponential backoff (1 s, 2 s, … 5 min) and the
   writes after it wait too; one the service refuses for good (a 4xx) is kept aside with its
   reason and shown as the status's error.
3. *Pull*: items changed since the cursor are fetched page by page and cached (readable
   offline); each is merged into the local watchlists unless a local write of it is still queued.

Conflicts: last writer wins by the service's clock. Every write gets its time from the service
when it arrives, and a pull applies the service's latest state; a local change still queued
wins over a pulled one because it reaches the service later. On an account's first sync on a
machine the pull comes first: a local list with the name of a synced one takes the synced
symbols; local-only lists are then uploaded.
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from engine.events import Event, EventBus
from engine.store.db import Database
from engine.watchlists import WatchlistChanged, WatchlistError, WatchlistService
from sync.client import ApiError, BadResponse, NotFound, Offline, RateLimited, ServiceClient, ServiceError, SignedOut
from sync.outbox import CachedItem, OutboxEntry, SyncStore

log = logging.getLogger("stockscanner.sync")
WATCHLIST = "watchlist"
#: a pull starts this far before the cursor: a write whose transaction committed after a later
#: one (PostgreSQL, several workers) is not missed; items already cached are skipped
PULL_OVERLAP_S = 5.0
MAX_BACKOFF_S = 300.0
PAGE = 200


@dataclass(frozen=True, slots=True)
class SyncStatusChanged(Event):
    """The sync state after a round (or a sign-in/out). ``state``: ``off`` (no service
    configured), ``signed_out``, ``synced``, ``pending`` (``pending`` writes queued),
    ``offline`` (the service cannot be reached; ``message`` says why) or ``error`` (a write was
    refused or the service answered garbage; ``message`` says why). ``last_sync_at``: epoch
    seconds of the last complete pull, 0 for never."""

    state: str
    pending: int
    message: str
    last_sync_at: float


def _backoff(attempts: int) -> float:
    return min(MAX_BACKOFF_S, 2.0 ** attempts) * random.uniform(0.8, 1.0)


class SyncService:
    """Keeps the watchlists of the signed-in user in step with the service (Qt-free)."""

    def __init__(self, db: Database, bus: EventBus, watchlists: WatchlistService,
                 client: ServiceClient | None = None) -> None:
        self.db, self.bus, self.watchlists = db, bus, watchlists
        self.client = client
        self.off_reason = ""
        self._lock = threading.RLock()  # one round at a time
        self._merging = False
        self.status = SyncStatusChanged("off" if client is None else "signed_out", 0, "", 0.0)
        self.local_changed = threading.Event()
        self._unsubscribe = bus.subscribe(WatchlistChanged, self._on_watchlist_changed)
        #: other kinds of synced data join the round: ``recorders`` queue their writes in the
        #: outbox before it is delivered, ``pullers`` fetch after (``sync/education.py``)
        self.recorders: list[Callable[[SyncStore], int]] = []
        self.pullers: list[Callable[[ServiceClient, SyncStore], int]] = []

    def close(self) -> None:
        self._unsubscribe()

    def set_client(self, client: ServiceClient | None, off_reason: str = "") -> None:
        """Sync with ``client`` (None: no service; ``off_reason`` says why)."""
        with self._lock:
            self.client = client
            self.off_reason = off_reason
        self.publish_status()

    def _on_watchlist_changed(self, _event: WatchlistChanged) -> None:
        if not self._merging:
            self.local_changed.set()

    def account(self) -> str | None:
        c = self.client
        email = c.signed_in_email if c is not None else None
        return f"{c.identity}|{email}" if c is not None and email else None

    def store(self) -> SyncStore | None:
        account = self.account()
        return SyncStore(self.db, account) if account else None

    # --- one round ---------------------------------------------------------------------------

    def sync_once(self) -> SyncStatusChanged:
        """Record, deliver, pull (see the module docstring); publishes and returns the status."""
        with self._lock:
            status = self._round()
            self.status = status
        self.bus.publish(status)
        return status

    def publish_status(self) -> SyncStatusChanged:
        with self._lock:
            store = self.store()
            if self.client is None:
                self.status = SyncStatusChanged("off", 0, self.off_reason, 0.0)
            elif store is None:
                self.status = SyncStatusChanged("signed_out", 0, "Sign in (Account menu) to sync your watchlists.", 0.0)
            else:
                cur = store.cursor()
                n = store.pending()
                self.status = SyncStatusChanged("pending" if n else self.status.state, n, self.status.message,
                                                cur[2] if cur else 0.0)
            status = self.status
        self.bus.publish(status)
        return status

    def _round(self) -> SyncStatusChanged:
        client, store = self.client, self.store()
        if client is None:
            return SyncStatusChanged("off", 0, self.off_reason, 0.0)
        if store is None:
            return SyncStatusChanged("signed_out", 0, "Sign in (Account menu) to sync your watchlists.", 0.0)
        cur = store.cursor()
        last = cur[2] if cur else 0.0
        problem: tuple[str, str] | None = None
        try:
            if cur is None:
                self._pull(client, store)  # first sync of this account here: the service's lists first
            self.local_changed.clear()
            self.record(store)
            for recorder in list(self.recorders):
                recorder(store)
            problem = self._deliver(client, store)
            if problem is None or problem[0] == "error":
                self._pull(client, store)
                for puller in list(self.pullers):
                    puller(client, store)
                last = time.time()
        except SignedOut as exc:
            return SyncStatusChanged("signed_out", store.pending(), str(exc), last)
        except Offline as exc:
            problem = ("offline", str(exc))
        except ServiceError as exc:  # BadResponse, a refused pull
            problem = ("error", str(exc))
        cur = store.cursor()
        last = cur[2] if cur else last
        pending = store.pending()
        failures = store.failures()
        if problem is not None:
            return SyncStatusChanged(problem[0], pending, problem[1], last)
        if failures:
            return SyncStatusChanged("error", pending, f"The service refused a change: {failures[-1][1]}", last)
        return SyncStatusChanged("pending" if pending else "synced", pending, "", last)

    # --- record ------------------------------------------------------------------------------

    def record(self, store: SyncStore) -> int:
        """Queue a write for every difference between the local watchlists and the cache;
        returns how many were queued."""
        names = self.watchlists.names()
        local = {n: self.watchlists.symbols(n) for n in names}
        queued = 0
        client = self.client
        assert client is not None
        with self.db.connect() as c:
            live = {k: it for k, it in store.items(WATCHLIST, c).items() if not it.deleted}
            by_name: dict[str, str] = {}
            extra: list[str] = []
            for key, it in sorted(live.items(), key=lambda kv: kv[1].updated_at, reverse=True):
                name = str(it.data.get("name", ""))
                if name in by_name:
                    extra.append(key)  # two synced lists with one name: the newer one stays
                else:
                    by_name[name] = key
            gone = [k for n, k in by_name.items() if n not in local]
            new = [n for n in names if n not in by_name]
            if len(gone) == 1 and len(new) == 1:  # one list vanished and one appeared: a rename
                by_name[new[0]] = gone.pop()
                new = []
            for name in new:
                by_name[name] = _new_key()
            for name, symbols in local.items():
                key = by_name[name]
                old = live.get(key)
                data = {"name": name, "symbols": symbols}
                if old is None or old.data != data:
                    store.enqueue(c, "PUT", client.item_path(WATCHLIST, key), {"data": data}, WATCHLIST, key)
                    store.put_cache(c, CachedItem(WATCHLIST, key, data, False, old.version if old else 0,
                                                  old.updated_at if old else ""))
                    queued += 1
            for key in gone + extra:
                old = live[key]
                store.enqueue(c, "DELETE", client.item_path(WATCHLIST, key), None, WATCHLIST, key)
                store.put_cache(c, CachedItem(WATCHLIST, key, {}, True, old.version, old.updated_at))
                queued += 1
        return queued

    # --- deliver -----------------------------------------------------------------------------

    def _deliver(self, client: ServiceClient, store: SyncStore) -> tuple[str, str] | None:
        """Send the due writes in order; (state, reason) when one must wait or failed."""
        problem: tuple[str, str] | None = None
        for entry in store.due(time.time()):
            try:
                answer = client.call(entry.method, entry.path, entry.body, idempotency_key=entry.idem_key)
            except NotFound as exc:
                if entry.method == "DELETE":  # already gone on the service: nothing to delete
                    store.delivered(entry, None)
                    continue
                store.failed(entry, exc.message)
                problem = ("error", f"The service refused a change: {exc.message}")
                continue
            except RateLimited as exc:
                store.retry_later(entry, exc.message, exc.retry_after or _backoff(entry.attempts))
                return ("offline", exc.message)
            except (Offline, BadResponse) as exc:
                store.retry_later(entry, str(exc), _backoff(entry.attempts))
                return ("offline" if isinstance(exc, Offline) else "error", str(exc))
            except SignedOut:
                raise
            except ApiError as exc:
                if exc.status in (401, 403):
                    raise SignedOut(exc.status, exc.code, exc.message) from None
                log.warning("sync write %s %s refused: %s", entry.method, entry.path, exc.message)
                store.failed(entry, exc.message)
                problem = ("error", f"The service refused a change: {exc.message}")
                continue
            store.delivered(entry, answer.body)
        return problem

    # --- pull --------------------------------------------------------------------------------

    def _pull(self, client: ServiceClient, store: SyncStore) -> int:
        """Fetch and merge what changed after the cursor; returns how many items were merged."""
        cur = store.cursor()
        updated_after: str | None = None
        after_id = 0
        if cur is not None and cur[0]:
            start = _ts(cur[0]) - dt.timedelta(seconds=PULL_OVERLAP_S)
            updated_after = start.isoformat()
        merged = 0
        for _ in range(10_000):  # bounded: at most 2 million items in one pull
            page = client.pull(WATCHLIST, updated_after, after_id, PAGE)
            merged += self._merge(store, page["items"])
            cursor = page["cursor"]
            updated_after = cursor.get("updated_after") or updated_after
            after_id = int(cursor.get("after_id") or 0)
            if not page.get("more"):
                break
        with self.db.connect() as c:
            prev = store.cursor()
            if updated_after and (prev is None or not prev[0] or _ts(updated_after) >= _ts(prev[0])):
                store.set_cursor(c, updated_after, after_id)
            elif prev is not None:
                store.set_cursor(c, prev[0], prev[1])
            else:
                store.set_cursor(c, "", 0)
        return merged

    def _merge(self, store: SyncStore, items: list[Any]) -> int:
        merged = 0
        for raw in items:
            try:
                item = CachedItem(str(raw["kind"]), str(raw["key"]), dict(raw["data"]), bool(raw["deleted"]),
                                  int(raw["version"]), str(raw["updated_at"]))
            except (KeyError, TypeError, ValueError):
                raise BadResponse("The service answered a sync item in an unknown shape.") from None
            if item.kind != WATCHLIST:
                continue
            with self.db.connect() as c:
                if store.has_pending(c, item.kind, item.key):
                    continue  # our queued write reaches the service later and wins
                old = store.items(item.kind, c).get(item.key)
                if old is not None and old.version >= item.version and old.updated_at == item.updated_at:
                    continue  # seen already (the pull's overlap)
                store.put_cache(c, item)
            self._apply(old, item)
            merged += 1
        return merged

    def _apply(self, old: CachedItem | None, item: CachedItem) -> None:
        """Make the local watchlists show ``item`` (the previous cached state ``old``)."""
        wl = self.watchlists
        self._merging = True
        try:
            names = set(wl.names())
            old_name = str(old.data.get("name", "")) if old is not None and not old.deleted else ""
            if item.deleted:
                if old_name in names:
                    wl.delete(old_name)
                return
            name = str(item.data.get("name", "")).strip()
            symbols = [str(s) for s in item.data.get("symbols", []) if isinstance(s, str)]
            if not name:
                return
            if old_name and old_name != name and old_name in names and name not in names:
                wl.rename(old_name, name)
                names = set(wl.names())
            if name not in names:
                wl.create(name, symbols)
                return
            current = wl.symbols(name)
            if current != [s.strip().upper() for s in symbols]:
                if current:
                    wl.remove(name, current)
                if symbols:
                    wl.add(name, symbols)
        except WatchlistError as exc:
            log.warning("synced watchlist %r not applied: %s", item.data.get("name"), exc)
        finally:
            self._merging = False


def _ts(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _new_key() -> str:
    import uuid

    return uuid.uuid4().hex


class SyncWorker:
    """Runs ``SyncService.sync_once`` on its own daemon thread: at once when woken (a local
    change, a sign-in), when the next queued write is due, and every ``poll_s`` seconds to
    pull. A long-lived loop with its own backoff, not a task of the app's worker pool (whose
    tasks show in the status bar and end)."""

    def __init__(self, service: SyncService, poll_s: float = 30.0,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.service = service
        self.poll_s = poll_s
        self.on_error = on_error
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe = service.bus.subscribe(WatchlistChanged, lambda _e: self.wake())

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sync-worker", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._unsubscribe()
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            wait = self.poll_s
            try:
                status = self.service.sync_once()
                store = self.service.store()
                due = store.next_try() if store is not None and status.pending else None
                if due is not None:
                    wait = min(self.poll_s, max(0.2, due - time.time()))
            except Exception as exc:  # noqa: BLE001 - the loop must survive; the error is reported
                log.exception("sync round failed")
                if self.on_error is not None:
                    self.on_error(exc)
                wait = min(self.poll_s, 10.0)
            self._wake.wait(wait)
