"""Data layer: loading cached bars and importing CSV files.

- ``data.store_load_1m``: load 1,000,000 one-minute bars of one symbol from the local
  store into numpy arrays (``BarStore.load``). Peer: ``pandas.read_csv`` of the same bars
  written as a CSV (what a user would otherwise keep them in). Target: <= 150 ms.
- ``data.csv_import_orcl``: ``DataService.import_csv`` of ORCL-1995-2014.csv (5,036 rows)
  into a fresh store: sniffing, parsing, validation and the write. Peer:
  ``pandas.read_csv`` of the same file alone, for scale (it validates and stores nothing).

Everything happens in a temporary folder.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.core import SHARED_DATA, Result, benchmark, best_of


def _bars(n: int):  # noqa: ANN202
    from engine.data.bars import Bars

    rng = np.random.default_rng(42)
    t = 1_600_000_000 + 60 * np.arange(n, dtype=np.int64)
    c = 100 + np.cumsum(rng.normal(0, 0.05, n))
    return Bars.from_arrays("BENCH", "1m", t, c, c + 0.05, c - 0.05, c + 0.01,
                            rng.integers(1, 10_000, n).astype(float))


@benchmark("data.store_load_1m")
def store_load_1m() -> Result:
    from engine.data.bar_store import BarStore
    from engine.store import open_database

    n = 1_000_000
    bars = _bars(n)
    with tempfile.TemporaryDirectory() as d:
        db = open_database(Path(d) / "bench.sqlite3")
        store = BarStore(db)
        store.replace(bars)
        loaded = store.load("BENCH", "1m")
        assert loaded is not None and np.array_equal(loaded.close, bars.close)
        ours = best_of(lambda: store.load("BENCH", "1m"), repeat=7)
        csv = Path(d) / "bench.csv"
        bars.to_frame().to_csv(csv)
        ref = pd.read_csv(csv)
        assert len(ref) == n
        peer = best_of(lambda: pd.read_csv(csv).to_numpy(), repeat=3)
        db.dispose()
    return Result("data.store_load_1m", ours, "pandas.read_csv", peer,
                  note=f"{n:,} bars; target <= 150 ms")


@benchmark("data.csv_import_orcl")
def csv_import_orcl() -> Result:
    from engine.data.service import DataService
    from engine.events import EventBus
    from engine.store import open_database

    path = SHARED_DATA / "ORCL-1995-2014.csv"
    times = []
    with tempfile.TemporaryDirectory() as d:
        for i in range(5):
            db = open_database(Path(d) / f"fresh{i}.sqlite3")
            svc = DataService(db, bus=EventBus())

            t0 = time.perf_counter()
            res = svc.import_csv(path)
            times.append(time.perf_counter() - t0)
            assert res.rows == 5036
            db.dispose()
    peer = best_of(lambda: pd.read_csv(path), repeat=5)
    return Result("data.csv_import_orcl", min(times), "pandas.read_csv", peer,
                  note="5,036 rows into a fresh store; the peer only parses")
