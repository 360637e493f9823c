"""The persisted journal: add (idempotent), edit/undo/redo (persisted), delete, attachments,
autosave under write faults and a killed process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from engine.events import EventBus
from engine.journal.events import JournalChanged
from engine.journal.roundtrips import Execution, round_trips
from engine.journal.snapshot import render_trip_png
from engine.journal.store import EntryFields, JournalStore, trip_from_json, trip_to_json
from engine.store.db import DiskFull
from tests.engine.journal.stubs import ms, trip
from tests.faults import install, integrity

ROOT = Path(__file__).resolve().parents[3]


def scaled_trip():
    """Buy 100 @ 10, buy 100 @ 12 (stop 9), sell 150 @ 13, sell 50 @ 11: FIFO gross
    = 100×3 + 50×1 + 50×(−1) = 300; fees 4 × $1; R = 296 / (|2200 − 1800|) = 0.74."""
    fills = [Execution("AAA", "buy", 100, Decimal("10"), Decimal("1"), ms(2024, 3, 4, 14), stop=Decimal("9")),
             Execution("AAA", "buy", 100, Decimal("12"), Decimal("1"), ms(2024, 3, 4, 15)),
             Execution("AAA", "sell", 150, Decimal("13"), Decimal("1"), ms(2024, 3, 5, 15)),
             Execution("AAA", "sell", 50, Decimal("11"), Decimal("1"), ms(2024, 3, 6, 15))]
    return round_trips(fills)[0]


def test_add_stores_the_round_trip_figures_exactly_and_is_idempotent(tmp_path):
    bus = EventBus()
    seen = []
    bus.subscribe(JournalChanged, seen.append)
    store = JournalStore.open(tmp_path / "j.sqlite3", bus)
    t = scaled_trip()
    first = store.add(t, source="paper", account="Paper")
    again = store.add(t, source="paper", account="Paper")
    assert first.created and not again.created and again.entry.id == first.entry.id
    assert store.count() == 1 and [e.kind for e in seen] == ["added"]
    got = JournalStore.open(tmp_path / "j.sqlite3").get(first.entry.id).trip
    assert got.gross_pnl == Decimal(300) and got.fees == Decimal(4) and got.net_pnl == Decimal(296)
    assert got.r_multiple == pytest.approx(0.74) and got.qty == 200
    assert got.holding_ms == ms(2024, 3, 6, 15) - ms(2024, 3, 4, 14)
    assert got == t


def test_trip_json_round_trip_keeps_decimal_quantities_and_excursions():
    t = scaled_trip().with_excursions([14.0, 12.5], [9.5, 10.5])
    back = trip_from_json(trip_to_json(t))
    assert back == t and back.mfe == t.mfe and back.mae == pytest.approx(1.5)


def test_fields_are_checked_before_anything_is_written(tmp_path):
    store = JournalStore.open(tmp_path / "j.sqlite3")
    e = store.add(trip(50, ms(2024, 3, 4))).entry
    for bad in ({"confidence": 6}, {"confidence": True}, {"followed_plan": "yes"}, {"tags": [""]},
                {"notes": 5}, {"emotion_before": 3}, {"mood": "x"}, {"tags": ["x" * 65]}):
        with pytest.raises(ValueError):
            store.edit(e.id, **bad)
    assert store.get(e.id).fields == EntryFields() and store.history(e.id) == []
    assert store.edit(e.id, emotion_before="fomo").fields.emotion_before == "FOMO"  # the listed one
    assert store.edit(e.id, emotion_after="zen-ish").fields.emotion_after == "zen-ish"  # custom


def test_undo_redo_walk_the_persisted_stack_and_typing_merges_into_one_step(tmp_path):
    now = [1_000_000]
    store = JournalStore(JournalStore.open(tmp_path / "j.sqlite3").db, clock=lambda: now[0])
    a = store.add(trip(50, ms(2024, 3, 4))).entry
    b = store.add(trip(-20, ms(2024, 3, 5))).entry
    for text in ("b", "br", "bre", "breakout chased"):  # a burst of typing
        store.edit(a.id, notes=text)
        now[0] += 300
    now[0] += 10_000
    store.edit(b.id, tags=["FOMO"], confidence=2)
    now[0] += 10_000
    store.edit(a.id, followed_plan=False)
    assert len(store.history(a.id)) == 2
    # reopened: the stack is on disk
    store = JournalStore(JournalStore.open(tmp_path / "j.sqlite3").db, clock=lambda: now[0])
    assert store.undo().fields.followed_plan is None
    undone_b = store.undo()
    assert undone_b.id == b.id and undone_b.fields.tags == () and undone_b.fields.confidence is None
    assert store.undo().fields.notes == ""  # the whole burst at once
    assert store.undo() is None and not store.can_undo()
    assert store.redo().fields.notes == "breakout chased"
    assert store.redo().fields.tags == ("FOMO",)
    store.edit(a.id, setups=["ORB"])  # a new edit drops the redo step
    assert not store.can_redo() and store.get(a.id).fields.followed_plan is None


def test_delete_is_explicit_and_takes_attachments_and_undo_steps(tmp_path):
    store = JournalStore.open(tmp_path / "j.sqlite3")
    e = store.add(trip(50, ms(2024, 3, 4)), snapshot=render_trip_png(trip(50, ms(2024, 3, 4)), [], [], [], [], [])).entry
    assert e.has_snapshot and store.snapshot(e.id).startswith(b"\x89PNG")
    store.add_screenshot(e.id, path="/tmp/shot.png")
    store.edit(e.id, notes="x")
    store.delete(e.id)
    assert store.count() == 0 and store.attachments(e.id) == [] and store.history(e.id) == []
    assert store.undo() is None
    with pytest.raises(LookupError):
        store.delete(e.id)
    with pytest.raises(ValueError):
        store.add(trip(1, ms(2024, 3, 4)), snapshot=b"not a png")


def test_a_failed_write_at_any_point_of_an_edit_leaves_before_or_after(tmp_path, monkeypatch):
    path = tmp_path / "j.sqlite3"
    e = JournalStore.open(path).add(trip(50, ms(2024, 3, 4))).entry
    plan = install(monkeypatch)
    store = JournalStore.open(path)
    store.edit(e.id, notes="first")
    plan.arm(None)
    store.edit(e.id, notes="first draft, longer", tags=["A"])
    total = plan.writes
    assert total >= 3
    for n in range(1, total + 1):
        store.undo()  # back to "first" (that is a write too: not armed yet)
        plan.arm(n)
        with pytest.raises(DiskFull):
            store.edit(e.id, notes="first draft, longer", tags=["A"])
        plan.arm(None)
        got = JournalStore.open(path).get(e.id).fields
        assert (got.notes, got.tags) == ("first", ()), n
        assert integrity(path) == "ok"
        store.redo()


def test_nothing_typed_is_lost_when_the_process_is_killed(tmp_path):
    path = tmp_path / "j.sqlite3"
    eid = JournalStore.open(path).add(trip(50, ms(2024, 3, 4))).entry.id
    child = textwrap.dedent(f"""
        import sys, time
        from engine.journal.store import JournalStore
        s = JournalStore.open({str(path)!r})
        text = ""
        for ch in "typed before the crash":
            text += ch
            s.edit({eid}, notes=text)
        print("saved", flush=True)
        time.sleep(60)
    """)
    p = subprocess.Popen([sys.executable, "-c", child], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "saved"
        os.kill(p.pid, signal.SIGKILL)
    finally:
        p.wait(timeout=30)
    assert JournalStore.open(path).get(eid).fields.notes == "typed before the crash"
    assert integrity(path) == "ok"
