"""The scanner dock: validation as you type, presets, runs, diff, watchlist/CSV, schedule, cancel."""
import csv
import datetime as dt
import json
import threading

import numpy as np
from engine.events import EventBus
import pytest
from PySide6.QtCore import Qt

from engine import formatting as fmt
from engine.formula import FormulaService, parse
from engine.scanner import Condition, Scanner, ScanStore
from engine.watchlists import WatchlistService
from tests.widgets.stubs import FakeData, SyncTasks
from widgets.scanner import NEW_TINT, ScannerWidget, ScanResultModel
from widgets.sparkline import SPARKLINE_ROLE

SYMBOLS = [f"S{i:02d}" for i in range(12)]


class UniverseData(FakeData):
    """FakeData plus the symbol lists a universe needs."""

    def demo_symbols(self):
        return list(SYMBOLS)

    def symbols(self):
        return list(SYMBOLS[:3])


class SlowData(UniverseData):
    def __init__(self, delay=0.05):
        super().__init__()
        self.delay = delay
        self.gate = threading.Event()

    def get_bars(self, symbol, timeframe="1d", refresh=False):
        self.gate.wait(self.delay)
        return super().get_bars(symbol, timeframe, refresh)


def _make(db, qtbot, data=None, tasks=None, clock=None):
    data = data or UniverseData()
    formulas = FormulaService(db, EventBus())
    store = ScanStore(db)
    watchlists = WatchlistService(db, EventBus())
    if "Tech" not in watchlists.names():
        watchlists.create("Tech", SYMBOLS[:8])
    scanner = Scanner(lambda s, tf: data.get_bars(s, tf), store=store, custom=formulas.custom_map)
    w = ScannerWidget(scanner, store, formulas, watchlists, data, tasks or SyncTasks(), clock=clock)
    qtbot.addWidget(w)
    w.resize(1200, 400)
    return w


def _expected(formula, data, symbols):
    """Symbols whose last bar passes ``formula``, computed without the scanner."""
    f = parse(formula)
    return sorted(s for s in symbols if f.evaluate(data.get_bars(s))[-1])


def _typed(w, qtbot, text):
    w.formula_edit.clear()
    qtbot.keyClicks(w.formula_edit, text)


def test_typo_shows_column_and_suggestion_and_disables_run(db, qtbot):
    w = _make(db, qtbot)
    _typed(w, qtbot, "rsii(close) < 30")
    assert w.error_label.text() == "unknown function 'rsii' at column 1 — did you mean 'rsi'?"
    assert "e5534b" in w.error_label.styleSheet()
    assert not w.run_btn.isEnabled()
    assert w.run_scan() is False  # Enter in the box does nothing either
    _typed(w, qtbot, "rsi(close) < 30")
    assert w.run_btn.isEnabled() and "Valid" in w.error_label.text()


def test_a_formula_giving_numbers_is_not_a_filter(db, qtbot):
    w = _make(db, qtbot)
    _typed(w, qtbot, "close + 1")
    assert "must be a condition" in w.error_label.text()
    assert not w.run_btn.isEnabled()


def test_condition_rows_report_the_row_and_side(db, qtbot):
    w = _make(db, qtbot)
    w.tabs.setCurrentIndex(1)
    row = w.add_condition()
    row.left.setText("sma(close)")
    row.right.setText("10")
    assert w.error_label.text().startswith("Condition 1, left side:")
    assert "sma" in w.error_label.text() and not w.run_btn.isEnabled()
    row.left.setText("sma(close, 20)")
    assert w.run_btn.isEnabled()


