"""Compiled numba kernels for engine/options, loaded lazily (numpy fallback without numba).

``engine.lazy_kernels.LazyKernels`` does the work, as for the indicators: numba is imported
on the first options call, never by ``import engine.options``; kernels are compiled on first
use and cached on disk. ``set_backend("numpy")`` forces the vectorised numpy implementation
(the tests run both).
"""
from __future__ import annotations

from pathlib import Path

from engine.lazy_kernels import LazyKernels, default_cache_setup

_KERNELS = LazyKernels("engine.options._nb", Path(__file__).resolve().parent, "options",
                       configure_cache=default_cache_setup)

set_backend = _KERNELS.set_backend
backend = _KERNELS.backend
kernels = _KERNELS.kernels
