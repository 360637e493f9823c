import numpy as np
import pytest

from tests.widgets.stubs import FakeData, SyncTasks, make_bars
from widgets.chart import ChartWidget, OhlcItem, _aggregate


@pytest.fixture
def chart(qtbot):
    w = ChartWidget(FakeData(), SyncTasks())
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    return w


def test_open_symbol_loads_bars_and_shows_last_bar(chart, qtbot):
    with qtbot.waitSignal(chart.bars_loaded, timeout=2000) as sig:
        chart.open_symbol("abc")
    bars = sig.args[0]
    assert bars.symbol == "ABC" and len(bars) == 300
    assert chart.title.text().startswith("ABC")
    assert f"C {bars.close[-1]:.2f}" in chart.info.text()
    assert not chart.demo_badge.isVisibleTo(chart)
    # the view starts on the most recent bars
    x0, x1 = chart.price.getViewBox().viewRange()[0]
    assert x0 < len(bars) - 1 < x1


def test_demo_bars_show_the_demo_badge(qtbot):
    w = ChartWidget(FakeData(source="demo"), SyncTasks())
    qtbot.addWidget(w)
    w.show()
    w.open_symbol("ACME")
    assert w.demo_badge.isVisibleTo(w)
    assert "demo" in w.title.text()


def test_load_error_is_shown_not_swallowed(chart, qtbot):
    with qtbot.waitSignal(chart.load_failed, timeout=2000) as sig:
        chart.open_symbol("UNKNOWN")
    assert "Unknown symbol" in sig.args[0]
    assert "no data" in chart.title.text()
    assert "Unknown symbol" in chart.message.textItem.toPlainText()


def test_aggregate_matches_explicit_groups():
    b = make_bars(n=10)
    starts, o, h, l, c = _aggregate(b.open, b.high, b.low, b.close, 4)
    assert list(starts) == [0, 4, 8]
    assert o[1] == b.open[4] and c[1] == b.close[7] and c[2] == b.close[9]
    assert h[1] == b.high[4:8].max() and l[2] == b.low[8:10].min()


def test_candles_render_in_detail_and_lod(chart, qtbot):
    big = make_bars(n=50_000)
    chart.set_bars(big)
    img_detail = chart.glw.grab().toImage()
    assert chart.candles._visible()[2] == 1  # 250 bars visible: one candle per bar
    chart.price.setXRange(0, len(big), padding=0)
    qtbot.wait(50)
    i0, i1, k = chart.candles._visible()
    assert k > 1 and i1 - i0 <= len(big) + 256  # LOD: aggregated, whole range
    img_lod = chart.glw.grab().toImage()
    assert img_detail != img_lod


def test_dataBounds_follow_the_visible_range():
    item = OhlcItem()
    b = make_bars(n=100)
    item.set_data(b.open, b.high, b.low, b.close)
    lo, hi = item.dataBounds(1, orthoRange=(10, 20))
    assert lo == pytest.approx(b.low[10:21].min()) and hi == pytest.approx(b.high[10:21].max())


def test_click_on_price_pane_reports_price(chart, qtbot):
    chart.open_symbol("ABC")
    got = []
    chart.price_clicked.connect(got.append)
    vb = chart.price.getViewBox()
    y_mid = sum(vb.viewRange()[1]) / 2

    class Ev:
        def button(self):
            from PySide6.QtCore import Qt
            return Qt.MouseButton.LeftButton

        def scenePos(self):
            from PySide6.QtCore import QPointF
            x_mid = sum(vb.viewRange()[0]) / 2
            return vb.mapViewToScene(QPointF(x_mid, y_mid))

    chart._on_scene_clicked(Ev())
    assert got and got[0] == pytest.approx(y_mid, abs=0.01)


def test_overlays_and_markers(chart):
    chart.open_symbol("ABC")
    chart.set_overlay("SMA 20", lambda b: np.convolve(b.close, np.ones(20) / 20, "same"))
    assert "SMA 20" in chart._overlays
    chart.set_markers([(10, 101.0, "buy"), (20, 99.0, "sell")])
    assert len(chart.markers.data) == 2
    chart.set_overlay("SMA 20", None)
    assert "SMA 20" not in chart._overlays
