"""Technical indicators, vectorised over one series or a panel of symbols.

Shapes: every function takes 1-D arrays ``(time,)`` or 2-D panels ``(symbols, time)`` and
computes along the time axis (axis=-1), each row independently; results are float64 of
the input's shape (tuples for multi-output indicators; the crossing helpers return bool).

Correctness: indicators TA-Lib has are TA-Lib's numbers — the same warm-up (NaN exactly
where TA-Lib has NaN, default unstable period 0) and values within 1e-9 relative
(tests/engine/test_indicators.py checks them on real ORCL/NVDA bars and on 1M bars).

Leading NaN: a row may begin with NaN (a symbol with a shorter history). It is computed as
the series trimmed at its first bar where every input is finite, and shifted back — the
same as TA-Lib's own handling of leading NaN.

NaN inside a series (a gap after the first valid bar): from the first non-finite input
value onward, every output of that row is NaN. Indicators are defined on contiguous bars;
silently skipping or interpolating a missing bar would give numbers no other tool shows.
Fill or drop gaps upstream (engine/data) if you want values after them. (Exception:
``ichimoku``'s chikou is just the close shifted back, so it follows the close's NaNs.)

Speed: every indicator runs as a compiled numba kernel (engine/indicators/_nb.py gathers
them from one module per family, _nb_moving.py ... _nb_window.py): one
pass per row in TA-Lib's own arithmetic order (running SMA sums, seeded EMA/Wilder
recurrences, SAR step for step), many values bit-identical to TA-Lib 0.8. numba is
imported and the kernels are loaded (or compiled, once, then cached on disk) on the first
indicator call, not by this import; see _backend for the cache folder. Without numba the
vectorised numpy kernels next to each indicator are used (same numbers to 1e-9 relative;
both are tested): blocked matrix solutions of the recurrences (_core.iir), block-restarted
prefix sums, a sparse-table rolling max/min, Python loops for SAR and SuperTrend.
``_backend.set_backend("numpy")`` forces the fallback. bench/bench_indicators.py has the
figures.

Flat windows: TA-Lib 0.8 returns its flat-window value (0) when a range or deviation is
only rounding noise; STOCH/STOCHRSI/WILLR/CCI/MFI reproduce that with a 1e-14 relative
equality test (_core.ta_equal), found by probing TA-Lib.
"""
from engine.indicators.helpers import (
    change_pct, crosses_above, crosses_below, highest, lowest, shift,
)
from engine.indicators.moving import dema, ema, sma, tema, wma
from engine.indicators.oscillators import cci, macd, mom, roc, rsi, stoch, stochrsi, willr
from engine.indicators.trend import adx, ichimoku, minus_di, plus_di, sar, supertrend
from engine.indicators.volatility import (
    atr, bb_bandwidth, bb_percent_b, bbands, donchian, keltner, natr,
)
from engine.indicators.volume import mfi, obv, vwap
from engine.indicators.registry import REGISTRY, IndicatorSpec  # noqa: E402  (needs the above)

__all__ = [
    "REGISTRY", "IndicatorSpec",
    "sma", "ema", "wma", "dema", "tema", "rsi", "macd", "bbands", "bb_percent_b",
    "bb_bandwidth", "atr", "natr", "adx", "plus_di", "minus_di", "cci", "willr", "mfi",
    "obv", "stoch", "stochrsi", "roc", "mom", "vwap", "donchian", "keltner", "ichimoku",
    "supertrend", "sar", "shift", "highest", "lowest", "crosses_above", "crosses_below",
    "change_pct",
]
