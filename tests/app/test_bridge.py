"""The Qt bridge: one delivery per subscription, faults isolated, slots die with their owner."""
import logging
import threading
from dataclasses import dataclass

import shiboken6
from PySide6.QtWidgets import QApplication, QLabel

from app.bridge import QtBridge
from engine.events import Event, EventBus


@dataclass(frozen=True, slots=True)
class Base(Event):
    n: int


@dataclass(frozen=True, slots=True)
class Sub(Base):
    pass


def _flush(qtbot):
    qtbot.wait(20)
    QApplication.processEvents()


def test_a_slot_on_a_subclass_and_one_on_its_base_each_get_the_event_once(qtbot):
    bus = EventBus()
    bridge = QtBridge(bus)
    on_sub, on_base = [], []
    bridge.connect(Sub, on_sub.append)
    bridge.connect(Base, on_base.append)
    bus.publish(Sub(1))
    bus.publish(Base(2))
    _flush(qtbot)
    assert on_sub == [Sub(1)]
    assert on_base == [Sub(1), Base(2)]
    bridge.close()


def test_a_raising_slot_does_not_stop_the_others_and_is_logged(qtbot, caplog):
    bus = EventBus()
    bridge = QtBridge(bus)
    got = []

    def boom(_e):
        raise RuntimeError("broken view")

    bridge.connect(Base, boom)
    bridge.connect(Base, got.append)
    with caplog.at_level(logging.ERROR, logger="app.bridge"):
        bus.publish(Base(1))
        _flush(qtbot)
    assert got == [Base(1)]
    assert any("broken view" in r.getMessage() or (r.exc_info and "broken view" in str(r.exc_info[1]))
               for r in caplog.records)
    bridge.close()


def test_slots_are_dropped_when_their_owner_widget_is_destroyed(qtbot):
    bus = EventBus()
    bridge = QtBridge(bus)
    label = QLabel()
    got = []
    bridge.connect(Base, lambda e: label.setText(str(e.n)), owner=label)
    bridge.connect(Base, got.append)
    assert bridge.slot_count() == 2
    bus.publish(Base(1))
    _flush(qtbot)
    assert label.text() == "1"
    shiboken6.delete(label)
    assert bridge.slot_count() == 1
    bus.publish(Base(2))
    _flush(qtbot)
    assert got == [Base(1), Base(2)]
    bridge.close()


def test_a_deleted_widget_without_owner_is_logged_not_fatal(qtbot, caplog):
    bus = EventBus()
    bridge = QtBridge(bus)
    label = QLabel()
    got = []
    bridge.connect(Base, lambda e: label.setText(str(e.n)))  # no owner: the slot outlives it
    bridge.connect(Base, got.append)
    shiboken6.delete(label)
    with caplog.at_level(logging.ERROR, logger="app.bridge"):
        bus.publish(Base(3))
        _flush(qtbot)
    assert got == [Base(3)]
    assert caplog.records
    bridge.close()


def test_bound_methods_of_a_qobject_are_owned_by_it(qtbot):
    bus = EventBus()
    bridge = QtBridge(bus)
    label = QLabel()
    bridge.connect(Base, label.setObjectName)  # wrong type on purpose: only ownership matters
    assert bridge.slot_count() == 1
    shiboken6.delete(label)
    assert bridge.slot_count() == 0
    bridge.close()


def test_events_published_on_a_worker_thread_reach_slots_on_the_gui_thread(qtbot):
    bus = EventBus()
    bridge = QtBridge(bus)
    threads = []
    bridge.connect(Base, lambda _e: threads.append(threading.current_thread()))
    t = threading.Thread(target=bus.publish, args=(Base(1),))
    t.start()
    t.join()
    qtbot.waitUntil(lambda: bool(threads), timeout=2000)
    assert threads == [threading.main_thread()]
    bridge.close()


def test_closed_bridge_delivers_nothing(qtbot):
    bus = EventBus()
    bridge = QtBridge(bus)
    got = []
    bridge.connect(Base, got.append)
    bridge.close()
    bus.publish(Base(1))
    _flush(qtbot)
    assert got == []


def test_a_slot_subscribed_by_name_imports_nothing_and_gets_the_events_once(qtbot):
    import sys

    sys.modules.pop("tests.app._late_events", None)
    bus = EventBus()
    bridge = QtBridge(bus)
    got, dropped = [], []
    bridge.connect("tests.app._late_events:Late", got.append)
    unsubscribe = bridge.connect("tests.app._late_events:Late", dropped.append)
    assert "tests.app._late_events" not in sys.modules  # the first frame imports nothing for it
    assert bridge.slot_count() == 2
    unsubscribe()  # before the class is known
    from tests.app._late_events import Late, LateSub

    bus.publish(LateSub(1))
    bus.publish(Late(2))
    bus.publish(Base(3))
    _flush(qtbot)
    assert got == [LateSub(1), Late(2)] and dropped == []
    # once bound, a later subscription by name binds at once (the module is imported)
    more = []
    bridge.connect("tests.app._late_events:LateSub", more.append)
    bus.publish(LateSub(4))
    _flush(qtbot)
    assert got == [LateSub(1), Late(2), LateSub(4)] and more == [LateSub(4)]
    bridge.close()


def test_a_name_that_is_not_an_event_class_is_refused(qtbot):
    import pytest

    import tests.app._late_events  # noqa: F401 - imported, so the name is checked at once

    bridge = QtBridge(EventBus())
    with pytest.raises(TypeError, match="not an event class"):
        bridge.connect("tests.app._late_events:NOT_AN_EVENT", print)
    bridge.close()