def test_run_fills_a_sortable_table_with_sparklines_and_click_opens(db, qtbot):
    w = _make(db, qtbot)
    w.set_universe("watchlist", "Tech")
    _typed(w, qtbot, "close > 0")
    with qtbot.waitSignal(w.scan_finished) as sig:
        w.run_btn.click()
    result = sig.args[0]
    assert w.model.rowCount() == 8 and result.universe == "Watchlist: Tech"
    assert w.status.text().startswith("8 of 8 match")
    # sort by Last (column 2), descending: the highest close first
    w.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    top = w.proxy.index(0, 0).data()
    closes = {s: float(w.data.get_bars(s).close[-1]) for s in SYMBOLS[:8]}
    assert top == max(closes, key=closes.get)
    spark = w.proxy.index(0, 1).data(SPARKLINE_ROLE)
    assert len(spark) == 60 and spark[-1] == pytest.approx(closes[top])
    with qtbot.waitSignal(w.symbol_activated) as opened:
        rect = w.table.visualRect(w.proxy.index(1, 0))
        qtbot.mouseClick(w.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [w.proxy.index(1, 0).data()]


def test_conditions_with_or_match_the_same_as_the_formula(db, qtbot):
    w = _make(db, qtbot)
    w.set_universe("demo")
    w.tabs.setCurrentIndex(1)
    a = w.add_condition()
    a.left.setText("rsi(close, 14)")
    a.right.setText("45")
    b = w.add_condition()
    b.left.setText("close")
    b.op.setCurrentIndex(b.op.findData("crosses_above"))
    b.right.setText("sma(close, 10)")
    w.join_box.setCurrentIndex(w.join_box.findData("or"))
    assert w.run_btn.isEnabled()
    w.run_scan()
    want = _expected("rsi(close, 14) < 45 or crosses_above(close, sma(close, 10))", w.data, SYMBOLS)
    assert want and sorted(w.result.symbols) == want
    assert 0 < len(want) < len(SYMBOLS)  # the filter really filters


def test_new_since_last_run_compares_the_same_universe_and_filter(db, qtbot):
    w = _make(db, qtbot)
    w.set_universe("demo")
    _typed(w, qtbot, "rsi(close, 14) < 55")
    w.run_scan()
    first = set(w.result.symbols)
    assert not w.diff_label.isVisible() or "New" not in w.diff_label.text()
    _typed(w, qtbot, "rsi(close, 14) < 45")  # another filter: not compared with the first one
    w.run_scan()
    assert set(w.result.symbols) < first  # the stricter filter matches fewer ...
    assert w.dropped == () and w.new == ()  # ... which is not "dropped since the last run"
    _typed(w, qtbot, "rsi(close, 14) < 55")  # the first filter again: compared with its own run
    w.run_scan()
    assert w.new == () and w.dropped == () and "Same symbols" in w.diff_label.text()
    tinted = {w.model.rows[r].symbol for r in range(w.model.rowCount())
              if w.model.index(r, 0).data(Qt.ItemDataRole.BackgroundRole) == NEW_TINT}
    assert tinted == set()
    w.set_universe("watchlist", "Tech")  # another universe: nothing of the demo runs is "new"
    w.run_scan()
    assert w.new == () and w.dropped == ()


def test_first_run_compares_with_the_stored_previous_run(db, qtbot):
    w = _make(db, qtbot)
    w.set_universe("demo")
    w.load_preset("Oversold RSI")
    w.run_scan()
    # the store remembers the run: a new dock (next session) compares with it
    ScanStore(db).save_run("Oversold RSI", "Demo universe", "rsi(close, 14) < 30", ["ZZZZ"],
                           dt.datetime.now(dt.timezone.utc))
    w2 = _make(db, qtbot)
    w2.set_universe("demo")
    w2.load_preset("Oversold RSI")
    w2.run_scan()
    assert "ZZZZ" in w2.dropped and "ZZZZ" in w2.diff_label.text()


def test_presets_load_edit_save_as_and_delete(db, qtbot):
    w = _make(db, qtbot)
    w.load_preset("Volume spike")
    assert w.formula_edit.text() == "volume > 2 * sma(volume, 20)"
    assert not w.delete_preset_btn.isEnabled()  # built-in
    assert w.current_definition().name == "Volume spike"
    _typed(w, qtbot, "volume > 1.5 * sma(volume, 20)")
    assert "Edited" in w.description.text() and w.current_definition().name == ""
    assert w.save_preset_as("Volume spike") is False  # a built-in's name is refused …
    assert "built-in" in w.error_label.text()
    assert w.save_preset_as("Mild volume spike") is True  # … "save as" works
    assert w.preset_box.currentData() == "Mild volume spike" and w.delete_preset_btn.isEnabled()
    assert ScanStore(db).get_preset("Mild volume spike").filter == "volume > 1.5 * sma(volume, 20)"
    w.delete_preset_btn.click()
    assert w.preset_box.findData("Mild volume spike") < 0
    assert all(p.name != "Mild volume spike" for p in ScanStore(db).presets())


def test_add_selected_to_watchlist_and_export_csv(db, qtbot, tmp_path):
    w = _make(db, qtbot)
    w.set_universe("demo")
    _typed(w, qtbot, "close > 0")
    w.run_scan()
    w.table.selectRow(0)
    w.table.selectionModel().select(w.proxy.index(3, 0), w.table.selectionModel().SelectionFlag.Select
                                    | w.table.selectionModel().SelectionFlag.Rows)
    picked = w.selected_symbols()
    assert len(picked) == 2 and w.add_to_watchlist_btn.isEnabled()
    with qtbot.waitSignal(w.added_to_watchlist):
        assert w.add_selected_to_watchlist("Picks") == 2
    assert w.watchlists.symbols("Picks") == picked
    assert w.universe_box.findData("watchlist:Picks") >= 0  # the new list is a universe now
    out = tmp_path / "scan.csv"
    w.export_csv(str(out))
    rows = list(csv.DictReader(out.open()))
    assert [r["symbol"] for r in rows] == sorted(SYMBOLS)
    assert float(rows[0]["close"]) == pytest.approx(float(w.data.get_bars(rows[0]["symbol"]).close[-1]))


def test_formula_columns_can_be_added_and_hidden(db, qtbot):
    w = _make(db, qtbot)
    w.set_universe("watchlist", "Tech")
    _typed(w, qtbot, "close > 0")
    with pytest.raises(ValueError, match="column"):
        w.add_column("rsii(close)")
    w.add_column("rsi(close, 14)")
    w.run_scan()
    assert w.model.headers()[-1] == "rsi(close, 14)"
    sym = w.model.rows[0].symbol
    want = parse("rsi(close, 14)").evaluate(w.data.get_bars(sym))[-1]
    assert float(w.model.index(0, len(ScanResultModel.FIXED)).data()) == pytest.approx(want, abs=0.006)
    w.set_column_visible("Volume", False)
    assert w.table.isColumnHidden(4)


def test_universe_choices(db, qtbot):
    w = _make(db, qtbot)
    items = [w.universe_box.itemText(i) for i in range(w.universe_box.count())]
    assert items == ["Watchlist: Tech", "Demo universe", "All imported symbols", "S&P 500", "Nasdaq-100"]
    w.set_universe("bundled", "sp500")
    u = w.universe_resolver()()
    assert u.kind == "bundled" and len(u) > 450 and "AAPL" in u.symbols
    w.set_universe("imported")
    assert w.universe_resolver()().symbols == tuple(SYMBOLS[:3])


def test_schedule_arms_a_timer_and_rescans(db, qtbot):
    now = dt.datetime(2026, 11, 23, 14, 59, 30, tzinfo=dt.timezone.utc)
    tasks = SyncTasks()
    w = _make(db, qtbot, tasks=tasks, clock=lambda: now)
    _typed(w, qtbot, "close > 0")
    w.set_schedule("1min")
    assert w.next_run == dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.timezone.utc)
    assert w.schedule_timer.isActive() and 29_000 <= w.schedule_timer.remainingTime() <= 30_100
    assert w.next_run_label.text().startswith("next run")
    w.schedule_timer.timeout.emit()  # the minute has come
    assert [label for label in tasks.labels if label.startswith("Scan")] == ["Scan: close > 0"]
    assert w.result is not None and w.status.text().startswith("8 of 8 match")
    assert w.result.ran_at == now  # runs are stamped with the dock's clock
    assert w.schedule_timer.isActive()  # armed again
    w.set_schedule("after_close")
    # 16:10 New York on Monday 2026-11-23 is 21:10 UTC
    assert w.next_run == dt.datetime(2026, 11, 23, 21, 10, tzinfo=dt.timezone.utc)
    w.set_schedule(None)
    assert not w.schedule_timer.isActive() and w.next_run_label.text() == ""


