"""AppContext: what the shell hands to feature modules and docks (vnpy's MainEngine idea).

Widgets receive engine service objects and the task runner in their constructor; they
never reach into the database or network themselves. Services declared by the feature
modules are built on first use: ``ctx.service(FormulaService)`` finds the feature that
provides that type (``ServiceSpec.type_path``), builds it once and returns it typed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.links import Links
from app.ui_state import UiState
from engine.events import EventBus, SymbolActivated
from engine.store.db import Database
from engine.store.kv import KeyValueStore
from engine.watchlists import WatchlistService

if TYPE_CHECKING:
    from app.bridge import QtBridge
    from app.features import Feature
    from app.chart_registry import ChartRegistry
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
T = TypeVar("T")


class DockHost(Protocol):
    """What the main window offers the context and the feature modules."""

    def show_dock(self, instance_id: str) -> QWidget: ...

    def new_dock(self, spec_id: str) -> QWidget: ...

    def contents(self, spec_id: str) -> list[QWidget]: ...

    def save_dock_states(self) -> None: ...

    def set_theme(self, name: str) -> None: ...


@runtime_checkable
class Closeable(Protocol):
    def close(self) -> object: ...


class _ContextSignals(QObject):
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
    features: list["Feature"] = field(default_factory=list)
    watchlists: WatchlistService = field(init=False)
    kv: KeyValueStore = field(init=False)
    ui: UiState = field(init=False)
    links: Links = field(default_factory=Links)
    signals: _ContextSignals = field(default_factory=_ContextSignals)
    window: DockHost | None = None  # set by the main window
    _services: dict[str, object] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.features:
            from app.features import FEATURES

            self.features = list(FEATURES)
        self.watchlists = WatchlistService(self.db, self.bus)
        self.kv = KeyValueStore(self.db)
        self.ui = UiState(self.kv)

    # ------------------------------------------------------------------ services
    def service(self, kind: type[T]) -> T:
        """The one ``kind`` service of this workstation, built on first use by the feature
        that provides it. Raises ``LookupError`` if no feature provides ``kind``."""
        path = f"{kind.__module__}:{kind.__qualname__}"
        svc = self._services.get(path)
        if svc is None:
            spec = next((s for f in self.features for s in f.services if s.type_path == path), None)
            if spec is None:
                raise LookupError(f"no feature provides {path}")
            svc = spec.factory(self)
            if not isinstance(svc, kind):
                raise TypeError(f"the factory for {path} returned {type(svc).__name__}")
            self._services[path] = svc
        return svc  # type: ignore[return-value]

    def has_service(self, kind: type) -> bool:
        return f"{kind.__module__}:{kind.__qualname__}" in self._services

    # typed accessors for the services many docks use
    @property
    def formulas(self) -> "FormulaService":
        from engine.formula.service import FormulaService

        return self.service(FormulaService)

    @property
    def scan_store(self) -> "ScanStore":
        from engine.scanner.store import ScanStore

        return self.service(ScanStore)

    @property
    def scanner(self) -> "Scanner":
        from engine.scanner.scanner import Scanner

        return self.service(Scanner)

    @property
    def broker(self) -> "PaperBroker":
        from engine.paper.broker import PaperBroker

        return self.service(PaperBroker)

    @property
    def chart_registry(self) -> "ChartRegistry":
        from app.chart_registry import ChartRegistry

        return self.service(ChartRegistry)

    @property
    def charts(self) -> list["ChartWidget"]:
        return list(self.chart_registry.charts.values())

    @property
    def active_chart(self) -> "ChartWidget | None":
        return self.chart_registry.active

    def close(self) -> None:
        """Release what the services hold, newest first (called once, after the window closed)."""
        for svc in reversed(list(self._services.values())):
            if isinstance(svc, Closeable) and not isinstance(svc, QWidget):
                try:
                    svc.close()  # e.g. the trading session stops its quote timer
                except Exception:  # noqa: BLE001 - the others must still be released
                    log.exception("closing %r failed", svc)
        self._services.clear()
        self.bridge.close()
        self.db.dispose()

    # ------------------------------------------------------------------ symbols
    def open_symbol(self, symbol: str, source: str | None = None) -> None:
        """Open ``symbol`` in the charts ``source`` (a dock instance id; None = the symbol
        search) drives under the link-group rules (``app/links.py``)."""
        symbol = symbol.strip().upper()
        if not symbol:
            return
        self.chart_registry.open_symbol(symbol, source)
        self.bus.publish(SymbolActivated(symbol))
        self.signals.symbol_opened.emit(symbol)
