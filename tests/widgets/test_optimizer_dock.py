"""The Optimizer dock on demo data: a small grid to the end (heatmap, table, OOS equity,
verdict), cancel that leaves no worker process, and "Use these parameters" persisting."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from app.workers import TaskRunner
from engine.research.service import ResearchService
from widgets.research import OptimizerWidget
from tests.procs import alive

SHOTS = Path(os.environ.get("OPTIMIZER_SHOTS", "")) if os.environ.get("OPTIMIZER_SHOTS") else None


@pytest.fixture
def dock(qtbot, db):
    tasks = TaskRunner()
    w = OptimizerWidget(ResearchService(db), tasks)
    w.workers = 1
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    yield w
    w.cancel()
    qtbot.waitUntil(lambda: not w.running, timeout=60_000)
    tasks.wait_all(60_000)


def _small(w: OptimizerWidget, scheme: str = "rolling") -> None:
    w.set_universe("symbol:ACME")
    w.params.setPlainText("fast=5:15:5\nslow=20:40:10")
    w.min_trades.setValue(5)
    w.scheme.setCurrentIndex(w.scheme.findData(scheme))
    w.windows.setValue(2)


def test_small_grid_runs_to_completion_with_heatmap_and_table(qtbot, dock):
    _small(dock)
    with qtbot.waitSignal(dock.run_finished, timeout=180_000) as sig:
        dock.run()
    out = sig.args[0]
    assert len(out.result.rows) == 9 and out.walk is not None
    assert dock.model.rowCount() == 9
    hm = dock.map
    assert hm is not None and hm.z.shape == (3, 3) and np.isfinite(hm.z).sum() >= 6
    assert dock.heat_img.image is not None and dock.heat_img.image.shape == (3, 3)
    assert hm.best == (out.result.best.params["fast"], out.result.best.params["slow"])
    xs, ys = dock.oos_curve.getData()
    assert xs is not None and len(ys) == len(out.walk.oos_equity) > 100
    text = dock.verdict.text()
    assert "Deflated Sharpe ratio" in text and "Probability of backtest overfitting" in text
    assert "Parameter fast" in text
    assert "9 parameter sets on 1 symbols" in dock.status.text() and "demo data" in dock.status.text()
    qtbot.waitUntil(lambda: not dock.running, timeout=30_000)  # the pool is closed when the task ends
    assert out.pids and all(not alive(p) for p in out.pids)
    # the heatmap with the others fixed (a 2-parameter study has no others: same cells)
    dock.others.setCurrentIndex(dock.others.findData("fixed"))
    assert dock.map.mode == "fixed" and np.array_equal(np.isnan(dock.map.z), np.isnan(hm.z))
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        dock.grab().save(str(SHOTS / "optimizer.png"))


def test_use_these_parameters_saves_a_strategy(qtbot, dock, db):
    _small(dock, "none")
    dock.mode.setCurrentIndex(dock.mode.findData("portfolio"))
    dock.max_positions.setValue(1)
    with qtbot.waitSignal(dock.run_finished, timeout=180_000):
        dock.run()
    dock.table.selectRow(1)
    chosen = dock.selected_row()
    assert chosen is not None and chosen.rank == 2
    dock.save_name.setText("SMA pair")
    with qtbot.waitSignal(dock.strategy_saved, timeout=5_000):
        dock.save_btn.click()
    from engine.store import open_database

    fresh = open_database()  # another connection to the same file: it was written
    try:
        saved = ResearchService(fresh).strategies()
    finally:
        fresh.dispose()
    assert [s.name for s in saved] == ["SMA pair"]
    s = saved[0]
    f, sl = chosen.params["fast"], chosen.params["slow"]
    assert s.params == {"fast": f, "slow": sl}
    assert s.entry == f"crosses_above(sma(close,{f}), sma(close,{sl}))"
    assert s.universe == "symbol:ACME" and s.rules["max_positions"] == 1 and s.objective == "sharpe"
    assert "Saved strategy 'SMA pair'" in dock.status.text()
    # a second save under the same name is refused, said in the status line
    assert dock.save_selected("SMA pair") is None and "already exists" in dock.status.text()


def test_cancel_leaves_no_worker_process(qtbot, dock):
    dock.workers = 2
    dock.set_universe("demo")
    dock.mode.setCurrentIndex(dock.mode.findData("portfolio"))
    dock.params.setPlainText("fast=2:60:1\nslow=61:200:1")
    dock.scheme.setCurrentIndex(dock.scheme.findData("none"))
    dock.run()
    qtbot.waitUntil(lambda: dock.progress.maximum() > 1 and len(dock.executor_pids()) == 2, timeout=120_000)
    pids = dock.executor_pids()
    assert all(alive(p) for p in pids)
    assert "left" in dock.status.text() or "backtests" in dock.status.text()
    with qtbot.waitSignal(dock.run_cancelled, timeout=60_000):
        dock.cancel_btn.click()
    qtbot.waitUntil(lambda: not dock.running, timeout=60_000)
    assert all(not alive(p) for p in pids)
    assert dock.status.text() == "Cancelled." and dock.run_btn.isEnabled()


def test_bad_form_input_is_said(qtbot, dock):
    dock.params.setPlainText("fast=5:1")
    dock.run()
    assert not dock.running and dock.status.text().startswith("Cannot run:") and "empty" in dock.status.text()
    dock.params.setPlainText("fast=5:15:5\nslow=20:40:10")
    dock.entry.setText("crosses_above(sma(close,{fast}), nosuch(close,{slow}))")
    dock.run()
    assert not dock.running and dock.status.text().startswith("Cannot run:")
