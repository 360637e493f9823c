"""Paper trading in the shell: docks in the default layout, the app's quote source, the
chosen account remembered across restarts."""
from decimal import Decimal as D

from PySide6.QtCore import Qt

from app.main import build_workstation
from app.trading import trading_session
from engine.paper.feed import DataQuotes
from engine.paper.session import PaperSession

TRADING_DOCKS = ("order_ticket", "positions", "orders", "fills", "order_history", "account")


def test_trading_docks_in_the_default_layout(home, qtbot):
    ws = build_workstation()
    win = ws.window
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    try:
        titles = {a.text() for a in win.view_menu.actions()}
        assert {"Order Ticket", "Positions", "Working Orders", "Fills", "Order History", "Account"} <= titles
        ticket, chart = win.docks["order_ticket"], win.docks["chart"]
        assert ticket.isVisible() and not win.docks["order_history"].isVisible()  # history: View menu
        # the ticket sits to the right of the chart, at a usable width, and the default
        # sizes hold at the real window size (applied once the window is shown)
        qtbot.waitUntil(lambda: chart.width() > 800, timeout=3000)
        assert ticket.geometry().left() >= chart.geometry().right()
        assert 270 <= ticket.width() <= 340 and win.docks["watchlist"].width() >= 280
        # the blotters share one tab group (with the scanner when it is there)
        group = {d.objectName() for d in win.tabifiedDockWidgets(win.docks["positions"])}
        assert {"orders", "fills", "account"} <= group
        assert win.dockWidgetArea(win.docks["positions"]) in (Qt.DockWidgetArea.BottomDockWidgetArea,
                                                             win.dockWidgetArea(chart))
        s = trading_session(ws.ctx)
        assert s.accounts() == ["Paper"] and s.summary.cash == D("100000")
        assert s.timer.isActive() and s.quote_label == "demo quotes"
        assert s.core is ws.ctx.service(PaperSession)  # the Qt-free session is a service of its own
        qtbot.waitUntil(lambda: not ws.ctx.tasks.active, timeout=15000)
    finally:
        ws.close()
    assert s.closed and not s.timer.isActive() and s.core.feed.closed  # nothing quotes a closed broker


def test_chosen_account_is_remembered(home, qtbot):
    ws = build_workstation()
    qtbot.addWidget(ws.window)
    s = trading_session(ws.ctx)
    assert s.create_account("Swing", D("25000"), "margin").ok
    assert s.account == "Swing"
    ws.close()
    ws2 = build_workstation()
    qtbot.addWidget(ws2.window)
    try:
        s2 = trading_session(ws2.ctx)
        assert s2.account == "Swing" and s2.summary.kind.value == "margin"
        assert ws2.window.show_dock("account").chooser.box.currentText() == "Swing"
    finally:
        ws2.close()


def test_app_quotes_demo_ticks_start_at_the_last_close(home, qtbot):
    ws = build_workstation()
    qtbot.addWidget(ws.window)
    try:
        src = DataQuotes(ws.ctx.data)
        sym = ws.ctx.data.demo_symbols()[0]
        last = float(ws.ctx.data.get_bars(sym, "1d").close[-1])
        q = src.quote(sym, 1_800_000_000_000)
        assert q.bid < q.ask and abs(float(q.last) / last - 1) < 0.01  # one small step away
        assert src.label == "demo quotes" and "Not market prices" in src.description
    finally:
        ws.close()


def test_the_settings_dialog_edits_the_trading_keys_and_the_session_uses_the_distance(home, qtbot):
    from PySide6.QtCore import QSettings

    from app.settings_dialog import SettingsDialog

    ws = build_workstation()
    win = ws.window
    qtbot.addWidget(win)
    try:
        core = ws.ctx.service(PaperSession)
        assert core.max_distance_pct == D(10)  # the setting's default
        dlg = SettingsDialog(ws.ctx.settings, win)
        qtbot.addWidget(dlg)
        assert dlg.confirm.isChecked() and dlg.confirm_above.text() == "5000" and not dlg.hotkeys.isChecked()
        assert dlg.distance.text() == "10"
        for bad, why in (("0", "above 0 %"), ("5000", "at most 1000 %"), ("far", "not a number")):
            dlg.distance.setText(bad)
            dlg.accept()
            assert why in dlg.error.text() and not dlg.result()
        dlg.distance.setText("2.5")
        dlg.confirm_above.setText("-1")
        dlg.accept()
        assert "not an amount of dollars" in dlg.error.text() and not dlg.result()
        dlg.confirm_above.setText("25,000")
        dlg.hotkeys.setChecked(True)
        dlg.confirm.setChecked(False)
        dlg.resize(1280, 800)
        dlg.grab().save("/tmp/paper2/settings_trading.png")
        dlg.accept()
        assert dlg.result() and dlg.changed == {
            "trading/confirm_orders": False, "trading/confirm_above": 25000.0, "trading/hotkeys": True,
            "trading/max_distance_pct": 2.5}
        win.apply_settings(dlg.changed)
        assert core.max_distance_pct == D("2.5")  # wired to the running session
        raw = QSettings(str(ws.ctx.settings.path), QSettings.Format.IniFormat)
        assert float(raw.value("trading/max_distance_pct")) == 2.5
    finally:
        win.close()
