"""The chart dock: a price pane, a volume pane and one pane per non-price study.

Bars live in an ``engine.data.Bars`` (Qt-free model); the items here only draw
(vnpy ``chart/manager.py`` feeds ``chart/item.py``). X is the bar index (no weekend gaps);
the date axis maps indices to times. Crosshair updates are throttled with ``pg.SignalProxy``.

Panes sit in a vertical ``QSplitter`` (drag a handle to resize; ▲ ▼ ✕ in a study pane's
legend reorder or close it) and follow the price pane's x range; after every load, pan and
zoom each pane fits its own visible data. Studies are computed through the ``tasks``
submitter (the app's worker pattern), never on the GUI thread.

Chart types: the bar styles drawn here (candles, hollow candles, OHLC bars, line, area,
baseline) and *transform* types registered with ``register_chart_type(label, fn)``, where
``fn(bars) -> Bars-like`` (``time, open, high, low, close`` and optionally ``volume``
arrays) runs in a worker and its result is drawn as candles (Heikin-Ashi, Renko, Kagi, …
from ``engine/charts``; the integrator wires them).
"""
from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QInputDialog, QLabel, QMenu, QMessageBox, QSplitter,
                               QToolButton, QVBoxLayout, QWidget)

from engine import formatting as fmt
from engine.data.bars import Bars, timeframe_label
from engine.market.calendar import exchange_tz
from widgets import style
from widgets.chart.axes import TIME_ZONES, PriceAxis, VolumeAxis, zone_for
from widgets.chart.items import LineItem, OhlcItem
from widgets.chart.panes import Pane, is_price_like, reference_levels
from widgets.chart.switching import (SHOWN_CACHE_BYTES, STUDY_CACHE_BYTES, WARM_UP_DELAY_MS, WARM_UP_MIN_BARS,
                                     ResultCache, warm_up, warm_up_needed)
from widgets.tasks import TaskSubmitter

CHART_TIMEFRAMES = ("1m", "5m", "15m", "30m", "60m", "4h", "1d", "1wk", "1mo")  # ids, shortest first; shown as timeframe_label
#: the "+ Indicator" menu's ready-made overlays (label, formula)
QUICK_OVERLAYS = (
    ("SMA 20", "sma(close, 20)"), ("SMA 50", "sma(close, 50)"), ("SMA 200", "sma(close, 200)"),
    ("EMA 20", "ema(close, 20)"), ("Bollinger upper (20, 2)", "bb_upper(close, 20, 2)"),
    ("Bollinger lower (20, 2)", "bb_lower(close, 20, 2)"), ("RSI 14", "rsi(close, 14)"),
    ("MACD histogram", "macd_hist(close, 12, 26, 9)"), ("ATR 14", "atr(14)"),
)
#: chart types drawn from the bars as they are: (state key, label, how)
BASE_TYPES: tuple[tuple[str, str, str], ...] = (
    ("candles", "Candles", "candles"), ("hollow", "Hollow candles", "hollow"), ("ohlc", "OHLC bars", "ohlc"),
    ("line", "Line", "line"), ("area", "Area", "area"), ("baseline", "Baseline", "baseline"),
)
SCALES = ("linear", "log", "percent")
PAN_STEP = 0.1  # an arrow key pans a tenth of the visible bars
REBASE_MS = 80  # while panning on the % scale, rebase at the first visible bar at most this often
ZOOM_STEP = 1.25


@dataclass(frozen=True)
class ChartType:
    key: str
    label: str
    draw: str  # "candles" | "hollow" | "ohlc" | "line" | "area" | "baseline"
    transform: Callable[[Bars], Any] | None = None


_TYPES: dict[str, ChartType] = {k: ChartType(k, label, how) for k, label, how in BASE_TYPES}


def register_chart_type(key: str, label: str, transform: Callable[[Bars], Any], draw: str = "candles") -> None:
    """Offer ``label`` in every chart's type selector: ``transform(bars)`` (run in a worker)
    returns what is drawn, an object with ``time, open, high, low, close`` (and optionally
    ``volume``) arrays of equal length (Heikin-Ashi, Renko, Kagi, P&F, … from ``engine/charts``)."""
    if not key or not label or not callable(transform):
        raise ValueError("a chart type needs a key, a label and a transform function")
    _TYPES[key] = ChartType(key, label, draw, transform)


def chart_types() -> list[ChartType]:
    return list(_TYPES.values())


_SOURCE_LABELS = {"demo": "demo", "yahoo": "Yahoo Finance", "csv": "CSV"}


def source_label(source: str) -> str:
    """How a chart title names the source its bars came from."""
    return _SOURCE_LABELS.get(source, source or "unknown source")


class BarSource(Protocol):
    def get_bars(self, symbol: str, timeframe: str = "1d", refresh: bool = False) -> Bars: ...


@dataclass(frozen=True)
class Shown:
    """The series the price pane draws (the bars, or a transform's result)."""

    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray | None

    def __len__(self) -> int:
        return len(self.close)


def _shown(obj: Any) -> Shown:
    arrays = [np.asarray(getattr(obj, a), dtype=float) for a in ("open", "high", "low", "close")]
    n = len(arrays[3])
    if any(len(a) != n for a in arrays) or len(obj.time) != n:
        raise ValueError("a chart transform returned arrays of different lengths")
    vol = getattr(obj, "volume", None)
    vol = np.asarray(vol, dtype=float) if vol is not None and len(vol) == n else None
    return Shown(np.asarray(obj.time, dtype=np.int64), *arrays, vol)


StudyResult = tuple[dict[str, np.ndarray], dict[str, str], dict[str, bool]]


def _compute_studies(bars: Bars, fns: dict[str, Callable[[Bars], np.ndarray]]) -> StudyResult:
    """Worker side: every study's values (NaN and an error message where it failed) and
    whether each lives on the price scale (``is_price_like``: a median over 1M values is
    not work for the GUI thread)."""
    values: dict[str, np.ndarray] = {}
    errors: dict[str, str] = {}
    for name, fn in fns.items():
        try:
            y = np.asarray(fn(bars))
            if y.dtype != bool:
                y = y.astype(float, copy=False)  # float64 already (most studies): no 8 MB copy per study
            if y.shape != (len(bars),):
                raise ValueError(f"{name} gave {y.size} values for {len(bars)} bars")
            values[name] = y
        except Exception as exc:  # noqa: BLE001 - e.g. a custom indicator deleted since; shown, not fatal
            values[name] = np.full(len(bars), np.nan)
            errors[name] = str(exc)
    close = np.asarray(bars.close, dtype=float)
    return values, errors, {name: is_price_like(y, close) for name, y in values.items()}


def _as_bars(b: Bars, s: Shown) -> Bars:
    """A transform's result as bars of ``b``'s symbol (what its studies are computed from)."""
    vol = s.volume if s.volume is not None else np.zeros(len(s))
    return Bars.from_arrays(b.symbol, b.timeframe, s.time, s.open, s.high, s.low, s.close, vol, b.source)


def _transform_with_studies(bars: Bars, fn: Callable[[Bars], Any],
                            fns: dict[str, Callable[[Bars], np.ndarray]]) -> tuple[Shown, StudyResult | None]:
    """Worker side of a switch to a transform type: its result and the studies of that result,
    in one task (one trip to the worker and one redraw instead of two)."""
    shown = _shown(fn(bars))
    return shown, (_compute_studies(_as_bars(bars, shown), fns) if fns else None)


def _load_with_studies(get_bars: Callable[[str, str], Bars], symbol: str, timeframe: str,
                       fns: dict[str, Callable[[Bars], np.ndarray]]) -> tuple[Bars, StudyResult | None]:
    """Worker side of opening a symbol or timeframe: the bars and their studies, in one task."""
    bars = get_bars(symbol, timeframe)
    return bars, (_compute_studies(bars, fns) if fns and len(bars) else None)


