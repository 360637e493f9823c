"""Which review periods ended between two days: the schedule of the reviews generated at
period end (``app/features/journal.py``: ``AutoReviews``).

A period ``[start, end)`` has *ended* on ``today`` when ``end <= today`` (its last day is
over). ``periods_ended(last_done, today)`` lists the periods that ended after ``last_done``
(the day of the previous check: the ones ending on or before it were handled then) and by
``today``. Weeks are ISO weeks (Monday first), as in ``engine.journal.review.Period``.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from engine.journal.review import Period, PeriodKind

PERIOD_KINDS: tuple[PeriodKind, ...] = ("week", "month", "quarter", "year")


def _day(value: object, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise ValueError(f"{what} must be a date, not {value!r}")
    return value


def periods_ended(last_done: date | None, today: date,
                  kinds: Sequence[PeriodKind] = PERIOD_KINDS) -> list[Period]:
    """The periods of ``kinds`` whose end (exclusive, a local date) lies in ``(last_done, today]``.

    ``last_done`` None (never checked) gives none: the schedule starts from ``today``. A
    ``last_done`` after ``today`` (the clock went back) gives none. Ordered by end, then
    week, month, quarter, year (1 Jan 2024 closes all four). Raises ``ValueError`` for a
    non-date argument or an unknown kind.
    """
    today = _day(today, "today")
    if last_done is None:
        return []
    last_done = _day(last_done, "last_done")
    for kind in kinds:
        if kind not in PERIOD_KINDS:
            raise ValueError(f"period must be 'week', 'month', 'quarter' or 'year', not {kind!r}")
    found: list[Period] = []
    for kind in kinds:
        # the newest period that has ended: the one before the period containing today
        p = Period.of(kind, Period.of(kind, today).start - timedelta(days=1))
        while p.end > last_done:
            found.append(p)
            p = Period.of(kind, p.start - timedelta(days=1))
    order = {k: i for i, k in enumerate(PERIOD_KINDS)}
    found.sort(key=lambda p: (p.end, order[p.kind]))
    return found
