"""Issue 11, fix first: flat bars, panes that fit their data, one pane per study, the
exchange's time zone, the readout at 1280×800, studies off the GUI thread."""
import numpy as np
import pytest
import talib
from PySide6.QtCore import QPointF, Qt

from engine.data.bars import Bars
from tests.widgets.stubs import FakeData, SyncTasks, make_bars
from widgets.chart import ChartWidget


def _chart(qtbot, data=None, tasks=None, size=(1280, 800)):
    w = ChartWidget(data or FakeData(), tasks or SyncTasks())
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    return w


def _flat_bars() -> Bars:
    b = make_bars(n=300)
    o, h, l, c = (a.copy() for a in (b.open, b.high, b.low, b.close))
    for i in (270, 271, 272):  # open = high = low = close (NUKAC 5m, 2026-10-28 18:05-18:15 UTC)
        o[i] = h[i] = l[i] = c[i] = c[269]
    return Bars.from_arrays("FLAT", "1d", b.time, o, h, l, c, b.volume, "csv")


def _drawn_rows(chart, i: int) -> list[int]:
    """Rows of the price canvas' pixel column at bar ``i`` painted in a candle colour."""
    from widgets import style
    img = chart.glw.grab().toImage()
    vb = chart.price.getViewBox()
    at = chart.glw.mapFromScene(vb.mapViewToScene(QPointF(i, chart.bars.close[i])))
    cols = {style.CHART.up.lower(), style.CHART.down.lower()}
    line = getattr(chart, "last_line", None)
    last = chart.glw.mapFromScene(vb.mapViewToScene(QPointF(i, line.value()))).y() if line else -99
    return [y for y in range(img.height()) if abs(y - last) > 2  # not the last-price line
            and img.pixelColor(at.x(), y).name().lower() in cols]


@pytest.mark.parametrize("kind", ["candles", "hollow", "ohlc"])
def test_a_flat_bar_is_a_hair_line(qtbot, kind):
    chart = _chart(qtbot)
    if kind != "candles":
        chart.set_chart_type(kind)
    chart.set_bars(_flat_bars())
    chart.price.setXRange(240, 290, padding=0)
    qtbot.wait(20)
    rows = _drawn_rows(chart, 271)
    assert rows, "the flat bar is not drawn at all"
    assert max(rows) - min(rows) + 1 <= 2  # was a block ±0.5 price units tall (~250 px here)
    assert len(_drawn_rows(chart, 265)) > 2  # a normal bar next to it still has a body


def test_every_pane_fits_its_data_after_a_symbol_switch(qtbot):
    big = make_bars("MASSV", seed=3)
    big = Bars.from_arrays("MASSV", "1d", big.time, big.open, big.high, big.low, big.close, big.volume * 1000, "csv")
    small = make_bars("HOOLI", seed=4)

    class Two:
        def get_bars(self, symbol, timeframe="1d", refresh=False):
            return big if symbol == "MASSV" else small

    chart = _chart(qtbot, Two())
    chart.open_symbol("MASSV")
    chart.open_symbol("HOOLI")
    x0, x1 = chart.price.getViewBox().viewRange()[0]
    vis = small.volume[max(0, int(np.ceil(x0))):int(x1) + 1]
    lo, hi = chart.vol.getViewBox().viewRange()[1]
    assert lo == pytest.approx(0.0, abs=1e-9)
    assert vis.max() <= hi <= vis.max() * 1.2  # HOOLI's bars fill the pane (were flat under MASSV's range)
    # pan and zoom: every pane follows what is visible
    chart.price.setXRange(10, 60, padding=0)
    plo, phi = chart.price.getViewBox().viewRange()[1]
    assert plo <= small.low[10:61].min() and phi >= small.high[10:61].max()
    assert phi - plo <= (small.high[10:61].max() - small.low[10:61].min()) * 1.3
    assert chart.vol.getViewBox().viewRange()[1][1] <= small.volume[10:61].max() * 1.2


