"""Journey: empty data dir → open the scanner → demo universe, a formula → run → click a row,
the chart shows it → pick two rows → add to the watchlist, the watchlist dock shows them →
export CSV → build a custom indicator from the menu and scan and chart with it by name."""
import csv

from PySide6.QtCore import Qt

from app.main import DEMO_WATCHLIST, build_workstation, open_workspace


def _click_row(qtbot, scanner, row, modifier=Qt.KeyboardModifier.NoModifier):
    rect = scanner.table.visualRect(scanner.proxy.index(row, 0))
    qtbot.mouseClick(scanner.table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def test_scan_open_add_to_watchlist_export(home, qtbot, tmp_path):
    ws = build_workstation()
    win, ctx = ws.window, ws.ctx
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    open_workspace(ws)
    chart = ctx.active_chart
    qtbot.waitUntil(lambda: chart.bars is not None, timeout=15000)

    assert win.docks["scanner"].objectName() == "scanner"
    assert "Scanner" in [a.text() for a in win.view_menu.actions()]
    scanner = win.show_dock("scanner")
    assert scanner.isVisible() and scanner.height() > 200 and scanner.width() > 700

    scanner.set_universe("demo")
    scanner.formula_edit.clear()
    qtbot.keyClicks(scanner.formula_edit, "close > 0")
    assert scanner.run_btn.isEnabled()
    with qtbot.waitSignal(scanner.scan_finished, timeout=60000) as sig:
        scanner.run_btn.click()
    result = sig.args[0]
    demo = ctx.data.demo_symbols()
    assert sorted(result.symbols) == sorted(demo) and scanner.model.rowCount() == len(demo)
    assert result.rows[0].is_demo

    # a click opens the chart on that symbol
    target = scanner.proxy.index(5, 0).data()
    _click_row(qtbot, scanner, 5)
    qtbot.waitUntil(lambda: chart.bars is not None and chart.bars.symbol == target, timeout=15000)
    assert chart.title.text().startswith(target)

    # pick two symbols that are not in the demo watchlist yet, add them to it
    in_list = set(ctx.watchlists.symbols(DEMO_WATCHLIST))
    rows = [r for r in range(scanner.proxy.rowCount()) if scanner.proxy.index(r, 0).data() not in in_list][:2]
    _click_row(qtbot, scanner, rows[0])
    _click_row(qtbot, scanner, rows[1], Qt.KeyboardModifier.ControlModifier)
    picked = scanner.selected_symbols()
    assert len(picked) == 2
    scanner.add_selected_to_watchlist(DEMO_WATCHLIST)
    watchlist = win.dock_content("watchlist")
    qtbot.waitUntil(lambda: set(picked) <= set(watchlist.symbols()), timeout=5000)
    assert ctx.watchlists.symbols(DEMO_WATCHLIST)[-2:] == picked

    out = tmp_path / "scan.csv"
    scanner.export_csv(str(out))
    with out.open() as fh:
        got = [r["symbol"] for r in csv.DictReader(fh)]
    assert sorted(got) == sorted(demo)

    # Indicators → Custom indicators…: save one, then scan and chart with it by name
    from app.indicators import IndicatorBuilderHost

    action = win.feature_actions["indicators.builder"]
    assert action.shortcut().toString() == "Ctrl+Shift+I"
    assert action in win.menus["Indicators"].actions()
    action.trigger()
    dlg = ctx.service(IndicatorBuilderHost).dialog
    assert dlg.isVisible() and dlg.windowTitle() == "Custom indicators"
    scanner.indicators_btn.click()  # from the scanner dock: the same dialog comes to the front
    assert ctx.service(IndicatorBuilderHost).dialog is dlg
    qtbot.waitUntil(lambda: dlg.bars is not None, timeout=15000)
    assert dlg.symbol_edit.text() == chart.symbol
    dlg.formula_edit.setText("my_osc = (close - sma(close,20)) / atr(14)")
    assert dlg.save()
    scanner.formula_edit.setText("my_osc > 0")
    assert scanner.run_btn.isEnabled()
    with qtbot.waitSignal(scanner.scan_finished, timeout=60000) as sig:
        scanner.run_btn.click()
    assert 0 < len(sig.args[0].rows) < len(demo)
    # another filter than the run before: "new since last run" compares only the same filter
    assert scanner.new == () and scanner.dropped == ()
    chart.add_formula_overlay("my_osc")
    qtbot.waitUntil(lambda: chart.overlay_pane("my_osc") != "pending", timeout=20000)  # computed in a worker
    assert chart.overlay_pane("my_osc") == "lower"
    dlg.close()
    qtbot.waitUntil(lambda: not ctx.tasks.active, timeout=15000)
    ws.close()