class ChartWidget(QWidget):
    """One symbol's chart. ``open_symbol`` loads bars through the task runner."""

    bars_loaded = Signal(object)  # Bars
    load_failed = Signal(str)
    symbol_changed = Signal(str)
    price_clicked = Signal(float)  # a click on the price pane (the order ticket uses it)
    studies_drawn = Signal()  # the studies of the current bars were computed and drawn
    price_scale_changed = Signal()  # linear / log / percent: items placed by price re-place themselves

    def __init__(self, data: BarSource, tasks: TaskSubmitter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartWidget")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.data = data
        self.tasks = tasks
        self.symbol: str | None = None
        self.timeframe = "1d"
        self.bars: Bars | None = None
        self.shown: Shown | None = None  # what the price pane draws (bars, or a transform of them)
        self.chart_type = "candles"
        self.scale = "linear"
        self.time_zone = "exchange"
        self._base = 1.0  # the percent scale's 0 %: the close of the first visible bar
        self._based_at: int | None = None  # the bar the percent scale was last rebased at
        self._rebase_timer = QTimer(self)
        self._rebase_timer.setSingleShot(True)
        self._rebase_timer.setInterval(REBASE_MS)
        self._rebase_timer.timeout.connect(self._rebase)
        self._overlays: dict[str, LineItem] = {}
        self._overlay_fns: dict[str, Callable[[Bars], np.ndarray]] = {}
        self._overlay_values: dict[str, np.ndarray] = {}
        self._price_like: dict[str, bool] = {}  # of _overlay_values, computed with them in the worker
        #: bumped whenever the bars change (load, live quote, new bar): cached results of older bars are stale
        self._data_version = 0
        self._shown_cache = ResultCache(SHOWN_CACHE_BYTES)  # (version, type key) -> Shown of a transform
        self._study_cache = ResultCache(STUDY_CACHE_BYTES)  # (version, transform key, name) -> (y, error, price-like)
        self._loading = self._transforming = self._studies_pending = False
        #: (bars, study functions, their results) from the load worker, taken by the next set_bars
        self._preset: tuple[Bars, dict[str, Callable[[Bars], np.ndarray]], StudyResult | None] | None = None
        # the first big chart of a process loads the transforms' compiled loops in a worker, a
        # second after it appeared, so that the first Renko/Kagi/P&F switch does not wait for them
        self._warm_timer = QTimer(self)
        self._warm_timer.setSingleShot(True)
        self._warm_timer.setInterval(WARM_UP_DELAY_MS)
        self._warm_timer.timeout.connect(self._on_warm_timer_timeout)
        self._formula_overlays: list[str] = []  # overlays added as formulas: saved with the state
        self.overlay_errors: dict[str, str] = {}
        self._parse_formula: Callable[[str], Any] | None = None
        self._formula_names: Callable[[], Sequence[str]] = lambda: ()
        #: studies offered in "+ Indicator" besides formulas: (label, add it)
        self.study_actions: list[tuple[str, Callable[[], None]]] = []
        #: studies that always get their own pane: name → (the item drawing them, its levels)
        self.pane_studies: dict[str, tuple[type[LineItem], tuple[float, ...]]] = {}
        #: more keys of ``state()``: key → (read it, restore it)
        self.state_extras: dict[str, tuple[Callable[[], Any], Callable[[Any], None]]] = {}
        self._load_seq = 0
        self._study_seq = 0
        self._type_seq = 0
        self._markers: list[tuple[int, float, str]] = []
        self._cursor: int | None = None
        self._fitting = False

        # ---- toolbar (row 1) and readout (row 2: it never shares a row with the badge)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        self.title = QLabel("No symbol")
        self.title.setObjectName("chartTitle")
        f = self.title.font()
        f.setBold(True)
        f.setPointSize(f.pointSize() + 2)
        self.title.setFont(f)
        self.title.setMinimumWidth(1)
        self.tf_box = QComboBox()
        self.tf_box.setObjectName("chartTimeframe")
        for tf in CHART_TIMEFRAMES:
            self.tf_box.addItem(timeframe_label(tf), tf)  # the label shown, the id kept as data
        self.tf_box.setCurrentIndex(self.tf_box.findData(self.timeframe))
        self.tf_box.setToolTip("Timeframe: minutes (1m 5m 15m), hours (1h), D day, W week, M month")
        self.tf_box.currentIndexChanged.connect(
            lambda i: self._on_timeframe_changed(str(self.tf_box.itemData(i))) if i >= 0 else None)
        self.kind_box = QComboBox()
        self.kind_box.setObjectName("chartKind")
        self.kind_box.setToolTip("Chart type")
        # the transform types have long labels ("Point & Figure (ATR box, 3-box)"): the box stays
        # narrow and its list opens wide, so the toolbar (and the title) fit at 1280×800
        self.kind_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.kind_box.setMinimumContentsLength(11)
        self.kind_box.view().setMinimumWidth(260)
        self._fill_types()
        self.kind_box.currentIndexChanged.connect(
            lambda i: self.set_chart_type(str(self.kind_box.itemData(i))) if i >= 0 else None)
        self.log_btn = QToolButton(text="log")
        self.log_btn.setObjectName("chartLog")
        self.log_btn.setToolTip("Logarithmic price scale")
        self.pct_btn = QToolButton(text="%")
        self.pct_btn.setObjectName("chartPercent")
        self.pct_btn.setToolTip("Percent scale: change from the first visible bar")
        for b, mode in ((self.log_btn, "log"), (self.pct_btn, "percent")):
            b.setCheckable(True)
            b.toggled.connect(lambda on, m=mode: self.set_scale(m if on else "linear"))
        self.demo_badge = QLabel("DEMO DATA")
        self.demo_badge.setObjectName("demoBadge")
        self.demo_badge.setStyleSheet(
            f"background:{style.CHART.demo_badge}; color:white; border-radius:3px; padding:2px 8px; font-weight:bold;"
        )
        self.demo_badge.setToolTip("Generated demo data, not real prices. Choose a data source in Settings → Data source.")
        self.demo_badge.hide()
        self.indicator_btn = QToolButton(text="+ Indicator")
        self.indicator_btn.setObjectName("chartIndicator")
        self.indicator_btn.setToolTip("Add a formula (built-in or custom indicator) to the chart")
        self.indicator_btn.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.indicator_menu = QMenu(self.indicator_btn)
        self.indicator_menu.aboutToShow.connect(self._fill_indicator_menu)
        self.indicator_btn.setMenu(self.indicator_menu)
        self.indicator_btn.hide()  # until set_formula_source
        bar.addWidget(self.title, 1)
        bar.addWidget(self.tf_box)
        bar.addWidget(self.kind_box)
        bar.addWidget(self.log_btn)
        bar.addWidget(self.pct_btn)
        bar.addWidget(self.indicator_btn)
        self._tools_at = bar.count()  # add_tool_button inserts here, before the badge
        self._toolbar = bar
        bar.addWidget(self.demo_badge)
        self.info = QLabel("")
        self.info.setObjectName("chartInfo")
        self.info.setMinimumWidth(1)  # the OHLC readout may be clipped; it must not widen the window
        self.info.setContentsMargins(8, 0, 6, 0)

        # ---- panes
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("chartPanes")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(3)
        self.panes: dict[str, Pane] = {}
        self.price_pane = self._add_pane("price", "price", PriceAxis("right"), closable=False, stretch=4)
        self.volume_pane = self._add_pane("volume", "volume", VolumeAxis("right"), closable=False, stretch=1)
        self.glw = self.price_pane.view  # the price pane's canvas (grab(), viewport(), scene())
        self.price = self.price_pane.plot
        self.vol = self.volume_pane.plot
        self.axis = self.price_pane.date_axis
        self.vaxis = self.volume_pane.date_axis
        self.candles = OhlcItem()
        self.volume = OhlcItem(volume=True)
        self.line = LineItem("close")
        self.price_pane.bars_item = self.candles
        self.volume_pane.bars_item = self.volume
        self.price.addItem(self.candles)
        self.price.addItem(self.line)
        self.vol.addItem(self.volume)
        self.line.hide()
        self.markers = pg.ScatterPlotItem(size=11)
        self.price.addItem(self.markers)
        self.last_line = pg.InfiniteLine(angle=0, movable=False)
        self.last_line.setZValue(40)
        self.price.addItem(self.last_line, ignoreBounds=True)
        self.vline, self.hline = self.price_pane.vline, self.price_pane.hline
        self.vline2 = self.volume_pane.vline
        self.message = pg.TextItem("", anchor=(0.5, 0.5))
        self.price.addItem(self.message, ignoreBounds=True)
        self.price_pane.vb.sigXRangeChanged.connect(self._on_x_range_changed)
        self.glw.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self._sync_date_axes()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(1)
        lay.addLayout(bar)
        lay.addWidget(self.info)
        lay.addWidget(self.splitter, 1)
        self._install_drawings(bar)
        self._install_studies(bar)
        style.theme_signals().changed.connect(self._on_theme_changed)
        self._on_theme_changed(style.CHART)

    # ------------------------------------------------------------------ drawings
    def _install_drawings(self, bar: QHBoxLayout) -> None:
        """The drawing layer (``widgets/chart/drawings.py``) and its "✎ Draw" menu after "+ Indicator"."""
        from widgets.chart.drawings import DrawingLayer

        self.drawings = DrawingLayer(self)
        bar.insertWidget(bar.indexOf(self.indicator_btn) + 1, self.drawings.button)

    def _install_studies(self, bar: QHBoxLayout) -> None:
        """Multi-line studies and line styles (``studies.py``), compared symbols (``compare.py``,
        its "Compare…" after "✎ Draw") and the legend editor (``legend_edit.py``)."""
        from widgets.chart.compare import CompareLayer
        from widgets.chart.studies import StudyLayer

        self.studies = StudyLayer(self)
        self.compare = CompareLayer(self)
        bar.insertWidget(bar.indexOf(self.drawings.button) + 1, self.compare.button)
        for pane in self.panes.values():
            self._connect_legend(pane)

    def _connect_legend(self, pane: Pane) -> None:
        pane.legend_clicked.connect(self.edit_legend_entry)
        pane.legend_menu_requested.connect(self._on_legend_menu)

    def edit_legend_entry(self, link: str) -> Any:
        """Open the editor of a legend entry ("overlay:<index>", "study:<id>", "compare:<symbol>")."""
        from widgets.chart.legend_edit import open_editor

        return open_editor(self, link)

    def _on_legend_menu(self, link: str, pos: Any) -> None:
        from widgets.chart.legend_edit import legend_menu

        legend_menu(self, link).popup(pos)

    def set_drawing_store(self, store: Any) -> None:
        """Keep this chart's drawings in ``store`` (an ``engine.charts.drawings.DrawingStore``),
        per symbol; without one they last as long as the chart."""
        self.drawings.set_store(store)

    # ------------------------------------------------------------------ panes
    def _add_pane(self, pane_id: str, kind: str, axis: Any, closable: bool = True, stretch: int = 1) -> Pane:
        pane = Pane(pane_id, kind, axis, closable)
        self.panes[pane_id] = pane
        self.splitter.addWidget(pane)
        self.splitter.setStretchFactor(self.splitter.indexOf(pane), stretch)
        pane.move_requested.connect(self.move_pane)
        pane.close_requested.connect(self.close_pane)
        if kind != "price":
            pane.vb.setXLink(self.price_pane.vb)
        proxy = pg.SignalProxy(pane.view.scene().sigMouseMoved, rateLimit=60,
                               slot=lambda evt, p=pane: self._on_mouse_moved(p, evt))
        pane._mouse_proxy = proxy  # type: ignore[attr-defined]  # kept alive with the pane
        pane.view.scene().sigMouseClicked.connect(self._on_any_click)
        pane.view.installEventFilter(self)
        pane.view.viewport().installEventFilter(self)
        if hasattr(self, "studies"):
            self._connect_legend(pane)
        if hasattr(self, "price_pane"):
            self._copy_time_axis(pane)
            pane.apply_colors(style.CHART)
            self._size_new_pane(pane)
        return pane

    def _size_new_pane(self, pane: Pane) -> None:
        """Share the height: the price pane about half (more with fewer panes), volume a
        small strip, each study pane the same slice of the rest."""
        total = sum(self.splitter.sizes()) or max(200, self.splitter.height())
        weights = {"price": 5.0, "volume": 1.3, "study": 1.8}
        order = [self.panes[i] for i in self.pane_order()]
        w = [weights[p.kind] for p in order]
        self.splitter.setSizes([max(40, int(total * x / sum(w))) for x in w])

    def pane_order(self) -> list[str]:
        """Pane ids, top to bottom."""
        return [w.id for w in (self.splitter.widget(i) for i in range(self.splitter.count())) if isinstance(w, Pane)]

    def study_panes(self) -> list[Pane]:
        return [self.panes[i] for i in self.pane_order() if self.panes[i].kind == "study"]

    def move_pane(self, pane_id: str, delta: int) -> None:
        """Move a pane up (``delta`` < 0) or down among the panes under the price pane."""
        pane = self.panes.get(pane_id)
        if pane is None or pane.kind == "price":
            return
        i = self.splitter.indexOf(pane)
        j = min(max(1, i + delta), self.splitter.count() - 1)  # the price pane stays on top
        if j != i:
            self.splitter.insertWidget(j, pane)
            self._sync_date_axes()

    def close_pane(self, pane_id: str) -> None:
        """Close a study pane (removing its studies) or hide the volume pane."""
        pane = self.panes.get(pane_id)
        if pane is None or pane.kind == "price":
            return
        if pane.kind == "volume":
            pane.hide()
            self._sync_date_axes()
            return
        if pane_id in self.studies.studies:
            self.studies.remove(pane_id)
            return
        for name in list(pane.series):
            self.set_overlay(name, None)

    def set_volume_visible(self, visible: bool) -> None:
        self.volume_pane.setVisible(visible)
        self._sync_date_axes()

    def _drop_pane(self, pane: Pane) -> None:
        self.panes.pop(pane.id, None)
        pane.hide()
        pane.setParent(None)
        pane.deleteLater()
        self._sync_date_axes()
        self._size_new_pane(self.price_pane)

    def _sync_date_axes(self) -> None:
        """Dates go under the lowest visible pane only."""
        visible = [self.panes[i] for i in self.pane_order() if not self.panes[i].isHidden()]
        for pane in self.panes.values():
            pane.plot.showAxis("bottom", show=bool(visible) and pane is visible[-1])

    def _copy_time_axis(self, pane: Pane) -> None:
        src = self.price_pane.date_axis
        ax = pane.date_axis
        if ax is not src:
            ax.times, ax.intraday, ax.tz = src.times, src.intraday, src.tz
            ax._cache.clear()

    @property
    def ind(self) -> pg.PlotItem | None:
        """The first study pane's plot (``None`` when no study has its own pane)."""
        panes = self.study_panes()
        return panes[0].plot if panes else None

    # ------------------------------------------------------------------ public API
    def open_symbol(self, symbol: str, timeframe: str | None = None) -> None:
        """Load ``symbol`` (in a worker) and show it; emits ``bars_loaded`` or ``load_failed``."""
        symbol = symbol.strip().upper()
        if timeframe and timeframe != self.timeframe:
            self.timeframe = timeframe
            self.tf_box.blockSignals(True)
            if self.tf_box.findData(timeframe) < 0:
                self.tf_box.addItem(timeframe_label(timeframe), timeframe)
            self.tf_box.setCurrentIndex(self.tf_box.findData(timeframe))
            self.tf_box.blockSignals(False)
        self.symbol = symbol
        self.title.setText(f"{symbol}  ·  loading…")
        self._load_seq += 1
        seq = self._load_seq
        self._loading = True
        fns = dict(self._overlay_fns)
        self.tasks.submit(
            _load_with_studies,
            self.data.get_bars,
            symbol,
            self.timeframe,
            fns,
            label=f"Loading {symbol} {self.timeframe}",
            on_result=lambda r, seq=seq, fns=fns: self._on_bars(seq, fns, r),
            on_error=lambda exc, seq=seq, s=symbol: self._on_load_error(seq, s, exc),
        )
        self.symbol_changed.emit(symbol)

    def set_bars(self, bars: Bars) -> None:
        """Show ``bars`` directly (already loaded)."""
        self.bars = bars
        self.symbol = bars.symbol
        self.timeframe = bars.timeframe
        self._bars_changed()
        preset, self._preset = self._preset, None
        if preset is not None and preset[0] is bars:
            self._keep_studies((self._data_version, None), preset[1], preset[2])
        self._render()
        if warm_up_needed(len(bars)) and not self._warm_timer.isActive():
            self._warm_timer.start()
        self.bars_loaded.emit(bars)

    def _on_warm_timer_timeout(self) -> None:
        if not warm_up_needed(WARM_UP_MIN_BARS):
            return  # another chart did it
        fns = [t.transform for t in _TYPES.values() if t.transform is not None]
        if fns:
            self.tasks.submit(warm_up, fns, label="Preparing chart types")

    def set_chart_type(self, key: str) -> None:
        """Draw as chart type ``key`` (``chart_types()``; e.g. "candles", "line", "baseline")."""
        ct = _TYPES.get(key)
        if ct is None:
            raise ValueError(f"unknown chart type {key!r}; use one of {', '.join(_TYPES)}")
        self.chart_type = key
        i = self.kind_box.findData(key)
        if i >= 0 and i != self.kind_box.currentIndex():
            self.kind_box.blockSignals(True)
            self.kind_box.setCurrentIndex(i)
            self.kind_box.blockSignals(False)
        self._render(keep_view=True)

    def set_scale(self, mode: str) -> None:
        """The price axis: "linear", "log" or "percent" (from the first visible bar)."""
        if mode not in SCALES:
            raise ValueError(f"unknown price scale {mode!r}; use linear, log or percent")
        self.scale = mode
        for b, m in ((self.log_btn, "log"), (self.pct_btn, "percent")):
            b.blockSignals(True)
            b.setChecked(mode == m)
            b.blockSignals(False)
        self._draw_price(keep_view=True)
        self._draw_overlays()
        self.price_scale_changed.emit()

    def set_time_zone(self, mode: str) -> None:
        """Intraday times in the exchange's zone ("exchange", from the market calendar), the
        computer's ("local") or "utc"."""
        if mode not in TIME_ZONES:
            raise ValueError(f"unknown time zone setting {mode!r}; use exchange, local or utc")
        self.time_zone = mode
        self._set_time_axes()
        for pane in self.panes.values():
            pane.view.update()
            pane.date_axis.picture = None
            pane.date_axis.update()
        if self.shown is not None:
            self._show_info(self._cursor if self._cursor is not None else len(self.shown) - 1)

    def set_overlay(self, name: str, fn: Callable[[Bars], np.ndarray] | None) -> None:
        """Draw ``fn(bars)`` (computed in a worker) as a line over the price, or in its own
        pane when its values are not on the price scale (``None`` removes it)."""
        if fn is None:
            if name in self._formula_overlays:
                self._formula_overlays.remove(name)
            self._overlay_fns.pop(name, None)
            self._overlay_values.pop(name, None)
            self._price_like.pop(name, None)
            self._study_cache.drop(lambda k: k[2] == name)
            self.overlay_errors.pop(name, None)
            self.studies.forget_overlay(name)
            self._detach(name)
            self._update_legends()
            return
        self._overlay_fns[name] = fn
        self._study_cache.drop(lambda k: k[2] == name)  # a new function for the name: its old values are not its values
        self._compute_overlays()

    def set_formula_source(self, parse: Callable[[str], Any] | None,
                           names: Callable[[], Sequence[str]] | None = None) -> None:
        """Enable "+ Indicator": ``parse(text)`` returns an object with ``evaluate(bars)`` (raising
        ``ValueError`` for a bad formula); ``names()`` lists the custom indicators for the menu."""
        self._parse_formula = parse
        self._formula_names = names or (lambda: ())
        self.indicator_btn.setVisible(parse is not None)

    def add_formula_overlay(self, text: str) -> str:
        """Overlay formula ``text`` (parsed now: raises ``ValueError``/``FormulaError``; re-parsed
        at each computation so edited custom indicators show). Returns the overlay's name."""
        if self._parse_formula is None:
            raise RuntimeError("this chart has no formula source")
        name = " ".join(text.split())
        if not name:
            raise ValueError("type a formula, e.g. sma(close, 20)")
        self._parse_formula(name)
        parse = self._parse_formula
        if name not in self._formula_overlays:
            self._formula_overlays.append(name)
        self.set_overlay(name, lambda bars, t=name: parse(t).evaluate(bars))
        return name

    def replace_formula_overlay(self, old: str, text: str) -> str:
        """Change formula overlay ``old`` to ``text`` in its place (its style kept); returns the
        new name. Raises ``ValueError``/``FormulaError`` for a formula that does not parse."""
        if self._parse_formula is None:
            raise RuntimeError("this chart has no formula source")
        new = " ".join(text.split())
        if not new:
            raise ValueError("type a formula, e.g. sma(close, 20)")
        if new == old:
            return old
        if new in self._overlay_fns:
            raise ValueError(f"{new} is already on the chart")
        self._parse_formula(new)
        order = [new if n == old else n for n in self._overlay_fns]
        formulas = [new if n == old else n for n in self._formula_overlays]
        self.studies.rename_overlay(old, new)
        kept = (self.studies.overlay_styles.get(new), new in self.studies.hidden_overlays)
        self.set_overlay(old, None)
        if kept[0] is not None:
            self.studies.overlay_styles[new] = kept[0]
        if kept[1]:
            self.studies.hidden_overlays.add(new)
        self.add_formula_overlay(new)
        self._overlay_fns = {n: self._overlay_fns[n] for n in order if n in self._overlay_fns}
        self._formula_overlays = [n for n in formulas if n in self._overlay_fns]
        self._draw_overlays()
        return new

    def add_study(self, kind: str, params: dict[str, float] | None = None) -> str:
        """Add a multi-line study: "bbands" (Bollinger, one filled band), "macd" (line, signal,
        histogram in its own pane) or "ichimoku" (the cloud); returns its id."""
        return self.studies.add(kind, params)

    def refresh_overlays(self) -> None:
        """Recompute every overlay (after a custom indicator it uses was edited)."""
        self._study_cache.clear()
        self._compute_overlays()

    # ------------------------------------------------------------------ state across restarts
    def state(self) -> dict[str, Any]:
        """What the chart shows, JSON-ready: symbol, timeframe, chart type, price scale, the
        formula overlays in order (each overlay's pane follows from its values) and the
        order of the panes under the price."""
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "kind": self.chart_type,
            "scale": self.scale,
            "volume": not self.volume_pane.isHidden(),
            "overlays": list(self._formula_overlays),
            "panes": {n: self.overlay_pane(n) for n in self._formula_overlays},
            "pane_order": self.pane_order(),
            "studies": self.studies.state(),
            "compare": self.compare.state(),
            **{k: get() for k, (get, _set) in self.state_extras.items()},
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back a ``state()`` and load its symbol. An overlay that no longer parses (a
        custom indicator deleted since), an unknown type or scale, is skipped; the rest is restored."""
        kind = state.get("kind")
        if isinstance(kind, str):
            by_label = {t.label: t.key for t in _TYPES.values()}
            key = kind if kind in _TYPES else by_label.get(kind)
            if key is not None:
                self.set_chart_type(key)
        scale = state.get("scale")
        if isinstance(scale, str) and scale in SCALES:
            self.set_scale(scale)
        if state.get("volume") is False:
            self.set_volume_visible(False)
        if self._parse_formula is not None:
            for text in state.get("overlays") or []:
                if isinstance(text, str):
                    try:
                        self.add_formula_overlay(text)
                    except (ValueError, RuntimeError) as exc:
                        self.overlay_errors[text] = str(exc)
        for key, (_get, put) in self.state_extras.items():
            if key in state:
                put(state[key])
        self._pending_order = [p for p in state.get("pane_order") or [] if isinstance(p, str)]
        if "studies" in state:
            self.studies.restore(state.get("studies"))
        if "compare" in state:
            self.compare.restore(state.get("compare"))
        tf = state.get("timeframe")
        symbol = state.get("symbol")
        if isinstance(symbol, str) and symbol.strip():
            self.open_symbol(symbol, tf if isinstance(tf, str) and tf else None)

    def overlay_names(self) -> list[str]:
        return list(self._overlay_fns)

    def overlay_pane(self, name: str) -> str:
        """Where overlay ``name`` is drawn: "price", "lower" (its own pane, ``overlay_pane_id``)
        or "pending" (its values are still being computed)."""
        pid = self.overlay_pane_id(name)
        return "pending" if pid is None else ("price" if pid == "price" else "lower")

    def overlay_pane_id(self, name: str) -> str | None:
        """The id of the pane overlay ``name`` is drawn in (``None`` until computed)."""
        if name not in self._overlay_fns:
            raise KeyError(name)
        for pane in self.panes.values():
            if name in pane.series:
                return pane.id
        return None

    def set_markers(self, points: Sequence[tuple[float, float, str]]) -> None:
        """Trade markers: (bar index, price, "buy"|"sell")."""
        self._markers = list(points)
        spots = [
            {
                "pos": (i, float(self._fwd(np.array([price]))[0])),
                "symbol": "t1" if side == "buy" else "t",
                "brush": pg.mkBrush(style.CHART.up if side == "buy" else style.CHART.down),
                "pen": pg.mkPen("w"),
            }
            for i, price, side in self._markers
        ]
        self.markers.setData(spots)

    # ------------------------------------------------------------------ price scale
    def _fwd(self, a: np.ndarray) -> np.ndarray:
        if self.scale == "log":
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(a > 0, np.log10(np.where(a > 0, a, 1.0)), np.nan)
        if self.scale == "percent":
            return (a / self._base - 1.0) * 100.0
        return a

    def _inv(self, v: float) -> float:
        if self.scale == "log":
            return float(10.0 ** v)
        if self.scale == "percent":
            return float(self._base * (1.0 + v / 100.0))
        return float(v)

    # ------------------------------------------------------------------ rendering
    def _render(self, keep_view: bool = False) -> None:
        b = self.bars
        if b is None:
            return
        self.message.setText("")
        self._show_source(b)
        ct = _TYPES[self.chart_type]
        self._type_seq += 1  # a transform still running for the type before is not drawn
        seq = self._type_seq
        self._transforming = False
        if ct.transform is None:
            self._show_shown(_shown(b), keep_view)
            return
        key = (self._data_version, ct.key)
        hit = self._shown_cache.get(key)
        if hit is not None:  # computed before for these very bars
            self._show_shown(hit, keep_view=False)
            return
        self._transforming = True
        fns = dict(self._overlay_fns)
        self.tasks.submit(_transform_with_studies, b, ct.transform, fns, label=f"Drawing {ct.label}",
                          on_result=lambda r, seq=seq, key=key, fns=fns: self._on_shown(seq, key, fns, r),
                          on_error=lambda exc, seq=seq: self._on_shown_error(seq, exc))

    def _keep_studies(self, ikey: tuple[int, str | None], fns: dict[str, Callable[[Bars], np.ndarray]],
                      result: StudyResult | None) -> dict[str, tuple[np.ndarray, str | None, bool]]:
        """Put studies computed from input ``ikey`` in the cache (unless the bars changed, or a
        study got another function, while they ran); returns them by name."""
        if result is None:
            return {}
        values, errors, price_like = result
        fresh = {n: (values[n], errors.get(n), price_like[n]) for n in values}
        if ikey[0] == self._data_version:
            for name, entry in fresh.items():
                if self._overlay_fns.get(name) is fns[name]:  # not replaced while it ran
                    self._study_cache.put((*ikey, name), entry)
        return fresh

    def _on_shown(self, seq: int, key: tuple[int, str], fns: dict[str, Callable[[Bars], np.ndarray]],
                  result: tuple[Shown, StudyResult | None]) -> None:
        shown, studies = result
        self._keep_studies(key, fns, studies)
        if key[0] == self._data_version:
            self._shown_cache.put(key, shown)
        if seq == self._type_seq:
            self._transforming = False
            self._show_shown(shown, keep_view=False)

    def _on_shown_error(self, seq: int, exc: BaseException) -> None:
        if seq == self._type_seq:
            self._transforming = False
            self.message.setText(f"{_TYPES[self.chart_type].label}: {exc}")

    def _show_shown(self, shown: Shown, keep_view: bool) -> None:
        b = self.bars
        assert b is not None
        same_length = self.shown is not None and len(self.shown) == len(shown)
        self.shown = shown
        self._set_time_axes()
        vol = shown.volume
        if vol is not None:  # the volume item reads only high (the volume), open and close (the colour)
            self.volume.set_data(shown.open, vol, vol, shown.close)
        else:
            self.volume.set_data(np.empty(0), np.empty(0), np.empty(0), np.empty(0))
        n = len(shown)
        if not (keep_view and same_length):
            show = min(n, 250 if not b.is_intraday else 390)
            x0, x1 = n - show - 0.5, n + 2 + self.studies.right_margin()
            self._base = self._first_visible_close(x0)
            self.price.setXRange(x0, x1, padding=0)  # first: the baseline and % scale start at the first visible bar
            self._draw_price()
        else:
            self._draw_price(keep_view=True)
        self.compare.on_shown()
        self._compute_overlays()
        self.fit_panes()
        self._show_info(n - 1)

    def _first_visible_close(self, x0: float) -> float:
        s = self.shown
        if s is None or not len(s):
            return 1.0
        i = min(max(0, int(math.ceil(x0))), len(s) - 1)
        c = s.close[i]
        return float(c) if np.isfinite(c) and c != 0 else 1.0

    def _set_time_axes(self) -> None:
        b, s = self.bars, self.shown
        if b is None or s is None:
            return
        tz = zone_for(self.time_zone, exchange_tz(b.symbol))
        for pane in self.panes.values():
            ax = pane.date_axis
            ax.times, ax.intraday, ax.tz = s.time, b.is_intraday, tz
            ax._cache.clear()

    def _draw_price(self, keep_view: bool = False) -> None:
        s = self.shown
        if s is None:
            return
        if keep_view and self.scale == "percent":
            self._base = self._first_visible_close(self.price_pane.vb.viewRange()[0][0])
        how = _TYPES[self.chart_type].draw
        axis = self.price_pane.axis
        assert isinstance(axis, PriceAxis)
        axis.inverse = None if self.scale == "linear" else self._inv
        axis.percent = self.scale == "percent"
        axis.picture = None
        bars_style = how in ("candles", "hollow", "ohlc")
        self.candles.setVisible(bars_style)
        self.line.setVisible(not bars_style)
        self.price_pane.bars_item = self.candles if bars_style else self.line  # what the price pane fits
        empty = np.empty(0)
        if bars_style:
            self.candles.bar_style = how
            self.candles.set_data(*(self._fwd(a) for a in (s.open, s.high, s.low, s.close)))
            self.line.set_data(empty)
        else:
            self.candles.set_data(empty, empty, empty, empty)
            y = self._fwd(s.close)
            base = float(y[np.isfinite(y)][0]) if np.isfinite(y).any() else 0.0
            if how == "baseline":  # the first visible bar's close, as TradingView's default base
                i = min(max(0, int(math.ceil(self.price_pane.vb.viewRange()[0][0]))), len(y) - 1)
                base = float(y[i]) if np.isfinite(y[i]) else base
            self.line.set_data(y, color=style.CHART.overlays[1], fill=None if how == "line" else how, base=base)
            self.line.width = 1.5
        last = float(s.close[-1]) if len(s) else math.nan
        prev = float(s.close[-2]) if len(s) > 1 else last
        col = style.CHART.up if last >= prev else style.CHART.down
        self.last_line.setPen(pg.mkPen(col, style=Qt.PenStyle.DashLine))
        ly = float(self._fwd(np.array([last]))[0]) if np.isfinite(last) else math.nan
        if np.isfinite(ly):
            self.last_line.setPos(ly)
            self.last_line.show()
        else:
            self.last_line.hide()
        axis.set_marker("last", ly, fmt.price(last) if np.isfinite(last) else "", col)
        if self._markers:
            self.set_markers(self._markers)
        if getattr(self, "_trade_links", None):
            self.set_trade_links(self._trade_links)
        self.fit_panes()
        if hasattr(self, "drawings"):
            self.drawings.refresh()  # anchors map through the new times and scale

    def _study_key(self) -> tuple[int, str | None]:
        """What the studies are computed from: the data version and the transform drawn (None:
        the bars themselves, whichever bar style draws them)."""
        ct = _TYPES[self.chart_type]
        return self._data_version, (ct.key if ct.transform is not None else None)

    def _bars_changed(self) -> None:
        """The bars changed (or were changed in place): results cached for older ones are stale."""
        self._data_version += 1
        self._shown_cache.drop_before(self._data_version)
        self._study_cache.drop_before(self._data_version)

    def _compute_overlays(self) -> None:
        """Compute every study of the drawn bars in a worker; drawn when the result is back.
        Studies computed before from the same input (a switch between bar styles, or back to
        a transform type) are taken from the cache and drawn at once."""
        b = self.bars
        if b is not None:
            self.studies.compute()
        if b is None or not self._overlay_fns:
            return
        self._study_seq += 1
        seq = self._study_seq
        ikey = self._study_key()
        cached: dict[str, tuple[np.ndarray, str | None, bool]] = {}
        for name in self._overlay_fns:
            hit = self._study_cache.get((*ikey, name))
            if hit is not None:
                cached[name] = hit
        fns = {n: fn for n, fn in self._overlay_fns.items() if n not in cached}
        if not fns:
            self._studies_pending = False
            self._apply_studies(cached)
            return
        self._studies_pending = True
        self.tasks.submit(_compute_studies, self._study_input(b), fns, label=f"Computing studies of {b.symbol}",
                          on_result=lambda r, seq=seq, bars=b, ikey=ikey, cached=cached, fns=fns:
                          self._on_studies(seq, bars, ikey, cached, fns, r))

    def _study_input(self, b: Bars) -> Bars:
        s = self.shown
        if s is None or _TYPES[self.chart_type].transform is None:
            return b
        return _as_bars(b, s)

    def _on_studies(self, seq: int, bars: Bars, ikey: tuple[int, str | None],
                    cached: dict[str, tuple[np.ndarray, str | None, bool]],
                    fns: dict[str, Callable[[Bars], np.ndarray]], result: StudyResult) -> None:
        fresh = self._keep_studies(ikey, fns, result)
        if seq != self._study_seq or bars is not self.bars:
            return  # a newer load or study list superseded this one
        self._studies_pending = False
        self._apply_studies({**cached, **fresh})

    def _apply_studies(self, results: dict[str, tuple[np.ndarray, str | None, bool]]) -> None:
        for name, (y, error, price_like) in results.items():
            if name in self._overlay_fns:
                self._overlay_values[name] = y
                self._price_like[name] = price_like
                if error is not None:
                    self.overlay_errors[name] = error
                else:
                    self.overlay_errors.pop(name, None)
        self._draw_overlays()
        self.studies_drawn.emit()

    def is_drawing(self) -> bool:
        """True while bars are loading (a symbol or timeframe switch), or a chart-type transform
        or the studies of what is drawn are still being computed: when it turns False the chart
        shows the new type or timeframe completely."""
        return self._loading or self._transforming or self._studies_pending

    def _draw_overlays(self) -> None:
        s = self.shown
        if s is None:
            return
        for k, name in enumerate(self._overlay_fns):
            y = self._overlay_values.get(name)
            if y is None or len(y) != len(s):
                continue
            own = self.pane_studies.get(name)
            price_like = self._price_like.get(name) if own is None else False
            if price_like is None:
                price_like = is_price_like(y, s.close)
            pane = self.price_pane if price_like else self._study_pane(name)
            item = self._overlays.get(name)
            if item is not None and name not in pane.series:
                self._detach(name)
                pane = self.price_pane if price_like else self._study_pane(name)
                item = None
            color = self.studies.overlay_style(name, style.CHART.overlays[k % len(style.CHART.overlays)]).color
            if item is None:
                item = pane.add_series(name, color, own[0] if own is not None else LineItem)
                self._overlays[name] = item
            yy = np.asarray(y, dtype=float)
            self.studies.style_overlay(name, item)
            item.set_data(self._fwd(yy) if price_like else yy, color=color)
        self.studies.draw(finish=False)
        self.compare.draw(finish=False)
        self._update_legends()
        self.fit_panes()

    def _study_pane(self, name: str) -> Pane:
        pane = self.panes.get(name)
        if pane is None:
            pane = self._add_pane(name, "study", PriceAxis("right"))
            own = self.pane_studies.get(name)
            pane.set_levels(own[1] if own is not None else reference_levels(name))
            pane.apply_colors(style.CHART)
            self._apply_pending_order()
            self._sync_date_axes()
        return pane

    def _apply_pending_order(self) -> None:
        order = getattr(self, "_pending_order", None)
        if not order:
            return
        ranked = [pid for pid in order if pid in self.panes]
        for pid in ranked:
            pane = self.panes[pid]
            if pane.kind != "price":
                self.splitter.insertWidget(self.splitter.count() - 1, pane)
        for pid in [p for p in self.pane_order() if p not in ranked]:
            self.splitter.insertWidget(self.splitter.count() - 1, self.panes[pid])
        # stable: panes in `order` keep that order, others go after them
        current = self.pane_order()
        want = sorted(current, key=lambda p: (order.index(p) if p in order else len(order), current.index(p)))
        for i, pid in enumerate(want):
            self.splitter.insertWidget(i, self.panes[pid])

    def _detach(self, name: str) -> None:
        self._overlays.pop(name, None)
        for pane in list(self.panes.values()):
            if pane.remove_series(name) is not None and pane.kind == "study" and not pane.series:
                self._drop_pane(pane)

    def fit_panes(self) -> None:
        """Fit every pane's y range to its data over the visible bars."""
        if self._fitting:
            return
        self._fitting = True
        try:
            x0, x1 = self.price_pane.vb.viewRange()[0]
            for pane in self.panes.values():
                pane.fit(x0, x1)
        finally:
            self._fitting = False

    def _on_x_range_changed(self, *_args: Any) -> None:
        if self.scale == "percent" and self.shown is not None:
            # the % scale (and every compared symbol) starts at the first visible bar: rebase
            # when a pan or zoom moved that bar
            if self.compare.first_visible() != self._based_at and not self._rebase_timer.isActive():
                # a rebase redraws every price item (tens of ms even on a few thousand bars):
                # pan at full speed on the old base and rebase at most every REBASE_MS
                self._rebase_timer.start()
        self.fit_panes()

    def _rebase(self) -> None:
        if self.scale != "percent" or self.shown is None:
            return
        self._based_at = self.compare.first_visible()
        self._draw_price(keep_view=True)
        self._draw_overlays()
        self.price_scale_changed.emit()

    def _fill_types(self) -> None:
        self.kind_box.blockSignals(True)
        self.kind_box.clear()
        for t in _TYPES.values():
            self.kind_box.addItem(t.label, t.key)
        self.kind_box.setCurrentIndex(max(0, self.kind_box.findData(self.chart_type)))
        self.kind_box.blockSignals(False)

    def _fill_indicator_menu(self) -> None:
        m = self.indicator_menu
        m.clear()
        for label, formula in QUICK_OVERLAYS:
            m.addAction(f"{label}    {formula}", lambda f=formula: self._add_overlay_interactive(f))
        m.addSection("Studies")
        from widgets.chart.studies import KINDS

        for kind in KINDS.values():
            m.addAction(kind.title, lambda k=kind.key: self.add_study(k))
        names = list(self._formula_names())
        if names:
            m.addSection("Custom indicators")
            for n in names:
                m.addAction(n, lambda f=n: self._add_overlay_interactive(f))
        for label, add in self.study_actions:
            m.addAction(label, add)
        m.addSeparator()
        m.addAction("Formula…", self._on_formula_overlay)
        if self._overlay_fns or self.studies.studies:
            rm = m.addMenu("Remove")
            for n in self._overlay_fns:
                rm.addAction(n, lambda n=n: self.set_overlay(n, None))
            for sid, st in self.studies.studies.items():
                rm.addAction(st.label(), lambda sid=sid: self.studies.remove(sid))
            rm.addSeparator()
            rm.addAction("All", lambda: ([self.set_overlay(n, None) for n in list(self._overlay_fns)],
                                         self.studies.clear()))

    def _add_overlay_interactive(self, text: str) -> None:
        try:
            self.add_formula_overlay(text)
        except (ValueError, RuntimeError) as exc:
            QMessageBox.warning(self, "Indicator", f"{text}\n\n{exc}")

    def _on_formula_overlay(self) -> None:
        text, ok = QInputDialog.getText(self, "Add an indicator", "Formula (e.g. sma(close, 20), rsi(close) or my_osc):")
        if ok and text.strip():
            self._add_overlay_interactive(text)

    # ------------------------------------------------------------------ readout and legends
    def _show_info(self, i: int) -> None:
        s = self.shown
        if s is None or not (0 <= i < len(s)):
            return
        when = self.axis.format_time(i, long=True)
        chg = (s.close[i] / s.close[i - 1] - 1) * 100 if i > 0 and s.close[i - 1] else 0.0
        vol = f"   V {fmt.volume(s.volume[i])}" if s.volume is not None else ""
        self.info.setText(
            f"{when}   O {fmt.price(s.open[i])}  H {fmt.price(s.high[i])}  L {fmt.price(s.low[i])}"
            f"  C {fmt.price(s.close[i])}  ({fmt.percent(chg)}){vol}"
        )
        self._update_legends(i)

    def _update_legends(self, i: int | None = None) -> None:
        """Each pane's legend: its studies' names with their values at bar ``i`` (the cursor,
        else the last bar)."""
        s = self.shown
        if i is None:
            i = self._cursor if self._cursor is not None else (len(s) - 1 if s is not None else 0)
        for pane in self.panes.values():
            parts = []
            if pane.kind == "volume" and s is not None and s.volume is not None and 0 <= i < len(s):
                parts.append(f"<span style='color:{style.CHART.foreground}'>Volume {fmt.volume(s.volume[i])}</span>")
            names = list(self._overlay_fns)
            for name, item in pane.series.items():
                y = self._overlay_values.get(name)
                v = y[i] if y is not None and 0 <= i < len(y) else math.nan
                text = fmt.number(float(v)) if np.isfinite(v) else "–"
                err = " ⚠" if name in self.overlay_errors else ""
                dim = "; text-decoration:line-through" if name in self.studies.hidden_overlays else ""
                link = f"overlay:{names.index(name)}" if name in names else ""
                label = html.escape(name)
                parts.append(f"<a href='{link}' style='color:{item.color}; text-decoration:none{dim}'>{label}</a>"
                             f" <span style='color:{item.color}'>{text}{err}</span>")
            parts += self.studies.legend_parts(pane, i)
            if pane.kind == "price":
                parts += self.compare.legend_parts(i)
            pane.set_legend("&nbsp;&nbsp;".join(parts))

    # ------------------------------------------------------------------ slots
    def _on_bars(self, seq: int, fns: dict[str, Callable[[Bars], np.ndarray]],
                 result: tuple[Bars, StudyResult | None]) -> None:
        if seq != self._load_seq:
            return  # a newer request superseded this one
        self._loading = False
        bars, studies = result
        self._preset = (bars, fns, studies)  # set_bars keeps them as the studies of these bars
        self.set_bars(bars)

    def _show_source(self, b: Bars, problem: str = "") -> None:
        """Title and badge say where the drawn bars came from (demo bars always with the
        badge, never under another source's name); ``problem``: why they may be stale."""
        self.demo_badge.setVisible(b.is_demo)
        update_failed = getattr(self.data, "update_failed", None)
        if not problem and update_failed is not None:
            problem = "offline: last cached bars" if update_failed(b.symbol, b.timeframe) else ""
        text = f"{b.symbol}  ·  {timeframe_label(b.timeframe)}  ·  {source_label(b.source)}"
        self.title.setText(text + (f"  ·  {problem}" if problem else ""))

    def _clear_drawing(self) -> None:
        """Nothing drawn: bars of another symbol must not stay under this one's title."""
        self.bars = None
        self.shown = None
        empty = np.empty(0)
        self.candles.set_data(empty, empty, empty, empty)
        self.line.set_data(empty)
        self.volume.set_data(empty, empty, empty, empty)
        self._overlay_values.clear()
        self._price_like.clear()
        self._bars_changed()
        self._transforming = self._studies_pending = False
        for item in self._overlays.values():
            item.set_data(empty)
        self.studies.values.clear()
        for items in self.studies.items.values():
            for it in items.values():
                it.setVisible(False)
        self.last_line.hide()
        self.price_pane.axis.set_marker("last", None)
        self.demo_badge.hide()
        self.info.setText("")

    def _on_load_error(self, seq: int, symbol: str, exc: BaseException) -> None:
        if seq != self._load_seq:
            return
        self._loading = False
        drawn = self.bars
        if drawn is not None and (drawn.symbol, drawn.timeframe) == (symbol, self.timeframe):
            # the same series stays drawn (e.g. demo bars when Yahoo is offline): say whose they are
            self._show_source(drawn, "could not load from the data source")
        else:
            self._clear_drawing()
            self.title.setText(f"{symbol}  ·  no data")
        self.message.setText(str(exc))
        vr = self.price.getViewBox().viewRange()
        self.message.setPos((vr[0][0] + vr[0][1]) / 2, (vr[1][0] + vr[1][1]) / 2)
        self.load_failed.emit(str(exc))

    def _on_timeframe_changed(self, tf: str) -> None:
        self.timeframe = tf
        if self.symbol:
            self.open_symbol(self.symbol)

    def _on_mouse_moved(self, pane: Pane, evt: tuple[Any, ...]) -> None:
        pos = evt[0]
        s = self.shown
        if s is None or pane.id not in self.panes or not pane.plot.sceneBoundingRect().contains(pos):
            return
        pt = pane.vb.mapSceneToView(pos)
        i = min(max(int(round(pt.x())), 0), len(s) - 1)
        self._cursor = i
        lowest = [self.panes[p] for p in self.pane_order() if not self.panes[p].isHidden()]
        for p in self.panes.values():
            p.vline.setPos(i)
            p.hline.setVisible(p is pane)
            if p is not pane:
                p.axis.set_marker("cross", None)
            if lowest and p is not lowest[-1]:
                p.date_axis.set_marker("cross", None)
        pane.hline.setPos(pt.y())
        y = pt.y()
        label = fmt.price(self._inv(y)) if pane.kind == "price" else (
            fmt.volume(y) if pane.kind == "volume" else fmt.number(y))
        pane.axis.set_marker("cross", y, label, style.CHART.crosshair)
        if lowest:
            lowest[-1].date_axis.set_marker("cross", i, self.axis.format_time(i), style.CHART.crosshair)
        self._show_info(i)

    def _on_scene_clicked(self, ev: Any) -> None:
        if self.bars is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        if self.price.sceneBoundingRect().contains(ev.scenePos()):
            y = self.price.getViewBox().mapSceneToView(ev.scenePos()).y()
            self.price_clicked.emit(round(self._inv(float(y)), 2))

    def _on_any_click(self, ev: Any) -> None:
        if ev.double() and ev.button() == Qt.MouseButton.LeftButton:
            self.reset_view()

    def _on_theme_changed(self, colors: style.ChartColors) -> None:
        self.splitter.setStyleSheet(f"QSplitter::handle {{ background: {colors.separator}; }}")
        for pane in self.panes.values():
            pane.apply_colors(colors)
        self.message.setColor(colors.foreground)
        self.candles.clear_cache()
        self.volume.clear_cache()
        if self.shown is not None:
            self._draw_price(keep_view=True)
            self._draw_overlays()

    # ------------------------------------------------------------------ navigation
    def reset_view(self) -> None:
        """The most recent bars, as after a load (double-click, or Home twice)."""
        s = self.shown
        if s is None:
            return
        n = len(s)
        show = min(n, 250 if self.bars is not None and not self.bars.is_intraday else 390)
        self.price.setXRange(n - show - 0.5, n + 2 + self.studies.right_margin(), padding=0)

    def pan(self, fraction: float) -> None:
        """Move the view by ``fraction`` of the visible bars (negative: back in time)."""
        x0, x1 = self.price_pane.vb.viewRange()[0]
        d = (x1 - x0) * fraction
        self.price.setXRange(x0 + d, x1 + d, padding=0)

    def zoom(self, factor: float) -> None:
        """Show ``factor`` times fewer bars (> 1 zooms in), keeping the right edge."""
        if factor <= 0 or not math.isfinite(factor):
            raise ValueError("zoom factor must be a positive number")
        x0, x1 = self.price_pane.vb.viewRange()[0]
        n = len(self.shown) if self.shown is not None else 0
        width = min(max(5.0, (x1 - x0) / factor), max(10.0, n + 10.0))
        self.price.setXRange(x1 - width, x1, padding=0)

    def go_to_start(self) -> None:
        x0, x1 = self.price_pane.vb.viewRange()[0]
        self.price.setXRange(-0.5, -0.5 + (x1 - x0), padding=0)

    def go_to_end(self) -> None:
        if self.shown is None:
            return
        x0, x1 = self.price_pane.vb.viewRange()[0]
        n = len(self.shown) + self.studies.right_margin()
        self.price.setXRange(n + 2 - (x1 - x0), n + 2, padding=0)

    def handle_key(self, key: int) -> bool:
        """Arrows pan, +/− zoom, Home/End jump; returns whether ``key`` was one of them."""
        actions: dict[int, Callable[[], None]] = {
            Qt.Key.Key_Left: lambda: self.pan(-PAN_STEP), Qt.Key.Key_Right: lambda: self.pan(PAN_STEP),
            Qt.Key.Key_Plus: lambda: self.zoom(ZOOM_STEP), Qt.Key.Key_Equal: lambda: self.zoom(ZOOM_STEP),
            Qt.Key.Key_Minus: lambda: self.zoom(1 / ZOOM_STEP), Qt.Key.Key_Up: lambda: self.zoom(ZOOM_STEP),
            Qt.Key.Key_Down: lambda: self.zoom(1 / ZOOM_STEP),
            Qt.Key.Key_Home: self.go_to_start, Qt.Key.Key_End: self.go_to_end,
        }
        fn = actions.get(key)
        if fn is None or self.shown is None:
            return False
        fn()
        return True

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if not self.handle_key(event.key()):
            super().keyPressEvent(event)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            return self.handle_key(event.key())
        return False

    def viewports(self) -> list[QWidget]:
        """The panes' canvases (the chart registry watches clicks on them)."""
        return [p.view.viewport() for p in self.panes.values()]


    # ------------------------------------------------------------------ hooks (orders, fills, live bar, tools)
    def price_to_y(self, price: float) -> float:
        """Where ``price`` sits on the price pane's y axis under the current scale."""
        return float(self._fwd(np.array([float(price)]))[0])

    def y_to_price(self, y: float) -> float:
        """The price at ``y`` on the price pane (inverse of ``price_to_y``)."""
        return self._inv(float(y))

    def add_tool_button(self, button: QWidget) -> None:
        """Put ``button`` in the toolbar, after the chart's own tools (presets, export)."""
        self._toolbar.insertWidget(self._tools_at, button)
        self._tools_at += 1

    def set_trade_links(self, links: Sequence[Any]) -> None:
        """Entry↔exit links of closed round trips (``widgets.chart.orders.TradeLink``)."""
        from widgets.chart.orders import TradeLinksItem

        self._trade_links = list(links)
        item = getattr(self, "_links_item", None)
        if item is None:
            item = self._links_item = TradeLinksItem()
            self.price_pane.add_extra(item)
        item.set_links(self._trade_links, self.price_to_y)

    def update_last_bar(self, high: float, low: float, close: float, volume: float | None = None) -> None:
        """Change the last bar in place (live quotes): only that bar and the last-price line
        are redrawn, history is not touched."""
        if self.bars is None or self.shown is None or not len(self.shown) or not self.draws_bars_as_they_are:
            return
        if getattr(self, "_owned_bars", None) is not self.bars:
            self._own_bars()
        b, s = self.bars, self.shown
        arrays = [(b.high, s.high, high), (b.low, s.low, low), (b.close, s.close, close)]
        if volume is not None:
            arrays.append((b.volume, s.volume, volume))
        for src, shown, v in arrays:
            src[-1] = v
            if shown is not None and shown is not src:
                shown[-1] = v
        self._bars_changed()
        if self.candles.isVisible() and len(self.candles.o) == len(s):
            for arr, v in ((self.candles.h, high), (self.candles.l, low), (self.candles.c, close)):
                arr[-1] = self.price_to_y(v)
            self.candles.prepareGeometryChange()
            r = self.candles.boundingRect()
            lo, hi = min(r.top(), self.price_to_y(low)), max(r.bottom(), self.price_to_y(high))
            r.setTop(lo)
            r.setBottom(hi)
            self.candles._rect = r
            self.candles.clear_cache()
        elif len(self.line.y) == len(s):
            self.line.y[-1] = self.price_to_y(close)
            self.line.clear_cache()
        if volume is not None and s.volume is not None and len(self.volume.h) == len(s):
            self.volume.h[-1] = volume
            self.volume.l[-1] = volume
            self.volume.c[-1] = close
            self.volume.clear_cache()
        self._draw_last_price()
        self.fit_panes()
        if self._cursor is None:
            self._show_info(len(s) - 1)

    @property
    def draws_bars_as_they_are(self) -> bool:
        """The chart type draws the bars themselves (not a transform such as Renko): live
        quotes can update its last bar."""
        return _TYPES[self.chart_type].transform is None

    def _own_bars(self) -> None:
        """Copy the bars before changing them in place: the loaded ones may be the data
        layer's cache."""
        b = self.bars
        assert b is not None
        self.bars = Bars(b.symbol, b.timeframe, b.time.copy(), b.open.copy(), b.high.copy(), b.low.copy(),
                         b.close.copy(), b.volume.copy(), b.source, dict(b.meta))
        self._owned_bars = self.bars
        self.shown = _shown(self.bars)
        s = self.shown
        vol = s.volume if s.volume is not None else np.zeros(len(s))
        self.volume.set_data(s.open, vol, vol, s.close)
        self._draw_price(keep_view=True)

    def append_bar(self, time_s: int, open_: float, high: float, low: float, close: float, volume: float = 0.0) -> None:
        """Start a new last bar (live quotes crossed a timeframe boundary). The view moves with
        it only when the right edge was in view."""
        b = self.bars
        if b is None or not self.draws_bars_as_they_are:
            return
        n = len(b)
        x0, x1 = self.price_pane.vb.viewRange()[0]
        follow = x1 >= n - 1
        self.bars = Bars.from_arrays(
            b.symbol, b.timeframe, np.append(b.time, np.int64(time_s)), np.append(b.open, open_),
            np.append(b.high, high), np.append(b.low, low), np.append(b.close, close),
            np.append(b.volume, volume), b.source)
        self._owned_bars = self.bars
        self._bars_changed()
        self.shown = _shown(self.bars)
        self._set_time_axes()
        s = self.shown
        vol = s.volume if s.volume is not None else np.zeros(len(s))
        self.volume.set_data(s.open, vol, vol, s.close)
        self._draw_price(keep_view=True)
        if follow:
            self.price.setXRange(x0 + 1, x1 + 1, padding=0)
        self._compute_overlays()
        self.fit_panes()

    def _draw_last_price(self) -> None:
        s = self.shown
        if s is None or not len(s):
            return
        last = float(s.close[-1])
        prev = float(s.close[-2]) if len(s) > 1 else last
        col = style.CHART.up if last >= prev else style.CHART.down
        self.last_line.setPen(pg.mkPen(col, style=Qt.PenStyle.DashLine))
        ly = self.price_to_y(last) if np.isfinite(last) else math.nan
        if np.isfinite(ly):
            self.last_line.setPos(ly)
            self.last_line.show()
        self.price_pane.axis.set_marker("last", ly, fmt.price(last) if np.isfinite(last) else "", col)
