"""The custom indicator builder: validation as you type, save, live preview, edit, delete."""
import numpy as np
from engine.events import EventBus
import pytest
import talib

from engine.formula import FormulaService
from tests.widgets.stubs import FakeData, SyncTasks
from widgets.indicator_builder import DEBOUNCE_MS, IndicatorBuilderDialog


@pytest.fixture
def formulas(db):
    return FormulaService(db, EventBus())


def _dialog(qtbot, formulas, symbol="ACME", tasks=None, confirm=None):
    data = FakeData()
    dlg = IndicatorBuilderDialog(formulas, data, tasks or SyncTasks(), symbol=symbol, confirm=confirm)
    qtbot.addWidget(dlg)
    return dlg, data


def test_typo_shows_column_and_suggestion_and_disables_save(qtbot, formulas):
    dlg, _ = _dialog(qtbot, formulas)
    dlg.name_edit.setText("my_osc")
    qtbot.keyClicks(dlg.formula_edit, "(close - sma(close,20)) / atrr(14)")
    assert dlg.message.text() == "unknown function 'atrr' at column 27 — did you mean 'atr'?"
    assert not dlg.save_btn.isEnabled()
    dlg.formula_edit.setText("(close - sma(close,20)) / atr(14)")
    assert dlg.save_btn.isEnabled() and dlg.message.text().startswith("✓ my_osc gives numbers")


def test_bad_names_are_refused(qtbot, formulas):
    dlg, _ = _dialog(qtbot, formulas)
    dlg.formula_edit.setText("close * 2")
    dlg.name_edit.setText("sma")
    assert "built-in function" in dlg.message.text() and not dlg.save_btn.isEnabled()
    dlg.name_edit.setText("close")
    assert "bar field" in dlg.message.text()


def test_save_a_definition_and_use_it_by_name(qtbot, formulas):
    dlg, data = _dialog(qtbot, formulas)
    dlg.formula_edit.setText("my_osc = (close - sma(close,20)) / atr(14)")  # the whole definition in one box
    assert dlg.definition() == ("my_osc", "(close - sma(close,20)) / atr(14)")
    with qtbot.waitSignal(dlg.indicators_changed):
        dlg.save_btn.click()
    assert dlg.names() == ["my_osc"]
    assert formulas.get("my_osc").expression == "(close - sma(close,20)) / atr(14)"
    # usable everywhere by name: here as a filter
    bars = data.get_bars("ACME")
    hits = formulas.parse("my_osc > 1").evaluate(bars)
    ref = (bars.close - talib.SMA(bars.close, 20)) / talib.ATR(bars.high, bars.low, bars.close, 14)
    np.testing.assert_array_equal(hits, np.nan_to_num(ref, nan=-np.inf) > 1)


def test_live_preview_is_debounced_and_matches_talib(qtbot, formulas):
    dlg, data = _dialog(qtbot, formulas)
    tasks = dlg.tasks
    dlg.name_edit.setText("my_osc")
    with qtbot.waitSignal(dlg.preview_updated, timeout=2000):
        for ch in "(close - sma(close,20)) / atr(14)":
            qtbot.keyClicks(dlg.formula_edit, ch)  # typed fast: one evaluation after the pause
    assert tasks.labels.count("Indicator preview") == 1
    assert dlg.debounce.interval() == DEBOUNCE_MS
    bars = data.get_bars("ACME")
    ref = (bars.close - talib.SMA(bars.close, 20)) / talib.ATR(bars.high, bars.low, bars.close, 14)
    np.testing.assert_allclose(dlg.values, ref, rtol=1e-9, equal_nan=True)
    x, y = dlg.ind_curve.getData()
    assert len(y) == len(bars) and np.nanmax(np.abs(y - ref)) < 1e-9
    assert "ACME" in dlg.preview_note.text() and "300 bars" in dlg.preview_note.text()
    # an invalid edit clears the preview instead of showing stale values
    dlg.formula_edit.setText("(close - sma(close,20)) / atr(")
    qtbot.waitUntil(lambda: dlg.values is None, timeout=2000)
    assert len(dlg.ind_curve.getData()[1] if dlg.ind_curve.getData()[1] is not None else []) == 0


