"""Compiled numba loops for engine/charts, loaded lazily (the plain-Python loops without numba).

``engine.lazy_kernels.LazyKernels`` does the work, as for the indicators and options: numba
is imported on the first transform that needs a loop, never by ``import engine.charts``.
``set_backend("numpy")`` runs the uncompiled loops (same source; the tests run both).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.charts import _loops
from engine.lazy_kernels import LazyKernels, default_cache_setup

_KERNELS = LazyKernels("engine.charts._nb", Path(__file__).resolve().parent, "chart transforms",
                       configure_cache=default_cache_setup)

set_backend = _KERNELS.set_backend
backend = _KERNELS.backend


def loop(name: str) -> Any:
    """The loop ``name`` of ``_loops``: compiled when numba is in use, else the plain one."""
    nb = _KERNELS.kernels()
    return getattr(nb if nb is not None else _loops, name)
