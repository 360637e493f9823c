"""The account feature in a real workstation: the indicator is in the status bar, a local
watchlist change reaches the loopback service through the worker thread, the menu opens the
dialog."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import os

import pytest

from tests.sync.conftest import PASSWORD, LoopbackService

GRABS = os.environ.get("ACCOUNT_GRABS", "")


def test_watchlist_changes_sync_from_the_workstation_and_the_indicator_follows(
        ws: Any, qtbot: Any, loopback: LoopbackService, memory_keyring: Any) -> None:
    from app.features.account import hub, open_account

    indicator = ws.window.sync_indicator
    assert indicator.parent() is not None and indicator.state == "off"
    # the built-in service is not started in tests (tests/conftest.py): the reason says it starts
    assert "built-in service is starting" in indicator.toolTip()
    h = hub(ws.ctx)
    h.configure(loopback.url)
    h.client.register("ws@example.com", PASSWORD)
    h.client.login("ws@example.com", PASSWORD)
    h.session_changed()
    qtbot.waitUntil(lambda: indicator.state == "synced", timeout=15000)
    ws.ctx.watchlists.create("From the app", ["AAPL", "SPY"])
    qtbot.waitUntil(lambda: len(loopback.items("ws@example.com")) >= 2, timeout=15000)
    names = sorted(i.data for i in loopback.items("ws@example.com"))
    assert any('"From the app"' in n for n in names)
    qtbot.waitUntil(lambda: indicator.state == "synced" and indicator.text() == "● Synced", timeout=15000)
    assert "Last sync: " in indicator.toolTip() and "never" not in indicator.toolTip()

    loopback.stop()
    ws.ctx.watchlists.add("From the app", ["QQQ"])
    # a round may find the service gone before the change is recorded: wait for both
    qtbot.waitUntil(lambda: indicator.state == "offline" and "1 pending" in indicator.text(), timeout=30000)
    assert "cannot be reached" in indicator.toolTip()

    dialog = open_account(ws.ctx, ws.window)
    qtbot.waitUntil(lambda: dialog.stack.currentIndex() == dialog.ACCOUNT, timeout=5000)
    assert open_account(ws.ctx, ws.window) is dialog  # one dialog, raised again
    if GRABS:
        ws.window.grab().save(os.path.join(GRABS, "workstation.png"))
    dialog.close()
