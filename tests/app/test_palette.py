"""The command palette: every registered action is in it, fuzzy matching, Enter runs."""
from PySide6.QtCore import Qt

from app.palette import _plain, describe, window_actions
from engine.fuzzy import rank, score


def test_scorer_wants_the_letters_in_order_and_prefers_word_starts():
    assert score("opt", "Options") is not None and score("tpo", "Options") is None
    assert rank("nc", ["Open log folder", "New chart"]) == ["New chart"]
    assert rank("dt", ["Delete workspace", "Day trading"])[0] in ("Delete workspace", "Day trading")
    assert rank("sett", ["Reset layout", "Settings"])[0] == "Settings"
    assert rank("", ["b", "a"]) == ["b", "a"]


def test_the_palette_finds_every_registered_action(ws, qtbot):
    win = ws.window
    win.feature_actions["palette.open"].trigger()
    pal = win._palette
    actions = window_actions(win)
    assert len(actions) > 40
    for a in actions:  # typed by its own text, each action is among the matches, with its shortcut
        text = _plain(a.text()) if a in win.view_toggles.values() else describe(win, a)  # a dock: its title
        pal.query.setText(text)
        found = [e for e in pal.shown if e.action is a]
        assert found, f"the palette does not find {text!r}"
        assert found[0].shortcut == a.shortcut().toString(), text
    pal.reject()


def test_palette_lists_docks_workspaces_settings_symbols_and_enter_runs(ws, qtbot):
    win, ctx = ws.window, ws.ctx
    win.feature_actions["palette.open"].trigger()
    pal = win._palette
    kinds = {e.kind for e in pal.all}
    assert {"Action", "Dock", "Workspace", "Setting", "Symbol"} <= kinds
    pal.query.setText("optns ws")  # fuzzy: the Options workspace
    top = pal.shown[0]
    assert (top.kind, top.text) == ("Workspace", "Options")
    assert top.shortcut == "Ctrl+Alt+3"
    qtbot.keyClick(pal.query, Qt.Key.Key_Return)
    assert win.workspaces.store.current == "Options" and not win.docks["options"].isHidden()
    sym = ctx.watchlists.symbols(ctx.watchlists.names()[0])[3]
    win.feature_actions["palette.open"].trigger()
    pal = win._palette
    pal.query.setText(f"{sym} symbol")
    assert (pal.shown[0].kind, pal.shown[0].text) == ("Symbol", sym)
    qtbot.keyClick(pal.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ctx.active_chart.symbol == sym, timeout=15000)
