"""The custom indicator builder: name a formula, see it on a chart as you type, save it.

A saved indicator (``my_osc = (close - sma(close, 20)) / atr(14)``) is usable by name in
every formula: scanner filters and columns, chart overlays, other indicators. The
dialog lists, edits and deletes them; deleting one that others use is refused with the
names of those that use it.

Validation runs on every keystroke (one parse, well under a millisecond). The preview
(price above, the indicator below, over the chart symbol's bars) is debounced
(``DEBOUNCE_MS``) and evaluated in a worker, so a heavy formula never stalls typing;
a result that arrives after a newer edit is dropped.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.data.bars import Bars
from engine.formula import FormulaError, parse
from engine.formula.service import parse_definition
from widgets import style
from widgets.chart import DateAxis
from widgets.tasks import TaskSubmitter

DEBOUNCE_MS = 150
PREVIEW_BARS = 250  # bars in view at first (all are plotted; pan to see more)
ERROR_COLOR = "#e5534b"
OK_COLOR = "#3fa66a"


def evaluate_preview(text: str, custom: Mapping[str, str], bars: Bars) -> np.ndarray:
    """The formula's values over ``bars`` as float64 (true/false as 1/0). Raises ``FormulaError``."""
    return np.asarray(parse(text, custom).evaluate(bars), dtype=float)


