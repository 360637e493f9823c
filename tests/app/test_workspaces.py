"""Named workspaces in the window (switch, save, shortcuts, large → small screen) and the
``stockscanner workspace`` CLI."""
import json

import pytest
from PySide6.QtCore import QRect

from app.features.workspaces import capture, controller
from app.main import build_workstation, open_workspace
from tests.app.test_cli import run_cli


def _idle(ws, qtbot):
    qtbot.waitUntil(lambda: not ws.ctx.tasks.active, timeout=20000)


@pytest.fixture
def ws(home, qtbot):
    w = build_workstation()
    qtbot.addWidget(w.window)
    w.window.resize(1280, 800)
    w.window.show()
    open_workspace(w)
    yield w
    _idle(w, qtbot)
    w.close()


def _visible(win):
    return {i for i, d in win.docks.items() if not d.isHidden()}


def test_shipped_defaults_switch_from_the_menu_and_shortcuts(ws, qtbot):
    win = ws.window
    c = controller(win)
    assert [a.text() for a in c.menu.actions()[:4]] == ["Day trading", "Swing", "Options", "Review"]
    assert c.switch_actions[2].shortcut().toString() == "Ctrl+Alt+3"
    c.switch_actions[2].trigger()  # Options
    qtbot.wait(50)
    assert c.store.current == "Options"
    assert {"options", "chart", "positions", "watchlist"} <= _visible(win)
    assert "scanner" not in _visible(win) and "journal" not in _visible(win)
    c.switch_index(0)  # Day trading: a second chart, linked with the first
    qtbot.wait(50)
    assert "chart-2" in win.docks and {"chart", "chart-2", "order_ticket", "positions"} <= _visible(win)
    assert ws.ctx.links.group("chart-2").value == "red"
    c.switch("Review")
    qtbot.wait(50)
    assert "chart-2" not in win.docks  # an extra instance the workspace does not have is closed
    assert {"journal", "chart", "optimizer"} <= _visible(win) and "watchlist" not in _visible(win)
    assert win.size().width() == 1280
    c.rebuild()
    checked = [a.text() for a in c.menu.actions() if a.isCheckable() and a.isChecked()]
    assert checked == ["Review"] and c.button.text() == "Workspace: Review"


def test_save_as_captures_docks_and_their_state_and_restores_it(ws, qtbot):
    win, ctx = ws.window, ws.ctx
    c = controller(win)
    qtbot.waitUntil(lambda: ctx.active_chart.bars is not None, timeout=15000)
    sym = ctx.data.demo_symbols()[7]
    ctx.open_symbol(sym)
    qtbot.waitUntil(lambda: ctx.active_chart.symbol == sym, timeout=15000)
    win.new_dock("chart")
    win.docks["watchlist"].hide()
    c.save_as("Mine")
    saved = c.store.get("Mine")
    assert saved.state["chart"]["symbol"] == sym
    assert {d.id for d in saved.docks if d.visible} >= {"chart", "chart-2"}
    assert not next(d for d in saved.docks if d.id == "watchlist").visible
    c.switch("Swing")
    qtbot.wait(50)
    assert "chart-2" not in win.docks and not win.docks["watchlist"].isHidden()
    c.switch("Mine")
    qtbot.wait(50)
    assert "chart-2" in win.docks and win.docks["watchlist"].isHidden()
    assert c.store.names()[-1] == "Mine"
    c.rename("Mine", "Mine 2")
    c.delete("Mine 2")
    assert "Mine 2" not in c.store.names()


def _inside(win):
    rect = win.rect()
    for iid, d in win.docks.items():
        if d.isHidden() or d.isFloating():
            continue
        if d.visibleRegion().isEmpty():  # a tab behind another: reachable from its tab bar
            assert win.tabifiedDockWidgets(d), f"{iid} is shown nowhere"
            continue
        g = QRect(d.mapTo(win, d.rect().topLeft()), d.size())
        assert rect.contains(g), f"{iid} at {g} is outside the {rect} window"
        w = d.widget()
        if w is not None:
            need = w.minimumSizeHint()
            assert d.width() >= min(need.width(), 400) - 2 and d.height() >= min(need.height(), 200) - 2, iid


def test_a_workspace_made_at_2560x1440_opens_sensibly_at_1280x800(ws, qtbot):
    win = ws.window
    c = controller(win)
    win.resize(2560, 1440)
    c.switch("Day trading")
    qtbot.wait(100)
    c.save_as("Big")
    big = c.store.get("Big")
    win.resize(1280, 800)
    qtbot.wait(50)
    c.switch("Swing")
    c.switch("Big")
    qtbot.wait(100)
    assert win.width() == 1280 and win.height() == 800
    assert {"chart", "chart-2", "order_ticket"} <= _visible(win)
    _inside(win)
    # the portable arrangement alone (no Qt state: a hand-written or foreign file) also fits
    c.store.put(big.model_copy(update={"name": "Big portable", "qt_state": None}))
    c.switch("Big portable")
    qtbot.wait(100)
    assert {"chart", "chart-2", "order_ticket", "positions"} <= _visible(win)
    _inside(win)
    wl = win.docks["watchlist"]
    saved = next(d.size for d in big.docks if d.id == "watchlist")
    assert 0.1 < saved < 0.25  # the shipped 0.16 of 2560 px
    assert abs(wl.width() / 1280 - saved) < 0.05  # the saved fraction, not the 2560-px width


def test_workspace_survives_a_restart(home, qtbot):
    w = build_workstation()
    qtbot.addWidget(w.window)
    w.window.show()
    controller(w.window).switch("Options")
    _idle(w, qtbot)
    w.close()
    w2 = build_workstation()
    qtbot.addWidget(w2.window)
    w2.window.show()
    c2 = controller(w2.window)
    assert c2.store.current == "Options" and c2.button.text() == "Workspace: Options"
    assert not w2.window.docks["options"].isHidden()
    _idle(w2, qtbot)
    w2.close()


def test_cli_list_export_import(tmp_path):
    home = tmp_path / "h"
    r = run_cli("workspace", "list", home=home)
    assert r.stdout.split("\n")[:4] == ["  Day trading", "  Swing", "  Options", "  Review"]
    out = tmp_path / "swing.json"
    r = run_cli("workspace", "export", "Swing", "--out", str(out), home=home)
    assert r.stdout.strip() == str(out)
    data = json.loads(out.read_text())
    data["name"] = "Swing 2"
    out.write_text(json.dumps(data))
    r = run_cli("workspace", "import", str(out), home=home)
    assert r.stdout.strip() == "imported workspace Swing 2"
    listed = json.loads(run_cli("workspace", "list", "--json", home=home).stdout)
    assert [w["name"] for w in listed["workspaces"]][-1] == "Swing 2"
    data["docks"][0]["area"] = "middle"
    out.write_text(json.dumps(data))
    r = run_cli("workspace", "import", str(out), home=home, check=False)
    assert r.returncode == 1 and "field docks.0.area" in r.stderr and "swing.json" in r.stderr
    r = run_cli("workspace", "export", "Nope", "--out", str(out), home=home, check=False)
    assert r.returncode == 1 and "no workspace named 'Nope'" in r.stderr
