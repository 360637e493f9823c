"""The command palette (Ctrl+Shift+P, ``app/palette.py``), the keyboard shortcuts dialog
(``app/shortcuts.py``) and the first-run wizard (``app/wizard.py``), both in Help."""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.features import ActionSpec, Feature

if TYPE_CHECKING:
    from app.context import AppContext
    from app.mainwindow import MainWindow


def _open_palette(ctx: "AppContext", window: "MainWindow") -> None:
    from app.palette import open_palette

    window._palette = open_palette(window)  # type: ignore[attr-defined]  # kept until it closes


def _open_shortcuts(ctx: "AppContext", window: "MainWindow") -> None:
    from app.shortcuts import open_shortcuts

    window._shortcuts = open_shortcuts(window)  # type: ignore[attr-defined]


def _open_wizard(ctx: "AppContext", window: "MainWindow") -> None:
    from app.wizard import open_wizard

    open_wizard(window)


def _start(ctx: "AppContext") -> None:
    if ctx.window is not None:
        from app.shortcuts import apply_saved

        apply_saved(ctx.window)


FEATURE = Feature(
    id="palette",
    title="Command palette",
    actions=(
        ActionSpec("palette.open", "Command &palette…", _open_palette, "Ctrl+Shift+P", menu="&View"),
        ActionSpec("shortcuts.open", "&Keyboard shortcuts…", _open_shortcuts, None, menu="&Help"),
        ActionSpec("wizard.open", "&First-run wizard…", _open_wizard, None, menu="&Help"),
    ),
    start=_start,
)
