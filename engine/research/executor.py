"""Where research jobs run: a local process pool, or a Dask cluster given a scheduler address.

Both ship the data (the bars) once per worker — the pool through its initializer, Dask by
``client.scatter(data, broadcast=True)`` — and then only small job descriptions per task,
in chunks. Results come back in job order, so they are identical whichever executor ran
them. ``cancel()`` (from any thread) stops a running ``map``: the pool's workers are
terminated and joined (none is left behind), Dask's futures are cancelled; ``map`` then
raises ``Cancelled``.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

_DATA: Any = None


class Cancelled(Exception):
    """The run was cancelled by the user."""


def _init(data: Any) -> None:
    global _DATA
    _DATA = data


def _run_chunk(fn: Callable[[Any, Any], Any], chunk: Sequence[Any]) -> list[Any]:
    return [fn(_DATA, it) for it in chunk]


_ALIGNED: dict[int, tuple[Any, Any]] = {}  # id(shipped data) → (it, its aligned copy), on a Dask worker


def _aligned(x: Any) -> Any:
    """``x`` with every numpy array in it (inside tuples, lists, dicts, dataclasses) aligned.

    Dask hands a worker arrays that point into its network frames, often not aligned to their
    item size; numba compiles slower code for unaligned arrays (the sweep kernel ran about
    1.5× slower on them)."""
    import dataclasses

    import numpy as np

    if isinstance(x, np.ndarray):
        return x if x.flags.aligned else np.array(x, copy=True)
    if isinstance(x, tuple):
        return tuple(_aligned(v) for v in x)
    if isinstance(x, list):
        return [_aligned(v) for v in x]
    if isinstance(x, dict):
        return {k: _aligned(v) for k, v in x.items()}
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        changes = {f.name: _aligned(getattr(x, f.name)) for f in dataclasses.fields(x)
                   if isinstance(getattr(x, f.name), np.ndarray) and not getattr(x, f.name).flags.aligned}
        return dataclasses.replace(x, **changes) if changes else x
    return x


def _run_chunk_with(fn: Callable[[Any, Any], Any], chunk: Sequence[Any], data: Any) -> list[Any]:
    hit = _ALIGNED.get(id(data))
    if hit is None or hit[0] is not data:
        _ALIGNED.clear()  # one data set per worker at a time
        hit = _ALIGNED[id(data)] = (data, _aligned(data))
    return [fn(hit[1], it) for it in chunk]


def _chunks(items: Sequence[Any], workers: int) -> list[list[Any]]:
    size = max(1, min(64, len(items) // (workers * 4) or 1))
    return [list(items[k:k + size]) for k in range(0, len(items), size)]


class ProcessExecutor:
    """A local pool of ``workers`` processes (default: all cores), started on first use and
    kept while the data is the same object."""

    def __init__(self, workers: int | None = None) -> None:
        n = workers if workers is not None else (os.cpu_count() or 1)
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1024:
            raise ValueError(f"workers must be a whole number from 1 to 1024, not {n!r}")
        self.workers = n
        self._pool: ProcessPoolExecutor | None = None
        self._data_id: int | None = None
        self._cancel = threading.Event()
        self._lock = threading.Lock()

    def pids(self) -> list[int]:
        """The worker processes' ids (for tests and the UI)."""
        pool = self._pool
        procs = getattr(pool, "_processes", None) or {}
        return [int(p) for p in procs]

    def _ensure(self, data: Any) -> ProcessPoolExecutor:
        if self._pool is None or self._data_id != id(data):
            self.close()
            # spawn, not fork: the app has threads (Qt, the event bus) that fork would copy mid-state
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                             initializer=_init, initargs=(data,))
            self._data_id = id(data)
        return self._pool

    def map(self, fn: Callable[[Any, Any], Any], items: Sequence[Any], data: Any,
            progress: Callable[[int, int], None] | None = None) -> list[Any]:
        """``[fn(data, it) for it in items]`` on the pool. Raises ``Cancelled`` after ``cancel()``,
        and re-raises a job's exception (the pool is kept)."""
        self._cancel.clear()
        if not items:
            return []
        pool = self._ensure(data)
        chunks = _chunks(items, self.workers)
        futs: dict[Future[list[Any]], int] = {pool.submit(_run_chunk, fn, c): k for k, c in enumerate(chunks)}
        results: list[list[Any] | None] = [None] * len(chunks)
        done_items = 0
        pending = set(futs)
        while pending:
            if self._cancel.is_set():
                self._kill()
                raise Cancelled("the run was cancelled")
            finished, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            for f in finished:
                k = futs[f]
                results[k] = f.result()
                done_items += len(chunks[k])
                if progress is not None:
                    progress(done_items, len(items))
        return [x for r in results if r is not None for x in r]

    def cancel(self) -> None:
        """Stop the running ``map`` (thread-safe)."""
        self._cancel.set()

    def _kill(self) -> None:
        with self._lock:
            pool, self._pool, self._data_id = self._pool, None, None
            if pool is None:
                return
            procs = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(5)
                if p.is_alive():
                    p.kill()
                    p.join(5)

    def close(self) -> None:
        """Shut the pool down (waits for idle workers to exit)."""
        with self._lock:
            pool, self._pool, self._data_id = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "ProcessExecutor":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class DaskExecutor:
    """Jobs on a ``dask.distributed`` cluster at ``address`` (``tcp://HOST:PORT``), or on a
    given ``client``. The data is scattered to every worker once per data object."""

    def __init__(self, address: str | None = None, *, client: Any = None, timeout: float = 10.0) -> None:
        from distributed import Client

        if client is None:
            if not isinstance(address, str) or "://" not in address:
                raise ValueError(f"a scheduler address is tcp://HOST:PORT, not {address!r}")
            try:
                client = Client(address, timeout=timeout)  # type: ignore[no-untyped-call]
            except (OSError, TimeoutError) as exc:
                raise ValueError(f"cannot reach the Dask scheduler at {address} ({exc})") from None
        self.client = client
        self._own = address is not None
        info = client.scheduler_info()
        self.workers = max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))
        self._data: Any = None
        self._data_id: int | None = None
        self._cancel = threading.Event()

    def map(self, fn: Callable[[Any, Any], Any], items: Sequence[Any], data: Any,
            progress: Callable[[int, int], None] | None = None) -> list[Any]:
        """As ``ProcessExecutor.map``, on the cluster."""
        from distributed import wait as dwait

        self._cancel.clear()
        if not items:
            return []
        if self._data_id != id(data):
            self._data = self.client.scatter(data, broadcast=True)
            self._data_id = id(data)
        chunks = _chunks(items, self.workers)
        futs = self.client.map(_run_chunk_with, [fn] * len(chunks), chunks, data=self._data, pure=False)
        index = {f.key: k for k, f in enumerate(futs)}
        results: list[list[Any] | None] = [None] * len(chunks)
        pending = set(futs)
        n_done = 0
        while pending:
            if self._cancel.is_set():
                self.client.cancel(list(pending))
                raise Cancelled("the run was cancelled")
            try:
                res = dwait(list(pending), timeout=0.1, return_when="FIRST_COMPLETED")  # type: ignore[no-untyped-call]
            except TimeoutError:
                continue
            for f in res.done:
                k = index[f.key]
                results[k] = f.result()
                n_done += len(chunks[k])
                if progress is not None:
                    progress(n_done, len(items))
            pending = set(res.not_done)
        return [x for r in results if r is not None for x in r]

    def cancel(self) -> None:
        self._cancel.set()

    def close(self) -> None:
        if self._own:
            self.client.close()
