"""The shortcuts dialog: every shortcut listed, editable, conflicts refused naming the other
action, applied live and kept across a restart."""
from PySide6.QtGui import QKeySequence

from app.main import build_workstation
from app.palette import describe, window_actions
from app.shortcuts import ShortcutConflict, assign


def _ws(qtbot):
    w = build_workstation()
    qtbot.addWidget(w.window)
    w.window.resize(1280, 800)
    w.window.show()
    return w


def test_lists_every_shortcut_refuses_conflicts_and_persists(home, qtbot):
    import pytest

    w = _ws(qtbot)
    win = w.window
    win.feature_actions["shortcuts.open"].trigger()
    dlg = win._shortcuts
    listed = {(dlg.table.item(r, 0).text(), dlg.table.item(r, 1).text()) for r in range(dlg.table.rowCount())}
    with_shortcut = [a for a in window_actions(win) if not a.shortcut().isEmpty()]
    assert len(with_shortcut) > 20 and len(listed) == len(window_actions(win))  # names are unique
    for a in with_shortcut:
        assert (describe(win, a), a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)) in listed
    refresh = win.feature_actions["news.refresh"]
    dlg.select(refresh)
    assert not dlg.set_selected("Ctrl+K")  # Find symbol has it
    assert "Ctrl+K is already the shortcut of “Find symbol”" in dlg.error.text()
    assert refresh.shortcut().toString() == "Ctrl+Shift+U"
    with pytest.raises(ShortcutConflict, match="Find symbol"):
        assign(win, refresh, "Ctrl+K")
    dlg.editor.setKeySequence(QKeySequence("Ctrl+Alt+N"))
    dlg.assign_button.click()
    assert dlg.error.text() == "" and refresh.shortcut().toString() == "Ctrl+Alt+N"  # live
    dlg.select(win.feature_actions["palette.open"])
    dlg.clear_button.click()
    assert win.feature_actions["palette.open"].shortcut().isEmpty()
    dlg.reject()
    qtbot.waitUntil(lambda: not w.ctx.tasks.active, timeout=20000)
    w.close()

    w2 = _ws(qtbot)
    assert w2.window.feature_actions["news.refresh"].shortcut().toString() == "Ctrl+Alt+N"
    assert w2.window.feature_actions["palette.open"].shortcut().isEmpty()
    w2.window.feature_actions["shortcuts.open"].trigger()
    d2 = w2.window._shortcuts
    d2.select(w2.window.feature_actions["palette.open"])
    d2.reset_button.click()
    assert w2.window.feature_actions["palette.open"].shortcut().toString() == "Ctrl+Shift+P"
    d2.reject()
    qtbot.waitUntil(lambda: not w2.ctx.tasks.active, timeout=20000)
    w2.close()