def test_preview_runs_in_a_worker_and_drops_stale_results(qtbot, formulas):
    from app.workers import TaskRunner

    runner = TaskRunner()
    dlg, data = _dialog(qtbot, formulas, tasks=runner)
    qtbot.waitUntil(lambda: dlg.bars is not None, timeout=5000)
    dlg.formula_edit.setText("sma(close, 5)")
    dlg.update_preview()
    dlg.formula_edit.setText("sma(close, 50)")
    with qtbot.waitSignal(dlg.preview_updated, timeout=5000):
        dlg.update_preview()
    qtbot.waitUntil(lambda: not runner.active, timeout=5000)
    bars = data.get_bars("ACME")
    np.testing.assert_allclose(dlg.values, talib.SMA(bars.close, 50), equal_nan=True)


def test_edit_a_saved_indicator(qtbot, formulas):
    formulas.save("trend", "sma(close, 10) - sma(close, 30)", "fast minus slow")
    dlg, _ = _dialog(qtbot, formulas)
    dlg.edit("trend")
    assert dlg.name_edit.text() == "trend" and dlg.description_edit.text() == "fast minus slow"
    dlg.formula_edit.setText("sma(close, 5) - sma(close, 30)")
    assert "replaces" in dlg.message.text()
    assert dlg.save()
    assert formulas.get("trend").expression == "sma(close, 5) - sma(close, 30)"


def test_a_cycle_is_refused(qtbot, formulas):
    formulas.save("a", "close * 2")
    formulas.save("b", "a + 1")
    dlg, _ = _dialog(qtbot, formulas)
    dlg.edit("a")
    dlg.formula_edit.setText("b - 1")
    assert "itself" in dlg.message.text() or "cycle" in dlg.message.text()
    assert not dlg.save_btn.isEnabled()


def test_deleting_one_that_others_use_says_which(qtbot, formulas):
    formulas.save("base", "sma(close, 20)")
    formulas.save("spread", "close - base")
    asked = []
    dlg, _ = _dialog(qtbot, formulas, confirm=lambda text: asked.append(text) or True)
    dlg.edit("base")
    dlg.delete_btn.click()
    assert asked == ["Delete the custom indicator base?"]
    assert dlg.message.text() == "Cannot delete base: 'base' is used by 'spread'; change those first."
    assert dlg.names() == ["base", "spread"]
    assert dlg.delete_indicator("spread") and dlg.delete_indicator("base")
    assert dlg.names() == [] and formulas.list() == []


def test_no_symbol_explains_how_to_preview(qtbot, formulas):
    dlg, _ = _dialog(qtbot, formulas, symbol=None)
    assert "symbol" in dlg.preview_note.text()
    dlg.load_symbol("UNKNOWN")
    assert dlg.preview_note.text() == "No preview: Unknown symbol UNKNOWN"
    dlg.load_symbol("acme")
    assert dlg.bars is not None and dlg.bars.symbol == "ACME"


def test_closing_while_bars_still_load_is_harmless(qtbot, formulas):
    import time

    from PySide6.QtCore import Qt

    from app.workers import TaskRunner

    class SlowData(FakeData):
        def get_bars(self, symbol, timeframe="1d", refresh=False):
            time.sleep(0.3)
            return super().get_bars(symbol, timeframe, refresh)

    runner = TaskRunner()
    dlg = IndicatorBuilderDialog(formulas, SlowData(), runner, symbol="ACME")
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    dlg.close()  # deleted while its worker still runs: the late result must be dropped quietly
    qtbot.waitUntil(lambda: not runner.active, timeout=5000)
    qtbot.wait(50)
    assert dlg._closed
