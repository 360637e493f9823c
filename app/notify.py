"""Notifications: the system tray when there is one, in-app toasts when there is not,
and always the notification centre (the status bar's bell, ``widgets/notifications.py``).

``Notifier.notify(title, text, level)`` is the API later features call (alerts, fills,
sync). Engine code publishes ``engine.events.Notification`` on the bus instead; the
bridge delivers it here on the GUI thread. The last ``HISTORY`` notifications are kept in
memory for the centre (newest first) and the tray's "Recent" menu; ``unread`` counts the
ones added since the centre was last opened.

Warnings and errors are turned into sentences a user can act on (``actionable``): a raw
"Cookie/crumb fetch failed (DNSError)" from yfinance becomes "Yahoo Finance cannot be
reached: check the network or the proxy in Settings"; the raw text stays in the log.
"""
from __future__ import annotations

import logging
import re
import time
from collections import deque
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QSystemTrayIcon, QWidget

from app.theme import toast_css

log = logging.getLogger(__name__)
LEVELS = ("info", "warning", "error")


HISTORY = 200  # notifications kept for the centre
#: toasts shown at once; more (a burst of fills) go only to the centre, counted on the bell
MAX_TOASTS = 3

_NETWORK = ("cookie/crumb", "crumb", "dnserror", "could not resolve", "resolve host", "name resolution",
            "name or service not known", "nodename nor servname", "failed to connect", "connection refused",
            "network is unreachable", "no route to host", "connectionerror", "connection reset",
            "connection aborted", "remote end closed", "cannot be reached", "timed out", "timeouterror",
            "read timeout", "connect timeout")
_PROXY = ("proxyerror", "proxy error", "unable to connect to proxy", "tunnel connection failed")
_RATE = ("too many requests", "rate limit", "yfratelimiterror", "http 429", "error 429", " 429")
_PROVIDERS = ("Yahoo Finance",)


def _provider(text: str) -> str:
    return next((p for p in _PROVIDERS if p.lower() in text.lower()), "Yahoo Finance")


def actionable(text: str) -> str:
    """``text`` as a sentence a user can act on: known network, proxy and rate-limit
    failures (as yfinance and requests word them) become our own sentence; a bad-CSV
    message keeps its first line and points to the import report; anything else is
    returned unchanged."""
    low = " " + text.lower()
    if any(k in low for k in _PROXY):
        return "The proxy in Settings cannot be reached or refused the connection: check it in Settings → Network."
    if any(k in low for k in _RATE):
        return (f"{_provider(text)} is limiting requests (too many in a short time): "
                "wait a few minutes, then refresh.")
    if any(k in low for k in _NETWORK):
        return (f"{_provider(text)} cannot be reached: check the network or the proxy in Settings "
                "(cached bars stay available; demo data and CSV import work offline).")
    m = re.match(r"(.+ cannot be imported \(\d+ problems?; nothing was changed\)):", text)
    if m:
        return m.group(1) + ". The import report lists every problem with its line."
    return text


@dataclass(frozen=True, slots=True)
class Note:
    title: str
    text: str
    level: str
    at: float = field(default_factory=time.time)  # epoch seconds, when it was notified


def app_icon() -> QIcon:
    """The app icon, drawn (no image plugin needed): a rising candle pair."""
    pm = QPixmap(64, 64)
    pm.fill(QColor(0, 0, 0, 0))
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor("#1e2127"))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(2, 2, 60, 60, 12, 12)
    p.setBrush(QColor("#ef5350"))
    p.drawRect(16, 26, 10, 20)
    p.fillRect(20, 18, 2, 36, QColor("#ef5350"))
    p.setBrush(QColor("#26a69a"))
    p.drawRect(36, 14, 10, 26)
    p.fillRect(40, 8, 2, 40, QColor("#26a69a"))
    p.end()
    return QIcon(pm)


class Toast(QLabel):
    """A transient message in the main window's bottom-right corner."""

    def __init__(self, parent: QWidget, note: Note, msecs: int = 5000) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setStyleSheet(toast_css())  # before adjustSize: the padding is part of the size
        self.setWordWrap(True)
        self.setMaximumWidth(360)
        self.setText(f"<b>{note.title}</b><br>{note.text}")
        self.adjustSize()
        # with the toast as context: a timer outliving it (its window closed) must not fire on
        # a dangling wrapper (it deleted whatever object had since taken its address)
        QTimer.singleShot(msecs, self, self.deleteLater)


