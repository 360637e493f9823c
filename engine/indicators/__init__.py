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

Speed: recursive filters (EMA, Wilder) are exact blocked matrix solutions of the
recurrence (see _core.iir), rolling sums use block-restarted prefix sums, rolling max/min
a doubling (sparse-table) scheme; Parabolic SAR and SuperTrend are path dependent and run
a scalar Python loop per row (~0.5 µs per bar). bench/bench_indicators.py has the figures.

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
