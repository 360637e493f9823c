from PySide6.QtCore import Qt

from engine.events import EventBus
from engine.watchlists import WatchlistService
from tests.widgets.stubs import FakeData, SyncTasks
from widgets.watchlist import WatchlistWidget


class DeferredTasks(SyncTasks):
    """Holds submitted work until run_all(), like a worker that has not finished yet."""

    def __init__(self):
        super().__init__()
        self.queue = []

    def submit(self, fn, *args, **kwargs):
        self.queue.append((fn, args, kwargs))
        return self

    def run_all(self):
        queue, self.queue = self.queue, []
        for fn, args, kwargs in queue:
            SyncTasks.submit(self, fn, *args, **kwargs)


def _widget(db, qtbot, tasks):
    svc = WatchlistService(db, EventBus())
    svc.create("Tech", ["AAA", "BBB"])
    w = WatchlistWidget(svc, FakeData(), tasks)
    qtbot.addWidget(w)
    return w, svc


def test_quotes_show_last_close_change_and_volume(db, qtbot):
    w, _ = _widget(db, qtbot, SyncTasks())
    data = FakeData()
    bars = data.get_bars("AAA")
    row = w.model.rows[0]
    assert row.symbol == "AAA" and row.last == bars.close[-1]
    assert abs(row.change_pct - (bars.close[-1] / bars.close[-2] - 1) * 100) < 1e-12
    assert w.model.data(w.model.index(0, 3)) is not None


def test_add_and_remove_symbols_from_the_widget(db, qtbot):
    w, svc = _widget(db, qtbot, SyncTasks())
    qtbot.keyClicks(w.add_edit, "ccc, ddd")
    qtbot.keyClick(w.add_edit, Qt.Key.Key_Return)
    assert svc.symbols("Tech") == ["AAA", "BBB", "CCC", "DDD"] and w.symbols() == svc.symbols("Tech")
    w.table.selectRow(0)
    w._on_remove()
    assert svc.symbols("Tech") == ["BBB", "CCC", "DDD"]


def test_a_change_announced_twice_computes_quotes_once(db, qtbot):
    tasks = DeferredTasks()
    w, svc = _widget(db, qtbot, tasks)
    tasks.run_all()
    svc.add("Tech", ["CCC"])
    w.refresh()          # the widget's own refresh after adding ...
    w.reload_lists()     # ... and the WatchlistChanged event that follows it
    assert len(tasks.queue) == 1
    tasks.run_all()
    assert [r.symbol for r in w.model.rows] == ["AAA", "BBB", "CCC"] and w.model.rows[2].last > 0
    w.refresh()          # once finished, a later change is computed again
    assert len(tasks.queue) == 1


def test_quotes_use_the_app_formats_and_sort_on_numbers(db, qtbot):
    from engine import formatting as fmt

    svc = WatchlistService(db, EventBus())
    svc.create("Many", ["AAA", "BBB", "CCC", "DDD", "UNKNOWN"])
    w = WatchlistWidget(svc, FakeData(), SyncTasks())
    qtbot.addWidget(w)
    rows = {r.symbol: r for r in w.model.rows}
    i = w.symbols().index("AAA")
    assert w.model.index(i, 1).data() == fmt.price(rows["AAA"].last)
    assert w.model.index(i, 3).data() == fmt.volume(rows["AAA"].volume)
    assert w.model.index(i, 3).data()[-1] in "KM"  # FakeData volumes are 1,000..100,000
    bad = w.symbols().index("UNKNOWN")
    assert w.model.index(bad, 1).data() == "error" and w.model.index(bad, 2).data() == "—"
    assert "Unknown symbol" in w.model.index(bad, 0).data(Qt.ItemDataRole.ToolTipRole)
    w.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)
    shown = [w.table.row_at(r) for r in range(w.proxy.rowCount())]
    vols = [r.volume for r in shown if not r.error]
    assert vols == sorted(vols) and shown[-1].symbol == "UNKNOWN"  # the failed row (no volume) last


def test_state_keeps_the_list_and_the_columns(db, qtbot):
    w, svc = _widget(db, qtbot, SyncTasks())
    w.table.set_column_hidden("volume", True)
    state = w.state()
    w2 = WatchlistWidget(svc, FakeData(), SyncTasks())
    qtbot.addWidget(w2)
    w2.restore_state(state)
    assert state["list"] == "Tech" and w2.table.isColumnHidden(3)
    w2.table.selectRow(0)
    assert w2.table.copy_text().splitlines()[0] == "Symbol\tLast\tChg %"
