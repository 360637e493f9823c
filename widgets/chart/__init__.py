"""The chart dock (``ChartWidget``) and its parts: items (what is drawn), axes, panes."""
from widgets.chart.axes import DateAxis, PriceAxis, VolumeAxis
from widgets.chart.items import CHUNK, OhlcItem, _aggregate
from widgets.chart.panes import is_price_like
from widgets.chart.widget import CHART_TIMEFRAMES, QUICK_OVERLAYS, BarSource, ChartWidget, source_label

__all__ = [
    "CHART_TIMEFRAMES", "CHUNK", "QUICK_OVERLAYS", "BarSource", "ChartWidget", "DateAxis", "OhlcItem",
    "PriceAxis", "VolumeAxis", "_aggregate", "is_price_like", "source_label",
]
