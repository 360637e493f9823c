"""The notification centre: a bell in the status bar with the unread count, and a popup
list of the recent notifications (newest first, with time and level) that can be cleared.

Without a system tray a notification is only a toast that vanishes after a few seconds;
the centre keeps them (``app.notify.Notifier`` holds the history in memory). The widgets
only read the notifier: ``recent`` (newest first), ``unread``, the ``changed`` signal,
``mark_read()`` and ``clear()``.
"""
from __future__ import annotations

import time
from typing import Any, Protocol

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QToolButton, QVBoxLayout, QWidget,
)

LEVEL_COLOURS = {"info": "#42a5f5", "warning": "#ffa726", "error": "#ef5350"}
LEVEL_NAMES = {"info": "Info", "warning": "Warning", "error": "Error"}


class NotificationSource(Protocol):
    recent: Any  # a sequence of notes (title, text, level, at), newest first
    unread: int
    changed: Any  # a Qt signal without arguments

    def mark_read(self) -> None: ...
    def clear(self) -> None: ...


def bell_icon(colour: str = "#c8ccd4", size: int = 32) -> QIcon:
    """A bell, drawn (no image plugin or emoji font needed)."""
    pm = QPixmap(size, size)
    pm.fill(QColor(0, 0, 0, 0))
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(colour))
    s = size / 32
    path = QPainterPath()
    path.moveTo(6 * s, 24 * s)
    path.lineTo(26 * s, 24 * s)
    path.quadTo(23 * s, 21 * s, 23 * s, 15 * s)
    path.quadTo(23 * s, 6 * s, 16 * s, 6 * s)
    path.quadTo(9 * s, 6 * s, 9 * s, 15 * s)
    path.quadTo(9 * s, 21 * s, 6 * s, 24 * s)
    p.drawPath(path)
    p.drawEllipse(QPointF(16 * s, 26.5 * s), 3 * s, 3 * s)
    p.drawEllipse(QRectF(14.5 * s, 3 * s, 3 * s, 3 * s))
    p.end()
    return QIcon(pm)


def note_time(at: float, now: float | None = None) -> str:
    """``14:02:11`` today, ``Mar 3 14:02`` on another day (local time)."""
    lt = time.localtime(at)
    today = time.localtime(now if now is not None else time.time())
    if lt[:3] == today[:3]:
        return time.strftime("%H:%M:%S", lt)
    return time.strftime("%b %d %H:%M", lt).replace(" 0", " ")


class NotificationCentreWidget(QFrame):
    """The list of recent notifications, newest first, with a Clear button."""

    def __init__(self, source: NotificationSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notificationCentre")
        self.source = source
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumSize(420, 300)
        title = QLabel("<b>Notifications</b>")
        self.count_label = QLabel("")
        self.count_label.setObjectName("hint")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("notificationsClear")
        self.clear_button.setToolTip("Forget every notification in this list")
        self.clear_button.clicked.connect(self._on_clear_clicked)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addWidget(self.count_label, 1)
        head.addWidget(self.clear_button)
        self.list = QListWidget()
        self.list.setObjectName("notificationList")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.setSpacing(2)
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.empty_label = QLabel("No notifications yet. Errors, fills and alerts are kept here.")
        self.empty_label.setObjectName("hint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addLayout(head)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.empty_label)
        source.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        notes = list(self.source.recent)
        now = time.time()
        for n in notes:
            item = QListWidgetItem(f"{note_time(n.at, now)} · {LEVEL_NAMES.get(n.level, n.level)} · {n.title}\n{n.text}")
            item.setIcon(_dot(LEVEL_COLOURS.get(n.level, LEVEL_COLOURS["info"])))
            item.setToolTip(n.text)
            item.setData(Qt.ItemDataRole.UserRole, n)
            self.list.addItem(item)
        self.count_label.setText(f"  {len(notes)} kept" if notes else "")
        self.list.setVisible(bool(notes))
        self.empty_label.setVisible(not notes)
        self.clear_button.setEnabled(bool(notes))

    def texts(self) -> list[str]:
        """The rows as shown (newest first)."""
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _on_clear_clicked(self) -> None:
        self.source.clear()


class NotificationBell(QToolButton):
    """The status-bar button: a bell with the unread count; a click opens the centre as a
    popup under it and marks everything read."""

    def __init__(self, source: NotificationSource, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notificationBell")
        self.source = source
        self.setIcon(bell_icon())
        self.setAutoRaise(True)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.popup = NotificationCentreWidget(source)
        self.popup.setWindowFlags(Qt.WindowType.Popup)
        self.popup.resize(460, 380)
        self.clicked.connect(self.toggle_centre)
        source.changed.connect(self._on_source_changed)
        self._on_source_changed()

    def toggle_centre(self) -> None:
        if self.popup.isVisible():
            self.popup.hide()
            return
        self.popup.refresh()
        top_left = self.mapToGlobal(QPoint(self.width() - self.popup.width(), -self.popup.height() - 4))
        self.popup.move(QPoint(max(0, top_left.x()), max(0, top_left.y())))
        self.popup.show()
        self.source.mark_read()

    def _on_source_changed(self) -> None:
        n = self.source.unread
        errors = any(getattr(x, "level", "") == "error" for x in list(self.source.recent)[:n])
        self.setText(str(n) if n else "")
        self.setIcon(bell_icon(LEVEL_COLOURS["error"] if errors else "#c8ccd4"))
        total = len(self.source.recent)
        self.setToolTip(f"Notifications: {n} unread of {total} kept" if total else "Notifications: none yet")


def _dot(colour: str) -> QIcon:
    pm = QPixmap(12, 12)
    pm.fill(QColor(0, 0, 0, 0))
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(colour))
    p.drawEllipse(1, 1, 10, 10)
    p.end()
    return QIcon(pm)
