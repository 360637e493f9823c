"""Chart studies, line styles and compared symbols survive a restart of the workstation
(the dock state in the store), with the real worker pool and demo data."""
from PySide6.QtCore import Qt

from app.main import build_workstation, open_workspace
from widgets.chart.studies import LineStyle


def _idle(ws, qtbot):
    qtbot.waitUntil(lambda: not ws.ctx.tasks.active, timeout=20000)


def _start(qtbot):
    ws = build_workstation()
    qtbot.addWidget(ws.window)
    ws.window.resize(1280, 800)
    ws.window.show()
    open_workspace(ws)
    return ws


def test_studies_styles_and_compare_come_back_after_a_restart(home, qtbot):
    ws = _start(qtbot)
    chart = ws.ctx.active_chart
    qtbot.waitUntil(lambda: chart.bars is not None, timeout=20000)
    demo = ws.ctx.data.demo_symbols()
    chart.add_formula_overlay("sma(close, 30)")
    qtbot.waitUntil(lambda: chart.overlay_pane("sma(close, 30)") != "pending", timeout=20000)
    dlg = chart.edit_legend_entry("overlay:0")
    dlg.styles["line"].color.set_color("#ff00ff")
    dlg.styles["line"].width_box.setValue(2.5)
    dlg.styles["line"].dash.setCurrentIndex(dlg.styles["line"].dash.findData("dot"))
    dlg.apply()
    sid = chart.add_study("macd", {"fast": 8, "slow": 21, "signal": 5})
    chart.add_study("ichimoku")
    chart.compare.add(demo[5])
    qtbot.waitUntil(lambda: sid in chart.panes and demo[5] in chart.compare.items, timeout=20000)
    _idle(ws, qtbot)
    ws.close()

    ws2 = _start(qtbot)
    try:
        c = ws2.window.show_dock("chart")
        qtbot.waitUntil(lambda: c.bars is not None and sid in c.panes and demo[5] in c.compare.items
                        and "sma(close, 30)" in c._overlays, timeout=20000)
        item = c._overlays["sma(close, 30)"]
        assert (item.color, item.width, item.dash) == ("#ff00ff", 2.5, Qt.PenStyle.DotLine)
        assert c.studies.overlay_styles["sma(close, 30)"] == LineStyle("#ff00ff", 2.5, "dot")
        assert [s.label() for s in c.studies.studies.values()] == ["MACD (8, 21, 5)", "Ichimoku (9, 26, 52)"]
        assert c.scale == "percent" and c.compare.symbols == [demo[5]]
        n = len(c.bars)
        assert c.price_pane.vb.viewRange()[0][1] >= n + 26  # room for the cloud's projection
        _idle(ws2, qtbot)
    finally:
        ws2.close()
