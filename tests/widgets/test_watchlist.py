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


def _offline(**kwargs):
    raise OSError("Network is unreachable (test stub: no test reaches Yahoo)")


def test_yahoo_offline_shows_the_last_cached_values_marked_offline_never_nan(db, qtbot):
    import pandas as pd

    from engine.data.service import RECHECK_S, DataService
    from engine.data.yahoo import YahooProvider

    answers = []

    def download(**kwargs):
        return answers.pop(0)(**kwargs) if answers else _offline()

    idx = pd.DatetimeIndex(["2024-01-02", "2024-01-03"], name="Date")
    frame = pd.DataFrame({"Open": [10.0, 11.0], "High": [10.5, 12.0], "Low": [9.5, 10.8],
                          "Close": [10.0, 11.0], "Volume": [1000.0, 2000.0]}, index=idx)
    answers.append(lambda **kw: frame)
    now = [1_767_225_600.0]  # 2026-01-01: the cached bars are old, a top-up is due
    data = DataService(db, source="yahoo", bus=EventBus(),
                       yahoo=YahooProvider(download, clock=lambda: now[0], sleep=lambda s: None,
                                           now=lambda: now[0]))
    data.clock = lambda: now[0]
    assert data.get_bars("AAA").close.tolist() == [10.0, 11.0]  # cached while online
    now[0] += RECHECK_S + 1  # later, offline

    svc = WatchlistService(db, EventBus())
    svc.create("Tech", ["AAA", "BBB"])  # BBB was never fetched: nothing cached
    w = WatchlistWidget(svc, data, SyncTasks())
    qtbot.addWidget(w)
    m = w.model
    texts = [[m.data(m.index(r, c)) for c in range(4)] for r in range(2)]
    assert not any("nan" in t.lower() for row in texts for t in row), texts
    assert texts[0][:3] == ["AAA", "11.00", "+10.00%"]
    assert texts[1][1] == "offline" and "error" not in texts[1]
    assert m.data(m.index(0, 1), Qt.ItemDataRole.ToolTipRole) == "offline — last cached value from 2024-01-03"
    assert m.data(m.index(1, 1), Qt.ItemDataRole.ToolTipRole).startswith("offline — no cached value yet")
    assert m.data(m.index(0, 1), Qt.ItemDataRole.FontRole).italic()
    from PySide6.QtGui import QGuiApplication, QPalette

    muted = QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)
    assert m.data(m.index(0, 2), Qt.ItemDataRole.ForegroundRole) == muted  # not the green of a rise


def test_demo_mode_refuses_an_unknown_symbol_and_says_why(db, qtbot):
    from engine.data.service import DataService

    data = DataService(db, source="demo", bus=EventBus())
    svc = WatchlistService(db, EventBus())
    svc.create("Mine")
    w = WatchlistWidget(svc, data, SyncTasks())
    qtbot.addWidget(w)
    demo = data.demo_symbols()[0]
    qtbot.keyClicks(w.add_edit, f"zzzz {demo.lower()}")
    qtbot.keyClick(w.add_edit, Qt.Key.Key_Return)
    assert svc.symbols("Mine") == [demo]  # the known one is added, ZZZZ is not
    assert "ZZZZ is not a demo symbol" in w.add_status.text() and w.add_status.isVisibleTo(w)
    assert w.add_edit.text() == f"zzzz {demo.lower()}"  # kept, to correct it
    assert w.symbols() == [demo]


def test_yahoo_offline_accepts_a_symbol_with_a_warning_that_it_was_not_checked(db, qtbot):
    from engine.data.service import DataService
    from engine.data.yahoo import YahooProvider

    data = DataService(db, source="yahoo", bus=EventBus(),
                       yahoo=YahooProvider(_offline, clock=lambda: 0.0, sleep=lambda s: None,
                                           now=lambda: 1_767_225_600.0))
    check = data.check_symbol("msft")
    assert check.ok and check.symbol == "MSFT" and "could not be checked" in check.message
    assert not data.check_symbol("not a symbol").ok
