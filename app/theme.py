"""Dark and light themes: a Qt palette, a small stylesheet, and pyqtgraph colours.

Widgets read chart colours from ``widgets.style.CHART`` (set here) so they do not import app/.
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from widgets import style

THEMES = ("dark", "light")

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


def apply_theme(app: QApplication, name: str) -> str:
    """Apply ``name`` ("dark"/"light"; anything else falls back to dark). Returns the theme used."""
    if name not in THEMES:
        name = "dark"
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
    app.setStyleSheet(
        f"""
        QDockWidget::title {{ padding: 4px 6px; background: {c['button']}; }}
        QStatusBar QLabel#demoBadge {{ background: #b7791f; color: white; border-radius: 3px; padding: 1px 6px; font-weight: bold; }}
        QLabel#toast {{ background: {c['button']}; color: {c['text']}; border: 1px solid {c['mid']}; border-radius: 6px; padding: 8px 12px; }}
        QLabel#hint {{ color: {c['disabled']}; }}
        """
    )
    style.set_chart_theme(name)
    return name
