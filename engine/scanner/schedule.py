"""When a scheduled scan runs next: every minute, every 10 minutes, or after the close."""
from __future__ import annotations

import datetime as _dt

from engine.market.calendar import DEFAULT_EXCHANGE, get_calendar

SCHEDULES = ("1min", "10min", "after_close")
#: how long after the session close the "after_close" scan runs (the day's bar is then final)
AFTER_CLOSE_DELAY = _dt.timedelta(minutes=10)


def next_run_time(schedule: str, now: _dt.datetime, exchange: str = DEFAULT_EXCHANGE) -> _dt.datetime:
    """The first run time strictly after ``now`` (timezone-aware; the result has ``now``'s zone).

    * ``"1min"`` – the next whole minute;
    * ``"10min"`` – the next whole 10 minutes (:00, :10, … of the hour);
    * ``"after_close"`` – 10 minutes after the next real session close of ``exchange``
      (``engine.market.calendar``): 16:10 New York on a regular NYSE day, 13:10 on an early
      close (2024-11-29), and never on a holiday or weekend. The first "after_close" call builds
      the exchange calendar (a few hundred ms, once per process): call it from a worker.

    Raises ``ValueError`` for a naive ``now``, an unknown schedule or an unknown exchange.
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
        delay = int(AFTER_CLOSE_DELAY.total_seconds())
        # the first close whose run time (close + delay) is strictly after now
        close = get_calendar(exchange).next_close(now.timestamp() - delay)
        return _dt.datetime.fromtimestamp(close + delay, _dt.timezone.utc).astimezone(now.tzinfo)
    raise ValueError(f"unknown schedule {schedule!r}; use one of {', '.join(SCHEDULES)}")
