"""A small typed publish/subscribe bus, and the shell-level events.

Engine objects announce changes by publishing frozen dataclass events; subscribers register
for an event *class* (and receive subclasses too). There is no Qt here: ``app/bridge.py`` is
the one place that turns bus events into Qt signals delivered on the GUI thread.

There is no process-wide bus: each workstation (``app.main.build_workstation``) makes one
and hands it to its services, which take it as a required argument, so an embedded service
or a sync client in the same process cannot share it by accident.

Handlers run synchronously on the publishing thread. A handler that raises is logged and
does not stop the other handlers (one broken view must not break the broker).

Domain events live with their domain: ``engine.data.events`` (``BarsUpdated``),
``engine.formula.events`` (``CustomIndicatorsChanged``), ``engine.watchlists``
(``WatchlistChanged``), ``engine.paper.events`` (orders, fills, positions, accounts).
Here are only the events of the shell itself.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E", bound="Event")


@dataclass(frozen=True, slots=True)
class Event:
    """Base class of every bus event."""


@dataclass(frozen=True, slots=True)
class SymbolActivated(Event):
    """The user opened ``symbol`` from a watchlist, the scanner, a blotter or the symbol
    search (published by ``AppContext.open_symbol`` after the charts were told)."""

    symbol: str


@dataclass(frozen=True, slots=True)
class Notification(Event):
    """Something the user should see, from any thread: shown in the tray or as an in-app
    toast. ``level`` is "info", "warning" or "error"."""

    title: str
    text: str
    level: str = "info"  # "info" | "warning" | "error"


@dataclass(frozen=True, slots=True)
class SettingsChanged(Event):
    """The user changed preference ``key`` (a settings-schema key) to ``value`` in the
    Settings dialog; published after the key's own ``apply`` hook ran."""

    key: str
    value: Any


Handler = Callable[[Any], None]


class EventBus:
    """Thread-safe typed publish/subscribe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._handlers: dict[type[Event], list[Handler]] = {}

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        """Call ``handler(event)`` for every published ``event_type`` (or subclass).

        Returns a function that unsubscribes.
        """
        with self._lock:
            self._handlers.setdefault(event_type, []).append(handler)

        def unsubscribe() -> None:
            with self._lock:
                handlers = self._handlers.get(event_type, [])
                if handler in handlers:
                    handlers.remove(handler)

        return unsubscribe

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to the handlers of its class and of its base classes."""
        with self._lock:
            targets: list[Handler] = []
            for cls in type(event).__mro__:
                targets.extend(self._handlers.get(cls, ()))
        for handler in targets:
            try:
                handler(event)
            except Exception:  # noqa: BLE001 - one bad handler must not stop the others
                log.exception("event handler %r failed on %r", handler, event)


_MOVED = {"BarsUpdated": "engine.data.events", "CustomIndicatorsChanged": "engine.formula.events",
          "WatchlistChanged": "engine.watchlists"}


def __getattr__(name: str) -> Any:
    """Events that moved to their domain stay importable from here (for code written before)."""
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