class Notifier(QObject):
    notified = Signal(object)  # Note
    changed = Signal()  # the history or the unread count changed

    def __init__(self, window: QMainWindow | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.recent: deque[Note] = deque(maxlen=HISTORY)  # newest first
        self.unread = 0
        self.tray: QSystemTrayIcon | None = None
        self._toasts: list[Toast] = []
        self.recent_menu: QMenu | None = None

    @property
    def has_tray(self) -> bool:
        return self.tray is not None and self.tray.isVisible()

    def install_tray(self, window: QMainWindow, quit_action: QAction) -> None:
        """Create the tray icon (show/hide, recent notifications, quit) if the OS has a tray."""
        self.window = window
        if not QSystemTrayIcon.isSystemTrayAvailable():
            log.info("no system tray: notifications appear as in-app toasts")
            return
        tray = QSystemTrayIcon(app_icon(), self)
        tray.setToolTip("Stock Scanner")
        menu = QMenu()
        toggle = menu.addAction("Show / hide window")
        toggle.triggered.connect(self._toggle_window)
        self.recent_menu = menu.addMenu("Recent notifications")
        self._rebuild_recent()
        menu.addSeparator()
        menu.addAction(quit_action)
        tray.setContextMenu(menu)
        tray.activated.connect(self._on_tray_activated)
        tray.show()
        self.tray = tray
        self._menu = menu

    def notify(self, title: str, text: str, level: str = "info") -> Note:
        """Show a notification and keep it in the centre; returns it. ``level`` is info,
        warning or error; the text of a warning or error is made ``actionable`` (the raw
        text goes to the log)."""
        level = level if level in LEVELS else "info"
        shown = actionable(text) if level != "info" else text
        note = Note(title, shown, level)
        self.recent.appendleft(note)
        self.unread += 1
        getattr(log, "warning" if note.level != "info" else "info")("notification: %s — %s", title, text)
        if self.has_tray and self.window is not None and not self.window.isActiveWindow():
            icon = {
                "info": QSystemTrayIcon.MessageIcon.Information,
                "warning": QSystemTrayIcon.MessageIcon.Warning,
                "error": QSystemTrayIcon.MessageIcon.Critical,
            }[note.level]
            self.tray.showMessage(title, note.text, icon, 5000)  # type: ignore[union-attr]  # the actionable text
        elif self.window is not None:
            self._toast(note)
        self._rebuild_recent()
        self.notified.emit(note)
        self.changed.emit()
        return note

    def mark_read(self) -> None:
        """The user has seen the list (the centre was opened)."""
        if self.unread:
            self.unread = 0
            self.changed.emit()

    def clear(self) -> None:
        """Forget every notification."""
        self.recent.clear()
        self.unread = 0
        self._rebuild_recent()
        self.changed.emit()

    def _toast(self, note: Note) -> None:
        w = self.window
        assert w is not None
        self._toasts = [t for t in self._toasts if _alive(t)]
        if len(self._toasts) >= MAX_TOASTS:
            return  # kept in the centre (the bell counts it); a stack of toasts would cover the docks
        t = Toast(w, note)
        t.destroyed.connect(lambda *_: None)
        y = w.height() - 40 - t.height() - sum(x.height() + 8 for x in self._toasts)
        t.move(QPoint(max(8, w.width() - t.width() - 16), max(8, y)))
        t.show()
        t.raise_()
        self._toasts.append(t)

    def _rebuild_recent(self) -> None:
        if self.recent_menu is None:
            return
        self.recent_menu.clear()
        if not self.recent:
            a = self.recent_menu.addAction("(none yet)")
            a.setEnabled(False)
        for n in list(self.recent)[:20]:
            self.recent_menu.addAction(f"{n.title}: {n.text[:60]}")

    def _toggle_window(self) -> None:
        if self.window is None:
            return
        if self.window.isVisible() and not self.window.isMinimized():
            self.window.hide()
        else:
            self.window.showNormal()
            self.window.raise_()
            self.window.activateWindow()

    def _on_tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self._toggle_window()


def _alive(w: QWidget) -> bool:
    try:
        return w.isVisible()
    except RuntimeError:  # deleted C++ object
        return False
