"""``REGISTRY``: a description of every indicator for the chart and the formula language.

Each entry is an :class:`IndicatorSpec` (frozen): the function, which bar fields it takes
(``inputs``: names among open/high/low/close/volume/time, or ``x`` for any series), its
parameters with defaults (read from the function's signature so they cannot drift), its
output names, and whether it is drawn over the price (``overlay``) or in its own pane.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.indicators import helpers, moving, oscillators, trend, volatility, volume


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """What a caller needs to offer, call and draw one indicator."""

    name: str
    func: Callable[..., Any]
    inputs: tuple[str, ...]
    params: tuple[tuple[str, Any], ...]
    outputs: tuple[str, ...]
    overlay: bool
    title: str

    @property
    def defaults(self) -> dict[str, Any]:
        return dict(self.params)


# Parameters the function requires (no default in its signature) get this suggested
# value for the chart's and the formula editor's first draw.
_SUGGESTED = {"n": 20}


def _spec(func: Callable[..., Any], inputs: tuple[str, ...], outputs: tuple[str, ...],
          overlay: bool, title: str) -> IndicatorSpec:
    sig = inspect.signature(func)
    names = list(sig.parameters)
    if tuple(names[:len(inputs)]) != tuple(inputs) and inputs != ("x",):
        raise RuntimeError(f"{func.__name__}: inputs {inputs} do not match {names}")
    params = tuple(
        (p.name, _SUGGESTED[p.name] if p.default is inspect.Parameter.empty else p.default)
        for p in list(sig.parameters.values())[len(inputs):]
        if p.name != "time"
    )
    return IndicatorSpec(func.__name__, func, inputs, params, outputs, overlay, title)


_HLC = ("high", "low", "close")

REGISTRY: dict[str, IndicatorSpec] = {s.name: s for s in (
    _spec(moving.sma, ("x",), ("sma",), True, "Simple moving average"),
    _spec(moving.ema, ("x",), ("ema",), True, "Exponential moving average"),
    _spec(moving.wma, ("x",), ("wma",), True, "Weighted moving average"),
    _spec(moving.dema, ("x",), ("dema",), True, "Double exponential moving average"),
    _spec(moving.tema, ("x",), ("tema",), True, "Triple exponential moving average"),
    _spec(oscillators.rsi, ("x",), ("rsi",), False, "Relative Strength Index"),
    _spec(oscillators.macd, ("x",), ("line", "signal", "hist"), False, "MACD"),
    _spec(volatility.bbands, ("x",), ("upper", "mid", "lower"), True, "Bollinger Bands"),
    _spec(volatility.bb_percent_b, ("x",), ("percent_b",), False, "Bollinger %B"),
    _spec(volatility.bb_bandwidth, ("x",), ("bandwidth",), False, "Bollinger bandwidth"),
    _spec(volatility.atr, _HLC, ("atr",), False, "Average True Range"),
    _spec(volatility.natr, _HLC, ("natr",), False, "Normalized ATR (%)"),
    _spec(trend.adx, _HLC, ("adx",), False, "Average Directional Index"),
    _spec(trend.plus_di, _HLC, ("plus_di",), False, "+DI"),
    _spec(trend.minus_di, _HLC, ("minus_di",), False, "-DI"),
    _spec(oscillators.cci, _HLC, ("cci",), False, "Commodity Channel Index"),
    _spec(oscillators.willr, _HLC, ("willr",), False, "Williams %R"),
    _spec(volume.mfi, _HLC + ("volume",), ("mfi",), False, "Money Flow Index"),
    _spec(volume.obv, ("close", "volume"), ("obv",), False, "On-Balance Volume"),
    _spec(oscillators.stoch, _HLC, ("slowk", "slowd"), False, "Stochastic (slow)"),
    _spec(oscillators.stochrsi, ("x",), ("fastk", "fastd"), False, "Stochastic RSI"),
    _spec(oscillators.roc, ("x",), ("roc",), False, "Rate of change (%)"),
    _spec(oscillators.mom, ("x",), ("mom",), False, "Momentum"),
    _spec(volume.vwap, _HLC + ("volume",), ("vwap",), True, "VWAP"),
    _spec(volatility.donchian, ("high", "low"), ("upper", "mid", "lower"), True,
          "Donchian channel"),
    _spec(volatility.keltner, _HLC, ("upper", "mid", "lower"), True, "Keltner channel"),
    _spec(trend.ichimoku, _HLC, ("tenkan", "kijun", "senkou_a", "senkou_b", "chikou"),
          True, "Ichimoku"),
    _spec(trend.supertrend, _HLC, ("line", "direction"), True, "SuperTrend"),
    _spec(trend.sar, ("high", "low"), ("sar",), True, "Parabolic SAR"),
    _spec(helpers.highest, ("x",), ("highest",), True, "Highest"),
    _spec(helpers.lowest, ("x",), ("lowest",), True, "Lowest"),
    _spec(helpers.change_pct, ("x",), ("change_pct",), False, "Percent change"),
)}
# vwap also accepts the bar times (``time=``) to restart each UTC day on intraday bars.
