"""Timeframe labels follow TradingView (1m 5m 15m 1h D W M); the ids stay as stored."""
from engine.data.bars import TIMEFRAMES, timeframe_label
from tests.widgets.stubs import FakeData, SyncTasks
from widgets.chart import ChartWidget


def test_labels_never_read_1m_as_a_month():
    assert [timeframe_label(t) for t in ("1m", "5m", "15m", "60m", "1h", "1d", "1wk", "1mo")] == [
        "1m", "5m", "15m", "1h", "1h", "D", "W", "M"]
    assert all(timeframe_label(t) for t in TIMEFRAMES)
    assert timeframe_label("3d") == "3d"  # unknown ids shown as they are


def test_the_chart_toolbar_shows_labels_in_order_and_keeps_the_ids(qtbot):
    w = ChartWidget(FakeData(), SyncTasks())
    qtbot.addWidget(w)
    box = w.tf_box
    assert [box.itemText(i) for i in range(box.count())] == ["1m", "5m", "15m", "30m", "1h", "4h", "D", "W", "M"]
    assert box.currentText() == "D" and w.timeframe == "1d"
    w.open_symbol("AAA")
    assert "·  D" in w.title.text()
    box.setCurrentIndex(box.findText("W"))
    assert w.timeframe == "1wk" and w.bars.timeframe == "1wk" and w.state()["timeframe"] == "1wk"
    box.setCurrentIndex(box.findText("1h"))
    assert w.timeframe == "60m" and "·  1h" in w.title.text()
    w.open_symbol("BBB", "1d")
    assert box.currentText() == "D" and w.timeframe == "1d"
    w.open_symbol("CCC", "2m")  # an imported timeframe not in the list is added with its label
    assert box.currentText() == "2m" and box.currentData() == "2m"
