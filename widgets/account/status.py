"""The sync status indicator in the status bar: synced / pending N / offline / error / signed
out, the reason and the last sync time in its tool tip. A click asks for the Account dialog."""
from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QToolButton, QWidget

#: state -> (text, colour of the dot)
LOOK = {
    "synced": ("Synced", "#66bb6a"),
    "pending": ("Pending {n}", "#ffa726"),
    "offline": ("Offline", "#9e9e9e"),
    "error": ("Sync error", "#ef5350"),
    "signed_out": ("Signed out", "#9e9e9e"),
    "off": ("Sync off", "#9e9e9e"),
}


def last_sync_text(at: float, now: float | None = None) -> str:
    if at <= 0:
        return "Last sync: never"
    lt = time.localtime(at)
    same_day = lt[:3] == time.localtime(now if now is not None else time.time())[:3]
    return "Last sync: " + time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M", lt)


class SyncStatusWidget(QToolButton):
    """Shows a ``SyncStatusChanged``-like object (``state``, ``pending``, ``message``,
    ``last_sync_at``); ``account_requested`` when clicked."""

    account_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncStatus")
        self.setAutoRaise(True)
        self.state = "off"
        self.clicked.connect(self.account_requested.emit)
        self.set_status(None)

    def set_status(self, status: Any) -> None:
        state = getattr(status, "state", "off") if status is not None else "off"
        pending = int(getattr(status, "pending", 0) or 0)
        message = str(getattr(status, "message", "") or "")
        text, colour = LOOK.get(state, LOOK["error"])
        if state in ("offline", "error", "signed_out") and pending:
            text += f" · {pending} pending"
        self.state = state
        self.setText(f"● {text.format(n=pending)}")
        self.setStyleSheet(f"QToolButton#syncStatus {{ color: {colour}; }}")
        tip = [message] if message else []
        tip.append(last_sync_text(float(getattr(status, "last_sync_at", 0.0) or 0.0)))
        tip.append("Click for your account.")
        self.setToolTip("\n".join(tip))
