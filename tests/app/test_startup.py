"""Start-up (issue 8: interactive demo workspace in ≤ 1.0 s, ``bench/bench_startup.py``).

What the first frame does not need is not imported, built or loaded before it: each
deferral has a test here, in a child process that runs the start-up path of
``bench/startup_probe.py`` on a data dir that has already been created (a warm start).
"""
import json
import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel

from app.main import build_workstation, open_workspace
from tests.conftest import REPO

#: Modules the first frame of the demo workspace must not import (the store is at head,
#: so no migration runs; the options, journal and sentiment engines have no dock on it).
NOT_AT_START_UP = (
    "sqlalchemy", "alembic", "pandas", "scipy", "numba", "yfinance", "exchange_calendars",
    "vaderSentiment", "engine.options", "engine.journal", "engine.sentiment", "engine.performance",
    "engine.paper.backtest",  # the ticket needs the broker, not the backtester
    "widgets.trading.dialogs",  # Modify order / New account open on demand
    # the broker and its session open after the first frame (MainWindow.after_start_up): the
    # ticket is built with the order rules only, the journal's fill subscription is by name
    "engine.paper.broker", "engine.paper.account", "engine.paper.feed", "engine.paper.session",
    "engine.paper.events", "engine.paper.store", "widgets.trading.session", "widgets.trading.account",
    "engine.alerts.events",  # the alerts feature's subscriptions are by name too
)

_CHILD = """
import json, sys
import app.workers
import app.mainwindow
# the delayed load itself may fire before the chart's bars arrive on a loaded machine; what is
# tested is that nothing but that timer asks for the symbol list before the first frame
app.mainwindow.COMPLETIONS_DELAY_MS = 600000
from PySide6.QtCore import QTimer
from app.main import build_workstation, ensure_app, open_workspace
TASKS = set()
_submit = app.workers.TaskRunner.submit
def submit(self, fn, *a, **k):
    TASKS.add(k.get("label", ""))
    return _submit(self, fn, *a, **k)
app.workers.TaskRunner.submit = submit
qapp = ensure_app()
ws = build_workstation()
ws.window.show()
open_workspace(ws)
chart = ws.ctx.active_chart
out = {}
def check():
    if chart is not None and chart.bars is not None:
        qapp.processEvents()  # the first frame (what bench/startup_probe.py waits for)
        timer.stop()
        out["modules"] = sorted(m for m in NOT if m in sys.modules)
        out["tasks"] = sorted(TASKS)
        out["built"] = sorted(i for i, d in ws.window.docks.items() if d.widget() is not None)
        out["visible"] = sorted(i for i, d in ws.window.docks.items() if d.isVisible())
        out["ticket"] = ticket_state()
        later.start(10)
def ticket_state():
    t = ws.window.docks["order_ticket"].widget()
    return {"session": t.session is not None, "place": t.place_btn.isEnabled(), "market": t.buy_mkt_btn.isEnabled(),
            "quote": t.quote_label.text(), "symbol": t.symbol, "account": t.chooser.box.currentText() if t.chooser else ""}
def connected():
    if ws.window.docks["order_ticket"].widget().session is not None:
        later.stop()
        out["ticket_later"] = ticket_state()
        ws.ctx.tasks.wait_all(5000)
        qapp.quit()
later = QTimer(); later.timeout.connect(connected)
timer = QTimer(); timer.timeout.connect(check); timer.start(1)
QTimer.singleShot(30000, qapp.quit)
qapp.exec()
ws.close()
print(json.dumps(out))
"""


def _start(home) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STOCKSCANNER_HOME=str(home), STOCKSCANNER_WARMUP="0")
    code = f"NOT = {NOT_AT_START_UP!r}\n" + _CHILD
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def warm_start(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("startup-home")
    _start(home)  # first start: creates and migrates the store, seeds the demo workspace
    return _start(home)


def test_the_first_frame_imports_none_of_the_deferred_modules(warm_start):
    assert warm_start["modules"] == []


def test_only_the_docks_on_screen_are_built_and_the_symbol_list_waits(warm_start):
    assert warm_start["built"] == ["chart", "order_ticket", "scanner", "watchlist"]
    assert set(warm_start["built"]) <= set(warm_start["visible"])
    # the completer's list is loaded after the first frame (MainWindow.after_start_up)
    assert "Symbol list" not in warm_start["tasks"]
    assert "Loading ACME 1d" in warm_start["tasks"]  # the chart's bars are


def test_the_ticket_connects_to_the_paper_account_after_the_first_frame(warm_start):
    first, later = warm_start["ticket"], warm_start["ticket_later"]
    # the first frame: the ticket is there, follows the chart, says it is connecting, sends nothing
    assert first == {"session": False, "place": False, "market": False, "quote": "Connecting paper account…",
                     "symbol": "ACME", "account": ""}
    # then the broker opens and the ticket trades the chart's symbol in the Paper account
    assert later["session"] and later["market"] and later["account"] == "Paper" and later["symbol"] == "ACME"
    assert later["quote"] != "Connecting paper account…"


def test_no_application_wide_style_sheet_and_hints_keep_their_colour(home, qtbot):
    ws = build_workstation()
    qtbot.addWidget(ws.window)
    ws.window.show()
    try:
        app = QApplication.instance()
        assert app.styleSheet() == ""  # it would run every widget through QStyleSheetStyle
        ticket = ws.window.docks["order_ticket"].widget()
        hints = ticket.findChildren(QLabel, "hint") + [ws.window.demo_hint]
        assert len(hints) >= 3
        muted = app.palette().color(QPalette.ColorRole.PlaceholderText)
        for label in hints:
            assert label.foregroundRole() == QPalette.ColorRole.PlaceholderText
            assert label.palette().color(label.foregroundRole()) == muted
        assert "#b7791f" in ws.window.demo_badge.styleSheet()
        positions = ws.window.docks["positions"]
        assert positions.titleBarWidget() is None and "QDockWidget::title" in positions.styleSheet()
        dark_title = positions.styleSheet()
        ws.window.set_theme("light")
        assert positions.styleSheet() != dark_title  # the native title follows the theme
        assert app.palette().color(QPalette.ColorRole.PlaceholderText) != muted
    finally:
        ws.window.set_theme("dark")
        ws.close()


def test_the_completer_gets_the_symbol_list_once_the_window_shows(home, qtbot):
    ws = build_workstation()
    qtbot.addWidget(ws.window)
    try:
        assert ws.window.completion_model.rowCount() == 0
        assert not any(w.label == "Symbol list" for w in ws.ctx.tasks.active)
        ws.window.show()
        open_workspace(ws)
        qtbot.waitUntil(lambda: ws.window.completion_model.rowCount() >= 50, timeout=15000)
        assert any(s.startswith("ACME") for s in ws.window.completion_model.stringList())
    finally:
        ws.close()
