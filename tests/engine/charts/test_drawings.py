"""Chart drawings model: validation, JSON round-trip, figures, time mapping, undo/redo, store."""
import json
import math

import numpy as np
import pytest

from engine.charts.drawings import (FIB_RETRACEMENT_LEVELS, KINDS, POINTS, Change, Drawing, DrawingError,
                                    DrawingSet, DrawingStore, Point, Style, dumps, fib_prices, loads, measure,
                                    measure_text, time_to_x, x_to_time)
from engine.store import open_database

DAY = 86400
T0 = 1_600_000_000 // DAY * DAY


def trend(**kw):
    return Drawing.create("trend", [(T0, 100.0), (T0 + 10 * DAY, 110.0)], **kw)


def test_every_kind_round_trips_through_json():
    drawings = [Drawing.create(k, [(T0 + i * DAY, 100.0 + i) for i in range(POINTS[k])], text="note")
                for k in KINDS]
    back, warnings = loads(dumps(drawings))
    assert warnings == []
    assert back == drawings


def test_fibonacci_gets_stated_default_levels_and_prices():
    d = Drawing.create("fib_retracement", [(T0, 100.0), (T0 + DAY, 200.0)])
    assert d.levels == FIB_RETRACEMENT_LEVELS
    prices = dict(fib_prices(d))
    assert prices[0.0] == 200.0 and prices[1.0] == 100.0 and prices[0.618] == pytest.approx(138.2)
    ext = Drawing.create("fib_extension", [(T0, 100.0), (T0 + DAY, 150.0), (T0 + 2 * DAY, 120.0)])
    assert dict(fib_prices(ext))[1.618] == pytest.approx(120.0 + 1.618 * 50.0)


@pytest.mark.parametrize("bad", [
    {"kind": "spiral", "points": [[T0, 1.0]]},
    {"kind": "trend", "points": [[T0, 1.0]]},  # needs two
    {"kind": "trend", "points": [[T0, 1.0], [T0, "x"]]},
    {"kind": "trend", "points": [[T0, 1.0], [T0, float("nan")]]},
    {"kind": "hline", "points": [[-5, 1.0]]},
    {"kind": "hline", "points": [[T0, 1.0]], "style": {"color": "red"}},
    {"kind": "hline", "points": [[T0, 1.0]], "style": {"width": 99}},
    {"kind": "hline", "points": [[T0, 1.0]], "style": {"dash": "wavy"}},
    {"kind": "hline", "points": [[T0, 1.0]], "levels": [0.5]},
    {"kind": "fib_retracement", "points": [[T0, 1.0], [T0, 2.0]], "levels": []},
    {"kind": "hline", "points": [[T0, 1.0]], "id": "bad id!"},
    "not a drawing",
])
def test_malformed_drawings_are_refused_with_a_sentence(bad):
    with pytest.raises(DrawingError) as e:
        Drawing.from_dict(bad)
    assert str(e.value).endswith(".")


def test_a_malformed_stored_drawing_is_skipped_with_a_warning(caplog):
    good = trend()
    text = json.dumps([good.to_dict(), {"kind": "trend", "points": "oops"}])
    back, warnings = loads(text)
    assert back == [good]
    assert len(warnings) == 1 and "Drawing 2 was skipped" in warnings[0]
    assert "skipped" in caplog.text
    assert loads("{not json")[0] == [] and loads('{"a": 1}')[0] == []


def test_measure_gives_change_percent_bars_and_time():
    times = T0 + np.arange(30, dtype=np.int64) * DAY
    d = Drawing.create("price_range", [(T0 + 5 * DAY, 80.0), (T0 + 25 * DAY, 100.0)])
    m = measure(d, times)
    assert (m.change, m.percent, m.bars, m.seconds) == (20.0, 25.0, 20, 20 * DAY)
    assert measure_text(m) == "+20.00 (+25.00 %) · 20 bars · 20d"
    with pytest.raises(DrawingError):
        measure(trend(), times)


