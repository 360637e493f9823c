"""One job on a local pool and on a 2-worker Dask LocalCluster gives identical results; cancel
mid-run leaves no worker behind."""
from __future__ import annotations

import os
import threading
import time

import pytest

from engine.research.executor import Cancelled, DaskExecutor, ProcessExecutor
from engine.research.search import SerialExecutor, Study, search
from tests.engine.research.stubs import random_bars

ENTRY = "crosses_above(sma(close, {fast}), sma(close, {slow}))"
EXIT = "crosses_below(sma(close, {fast}), sma(close, {slow}))"


def _slow(_data, x):  # type: ignore[no-untyped-def]
    time.sleep(0.5)
    return x


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive either
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_pool_and_dask_cluster_give_identical_results() -> None:
    from distributed import Client, LocalCluster

    data = [random_bars(700, 1, symbol="A"), random_bars(700, 2, symbol="B")]
    study = Study.from_text(ENTRY, EXIT, ["fast=3:15:3", "slow=10:50:10"], ["fast < slow"])
    serial = search(data, study, min_trades=0, executor=SerialExecutor())
    with ProcessExecutor(2) as pool:
        seen: list[tuple[int, int]] = []
        local = search(data, study, min_trades=0, executor=pool, progress=lambda a, b: seen.append((a, b)))
    assert seen[-1] == (len(local.rows), len(local.rows))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        dask = search(data, study, min_trades=0, executor=DaskExecutor(client=client))
    for a, b, c in zip(serial.rows, local.rows, dask.rows):
        assert a.params == b.params == c.params
        assert a.metrics == b.metrics == c.metrics


def test_cancel_mid_run_leaves_no_worker_behind() -> None:
    pool = ProcessExecutor(2)
    started = threading.Event()
    pids: list[int] = []

    def progress(done: int, total: int) -> None:
        if not started.is_set():
            pids.extend(pool.pids())
            started.set()
            pool.cancel()

    with pytest.raises(Cancelled):
        pool.map(_slow, list(range(40)), None, progress)
    assert started.is_set() and len(pids) == 2
    deadline = time.time() + 5
    while any(_alive(p) for p in pids) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)
    assert pool.pids() == []
    # the executor still works after a cancel
    assert pool.map(_slow, [1, 2], None) == [1, 2]
    pool.close()
