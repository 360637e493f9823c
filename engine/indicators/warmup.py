"""Compile (or load from numba's cache) every indicator kernel ahead of first use.

The first call of each indicator in a process costs tens of milliseconds with a warm
numba cache and ~0.7 s right after installation (JIT compile). The app runs ``warm_up``
in a worker a few seconds after start-up, so a user's first overlay, scan or backtest
does not pay it on the spot.
"""
from __future__ import annotations

from collections.abc import Generator

import numpy as np

from engine.indicators import _backend
from engine.indicators.registry import REGISTRY
from engine.progress import Progress


def warm_up(bars: int = 64) -> Generator[Progress, None, int]:
    """Call every registered indicator once on ``bars`` synthetic bars (1-D and 2-D).

    Yields ``Progress`` per indicator (so a worker can show and cancel it); returns how
    many were prepared (0 when numba is not available and the numpy fallback is in use).
    """
    if _backend.kernels() is None:
        return 0
    rng = np.random.default_rng(0)
    close = 100.0 + np.cumsum(rng.normal(0.0, 1.0, bars))
    fields = {
        "x": close, "close": close, "high": close + 1.0, "low": close - 1.0,
        "open": close, "volume": rng.uniform(1e3, 1e4, bars),
    }
    specs = list(REGISTRY.values())
    for i, spec in enumerate(specs, 1):
        args = [fields[name] for name in spec.inputs]
        spec.func(*args, **spec.defaults)
        spec.func(*(np.vstack([a, a]) for a in args), **spec.defaults)  # the panel kernels
        yield Progress(i, len(specs), f"Preparing indicators ({spec.name})")
    return len(specs)
