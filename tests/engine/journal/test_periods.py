"""periods_ended on a hand-checked calendar (2026-11-30 and 2024-01-01 are Mondays,
2024-02-29 a Thursday)."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from engine.journal.periods import periods_ended


def spans(last: date | None, today: date) -> list[tuple[str, str, str]]:
    return [(p.kind, p.start.isoformat(), p.end.isoformat()) for p in periods_ended(last, today)]


def test_a_monday_after_a_week_closes_that_week_only():
    assert spans(date(2026, 11, 29), date(2026, 11, 30)) == [("week", "2026-11-23", "2026-11-30")]


def test_a_second_check_the_same_day_or_mid_period_gives_none():
    assert spans(date(2026, 11, 30), date(2026, 11, 30)) == []
    assert spans(date(2026, 12, 1), date(2026, 12, 2)) == []


def test_1_december_closes_november():
    assert spans(date(2026, 11, 30), date(2026, 12, 1)) == [("month", "2026-11-01", "2026-12-01")]


def test_1_january_closes_week_month_quarter_and_year_together():
    assert spans(date(2023, 12, 31), date(2024, 1, 1)) == [
        ("week", "2023-12-25", "2024-01-01"),
        ("month", "2023-12-01", "2024-01-01"),
        ("quarter", "2023-10-01", "2024-01-01"),
        ("year", "2023-01-01", "2024-01-01"),
    ]


def test_leap_february_ends_after_the_29th():
    assert spans(date(2024, 2, 28), date(2024, 2, 29)) == []
    assert spans(date(2024, 2, 29), date(2024, 3, 1)) == [("month", "2024-02-01", "2024-03-01")]
    # 2023 is not a leap year: February has 28 days
    assert spans(date(2023, 2, 28), date(2023, 3, 1)) == [("month", "2023-02-01", "2023-03-01")]


def test_a_long_absence_lists_every_period_in_order():
    assert spans(date(2026, 10, 28), date(2026, 11, 10)) == [  # Wed 28 Oct .. Tue 10 Nov
        ("month", "2026-10-01", "2026-11-01"),
        ("week", "2026-10-26", "2026-11-02"),
        ("week", "2026-11-02", "2026-11-09"),
    ]


def test_never_checked_or_clock_back_gives_none():
    assert periods_ended(None, date(2024, 1, 1)) == []
    assert periods_ended(date(2024, 1, 5), date(2024, 1, 1)) == []


def test_datetimes_are_days_and_bad_arguments_are_refused():
    assert spans(datetime(2023, 12, 31, 23), datetime(2024, 1, 1, 0, 5))[0][0] == "week"
    with pytest.raises(ValueError, match="today must be a date"):
        periods_ended(date(2024, 1, 1), "2024-01-02")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="period must be"):
        periods_ended(date(2024, 1, 1), date(2024, 2, 1), kinds=("day",))  # type: ignore[arg-type]