def test_cancel_during_a_run(db, qtbot):
    from app.workers import TaskRunner

    runner = TaskRunner()
    data = SlowData(delay=0.05)
    w = _make(db, qtbot, data=data, tasks=runner)
    w.set_universe("demo")
    _typed(w, qtbot, "close > 0")
    w.run_btn.click()
    assert w.running and w.cancel_btn.isEnabled() and not w.run_btn.isEnabled()
    qtbot.waitUntil(lambda: w.progress.value() >= 2, timeout=20000)
    with qtbot.waitSignal(w.scan_cancelled, timeout=20000):
        w.cancel_btn.click()
    assert w.result is None and "cancelled" in w.status.text().lower()
    assert not w.running and w.run_btn.isEnabled() and not w.cancel_btn.isEnabled()
    assert len(data.calls) < len(SYMBOLS)  # it really stopped early
    # and the dock still works afterwards
    data.delay = 0
    with qtbot.waitSignal(w.scan_finished, timeout=10000):
        w.run_btn.click()
    qtbot.waitUntil(lambda: not runner.active, timeout=20000)
    assert len(w.result.rows) == len(SYMBOLS)
    assert np.isfinite(w.result.rows[0].close)


def test_a_universe_that_cannot_be_loaded_says_why(db, qtbot):
    class DemoOnly(UniverseData):
        def get_bars(self, symbol, timeframe="1d", refresh=False):
            if symbol not in SYMBOLS:
                raise ValueError(f"demo mode knows only the demo symbols, not {symbol}")
            return super().get_bars(symbol, timeframe, refresh)

    w = _make(db, qtbot, data=DemoOnly())
    w.set_universe("bundled", "nasdaq100")
    _typed(w, qtbot, "close > 0")
    w.run_scan()
    assert w.result.rows == () and w.result.scanned == 0
    assert w.status.text().startswith("None of the ")
    assert "demo mode knows only the demo symbols" in w.status.text()
    assert "AAPL: demo mode" in w.status.toolTip()


