"""Feature modules, multi-instance chart docks with their own state, the active chart,
link groups."""
import argparse

import pytest
from PySide6.QtCore import QPoint, Qt

from app import features
from app.features import ActionSpec, CliVerb, DockSpec, Feature, SettingKey
from app.links import LinkGroup
from app.main import build_workstation, open_workspace


def _idle(ws, qtbot):
    qtbot.waitUntil(lambda: not ws.ctx.tasks.active, timeout=20000)


def _start(qtbot):
    ws = build_workstation()
    qtbot.addWidget(ws.window)
    ws.window.resize(1280, 800)
    ws.window.show()
    open_workspace(ws)
    return ws


@pytest.fixture
def ws(home, qtbot):
    w = _start(qtbot)
    yield w
    _idle(w, qtbot)
    w.close()


def test_a_new_feature_is_one_module_and_one_line_in_the_list(home, qtbot, monkeypatch):
    from PySide6.QtWidgets import QLabel

    ran = []

    def configure(p: argparse.ArgumentParser) -> None:
        p.add_argument("--level", type=int, default=1)

    probe = Feature(
        id="probe", title="Probe",
        docks=(DockSpec("probe", "Probe", lambda ctx, iid: QLabel("probe", objectName="probeContent"),
                        visible=False, shortcut="Ctrl+Alt+P"),),
        actions=(ActionSpec("probe.ping", "&Ping", lambda ctx, win: ran.append("ping"), menu="&Probe"),),
        settings=(SettingKey("probe/level", int, 3, "how loud",
                             validator=lambda v: None if 0 <= v <= 5 else "must be 0 to 5"),),
        cli_verbs=(CliVerb("probe", "print the level", configure, lambda a: a.level),),
    )
    monkeypatch.setattr(features, "FEATURES", features.FEATURES + [probe])
    ws = build_workstation()
    qtbot.addWidget(ws.window)
    try:
        win = ws.window
        assert "Probe" in [a.text() for a in win.view_menu.actions()]
        assert win.docks["probe"].objectName() == "probe"
        assert win.show_dock("probe").text() == "probe"
        win.menus["Probe"].actions()[0].trigger()
        assert ran == ["ping"]
        assert ws.ctx.settings.schema["probe/level"].default == 3
        assert ws.ctx.settings.get("probe/level") == 3
        with pytest.raises(ValueError):
            ws.ctx.settings.set("probe/level", 9)
        from app.cli import build_parser

        args = build_parser().parse_args(["probe", "--level", "4"])
        assert args.func(args) == 4
    finally:
        ws.close()


def test_services_are_typed_and_built_once(ws):
    from engine.formula.service import FormulaService

    f = ws.ctx.service(FormulaService)
    assert isinstance(f, FormulaService) and ws.ctx.service(FormulaService) is f is ws.ctx.formulas
    assert f.bus is ws.ctx.bus and ws.ctx.data.bus is ws.ctx.bus and ws.ctx.watchlists.bus is ws.ctx.bus

    class Nobody:
        pass

    with pytest.raises(LookupError):
        ws.ctx.service(Nobody)