class IndicatorBuilderDialog(QDialog):
    """List, create, edit and delete custom indicators with a live preview.

    ``formulas`` is an ``engine.formula.FormulaService``; ``data`` a bar source
    (``get_bars(symbol, timeframe)``) for the preview of ``symbol``; ``tasks`` runs the
    bar loading and the preview evaluation off the GUI thread.
    """

    indicators_changed = Signal()
    preview_updated = Signal()

    def __init__(self, formulas: Any, data: Any, tasks: TaskSubmitter, symbol: str | None = None,
                 timeframe: str = "1d", parent: QWidget | None = None,
                 confirm: Callable[[str], bool] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("indicatorBuilder")
        self.setWindowTitle("Custom indicators")
        self.formulas = formulas
        self.data = data
        self.tasks = tasks
        self.timeframe = timeframe
        self.bars: Bars | None = None
        self.values: np.ndarray | None = None
        self.valid = False
        self._confirm = confirm or self._ask
        self._preview_seq = 0
        self._load_seq = 0
        self._closed = False  # results of workers still running when the dialog closes are dropped

        # list of saved indicators
        self.list = QListWidget()
        self.list.setObjectName("indicatorList")
        self.list.currentItemChanged.connect(self._on_item_changed)
        self.new_btn = QPushButton("New")
        self.new_btn.setObjectName("indicatorNew")
        self.new_btn.clicked.connect(self.new_indicator)
        self.delete_btn = QPushButton("Delete")
        self.delete_btn.setObjectName("indicatorDelete")
        self.delete_btn.clicked.connect(self._on_delete_clicked)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(QLabel("Saved indicators"))
        ll.addWidget(self.list, 1)
        lb = QHBoxLayout()
        lb.addWidget(self.new_btn)
        lb.addWidget(self.delete_btn)
        ll.addLayout(lb)

        # editor
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("indicatorName")
        self.name_edit.setPlaceholderText("my_osc")
        self.formula_edit = QLineEdit()
        self.formula_edit.setObjectName("indicatorFormula")
        self.formula_edit.setPlaceholderText("(close - sma(close, 20)) / atr(14)")
        self.formula_edit.setClearButtonEnabled(True)
        self.description_edit = QLineEdit()
        self.description_edit.setObjectName("indicatorDescription")
        self.description_edit.setPlaceholderText("optional: what it measures")
        self.message = QLabel("")
        self.message.setObjectName("indicatorMessage")
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.message.setContentsMargins(4, 2, 4, 2)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.symbol_edit = QLineEdit(symbol or "")
        self.symbol_edit.setObjectName("indicatorPreviewSymbol")
        self.symbol_edit.setPlaceholderText("symbol")
        self.symbol_edit.setMaximumWidth(120)
        self.symbol_edit.editingFinished.connect(lambda: self.load_symbol(self.symbol_edit.text()))
        self.preview_note = QLabel("")
        self.preview_note.setObjectName("hint")
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Formula", self.formula_edit)
        form.addRow("Description", self.description_edit)
        prow = QHBoxLayout()
        prow.addWidget(self.symbol_edit)
        prow.addWidget(self.preview_note, 1)

        self.plot = pg.GraphicsLayoutWidget()
        self.plot.setObjectName("indicatorPreview")
        self.plot.setMinimumHeight(260)
        self.date_axis = DateAxis(orientation="bottom")
        self.price_plot = self.plot.addPlot(row=0, col=0)
        self.ind_plot = self.plot.addPlot(row=1, col=0, axisItems={"bottom": self.date_axis})
        self.plot.ci.layout.setRowStretchFactor(0, 3)
        self.plot.ci.layout.setRowStretchFactor(1, 2)
        self.ind_plot.setXLink(self.price_plot)
        for p in (self.price_plot, self.ind_plot):
            p.showAxis("right")
            p.hideAxis("left")
            p.getAxis("right").setWidth(56)
            p.setMenuEnabled(False)
            p.getViewBox().setMouseEnabled(x=True, y=False)
            p.getViewBox().setAutoVisible(y=True)
            p.enableAutoRange(axis="y")
        self.price_plot.hideAxis("bottom")
        self.price_curve = self.price_plot.plot()
        self.ind_curve = self.ind_plot.plot()
        self.zero_line = pg.InfiniteLine(0, angle=0, movable=False)
        self.ind_plot.addItem(self.zero_line, ignoreBounds=True)

        self.save_btn = QPushButton("Save")
        self.save_btn.setObjectName("indicatorSave")
        self.save_btn.setDefault(True)
        self.save_btn.clicked.connect(self.save)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.save_btn, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(form)
        rl.addWidget(self.message)
        preview_row = QHBoxLayout()
        preview_row.addWidget(QLabel("Preview on"))
        preview_row.addLayout(prow, 1)
        rl.addLayout(preview_row)
        rl.addWidget(self.plot, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([200, 620])
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.addWidget(split, 1)
        lay.addWidget(buttons)
        self.resize(880, 560)

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(DEBOUNCE_MS)
        self.debounce.timeout.connect(self.update_preview)
        self.name_edit.textChanged.connect(self._on_edited)
        self.formula_edit.textChanged.connect(self._on_edited)
        style.theme_signals().changed.connect(self._on_theme_changed)
        self._on_theme_changed(style.CHART)

        self.reload()
        self._validate()
        if symbol:
            self.load_symbol(symbol)
        else:
            self.preview_note.setText("Type a symbol to preview the indicator on its bars.")

    # ------------------------------------------------------------------ list
    def reload(self, select: str | None = None) -> None:
        """Refill the list of saved indicators (selecting ``select`` if given)."""
        self.list.blockSignals(True)
        self.list.clear()
        for ind in self.formulas.list():
            item = QListWidgetItem(ind.name)
            item.setData(Qt.ItemDataRole.UserRole, ind)
            item.setToolTip(f"{ind.name} = {ind.expression}" + (f"\n{ind.description}" if ind.description else ""))
            self.list.addItem(item)
            if ind.name == select:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self.delete_btn.setEnabled(self.list.currentItem() is not None)

    def names(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def edit(self, name: str) -> None:
        """Load saved indicator ``name`` into the editor (raises ``KeyError`` if there is none)."""
        items = self.list.findItems(name, Qt.MatchFlag.MatchExactly)
        if not items:
            raise KeyError(f"no custom indicator named {name!r}")
        self.list.setCurrentItem(items[0])

    def new_indicator(self) -> None:
        self.list.setCurrentItem(None)  # type: ignore[arg-type]
        self.list.clearSelection()
        self.name_edit.clear()
        self.formula_edit.clear()
        self.description_edit.clear()
        self.name_edit.setFocus()

    def _on_item_changed(self, item: QListWidgetItem | None, _prev: QListWidgetItem | None = None) -> None:
        self.delete_btn.setEnabled(item is not None)
        if item is None:
            return
        ind = item.data(Qt.ItemDataRole.UserRole)
        self.name_edit.setText(ind.name)
        self.formula_edit.setText(ind.expression)
        self.description_edit.setText(ind.description)

    # ------------------------------------------------------------------ editing
    def definition(self) -> tuple[str, str]:
        """(name, expression) being edited. ``name = formula`` typed in the formula box also works."""
        text = self.formula_edit.text().strip()
        try:
            return parse_definition(text)
        except FormulaError:
            return self.name_edit.text().strip(), text

    def _on_edited(self, *_: Any) -> None:
        self._validate()
        self.debounce.start()

    def _validate(self) -> None:
        name, expr = self.definition()
        msg, ok = "", ""
        if not expr:
            msg = "Type a formula, e.g. (close - sma(close, 20)) / atr(14)"
        elif not name:
            errs = self.formulas.validate(expr)
            msg = str(errs[0]) if errs else "Give it a name to save it (letters, digits, _)"
        else:
            errs = self.formulas.validate(expr, name=name)
            if errs:
                msg = str(errs[0])
            else:
                f = self.formulas.parse(expr)
                kind = "true/false" if f.is_boolean else "numbers"
                ok = f"✓ {name} gives {kind}" + (f"; first value after {f.lookback} bars" if f.lookback else "")
                exists = name.lower() in self.formulas.custom_map()
                ok += " — Save replaces the saved one" if exists else ""
        self.valid = not msg
        self.save_btn.setEnabled(self.valid)
        self.message.setText(msg or ok)
        empty = not expr
        color = self.palette().placeholderText().color().name() if empty else (ERROR_COLOR if msg else OK_COLOR)
        self.message.setStyleSheet(f"color: {color};")

    def save(self) -> bool:
        """Save what is being edited; False (the message says why) if it cannot be saved."""
        name, expr = self.definition()
        if not self.valid:
            return False
        try:
            ind = self.formulas.save(name, expr, self.description_edit.text().strip())
        except FormulaError as exc:
            self.message.setText(str(exc))
            self.message.setStyleSheet(f"color: {ERROR_COLOR};")
            return False
        self.reload(select=ind.name)
        self._on_item_changed(self.list.currentItem())
        self.message.setText(f"✓ Saved {ind.name}: use it by name in the scanner, on the chart and in other indicators.")
        self.message.setStyleSheet(f"color: {OK_COLOR};")
        self.indicators_changed.emit()
        return True

    def delete_indicator(self, name: str) -> bool:
        """Delete ``name``; False with a clear message when others use it."""
        try:
            self.formulas.delete(name)
        except (FormulaError, KeyError) as exc:
            text = exc.message if isinstance(exc, FormulaError) else str(exc).strip("'\"")
            self.message.setText(f"Cannot delete {name}: {text}.")
            self.message.setStyleSheet(f"color: {ERROR_COLOR};")
            return False
        self.reload()
        self.new_indicator()
        self.message.setText(f"Deleted {name}.")
        self.message.setStyleSheet(f"color: {OK_COLOR};")
        self.indicators_changed.emit()
        return True

    def _on_delete_clicked(self) -> None:
        item = self.list.currentItem()
        if item is not None and self._confirm(f"Delete the custom indicator {item.text()}?"):
            self.delete_indicator(item.text())

    def _ask(self, text: str) -> bool:
        return QMessageBox.question(self, "Delete indicator", text) == QMessageBox.StandardButton.Yes

    # ------------------------------------------------------------------ preview
    def load_symbol(self, symbol: str) -> None:
        """Load ``symbol``'s bars (in a worker) for the preview."""
        symbol = symbol.strip().upper()
        if not symbol:
            return
        self.symbol_edit.setText(symbol)
        self._load_seq += 1
        seq = self._load_seq
        self.preview_note.setText(f"loading {symbol}…")
        self.tasks.submit(self.data.get_bars, symbol, self.timeframe, label=f"Preview bars of {symbol}",
                          on_result=lambda b, seq=seq: self._on_bars(seq, b),
                          on_error=lambda exc, seq=seq: self._on_bars_error(seq, symbol, exc))

    def _on_bars(self, seq: int, bars: Bars) -> None:
        if seq != self._load_seq or self._closed:
            return
        self.bars = bars
        self.preview_note.setText(f"{bars.symbol} · {bars.timeframe} · {len(bars)} bars" + (" · demo data" if bars.is_demo else ""))
        x = np.arange(len(bars))
        self.date_axis.times, self.date_axis.intraday = bars.time, bars.is_intraday
        self.price_curve.setData(x, bars.close, pen=pg.mkPen(style.CHART.foreground, width=1.2))
        n = len(bars)
        self.price_plot.setXRange(max(0, n - PREVIEW_BARS), n, padding=0.01)
        self.update_preview()

    def _on_bars_error(self, seq: int, symbol: str, exc: BaseException) -> None:
        if seq == self._load_seq and not self._closed:
            self.preview_note.setText(f"No preview: {exc}")

    def update_preview(self) -> None:
        """Evaluate the formula on the preview bars in a worker (skipped while invalid)."""
        self.debounce.stop()
        name, expr = self.definition()
        if self.bars is None or not expr or self.formulas.validate(expr):
            self.ind_curve.setData([], [])
            self.values = None
            return
        custom = self.formulas.custom_map()
        if name:
            custom[name.lower()] = expr  # the edited text wins over the saved version (others may use it)
        self._preview_seq += 1
        seq = self._preview_seq
        self.tasks.submit(evaluate_preview, expr, custom, self.bars, label="Indicator preview",
                          on_result=lambda v, seq=seq: self._on_preview(seq, v),
                          on_error=lambda exc, seq=seq: self._on_preview_error(seq, exc))

    def _on_preview(self, seq: int, values: np.ndarray) -> None:
        if seq != self._preview_seq or self._closed:
            return  # a newer edit superseded this one
        self.values = values
        color = style.CHART.overlays[0]
        self.ind_curve.setData(np.arange(len(values)), values, pen=pg.mkPen(color, width=1.4), connect="finite")
        self.preview_updated.emit()

    def _on_preview_error(self, seq: int, exc: BaseException) -> None:
        if seq == self._preview_seq and not self._closed:
            self.ind_curve.setData([], [])
            self.values = None
            self.preview_note.setText(f"Preview failed: {exc}")

    def _on_theme_changed(self, colors: style.ChartColors) -> None:
        self.plot.setBackground(colors.background)
        for p in (self.price_plot, self.ind_plot):
            p.showGrid(x=True, y=True, alpha=colors.grid_alpha)
            for ax in ("right", "bottom"):
                p.getAxis(ax).setPen(pg.mkPen(colors.foreground))
                p.getAxis(ax).setTextPen(pg.mkPen(colors.foreground))
        self.zero_line.setPen(pg.mkPen(colors.crosshair, style=Qt.PenStyle.DashLine))
        if self.bars is not None:
            self.price_curve.setPen(pg.mkPen(colors.foreground, width=1.2))
        if self.values is not None:
            self.ind_curve.setPen(pg.mkPen(colors.overlays[0], width=1.4))

    def done(self, r: int) -> None:  # noqa: D401 - Qt override
        self.debounce.stop()
        self._closed = True
        try:
            style.theme_signals().changed.disconnect(self._on_theme_changed)
        except (RuntimeError, TypeError):
            pass
        super().done(r)
