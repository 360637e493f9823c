"""Formula overlays on the chart: price-scale ones over the candles, oscillators in a lower pane."""
import numpy as np
from engine.events import EventBus
import pytest
import talib

from engine.formula import FormulaError, FormulaService
from tests.widgets.stubs import FakeData, SyncTasks, make_bars
from widgets.chart import ChartWidget, is_price_like


@pytest.fixture
def chart(qtbot, db):
    formulas = FormulaService(db, EventBus())
    w = ChartWidget(FakeData(), SyncTasks())
    w.set_formula_source(formulas.parse, lambda: sorted(formulas.custom_map()))
    w.formulas = formulas
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    w.open_symbol("ACME")
    return w


def test_indicator_button_needs_a_formula_source(qtbot):
    w = ChartWidget(FakeData(), SyncTasks())
    qtbot.addWidget(w)
    w.show()
    assert not w.indicator_btn.isVisible()
    with pytest.raises(RuntimeError):
        w.add_formula_overlay("sma(close, 20)")
    w.set_formula_source(lambda text: None)
    assert w.indicator_btn.isVisible()


def test_a_moving_average_goes_over_the_price(chart):
    name = chart.add_formula_overlay("sma(close,  20)")
    assert name == "sma(close, 20)" and chart.overlay_pane(name) == "price"
    _, y = chart._overlays[name].getData()
    np.testing.assert_allclose(y, talib.SMA(chart.bars.close, 20), equal_nan=True)
    assert chart.ind is None  # no lower pane needed


def test_an_oscillator_gets_its_own_pane_and_leaves_the_price_axis_alone(chart):
    chart.add_formula_overlay("sma(close, 20)")
    price_range = chart.price.getViewBox().viewRange()[1]
    chart.add_formula_overlay("rsi(close, 14)")
    assert chart.overlay_pane("rsi(close, 14)") == "lower" and chart.ind is not None
    _, y = chart._overlays["rsi(close, 14)"].getData()
    np.testing.assert_allclose(y, talib.RSI(chart.bars.close, 14), equal_nan=True)
    chart.price.getViewBox().updateAutoRange()
    lo, hi = chart.price.getViewBox().viewRange()[1]
    assert lo > 50 and lo == pytest.approx(price_range[0], rel=0.05) and hi == pytest.approx(price_range[1], rel=0.05)
    # the visible bars stay the last ~250 (the new pane does not zoom out to all history)
    x0, x1 = chart.price.getViewBox().viewRange()[0]
    assert x1 - x0 < 300
    chart.set_overlay("rsi(close, 14)", None)
    assert chart.ind is None and chart.overlay_names() == ["sma(close, 20)"]


def test_a_bad_formula_says_where(chart):
    with pytest.raises(FormulaError) as info:
        chart.add_formula_overlay("smaa(close, 20)")
    assert info.value.column == 1 and info.value.suggestion == "sma"
    assert chart.overlay_names() == []


def test_custom_indicators_by_name_follow_their_definition(chart):
    chart.formulas.save("my_osc", "(close - sma(close,20)) / atr(14)")
    chart.add_formula_overlay("my_osc")
    b = chart.bars
    ref = (b.close - talib.SMA(b.close, 20)) / talib.ATR(b.high, b.low, b.close, 14)
    np.testing.assert_allclose(chart._overlays["my_osc"].getData()[1], ref, equal_nan=True)
    assert chart.overlay_pane("my_osc") == "lower"
    chart.formulas.save("my_osc", "ema(close, 10)")  # now a price-scale line
    chart.refresh_overlays()
    np.testing.assert_allclose(chart._overlays["my_osc"].getData()[1], talib.EMA(b.close, 10), equal_nan=True)
    assert chart.overlay_pane("my_osc") == "price" and chart.ind is None


def test_a_deleted_custom_indicator_blanks_its_overlay_instead_of_breaking_the_chart(chart):
    chart.formulas.save("tmp_line", "sma(close, 5)")
    chart.add_formula_overlay("tmp_line")
    chart.formulas.delete("tmp_line")
    chart.open_symbol("OTHER")
    assert chart.bars.symbol == "OTHER"
    assert "tmp_line" in chart.overlay_errors["tmp_line"]
    assert np.isnan(chart._overlays["tmp_line"].getData()[1]).all()


def test_indicator_menu_lists_quick_and_custom_entries(chart):
    chart.formulas.save("my_osc", "(close - sma(close,20)) / atr(14)")
    chart._fill_indicator_menu()
    texts = [a.text() for a in chart.indicator_menu.actions()]
    assert any("sma(close, 20)" in t for t in texts) and "my_osc" in texts and "Formula…" in texts


def test_price_like_rule():
    b = make_bars()
    assert is_price_like(talib.SMA(b.close, 20), b.close)
    assert is_price_like(talib.BBANDS(b.close, 20)[0], b.close)
    assert not is_price_like(talib.RSI(b.close, 14), b.close * 10)
    assert not is_price_like(talib.OBV(b.close, b.volume), b.close)
    assert not is_price_like(talib.MACD(b.close)[0], b.close)
    assert not is_price_like(b.close > talib.SMA(b.close, 20), b.close)  # true/false
