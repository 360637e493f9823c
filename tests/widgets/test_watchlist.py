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