def test_two_charts_with_different_symbols_survive_a_restart_with_their_overlays(home, qtbot):
    ws = _start(qtbot)
    win, ctx = ws.window, ws.ctx
    first = ctx.active_chart
    qtbot.waitUntil(lambda: first.bars is not None, timeout=20000)
    demo = ctx.data.demo_symbols()
    first.open_symbol(demo[3], "1wk")
    first.add_formula_overlay("ema(close, 20)")
    second = win.new_dock("chart")
    assert win.docks["chart-2"].objectName() == "chart-2" and second is not first
    ctx.links.set_group("chart-2", LinkGroup.BLUE)
    second.open_symbol(demo[7])
    second.kind_box.setCurrentText("Line")
    second.add_formula_overlay("sma(close, 50)")
    second.add_formula_overlay("rsi(close, 14)")
    qtbot.waitUntil(lambda: second.bars is not None and second.bars.symbol == demo[7], timeout=20000)
    qtbot.waitUntil(lambda: second.overlay_pane("rsi(close, 14)") != "pending", timeout=20000)  # studies: in a worker
    assert second.overlay_pane("rsi(close, 14)") == "lower"
    _idle(ws, qtbot)
    ws.close()

    ws2 = _start(qtbot)
    try:
        win2, ctx2 = ws2.window, ws2.ctx
        assert "chart-2" in win2.docks and win2.docks["chart-2"].isVisible()
        c1 = win2.show_dock("chart")
        c2 = win2.show_dock("chart-2")
        qtbot.waitUntil(lambda: c1.bars is not None and c2.bars is not None, timeout=20000)
        assert (c1.symbol, c1.timeframe, c1.overlay_names()) == (demo[3], "1wk", ["ema(close, 20)"])
        assert (c2.symbol, c2.timeframe) == (demo[7], "1d")
        assert c2.overlay_names() == ["sma(close, 50)", "rsi(close, 14)"]
        assert c2.kind_box.currentText() == "Line"
        qtbot.waitUntil(lambda: c2.overlay_pane("rsi(close, 14)") != "pending", timeout=20000)
        assert c2.overlay_pane("rsi(close, 14)") == "lower" and c2.overlay_pane("sma(close, 50)") == "price"
        assert ctx2.links.group("chart-2") is LinkGroup.BLUE and ctx2.links.group("chart") is LinkGroup.RED
        _idle(ws2, qtbot)
    finally:
        ws2.close()


