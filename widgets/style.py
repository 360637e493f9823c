"""Chart colours shared by the widgets; the app's theme sets them (widgets can't import app/)."""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal


@dataclass(frozen=True)
class ChartColors:
    background: str
    foreground: str
    grid_alpha: float
    up: str
    down: str
    volume_up: str
    volume_down: str
    crosshair: str
    demo_badge: str
    overlays: tuple[str, ...]
    separator: str = "#2a2e39"  # the line between chart panes (the splitter handle)


DARK = ChartColors(
    background="#16181d", foreground="#b8bdc7", grid_alpha=0.15, up="#26a69a", down="#ef5350",
    volume_up="#1f6f69", volume_down="#8a3533", crosshair="#8891a0", demo_badge="#b7791f",
    overlays=("#f5c542", "#42a5f5", "#ab47bc", "#ff7043", "#66bb6a"),
)
LIGHT = ChartColors(
    background="#ffffff", foreground="#3b4250", grid_alpha=0.2, up="#089981", down="#f23645",
    volume_up="#8fd3c8", volume_down="#f5a3a9", crosshair="#7a8190", demo_badge="#b7791f",
    overlays=("#d49b00", "#1e88e5", "#8e24aa", "#f4511e", "#43a047"), separator="#d6d9e0",
)


class _ThemeSignals(QObject):
    changed = Signal(object)


CHART: ChartColors = DARK
signals: _ThemeSignals | None = None


def theme_signals() -> _ThemeSignals:
    global signals
    if signals is None:
        signals = _ThemeSignals()
    return signals


def set_chart_theme(name: str) -> None:
    global CHART
    CHART = LIGHT if name == "light" else DARK
    theme_signals().changed.emit(CHART)
