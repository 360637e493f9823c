"""Builders shared by widget tests: synthetic bars and a synchronous task runner."""
from __future__ import annotations

import numpy as np

from engine.data.bars import Bars


def make_bars(symbol: str = "TEST", n: int = 300, seed: int = 1, source: str = "csv",
              timeframe: str = "1d") -> Bars:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[close[0], close[:-1]] * (1 + rng.normal(0, 0.002, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    step = 86400 if timeframe == "1d" else 60
    t = 1_600_000_000 // 86400 * 86400 + np.arange(n, dtype=np.int64) * step
    vol = rng.integers(1_000, 100_000, n).astype(float)
    return Bars.from_arrays(symbol, timeframe, t, open_, high, low, close, vol, source)


class FakeData:
    """A bar source: every symbol gets deterministic synthetic bars; UNKNOWN fails."""

    def __init__(self, source: str = "csv") -> None:
        self.source = source
        self.calls: list[tuple[str, str]] = []

    def get_bars(self, symbol: str, timeframe: str = "1d", refresh: bool = False) -> Bars:
        self.calls.append((symbol, timeframe))
        if symbol == "UNKNOWN":
            raise ValueError("Unknown symbol UNKNOWN")
        return make_bars(symbol, seed=sum(map(ord, symbol)), source=self.source, timeframe=timeframe)


class SyncTasks:
    """Runs submitted work immediately on the calling thread (deterministic widget tests)."""

    def __init__(self) -> None:
        self.labels: list[str] = []

    def submit(self, fn, *args, label="", on_result=None, on_error=None, on_progress=None,
               on_finished=None, **kwargs):
        self.labels.append(label)
        try:
            result = fn(*args, **kwargs)
            if hasattr(result, "__next__"):
                from engine.progress import Progress
                while True:
                    try:
                        item = next(result)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    if on_progress and isinstance(item, Progress):
                        on_progress(item)
        except Exception as exc:  # noqa: BLE001
            if on_error:
                on_error(exc)
        else:
            if on_result:
                on_result(result)
        if on_finished:
            on_finished()
        return self

    def cancel(self) -> None:
        pass
