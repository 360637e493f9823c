"""The chart dock: candles (or line), volume, crosshair, overlays, trade markers.

Bars live in an ``engine.data.Bars`` (Qt-free model); the items here only draw
(vnpy ``chart/manager.py`` feeds ``chart/item.py``). X is the bar index (no weekend gaps);
the date axis maps indices to times. Crosshair updates are throttled with ``pg.SignalProxy``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QInputDialog, QLabel, QMenu, QMessageBox, QToolButton, QVBoxLayout, QWidget

from engine import formatting as fmt
from engine.data.bars import Bars, timeframe_label
from engine.market.calendar import exchange_tz
from widgets import style
from widgets.chart.axes import DateAxis, PriceAxis, VolumeAxis
from widgets.chart.items import OhlcItem
from widgets.chart.panes import is_price_like
from widgets.tasks import TaskSubmitter

CHART_TIMEFRAMES = ("1m", "5m", "15m", "60m", "1d", "1wk", "1mo")  # ids, shortest first; shown as timeframe_label
#: the "+ Indicator" menu's ready-made overlays (label, formula)
QUICK_OVERLAYS = (
    ("SMA 20", "sma(close, 20)"), ("SMA 50", "sma(close, 50)"), ("SMA 200", "sma(close, 200)"),
    ("EMA 20", "ema(close, 20)"), ("Bollinger upper (20, 2)", "bb_upper(close, 20, 2)"),
    ("Bollinger lower (20, 2)", "bb_lower(close, 20, 2)"), ("RSI 14", "rsi(close, 14)"),
    ("MACD histogram", "macd_hist(close, 12, 26, 9)"), ("ATR 14", "atr(14)"),
)


_SOURCE_LABELS = {"demo": "demo", "yahoo": "Yahoo Finance", "csv": "CSV"}


def source_label(source: str) -> str:
    """How a chart title names the source its bars came from."""
    return _SOURCE_LABELS.get(source, source or "unknown source")


class BarSource(Protocol):
    def get_bars(self, symbol: str, timeframe: str = "1d", refresh: bool = False) -> Bars: ...


class ChartWidget(QWidget):
    """One symbol's chart. ``open_symbol`` loads bars through the task runner."""

    bars_loaded = Signal(object)  # Bars
    load_failed = Signal(str)
    symbol_changed = Signal(str)
    price_clicked = Signal(float)  # a click on the price pane (the order ticket uses it)

    def __init__(self, data: BarSource, tasks: TaskSubmitter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartWidget")
        self.data = data
        self.tasks = tasks
        self.symbol: str | None = None
        self.timeframe = "1d"
        self.bars: Bars | None = None
        self._overlays: dict[str, pg.PlotDataItem] = {}
        self._overlay_fns: dict[str, Callable[[Bars], np.ndarray]] = {}
        self._formula_overlays: list[str] = []  # overlays added as formulas: saved with the state
        self.overlay_errors: dict[str, str] = {}
        self.ind: pg.PlotItem | None = None  # the lower pane for oscillators, built when needed
        self._parse_formula: Callable[[str], Any] | None = None
        self._formula_names: Callable[[], Sequence[str]] = lambda: ()
        self._load_seq = 0

        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        self.title = QLabel("No symbol")
        self.title.setObjectName("chartTitle")
        f = self.title.font()
        f.setBold(True)
        f.setPointSize(f.pointSize() + 2)
        self.title.setFont(f)
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
        self.kind_box.addItems(["Candles", "Line"])
        self.kind_box.currentTextChanged.connect(lambda _t: self._render())
        self.info = QLabel("")
        self.info.setObjectName("chartInfo")
        self.info.setMinimumWidth(1)  # the OHLC readout may be clipped; it must not widen the window
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
        bar.addWidget(self.title)
        bar.addWidget(self.tf_box)
        bar.addWidget(self.kind_box)
        bar.addWidget(self.indicator_btn)
        bar.addSpacing(12)
        bar.addWidget(self.info, 1)
        bar.addWidget(self.demo_badge)

        self.axis = DateAxis(orientation="bottom")
        self.vaxis = DateAxis(orientation="bottom")
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setObjectName("chartCanvas")
        self.price = self.glw.addPlot(row=0, col=0, axisItems={"bottom": self.axis, "right": PriceAxis("right")})
        self.vol = self.glw.addPlot(row=1, col=0, axisItems={"bottom": self.vaxis, "right": VolumeAxis("right")})
        self.glw.ci.layout.setRowStretchFactor(0, 4)
        self.glw.ci.layout.setRowStretchFactor(1, 1)
        self.vol.setXLink(self.price)
        self.price.hideAxis("bottom")
        for plot in (self.price, self.vol):
            plot.showAxis("right")
            plot.hideAxis("left")
            plot.setMenuEnabled(False)
            plot.getViewBox().setMouseEnabled(x=True, y=False)
            plot.getViewBox().setAutoVisible(y=True)
            plot.enableAutoRange(axis="y")
        self.vol.getAxis("right").setWidth(60)
        self.price.getAxis("right").setWidth(60)
        self.candles = OhlcItem()
        self.volume = OhlcItem(volume=True)
        self.line = pg.PlotDataItem()
        self.price.addItem(self.candles)
        self.price.addItem(self.line)
        self.vol.addItem(self.volume)
        self.markers = pg.ScatterPlotItem(size=11)
        self.price.addItem(self.markers)
        self.vline = pg.InfiniteLine(angle=90, movable=False)
        self.hline = pg.InfiniteLine(angle=0, movable=False)
        self.vline2 = pg.InfiniteLine(angle=90, movable=False)
        self.price.addItem(self.vline, ignoreBounds=True)
        self.price.addItem(self.hline, ignoreBounds=True)
        self.vol.addItem(self.vline2, ignoreBounds=True)
        self.message = pg.TextItem("", anchor=(0.5, 0.5))
        self.price.addItem(self.message, ignoreBounds=True)
        self._mouse_proxy = pg.SignalProxy(self.glw.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved)
        self.glw.scene().sigMouseClicked.connect(self._on_scene_clicked)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(self.glw, 1)
        style.theme_signals().changed.connect(self._on_theme_changed)
        self._on_theme_changed(style.CHART)

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
        self.tasks.submit(
            self.data.get_bars,
            symbol,
            self.timeframe,
            label=f"Loading {symbol} {self.timeframe}",
            on_result=lambda bars, seq=seq: self._on_bars(seq, bars),
            on_error=lambda exc, seq=seq, s=symbol: self._on_load_error(seq, s, exc),
        )
        self.symbol_changed.emit(symbol)

    def set_bars(self, bars: Bars) -> None:
        """Show ``bars`` directly (already loaded)."""
        self.bars = bars
        self.symbol = bars.symbol
        self.timeframe = bars.timeframe
        self._render()
        self.bars_loaded.emit(bars)

    def set_overlay(self, name: str, fn: Callable[[Bars], np.ndarray] | None) -> None:
        """Draw ``fn(bars)`` as a line over the price, or in a pane under the volume when its
        values are not on the price scale (``None`` removes it)."""
        if fn is None:
            if name in self._formula_overlays:
                self._formula_overlays.remove(name)
            self._overlay_fns.pop(name, None)
            self.overlay_errors.pop(name, None)
            item = self._overlays.pop(name, None)
            if item is not None:
                self._detach(item)
            self._sync_lower_pane()
            return
        self._overlay_fns[name] = fn
        self._render_overlays()

    def set_formula_source(self, parse: Callable[[str], Any] | None,
                           names: Callable[[], Sequence[str]] | None = None) -> None:
        """Enable "+ Indicator": ``parse(text)`` returns an object with ``evaluate(bars)`` (raising
        ``ValueError`` for a bad formula); ``names()`` lists the custom indicators for the menu."""
        self._parse_formula = parse
        self._formula_names = names or (lambda: ())
        self.indicator_btn.setVisible(parse is not None)

    def add_formula_overlay(self, text: str) -> str:
        """Overlay formula ``text`` (parsed now: raises ``ValueError``/``FormulaError``; re-parsed
        at each render so edited custom indicators show). Returns the overlay's name."""
        if self._parse_formula is None:
            raise RuntimeError("this chart has no formula source")
        name = " ".join(text.split())
        if not name:
            raise ValueError("type a formula, e.g. sma(close, 20)")
        self._parse_formula(name)
        parse = self._parse_formula
        self.set_overlay(name, lambda bars, t=name: parse(t).evaluate(bars))
        if name not in self._formula_overlays:
            self._formula_overlays.append(name)
        return name

    def refresh_overlays(self) -> None:
        """Recompute every overlay (after a custom indicator it uses was edited)."""
        self._render_overlays()

    # ------------------------------------------------------------------ state across restarts
    def state(self) -> dict[str, Any]:
        """What the chart shows, JSON-ready: symbol, timeframe, chart type and the formula
        overlays in order (each overlay's pane follows from its values, so it comes back in
        the same pane)."""
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "kind": self.kind_box.currentText(),
            "overlays": list(self._formula_overlays),
            "panes": {n: self.overlay_pane(n) for n in self._formula_overlays if n in self._overlays},
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back a ``state()`` and load its symbol. An overlay that no longer parses (a
        custom indicator deleted since) is skipped; the rest is restored."""
        kind = state.get("kind")
        if isinstance(kind, str) and self.kind_box.findText(kind) >= 0:
            self.kind_box.setCurrentText(kind)
        if self._parse_formula is not None:
            for text in state.get("overlays") or []:
                if isinstance(text, str):
                    try:
                        self.add_formula_overlay(text)
                    except (ValueError, RuntimeError) as exc:
                        self.overlay_errors[text] = str(exc)
        tf = state.get("timeframe")
        symbol = state.get("symbol")
        if isinstance(symbol, str) and symbol.strip():
            self.open_symbol(symbol, tf if isinstance(tf, str) and tf else None)

    def overlay_names(self) -> list[str]:
        return list(self._overlay_fns)

    def overlay_pane(self, name: str) -> str:
        """Where overlay ``name`` is drawn: "price" or "lower"."""
        item = self._overlays[name]
        return "lower" if self.ind is not None and item.getViewBox() is self.ind.getViewBox() else "price"

    def set_markers(self, points: Sequence[tuple[int, float, str]]) -> None:
        """Trade markers: (bar index, price, "buy"|"sell")."""
        spots = [
            {
                "pos": (i, price),
                "symbol": "t1" if side == "buy" else "t",
                "brush": pg.mkBrush(style.CHART.up if side == "buy" else style.CHART.down),
                "pen": pg.mkPen("w"),
            }
            for i, price, side in points
        ]
        self.markers.setData(spots)

    # ------------------------------------------------------------------ rendering
    def _render(self) -> None:
        b = self.bars
        if b is None:
            return
        self.message.setText("")
        self._show_source(b)
        self.axis.times = self.vaxis.times = b.time
        self.axis.intraday = self.vaxis.intraday = b.is_intraday
        self.axis.tz = self.vaxis.tz = exchange_tz(b.symbol)
        if self.ind is not None:
            self.iaxis.times, self.iaxis.intraday = b.time, b.is_intraday
            self.iaxis.tz = exchange_tz(b.symbol)
        candles = self.kind_box.currentText() == "Candles"
        self.candles.setVisible(candles)
        self.line.setVisible(not candles)
        if candles:
            self.candles.set_data(b.open, b.high, b.low, b.close)
            self.line.setData([], [])
        else:
            self.candles.set_data(np.empty(0), np.empty(0), np.empty(0), np.empty(0))
            self.line.setData(np.arange(len(b)), b.close, pen=pg.mkPen(style.CHART.overlays[1], width=1.5))
        self.volume.set_data(b.open, b.volume, np.zeros_like(b.volume), b.close)
        self._render_overlays()
        n = len(b)
        show = min(n, 250 if not b.is_intraday else 390)
        self.price.setXRange(n - show - 0.5, n + 2, padding=0)
        self._show_info(n - 1)

    def _render_overlays(self) -> None:
        if self.bars is None:
            return
        for k, (name, fn) in enumerate(self._overlay_fns.items()):
            try:
                y = np.asarray(fn(self.bars), dtype=float)
                self.overlay_errors.pop(name, None)
            except Exception as exc:  # noqa: BLE001 - e.g. a custom indicator deleted since; shown, not fatal
                y = np.full(len(self.bars), np.nan)
                self.overlay_errors[name] = str(exc)
            plot = self.price if is_price_like(y, self.bars.close) else self._lower_pane()
            item = self._overlays.get(name)
            if item is not None and item.getViewBox() is not plot.getViewBox():
                self._detach(item)
                item = None
            if item is None:
                if plot.legend is None:
                    plot.addLegend(offset=(8, 4), labelTextSize="8pt", labelTextColor=style.CHART.foreground)
                item = pg.PlotDataItem(name=name)
                plot.addItem(item)
                self._overlays[name] = item
            color = style.CHART.overlays[k % len(style.CHART.overlays)]
            item.setData(np.arange(len(y)), y, pen=pg.mkPen(color, width=1.2), connect="finite")
        self._sync_lower_pane()

    def _lower_pane(self) -> pg.PlotItem:
        if self.ind is None:
            self.iaxis = DateAxis(orientation="bottom")
            if self.bars is not None:
                self.iaxis.times, self.iaxis.intraday = self.bars.time, self.bars.is_intraday
                self.iaxis.tz = exchange_tz(self.bars.symbol)
            self.ind = self.glw.addPlot(row=2, col=0, axisItems={"bottom": self.iaxis, "right": PriceAxis("right")})
            self.glw.ci.layout.setRowStretchFactor(2, 1)
            self.ind.getViewBox().disableAutoRange(axis=pg.ViewBox.XAxis)  # keep the price pane's x range
            self.ind.setXLink(self.price)
            self.vol.hideAxis("bottom")  # the dates go under the lowest pane
            vline = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(style.CHART.crosshair, style=Qt.PenStyle.DashLine))
            self.ind.addItem(vline, ignoreBounds=True)
            self._ind_follow = lambda line, v=vline: v.setPos(line.value())
            self.vline.sigPositionChanged.connect(self._ind_follow)
            self.ind.showAxis("right")
            self.ind.hideAxis("left")
            self.ind.setMenuEnabled(False)
            self.ind.getViewBox().setMouseEnabled(x=True, y=False)
            self.ind.getViewBox().setAutoVisible(y=True)
            self.ind.enableAutoRange(axis="y")
            self.ind.getAxis("right").setWidth(60)
            self._style_plot(self.ind, style.CHART)
        return self.ind

    def _detach(self, item: pg.PlotDataItem) -> None:
        vb = item.getViewBox()
        for plot in (self.price, self.ind):
            if plot is not None and vb is plot.getViewBox():
                plot.removeItem(item)  # also drops its legend entry

    def _sync_lower_pane(self) -> None:
        """Drop the lower pane when no overlay is drawn in it."""
        if self.ind is None:
            return
        vb = self.ind.getViewBox()
        if not any(item.getViewBox() is vb for item in self._overlays.values()):
            self.glw.removeItem(self.ind)
            self.vline.sigPositionChanged.disconnect(self._ind_follow)
            self.ind = None
            self.vol.showAxis("bottom")

    def _style_plot(self, plot: pg.PlotItem, colors: style.ChartColors) -> None:
        plot.showGrid(x=True, y=True, alpha=colors.grid_alpha)
        if plot.legend is not None:
            plot.legend.setLabelTextColor(colors.foreground)
        for ax in ("right", "bottom"):
            plot.getAxis(ax).setPen(pg.mkPen(colors.foreground))
            plot.getAxis(ax).setTextPen(pg.mkPen(colors.foreground))

    def _fill_indicator_menu(self) -> None:
        m = self.indicator_menu
        m.clear()
        for label, formula in QUICK_OVERLAYS:
            m.addAction(f"{label}    {formula}", lambda f=formula: self._add_overlay_interactive(f))
        names = list(self._formula_names())
        if names:
            m.addSection("Custom indicators")
            for n in names:
                m.addAction(n, lambda f=n: self._add_overlay_interactive(f))
        m.addSeparator()
        m.addAction("Formula…", self._on_formula_overlay)
        if self._overlay_fns:
            rm = m.addMenu("Remove")
            for n in self._overlay_fns:
                rm.addAction(n, lambda n=n: self.set_overlay(n, None))
            rm.addSeparator()
            rm.addAction("All", lambda: [self.set_overlay(n, None) for n in list(self._overlay_fns)])

    def _add_overlay_interactive(self, text: str) -> None:
        try:
            self.add_formula_overlay(text)
        except (ValueError, RuntimeError) as exc:
            QMessageBox.warning(self, "Indicator", f"{text}\n\n{exc}")

    def _on_formula_overlay(self) -> None:
        text, ok = QInputDialog.getText(self, "Add an indicator", "Formula (e.g. sma(close, 20), rsi(close) or my_osc):")
        if ok and text.strip():
            self._add_overlay_interactive(text)

    def _show_info(self, i: int) -> None:
        b = self.bars
        if b is None or not (0 <= i < len(b)):
            return
        t = np.datetime64(int(b.time[i]), "s").astype(object)
        when = t.strftime("%Y-%m-%d %H:%M" if b.is_intraday else "%Y-%m-%d")
        chg = (b.close[i] / b.close[i - 1] - 1) * 100 if i > 0 and b.close[i - 1] else 0.0
        self.info.setText(
            f"{when}   O {fmt.price(b.open[i])}  H {fmt.price(b.high[i])}  L {fmt.price(b.low[i])}"
            f"  C {fmt.price(b.close[i])}  ({fmt.percent(chg)})   V {fmt.volume(b.volume[i])}"
        )

    # ------------------------------------------------------------------ slots
    def _on_bars(self, seq: int, bars: Bars) -> None:
        if seq != self._load_seq:
            return  # a newer request superseded this one
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
        empty = np.empty(0)
        self.candles.set_data(empty, empty, empty, empty)
        self.line.setData([], [])
        self.volume.set_data(empty, empty, empty, empty)
        for item in self._overlays.values():
            item.setData([], [])
        self.demo_badge.hide()
        self.info.setText("")

    def _on_load_error(self, seq: int, symbol: str, exc: BaseException) -> None:
        if seq != self._load_seq:
            return
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

    def _on_mouse_moved(self, evt: tuple[Any, ...]) -> None:
        pos = evt[0]
        if self.bars is None or not self.price.sceneBoundingRect().contains(pos):
            return
        pt = self.price.getViewBox().mapSceneToView(pos)
        i = int(round(pt.x()))
        self.vline.setPos(i)
        self.vline2.setPos(i)
        self.hline.setPos(pt.y())
        self._show_info(min(max(i, 0), len(self.bars) - 1))

    def _on_scene_clicked(self, ev: Any) -> None:
        if self.bars is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        if self.price.sceneBoundingRect().contains(ev.scenePos()):
            y = self.price.getViewBox().mapSceneToView(ev.scenePos()).y()
            self.price_clicked.emit(round(float(y), 2))

    def _on_theme_changed(self, colors: style.ChartColors) -> None:
        self.glw.setBackground(colors.background)
        for plot in (self.price, self.vol, self.ind):
            if plot is not None:
                self._style_plot(plot, colors)
        pen = pg.mkPen(colors.crosshair, style=Qt.PenStyle.DashLine)
        for line in (self.vline, self.hline, self.vline2):
            line.setPen(pen)
        self.message.setColor(colors.foreground)
        self.candles.clear_cache()
        self.volume.clear_cache()
        self._render_overlays()
