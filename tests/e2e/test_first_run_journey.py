"""Journey: empty data dir → demo workspace → open a symbol from the search box →
chart shows its bars → close → reopen → layout and open symbol restored."""
from PySide6.QtCore import Qt

from app.main import build_workstation, open_workspace


def test_first_run_search_close_reopen_restores(home, qtbot):
    ws = build_workstation()
    win, ctx = ws.window, ws.ctx
    qtbot.addWidget(win)
    win.resize(1300, 850)
    win.show()
    open_workspace(ws)
    chart = ctx.active_chart
    qtbot.waitUntil(lambda: chart.bars is not None, timeout=15000)
    assert chart.bars.is_demo

    target = ctx.data.demo_symbols()[20]  # not in the demo watchlist
    qtbot.keyClicks(win.search, target.lower())
    qtbot.keyClick(win.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: chart.bars is not None and chart.bars.symbol == target, timeout=15000)
    assert len(chart.bars) >= 2500  # ≥ 10 years of daily demo bars
    assert chart.title.text().startswith(target)

    # change the layout: float nothing, but hide the watchlist and move the chart left
    win.docks["watchlist"].hide()
    qtbot.waitUntil(lambda: not ctx.tasks.active, timeout=15000)
    ws.close()

    ws2 = build_workstation()
    qtbot.addWidget(ws2.window)
    ws2.window.show()
    open_workspace(ws2)
    chart2 = ws2.ctx.active_chart
    qtbot.waitUntil(lambda: chart2.bars is not None, timeout=15000)
    assert chart2.bars.symbol == target
    assert not ws2.window.docks["watchlist"].isVisible()
    assert ws2.window.docks["chart"].isVisible()
    qtbot.waitUntil(lambda: not ws2.ctx.tasks.active, timeout=15000)
    ws2.close()


def test_scanner_setup_survives_a_restart(home, qtbot):
    ws = build_workstation()
    qtbot.addWidget(ws.window)
    ws.window.show()
    scanner = ws.window.show_dock("scanner")
    scanner.set_universe("demo")
    scanner.load_preset("Oversold RSI")
    scanner.formula_edit.setText("rsi(close, 14) < 35")
    scanner.add_column("sma(close, 20)")
    scanner.set_schedule("10min")
    ws.close()

    ws2 = build_workstation()
    qtbot.addWidget(ws2.window)
    ws2.window.show()
    s2 = ws2.window.show_dock("scanner")
    assert s2.universe_box.currentData() == "demo:"
    assert s2.preset_box.currentData() == "Oversold RSI"
    assert s2.formula_edit.text() == "rsi(close, 14) < 35"
    assert "sma(close, 20)" in s2.current_columns()
    assert s2.schedule == "10min"
    s2.set_schedule(None)
    ws2.close()