def test_each_study_gets_its_own_pane_with_reference_levels(qtbot):
    chart = _chart(qtbot)
    chart.open_symbol("ACME")
    chart.set_overlay("rsi(close, 14)", lambda b: talib.RSI(b.close, 14))
    chart.set_overlay("macd_hist(close, 12, 26, 9)", lambda b: talib.MACD(b.close)[2])
    chart.set_overlay("sma(close, 20)", lambda b: talib.SMA(b.close, 20))
    assert chart.pane_order() == ["price", "volume", "rsi(close, 14)", "macd_hist(close, 12, 26, 9)"]
    rsi, macd = chart.panes["rsi(close, 14)"], chart.panes["macd_hist(close, 12, 26, 9)"]
    assert rsi.level_values() == [30.0, 70.0] and macd.level_values() == [0.0]
    assert chart.overlay_pane("sma(close, 20)") == "price"
    # own scales: the MACD histogram is not flattened by RSI's 0-100
    mlo, mhi = macd.vb.viewRange()[1]
    h = talib.MACD(chart.bars.close)[2]
    assert mhi - mlo < 10 * (np.nanmax(h) - np.nanmin(h)) and mhi - mlo < 20
    rlo, rhi = rsi.vb.viewRange()[1]
    assert rlo <= 30 and rhi >= 70
    # reorder and close
    chart.move_pane("macd_hist(close, 12, 26, 9)", -1)
    assert chart.pane_order()[2] == "macd_hist(close, 12, 26, 9)"
    assert chart.state()["pane_order"][2] == "macd_hist(close, 12, 26, 9)"
    chart.move_pane("rsi(close, 14)", -5)
    assert chart.pane_order()[:2] == ["price", "rsi(close, 14)"]  # the price pane stays on top
    rsi.close_btn.click()
    assert "rsi(close, 14)" not in chart.panes and chart.overlay_names() == ["macd_hist(close, 12, 26, 9)", "sma(close, 20)"]
    # the dates are under the lowest pane only
    lowest = chart.panes[chart.pane_order()[-1]]
    assert lowest.plot.getAxis("bottom").isVisible()
    assert not chart.price.getAxis("bottom").isVisible()


def test_study_panes_are_resizable(qtbot):
    chart = _chart(qtbot)
    chart.open_symbol("ACME")
    chart.set_overlay("rsi(close, 14)", lambda b: talib.RSI(b.close, 14))
    sizes = chart.splitter.sizes()
    assert len(sizes) == 3 and sizes[0] > sizes[2] > 0
    chart.splitter.setSizes([sizes[0] - 100, sizes[1], sizes[2] + 100])
    assert chart.panes["rsi(close, 14)"].height() >= sizes[2] + 90


def test_intraday_times_are_in_the_exchange_zone_and_labelled(qtbot):
    chart = _chart(qtbot)
    b = make_bars("ACME", n=400, timeframe="1m")  # 1600041600 = 2020-09-14 00:00 UTC, EDT
    t = b.time - b.time[0] + 1_600_041_600 + 13 * 3600 + 1800  # 13:30 UTC = 09:30 New York (EDT)
    chart.set_bars(Bars.from_arrays("ACME", "1m", t, b.open, b.high, b.low, b.close, b.volume, "csv"))
    assert chart.axis.tickStrings([0], 1.0, 1.0) == ["09-14 09:30"]
    chart._show_info(0)
    assert "2020-09-14 09:30 EDT" in chart.info.text()
    chart.set_time_zone("utc")
    assert chart.axis.tickStrings([0], 1.0, 1.0) == ["09-14 13:30"]
    chart._show_info(0)
    assert "13:30 UTC" in chart.info.text()
    with pytest.raises(ValueError):
        chart.set_time_zone("mars")


