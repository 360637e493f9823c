"""The scanner dock: choose a universe and a filter, run it in a worker, browse the matches.

It composes views over the engine: the condition rows (``conditions``), the results in the
app's one table (``results``: sortable, columns chosen from the header's context menu, plus
formula columns, widths saved with the layout, Ctrl+C copies, sparklines, rows new since the
previous run tinted), and the rescan schedule (``schedule``). The job itself — resolving the
universe, the run with progress and cancel, the new/dropped diff — is
``engine.scanner.job``; this dock only submits it to the task runner and shows the result.

* Universe: a watchlist, the demo universe, every imported symbol, or a bundled index
  list (S&P 500, Nasdaq-100). It is resolved inside the worker (it may read the store).
* Filter: condition rows joined with AND/OR, or a free formula, validated as you type
  (the red line names the column and a suggestion); Run is disabled while it is invalid.
  Presets (built-in and the user's) load into the builder; "Save as…" keeps an edited one.
* Results: a click opens the chart, a multi-selection goes to a watchlist, "Export CSV"
  writes the rows (``widgets.table``: plain numbers, full precision).
"""
from __future__ import annotations

import datetime as _dt
import json
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.formula import FormulaError
from engine.progress import Progress
from engine.scanner import (
    BUNDLED,
    Condition,
    Group,
    PresetError,
    ScanDefinition,
    Scanner,
    ScanResult,
    ScanSession,
    ScanStore,
    Universe,
    bundled_universe,
    demo_universe,
    imported_universe,
    scan_job,
    summarize,
)
from engine.watchlists import WatchlistError, WatchlistService
from widgets.scanner.conditions import ConditionRow, rows_from_formula
from widgets.scanner.results import ScanResultModel
from widgets.scanner.schedule import ScanScheduler
from widgets.sparkline import SparklineDelegate
from widgets.table import TableView
from widgets.tasks import CancellableTask, TaskSubmitter

ERROR_COLOR = "#e5534b"
OK_COLOR = "#3fa66a"