def test_time_maps_to_bar_index_interpolating_and_extrapolating():
    times = np.array([T0, T0 + DAY, T0 + 3 * DAY, T0 + 4 * DAY], dtype=np.int64)  # a gap after bar 1
    assert time_to_x(times, T0 + DAY) == 1.0
    assert time_to_x(times, T0 + 2 * DAY) == pytest.approx(1.5)  # between bars: interpolated
    assert time_to_x(times, T0 + 6 * DAY) == pytest.approx(5.0)  # after the last bar: spacing 1 day
    assert time_to_x(times, T0 - DAY) == pytest.approx(-1.0)
    for x in (-2.0, 0.0, 1.5, 2.0, 6.0):
        assert time_to_x(times, x_to_time(times, x)) == pytest.approx(x)
    assert math.isnan(time_to_x(np.empty(0, dtype=np.int64), T0))


def test_undo_redo_replays_add_move_lock_and_delete():
    s = DrawingSet()
    seen = []
    s.listeners.append(lambda: seen.append(len(s)))
    d = s.add(trend())
    moved = s.update("move", d.moved(DAY, 5.0))
    assert s.get(d.id).points[0] == Point(T0 + DAY, 105.0)
    locked = s.update("lock", Drawing(**{**_fields(moved), "locked": True}))
    with pytest.raises(DrawingError, match="locked"):
        s.update("move", locked.moved(DAY, 1.0))
    with pytest.raises(DrawingError, match="locked"):
        s.delete(d.id)
    s.update("lock", moved)  # unlock
    s.delete(d.id)
    assert len(s) == 0
    s.undo()
    assert s.get(d.id) == moved
    s.undo()
    s.undo()
    assert s.get(d.id) == moved and not s.get(d.id).locked
    s.undo()
    assert s.get(d.id) == d
    s.undo()
    assert len(s) == 0 and not s.can_undo
    s.redo()
    s.redo()
    assert s.get(d.id) == moved
    s.add(Drawing.create("hline", [(T0, 50.0)]))
    assert not s.can_redo  # a new change clears redo
    assert seen  # listeners heard every change
    with pytest.raises(DrawingError):
        s.apply(Change("spin", None, d))


def _fields(d):
    return {f: getattr(d, f) for f in ("kind", "points", "style", "locked", "text", "levels", "id")}


def test_restyle_and_edit_are_checked():
    s = DrawingSet()
    d = s.add(trend())
    s.update("restyle", Drawing(**{**_fields(d), "style": Style("#FF0000", 3, "dash")}))
    assert s.get(d.id).style == Style("#ff0000", 3.0, "dash")
    with pytest.raises(DrawingError):
        s.update("restyle", Drawing(**{**_fields(d), "style": Style("#ff0000", 0, "dash")}))
    assert s.get(d.id).style.width == 3.0  # a refused change leaves the drawing as it was


def test_drawings_survive_reopening_the_store(tmp_path):
    path = tmp_path / "store.sqlite"
    db = open_database(path)
    a, b = trend(), Drawing.create("text", [(T0, 101.0)], text="earnings")
    DrawingStore(db).save("abc", [a, b])
    DrawingStore(db).save("XYZ", [Drawing.create("vline", [(T0, 1.0)])])
    db.dispose()
    db2 = open_database(path)
    got, warnings = DrawingStore(db2).load("ABC")
    assert got == [a, b] and warnings == []
    assert DrawingStore(db2).symbols() == ["ABC", "XYZ"]
    with db2.connect() as c:  # a row damaged on disk is skipped, not fatal
        c.execute("UPDATE chart_drawings SET definition='{\"kind\": 3}' WHERE id=?", (a.id,))
    got, warnings = DrawingStore(db2).load("ABC")
    assert got == [b] and len(warnings) == 1
    with pytest.raises(DrawingError):
        DrawingStore(db2).save("", [a])
    db2.dispose()
