"""Chart panes: the price pane, the volume pane and one pane per non-price study.

A ``Pane`` is one plot with its own y scale, a right axis, a grid, crosshair lines,
reference levels and a legend line at its top left (with ▲ ▼ ✕ to reorder or close it).
Panes are stacked in the chart's vertical splitter (so they are resizable) and share the
price pane's x range. ``add_extra`` is where later items per pane go (drawings, order
lines); they are kept across data reloads and never widen the fit.
"""
from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from widgets import style
from widgets.chart.axes import DateAxis, _MarkedAxis
from widgets.chart.items import GridItem, LineItem, OhlcItem

AXIS_WIDTH = 64

#: reference levels drawn in a study's pane, by the formula's function name
_LEVELS: dict[str, tuple[float, ...]] = {
    "rsi": (30.0, 70.0), "stoch": (20.0, 80.0), "stoch_k": (20.0, 80.0), "stoch_d": (20.0, 80.0),
    "stochf": (20.0, 80.0), "stochrsi": (20.0, 80.0), "mfi": (20.0, 80.0), "willr": (-80.0, -20.0),
    "cci": (-100.0, 100.0), "macd": (0.0,), "macd_hist": (0.0,), "macd_signal": (0.0,), "mom": (0.0,),
    "momentum": (0.0,), "roc": (0.0,), "ppo": (0.0,), "trix": (0.0,), "cmo": (0.0,), "apo": (0.0,),
}
_PLACE_SAMPLE = 65_536  # values is_price_like looks at, at most
_FUNC = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def reference_levels(formula: str) -> tuple[float, ...]:
    """The horizontal levels a study's pane shows: RSI 30/70, stochastics 20/80, a zero line
    for MACD and momentum-type studies; none for anything else."""
    m = _FUNC.match(formula)
    return _LEVELS.get(m.group(1).lower(), ()) if m else ()