def _elide(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------------- the dock
#: why the bundled index universes are disabled in demo mode
BUNDLED_NEEDS_YAHOO = "needs Yahoo Finance (Settings → Data source): demo data has none of the index's symbols"

class ScannerWidget(QWidget):
    """The scanner dock (see the module docstring).

    ``scanner`` runs scans; ``store`` holds presets; ``formulas`` (a ``FormulaService``)
    validates as you type; ``watchlists`` provides universes and takes selections;
    ``data`` gives the demo and imported symbol lists; ``tasks`` runs the workers.
    """

    symbol_activated = Signal(str)
    added_to_watchlist = Signal(str, list)  # watchlist name, symbols
    scan_started = Signal()
    scan_finished = Signal(object)  # ScanResult
    scan_cancelled = Signal()
    scan_failed = Signal(str)
    indicator_builder_requested = Signal()

    def __init__(self, scanner: Scanner, store: ScanStore, formulas: Any, watchlists: WatchlistService,
                 data: Any, tasks: TaskSubmitter, parent: QWidget | None = None,
                 clock: Callable[[], _dt.datetime] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scannerWidget")
        self.scanner = scanner
        self.store = store
        self.formulas = formulas
        self.watchlists = watchlists
        self.data = data
        self.tasks = tasks
        self.clock = clock or (lambda: _dt.datetime.now(_dt.timezone.utc))
        self.session = ScanSession()  # the shown result and its diff (engine.scanner.job)
        self.valid = False
        self.running = False
        self.extra_columns: list[str] = []
        self._task: CancellableTask | None = None
        self._run_seq = 0
        self._started_at = 0.0
        self._loading_preset = False
        self._preset: ScanDefinition | None = None
        self.condition_rows: list[ConditionRow] = []
        #: which tab's filter is the scan's: the one last really edited (or the preset's), never
        #: just the tab that is showing -- opening the other tab changes nothing
        self.filter_source = "formula"
        self.scheduler = ScanScheduler(tasks, self.clock, self)
        self.scheduler.due.connect(self._on_scheduler_due)
        self.schedule_box = self.scheduler.box
        self.next_run_label = self.scheduler.label
        self.schedule_timer = self.scheduler.timer

        self._build_filter_panel()
        self._build_results_panel()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("scannerSplit")
        split.addWidget(self.filter_panel)
        split.addWidget(self.results_panel)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([430, 900])
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(split)

        self.reload_universes()
        self.reload_presets()
        self._validate()

    # ------------------------------------------------------------------ building
    def _build_filter_panel(self) -> None:
        p = self.filter_panel = QWidget()
        p.setObjectName("scannerFilterPanel")
        p.setMinimumWidth(340)
        self.universe_box = QComboBox()
        self.universe_box.setObjectName("scannerUniverse")
        self.universe_box.setToolTip("Which symbols to scan")
        self.preset_box = QComboBox()
        self.preset_box.setObjectName("scannerPreset")
        self.preset_box.currentIndexChanged.connect(self._on_preset_chosen)
        self.save_preset_btn = QToolButton(text="Save as…", toolTip="Save this filter as your own preset")
        self.save_preset_btn.setObjectName("scannerSavePreset")
        self.save_preset_btn.clicked.connect(self._on_save_preset_clicked)
        self.delete_preset_btn = QToolButton(text="Delete", toolTip="Delete this preset (your own presets only)")
        self.delete_preset_btn.setObjectName("scannerDeletePreset")
        self.delete_preset_btn.clicked.connect(self._on_delete_preset_clicked)
        preset_row = QHBoxLayout()
        preset_row.setSpacing(4)
        preset_row.addWidget(self.preset_box, 1)
        preset_row.addWidget(self.save_preset_btn)
        preset_row.addWidget(self.delete_preset_btn)
        self.description = QLabel("")
        self.description.setObjectName("hint")
        self.description.setWordWrap(True)

        # conditions tab
        cond = QWidget()
        self.join_box = QComboBox()
        self.join_box.setObjectName("scannerJoin")
        self.join_box.addItem("all conditions (AND)", "and")
        self.join_box.addItem("any condition (OR)", "or")
        self.join_box.currentIndexChanged.connect(lambda *_: self._on_conditions_edited())
        self.add_condition_btn = QToolButton(text="+ Condition", toolTip="Add a condition row")
        self.add_condition_btn.setObjectName("scannerAddCondition")
        self.add_condition_btn.clicked.connect(lambda: self.add_condition())
        head = QHBoxLayout()
        head.addWidget(QLabel("Match"))
        head.addWidget(self.join_box, 1)
        head.addWidget(self.add_condition_btn)
        self.rows_box = QWidget()
        self.rows_layout = QVBoxLayout(self.rows_box)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.setSpacing(3)
        self.rows_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.rows_box)
        # a formula preset that rows cannot express says so here instead of an empty builder
        self.conditions_note = QLabel()
        self.conditions_note.setObjectName("scannerConditionsNote")
        self.conditions_note.setWordWrap(True)
        self.conditions_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.conditions_note.hide()
        cl = QVBoxLayout(cond)
        cl.setContentsMargins(4, 4, 4, 4)
        cl.addLayout(head)
        cl.addWidget(self.conditions_note)
        cl.addWidget(scroll, 1)

        # formula tab
        form = QWidget()
        self.formula_edit = QLineEdit()
        self.formula_edit.setObjectName("scannerFormula")
        self.formula_edit.setPlaceholderText("e.g. close > sma(close, 50) and rsi(close) < 30")
        self.formula_edit.setClearButtonEnabled(True)
        self.formula_edit.textChanged.connect(self._on_formula_edited)
        self.formula_edit.returnPressed.connect(self.run_scan)
        fhint = QLabel("Fields open high low close volume; functions such as sma, ema, rsi, macd, atr, "
                       "highest, crosses_above; your custom indicators by name.")
        fhint.setObjectName("hint")
        fhint.setWordWrap(True)
        fl = QVBoxLayout(form)
        fl.setContentsMargins(4, 4, 4, 4)
        fl.addWidget(self.formula_edit)
        fl.addWidget(fhint)
        fl.addStretch(1)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("scannerFilterTabs")
        self.tabs.addTab(form, "Formula")
        self.tabs.addTab(cond, "Conditions")
        self.tabs.currentChanged.connect(lambda *_: self._validate())  # showing a tab edits nothing

        self.error_label = QLabel("")
        self.error_label.setObjectName("scannerError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.refresh_box = QCheckBox("Refresh data")
        self.refresh_box.setObjectName("scannerRefresh")
        self.refresh_box.setToolTip("Fetch new bars from the data source before scanning")
        self.indicators_btn = QToolButton(text="Indicators…", toolTip="Build and manage custom indicators")
        self.indicators_btn.setObjectName("scannerIndicators")
        self.indicators_btn.clicked.connect(self.indicator_builder_requested)
        self.run_btn = QPushButton("Run scan")
        self.run_btn.setObjectName("scannerRun")
        self.run_btn.setDefault(True)
        self.run_btn.clicked.connect(self.run_scan)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setObjectName("scannerCancel")
        self.cancel_btn.clicked.connect(self.cancel_scan)
        self.cancel_btn.setEnabled(False)

        top = QFormLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        top.addRow("Universe", self.universe_box)
        top.addRow("Preset", preset_row)
        sched = QHBoxLayout()
        sched.addWidget(QLabel("Rescan"))
        sched.addWidget(self.schedule_box, 1)
        sched.addWidget(self.refresh_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.indicators_btn)
        buttons.addWidget(self.next_run_label, 1)
        buttons.addWidget(self.cancel_btn)
        buttons.addWidget(self.run_btn)
        lay = QVBoxLayout(p)
        lay.setContentsMargins(0, 0, 4, 0)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addWidget(self.description)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.error_label)
        lay.addLayout(sched)
        lay.addLayout(buttons)

    def _build_results_panel(self) -> None:
        p = self.results_panel = QWidget()
        p.setObjectName("scannerResultsPanel")
        self.model = ScanResultModel()
        self.table = TableView(self.model, "scannerTable")
        self.proxy = self.table.proxy
        self.status = QLabel("Choose a universe and a filter, then Run scan.")
        self.status.setObjectName("scannerStatus")
        self.status.setWordWrap(True)
        # a long message must not widen the dock: it wraps (and is clipped at worst)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)  # two lines fit
        self.progress = QProgressBar()
        self.progress.setObjectName("scannerProgress")
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.add_to_watchlist_btn = QToolButton(text="Add to watchlist")
        self.add_to_watchlist_btn.setObjectName("scannerAddToWatchlist")
        self.add_to_watchlist_btn.setToolTip("Add the selected symbols to a watchlist")
        self.add_to_watchlist_btn.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.watchlist_menu = QMenu(self.add_to_watchlist_btn)
        self.watchlist_menu.aboutToShow.connect(self._fill_watchlist_menu)
        self.add_to_watchlist_btn.setMenu(self.watchlist_menu)
        self.export_btn = QToolButton(text="Export CSV…")
        self.export_btn.setObjectName("scannerExport")
        self.export_btn.clicked.connect(self._on_export_clicked)
        self.columns_btn = QToolButton(text="Columns")
        self.columns_btn.setObjectName("scannerColumns")
        self.columns_btn.setToolTip("Choose the columns; add formula columns")
        self.columns_btn.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_menu = QMenu(self.columns_btn)
        self.columns_menu.aboutToShow.connect(lambda: self.table.fill_header_menu(self.columns_menu))
        self.columns_btn.setMenu(self.columns_menu)
        bar = QHBoxLayout()
        bar.setSpacing(4)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.progress)
        bar.addWidget(self.columns_btn)
        bar.addWidget(self.add_to_watchlist_btn)
        bar.addWidget(self.export_btn)

        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setItemDelegateForColumn(ScanResultModel.TREND, SparklineDelegate(self.table))
        self.table.extend_header_menu = self._extend_columns_menu
        self.table.clicked.connect(self._on_row_clicked)
        self.table.activated.connect(self._on_row_clicked)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._sync_buttons())

        self.diff_label = QLabel("")
        self.diff_label.setObjectName("scannerDiff")
        self.diff_label.setWordWrap(True)
        self.diff_label.hide()
        lay = QVBoxLayout(p)
        lay.setContentsMargins(4, 0, 0, 0)
        lay.setSpacing(4)
        lay.addLayout(bar)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.diff_label)
        self._sync_buttons()

    # ------------------------------------------------------------------ universes & presets
    def reload_universes(self) -> None:
        """Fill the universe box: watchlists, demo, imported, bundled lists (keeps the choice)."""
        cur = self.universe_box.currentData()
        self.universe_box.blockSignals(True)
        self.universe_box.clear()
        for name in self.watchlists.names():
            self.universe_box.addItem(f"Watchlist: {name}", f"watchlist:{name}")
        self.universe_box.addItem("Demo universe", "demo:")
        self.universe_box.addItem("All imported symbols", "imported:")
        demo_source = getattr(self.data, "source", "") == "demo"
        for key, title in BUNDLED.items():
            self.universe_box.addItem(title, f"bundled:{key}")
            if demo_source:  # demo data has none of the index's symbols: every one would fail
                item = self.universe_box.model().item(self.universe_box.count() - 1)  # type: ignore[attr-defined]
                item.setEnabled(False)
                item.setToolTip(BUNDLED_NEEDS_YAHOO)
        i = self.universe_box.findData(cur) if cur is not None else -1
        model = self.universe_box.model()
        if i >= 0 and not (model.flags(model.index(i, 0)) & Qt.ItemFlag.ItemIsEnabled):
            i = -1  # an index list chosen before the source became demo
        self.universe_box.setCurrentIndex(i if i >= 0 else 0)
        self.universe_box.blockSignals(False)

    def set_universe(self, kind: str, key: str = "") -> None:
        """Choose the universe ("watchlist" + name, "demo", "imported", "bundled" + "sp500"/"nasdaq100")."""
        i = self.universe_box.findData(f"{kind}:{key}")
        if i < 0:
            raise ValueError(f"no universe {kind} {key!r} in the list")
        self.universe_box.setCurrentIndex(i)

    def universe_resolver(self) -> Callable[[], Universe]:
        """A function (run in the worker) that returns the chosen universe."""
        kind, key = str(self.universe_box.currentData()).split(":", 1)
        watchlists, data = self.watchlists, self.data
        if kind == "watchlist":
            return lambda: Universe(f"Watchlist: {key}", tuple(watchlists.symbols(key)), "watchlist")
        if kind == "demo":
            return lambda: demo_universe(data)
        if kind == "imported":
            return lambda: imported_universe(data)
        return lambda: bundled_universe(key)

    def reload_presets(self, select: str | None = None) -> None:
        cur = select or self.preset_box.currentData()
        self._loading_preset = True
        self.preset_box.blockSignals(True)
        self.preset_box.clear()
        self.preset_box.addItem("(custom filter)", None)
        self._presets = {p.name: p for p in self.store.presets()}
        builtin = [p for p in self._presets.values() if p.builtin]
        mine = [p for p in self._presets.values() if not p.builtin]
        for p in builtin:
            self.preset_box.addItem(p.name, p.name)
        if mine:
            self.preset_box.insertSeparator(self.preset_box.count())
            for p in mine:
                self.preset_box.addItem(f"★ {p.name}", p.name)
        self.preset_box.blockSignals(False)
        self._loading_preset = False
        i = self.preset_box.findData(cur) if cur else -1
        self.preset_box.setCurrentIndex(max(i, 0))
        self._on_preset_chosen(max(i, 0))

    def load_preset(self, name: str) -> None:
        """Put preset ``name`` into the builder (raises ``KeyError`` if there is none)."""
        i = self.preset_box.findData(name)
        if i < 0:
            raise KeyError(f"no scan preset named {name!r}")
        self.preset_box.setCurrentIndex(i)
        self._on_preset_chosen(i)

    def _on_preset_chosen(self, index: int) -> None:
        if self._loading_preset:
            return
        name = self.preset_box.itemData(index)
        p = self._presets.get(name) if name else None
        self._preset = p
        self.delete_preset_btn.setEnabled(p is not None and not p.builtin)
        if p is None:
            self.description.setText("")
            self._validate()
            return
        self._loading_preset = True
        try:
            self.extra_columns = []
            if isinstance(p.filter, str):
                self.formula_edit.setText(p.filter)
                rows = rows_from_formula(p.filter)  # the same filter as rows, when it can be
                self.set_conditions(rows or Group("and", ()))
                self.filter_source = "formula"
                self._show_conditions_note(None if rows is not None else p)
                if self.tabs.currentIndex() != 1 or rows is None:
                    self.tabs.setCurrentIndex(0)
            else:
                group = p.filter if isinstance(p.filter, Group) else Group("and", (p.filter,))
                self.set_conditions(group)
                self.formula_edit.setText(group.to_formula())
                self.filter_source = "conditions"
                self._show_conditions_note(None)
                self.tabs.setCurrentIndex(1)
        finally:
            self._loading_preset = False
        self.description.setText(p.description)
        self._validate()

    # ------------------------------------------------------------------ conditions
    def _show_conditions_note(self, formula: ScanDefinition | str | None) -> None:
        """Say on the Conditions tab that the filter is a formula rows cannot express."""
        if formula is None:
            self.conditions_note.hide()
            return
        if isinstance(formula, ScanDefinition):
            head, text = f"“{formula.name}” is a formula preset", str(formula.filter)
        else:
            head, text = "The filter is a formula", formula
        self.conditions_note.setText(f"{head}: it cannot be shown as condition rows, so it stays on the "
                                     f"Formula tab:\n{text}\nAdd a condition here to start a new filter instead.")
        self.conditions_note.show()

    def add_condition(self, condition: Condition | None = None) -> ConditionRow:
        """Add a row (empty: italic prompts, ignored until a side is filled)."""
        row = ConditionRow(condition)
        row.setObjectName(f"conditionRow{len(self.condition_rows)}")
        row.changed.connect(self._on_conditions_edited)
        row.remove_requested.connect(self._remove_condition)
        self.rows_layout.insertWidget(self.rows_layout.count() - 1, row)
        self.condition_rows.append(row)
        if condition is not None:
            self._on_conditions_edited()
        else:
            self._validate()
        return row

    def _remove_condition(self, row: ConditionRow) -> None:
        self.condition_rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self._on_conditions_edited()

    def _filled_rows(self) -> list[ConditionRow]:
        return [r for r in self.condition_rows if not r.is_empty()]

    def _on_conditions_edited(self) -> None:
        if self._loading_preset:
            return
        if self.condition_rows and (self._filled_rows() or self.filter_source == "conditions"):
            self.filter_source = "conditions"
            self.conditions_note.hide()
            group = self.current_filter()
            try:
                text = group.to_formula() if isinstance(group, Group) and group.items else ""
            except FormulaError:
                text = ""  # a half-filled row: the Formula tab keeps its text until it is complete
            if text:
                self._sync(lambda: self.formula_edit.setText(text))
        self._on_filter_edited()

    def _sync(self, fn: Callable[[], Any]) -> None:
        """Show the same filter on the other tab without counting it as an edit there."""
        was, self._loading_preset = self._loading_preset, True
        try:
            fn()
        finally:
            self._loading_preset = was

    def _on_formula_edited(self, *_: Any) -> None:
        if not self._loading_preset:
            self.filter_source = "formula"
            text = self.formula_edit.text().strip()
            rows = rows_from_formula(text)
            if rows is not None or text:  # the rows show this formula, or say they cannot
                self._sync(lambda: self.set_conditions(rows or Group("and", ())))
            self._show_conditions_note(None if rows is not None or not text else text)
        self._on_filter_edited()

    def set_conditions(self, group: Group) -> None:
        """Show ``group``'s conditions as rows (a nested group becomes a formula row)."""
        for row in list(self.condition_rows):
            self.condition_rows.remove(row)
            row.setParent(None)
            row.deleteLater()
        self.join_box.blockSignals(True)
        self.join_box.setCurrentIndex(max(self.join_box.findData(group.mode), 0))
        self.join_box.blockSignals(False)
        for item in group.items:
            if isinstance(item, Condition):
                self.add_condition(item)
            else:
                self.add_condition(Condition(item.to_formula(), "==", "true"))

    # ------------------------------------------------------------------ the filter
    def current_filter(self) -> str | Group:
        """The filter of the tab last edited (``filter_source``); empty rows are left out."""
        if self.filter_source == "formula":
            return self.formula_edit.text().strip()
        return Group(str(self.join_box.currentData()), tuple(r.condition() for r in self._filled_rows()))

    def current_columns(self) -> tuple[str, ...]:
        """The preset's formula columns (kept while its filter is edited) and the added ones."""
        base = self._preset.columns if self._preset is not None else ()
        return tuple(dict.fromkeys((*base, *self.extra_columns)))

    def _edited_since_preset(self) -> bool:
        p = self._preset
        return p is not None and p.filter != self.current_filter()

    def current_definition(self) -> ScanDefinition:
        """The scan the Run button would run (named after the preset while unchanged)."""
        p = self._preset
        f = self.current_filter()
        if p is not None and p.filter == f:
            return ScanDefinition(p.name, f, self.current_columns(), p.timeframe, p.lookback, p.description)
        return ScanDefinition("", f, self.current_columns(), p.timeframe if p else "1d", p.lookback if p else 300)

    def _on_filter_edited(self, *_: Any) -> None:
        if self._loading_preset:
            return
        if self._preset is not None and self._edited_since_preset():
            # keep the preset selected (its columns and "Save as" still apply) but say it changed
            self.description.setText(f"Edited from “{self._preset.name}” — Save as… to keep it.")
        elif self._preset is not None:
            self.description.setText(self._preset.description)
        self._validate()

    def revalidate(self) -> None:
        """Check the filter again (custom indicators it uses may have changed)."""
        self._validate()

    def _validate(self) -> None:
        """Check the filter now (a parse costs well under a millisecond); show the first problem."""
        msg = ""
        custom = self.formulas.custom_map()
        if self.filter_source == "formula":
            text = self.formula_edit.text().strip()
            if not text:
                msg = "Type a filter formula, e.g. rsi(close) < 30"
            else:
                try:
                    ScanDefinition("", text).compile(custom)
                except FormulaError as exc:
                    msg = str(exc)
        else:
            if not self._filled_rows():
                msg = "Add a condition (+ Condition)"
            for n, row in enumerate(self._filled_rows(), 1):
                c = row.condition()
                for side, text in (("left", c.left), ("right", str(c.right))):
                    if not text:
                        msg = f"Condition {n}: the {side} side is empty"
                        break
                    errs = self.formulas.validate(text)
                    if errs:
                        msg = f"Condition {n}, {side} side: {errs[0]}"
                        break
                if msg:
                    break
            if not msg:
                try:
                    ScanDefinition("", self.current_filter()).compile(custom)
                except FormulaError as exc:
                    msg = str(exc)
        self.valid = not msg
        if msg and (msg.startswith("Type a filter") or msg.startswith("Add a condition")):
            self.error_label.setText(msg)  # nothing typed yet: a hint, not an error
            self.error_label.setStyleSheet(f"color: {self.palette().placeholderText().color().name()};")
        elif msg:
            self.error_label.setText(msg)
            self.error_label.setStyleSheet(f"color: {ERROR_COLOR};")
        else:
            self.error_label.setText("✓ Valid filter")
            self.error_label.setStyleSheet(f"color: {OK_COLOR};")
        self._sync_buttons()

    # ------------------------------------------------------------------ running
    def run_scan(self, *, scheduled: bool = False) -> bool:
        """Start a scan in a worker. False (and nothing starts) while invalid or already running."""
        if not self.valid or self.running:
            return False
        definition = self.current_definition()
        self._run_seq += 1
        seq = self._run_seq
        self.running = True
        self._got_result = False
        self._started_at = time.perf_counter()
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setStyleSheet("")  # a previous failure's red
        label = definition.name or definition.formula_text
        self.status.setText(("Scheduled scan: " if scheduled else "Scanning: ") + _elide(label, 60))
        self._sync_buttons()
        self.scan_started.emit()
        self._task = self.tasks.submit(
            scan_job, self.scanner, definition, self.universe_resolver(),
            refresh=self.refresh_box.isChecked(), columns=definition.columns, now=self.clock(),
            label=f"Scan: {_elide(label, 40)}",
            on_result=lambda r, seq=seq: self._on_scan_result(seq, r),
            on_error=lambda exc, seq=seq: self._on_scan_error(seq, exc),
            on_progress=lambda pr, seq=seq: self._on_scan_progress(seq, pr),
            on_finished=lambda seq=seq: self._on_scan_finished(seq),
        )
        return True

    def cancel_scan(self) -> None:
        if self._task is not None and self.running:
            self.status.setText("Cancelling…")
            self._task.cancel()

    def _on_scan_progress(self, seq: int, p: Progress) -> None:
        if seq != self._run_seq:
            return
        self.progress.setRange(0, max(1, p.total))
        self.progress.setValue(p.done)
        self.progress.setFormat(f"{p.done}/{p.total}")
        if p.text:
            self.status.setText(_elide(p.text, 80))

    def _on_scan_result(self, seq: int, result: ScanResult) -> None:
        if seq != self._run_seq:
            return
        self._got_result = True
        first = self.session.result is None
        diff = self.session.accept(result)
        headers_before = self.model.headers()
        self.model.set_result(result.rows, result.columns, diff.new)
        if self.model.headers() != headers_before or first:
            self.table.fit_columns(minimum={"trend": 90},
                                   maximum={c: 160 for c in result.columns})
        else:  # keep the user's widths, but never cut a value off
            self.table.fit_columns(grow_only=True)
        text, tip = summarize(result, time.perf_counter() - self._started_at)
        self.status.setText(text)
        self.status.setToolTip(tip)
        self._show_diff()
        self.scan_finished.emit(result)

    @property
    def result(self) -> ScanResult | None:
        """The result shown (None before the first scan)."""
        return self.session.result

    @property
    def new(self) -> tuple[str, ...]:
        """Symbols new since the run compared with (``engine.scanner.job``)."""
        return self.session.diff.new

    @property
    def dropped(self) -> tuple[str, ...]:
        return self.session.diff.dropped

    def _show_diff(self) -> None:
        text = self.session.diff.describe()
        self.diff_label.setText(text)
        self.diff_label.setVisible(bool(text))

    def _on_scan_error(self, seq: int, exc: BaseException) -> None:
        if seq != self._run_seq:
            return
        self._got_result = True
        self.status.setText(f"Scan failed: {exc}")
        self.status.setStyleSheet(f"color: {ERROR_COLOR};")
        self.scan_failed.emit(str(exc))

    def _on_scan_finished(self, seq: int) -> None:
        if seq != self._run_seq:
            return
        self.running = False
        self._task = None
        self.progress.hide()
        if not self._got_result:
            self.status.setText("Scan cancelled." + (" Showing the previous results." if self.result else ""))
            self.scan_cancelled.emit()
        self._sync_buttons()

    # ------------------------------------------------------------------ state across restarts
    def state(self) -> dict[str, Any]:
        """What the dock shows (universe, preset, filter, extra columns, schedule), JSON-ready."""
        f = self.current_filter()
        return {
            "universe": self.universe_box.currentData(),
            "preset": self.preset_box.currentData(),
            "filter": f if isinstance(f, str) else f.to_dict(),
            "tab": self.tabs.currentIndex(),
            "columns": list(self.extra_columns),
            "schedule": self.schedule,
            "table": self.table.view_state(),
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back a ``state()``; parts that no longer apply (a deleted watchlist or preset,
        a damaged entry) are skipped and the rest restored."""
        i = self.universe_box.findData(state.get("universe"))
        if i >= 0:
            self.universe_box.setCurrentIndex(i)
        preset = state.get("preset")
        if preset and self.preset_box.findData(preset) >= 0:
            self.load_preset(str(preset))
        try:
            filt = ScanDefinition.from_json(json.dumps({"filter": state.get("filter", "")})).filter
        except (ValueError, KeyError, TypeError):
            filt = ""
        if isinstance(filt, str):
            if filt:
                self.formula_edit.setText(filt)
                self.filter_source = "formula"
        else:
            self.set_conditions(filt)
            self.filter_source = "conditions"
        tab = state.get("tab")
        if tab in (0, 1):
            self.tabs.setCurrentIndex(int(tab))
        for c in state.get("columns") or []:
            if isinstance(c, str) and c not in self.extra_columns:
                self.extra_columns.append(c)
        sched = state.get("schedule")
        if sched is None or self.schedule_box.findData(sched) >= 0:
            self.set_schedule(sched)
        table = state.get("table")
        if isinstance(table, dict):
            self.table.restore_view_state(table)
        self._validate()

    # ------------------------------------------------------------------ scheduling
    @property
    def schedule(self) -> str | None:
        return self.scheduler.key

    @property
    def next_run(self) -> _dt.datetime | None:
        return self.scheduler.next_run

    def set_schedule(self, key: str | None) -> None:
        """Choose a rescan schedule (None: manual); raises ``ValueError`` for an unknown one."""
        self.scheduler.set_key(key)

    def _on_scheduler_due(self) -> None:
        if not self.running:
            self.run_scan(scheduled=True)

    # ------------------------------------------------------------------ results actions
    def selected_symbols(self) -> list[str]:
        return [r.symbol for r in self.table.selected_rows()]

    def add_selected_to_watchlist(self, name: str) -> int:
        """Add the selected symbols to watchlist ``name`` (created if new); returns how many were new."""
        syms = self.selected_symbols()
        if not syms:
            return 0
        if name not in self.watchlists.names():
            self.watchlists.create(name)
        added = self.watchlists.add(name, syms)
        self.status.setText(f"Added {added} of {len(syms)} to the watchlist {name}"
                            + ("" if added == len(syms) else " (the others were there already)"))
        self.added_to_watchlist.emit(name, syms)
        self.reload_universes()
        return added

    def export_csv(self, path: str) -> None:
        """Write the shown result as CSV (``TableView.export_csv``: a header of column keys —
        symbol, close, change_pct, volume, new, the formula columns — plain numbers, rows in
        the order shown). Raises ``RuntimeError`` before any scan, ``OSError``."""
        if self.result is None:
            raise RuntimeError("run a scan first")
        self.table.export_csv(path)
        self.status.setText(f"Exported {len(self.result.rows)} rows to {path}")

    def add_column(self, formula: str) -> None:
        """Add a formula column (validated; raises ``FormulaError``); shown from the next run."""
        formula = formula.strip()
        errs = self.formulas.validate(formula)
        if errs:
            raise errs[0]
        if formula not in self.extra_columns:
            self.extra_columns.append(formula)

    def set_column_visible(self, header: str, visible: bool) -> None:
        """Show or hide a column by its title or key (raises ``KeyError`` for an unknown one)."""
        self.table.set_column_hidden(header, not visible)

    # ------------------------------------------------------------------ slots
    def _sync_buttons(self) -> None:
        self.run_btn.setEnabled(self.valid and not self.running)
        self.cancel_btn.setEnabled(self.running)
        self.run_btn.setToolTip("" if self.valid else self.error_label.text())
        has_sel = self.table.selectionModel() is not None and self.table.selectionModel().hasSelection()
        self.add_to_watchlist_btn.setEnabled(has_sel)
        self.export_btn.setEnabled(self.result is not None)

    def _on_row_clicked(self, index: QModelIndex) -> None:
        row = self.table.source_row(index)
        if row is not None and len(self.table.selectionModel().selectedRows()) <= 1:
            self.symbol_activated.emit(row.symbol)

    def _fill_watchlist_menu(self) -> None:
        m = self.watchlist_menu
        m.clear()
        for name in self.watchlists.names():
            m.addAction(name, lambda n=name: self.add_selected_to_watchlist(n))
        m.addSeparator()
        m.addAction("New watchlist…", self._on_new_watchlist)

    def _on_new_watchlist(self) -> None:
        name, ok = QInputDialog.getText(self, "New watchlist", "Name:")
        if ok and name.strip():
            try:
                self.add_selected_to_watchlist(name.strip())
            except WatchlistError as exc:
                self.status.setText(str(exc))

    def _on_export_clicked(self) -> None:
        if self.result is None:
            return
        stem = (self.result.name or "scan").replace(" ", "_").replace("/", "-")
        path, _ = QFileDialog.getSaveFileName(self, "Export scan results", f"{stem}.csv", "CSV files (*.csv)")
        if path:
            try:
                self.export_csv(path)
            except OSError as exc:
                self.status.setText(f"Could not write {path}: {exc}")

    def _extend_columns_menu(self, menu: QMenu) -> None:
        menu.addAction("Add formula column…", self._on_add_column)

    def _on_add_column(self) -> None:
        text, ok = QInputDialog.getText(self, "Add a column", "Formula (e.g. rsi(close) or my_osc):")
        if not ok or not text.strip():
            return
        try:
            self.add_column(text)
        except FormulaError as exc:
            self.status.setText(f"Column not added: {exc}")
            return
        self.status.setText(f"Column {text.strip()} is added; it shows from the next run.")
        if self.valid and not self.running:
            self.run_scan()

    def _on_save_preset_clicked(self) -> None:
        suggested = self._preset.name + " (mine)" if self._preset is not None and self._preset.builtin else (
            self._preset.name if self._preset is not None else "")
        name, ok = QInputDialog.getText(self, "Save preset", "Preset name:", text=suggested)
        if ok and name.strip():
            self.save_preset_as(name.strip())

    def save_preset_as(self, name: str) -> bool:
        """Save the current filter as the user's preset ``name``; False (message shown) if refused."""
        d = self.current_definition()
        p = self._preset
        try:
            self.store.save_preset(ScanDefinition(name, d.filter, d.columns, d.timeframe, d.lookback,
                                                  p.description if p is not None and not self._edited_since_preset()
                                                  else ""))
        except (PresetError, FormulaError) as exc:
            self.error_label.setText(str(exc))
            self.error_label.setStyleSheet(f"color: {ERROR_COLOR};")
            return False
        self.reload_presets(select=name)
        self.status.setText(f"Saved the preset “{name}”.")
        return True

    def _on_delete_preset_clicked(self) -> None:
        p = self._preset
        if p is None or p.builtin:
            return
        try:
            self.store.delete_preset(p.name)
        except PresetError as exc:
            self.error_label.setText(str(exc))
            return
        self.reload_presets()
        self.status.setText(f"Deleted the preset “{p.name}”.")
