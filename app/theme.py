"""Dark and light themes: a Qt palette, a few per-widget styles, and pyqtgraph colours.

Widgets read chart colours from ``widgets.style.CHART`` (set here) so they do not import app/.

There is deliberately no application-wide style sheet: with one, Qt runs every widget of
the app through ``QStyleSheetStyle`` (each polish, reparenting and size hint), which made
building and first painting the workstation measurably slower (issue 8). The few widgets
that need more than the palette carry their own style:

* hint labels (``objectName`` ``"hint"``): the muted text colour, through the palette role
  ``PlaceholderText`` (so a theme change needs nothing more); ``polish(widget)`` gives it to
  every hint label under a widget (the main window calls it on each dock's content when it is
  built, and on the dialogs it opens);
* the demo-data badge (``DEMO_BADGE_CSS``), toasts (``toast_css()``) and the native title bar
  of docks without a title bar widget of their own (``dock_title_css()``).
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from widgets import style

THEMES = ("dark", "light")
HINT = "hint"

_PALETTES = {
    "dark": {
        "window": "#1e2127", "base": "#16181d", "alt": "#21252b", "text": "#d7dae0",
        "button": "#2a2e36", "highlight": "#2f6fed", "hltext": "#ffffff", "mid": "#3a3f4b",
        "tooltip": "#2a2e36", "link": "#6fa8ff", "disabled": "#6b717d",
    },
    "light": {
        "window": "#f3f4f6", "base": "#ffffff", "alt": "#f7f8fa", "text": "#1d2430",
        "button": "#e8eaee", "highlight": "#2f6fed", "hltext": "#ffffff", "mid": "#c9ced6",
        "tooltip": "#ffffff", "link": "#1f5fd1", "disabled": "#9aa1ad",
    },
}

#: The "Demo data" badge in the status bar (the same in both themes).
DEMO_BADGE_CSS = "background: #b7791f; color: white; border-radius: 3px; padding: 1px 6px; font-weight: bold;"

_current = "dark"


def current() -> str:
    """The theme last applied ("dark" before any)."""
    return _current


def toast_css() -> str:
    """The style of an in-app toast in the current theme."""
    c = _PALETTES[_current]
    return (f"background: {c['button']}; color: {c['text']}; border: 1px solid {c['mid']}; "
            "border-radius: 6px; padding: 8px 12px;")


def dock_title_css() -> str:
    """The style of a dock's native title bar in the current theme (set on the dock)."""
    return f"QDockWidget::title {{ padding: 4px 6px; background: {_PALETTES[_current]['button']}; }}"


def style_hint(label: QLabel) -> None:
    """Show ``label`` in the muted hint colour (follows theme changes)."""
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)


def polish(root: QWidget) -> None:
    """Give every hint label under ``root`` (``root`` included) its colour."""
    if isinstance(root, QLabel) and root.objectName() == HINT:
        style_hint(root)
    for label in root.findChildren(QLabel, HINT):
        style_hint(label)


def apply_theme(app: QApplication, name: str) -> str:
    """Apply ``name`` ("dark"/"light"; anything else falls back to dark). Returns the theme used.

    Sets the application palette and the chart colours; the per-widget styles above are
    the caller's (``MainWindow.set_theme`` restyles its docks)."""
    global _current
    if name not in THEMES:
        name = "dark"
    _current = name
    c = _PALETTES[name]
    app.setStyle("Fusion")
    pal = QPalette()
    role = QPalette.ColorRole
    pal.setColor(role.Window, QColor(c["window"]))
    pal.setColor(role.WindowText, QColor(c["text"]))
    pal.setColor(role.Base, QColor(c["base"]))
    pal.setColor(role.AlternateBase, QColor(c["alt"]))
    pal.setColor(role.ToolTipBase, QColor(c["tooltip"]))
    pal.setColor(role.ToolTipText, QColor(c["text"]))
    pal.setColor(role.PlaceholderText, QColor(c["disabled"]))
    pal.setColor(role.Text, QColor(c["text"]))
    pal.setColor(role.Button, QColor(c["button"]))
    pal.setColor(role.ButtonText, QColor(c["text"]))
    pal.setColor(role.BrightText, QColor("#ff5555"))
    pal.setColor(role.Highlight, QColor(c["highlight"]))
    pal.setColor(role.HighlightedText, QColor(c["hltext"]))
    pal.setColor(role.Link, QColor(c["link"]))
    pal.setColor(role.Mid, QColor(c["mid"]))
    for r in (role.Text, role.WindowText, role.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, r, QColor(c["disabled"]))
    app.setPalette(pal)
    style.set_chart_theme(name)
    return name
