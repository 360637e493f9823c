"""The alerts feature in the workstation: evaluation in a worker on a bar update, the tray
falling back to the notification centre, failed deliveries shown, close to tray."""
from __future__ import annotations

import pytest

from app.main import build_workstation, open_workspace
from engine.alerts import AlertTemplate, Scope
from engine.alerts.service import AlertService


def _demo_symbol(ctx) -> str:
    return ctx.watchlists.symbols(ctx.watchlists.names()[0])[0]


def test_alert_fires_in_a_worker_and_falls_back_to_the_notification_centre(ws, qtbot):
    ctx = ws.ctx
    assert not ctx.notifier.has_tray  # offscreen: no system tray
    svc = ctx.service(AlertService)
    sym = _demo_symbol(ctx)
    svc.save(AlertTemplate("always true", ("close > 0",), Scope("symbol", sym)))
    from app.features.alerts import runner

    runner(ctx).run()
    qtbot.waitUntil(lambda: any(n.title.startswith("Alert: always true") for n in ctx.notifier.recent),
                    timeout=20000)
    note = next(n for n in ctx.notifier.recent if n.title.startswith("Alert:"))
    assert note.title == f"Alert: always true — {sym}"
    assert [e.symbol for e in svc.history()] == [sym]
    qtbot.waitUntil(lambda: not ctx.tasks.active, timeout=20000)
    runner(ctx).run()  # same bar again: no second notification
    qtbot.waitUntil(lambda: not ctx.tasks.active, timeout=20000)
    assert sum(n.title.startswith("Alert:") for n in ctx.notifier.recent) == 1


def test_failed_delivery_is_shown_as_an_error(ws, qtbot, memory_keyring):
    from engine.alerts.delivery import DeliveryConfig

    ctx = ws.ctx
    svc = ctx.service(AlertService)
    svc.set_config(DeliveryConfig(webhook_url="http://127.0.0.1:9/none", max_attempts=1, timeout_s=2))
    svc.save(AlertTemplate("hook", ("close > 0",), Scope("symbol", _demo_symbol(ctx)), channels=("webhook",)))
    from app.features.alerts import runner

    runner(ctx).run()
    qtbot.waitUntil(lambda: any(n.level == "error" for n in ctx.notifier.recent), timeout=20000)
    note = next(n for n in ctx.notifier.recent if n.level == "error")
    assert note.title == "Alert delivery failed (webhook)"
    assert "no webhook secret" in note.text
    w = ctx.window.show_dock("alerts")
    w.reload()
    assert w.tabs.tabText(2) == "Delivery (1 failed)"


def test_close_to_tray_hides_instead_of_quitting(ws, qtbot, monkeypatch):
    from PySide6.QtGui import QCloseEvent

    from app.notify import Notifier

    ctx = ws.ctx
    monkeypatch.setattr(Notifier, "has_tray", property(lambda self: True))
    ctx.settings.set("app/close_to_tray", True)
    ev = QCloseEvent()
    ws.window.closeEvent(ev)
    assert not ev.isAccepted() and ws.window.isHidden()  # still running, in the tray
    from app.features.alerts import runner

    assert runner(ctx).timer.isActive()  # alerts keep being evaluated (timer for live quotes)
    ws.window._really_quit = True  # the tray menu's Quit
    ev = QCloseEvent()
    ws.window.closeEvent(ev)
    assert ev.isAccepted()
    ctx.settings.set("app/close_to_tray", False)


def test_without_close_to_tray_closing_quits(ws, qtbot, monkeypatch):
    from PySide6.QtGui import QCloseEvent

    from app.notify import Notifier

    monkeypatch.setattr(Notifier, "has_tray", property(lambda self: True))
    assert ws.ctx.settings.get("app/close_to_tray") is False
    ev = QCloseEvent()
    ws.window.closeEvent(ev)
    assert ev.isAccepted()