def test_a_condition_preset_round_trips_into_rows(db, qtbot):
    w = _make(db, qtbot)
    w.tabs.setCurrentIndex(1)
    a = w.add_condition()
    a.left.setText("rsi(close, 14)")
    a.right.setText("30")
    b = w.add_condition()
    b.left.setText("close")
    b.op.setCurrentIndex(b.op.findData("crosses_above"))
    b.right.setText("sma(close, 50)")
    w.join_box.setCurrentIndex(w.join_box.findData("or"))
    assert w.save_preset_as("Dip or breakout")
    w2 = _make(db, qtbot)
    w2.load_preset("Dip or breakout")
    assert w2.tabs.currentIndex() == 1 and w2.join_box.currentData() == "or"
    assert [r.condition() for r in w2.condition_rows] == [r.condition() for r in w.condition_rows]
    assert w2.preset_box.currentText() == "★ Dip or breakout" and w2.run_btn.isEnabled()
    # the row's remove button drops it
    w2.condition_rows[1].remove.click()
    assert len(w2.condition_rows) == 1
    assert w2.current_filter().to_formula() == "(rsi(close, 14)) < (30)"


def test_restore_state_skips_what_no_longer_applies(db, qtbot):
    w = _make(db, qtbot)
    w.restore_state({
        "universe": "watchlist:Deleted list", "preset": "A preset someone deleted",
        "filter": {"not": "a filter"}, "tab": 7, "columns": ["rsi(close)", 42], "schedule": "hourly",
    })
    assert w.universe_box.currentIndex() == 0  # unknown universe: left as it was
    assert w.preset_box.currentData() is None
    assert w.extra_columns == ["rsi(close)"]
    assert w.schedule is None
    w.restore_state({"universe": "demo:", "filter": "close > 1", "tab": 0})
    assert w.universe_box.currentData() == "demo:" and w.formula_edit.text() == "close > 1"
    assert w.state()["filter"] == "close > 1"


def test_volume_is_written_one_way_in_the_whole_column(db, qtbot):
    """Was "1.53M" next to "396,465": volumes from 10,000 up are compact with 2 decimals."""
    w = _make(db, qtbot)
    w.set_universe("demo")
    _typed(w, qtbot, "close > 0")
    w.run_scan()
    col = w.model.column_of("volume")
    for r in range(w.model.rowCount()):
        v = w.model.rows[r].volume
        text = w.model.index(r, col).data()
        assert text == fmt.volume(v)
        if v >= 10_000:
            assert text[-1] in "KMB" and "," not in text, text
    # sorted on the numbers, not on the text ("9.5K" > "10.2K" as text)
    w.table.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    shown = [w.table.row_at(r).volume for r in range(w.proxy.rowCount())]
    assert shown == sorted(shown, reverse=True)


def test_after_close_builds_the_calendar_in_a_worker_first(db, qtbot, monkeypatch):
    from tests.widgets.test_watchlist import DeferredTasks
    from widgets.scanner import schedule

    monkeypatch.setattr(schedule, "_WARM", set())
    now = dt.datetime(2026, 11, 23, 14, 59, 30, tzinfo=dt.timezone.utc)
    tasks = DeferredTasks()
    w = _make(db, qtbot, tasks=tasks, clock=lambda: now)
    w.set_schedule("after_close")
    # nothing computed on the GUI thread yet: the calendar job is queued
    assert [fn.__name__ for fn, _a, _k in tasks.queue] == ["_warm_calendar"]
    assert w.next_run is None and "finding" in w.next_run_label.text()
    tasks.run_all()
    assert w.next_run == dt.datetime(2026, 11, 23, 21, 10, tzinfo=dt.timezone.utc)
    assert w.schedule_timer.isActive() and w.next_run_label.text().startswith("next run")
    w.set_schedule(None)
    w.set_schedule("after_close")  # built once: no second job
    assert tasks.queue == [] and w.next_run is not None


