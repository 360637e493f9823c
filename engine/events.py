"""A small typed publish/subscribe bus.

Engine objects announce changes by publishing frozen dataclass events; subscribers register
for an event *class* (and receive subclasses too). There is no Qt here: ``app/bridge.py`` is
the one place that turns bus events into Qt signals delivered on the GUI thread.

Handlers run synchronously on the publishing thread. A handler that raises is logged and
does not stop the other handlers (one broken view must not break the broker).
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
class BarsUpdated(Event):
    """New or changed bars were stored for (symbol, timeframe)."""

    symbol: str
    timeframe: str
    rows: int


@dataclass(frozen=True, slots=True)
class SymbolActivated(Event):
    """The user asked to open a symbol (in the active chart)."""

    symbol: str


@dataclass(frozen=True, slots=True)
class WatchlistChanged(Event):
    name: str


@dataclass(frozen=True, slots=True)
class Notification(Event):
    """Something the user should see: shown in the tray or as an in-app toast."""

    title: str
    text: str
    level: str = "info"  # "info" | "warning" | "error"


@dataclass(frozen=True, slots=True)
class SettingsChanged(Event):
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


#: The process-wide bus. Engine services accept a bus argument (tests pass their own)
#: and default to this one.
bus = EventBus()
