"""Benchmark registry and timing helpers.

A benchmark module ``bench/bench_<topic>.py`` registers functions with ``@benchmark(name)``;
each returns one ``Result`` or a list of them. ``python -m bench`` imports every module,
runs those whose name contains ``--only WORD`` and prints ours vs the peer with the ratio
(peer_s / ours_s: above 1 means we are faster). Ratios come from one run on one machine;
absolute times on a noisy machine mislead.
"""
from __future__ import annotations

import functools
import os
import platform
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
        d["machine"] = machine_info()
        return d


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # noqa: BLE001 - not installed or no metadata: say so
        return "n/a"


@functools.cache
def machine_info() -> dict[str, str | int]:
    """The machine and libraries a run measured (ratios depend on them): CPU model, core
    count, Python, numpy, numba and TA-Lib versions."""
    return {"cpu": _cpu_model(), "cores": os.cpu_count() or 0,
            "python": platform.python_version(), "numpy": _version("numpy"),
            "numba": _version("numba"), "talib": _version("TA-Lib")}


def machine_line() -> str:
    """machine_info() as one line for the text output."""
    m = machine_info()
    return (f"machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, "
            f"numpy {m['numpy']}, numba {m['numba']}, TA-Lib {m['talib']}")


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
