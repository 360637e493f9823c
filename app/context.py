"""AppContext: the services the shell hands to docks (vnpy's MainEngine idea).

Widgets receive engine service objects and the task runner in their constructor; they
never reach into the database or network themselves.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from engine.events import EventBus, SymbolActivated
from engine.store.db import Database
from engine.store.kv import KeyValueStore
from engine.watchlists import WatchlistService

if TYPE_CHECKING:
    from app.bridge import QtBridge
    from app.notify import Notifier
    from app.settings import AppSettings
    from app.workers import TaskRunner
    from engine.data.service import DataService
    from engine.formula.service import FormulaService
    from engine.paper.broker import PaperBroker
    from engine.scanner.scanner import Scanner
    from engine.scanner.store import ScanStore
    from widgets.chart import ChartWidget

log = logging.getLogger(__name__)


class _ContextSignals(QObject):
    chart_registered = Signal(object)
    symbol_opened = Signal(str)


@dataclass
class AppContext:
    db: Database
    data: "DataService"
    settings: "AppSettings"
    bus: EventBus
    bridge: "QtBridge"
    tasks: "TaskRunner"
    notifier: "Notifier"
    watchlists: WatchlistService = field(init=False)
    kv: KeyValueStore = field(init=False)
    charts: list["ChartWidget"] = field(default_factory=list)
    active_chart: "ChartWidget | None" = None
    services: dict[str, Any] = field(default_factory=dict)  # later features' engines
    signals: _ContextSignals = field(default_factory=_ContextSignals)
    show_dock: Any = None  # set by the main window: show_dock(id) -> QWidget
    on_close: list[Any] = field(default_factory=list)  # docks' "save my state" callbacks

    def __post_init__(self) -> None:
        self.watchlists = WatchlistService(self.db, self.bus)
        self.kv = KeyValueStore(self.db)

    # Engine services built on first use (their docks are built on first show), so they
    # cost nothing at start-up.
    @cached_property
    def formulas(self) -> "FormulaService":
        from engine.formula.service import FormulaService

        return FormulaService(self.db, self.bus)

    @cached_property
    def scan_store(self) -> "ScanStore":
        from engine.scanner.store import ScanStore

        return ScanStore(self.db)

    @cached_property
    def scanner(self) -> "Scanner":
        from engine.scanner.scanner import Scanner

        return Scanner.from_service(self.data, self.scan_store, self.formulas)

    @cached_property
    def broker(self) -> "PaperBroker":
        from engine.paper.broker import PaperBroker

        return PaperBroker.open(self.db.path, bus=self.bus)

    def close(self) -> None:
        """Release what the services hold (called once, after the window closed)."""
        for svc in list(self.services.values()):
            if callable(getattr(svc, "close", None)):
                svc.close()  # e.g. the trading session stops its quote timer
        if "broker" in self.__dict__:
            self.broker.close()
        self.bridge.close()
        self.db.dispose()

    def register_chart(self, chart: "ChartWidget") -> None:
        self.charts.append(chart)
        self.active_chart = chart
        chart.symbol_changed.connect(lambda s, c=chart: self._on_chart_symbol(c, s))
        self.signals.chart_registered.emit(chart)

    def _on_chart_symbol(self, chart: "ChartWidget", symbol: str) -> None:
        self.active_chart = chart
        self.settings.set("workspace/symbol", symbol)
        self.settings.set("workspace/timeframe", chart.timeframe)

    def open_symbol(self, symbol: str) -> None:
        """Open ``symbol`` in the active chart (showing the chart dock if hidden)."""
        symbol = symbol.strip().upper()
        if not symbol:
            return
        if self.active_chart is None and self.show_dock is not None:
            self.show_dock("chart")
        if self.active_chart is not None:
            self.active_chart.open_symbol(symbol)
        self.bus.publish(SymbolActivated(symbol))
        self.signals.symbol_opened.emit(symbol)
