"""Which implementation computes the indicators: compiled numba kernels or numpy.

The numba kernels (``engine/indicators/_nb.py``) are single-pass loops written in TA-Lib's
arithmetic order; the numpy kernels (the ``_*_k`` functions next to each indicator) are the
vectorised fallback for a platform without numba. Both give TA-Lib's numbers to 1e-9
relative (tests/engine/test_indicators.py runs both).

numba is imported on the first indicator call, never by ``import engine.indicators``:
importing it costs ~0.3 s, which the app's start-up cannot spare. Kernels are compiled on
their first call (a few hundred ms each) and cached on disk (``cache=True``), so later
processes load them in milliseconds.

Cache folder: numba caches next to the module (``__pycache__``) when that folder is
writable (a source checkout). An installed app's package folder usually is not; then
``NUMBA_CACHE_DIR`` is pointed at the user cache dir
(``platformdirs.user_cache_dir("StockScanner", "StockScanner")/numba``) before numba is
imported, unless the user already set it.
"""
from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

from engine.lazy_kernels import LazyKernels


_PACKAGE_DIR = Path(__file__).resolve().parent


def _configure(package_dir: Path) -> object:
    return configure_numba_cache(package_dir, os.environ)


# engine.lazy_kernels.LazyKernels: the one lazy numba/numpy pattern (engine/options uses it too)
_KERNELS = LazyKernels("engine.indicators._nb", _PACKAGE_DIR, "indicators", configure_cache=_configure)

#: Choose the implementation: ``"auto"`` (numba when it loads, else numpy), ``"numba"`` or
#: ``"numpy"``; returns the previous choice (ValueError for another name, RuntimeError for
#: ``"numba"`` when numba cannot be loaded).
set_backend = _KERNELS.set_backend
#: The implementation the next indicator call uses: ``"numba"`` or ``"numpy"``.
backend = _KERNELS.backend
#: The compiled kernel module, or None when the numpy fallback is to be used.
kernels = _KERNELS.kernels


def configure_numba_cache(package_dir: Path,
                          environ: MutableMapping[str, str]) -> str | None:
    """Point numba's on-disk cache at the user cache dir when ``package_dir/__pycache__``
    cannot be written (an installed or frozen app) and ``NUMBA_CACHE_DIR`` is not set.

    Must run before numba is imported (numba reads the variable once). Returns the folder
    it chose, or None when it left the environment alone.
    """
    if environ.get("NUMBA_CACHE_DIR"):
        return None
    if not getattr(sys, "frozen", False) and _writable(package_dir / "__pycache__"):
        return None
    import platformdirs

    from engine.paths import APP_AUTHOR, APP_NAME

    folder = str(Path(platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR)) / "numba")
    environ["NUMBA_CACHE_DIR"] = folder
    return folder


def _writable(folder: Path) -> bool:
    # The same test numba's in-tree cache locator makes.
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True
