"""Copy trading's connection to the service: the leaders' published trades reach the
``engine.copytrading.CopyEngine`` as soon as they are published.

Two paths, both feeding ``CopyEngine.on_trades`` (which ignores what it has already
handled, so a trade arriving by both is mirrored once):

* push: a thread holds ``GET /social/stream`` open (server-sent events) for the copied
  leaders and strategies and hands each trade over the moment it arrives (well under a
  second on the same network), reconnecting after each stream's end or a failure;
* poll: every ``interval_s`` (the sync interval, 5 s by default) the trades after each copy's
  cursor are fetched, so nothing is missed while the stream is down.

``run`` is how the engine is called (default: directly on the sync thread; the app passes a
function that runs it on its broker thread)."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from engine.copytrading import CopyEngine, LeaderTrade
from sync.client import ServiceError, SignedOut
from sync.social import SocialClient

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 5.0


class CopySync:
    def __init__(self, social: SocialClient, engine: CopyEngine, *, interval_s: float = DEFAULT_INTERVAL_S,
                 push: bool = True, run: Callable[[Callable[[], Any]], Any] | None = None,
                 on_status: Callable[[str], None] | None = None, stream_s: float = 25.0) -> None:
        self.social, self.engine = social, engine
        self.interval_s = interval_s
        self.push = push
        self.stream_s = stream_s
        self.run = run or (lambda fn: fn())
        self.on_status = on_status or (lambda _s: None)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self.status = "not started"
        #: trades handed to the engine, by path (for the status line and the tests)
        self.pushed = 0
        self.polled = 0

    # ------------------------------------------------------------------ life
    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        self._threads = [threading.Thread(target=self._poll_loop, name="copy-poll", daemon=True)]
        if self.push:
            self._threads.append(threading.Thread(target=self._push_loop, name="copy-push", daemon=True))
        for t in self._threads:
            t.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout_s)
        self._threads = []

    def wake(self) -> None:
        """Poll now and reopen the stream (a copy was started or changed)."""
        self._wake.set()

    def _set_status(self, text: str) -> None:
        if text != self.status:
            self.status = text
            self.on_status(text)

    def _deliver(self, rows: list[dict[str, Any]], pushed: bool) -> None:
        now = int(time.time() * 1000)
        trades = []
        for row in rows:
            try:
                trades.append(LeaderTrade.from_json(row, received_ms=now))
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("a published trade in an unknown shape was skipped: %s", exc)
        if trades:
            if pushed:
                self.pushed += len(trades)
            else:
                self.polled += len(trades)
            self.run(lambda: self.engine.on_trades(trades))

    # ------------------------------------------------------------------ poll
    def poll_once(self) -> int:
        """Fetch the trades after each copy's cursor; how many were handed over."""
        n = 0
        for rel in self.engine.relationships(include_stopped=False):
            after = rel.cursor
            while True:
                page = (self.social.trades_of(rel.leader_id, after) if rel.leader_id is not None
                        else self.social.strategy_trades(int(rel.strategy_id or 0), after))
                items = list(page["items"])
                if not items:
                    break
                self._deliver(items, pushed=False)
                n += len(items)
                after = int(page["last_id"])
        return n

    def _poll_loop(self) -> None:
        self.engine.warm_up()
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.poll_once()
                if not self.push:
                    self._set_status(f"polling every {self.interval_s:g} s")
            except SignedOut:
                self._set_status("signed out: sign in to copy")
            except ServiceError as exc:
                self._set_status(f"offline: {exc}")
            except Exception:  # noqa: BLE001 - the loop must survive
                log.exception("copy trading poll failed")
            self._wake.wait(self.interval_s)

    # ------------------------------------------------------------------ push
    def _push_loop(self) -> None:
        self.engine.warm_up()  # before the stream opens: the first copied trade is not held up
        backoff = 0.5
        while not self._stop.is_set():
            users, strategies, cursor = self.engine.wanted()
            if not users and not strategies:
                self._stop.wait(1.0)
                continue
            try:
                self._set_status("live (push)")
                for row in self.social.stream(users=users, strategies=strategies, after_id=cursor,
                                              max_s=self.stream_s, stop=self._stop):
                    self._deliver([row], pushed=True)
                    if self.engine.wanted()[:2] != (users, strategies):
                        break  # a copy started or stopped: reopen for the new set
                backoff = 0.5
            except SignedOut:
                self._set_status("signed out: sign in to copy")
                self._stop.wait(5.0)
            except ServiceError as exc:
                self._set_status(f"push unavailable ({exc}); polling every {self.interval_s:g} s")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            except Exception:  # noqa: BLE001 - the loop must survive
                log.exception("copy trading stream failed")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)


__all__ = ["DEFAULT_INTERVAL_S", "CopySync"]
