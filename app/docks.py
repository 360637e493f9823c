"""The dock registry: every dock the main window can show.

A ``DockSpec`` names a dock by a stable ASCII id (its ``objectName``, which
``saveState``/``restoreState`` key on — never the translated title), its title, the
factory that builds its content from the ``AppContext``, and where it goes by default.
Content is built on first show, so hidden docks cost nothing at start-up.
Later features add their docks to ``DOCKS`` (one line each).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from app.context import AppContext

Area = Qt.DockWidgetArea


@dataclass(frozen=True)
class DockSpec:
    id: str
    title: str
    factory: Callable[["AppContext"], QWidget]
    area: Qt.DockWidgetArea = Area.RightDockWidgetArea
    visible: bool = True  # in the default layout
    shortcut: str | None = None
    tabify_with: str | None = None  # id of a dock to share a tab group with by default


def _chart(ctx: "AppContext") -> QWidget:
    from widgets.chart import ChartWidget

    w = ChartWidget(ctx.data, ctx.tasks)
    ctx.register_chart(w)
    return w


def _watchlist(ctx: "AppContext") -> QWidget:
    from widgets.watchlist import WatchlistWidget

    w = WatchlistWidget(ctx.watchlists, ctx.data, ctx.tasks)
    w.symbol_activated.connect(ctx.open_symbol)
    return w


DOCKS: list[DockSpec] = [
    DockSpec("chart", "Chart", _chart, Area.RightDockWidgetArea, shortcut="Ctrl+1"),
    DockSpec("watchlist", "Watchlist", _watchlist, Area.LeftDockWidgetArea, shortcut="Ctrl+2"),
]


def dock_specs() -> list[DockSpec]:
    return list(DOCKS)
