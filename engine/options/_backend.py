"""Compiled numba kernels for engine/options, loaded lazily (numpy fallback without numba).

The same pattern as ``engine/indicators/_backend.py``: numba is imported on the first
options call, never by ``import engine.options`` (it costs ~0.3 s of start-up); kernels are
compiled on first use and cached on disk (``cache=True``, cache folder chosen by
``engine.indicators._backend.configure_numba_cache``). ``set_backend("numpy")`` forces the
vectorised numpy implementation (the tests run both).
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from types import ModuleType

log = logging.getLogger(__name__)

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHOICES = ("auto", "numba", "numpy")
_lock = threading.Lock()
_choice = "auto"
_kernels: ModuleType | None = None
_failed: str | None = None


def set_backend(name: str) -> str:
    """Choose ``"auto"`` (numba when it loads), ``"numba"`` or ``"numpy"``; returns the
    previous choice. Raises ValueError for another name, RuntimeError when ``"numba"`` is
    asked for and cannot be loaded."""
    global _choice
    if name not in _CHOICES:
        raise ValueError(f"backend must be one of {', '.join(_CHOICES)}, got {name!r}")
    if name == "numba" and _load() is None:
        raise RuntimeError(f"the numba backend is not available: {_failed}")
    previous, _choice = _choice, name
    return previous


def backend() -> str:
    """``"numba"`` or ``"numpy"``: what the next options call uses."""
    return "numba" if kernels() is not None else "numpy"


def kernels() -> ModuleType | None:
    """The compiled kernel module, or None for the numpy fallback."""
    if _choice == "numpy":
        return None
    return _kernels if _kernels is not None else _load()


def _load() -> ModuleType | None:
    global _kernels, _failed
    if _kernels is not None or _failed is not None:
        return _kernels
    with _lock:
        if _kernels is None and _failed is None:
            try:
                if "numba" not in sys.modules:
                    from engine.indicators._backend import configure_numba_cache
                    configure_numba_cache(_PACKAGE_DIR, os.environ)
                from engine.options import _nb
                _kernels = _nb
            except Exception as exc:  # noqa: BLE001 - any failure means: use numpy
                _failed = f"{type(exc).__name__}: {exc}"
                log.warning("numba unavailable (%s); options use the numpy fallback", _failed)
    return _kernels
