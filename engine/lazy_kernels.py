"""Compiled numba kernels loaded on first use, with a numpy fallback: the one pattern that
``engine/indicators`` and ``engine/options`` share.

numba is imported on the first call that needs a kernel, never by importing an engine
package (it costs ~0.3 s, which the app's start-up cannot spare). Before that import the
on-disk cache folder is chosen (``engine.indicators._backend.configure_numba_cache``: next to
the package in a source checkout, the user cache dir in an installed app). Any failure to
load means the numpy fallback, with the reason logged and kept for ``set_backend("numba")``.
"""
from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

log = logging.getLogger(__name__)

CHOICES = ("auto", "numba", "numpy")


class LazyKernels:
    """The kernels module ``module`` (e.g. ``"engine.options._nb"``) of the package in
    ``package_dir``, loaded on first use; ``what`` names the package in log lines."""

    def __init__(self, module: str, package_dir: Path, what: str,
                 configure_cache: Callable[[Path], object] | None = None) -> None:
        self.module = module
        self.package_dir = package_dir
        self.what = what
        self.configure_cache = configure_cache
        self.choice = "auto"
        self.failed: str | None = None  # why numba could not be loaded (None: not tried, or loaded)
        self._kernels: ModuleType | None = None
        self._lock = threading.Lock()

    def set_backend(self, name: str) -> str:
        """Choose ``"auto"`` (numba when it loads, else numpy), ``"numba"`` or ``"numpy"``;
        returns the previous choice. Raises ValueError for another name and RuntimeError for
        ``"numba"`` when numba cannot be loaded (the message says why)."""
        if name not in CHOICES:
            raise ValueError(f"backend must be one of {', '.join(CHOICES)}, got {name!r}")
        if name == "numba" and self._load() is None:
            raise RuntimeError(f"the numba backend is not available: {self.failed}")
        previous, self.choice = self.choice, name
        return previous

    def backend(self) -> str:
        """``"numba"`` or ``"numpy"``: what the next call uses (loads numba under "auto")."""
        return "numba" if self.kernels() is not None else "numpy"

    def kernels(self) -> ModuleType | None:
        """The compiled kernel module, or None when the numpy fallback is to be used."""
        if self.choice == "numpy":
            return None
        return self._kernels if self._kernels is not None else self._load()

    def _load(self) -> ModuleType | None:
        if self._kernels is not None or self.failed is not None:
            return self._kernels
        with self._lock:
            if self._kernels is None and self.failed is None:
                try:
                    if "numba" not in sys.modules and self.configure_cache is not None:
                        self.configure_cache(self.package_dir)
                    self._kernels = importlib.import_module(self.module)
                except Exception as exc:  # noqa: BLE001 - any failure means: use numpy
                    self.failed = f"{type(exc).__name__}: {exc}"
                    log.warning("numba unavailable (%s); %s use the numpy fallback", self.failed, self.what)
        return self._kernels


def default_cache_setup(package_dir: Path) -> object:
    """Choose numba's cache folder for ``package_dir`` (see the module docstring)."""
    from engine.indicators._backend import configure_numba_cache

    return configure_numba_cache(package_dir, os.environ)
