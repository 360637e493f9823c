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
    split_with: str | None = None  # id of a dock to sit beside (to its right) by default
    size: int | None = None  # default width (left/right/split) or height (top/bottom), px


def _chart(ctx: "AppContext") -> QWidget:
    from widgets.chart import ChartWidget

    w = ChartWidget(ctx.data, ctx.tasks)
    w.set_formula_source(ctx.formulas.parse, lambda: sorted(ctx.formulas.custom_map()))
    from engine.formula.service import CustomIndicatorsChanged

    ctx.bridge.connect(CustomIndicatorsChanged, lambda _e, w=w: w.refresh_overlays())
    ctx.register_chart(w)
    return w


def _watchlist(ctx: "AppContext") -> QWidget:
    from widgets.watchlist import WatchlistWidget

    w = WatchlistWidget(ctx.watchlists, ctx.data, ctx.tasks)
    w.symbol_activated.connect(ctx.open_symbol)
    from engine.events import WatchlistChanged

    # other docks (the scanner's "Add to watchlist") change lists too
    ctx.bridge.connect(WatchlistChanged, lambda _e, w=w: w.reload_lists())
    return w


def _scanner(ctx: "AppContext") -> QWidget:
    from app.indicators import open_indicator_builder
    from engine.events import WatchlistChanged
    from engine.formula.service import CustomIndicatorsChanged
    from widgets.scanner import ScannerWidget

    w = ScannerWidget(ctx.scanner, ctx.scan_store, ctx.formulas, ctx.watchlists, ctx.data, ctx.tasks)
    saved = ctx.kv.get("scanner.state")
    if isinstance(saved, dict):
        w.restore_state(saved)
    # the dock's setup survives a restart: saved when a scan starts and when the app closes
    w.scan_started.connect(lambda w=w: ctx.kv.set("scanner.state", w.state()))
    ctx.on_close.append(lambda w=w: ctx.kv.set("scanner.state", w.state()))
    w.symbol_activated.connect(ctx.open_symbol)
    w.indicator_builder_requested.connect(lambda: open_indicator_builder(ctx, w.window()))
    ctx.bridge.connect(WatchlistChanged, lambda _e, w=w: w.reload_universes())
    ctx.bridge.connect(CustomIndicatorsChanged, lambda _e, w=w: w.revalidate())
    return w


def _trading(name: str) -> Callable[["AppContext"], QWidget]:
    def factory(ctx: "AppContext") -> QWidget:
        from app import trading

        return getattr(trading, name)(ctx)  # type: ignore[no-any-return]

    return factory


DOCKS: list[DockSpec] = [
    DockSpec("chart", "Chart", _chart, Area.RightDockWidgetArea, shortcut="Ctrl+1"),
    DockSpec("watchlist", "Watchlist", _watchlist, Area.LeftDockWidgetArea, shortcut="Ctrl+2"),
    DockSpec("scanner", "Scanner", _scanner, Area.RightDockWidgetArea, shortcut="Ctrl+3"),
    # paper trading: the ticket beside the chart; the blotters share the scanner's tab group
    # under the chart (or the bottom area when there is no scanner dock)
    DockSpec("order_ticket", "Order Ticket", _trading("order_ticket"), split_with="chart", size=300, shortcut="Ctrl+T"),
    DockSpec("positions", "Positions", _trading("positions"), Area.BottomDockWidgetArea, size=250, tabify_with="scanner"),
    DockSpec("orders", "Working Orders", _trading("working_orders"), Area.BottomDockWidgetArea, tabify_with="positions"),
    DockSpec("fills", "Fills", _trading("fills"), Area.BottomDockWidgetArea, tabify_with="positions"),
    DockSpec("order_history", "Order History", _trading("order_history"), Area.BottomDockWidgetArea,
             visible=False, tabify_with="positions"),
    DockSpec("account", "Account", _trading("account"), Area.BottomDockWidgetArea, tabify_with="positions"),
]


def dock_specs() -> list[DockSpec]:
    return list(DOCKS)