def test_table_columns_survive_a_restart_and_csv_has_the_new_flag(db, qtbot, tmp_path):
    w = _make(db, qtbot)
    w.set_universe("demo")
    # an earlier run of the same filter on the same universe matched only S00
    ScanStore(db).save_run("close > 0", "Demo universe", "close > 0", ["S00"],
                           dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc))
    _typed(w, qtbot, "close > 0")
    w.add_column("rsi(close, 14)")
    w.run_scan()
    assert w.new
    w.set_column_visible("Volume", False)
    w.table.setColumnWidth(w.model.column_of("close"), 133)
    w.table.sortByColumn(w.model.column_of("rsi(close, 14)"), Qt.SortOrder.DescendingOrder)
    state = json.loads(json.dumps(w.state()))
    out = tmp_path / "scan.csv"
    w.export_csv(str(out))
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["symbol", "close", "change_pct", "volume", "new", "rsi(close, 14)"]
    assert {r["symbol"] for r in rows if r["new"] == "true"} == set(w.new)
    rsi = [float(r["rsi(close, 14)"]) for r in rows]
    assert rsi == sorted(rsi, reverse=True)  # the order shown
    assert all("," not in r["volume"] and "K" not in r["volume"] for r in rows)  # plain numbers

    w2 = _make(db, qtbot)
    w2.restore_state(state)
    w2.run_scan()
    assert w2.table.is_column_hidden("volume")
    assert w2.table.columnWidth(w2.model.column_of("close")) == 133
    assert w2.table.horizontalHeader().sortIndicatorSection() == w2.model.column_of("rsi(close, 14)")


def test_index_universes_are_disabled_with_a_reason_in_demo_mode(db, qtbot):
    from widgets.scanner.dock import BUNDLED_NEEDS_YAHOO

    data = UniverseData(source="demo")
    w = _make(db, qtbot, data=data)
    model = w.universe_box.model()
    i = w.universe_box.findData("bundled:sp500")
    assert not model.item(i).isEnabled() and "needs Yahoo Finance" in model.item(i).toolTip()
    assert "Settings → Data source" in BUNDLED_NEEDS_YAHOO
    assert model.item(w.universe_box.findData("demo:")).isEnabled()
    data.source = "yahoo"  # the source changed: the index lists can be scanned
    w.reload_universes()
    assert model.item(w.universe_box.findData("bundled:nasdaq100")).isEnabled()


def test_a_preset_fills_the_condition_rows_and_opening_the_tab_changes_nothing(db, qtbot):
    w = _make(db, qtbot)
    w.load_preset("Oversold RSI")
    assert [r.condition() for r in w.condition_rows] == [Condition("rsi(close, 14)", "<", "30")]
    assert w.run_btn.isEnabled()
    w.tabs.setCurrentIndex(1)  # only looking at the other tab
    assert "Edited" not in w.description.text() and w.run_btn.isEnabled()
    assert w.current_definition().name == "Oversold RSI" and not w.conditions_note.isVisible()
    w.tabs.setCurrentIndex(0)
    w.tabs.setCurrentIndex(1)
    assert "Edited" not in w.description.text()
    w.condition_rows[0].right.setText("25")  # a real edit
    assert "Edited" in w.description.text() and w.current_definition().name == ""
    assert w.formula_edit.text() == "(rsi(close, 14)) < (25)"  # both tabs show the same filter


def test_a_formula_preset_rows_cannot_express_says_so_on_the_conditions_tab(db, qtbot):
    w = _make(db, qtbot)
    w.show()
    w.load_preset("Volume spike")
    w.formula_edit.setText("not (rsi(close, 14) < 30)")  # no rows can say this
    w.tabs.setCurrentIndex(1)
    assert w.condition_rows == [] and w.conditions_note.isVisible()
    assert "cannot be shown as condition rows" in w.conditions_note.text()
    assert w.run_btn.isEnabled() and w.current_filter() == "not (rsi(close, 14) < 30)"


def test_a_new_condition_row_is_visibly_empty_and_ignored_until_filled(db, qtbot):
    w = _make(db, qtbot)
    w.load_preset("Oversold RSI")
    w.tabs.setCurrentIndex(1)
    row = w.add_condition()
    assert row.left.text() == "" and row.left.font().italic() and "choose" in row.left.placeholderText()
    assert "Edited" not in w.description.text() and w.run_btn.isEnabled()  # ignored: not yet a condition
    assert w.current_definition().name == "Oversold RSI"
    row.left.setText("close")
    assert not row.left.font().italic()
    assert not w.run_btn.isEnabled() and "Condition 2: the right side is empty" in w.error_label.text()
    row.right.setText("0")
    assert w.run_btn.isEnabled() and "Edited" in w.description.text()
