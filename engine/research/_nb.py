"""numba-compiled versions of ``engine.research._sim`` (loaded lazily, see ``engine.lazy_kernels``)."""
from __future__ import annotations

from numba import njit

from engine.research import _sim

simulate = njit(cache=True, nogil=True)(_sim.simulate)
sweep_sma = njit(cache=True, nogil=True)(_sim.sweep_sma)
