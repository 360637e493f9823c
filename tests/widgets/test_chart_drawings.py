"""Drawings on the chart: place, move, undo/redo, delete, magnet, restart, other timeframes."""
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from engine.charts.drawings import Drawing, DrawingStore, time_to_x
from engine.data.bars import Bars
from engine.store import open_database
from tests.widgets.stubs import FakeData, SyncTasks, make_bars
from widgets.chart import ChartWidget


def _chart(qtbot, store=None, data=None):
    w = ChartWidget(data or FakeData(), SyncTasks())
    qtbot.addWidget(w)
    if store is not None:
        w.set_drawing_store(store)
    w.resize(1000, 650)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def chart(qtbot):
    w = _chart(qtbot)
    w.open_symbol("ABC")
    return w


def _pos(chart, x, price):
    """Viewport pixel of bar index ``x`` at ``price`` on the price pane."""
    scene = chart.price_pane.vb.mapViewToScene(QPointF(x, float(chart._fwd(np.array([price]))[0])))
    return chart.price_pane.view.mapFromScene(scene)


def _mouse(chart, kind, pos, buttons=Qt.MouseButton.LeftButton):
    vp = chart.price_pane.view.viewport()
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    ev = QMouseEvent(kind, QPointF(pos), QPointF(vp.mapToGlobal(pos)), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, ev)


def _click(chart, pos):
    _mouse(chart, QEvent.Type.MouseButtonPress, pos)
    _mouse(chart, QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.NoButton)


def _drag(chart, a, b):
    _mouse(chart, QEvent.Type.MouseButtonPress, a)
    for k in range(1, 5):
        _mouse(chart, QEvent.Type.MouseMove, a + (b - a) * k / 4)
    _mouse(chart, QEvent.Type.MouseButtonRelease, b, Qt.MouseButton.NoButton)


