"""The chart dock (``ChartWidget``) and its parts: items (what is drawn), axes, panes."""
from widgets.chart.axes import TIME_ZONES, DateAxis, PriceAxis, VolumeAxis
from widgets.chart.items import BAR_STYLES, CHUNK, GridItem, LineItem, OhlcItem, _aggregate
from widgets.chart.panes import Pane, is_price_like, reference_levels
from widgets.chart.widget import (CHART_TIMEFRAMES, QUICK_OVERLAYS, SCALES, BarSource, ChartType, ChartWidget,
                                  chart_types, register_chart_type, source_label)

__all__ = [
    "BAR_STYLES", "CHART_TIMEFRAMES", "CHUNK", "QUICK_OVERLAYS", "SCALES", "TIME_ZONES", "BarSource", "ChartType",
    "ChartWidget", "DateAxis", "GridItem", "LineItem", "OhlcItem", "Pane", "PriceAxis", "VolumeAxis", "_aggregate",
    "chart_types", "is_price_like", "reference_levels", "register_chart_type", "source_label",
]
