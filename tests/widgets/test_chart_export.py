"""Chart export: a PNG with legend and watermark, a CSV of the visible bars with study columns."""
import csv
import io

import numpy as np
import pytest
from PySide6.QtGui import QImage

from engine.events import EventBus
from engine.formula import FormulaService
from tests.widgets.stubs import FakeData, SyncTasks
from widgets.chart import ChartWidget
from widgets.chart.export import ExportButton, save_csv, save_png, visible_range, visible_rows, watermark_text


@pytest.fixture
def chart(qtbot, db):
    formulas = FormulaService(db, EventBus())
    w = ChartWidget(FakeData(), SyncTasks())
    w.set_formula_source(formulas.parse, lambda: [])
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.open_symbol("ACME")
    w.add_formula_overlay("sma(close, 20)")
    w.add_formula_overlay("rsi(close, 14)")
    qtbot.wait(10)
    return w


def test_png_is_the_chart_size_not_blank_and_watermarked(chart, tmp_path):
    path = tmp_path / "acme.png"
    save_png(chart, path)
    img = QImage(str(path))
    dpr = chart.devicePixelRatioF()
    assert (img.width(), img.height()) == (round(1280 * dpr), round(800 * dpr))
    arr = np.frombuffer(img.convertToFormat(QImage.Format.Format_RGB32).constBits(), np.uint8)
    assert arr.reshape(-1, 4)[:, :3].std() > 10  # candles, axes, text: not one flat colour
    assert watermark_text(chart) == "ACME  ·  D"
    # the watermark changes pixels at the centre of the price pane compared with a plain grab
    plain = chart.grab().toImage()
    pane = chart.price_pane
    c = pane.mapTo(chart, pane.rect().center())
    differs = sum(img.pixel(c.x() + dx, c.y()) != plain.pixel(c.x() + dx, c.y()) for dx in range(-200, 200, 2))
    assert differs > 5
    img.save("/tmp/chart-orders/export.png")


def test_csv_has_the_visible_bars_and_study_columns(chart, tmp_path):
    chart.price.setXRange(99.5, 149.5, padding=0)  # bars 100..149
    i0, i1 = visible_range(chart)
    assert (i0, i1) == (100, 149)
    path = tmp_path / "acme.csv"
    assert save_csv(chart, path) == 50
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[0] == ["time", "open", "high", "low", "close", "volume", "sma(close, 20)", "rsi(close, 14)"]
    first = rows[1]
    b = chart.bars
    assert first[0] == "2020-12-22"  # the bar's date (daily bars)
    assert first[4] == f"{b.close[100]:.2f}" and first[5] == str(int(b.volume[100]))
    sma = np.mean(b.close[81:101])
    assert first[6] == f"{sma:.2f}"  # a price-scale study: to the cent
    assert len(first[7].split(".")[1]) == 4  # an oscillator: 4 places
    assert all("e" not in cell and "," not in cell for row in rows[1:] for cell in row)


def test_csv_leaves_missing_study_values_empty_and_intraday_times_carry_the_zone(qtbot, db):
    w = ChartWidget(FakeData(), SyncTasks())
    w.set_formula_source(FormulaService(db, EventBus()).parse, lambda: [])
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.open_symbol("ACME", "5m")
    w.add_formula_overlay("sma(close, 20)")
    w.price.setXRange(-0.5, 30, padding=0)
    rows = visible_rows(w)
    assert rows[1][6] == "" and rows[25][6] != ""  # no SMA 20 before the 20th bar
    assert rows[1][0].endswith(("-04:00", "-05:00"))  # New York time with its offset


def test_toolbar_has_the_export_menu(chart):
    btn = ExportButton(chart)
    chart.add_tool_button(btn)
    assert [a.text() for a in btn.menu().actions()] == ["Save image (PNG)…", "Save visible data (CSV)…"]
    assert chart.findChild(ExportButton, "chartExport") is btn
