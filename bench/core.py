"""Benchmark registry and timing helpers.

A benchmark module ``bench/bench_<topic>.py`` registers functions with ``@benchmark(name)``;
each returns one ``Result`` or a list of them. ``python -m bench`` imports every module,
runs those whose name contains ``--only WORD`` and prints ours vs the peer with the ratio
(peer_s / ours_s: above 1 means we are faster). Ratios come from one run on one machine;
absolute times on a noisy machine mislead.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@dataclass
class Result:
    name: str
    ours_s: float
    peer: str | None = None
    peer_s: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.peer_s is None or not self.ours_s:
            return None
        return self.peer_s / self.ours_s

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratio"] = self.ratio
        return d


_REGISTRY: dict[str, Callable[[], Result | list[Result]]] = {}


def benchmark(name: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    def deco(fn: Callable[[], Any]) -> Callable[[], Any]:
        _REGISTRY[name] = fn
        return fn

    return deco


def registry() -> dict[str, Callable[[], Result | list[Result]]]:
    return _REGISTRY


def best_of(fn: Callable[[], Any], repeat: int = 5, number: int = 1) -> float:
    """Minimum wall time of ``repeat`` runs of ``number`` calls, per call, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return min(times)


def median_of(fn: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
