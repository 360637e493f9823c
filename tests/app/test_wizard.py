"""The first-run wizard: its pages apply the data source and theme, "Later" ends it, it is
shown once per data folder (not under tests) and Help reopens it."""
from PySide6.QtWidgets import QWizard

from app.main import build_workstation, open_workspace
from app.wizard import DONE_KEY, ENV, maybe_open_at_start, should_show


def test_first_start_only_and_not_under_tests(home, qtbot, monkeypatch):
    w = build_workstation()
    qtbot.addWidget(w.window)
    assert not should_show(w.window)  # tests/conftest.py turns it off
    monkeypatch.setenv(ENV, "1")
    assert should_show(w.window)
    wiz = maybe_open_at_start(w.window)
    assert wiz is not None and wiz.isVisible()
    wiz.reject()
    assert w.ctx.ui.get(DONE_KEY) is True and not should_show(w.window)
    assert maybe_open_at_start(w.window) is None
    w.close()


def test_pages_apply_source_and_theme_and_later_finishes(home, qtbot, tmp_path, shared_data):
    w = build_workstation()
    win = w.window
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    open_workspace(w)
    win.feature_actions["wizard.open"].trigger()  # Help → First-run wizard…
    wiz = win._wizard
    assert [wiz.page(i).objectName() for i in wiz.pageIds()] == ["wizardData", "wizardTheme", "wizardAccount"]
    wiz.csv.setChecked(True)
    wiz.csv_path.setText(str(tmp_path / "missing.csv"))
    wiz.next()
    assert wiz.currentPage().objectName() == "wizardData" and "existing CSV" in wiz.csv_error.text()
    wiz.csv_path.setText(str(shared_data / "ORCL-1995-2014.csv"))
    wiz.next()
    assert wiz.currentPage().objectName() == "wizardTheme"
    wiz.light.setChecked(True)
    wiz.next()
    assert wiz.currentPage().objectName() == "wizardAccount"
    wiz.later.click()
    assert wiz.result() == QWizard.DialogCode.Accepted
    assert w.ctx.settings.get("ui/theme") == "light"
    assert w.ctx.settings.get("data/source") == "demo"  # a CSV import keeps the demo source for the rest
    qtbot.waitUntil(lambda: not w.ctx.tasks.active, timeout=20000)
    assert w.ctx.data.stored_timeframes("ORCL") == ("1d",)  # the CSV was imported
    assert w.ctx.ui.get(DONE_KEY) is True
    win.set_theme("dark")
    w.close()
