"""Chart studies (issue 11, "Studies and compare"): legend editing, Bollinger as one band,
MACD with its histogram, the Ichimoku cloud, and Compare on a % axis.

References: TA-Lib for Bollinger and MACD; pandas by the textbook definition for Ichimoku
(TA-Lib has none), on NVDA's daily bars from tests/data."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib
from PySide6.QtGui import QColor

from engine.data.bars import Bars
from engine.events import EventBus
from engine.formula import FormulaService
from tests.widgets.stubs import FakeData, SyncTasks
from widgets.chart import ChartWidget
from widgets.chart.legend_edit import StudyEditor, formula_numbers, parameter_names, with_numbers
from widgets.chart.studies import LineStyle
from widgets.chart.study_items import HIST_COLORS

DATA = Path(__file__).resolve().parents[1] / "data"


def csv_bars(symbol: str) -> Bars:
    df = pd.read_csv(DATA / {"NVDA": "NVDA-1999-2014.csv", "ORCL": "ORCL-1995-2014.csv"}[symbol])
    t = pd.to_datetime(df["Date"]).to_numpy().astype("datetime64[s]").astype(np.int64)
    return Bars.from_arrays(symbol, "1d", t, *(df[c].to_numpy(float) for c in ("Open", "High", "Low", "Close", "Volume")),
                            "csv")


class CsvData(FakeData):
    """NVDA and ORCL from tests/data; any other symbol synthetic, GAPPY with every 5th bar missing."""

    def get_bars(self, symbol, timeframe="1d", refresh=False):
        self.calls.append((symbol, timeframe))
        if symbol in ("NVDA", "ORCL"):
            return csv_bars(symbol)
        b = super().get_bars(symbol, timeframe)
        if symbol == "GAPPY":
            keep = np.arange(len(b)) % 5 != 0
            return Bars.from_arrays(symbol, timeframe, b.time[keep], b.open[keep], b.high[keep], b.low[keep],
                                    b.close[keep], b.volume[keep], b.source)
        return b


def make_chart(qtbot, db, data=None, symbol="NVDA"):
    formulas = FormulaService(db, EventBus())
    w = ChartWidget(data or CsvData(), SyncTasks())
    w.set_formula_source(formulas.parse, lambda: sorted(formulas.custom_map()))
    w.formulas = formulas
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    if symbol:
        w.open_symbol(symbol)
    return w


def restarted(qtbot, db, chart):
    """A new chart given what the old one saved, through JSON as the dock state is stored."""
    state = json.loads(json.dumps(chart.state()))
    w = make_chart(qtbot, db, symbol=None)
    w.restore_state(state)
    return w


def count_color(widget, color: str, tol: int = 12) -> int:
    img = widget.grab().toImage()
    want = QColor(color)
    n = 0
    for y in range(0, img.height(), 2):
        for x in range(0, img.width(), 2):
            c = img.pixelColor(x, y)
            if abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue()) < tol:
                n += 1
    return n


# ---------------------------------------------------------------- legend editing
def test_formula_numbers_are_parameters_named_by_the_indicator():
    assert [v for *_, v in formula_numbers("bb_upper(close, 20, 2.5)")] == [20.0, 2.5]
    assert parameter_names("bb_upper(close, 20, 2.5)") == ["n", "k"]
    assert parameter_names("rsi(close, 14)") == ["n"]
    assert parameter_names("my_osc * 2") == ["value 1"]
    assert with_numbers("macd_hist(close, 12, 26, 9)", [8, 21, 5]) == "macd_hist(close, 8, 21, 5)"
    assert with_numbers("sma(close, 20) - ema(close, 20)", [10, 30]) == "sma(close, 10) - ema(close, 30)"


def test_a_legend_click_edits_a_formula_line_and_the_pen_survives_a_restart(qtbot, db):
    chart = make_chart(qtbot, db)
    chart.add_formula_overlay("sma(close, 20)")
    legend = chart.price_pane.legend.text()
    assert "href='overlay:0'" in legend and "sma(close, 20)" in legend
    chart.price_pane.legend.linkActivated.emit("overlay:0")  # what a click on the entry sends
    dlg = chart.findChild(StudyEditor)
    assert dlg is not None and dlg.isVisible() and dlg.formula.text() == "sma(close, 20)"
    before = count_color(chart.price_pane.view, "#ff00ff")
    dlg.numbers[0].setValue(50)  # the "n" spin box rewrites the formula
    assert dlg.formula.text() == "sma(close, 50)"
    row = dlg.styles["line"]
    row.color.set_color("#ff00ff")
    row.width_box.setValue(3.0)
    row.dash.setCurrentIndex(row.dash.findData("dash"))
    dlg.apply()
    assert not dlg.isVisible()
    assert chart.overlay_names() == ["sma(close, 50)"]
    item = chart._overlays["sma(close, 50)"]
    np.testing.assert_allclose(item.getData()[1], talib.SMA(chart.bars.close, 50), equal_nan=True)
    from PySide6.QtCore import Qt
    assert (item.color, item.width, item.dash) == ("#ff00ff", 3.0, Qt.PenStyle.DashLine)
    qtbot.wait(10)
    assert count_color(chart.price_pane.view, "#ff00ff") > before + 100  # the line is drawn in the new pen
    again = restarted(qtbot, db, chart)
    it2 = again._overlays["sma(close, 50)"]
    assert (it2.color, it2.width, it2.dash) == ("#ff00ff", 3.0, Qt.PenStyle.DashLine)


def test_a_bad_formula_keeps_the_editor_open_with_the_reason(qtbot, db):
    chart = make_chart(qtbot, db)
    chart.add_formula_overlay("rsi(close, 14)")
    dlg = chart.edit_legend_entry("overlay:0")
    dlg.formula.setText("rsii(close, 14)")
    dlg.apply()
    assert dlg.isVisible() and "rsii" in dlg.error.text()
    assert chart.overlay_names() == ["rsi(close, 14)"]


def test_hide_and_remove_from_the_legend_menu(qtbot, db):
    from widgets.chart.legend_edit import legend_menu
    chart = make_chart(qtbot, db)
    chart.add_formula_overlay("ema(close, 20)")
    sid = chart.add_study("bbands")
    menu = legend_menu(chart, f"study:{sid}")
    [a for a in menu.actions() if a.text() == "Hide"][0].trigger()
    assert not chart.studies.items[sid]["upper"].isVisible() and not chart.studies.studies[sid].visible
    assert "line-through" in chart.price_pane.legend.text()
    [a for a in legend_menu(chart, "overlay:0").actions() if a.text() == "Hide"][0].trigger()
    assert not chart._overlays["ema(close, 20)"].isVisible()
    again = restarted(qtbot, db, chart)
    assert not again.studies.studies[sid].visible and not again._overlays["ema(close, 20)"].isVisible()
    [a for a in legend_menu(chart, f"study:{sid}").actions() if a.text() == "Remove"][0].trigger()
    assert sid not in chart.studies.studies and not chart.price_pane.fit_items


def test_custom_indicators_and_formulas_go_over_the_price_or_in_a_pane(qtbot, db):
    chart = make_chart(qtbot, db)
    chart.formulas.save("dist", "(close - sma(close, 20)) / atr(14)")
    chart.formulas.save("mid", "(high + low) / 2")
    chart._fill_indicator_menu()
    assert any(a.text() == "dist" for a in chart.indicator_menu.actions())
    chart.add_formula_overlay("dist")
    chart.add_formula_overlay("mid")
    assert chart.overlay_pane("dist") == "lower" and chart.overlay_pane("mid") == "price"
    dlg = chart.edit_legend_entry("overlay:0")
    dlg.formula.setText("dist * 2")
    dlg.apply()
    assert chart.overlay_names() == ["dist * 2", "mid"] and chart.overlay_pane("dist * 2") == "lower"


def test_a_study_edit_recomputes_it_and_survives_a_restart(qtbot, db):
    chart = make_chart(qtbot, db)
    sid = chart.add_study("bbands")
    chart.price_pane.legend.linkActivated.emit(f"study:{sid}")
    dlg = chart.findChild(StudyEditor)
    dlg.params["n"].setValue(30)
    dlg.params["k"].setValue(2.5)
    dlg.styles["upper"].color.set_color("#00ff00")
    dlg.styles["mid"].dash.setCurrentIndex(dlg.styles["mid"].dash.findData("dot"))
    dlg.apply()
    items = chart.studies.items[sid]
    up, mid, lo = talib.BBANDS(chart.bars.close, 30, 2.5, 2.5)
    np.testing.assert_allclose(items["upper"].y, up, equal_nan=True)
    np.testing.assert_allclose(items["fill"].b, lo, equal_nan=True)
    assert items["upper"].color == "#00ff00" and chart.studies.studies[sid].label() == "BB (30, 2.5)"
    again = restarted(qtbot, db, chart)
    items2 = again.studies.items[sid]
    from PySide6.QtCore import Qt
    assert items2["upper"].color == "#00ff00" and items2["mid"].dash == Qt.PenStyle.DotLine
    np.testing.assert_allclose(items2["mid"].y, mid, equal_nan=True)


def test_studies_and_line_styles_are_kept_in_presets(qtbot, db):
    from widgets.chart.presets import ChartPreset, apply_preset
    chart = make_chart(qtbot, db)
    chart.add_formula_overlay("sma(close, 20)")
    chart.studies.overlay_styles["sma(close, 20)"] = LineStyle("#123456", 2.0, "dot")
    chart.add_study("macd", {"fast": 8, "slow": 21, "signal": 5})
    preset = ChartPreset.from_dict(json.loads(json.dumps(ChartPreset.from_chart(chart, "P").to_dict())))
    assert "MACD (8, 21, 5)" in preset.describe()
    other = make_chart(qtbot, db)
    apply_preset(other, preset)
    assert [s.label() for s in other.studies.studies.values()] == ["MACD (8, 21, 5)"]
    assert other._overlays["sma(close, 20)"].color == "#123456"
    with pytest.raises(ValueError):
        ChartPreset.from_dict({"name": "x", "studies": [{"id": "a", "kind": "macd", "params": {"fast": 0}}]})


# ---------------------------------------------------------------- Bollinger and MACD
def test_bollinger_is_one_band_study_with_its_band_filled(qtbot, db):
    chart = make_chart(qtbot, db)
    sid = chart.add_study("bbands")
    items = chart.studies.items[sid]
    up, mid, lo = talib.BBANDS(chart.bars.close, 20, 2, 2)
    np.testing.assert_allclose(items["fill"].a, up, equal_nan=True)
    np.testing.assert_allclose(items["mid"].y, mid, equal_nan=True)
    assert chart.studies.pane_id(sid) == "price" and len(chart.study_panes()) == 0
    n = len(chart.bars)
    polys = items["fill"].polygons(n - 100, n)
    assert len(polys) == 1 and len(polys[0][1]) == 200  # one band: along the upper, back along the lower
    np.testing.assert_allclose(polys[0][2], np.r_[up[n - 100:], lo[n - 100:][::-1]])
    assert chart.price_pane.legend.text().count("BB (20, 2)") == 1


def test_macd_is_line_signal_and_histogram_bars_coloured_by_sign_and_growth(qtbot, db):
    chart = make_chart(qtbot, db)
    sid = chart.add_study("macd")
    pane = chart.panes[sid]
    assert pane.kind == "study" and pane.level_values() == [0.0]  # its own pane with a zero line
    items = chart.studies.items[sid]
    line, sig, hist = talib.MACD(chart.bars.close, 12, 26, 9)
    np.testing.assert_allclose(items["macd"].y, line, equal_nan=True)
    np.testing.assert_allclose(items["signal"].y, sig, equal_nan=True)
    np.testing.assert_allclose(items["hist"].y, hist, equal_nan=True)
    colors = items["hist"].bar_colors()
    prev = np.r_[np.nan, hist[:-1]]
    for i in range(40, len(hist)):
        if hist[i] >= 0:
            want = HIST_COLORS["grow_above"] if prev[i] < hist[i] else HIST_COLORS["fall_above"]
        else:
            want = HIST_COLORS["fall_below"] if prev[i] < hist[i] else HIST_COLORS["grow_below"]
        assert colors[i] == want, i
    assert colors[0] == ""  # warm-up: no bar
    kinds = set(colors[40:])
    assert kinds == {HIST_COLORS[k] for k in HIST_COLORS}  # all four occur on NVDA
    # drawn: strong green bars show in the pane
    assert count_color(pane.view, HIST_COLORS["grow_above"]) > 20
    chart.close_pane(sid)
    assert sid not in chart.panes and not chart.studies.studies


# ---------------------------------------------------------------- Ichimoku
def test_ichimoku_cloud_matches_pandas_and_is_shifted_past_the_last_bar(qtbot, db):
    chart = make_chart(qtbot, db)
    sid = chart.add_study("ichimoku")
    items = chart.studies.items[sid]
    df = pd.read_csv(DATA / "NVDA-1999-2014.csv")
    h, l, c = df["High"], df["Low"], df["Close"]  # noqa: E741
    mid = lambda k: (h.rolling(k).max() + l.rolling(k).min()) / 2  # noqa: E731
    n = len(df)
    ext = pd.RangeIndex(n + 26)
    np.testing.assert_allclose(items["tenkan"].y, mid(9), rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(items["kijun"].y, mid(26), rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(items["chikou"].y, c.shift(-26), equal_nan=True)
    span_a = ((mid(9) + mid(26)) / 2).reindex(ext).shift(26).to_numpy()
    span_b = mid(52).reindex(ext).shift(26).to_numpy()
    np.testing.assert_allclose(items["cloud"].a, span_a, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(items["cloud"].b, span_b, rtol=1e-12, equal_nan=True)
    # the view makes room for the projection, and the axis labels days after the last bar
    x0, x1 = chart.price_pane.vb.viewRange()[0]
    assert x1 >= n + 26
    # the last bar is Wed 2014-12-31; five business days on (weekends skipped)
    assert chart.axis.format_time(n - 1) == "2014-12-31" and chart.axis.format_time(n + 4) == "2015-01-07"
    # the cloud's colour follows the span on top
    polys = items["cloud"].polygons(n - 200, n + 26)
    assert polys and {p[0] for p in polys} == {True, False}
    for on_top, px, _py in polys:
        xs = [int(x) for x in px if float(x).is_integer()]
        inside = [j for j in xs if np.isfinite(span_a[j]) and span_a[j] != span_b[j]]
        assert inside and all((span_a[j] > span_b[j]) == on_top for j in inside)
    assert items["cloud"].up_color == "#26a69a" and items["cloud"].down_color == "#ef5350"
    chart.reset_view()
    assert chart.price_pane.vb.viewRange()[0][1] >= n + 26


# ---------------------------------------------------------------- Compare
def test_compare_rebases_every_series_at_the_first_visible_bar_after_a_pan(qtbot, db):
    chart = make_chart(qtbot, db)
    chart.compare.add("ORCL")
    assert chart.scale == "percent" and chart.pct_btn.isChecked()
    nv, orcl = csv_bars("NVDA"), csv_bars("ORCL")
    for step in (0, -0.3, -0.5):
        if step:
            chart.pan(step)
            # rebased shortly after the pan (at most every REBASE_MS while panning)
            qtbot.waitUntil(lambda: chart._based_at == chart.compare.first_visible(), timeout=2000)
        first = chart.compare.first_visible()
        y = chart.compare.items["ORCL"].y
        o = orcl.close[np.searchsorted(orcl.time, nv.time)]
        np.testing.assert_allclose(y, (o / o[first] - 1) * 100, rtol=1e-9)
        assert y[first] == pytest.approx(0.0, abs=1e-12)
        assert chart.candles.c[first] == pytest.approx(0.0, abs=1e-9)  # the chart's own close too
        np.testing.assert_allclose(chart.candles.c, (nv.close / nv.close[first] - 1) * 100, rtol=1e-9)
    assert "ORCL" in chart.price_pane.legend.text() and "href='compare:ORCL'" in chart.price_pane.legend.text()


def test_compare_aligns_by_time_with_gaps_is_saved_and_removable(qtbot, db):
    chart = make_chart(qtbot, db, data=CsvData(), symbol="ACME")
    chart.compare.add("GAPPY")
    chart.compare.add("ZED")
    y = chart.compare.aligned["GAPPY"]
    assert np.isnan(y[::5]).all() and np.isfinite(y[1::5]).all()  # a missing bar is a gap
    assert chart.compare.colors["GAPPY"] != chart.compare.colors["ZED"]
    with pytest.raises(ValueError):
        chart.compare.add("ACME")
    with pytest.raises(ValueError):
        chart.compare.add("gappy")
    again = restarted(qtbot, db, chart)
    assert again.compare.symbols == ["GAPPY", "ZED"] and again.scale == "percent"
    assert len(again.compare.items["ZED"].y) == len(again.bars)
    chart.compare.remove("GAPPY")
    chart.compare.remove("ZED")
    assert chart.scale == "linear" and not chart.price_pane.fit_items


def test_compare_of_an_unknown_symbol_says_so_in_the_legend(qtbot, db):
    chart = make_chart(qtbot, db, symbol="ACME")
    chart.compare.add("UNKNOWN")
    assert "Unknown symbol UNKNOWN" in chart.price_pane.legend.text()


def test_the_csv_export_has_a_column_per_study_line(qtbot, db):
    from widgets.chart.export import visible_rows
    chart = make_chart(qtbot, db)
    chart.add_study("bbands")
    chart.add_study("macd")
    rows = visible_rows(chart)
    head = rows[0]
    assert head[6:] == ["BB (20, 2) upper", "BB (20, 2) mid", "BB (20, 2) lower", "MACD (12, 26, 9) macd",
                        "MACD (12, 26, 9) signal", "MACD (12, 26, 9) hist"]
    last = rows[-1]
    _, _, hist = talib.MACD(chart.bars.close, 12, 26, 9)
    assert last[0] == "2014-12-31" and float(last[-1]) == pytest.approx(hist[-1], abs=1e-4)
