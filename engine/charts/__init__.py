"""Chart types as pure functions (no Qt): Heikin-Ashi, Renko, Kagi, Point & Figure, Line
Break and range bars (one module each, whose docstring states its conventions after
StockCharts' ChartSchool), and timeframes built from finer bars (``resample``).

Every transform returns elements with, for each, the time and the half-open range of source
bars it covers (``engine.charts.elements``). Path-dependent loops run compiled by numba,
loaded on first use (``_backend``), with the same loops uncompiled as the fallback.
"""
from engine.charts.elements import Elements, KagiLines, PnFColumns, RenkoBricks
from engine.charts.heikin_ashi import heikin_ashi
from engine.charts.kagi import kagi
from engine.charts.linebreak import line_break
from engine.charts.pnf import point_and_figure
from engine.charts.rangebars import range_bars
from engine.charts.renko import atr_box, renko

__all__ = ["Elements", "KagiLines", "PnFColumns", "RenkoBricks", "atr_box", "heikin_ashi", "kagi",
           "line_break", "point_and_figure", "range_bars", "renko"]
