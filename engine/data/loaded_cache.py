"""Bars recently read from the store, and bars recently built from them, kept for the next ask.

Switching a chart's timeframe back and forth (1m → 5m → 1m) asks the data service for the
same stored series again and again; reading 1,000,000 bars back from SQLite takes about 50 ms
of CPU and building 5m bars from them another 20-70 ms. Every entry is keyed by the stored
series' ``BarStore.fingerprint`` (its row and its chunks' count, last sequence number and
checksum sum), read again on every ask: any write to the series (a merge, a re-import, a
replace) changes it, so bars of an older state are never returned.

The cached ``Bars`` are shared by everyone who asks: nobody may change their arrays in place
(the chart copies them before a live quote changes its last bar).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from engine.data.bars import Bars

#: bytes of bars kept (a 1M-bar series is 48 MB)
MAX_BYTES = 128 * 2**20


def bars_bytes(bars: Bars) -> int:
    """The bytes of ``bars``' six columns."""
    return sum(int(getattr(bars, k).nbytes) for k in ("time", "open", "high", "low", "close", "volume"))


class LoadedCache:
    """A thread-safe least-recently-used map of keys to ``Bars``, at most ``max_bytes`` of columns."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError("the loaded-bars cache needs a positive size in bytes")
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[Bars, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        return self._bytes

    def get(self, key: Hashable) -> Bars | None:
        """The bars kept under ``key`` (now the most recently used), or None."""
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            self._items.move_to_end(key)
            return hit[0]

    def put(self, key: Hashable, bars: Bars) -> None:
        """Keep ``bars`` under ``key``, dropping the least recently used beyond ``max_bytes``;
        bars larger than the whole cache are not kept."""
        size = bars_bytes(bars)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self.max_bytes:
                return
            self._items[key] = (bars, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
