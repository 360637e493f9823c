"""The one place that turns engine bus events into Qt calls on the GUI thread.

The bridge subscribes to the bus once (for every ``Event``); each event that some slot
wants is re-emitted through ``event_received`` (a queued ``Signal(object)``), so slots run
on the GUI thread whatever thread published it (vnpy ``BaseMonitor.register_event``,
improved with typed events). Views connect with ``bridge.connect(EventType, slot, owner)``.

Rules:

* **One delivery per subscription.** A slot connected to ``EventType`` is called once for
  each published ``EventType`` or subclass (a slot connected to a base class *and* a
  subclass has two subscriptions and is called twice, once for each).
* **Isolation.** A slot that raises, or whose widget has been deleted, is logged and never
  stops delivery to the other slots.
* **By name.** ``connect("package.module:QualName", slot)`` subscribes to an event class
  without importing its module: the slot is bound to the class when the first event of it
  (or of a subclass) arrives, or at once if the module is imported already. The first frame
  thus need not import the paper broker for the journal's fill subscription (issue 8).
* **Lifetime.** Slots connected with an ``owner`` (a ``QObject``, typically the widget the
  slot updates; a bound method of a ``QObject`` is its own owner) are disconnected when the
  owner is destroyed.
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal

from engine.events import Event, EventBus

log = logging.getLogger(__name__)


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _imported(type_path: str) -> type[Event] | None:
    """The event class named ``type_path`` if its module is imported already, else None."""
    module, _, qualname = type_path.partition(":")
    obj: object = sys.modules.get(module)
    for part in qualname.split(".") if obj is not None else ():
        obj = getattr(obj, part, None)
    if not (isinstance(obj, type) and issubclass(obj, Event)):
        if obj is not None and module in sys.modules:
            raise TypeError(f"{type_path} is not an event class")
        return None
    return obj


@dataclass(eq=False)
class _Slot:
    event_type: type[Event] | str  # a class name until the first event of it arrives
    fn: Callable[[Any], None]
    owner: QObject | None


class QtBridge(QObject):
    event_received = Signal(object)

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bus = bus
        self._slots: dict[type[Event], list[_Slot]] = {}
        self._named: dict[str, list[_Slot]] = {}  # "module:QualName" -> slots not bound yet
        self.event_received.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = bus.subscribe(Event, self._on_bus_event)

    def connect(self, event_type: type[Event] | str, slot: Callable[[Any], None],
                owner: QObject | None = None) -> Callable[[], None]:
        """Call ``slot(event)`` on the GUI thread for every ``event_type`` published, until
        ``owner`` is destroyed or the returned function is called. ``event_type`` may be
        the class's ``"package.module:QualName"`` (see the module docstring); raises
        ``TypeError`` if that names something other than an event class."""
        if owner is None and isinstance(getattr(slot, "__self__", None), QObject):
            owner = slot.__self__  # type: ignore[attr-defined]
        if isinstance(event_type, str):
            event_type = _imported(event_type) or event_type
        entry = _Slot(event_type, slot, owner)
        if isinstance(event_type, str):
            self._named.setdefault(event_type, []).append(entry)
        else:
            self._slots.setdefault(event_type, []).append(entry)
        if owner is not None:
            owner.destroyed.connect(lambda *_a, e=entry: self._drop(e))
        return lambda e=entry: self._drop(e)

    def slot_count(self) -> int:
        return sum(len(v) for v in self._slots.values()) + sum(len(v) for v in self._named.values())

    def _drop(self, entry: _Slot) -> None:
        t = entry.event_type
        slots = self._named.get(t) if isinstance(t, str) else self._slots.get(t)
        if slots and entry in slots:
            slots.remove(entry)

    def _on_bus_event(self, event: Event) -> None:
        # Runs on the publishing thread: cross to the GUI thread only if someone listens.
        # by name first: _dispatch adds a named slot to _slots before it leaves _named
        mro = type(event).__mro__
        if (self._named and any(_name(c) in self._named for c in mro)) or any(self._slots.get(cls) for cls in mro):
            self.event_received.emit(event)

    def _dispatch(self, event: Event) -> None:
        if self._named:  # bind the slots subscribed by name to the classes now known
            for cls in type(event).__mro__:
                key = _name(cls)
                named = self._named.get(key)
                if named is None:
                    continue
                for entry in named:
                    entry.event_type = cls
                self._slots.setdefault(cls, []).extend(named)
                del self._named[key]
        for cls in type(event).__mro__:
            for entry in list(self._slots.get(cls, ())):
                if entry.owner is not None and not shiboken6.isValid(entry.owner):
                    self._drop(entry)  # its widget is gone (destroyed before we heard of it)
                    continue
                try:
                    entry.fn(event)
                except Exception:  # noqa: BLE001 - one broken view must not starve the others
                    log.exception("slot %r failed on %r", entry.fn, event)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._slots.clear()
        self._named.clear()
