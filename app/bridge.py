"""The one place that turns engine bus events into Qt signals on the GUI thread.

``QtBridge.watch(EventType)`` subscribes to the bus; each event is re-emitted through
``event_received`` (a queued ``Signal(object)``), so slots run on the GUI thread whatever
thread published it (vnpy ``BaseMonitor.register_event``, improved with typed events).
Views connect with ``bridge.connect(EventType, slot)``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from engine.events import Event, EventBus


class QtBridge(QObject):
    event_received = Signal(object)

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bus = bus
        self._slots: dict[type[Event], list[Callable[[Any], None]]] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        self.event_received.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)

    def connect(self, event_type: type[Event], slot: Callable[[Any], None]) -> None:
        """Call ``slot(event)`` on the GUI thread for every ``event_type`` published."""
        if event_type not in self._slots:
            self._slots[event_type] = []
            self._unsubscribe.append(self.bus.subscribe(event_type, self.event_received.emit))
        self._slots[event_type].append(slot)

    def _dispatch(self, event: Event) -> None:
        for cls in type(event).__mro__:
            for slot in list(self._slots.get(cls, ())):
                slot(event)

    def close(self) -> None:
        for unsub in self._unsubscribe:
            unsub()
        self._unsubscribe.clear()
        self._slots.clear()
