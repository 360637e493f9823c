"""numba builds of the chart-type loops (``engine.charts._loops``), loaded on first use by
``engine.charts._backend``; the same source runs uncompiled as the fallback."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba

from engine.charts import _loops


def _jit(fn: Callable[..., Any]) -> Any:
    try:
        return numba.njit(fn, cache=True, nogil=True, fastmath=False, error_model="numpy")
    except RuntimeError:  # no writable cache folder: compile in every process instead
        return numba.njit(fn, cache=False, nogil=True, fastmath=False, error_model="numpy")


heikin_ashi = _jit(_loops.heikin_ashi)
renko = _jit(_loops.renko)
kagi = _jit(_loops.kagi)
pnf = _jit(_loops.pnf)
line_break = _jit(_loops.line_break)
range_bars = _jit(_loops.range_bars)
session_bins = _jit(_loops.session_bins)
