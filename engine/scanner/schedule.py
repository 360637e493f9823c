"""When a scheduled scan runs next: every minute, every 10 minutes, or after the close."""
from __future__ import annotations

import datetime as _dt
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
SCHEDULES = ("1min", "10min", "after_close")
AFTER_CLOSE = _dt.time(16, 10)


def next_run_time(schedule: str, now: _dt.datetime) -> _dt.datetime:
    """The first run time strictly after ``now`` (timezone-aware; the result has ``now``'s zone).

    * ``"1min"`` – the next whole minute;
    * ``"10min"`` – the next whole 10 minutes (:00, :10, … of the hour);
    * ``"after_close"`` – 16:10 America/New_York on the next weekday (Mon–Fri; exchange
      holidays are not known here, so a holiday run finds no new bar and changes nothing).

    Raises ``ValueError`` for a naive ``now`` or an unknown schedule.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (e.g. datetime.now(timezone.utc))")
    if schedule in ("1min", "10min"):
        step = 1 if schedule == "1min" else 10
        base = now.replace(second=0, microsecond=0)
        minutes_past = base.minute % step
        nxt = base + _dt.timedelta(minutes=step - minutes_past)
        # an absolute-time step, so DST changes in ``now``'s zone cannot make it go backwards
        return (now.astimezone(_dt.timezone.utc) + (nxt - now)).astimezone(now.tzinfo)
    if schedule == "after_close":
        ny = now.astimezone(NEW_YORK)
        day = ny.date()
        while True:
            cand = _dt.datetime.combine(day, AFTER_CLOSE, tzinfo=NEW_YORK)
            if cand.weekday() < 5 and cand > ny:
                return cand.astimezone(now.tzinfo)
            day += _dt.timedelta(days=1)
    raise ValueError(f"unknown schedule {schedule!r}; use one of {', '.join(SCHEDULES)}")