def _key(qtbot, chart, key, mods=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(chart.price_pane.view, key, mods)


def _mid_price(chart, i0, i1):
    s = chart.shown
    return float((s.high[i0:i1].max() + s.low[i0:i1].min()) / 2)


def test_two_clicks_place_a_trend_line_then_move_undo_redo_delete(chart, qtbot):
    layer = chart.drawings
    s = chart.shown
    price = _mid_price(chart, 200, 290)
    layer.set_tool("trend")
    _click(chart, _pos(chart, 220, price))
    assert len(layer.set) == 0 and layer._preview is not None  # one anchor placed, a preview follows
    _click(chart, _pos(chart, 260, price * 1.01))
    assert len(layer.set) == 1 and layer.tool is None
    d = next(iter(layer.set))
    assert d.kind == "trend"
    assert d.points[0].time == pytest.approx(s.time[220], abs=0.4 * 86400)  # anchored in time, not bar index
    assert d.points[1].price == pytest.approx(price * 1.01, rel=2e-3)

    # drag the line's body by 10 bars
    a = _pos(chart, 240, price * 1.005)
    b = _pos(chart, 250, price * 1.005)
    _drag(chart, a, b)
    moved = layer.set.get(d.id)
    assert moved.points[0].time == pytest.approx(s.time[230], abs=0.4 * 86400)
    assert moved.points[1].time == pytest.approx(s.time[270], abs=0.4 * 86400)
    assert moved.points[0].price == pytest.approx(d.points[0].price, rel=2e-3)

    _key(qtbot, chart, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert layer.set.get(d.id) == d
    _key(qtbot, chart, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert layer.set.get(d.id) == moved

    layer.select(d.id)
    _key(qtbot, chart, Qt.Key.Key_Delete)
    assert len(layer.set) == 0
    _key(qtbot, chart, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert layer.set.get(d.id) == moved


def test_dragging_a_handle_moves_only_that_anchor(chart):
    layer = chart.drawings
    price = _mid_price(chart, 200, 290)
    d = layer.add(Drawing.create("trend", [(int(chart.shown.time[220]), price), (int(chart.shown.time[260]), price)]))
    _drag(chart, _pos(chart, 260, price), _pos(chart, 280, price * 1.02))
    got = layer.set.get(d.id)
    assert got.points[0] == d.points[0]
    assert got.points[1].time == pytest.approx(chart.shown.time[280], abs=0.4 * 86400)
    assert got.points[1].price == pytest.approx(price * 1.02, rel=2e-3)


def test_a_locked_drawing_does_not_move_or_delete(chart, qtbot):
    layer = chart.drawings
    price = _mid_price(chart, 200, 290)
    d = layer.add(Drawing.create("hline", [(int(chart.shown.time[230]), price)]))
    layer.toggle_lock()
    _drag(chart, _pos(chart, 240, price), _pos(chart, 240, price * 1.03))
    _key(qtbot, chart, Qt.Key.Key_Delete)
    assert layer.set.get(d.id).points == d.points and layer.set.get(d.id).locked


def test_magnet_snaps_to_the_bars_high(chart):
    layer = chart.drawings
    s = chart.shown
    layer.set_magnet(True)
    layer.set_tool("hline")
    i = 250
    _click(chart, _pos(chart, i + 0.2, float(s.high[i]) * 1.002))  # near the high, a little off
    d = next(iter(layer.set))
    assert d.points[0].price == float(s.high[i])
    assert d.points[0].time == int(s.time[i])


def test_without_magnet_the_click_price_is_kept(chart):
    layer = chart.drawings
    s = chart.shown
    layer.set_tool("hline")
    target = float(s.high[250]) * 1.002
    _click(chart, _pos(chart, 250, target))
    assert next(iter(layer.set)).points[0].price != float(s.high[250])


def test_drawings_survive_a_restart(qtbot, tmp_path):
    path = tmp_path / "store.sqlite"
    db = open_database(path)
    c1 = _chart(qtbot, DrawingStore(db))
    c1.open_symbol("ABC")
    price = _mid_price(c1, 200, 290)
    c1.drawings.set_tool("rectangle")
    _click(c1, _pos(c1, 210, price))
    _click(c1, _pos(c1, 240, price * 1.02))
    placed = list(c1.drawings.set)
    assert len(placed) == 1
    c1.close()
    db.dispose()

    db2 = open_database(path)
    c2 = _chart(qtbot, DrawingStore(db2))
    c2.open_symbol("ABC")
    assert list(c2.drawings.set) == placed
    c2.open_symbol("XYZ")  # another symbol has its own (none)
    assert len(c2.drawings.set) == 0
    db2.dispose()


def test_a_drawing_shows_on_another_timeframe_at_the_same_time_and_price(qtbot):
    daily = make_bars("ABC", n=120)
    weekly_t = daily.time[::5]
    weekly = Bars.from_arrays("ABC", "1wk", weekly_t, daily.open[::5], daily.high[::5], daily.low[::5],
                              daily.close[::5], daily.volume[::5], "csv")
    c = _chart(qtbot)
    c.set_bars(daily)
    t, price = int(daily.time[60]), float(daily.close[60])
    d = c.drawings.add(Drawing.create("trend", [(t, price), (int(daily.time[100]), price * 1.05)]))
    assert c.drawings.xy(d.points[0])[0] == pytest.approx(60.0)
    c.set_bars(weekly)
    assert list(c.drawings.set) == [d]  # same symbol: the drawing stays
    x, y = c.drawings.xy(d.points[0])
    assert x == pytest.approx(12.0)  # daily bar 60 is weekly bar 12
    assert y == pytest.approx(price)
    assert c.drawings.xy(d.points[1])[0] == pytest.approx(time_to_x(weekly_t, daily.time[100]))
    # and it is painted there: the pixels along the line differ from a chart without it
    c.price.setXRange(0, len(weekly), padding=0)
    with_line = c.glw.grab().toImage()
    c.drawings.set.delete(d.id)
    without = c.glw.grab().toImage()
    assert with_line != without


def test_editor_restyles_and_refuses_bad_values(chart, qtbot):
    layer = chart.drawings
    price = _mid_price(chart, 200, 290)
    d = layer.add(Drawing.create("fib_retracement", [(int(chart.shown.time[210]), price),
                                                     (int(chart.shown.time[250]), price * 1.05)]))
    ed = layer.open_editor(d.id)
    ed.levels.setText("0, 0.5, banana")
    ed.accept()
    assert "numbers" in ed.error.text() and ed.isVisible()
    ed.levels.setText("0, 0.5, 1")
    ed.color.setText("#ff0000")
    ed.accept()
    got = layer.set.get(d.id)
    assert got.levels == (0.0, 0.5, 1.0) and got.style.color == "#ff0000"
    layer.undo()
    assert layer.set.get(d.id) == d


def test_a_bad_stored_drawing_is_skipped_and_the_chart_opens(qtbot, tmp_path):
    db = open_database(tmp_path / "s.sqlite")
    good = Drawing.create("vline", [(1_600_000_000 // 86400 * 86400 + 86400 * 250, 1.0)])
    DrawingStore(db).save("ABC", [good])
    with db.connect() as con:
        con.execute("INSERT INTO chart_drawings(id, symbol, seq, definition, updated_at) "
                    "VALUES ('bad', 'ABC', 1, '{\"kind\": \"trend\", \"points\": 7}', 0)")
    c = _chart(qtbot, DrawingStore(db))
    c.open_symbol("ABC")
    assert list(c.drawings.set) == [good]
    assert len(c.drawings.warnings) == 1
    db.dispose()