def test_the_readout_fits_at_1280x800_and_the_badge_does_not_cover_it(qtbot):
    # at 1280×800 the chart dock is about 800 px wide (the order ticket and watchlist beside it)
    chart = _chart(qtbot, FakeData(source="demo"), size=(800, 600))
    chart.set_formula_source(lambda text: None)  # the "+ Indicator" button takes room too
    chart.open_symbol("ACME")
    qtbot.wait(20)
    info, badge = chart.info, chart.demo_badge
    assert badge.isVisible()
    assert info.sizeHint().width() <= info.width()  # nothing cut off
    top_left = badge.mapTo(chart, badge.rect().topLeft())
    b_rect = badge.rect().translated(top_left)
    i_rect = info.rect().translated(info.mapTo(chart, info.rect().topLeft()))
    assert not b_rect.intersects(i_rect)


class DeferredTasks(SyncTasks):
    """Queues work; ``run_all()`` runs it (as the worker pool would, later and elsewhere)."""

    def __init__(self):
        super().__init__()
        self.queue = []

    def submit(self, fn, *args, label="", on_result=None, on_error=None, **kwargs):
        self.labels.append(label)
        self.queue.append((fn, args, on_result, on_error))
        return self

    def run_all(self):
        while self.queue:
            fn, args, on_result, on_error = self.queue.pop(0)
            try:
                r = fn(*args)
            except Exception as exc:  # noqa: BLE001
                if on_error:
                    on_error(exc)
            else:
                if on_result:
                    on_result(r)


def test_studies_are_computed_through_the_task_submitter(qtbot):
    tasks = DeferredTasks()
    chart = _chart(qtbot, tasks=tasks)
    chart.open_symbol("ACME")
    tasks.run_all()
    calls = []
    chart.set_overlay("rsi(close, 14)", lambda b: calls.append(1) or talib.RSI(b.close, 14))
    assert calls == []  # not on the GUI thread, in the call
    assert any("studies" in label for label in tasks.labels)
    with qtbot.waitSignal(chart.studies_drawn, timeout=1000):
        tasks.run_all()
    assert calls == [1] and chart.overlay_pane("rsi(close, 14)") == "lower"


def test_a_stale_study_result_is_dropped(qtbot):
    tasks = DeferredTasks()
    chart = _chart(qtbot, tasks=tasks)
    chart.open_symbol("ACME")
    tasks.run_all()
    chart.set_overlay("rsi(close, 14)", lambda b: talib.RSI(b.close, 14))
    first = tasks.queue[:]
    tasks.queue.clear()
    chart.open_symbol("OTHER")
    tasks.run_all()  # OTHER loads, its studies are computed
    other = chart._overlays["rsi(close, 14)"].getData()[1].copy()
    tasks.queue = first
    tasks.run_all()  # ACME's late result must not replace OTHER's
    np.testing.assert_array_equal(chart._overlays["rsi(close, 14)"].getData()[1], other)
    assert chart.bars.symbol == "OTHER"


def test_keys_pan_zoom_and_jump(qtbot):
    chart = _chart(qtbot)
    chart.open_symbol("ACME")
    vb = chart.price.getViewBox()
    x0, x1 = vb.viewRange()[0]
    qtbot.keyClick(chart, Qt.Key.Key_Left)
    a0, a1 = vb.viewRange()[0]
    assert a0 < x0 and a1 - a0 == pytest.approx(x1 - x0)
    qtbot.keyClick(chart, Qt.Key.Key_Plus)
    b0, b1 = vb.viewRange()[0]
    assert b1 - b0 < a1 - a0
    qtbot.keyClick(chart, Qt.Key.Key_Minus)
    qtbot.keyClick(chart, Qt.Key.Key_Minus)
    c0, c1 = vb.viewRange()[0]
    assert c1 - c0 > b1 - b0
    qtbot.keyClick(chart, Qt.Key.Key_Home)
    assert vb.viewRange()[0][0] == pytest.approx(-0.5)
    qtbot.keyClick(chart, Qt.Key.Key_End)
    assert vb.viewRange()[0][1] == pytest.approx(len(chart.bars) + 2)
    chart.price.setXRange(0, 30, padding=0)
    chart.reset_view()  # what a double-click does
    e0, e1 = vb.viewRange()[0]
    assert e0 == pytest.approx(x0) and e1 == pytest.approx(x1)
