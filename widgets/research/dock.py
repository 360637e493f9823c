"""The Optimizer dock: parameter search, walk-forward and the overfitting verdict.

A thin view over ``engine.research``: the form builds a ``Study`` (entry/exit formulas with
``{parameters}``, ranges, constraint, portfolio rules) and an ``OptimizeRequest``; the run is
``engine.research.job.optimize_job`` in the app's worker pattern (progress with an ETA,
cancel that terminates the pool's processes). The result shows as a heatmap of the objective
over two parameters (the others maximised, or fixed at the selected row's values), the top
results (the shared ``TableModel``), the walk-forward out-of-sample equity and the verdict in
plain words. "Use these parameters" saves the selected (or best) row as a strategy in the
local store (``ResearchService.save_strategy``).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.research.job import Heatmap, OptimizeOutcome, OptimizeRequest, heatmap, optimize_job, verdict_words
from engine.research.search import METRICS, MINIMISED, Row, Study
from engine.research.service import ResearchService, strategy_from_point
from widgets.table import Column, TableModel, TableView
from widgets.tasks import CancellableTask, TaskSubmitter

log = logging.getLogger(__name__)

DEFAULT_ENTRY = "crosses_above(sma(close,{fast}), sma(close,{slow}))"
DEFAULT_EXIT = "crosses_below(sma(close,{fast}), sma(close,{slow}))"
DEFAULT_PARAMS = "fast=5:50:5\nslow=20:200:10"
OBJECTIVES = ("sharpe", "sortino", "cagr", "profit_factor", "max_drawdown")
SIZINGS = ("equal", "qty:100", "dollars:10000", "percent:10")
TOP_ROWS = 200
MAX_TICKS = 12


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    if pct:
        return f"{v:.1%}"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _run(key: str, req_args: dict[str, Any], service: ResearchService, executor: Any) -> Any:
    """The worker: load the universe, then the optimisation (a generator: progress, cancel)."""
    from engine.progress import Progress

    yield Progress(0, 0, f"loading {key}…")
    u = service.load_universe(key)
    req = OptimizeRequest(u.bars, universe=key, **req_args)
    out = yield from optimize_job(req, executor)
    if u.missing:
        out.notes.append(f"{len(u.missing)} symbols of {u.name} have no stored bars and were left out.")
    return out


class OptimizerWidget(QWidget):
    """The Optimizer. ``service`` gives universes and stores strategies; ``tasks`` runs the work."""

    run_finished = Signal(object)  # OptimizeOutcome
    run_cancelled = Signal()
    strategy_saved = Signal(str)

    def __init__(self, service: ResearchService, tasks: TaskSubmitter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("optimizer")
        self.service = service
        self.tasks = tasks
        self.outcome: OptimizeOutcome | None = None
        self.study: Study | None = None
        self.map: Heatmap | None = None
        self.task: CancellableTask | None = None
        self.executor: Any = None
        self.workers: int | None = None  # None: all cores
        self._got_result = False

        # ---- the form
        self.entry = QLineEdit(DEFAULT_ENTRY)
        self.exit = QLineEdit(DEFAULT_EXIT)
        self.params = QPlainTextEdit(DEFAULT_PARAMS)
        self.params.setPlaceholderText("one per line: name=start:stop:step, name=a,b,c or name=value")
        self.params.setFixedHeight(64)
        self.constraint = QLineEdit("fast < slow")
        self.constraint.setPlaceholderText("e.g. fast < slow (optional)")
        self.objective = QComboBox(editable=True)
        self.objective.addItems(OBJECTIVES)
        self.objective.setToolTip("a metric, or a formula over them, e.g. sharpe * (1 - max_drawdown)")
        self.method = QComboBox()
        self.method.addItems(["grid", "random", "bayes"])
        self.trials = QSpinBox(minimum=1, maximum=100_000, value=100)
        self.trials.setToolTip("points tried by random and Bayesian search")
        self.scheme = QComboBox()
        for text, key in (("none", "none"), ("rolling walk-forward", "rolling"), ("anchored walk-forward", "anchored")):
            self.scheme.addItem(text, key)
        self.windows = QSpinBox(minimum=1, maximum=100, value=4)
        self.universe = QComboBox(editable=True)
        self.universe.setToolTip("a universe, or type symbol:TICKER")
        self.mode = QComboBox()
        self.mode.addItem("one portfolio (paper engine)", "portfolio")
        self.mode.addItem("each symbol (fast path)", "each")
        self.max_positions = QSpinBox(minimum=1, maximum=10_000, value=10)
        self.sizing = QComboBox(editable=True)
        self.sizing.addItems(SIZINGS)
        self.min_trades = QSpinBox(minimum=0, maximum=100_000, value=30)
        self.cash = QSpinBox(minimum=1, maximum=2_000_000_000, value=100_000, singleStep=10_000)
        self.scheduler = QLineEdit()
        self.scheduler.setPlaceholderText("tcp://HOST:PORT (optional: a Dask cluster)")
        self.run_btn = QPushButton("Run")
        self.run_btn.setObjectName("optimizerRun")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("Choose a strategy, its parameters and a universe, then Run.", wordWrap=True)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Entry", self.entry)
        form.addRow("Exit", self.exit)
        form.addRow("Parameters", self.params)
        form.addRow("Constraint", self.constraint)
        form.addRow("Objective", self.objective)
        row = QHBoxLayout()
        row.addWidget(self.method, 1)
        row.addWidget(QLabel("trials"))
        row.addWidget(self.trials)
        form.addRow("Search", row)
        row = QHBoxLayout()
        row.addWidget(self.scheme, 1)
        row.addWidget(QLabel("N"))
        row.addWidget(self.windows)
        form.addRow("Windows", row)
        form.addRow("Universe", self.universe)
        form.addRow("Run as", self.mode)
        row = QHBoxLayout()
        row.addWidget(self.max_positions)
        row.addWidget(QLabel("sizing"))
        row.addWidget(self.sizing, 1)
        form.addRow("Positions", row)
        row = QHBoxLayout()
        row.addWidget(self.cash, 1)
        row.addWidget(QLabel("min trades"))
        row.addWidget(self.min_trades)
        form.addRow("Cash", row)
        form.addRow("Cluster", self.scheduler)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_btn)
        buttons.addWidget(self.cancel_btn)
        side = QWidget()
        sv = QVBoxLayout(side)
        sv.addLayout(form)
        sv.addLayout(buttons)
        sv.addWidget(self.progress)
        sv.addWidget(self.status)
        sv.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(side)
        scroll.setMinimumWidth(340)

        # ---- heatmap
        self.hx = QComboBox()
        self.hy = QComboBox()
        self.others = QComboBox()
        self.others.addItem("others maximised", "max")
        self.others.addItem("others fixed at the selected row", "fixed")
        self.heat = pg.PlotWidget()
        self.heat.setMenuEnabled(False)
        self.heat_img = pg.ImageItem()
        self.heat.addItem(self.heat_img)
        self.heat_bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"), interactive=False)
        self.heat_bar.setImageItem(self.heat_img, insert_in=self.heat.getPlotItem())
        self.heat_best = pg.ScatterPlotItem(size=12, symbol="x", pen=pg.mkPen("#ff5252", width=2), brush=None)
        self.heat.addItem(self.heat_best)
        self.heat_note = QLabel(wordWrap=True)
        hb = QGroupBox("Objective heatmap")
        hv = QVBoxLayout(hb)
        hr = QHBoxLayout()
        hr.addWidget(QLabel("x"))
        hr.addWidget(self.hx, 1)
        hr.addWidget(QLabel("y"))
        hr.addWidget(self.hy, 1)
        hr.addWidget(self.others, 2)
        hv.addLayout(hr)
        hv.addWidget(self.heat, 1)
        hv.addWidget(self.heat_note)

        # ---- out-of-sample equity
        self.oos = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.oos.showGrid(x=True, y=True, alpha=0.15)
        self.oos.setLabel("left", "equity $")
        self.oos.getAxis("left").enableAutoSIPrefix(False)
        self.oos.getAxis("left").setWidth(64)
        self.oos_curve = self.oos.plot([], [], pen=pg.mkPen("#42a5f5", width=2))
        self.oos_note = QLabel("Walk-forward out-of-sample equity: run with a rolling or anchored scheme.",
                               wordWrap=True)
        ob = QGroupBox("Walk-forward out-of-sample equity")
        ov = QVBoxLayout(ob)
        ov.addWidget(self.oos, 1)
        ov.addWidget(self.oos_note)

        # ---- results table and verdict
        self.model = TableModel(self._columns(()), key=lambda r: r.rank)
        self.table = TableView(self.model, "optimizerResults")
        self.table.setObjectName("optimizerResults")
        self.verdict = QLabel("The overfitting verdict appears here after a run.", wordWrap=True)
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        vscroll = QScrollArea()
        vscroll.setWidgetResizable(True)
        vscroll.setWidget(self.verdict)
        self.save_name = QLineEdit()
        self.save_name.setPlaceholderText("strategy name")
        self.save_btn = QPushButton("Use these parameters")
        self.save_btn.setObjectName("optimizerSave")
        self.save_btn.setEnabled(False)
        self.save_btn.setToolTip("save the selected row (or the best) as a strategy")
        vb = QGroupBox("Verdict")
        vv = QVBoxLayout(vb)
        vv.addWidget(vscroll, 1)
        sr = QHBoxLayout()
        sr.addWidget(self.save_name, 1)
        sr.addWidget(self.save_btn)
        vv.addLayout(sr)
        tb = QGroupBox("Top results")
        tv = QVBoxLayout(tb)
        tv.addWidget(self.table)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(hb)
        top.addWidget(ob)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(tb)
        bottom.addWidget(vb)
        bottom.setSizes([560, 380])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(top)
        right.addWidget(bottom)
        right.setSizes([400, 360])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(scroll)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        main.setSizes([360, 920])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(main)

        self.run_btn.clicked.connect(self.run)
        self.cancel_btn.clicked.connect(self.cancel)
        self.save_btn.clicked.connect(self._on_save_clicked)
        self.hx.currentIndexChanged.connect(self._on_heatmap_changed)
        self.hy.currentIndexChanged.connect(self._on_heatmap_changed)
        self.others.currentIndexChanged.connect(self._on_heatmap_changed)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        self.reload_universes()

    # ------------------------------------------------------------------ form
    def reload_universes(self) -> None:
        """Refill the universe choices (watchlists may have changed), keeping the current one."""
        cur = self.universe_key()
        self.universe.blockSignals(True)
        self.universe.clear()
        try:
            choices = self.service.universe_choices()
        except Exception as exc:  # noqa: BLE001 - the store may be busy; demo is always there
            log.warning("universes: %s", exc)
            choices = [("demo", "Demo symbols")]
        for key, label in choices:
            self.universe.addItem(label, key)
        self.universe.blockSignals(False)
        self.set_universe(cur or "demo")

    def set_universe(self, key: str) -> None:
        i = self.universe.findData(key)
        if i >= 0:
            self.universe.setCurrentIndex(i)
        else:
            self.universe.setEditText(key)

    def universe_key(self) -> str:
        """The chosen universe's key (typed text such as ``symbol:ACME`` is used as it is)."""
        text = self.universe.currentText().strip()
        i = self.universe.findText(text)
        if i >= 0:
            return str(self.universe.itemData(i))
        return text

    def _on_mode_changed(self, _i: int) -> None:
        portfolio = self.mode.currentData() == "portfolio"
        self.max_positions.setEnabled(portfolio)
        self.sizing.setEnabled(portfolio)

    def build_request(self) -> dict[str, Any]:
        """The study and options from the form. Raises ``ValueError`` (``ParamError``,
        ``FormulaError``) with a sentence for the user."""
        from engine.paper.fills import FillConfig
        from engine.research.portfolio import PortfolioRules, parse_sizing

        specs = [ln.strip() for ln in self.params.toPlainText().splitlines() if ln.strip()]
        if not specs:
            raise ValueError("declare at least one parameter, e.g. fast=5:50:5")
        cons = [self.constraint.text().strip()] if self.constraint.text().strip() else []
        rules = None
        if self.mode.currentData() == "portfolio":
            rules = PortfolioRules(self.max_positions.value(), parse_sizing(self.sizing.currentText()))
        study = Study.from_text(self.entry.text(), self.exit.text().strip() or None, specs, cons,
                                cash=self.cash.value(), config=FillConfig(), portfolio=rules)
        pts = list(study.space.grid()) if study.space.size() <= 10**6 else []
        if pts:
            study.validate(pts[0])
        scheme = str(self.scheme.currentData())
        return dict(study=study, objective=self.objective.currentText().strip() or "sharpe",
                    method=self.method.currentText(), trials=self.trials.value(), min_trades=self.min_trades.value(),
                    scheme=scheme, windows=self.windows.value(), workers=self.workers,
                    scheduler=self.scheduler.text().strip() or None)

    # ------------------------------------------------------------------ running
    @property
    def running(self) -> bool:
        return self.task is not None

    def run(self) -> None:
        """Start a run with the form's settings (a bad field is said in the status line)."""
        if self.task is not None:
            return
        from engine.formula import FormulaError

        try:
            args = self.build_request()
        except FormulaError as exc:
            from engine.scanner.headless import formula_error_text

            self._say(f"Cannot run: {formula_error_text(exc, exc.text or '')}", error=True)
            return
        except ValueError as exc:
            self._say(f"Cannot run: {exc}", error=True)
            return
        self.study = args["study"]
        from engine.research.executor import ProcessExecutor

        self.executor = None if args["scheduler"] else ProcessExecutor(self.workers)
        self._got_result = False
        self.run_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.save_btn.setEnabled(False)
        self.progress.setRange(0, 0)
        self._say("Starting…")
        self.task = self.tasks.submit(_run, self.universe_key(), args, self.service, self.executor,
                                      label="Optimizing", on_result=self._on_run_returned,
                                      on_error=self._on_run_errored, on_progress=self._on_run_progress,
                                      on_finished=self._on_run_finished)

    def cancel(self) -> None:
        """Cancel the running search: its worker processes are terminated."""
        if self.task is not None:
            self._say("Cancelling…")
            self.task.cancel()

    def executor_pids(self) -> list[int]:
        ex = self.executor
        return ex.pids() if ex is not None and hasattr(ex, "pids") else []

    def _on_run_progress(self, p: Any) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        self._say(p.text or "Working…")

    def _on_run_returned(self, out: OptimizeOutcome) -> None:
        self._got_result = True
        self.show_outcome(out)
        n = len(out.result.rows)
        self._say(f"{n:,} parameter sets on {len(out.request.data)} symbols in {out.seconds:.1f} s"
                  + (" (demo data)" if any(b.is_demo for b in out.request.data) else "") + ".")
        self.run_finished.emit(out)

    def _on_run_errored(self, exc: BaseException) -> None:
        from engine.research.executor import Cancelled

        self._got_result = True
        if isinstance(exc, Cancelled):
            self._say("Cancelled.")
            self.run_cancelled.emit()
            return
        self._say(f"The run failed: {exc}", error=True)

    def _on_run_finished(self) -> None:
        self.task = None
        ex, self.executor = self.executor, None
        if ex is not None:
            ex.close()
        self.run_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if self.outcome is not None and self._got_result else 0)
        if not self._got_result:
            self._say("Cancelled.")
            self.run_cancelled.emit()

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #ef5350;" if error else "")

    # ------------------------------------------------------------------ showing a result
    def _columns(self, names: Sequence[str]) -> list[Column]:
        cols = [Column("#", lambda r: r.rank, numeric=True, key="rank")]
        for n in names:
            cols.append(Column(n, lambda r, n=n: r.params.get(n), numeric=True, key=f"p:{n}"))
        cols.append(Column("Objective", lambda r: r.objective, numeric=True, fmt=_fmt, key="objective"))
        for k, title, pct in (("trades", "Trades", False), ("sharpe", "Sharpe", False), ("cagr", "CAGR", True),
                              ("max_drawdown", "Max DD", True), ("profit_factor", "PF", False),
                              ("win_rate", "Win", True)):
            cols.append(Column(title, lambda r, k=k: r.metrics.get(k), numeric=True, key=k,
                               fmt=lambda v, pct=pct, k=k: ("—" if v is None else f"{int(v)}") if k == "trades"
                               else _fmt(v, pct)))
        cols.append(Column("Note", lambda r: "few trades" if r.flagged else "", key="note"))
        return cols

    def show_outcome(self, out: OptimizeOutcome) -> None:
        """Show a finished run (table, heatmap, OOS equity, verdict)."""
        self.outcome = out
        study = out.request.study
        self.study = study
        names = study.space.names
        self.model.set_columns(self._columns(names))
        self.model.set_rows(out.result.rows[:TOP_ROWS])
        numeric = [p.name for p in study.space.params if len(p.values) > 0]
        for box, k in ((self.hx, 0), (self.hy, 1)):
            box.blockSignals(True)
            box.clear()
            box.addItems(numeric)
            box.setCurrentIndex(min(k, len(numeric) - 1))
            box.blockSignals(False)
        self._on_heatmap_changed()
        wf = out.walk
        if wf is not None and len(wf.oos_equity) > 1:
            self.oos_curve.setData(wf.oos_time.astype(np.float64), wf.oos_equity)
            m = wf.oos_metrics
            self.oos_note.setText(
                f"{len(wf.windows)} windows stitched: total return {_fmt(m.get('total_return'), True)}, "
                f"Sharpe {_fmt(m.get('sharpe'))}, max drawdown {_fmt(m.get('max_drawdown'), True)}, "
                f"{int(m.get('trades') or 0)} trades out of sample.")
        else:
            self.oos_curve.setData([], [])
            self.oos_note.setText("No walk-forward in this run (window scheme: none).")
        words = verdict_words(wf, out.result) + list(out.notes)
        self.verdict.setText("\n\n".join(words))
        self.save_btn.setEnabled(bool(out.result.rows))
        if out.result.rows:
            self.table.selectRow(0)

    def selected_row(self) -> Row | None:
        rows = self.table.selected_rows()
        if rows:
            return rows[0]  # type: ignore[no-any-return]
        return self.outcome.result.rows[0] if self.outcome is not None and self.outcome.result.rows else None

    def _on_selection_changed(self, *_a: Any) -> None:
        if self.others.currentData() == "fixed":
            self._on_heatmap_changed()

    def _on_heatmap_changed(self, *_a: Any) -> None:
        out, study = self.outcome, self.study
        if out is None or study is None:
            return
        x, y = self.hx.currentText(), self.hy.currentText()
        names = study.space.names
        if len(names) < 2:
            self.heat_img.clear()
            self.heat_note.setText("The heatmap needs two parameters.")
            return
        if x == y or not x or not y:
            self.heat_note.setText("Choose two different parameters.")
            return
        fixed = None
        if self.others.currentData() == "fixed":
            sel = self.selected_row()
            fixed = dict(sel.params) if sel is not None else {}
        obj_name = out.result.objective
        hm = heatmap(out.result.rows, study, x, y, fixed=fixed, minimise=obj_name in MINIMISED)
        self.map = hm
        z = hm.z
        self.heat_img.setImage(z.T, autoLevels=False)
        self.heat_img.setRect(QRectF(0, 0, z.shape[1], z.shape[0]))
        fin = z[np.isfinite(z)]
        if fin.size:
            lo, hi = float(fin.min()), float(fin.max())
            self.heat_bar.setLevels((lo, hi if hi > lo else lo + 1e-9))
        self.heat.getAxis("bottom").setTicks([_ticks(hm.xs)])
        self.heat.getAxis("left").setTicks([_ticks(hm.ys)])
        self.heat.setLabel("bottom", x)
        self.heat.setLabel("left", y)
        self.heat.setXRange(0, z.shape[1], padding=0)
        self.heat.setYRange(0, z.shape[0], padding=0)
        if hm.best is not None:
            j, i = hm.xs.index(hm.best[0]), hm.ys.index(hm.best[1])
            self.heat_best.setData([j + 0.5], [i + 0.5])
        else:
            self.heat_best.setData([], [])
        others = [n for n in names if n not in (x, y)]
        how = ("" if not others else
               f"; {', '.join(others)} {'maximised over' if hm.mode == 'max' else 'fixed at ' + ', '.join(f'{k}={v}' for k, v in hm.fixed.items())}")
        best = f"best {x}={hm.best[0]}, {y}={hm.best[1]} (×)" if hm.best is not None else "no defined value"
        self.heat_note.setText(f"{obj_name} by {x} and {y}{how}; {best}")
        self.heat_note.setToolTip("blank cells: not tried (constraint, search) or the objective is undefined")

    # ------------------------------------------------------------------ saving
    def _on_save_clicked(self) -> None:
        self.save_selected(self.save_name.text())

    def save_selected(self, name: str) -> int | None:
        """Save the selected (or best) row as strategy ``name``; returns its id (None if refused)."""
        from engine.research.service import ResearchError

        row, out, study = self.selected_row(), self.outcome, self.study
        if row is None or out is None or study is None:
            return None
        name = name.strip() or "Strategy " + ", ".join(f"{k}={v}" for k, v in row.params.items())
        rules: dict[str, Any] = {"cash": study.cash}
        if study.portfolio is not None:
            from engine.research.portfolio import sizing_text

            rules.update(max_positions=study.portfolio.max_positions, sizing=sizing_text(study.portfolio.sizing))
        else:
            rules["qty"] = study.qty
        metrics = {k: row.metrics.get(k) for k in METRICS}
        s = strategy_from_point(name, study.entry.text, study.exit.text if study.exit else None, dict(row.params),
                                universe=out.request.universe, rules=rules, objective=out.result.objective,
                                metrics=metrics)
        try:
            sid = self.service.save_strategy(s)
        except ResearchError as exc:
            self._say(str(exc), error=True)
            return None
        self._say(f"Saved strategy '{name}': {s.entry}" + (f" / {s.exit}" if s.exit else ""))
        self.strategy_saved.emit(name)
        return sid

    # ------------------------------------------------------------------ layout state
    def state(self) -> dict[str, Any]:
        return {"entry": self.entry.text(), "exit": self.exit.text(), "params": self.params.toPlainText(),
                "constraint": self.constraint.text(), "objective": self.objective.currentText(),
                "method": self.method.currentText(), "trials": self.trials.value(),
                "scheme": self.scheme.currentData(), "windows": self.windows.value(),
                "universe": self.universe_key(), "mode": self.mode.currentData(),
                "max_positions": self.max_positions.value(), "sizing": self.sizing.currentText(),
                "cash": self.cash.value(), "min_trades": self.min_trades.value()}

    def restore_state(self, state: dict[str, Any]) -> None:
        for key, w in (("entry", self.entry), ("exit", self.exit), ("constraint", self.constraint)):
            if isinstance(state.get(key), str):
                w.setText(state[key])
        if isinstance(state.get("params"), str):
            self.params.setPlainText(state["params"])
        for key, box in (("objective", self.objective), ("sizing", self.sizing)):
            if isinstance(state.get(key), str):
                box.setEditText(state[key]) if box.findText(state[key]) < 0 else box.setCurrentIndex(box.findText(state[key]))
        if isinstance(state.get("method"), str) and self.method.findText(state["method"]) >= 0:
            self.method.setCurrentIndex(self.method.findText(state["method"]))
        for key, box in (("scheme", self.scheme), ("mode", self.mode)):
            i = box.findData(state.get(key))
            if i >= 0:
                box.setCurrentIndex(i)
        for key, spin in (("trials", self.trials), ("windows", self.windows), ("max_positions", self.max_positions),
                          ("cash", self.cash), ("min_trades", self.min_trades)):
            if isinstance(state.get(key), int):
                spin.setValue(state[key])
        if isinstance(state.get("universe"), str) and state["universe"]:
            self.set_universe(state["universe"])

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.cancel()
        super().closeEvent(event)


def _ticks(values: Sequence[Any]) -> list[tuple[float, str]]:
    n = len(values)
    step = max(1, math.ceil(n / MAX_TICKS))
    return [(k + 0.5, str(v)) for k, v in enumerate(values) if k % step == 0]
