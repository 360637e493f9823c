"""The Journal dock: search by any field, the editor saves (autosave) and shows refusals,
undo/redo, deleting asks first, the calendar shows daily P&L."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QDate

from engine.journal.store import JournalStore
from tests.engine.journal.stubs import ms, trip
from widgets.journal import JournalWidget


def _dock(qtbot, tmp_path, **kw):
    store = JournalStore.open(tmp_path / "j.sqlite3")
    a = store.add(trip(120, ms(2024, 3, 4), "AAPL")).entry
    b = store.add(trip(-80, ms(2024, 3, 5), "MSFT")).entry
    store.edit(b.id, setups=["breakout"], emotion_before="anxious", notes="Moved my stop")
    w = JournalWidget(store, **kw)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    return w, store, a, b


def test_search_by_any_field_or_one_field(qtbot, tmp_path):
    w, _, a, b = _dock(qtbot, tmp_path)
    assert [e.id for e in w.visible_entries()] == [b.id, a.id]  # newest first
    w.search.setText("stop moved")  # words in any order, any case, in the notes
    assert [e.id for e in w.visible_entries()] == [b.id] and w.count.text() == "1 of 2"
    w.search.setText("anxious")
    w.search_field.setCurrentText("setup")
    assert w.visible_entries() == []
    w.search_field.setCurrentText("emotion")
    assert [e.id for e in w.visible_entries()] == [b.id]
    w.search.setText("aapl")
    w.search_field.setCurrentText("symbol")
    assert [e.id for e in w.visible_entries()] == [a.id]


@pytest.mark.parametrize("in_worker", [False, True], ids=["sync", "worker"])
def test_editor_autosaves_refuses_bad_values_and_undoes(qtbot, tmp_path, in_worker):
    from app.workers import TaskRunner

    w, store, a, _ = _dock(qtbot, tmp_path, tasks=TaskRunner() if in_worker else None)
    w.select_entry(a.id)
    qtbot.keyClicks(w.editor.tags, "FOMO, news")
    w.editor.confidence.setCurrentText("4")
    qtbot.waitUntil(lambda: store.get(a.id).fields.confidence == 4, timeout=3000)
    assert store.get(a.id).fields.tags == ("FOMO", "news")
    w.editor.tags.setText("x" * 70)
    w.editor.changed.emit()
    assert not w.save_now() and "longer than 64" in w.editor.error.text()
    assert store.get(a.id).fields.tags == ("FOMO", "news")  # nothing written
    w.editor.tags.setText("FOMO, news")
    w.editor.changed.emit()
    assert w.save_now() and w.editor.error.text() == ""
    w.undo()
    assert store.get(a.id).fields.tags == () and w.editor.tags.text() == ""
    w.redo()
    assert w.editor.tags.text() == "FOMO, news"


def test_delete_asks_and_a_no_keeps_the_entry(qtbot, tmp_path):
    answers = []
    w, store, a, _ = _dock(qtbot, tmp_path, confirm_delete=lambda text: answers.append(text) or answers[-1] == "")
    w.select_entry(a.id)
    w.delete_current()
    assert store.count() == 2 and "AAPL long" in answers[0] and "cannot be undone" in answers[0]
    w.confirm_delete = lambda text: True
    w.delete_current()
    assert store.count() == 1 and [e.id for e in w.visible_entries()] != [a.id]


def test_calendar_colours_days_with_trades(qtbot, tmp_path):
    w, _, _, _ = _dock(qtbot, tmp_path)
    w.calendar.setSelectedDate(QDate(2024, 3, 5))
    assert w.day_label.text() == "2024-03-05: -$80.00 over 1 trade"
    fmt = w.calendar.dateTextFormat(QDate(2024, 3, 4))
    assert fmt.background().color().green() > fmt.background().color().red()  # a gain is green
    w.tabs.setCurrentIndex(1)
    w.show()
    w.grab().save(str(tmp_path / "calendar.png"))


def test_autosave_commits_in_a_worker_and_a_flush_loses_nothing_typed(qtbot, tmp_path, monkeypatch):
    import threading

    from app.workers import TaskRunner

    w, store, a, b = _dock(qtbot, tmp_path, tasks=TaskRunner())
    threads = []
    edit = store.edit
    monkeypatch.setattr(store, "edit", lambda *args, **kw: threads.append(threading.current_thread()) or edit(*args, **kw))
    w.show()
    w.select_entry(a.id)
    qtbot.keyClicks(w.editor.notes, "first thought")
    qtbot.waitUntil(lambda: store.get(a.id).fields.notes == "first thought", timeout=5000)
    assert threads and threads[-1] is not threading.main_thread()  # the timed autosave ran in a worker
    qtbot.keyClicks(w.editor.notes, ", then more")  # typed, and the dock hides before the timer fires
    w.hide()
    assert store.get(a.id).fields.notes == "first thought, then more"
    assert threads[-1] is threading.main_thread()
