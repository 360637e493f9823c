"""Reviews at period end: with a fake clock, the periods that ended since the last check are
reviewed into <data dir>/reviews with one notification each, once; an empty period gives
neither; the setting turns it off."""
from __future__ import annotations

from datetime import date

import pytest

from app.features.journal import AUTO_REVIEWS_KEY, REVIEWS_DONE, AutoReviews, review_title
from app.main import build_workstation
from engine.journal.review import Period
from engine.journal.store import JournalStore
from tests.engine.journal.stubs import ms, trip


@pytest.fixture
def ws(home, qtbot):
    w = build_workstation()
    qtbot.addWidget(w.window)
    yield w
    qtbot.waitUntil(lambda: not w.ctx.tasks.active, timeout=20000)
    from shiboken6 import isValid

    if isValid(w.window):
        w.window._really_quit = True
        w.close()
    else:  # Qt has already deleted the window: release the rest
        w.ctx.tasks.wait_all(10000)
        w.ctx.close()


def _notes(ctx) -> list[str]:
    return [n.text for n in ctx.notifier.recent if n.title == "Journal"]


def test_two_ended_periods_give_two_files_and_two_notifications_once(ws, home, qtbot):
    ctx = ws.ctx
    store = ctx.service(JournalStore)
    store.add(trip(120, ms(2026, 11, 25)))  # Wed 25 Nov 2026: week 23-29 Nov and November
    store.add(trip(-40, ms(2026, 11, 26)))
    ctx.ui.set(REVIEWS_DONE, "2026-11-29")  # the last check: Sunday 29 Nov
    before = len(_notes(ctx))
    # Tue 8 Dec: week 23-29 Nov, November and week 30 Nov-6 Dec (no trades) have ended
    auto = AutoReviews(ctx, today=lambda: date(2026, 12, 8))
    auto.run()
    qtbot.waitUntil(lambda: not ctx.tasks.active and not auto.busy, timeout=20000)
    reviews = home / "reviews"
    assert sorted(p.name for p in reviews.iterdir()) == ["month-2026-11-01.html", "week-2026-11-23.html"]
    html = (reviews / "month-2026-11-01.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and "<script src=" not in html
    assert _notes(ctx)[before:] == ["Monthly review for November 2026 is ready",
                                    "Weekly review for week 48 of 2026 is ready"]  # newest first
    assert all(n.level == "info" for n in list(ctx.notifier.recent)[:2])
    assert ctx.ui.get(REVIEWS_DONE) == "2026-12-08"
    # a second start the same day: nothing new
    again = AutoReviews(ctx, today=lambda: date(2026, 12, 8))
    again.run()
    assert not again.busy and len(_notes(ctx)) == before + 2
    assert len(list(reviews.iterdir())) == 2
    auto.close()
    again.close()


def test_the_setting_off_writes_nothing_and_the_first_start_only_records_the_day(ws, home, qtbot):
    ctx = ws.ctx
    ctx.service(JournalStore).add(trip(50, ms(2026, 11, 25)))
    ctx.settings.set(AUTO_REVIEWS_KEY, False)
    ctx.ui.set(REVIEWS_DONE, "2026-11-29")
    off = AutoReviews(ctx, today=lambda: date(2026, 12, 8))
    off.run()
    assert not off.busy and not (home / "reviews").exists() and ctx.ui.get(REVIEWS_DONE) == "2026-11-29"
    ctx.settings.set(AUTO_REVIEWS_KEY, True)
    ctx.ui.set(REVIEWS_DONE, None)
    first = AutoReviews(ctx, today=lambda: date(2026, 12, 8))
    first.run()
    assert not first.busy and not (home / "reviews").exists() and ctx.ui.get(REVIEWS_DONE) == "2026-12-08"
    off.close()
    first.close()


def test_titles_and_the_declared_setting():
    from app.features import FEATURES

    assert review_title(Period.of("quarter", date(2026, 11, 3))) == "Quarterly review for Q4 2026"
    assert review_title(Period.of("year", date(2026, 11, 3))) == "Yearly review for 2026"
    f = next(f for f in FEATURES if f.id == "journal")
    key = next(k for k in f.settings if k.key == AUTO_REVIEWS_KEY)
    assert key.type is bool and key.default is True and f.start is not None
