"""What a chart keeps so that switching its type (or back) does not redo work.

A switch between the bar styles (candles, OHLC, line, …) draws the same bars: the studies
of those bars stay valid and are not computed again. A transform type (Heikin-Ashi, Renko,
Kagi, P&F, …) is computed once per series and kept, with the studies of its result, so
switching back to it is a lookup. Entries are keyed by the chart's *data version*, which
the chart bumps whenever its bars change (a new load, a live quote changing the last bar in
place, a new bar): a result of older bars is never looked up again, and ``drop_before``
frees it.

Both caches are bounded by bytes (the numpy arrays they hold), least recently used first
out, so a 1M-bar chart keeps at most ``max_bytes`` of results beside its bars.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np

#: studies kept per chart: five studies of 1M bars are 40 MB, so two inputs (the bars and one transform)
STUDY_CACHE_BYTES = 96 * 2**20
#: transform results kept per chart: Heikin-Ashi of 1M bars is about 48 MB; Renko/Kagi/P&F are small
SHOWN_CACHE_BYTES = 64 * 2**20


def nbytes(value: Any) -> int:
    """The bytes of the numpy arrays in ``value`` (an array, a tuple/list/dict of them, or a
    dataclass with array fields); other values count a few bytes."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (tuple, list)):
        return sum(nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    if is_dataclass(value) and not isinstance(value, type):
        return sum(nbytes(getattr(value, f.name)) for f in fields(value))
    return 64


class ResultCache:
    """A least-recently-used map from ``(version, …)`` keys to results, at most ``max_bytes``
    of arrays. The first element of every key is the data version the result was made from."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError("a result cache needs a positive size in bytes")
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def get(self, key: Hashable) -> Any | None:
        hit = self._items.get(key)
        if hit is None:
            return None
        self._items.move_to_end(key)
        return hit[0]

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        """Keep ``value`` under ``key``; a value larger than the whole cache is not kept."""
        self.pop(key)
        size = nbytes(value)
        if size > self.max_bytes:
            return
        self._items[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, old) = self._items.popitem(last=False)
            self.bytes -= old

    def pop(self, key: Hashable) -> None:
        hit = self._items.pop(key, None)
        if hit is not None:
            self.bytes -= hit[1]

    def drop(self, match: Any) -> None:
        """Forget every entry whose key satisfies ``match(key)``."""
        for key in [k for k in self._items if match(k)]:
            self.pop(key)

    def drop_before(self, version: int) -> None:
        """Forget the results of bars older than data ``version``."""
        self.drop(lambda k: isinstance(k, tuple) and k[0] < version)

    def clear(self) -> None:
        self._items.clear()
        self.bytes = 0


#: a chart of at least this many bars warms the transforms up (below it a cold first switch is quick anyway)
WARM_UP_MIN_BARS = 100_000
#: how long after such a chart appeared the warm-up starts (ms): not in the way of the first frames
WARM_UP_DELAY_MS = 1000
_warm = {"started": False}


def warm_up_needed(n_bars: int) -> bool:
    """True once per process, for the first chart of ``n_bars`` ≥ ``WARM_UP_MIN_BARS``."""
    return n_bars >= WARM_UP_MIN_BARS and not _warm["started"]


def _resample_5m(bars: Any) -> Any:
    from engine.charts.resample import resample

    return resample(bars, "5m")  # a timeframe switch on stored 1m bars runs this loop


def warm_up(transforms: list[Callable[[Any], Any]]) -> int:
    """Run every transform, and a resample to 5m, on 300 small bars (in a worker): the first
    run of each loads its compiled numba loops and the ATR box's (1.5–2 s on the first Renko
    of a process otherwise). Returns how many ran without an error (the resample counts); an
    error is left for the real run to report."""
    from engine.data.bars import Bars

    _warm["started"] = True
    n = 300
    rng = np.random.default_rng(0)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * 1.002
    low = np.minimum(open_, close) * 0.998
    t = 1_600_000_000 + 60 * np.arange(n, dtype=np.int64)
    bars = Bars.from_arrays("WARMUP", "1m", t, open_, high, low, close, np.full(n, 1000.0), "demo")
    ok = 0
    for fn in [*transforms, _resample_5m]:
        try:
            fn(bars)
            ok += 1
        except Exception:  # noqa: BLE001 - a warm-up only; the chart's own run shows the error
            continue
    return ok
