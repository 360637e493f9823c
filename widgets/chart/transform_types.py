"""The engine's chart-type transforms (``engine/charts``) offered in every chart's type selector.

Parameters are the defaults a trader expects when picking a type from a menu (the CLI
``stockscanner chart-transform`` takes any): Renko, range bars and Point & Figure use the
last ATR(14) of the bars as their box (what TradingView's "ATR" box setting does), Kagi
reverses on 4 %, Line Break uses 3 lines, Point & Figure a 3-box reversal. P&F columns are
drawn as candles from the column's lowest to its highest box (rising columns as up candles,
falling as down candles); Kagi as a line through each line's end price.

``register_transform_types()`` is idempotent and cheap (it imports ``engine.charts`` only
when a transform first runs, in the chart's worker).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.data.bars import Bars
from widgets.chart.widget import register_chart_type

ATR_PERIOD = 14
KAGI_REVERSAL_PCT = 4.0
LINE_BREAK_LINES = 3
PNF_REVERSAL = 3

_done = False


@dataclass(frozen=True)
class _Candles:
    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray


def _heikin_ashi(bars: Bars) -> Any:
    from engine.charts import heikin_ashi

    return heikin_ashi(bars)


def _renko(bars: Bars) -> Any:
    from engine.charts import renko

    return renko(bars, atr=ATR_PERIOD)


def _range(bars: Bars) -> Any:
    from engine.charts import atr_box, range_bars

    return range_bars(bars, atr_box(bars, ATR_PERIOD))


def _kagi(bars: Bars) -> Any:
    from engine.charts import kagi

    return kagi(bars, KAGI_REVERSAL_PCT, percent=True)


def _line_break(bars: Bars) -> Any:
    from engine.charts import line_break

    return line_break(bars, LINE_BREAK_LINES)


def _pnf(bars: Bars) -> Any:
    from engine.charts import atr_box, point_and_figure

    cols = point_and_figure(bars, atr_box(bars, ATR_PERIOD), PNF_REVERSAL)
    up = cols.kind > 0
    low = np.asarray(cols.low, dtype=float)
    high = np.asarray(cols.high, dtype=float)
    return _Candles(np.asarray(cols.time), np.where(up, low, high), high, low, np.where(up, high, low))


def register_transform_types() -> None:
    """Add Heikin-Ashi, Renko, Kagi, Point & Figure, Line Break and range bars to the types
    every chart offers (once per process)."""
    global _done
    if _done:
        return
    register_chart_type("heikin-ashi", "Heikin-Ashi", _heikin_ashi)
    register_chart_type("renko", "Renko (ATR 14 box)", _renko)
    register_chart_type("kagi", "Kagi (4 % reversal)", _kagi, draw="line")
    register_chart_type("pnf", "Point & Figure (ATR box, 3-box)", _pnf)
    register_chart_type("linebreak", "Line Break (3 lines)", _line_break)
    register_chart_type("range", "Range bars (ATR 14)", _range)
    _done = True


__all__ = ["register_transform_types"]
