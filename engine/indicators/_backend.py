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

import logging
import os
import sys
import tempfile
import threading
from collections.abc import MutableMapping
from pathlib import Path
from types import ModuleType

log = logging.getLogger(__name__)

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHOICES = ("auto", "numba", "numpy")

_lock = threading.Lock()
_choice = "auto"
_kernels: ModuleType | None = None
_failed: str | None = None  # why numba could not be loaded (None: not tried or loaded)


def set_backend(name: str) -> str:
    """Choose the implementation: ``"auto"`` (numba when it loads, else numpy),
    ``"numba"`` or ``"numpy"``. Returns the previous choice. Raises ValueError for another
    name and RuntimeError for ``"numba"`` when numba cannot be loaded (the reason says why).
    """
    global _choice
    if name not in _CHOICES:
        raise ValueError(f"backend must be one of {', '.join(_CHOICES)}, got {name!r}")
    if name == "numba" and _load() is None:
        raise RuntimeError(f"the numba backend is not available: {_failed}")
    previous, _choice = _choice, name
    return previous


def backend() -> str:
    """The implementation the next indicator call uses: ``"numba"`` or ``"numpy"``
    (loads numba if the choice is ``"auto"`` and it was not loaded yet)."""
    return "numba" if kernels() is not None else "numpy"


def kernels() -> ModuleType | None:
    """The compiled kernel module, or None when the numpy fallback is to be used."""
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
                    configure_numba_cache(_PACKAGE_DIR, os.environ)
                from engine.indicators import _nb
                _kernels = _nb
            except Exception as exc:  # noqa: BLE001 - any failure means: use numpy
                _failed = f"{type(exc).__name__}: {exc}"
                log.warning("numba unavailable (%s); indicators use the numpy fallback",
                            _failed)
    return _kernels


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