def test_the_active_chart_is_the_one_last_clicked_not_the_last_created(ws, qtbot):
    win, ctx = ws.window, ws.ctx
    second = win.new_dock("chart")
    assert ctx.chart_registry.active_id == "chart"
    qtbot.mouseClick(second.glw.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
    assert ctx.active_chart is second
    qtbot.mouseClick(ctx.charts[0].glw.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
    assert ctx.chart_registry.active_id == "chart"


def test_closing_an_extra_chart_removes_the_instance(ws, qtbot):
    win, ctx = ws.window, ws.ctx
    win.new_dock("chart")
    assert len(ctx.charts) == 2
    win.docks["chart-2"].close()
    qtbot.waitUntil(lambda: len(ctx.charts) == 1, timeout=3000)
    assert "chart-2" not in win.docks
    assert "Chart 2" not in [a.text() for a in win.view_menu.actions()]
    assert win.dock_states()["instances"] == []
    assert win.new_dock("chart") is ctx.chart_registry.charts["chart-2"]  # the id is free again


def test_a_data_source_change_reloads_every_open_chart(ws, qtbot):
    win, ctx = ws.window, ws.ctx
    first = ctx.active_chart
    qtbot.waitUntil(lambda: first.bars is not None, timeout=20000)
    second = win.new_dock("chart")
    second.open_symbol(ctx.data.demo_symbols()[5])
    _idle(ws, qtbot)
    before = (first._load_seq, second._load_seq)
    win.apply_settings({"data/source": "demo"})
    qtbot.waitUntil(lambda: first._load_seq > before[0] and second._load_seq > before[1], timeout=5000)


def test_a_watchlist_in_red_drives_only_the_red_chart_and_ticket(ws, qtbot):
    win, ctx = ws.window, ws.ctx
    red = ctx.active_chart
    qtbot.waitUntil(lambda: red.bars is not None, timeout=20000)
    blue = win.new_dock("chart")
    ctx.links.set_group("chart-2", LinkGroup.BLUE)
    blue.open_symbol(ctx.data.demo_symbols()[30])
    ticket = win.show_dock("order_ticket")
    wl = win.show_dock("watchlist")
    qtbot.waitUntil(lambda: bool(wl.symbols()), timeout=20000)
    assert ctx.links.group("watchlist") is LinkGroup.RED  # first start: everything Red

    row = 2
    target = wl.symbols()[row]
    wl.table.clicked.emit(wl.proxy.index(row, 0))
    assert red.symbol == target
    assert blue.symbol == ctx.data.demo_symbols()[30]
    assert ticket.symbol_edit.text() == target

    ctx.links.set_group("watchlist", LinkGroup.BLUE)
    other = wl.symbols()[4]
    wl.table.clicked.emit(wl.proxy.index(4, 0))
    assert blue.symbol == other and red.symbol == target
    assert ticket.symbol_edit.text() == target  # the Red ticket ignores the Blue chart


def test_an_unlinked_source_and_the_search_box_drive_the_active_chart(ws, qtbot):
    win, ctx = ws.window, ws.ctx
    first = ctx.active_chart
    second = win.new_dock("chart")
    assert ctx.links.group("chart-2") is LinkGroup.UNLINKED  # a new chart starts unlinked
    ctx.chart_registry.activate("chart-2")
    sym = ctx.data.demo_symbols()[25]
    win.search.setText(sym)
    win.search.returnPressed.emit()
    assert second.symbol == sym and first.symbol != sym
    ctx.chart_registry.activate("chart")
    wl = win.show_dock("watchlist")
    qtbot.waitUntil(lambda: bool(wl.symbols()), timeout=20000)
    ctx.links.set_group("watchlist", LinkGroup.UNLINKED)
    wl.table.clicked.emit(wl.proxy.index(1, 0))
    assert first.symbol == wl.symbols()[1] and second.symbol == sym


def test_linkable_docks_show_their_group_in_the_title_bar(ws):
    from app.dock_title import DockTitleBar

    win, ctx = ws.window, ws.ctx
    for iid in ("chart", "watchlist", "scanner", "order_ticket"):
        bar = win.docks[iid].titleBarWidget()
        assert isinstance(bar, DockTitleBar), iid
    bar = win.docks["watchlist"].titleBarWidget()
    bar.group_actions[LinkGroup.GREEN].trigger()
    assert ctx.links.group("watchlist") is LinkGroup.GREEN
    assert "Green" in bar.link_button.toolTip()
    assert win.docks["positions"].titleBarWidget() is None  # not linkable: Qt's own title bar


def _columns_readable(wl) -> list[str]:
    """The watchlist's Symbol, Last and Chg % columns that are cut off (narrower than their
    contents, or reaching past the visible part of the table)."""
    t = wl.table
    cut = []
    for key in ("symbol", "last", "change_pct"):
        i = t.source.column_of(key)
        right = t.columnViewportPosition(i) + t.columnWidth(i)
        if t.columnWidth(i) < t.sizeHintForColumn(i) or right > t.viewport().width():
            cut.append(key)
    return cut


def test_a_layout_saved_on_a_large_screen_keeps_the_watchlist_readable_on_a_small_one(home, qtbot):
    ws = build_workstation()
    qtbot.addWidget(ws.window)
    ws.window.resize(2560, 1440)
    ws.window.show()
    open_workspace(ws)
    qtbot.waitUntil(lambda: ws.window.dock_content("watchlist").model.rows[0].last > 0, timeout=20000)
    _idle(ws, qtbot)
    ws.close()  # saves the 2560x1440 layout

    ws2 = build_workstation()
    try:
        win = ws2.window
        qtbot.addWidget(win)
        # the saved window is larger than this (800x800) screen: it is fitted into it
        assert win.screen().availableGeometry().contains(win.frameGeometry())
        win.resize(1280, 800)  # and in a 1280x800 window the watchlist stays readable
        win.show()
        open_workspace(ws2)
        wl = win.dock_content("watchlist")
        qtbot.waitUntil(lambda: wl.model.rows and wl.model.rows[0].last > 0, timeout=20000)
        qtbot.wait(50)
        dock = win.docks["watchlist"]
        assert dock.width() >= wl.minimum_width()
        assert _columns_readable(wl) == []
        _idle(ws2, qtbot)
    finally:
        ws2.close()
