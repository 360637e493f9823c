"""Workspaces through the service from the window: the dialog says to sign in first; signed in,
it publishes what is on screen, lists it, makes it public and loads it back (and opens it); the
sign-in lands in the device's security log."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.sync.conftest import PASSWORD, LoopbackService


def _idle(ws: Any, qtbot: Any) -> None:
    qtbot.waitUntil(lambda: not ws.ctx.tasks.active, timeout=20000)


def test_publish_and_load_a_workspace_from_the_window(ws: Any, qtbot: Any, loopback: LoopbackService,
                                                     memory_keyring: Any, tmp_path: Any) -> None:
    from app.features.account import hub
    from app.features.workspaces import controller, open_remote
    from engine.health.metrics import SecurityLog

    win = ws.window
    c = controller(win)
    assert {"workspaces.publish", "workspaces.load_remote"} <= {a.objectName() for a in c.menu.actions()}
    h = hub(ws.ctx)
    h.configure(loopback.url)
    dialog = open_remote(ws.ctx, win)
    assert "Sign in" in dialog.problem_label.text() and not dialog.publish_button.isEnabled()
    assert dialog.sign_in_button.isVisibleTo(dialog)

    h.client.register("desk@example.com", PASSWORD)
    h.client.login("desk@example.com", PASSWORD)
    assert [e["kind"] for e in SecurityLog(ws.ctx.kv).entries()][-1:] == ["sign_in"]
    c.switch("Swing")
    dialog = open_remote(ws.ctx, win)
    _idle(ws, qtbot)
    assert dialog.problem_label.isHidden() and dialog.publish_button.isEnabled()
    assert dialog.local.currentText() == "Swing"
    dialog.visibility.setCurrentIndex(0)  # private
    dialog.description.setText("my swing desk")
    dialog.publish()
    qtbot.waitUntil(lambda: dialog.table.topLevelItemCount() == 1, timeout=20000)
    _idle(ws, qtbot)
    item = dialog.table.topLevelItem(0)
    assert [item.text(i) for i in (0, 1, 2, 5)] == ["Swing", "you", "private", "my swing desk"]
    dialog.table.setCurrentItem(item)
    assert dialog.toggle_button.text() == "Make public" and dialog.delete_button.isEnabled()
    dialog.toggle_visibility()
    qtbot.waitUntil(lambda: dialog.table.topLevelItemCount() == 1
                    and dialog.table.topLevelItem(0).text(2) == "public", timeout=20000)
    _idle(ws, qtbot)

    # the local copy changes; loading mine back restores what was published, and opens it
    c.store.delete("Swing")
    assert "Swing" not in c.store.names()
    dialog.table.setCurrentItem(dialog.table.topLevelItem(0))
    dialog.load(open_now=True)
    qtbot.waitUntil(lambda: c.store.current == "Swing", timeout=20000)
    _idle(ws, qtbot)
    assert "Swing" in c.store.names() and "loaded" in dialog.message.text().lower()
    if os.environ.get("WORKSPACE_GRABS"):
        dialog.grab().save(os.path.join(os.environ["WORKSPACE_GRABS"], "remote-workspaces.png"))
    dialog.close()
