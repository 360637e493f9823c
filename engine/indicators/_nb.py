"""numba kernels of the indicator library (imported on first use by ``_backend.kernels``).

The kernels live in one module per family: ``_nb_moving`` (SMA, EMA, WMA, DEMA, TEMA),
``_nb_oscillators`` (RSI, MACD, STOCH, StochRSI, CCI, WILLR), ``_nb_volatility`` (ATR,
NATR, BBANDS, Donchian, Keltner), ``_nb_trend`` (DMI/ADX, Ichimoku, SuperTrend, SAR),
``_nb_volume`` (OBV, MFI, VWAP), ``_nb_window`` (highest/lowest, the window extremes the
others reuse), on the shared pieces of ``_nb_base``. This module gathers the public ones;
importing it imports numba, so only ``_backend.kernels`` does, on first use.

Every public kernel takes its 2-D C-contiguous float64 inputs ``(rows, time)``, then its
outputs of the same shape, then 1-D scratch rows of length ``time``, then its parameters
(see ``_core.run``; large arrays are allocated by numpy, whose allocator recycles them
far better than numba's does for several 8 MB arrays per call). Per row it finds
the span the library's contract defines (from the first bar where every input is finite
up to, not including, the next bar where one is not: see ``engine/indicators/__init__``),
computes on that span as if it were the whole series, and leaves NaN outside it.

Arithmetic follows TA-Lib's C loops where that gives TA-Lib's numbers: running sums for
SMA/STOCH/StochRSI/BBANDS mid (bit-identical to TA-Lib 0.8.1 on the tests' 1M-bar walk),
``(x - prev)*k + prev`` for EMA/DEMA/TEMA/MACD, Wilder ``(prev*(n-1) + move) * (1/n)`` for
RSI (bit-identical), TA-Lib's DM/TR smoothing and ADX, SAR step for step, sequential seeds.
Where TA-Lib 0.8 was found by probing to treat rounding noise as equality, the kernels use
the same tests as the numpy kernels (``_core.ta_equal``, exact-zero denominators). Sums
TA-Lib 0.8 keeps accurate over long series (CCI, MFI, WMA) are computed
per window directly (oldest to newest), or, for WMA, carried and recomputed exactly every
1024 bars; the BBANDS deviation is TA-Lib 0.8's own shifted-data variance, re-anchored as
its bbands.c does (bit-identical).

Compiled with ``fastmath=False`` (no reassociation, no implicit contraction: rounding
stays IEEE as written; the multiply-adds TA-Lib's own build fuses are written as
``_muladd``, so EMA/DEMA/TEMA/MACD/ATR give TA-Lib's numbers bit for bit) and ``error_model="numpy"`` (a division by zero gives inf/NaN like numpy
instead of raising; every such case is guarded anyway).
"""

from __future__ import annotations

from engine.indicators._nb_moving import sma, ema, wma, dema, tema
from engine.indicators._nb_oscillators import rsi, macd, stoch, stochrsi, cci, willr
from engine.indicators._nb_volatility import bbands, atr, natr, donchian, keltner
from engine.indicators._nb_trend import dmi, ichimoku, supertrend, sar
from engine.indicators._nb_volume import obv, mfi, vwap, vwap_sessions
from engine.indicators._nb_window import rolling_max, rolling_min

__all__ = [
    "atr", "bbands", "cci", "dema", "dmi", "donchian", "ema", "ichimoku", "keltner", "macd",
    "mfi", "natr", "obv", "rolling_max", "rolling_min", "rsi", "sar", "sma", "stoch",
    "stochrsi", "supertrend", "tema", "vwap", "vwap_sessions", "willr", "wma",
]