def is_price_like(values: np.ndarray, close: np.ndarray) -> bool:
    """Whether an overlay lives on the price scale (an average, a band) rather than its own
    (an oscillator, a volume measure): its values stay within about 20% of the close."""
    if np.asarray(values).dtype == bool:
        return False  # true/false: a 0/1 step belongs in its own pane
    y = np.asarray(values, dtype=float)
    close = np.asarray(close, dtype=float)
    if len(y) == len(close) and len(y) > _PLACE_SAMPLE:
        # every k-th value: the median and the 95th percentile of 65k evenly spread points
        # place a study as well as all 1M do, at a fiftieth of the cost
        step = -(-len(y) // _PLACE_SAMPLE)
        y, close = y[::step], close[::step]
    ok = np.isfinite(y) & np.isfinite(close) & (close != 0)
    if not ok.any():
        return True  # nothing to draw yet: keep it with the price
    dev = np.abs(y[ok] / close[ok] - 1.0)
    return bool(np.median(dev) < 0.2 and np.quantile(dev, 0.95) < 0.5)


def _major(levels: list[tuple[float, list[float]]]) -> list[float]:
    """The grid is drawn at the axis's major ticks only (every minor tick looked busy)."""
    return list(levels[0][1]) if levels else []


def _button(text: str, tip: str) -> QToolButton:
    b = QToolButton(text=text)
    b.setToolTip(tip)
    b.setAutoRaise(True)
    b.setFixedSize(18, 18)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return b


class FrameTimes:
    """How long the chart canvases took to paint, in ms, newest last (the last ``kept``); the
    Health dock takes them on each refresh (``take``) into the app metrics."""

    def __init__(self, kept: int = 2000) -> None:
        self.samples: deque[float] = deque(maxlen=kept)

    def add(self, ms: float) -> None:
        self.samples.append(ms)

    def take(self) -> list[float]:
        out = list(self.samples)
        self.samples.clear()
        return out


#: every chart pane's paints (GUI thread only)
FRAME_TIMES = FrameTimes()


class TimedPlotWidget(pg.PlotWidget):
    """A ``pg.PlotWidget`` that records each paint's duration in ``FRAME_TIMES``."""

    def paintEvent(self, ev: Any) -> None:  # noqa: N802 - Qt's name
        t0 = time.perf_counter()
        super().paintEvent(ev)
        FRAME_TIMES.add((time.perf_counter() - t0) * 1000.0)


class Pane(QWidget):
    """One plot of the chart. ``kind``: "price", "volume" or "study"."""

    move_requested = Signal(str, int)  # pane id, -1 up / +1 down
    close_requested = Signal(str)  # pane id
    legend_clicked = Signal(str)  # a legend entry's link ("overlay:…", "study:…", "compare:…")
    legend_menu_requested = Signal(str, object)  # that link and the global position of a right click

    def __init__(self, pane_id: str, kind: str, axis: _MarkedAxis, closable: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.id = pane_id
        self.kind = kind
        self.setObjectName(f"chartPane_{re.sub(r'[^A-Za-z0-9_]', '_', pane_id)}")
        self.axis = axis
        self.date_axis = DateAxis(orientation="bottom")
        # no context menu (its spin boxes took a sixth of building a chart) and no SI prefixes on
        # the axes (they show no unit label; every range change re-rendered the label's HTML)
        axes = {"bottom": self.date_axis, "right": axis, "left": pg.AxisItem("left"), "top": pg.AxisItem("top")}
        for ax in axes.values():
            ax.autoSIPrefix = False
        self.view = TimedPlotWidget(viewBox=pg.ViewBox(enableMenu=False, defaultPadding=0.0), axisItems=axes)
        self.view.setObjectName("chartCanvas" if kind == "price" else "chartPaneCanvas")
        self.plot: pg.PlotItem = self.view.getPlotItem()
        self.vb: pg.ViewBox = self.plot.getViewBox()
        self.plot.showAxis("right")
        self.plot.hideAxis("left")
        self.plot.hideAxis("top")  # passed in axisItems (for autoSIPrefix), so shown unless hidden
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.vb.setMouseEnabled(x=True, y=False)
        self.vb.disableAutoRange()  # the chart fits every pane itself, on every load, pan and zoom
        self.vb.setDefaultPadding(0.0)
        axis.setWidth(AXIS_WIDTH)
        self.grid = GridItem(self._grid_x, self._grid_y)
        self.plot.addItem(self.grid, ignoreBounds=True)
        self.vline = pg.InfiniteLine(angle=90, movable=False)
        self.hline = pg.InfiniteLine(angle=0, movable=False)
        self.hline.hide()
        for line in (self.vline, self.hline):
            line.setZValue(50)
            self.plot.addItem(line, ignoreBounds=True)
        #: the bars item (price or volume pane) and the lines of the pane's studies, by name
        self.bars_item: OhlcItem | LineItem | None = None
        self.series: dict[str, LineItem] = {}
        self.levels: list[pg.InfiniteLine] = []
        self.extras: list[QGraphicsItem] = []
        #: items of multi-line studies and compared symbols that take part in the fit
        self.fit_items: list[Any] = []

        self.header = QWidget(self)
        self.header.setObjectName("chartPaneHeader")
        hl = QHBoxLayout(self.header)
        hl.setContentsMargins(4, 1, 4, 1)
        hl.setSpacing(2)
        self.legend = QLabel("")
        self.legend.setObjectName("chartLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        # entries are links: a click opens the study's editor, a right click its menu
        self.legend.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.legend.linkActivated.connect(self.legend_clicked.emit)
        self._hovered_link = ""
        self.legend.linkHovered.connect(self._on_legend_hovered)
        self.legend.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.legend.customContextMenuRequested.connect(self._on_legend_menu)
        hl.addWidget(self.legend)
        self.up_btn = _button("▲", "Move this pane up")
        self.down_btn = _button("▼", "Move this pane down")
        self.close_btn = _button("✕", "Close this pane")
        self.up_btn.clicked.connect(lambda: self.move_requested.emit(self.id, -1))
        self.down_btn.clicked.connect(lambda: self.move_requested.emit(self.id, 1))
        self.close_btn.clicked.connect(lambda: self.close_requested.emit(self.id))
        for b in (self.up_btn, self.down_btn, self.close_btn):
            hl.addWidget(b)
            b.setVisible(closable)
        self.header.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)
        self.header.raise_()

    # ------------------------------------------------------------------ contents
    def add_series(self, name: str, color: str, item_type: type[LineItem] = LineItem) -> LineItem:
        item = item_type(name, color)
        self.series[name] = item
        self.plot.addItem(item)
        return item

    def remove_series(self, name: str) -> LineItem | None:
        item = self.series.pop(name, None)
        if item is not None:
            self.plot.removeItem(item)
        return item

    def _on_legend_hovered(self, link: str) -> None:
        self._hovered_link = link

    def _on_legend_menu(self, pos: Any) -> None:
        if self._hovered_link:
            self.legend_menu_requested.emit(self._hovered_link, self.legend.mapToGlobal(pos))

    def add_fit_item(self, item: Any, ignore_bounds: bool = False) -> None:
        """Add a data item that is not one formula line (a band, a histogram, a compared
        symbol): drawn in this pane and fitted with it (``item.y_bounds(x0, x1)``)."""
        self.fit_items.append(item)
        self.plot.addItem(item, ignoreBounds=ignore_bounds)

    def remove_fit_item(self, item: Any) -> None:
        if item in self.fit_items:
            self.fit_items.remove(item)
            self.plot.removeItem(item)

    def set_levels(self, values: Iterable[float]) -> None:
        for line in self.levels:
            self.plot.removeItem(line)
        self.levels = []
        for v in values:
            line = pg.InfiniteLine(pos=v, angle=0, movable=False,
                                   pen=pg.mkPen(style.CHART.crosshair, style=Qt.PenStyle.DotLine))
            line.setZValue(-50)
            self.plot.addItem(line, ignoreBounds=True)
            self.levels.append(line)

    def level_values(self) -> list[float]:
        return [float(line.value()) for line in self.levels]

    def add_extra(self, item: QGraphicsItem) -> None:
        """Add an item that belongs to this pane, not to its data (a drawing, an order line):
        it survives reloads and does not take part in the fit."""
        self.extras.append(item)
        self.plot.addItem(item, ignoreBounds=True)

    # ------------------------------------------------------------------ scale
    def y_bounds(self, x0: float, x1: float) -> tuple[float, float] | None:
        """(low, high) of what is visible over bar indices ``x0..x1``, reference levels included."""
        lo, hi = np.inf, -np.inf
        items: list[Any] = [self.bars_item] if self.bars_item is not None and self.bars_item.isVisible() else []
        items += [s for s in self.series.values() if s.isVisible()]
        items += [s for s in self.fit_items if s.isVisible()]
        for it in items:
            b = it.y_bounds(x0, x1)
            if b is not None:
                lo, hi = min(lo, b[0]), max(hi, b[1])
        if not np.isfinite(lo):
            return None
        for v in self.level_values():
            lo, hi = min(lo, v), max(hi, v)
        return float(lo), float(hi)

    def fit(self, x0: float, x1: float) -> None:
        """Fit the y range to the data visible over ``x0..x1`` (5% room above and below; a
        volume pane starts at zero)."""
        b = self.y_bounds(x0, x1)
        if b is None:
            return
        lo, hi = b
        span = hi - lo
        if span <= 0:
            span = abs(hi) * 0.01 or 1.0  # one flat value: a thin band around it, not ±0.5
            lo, hi = lo - span / 2, hi + span / 2
        top = hi + span * 0.05
        bottom = 0.0 if self.kind == "volume" else lo - span * 0.05
        self.vb.setYRange(bottom, top, padding=0.0, update=True)

    # ------------------------------------------------------------------ look
    def _grid_x(self) -> list[float]:
        (x0, x1), _ = self.vb.viewRange()
        return _major(self.date_axis.tickValues(x0, x1, max(1.0, self.vb.width())))

    def _grid_y(self) -> list[float]:
        _, (y0, y1) = self.vb.viewRange()
        return _major(self.axis.tickValues(y0, y1, max(1.0, self.vb.height())))

    def apply_colors(self, colors: style.ChartColors) -> None:
        self.view.setBackground(colors.background)
        fg = QColor(colors.foreground)
        grid = QColor(fg)
        grid.setAlphaF(colors.grid_alpha * 0.6)
        self.grid.set_color(grid)
        for ax in (self.axis, self.date_axis):
            ax.setPen(pg.mkPen(colors.foreground))
            ax.setTextPen(pg.mkPen(colors.foreground))
            ax.marker_text_color = "#ffffff"
        pen = pg.mkPen(colors.crosshair, style=Qt.PenStyle.DashLine)
        self.vline.setPen(pen)
        self.hline.setPen(pen)
        for line in self.levels:
            line.setPen(pg.mkPen(colors.crosshair, style=Qt.PenStyle.DotLine))
        self.legend.setStyleSheet(f"color:{colors.foreground}; background:transparent;")
        for b in (self.up_btn, self.down_btn, self.close_btn):
            b.setStyleSheet(f"color:{colors.foreground}; background:transparent; border:none;")
        if self.bars_item is not None:
            self.bars_item.clear_cache()

    def set_legend(self, html: str) -> None:
        self.legend.setText(html)
        self.header.adjustSize()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.header.move(2, 1)
        self.header.setMaximumWidth(max(40, self.width() - AXIS_WIDTH - 8))
        self.header.adjustSize()
