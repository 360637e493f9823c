"""Opening the custom indicator builder from the menu and from the scanner dock."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from app.theme import polish

if TYPE_CHECKING:
    from app.context import AppContext
    from widgets.indicator_builder import IndicatorBuilderDialog


class IndicatorBuilderHost:
    """Keeps the one open builder dialog (the indicators feature's service)."""

    def __init__(self) -> None:
        self.dialog: IndicatorBuilderDialog | None = None


def open_indicator_builder(ctx: "AppContext", parent: QWidget | None = None) -> "IndicatorBuilderDialog":
    """Show the builder (non-modal) previewing the active chart's symbol; returns the dialog.

    Saving or deleting publishes ``CustomIndicatorsChanged`` on the bus; the chart and
    scanner features subscribe to it (``app/features/``).
    """
    from widgets.indicator_builder import IndicatorBuilderDialog

    host = ctx.service(IndicatorBuilderHost)
    existing = host.dialog
    if existing is not None and existing.isVisible():
        existing.raise_()
        existing.activateWindow()
        return existing
    chart = ctx.active_chart
    symbol = chart.symbol if chart is not None and chart.symbol else None
    timeframe = chart.timeframe if chart is not None else "1d"
    if symbol is None:
        names = ctx.watchlists.names()
        syms = ctx.watchlists.symbols(names[0]) if names else []
        symbol = syms[0] if syms else None
    dlg = IndicatorBuilderDialog(ctx.formulas, ctx.data, ctx.tasks, symbol=symbol, timeframe=timeframe, parent=parent)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    polish(dlg)  # its hint labels (app.theme: there is no application-wide style sheet)
    dlg.destroyed.connect(lambda *_: setattr(host, "dialog", None))
    host.dialog = dlg
    dlg.show()
    return dlg

