"""A symbol's daily news sentiment aligned to its bars: what the chart shows as a pane.

News is dated by its New York calendar day (the exchange's day, not UTC's). On daily bars a
day's headlines go to that day's session; headlines of a weekend or holiday go to the next
session (the first day the market can react). On weekly and monthly bars they go to the bar
whose period holds their day. On intraday bars every bar of a session gets that session's
daily figures. Headlines after the last bar are left out.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from engine.data.bars import INTRADAY, Bars

NEW_YORK = ZoneInfo("America/New_York")
_DAY = 86_400


@dataclass(frozen=True, slots=True)
class DailySentiment:
    """Per bar: ``mean`` compound score (−1…1) of the headlines of its day, NaN where there
    were none, and ``count`` of them. Both have ``len(bars)`` entries."""

    mean: npt.NDArray[np.float64]
    count: npt.NDArray[np.int64]


def _ny_days(epoch: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Days since 1970-01-01 of the New York calendar date of each UTC epoch second."""
    if epoch.size == 0:
        return epoch.astype(np.int64)
    # New York is UTC-5 (EST) or UTC-4 (EDT): take the offset of each distinct UTC hour
    hours = epoch // 3600
    uniq, inv = np.unique(hours, return_inverse=True)
    import datetime as dt

    offs = np.array([int(dt.datetime.fromtimestamp(int(h) * 3600, NEW_YORK).utcoffset().total_seconds())  # type: ignore[union-attr]
                     for h in uniq], dtype=np.int64)
    return np.asarray((epoch + offs[inv]) // _DAY, dtype=np.int64)


def daily_sentiment(points: Sequence[tuple[int, float]], bars: Bars) -> DailySentiment:
    """``points`` (UTC epoch seconds, compound) summarised per bar of ``bars`` (see the module
    docstring for which day a headline counts on). Raises ``ValueError`` for a compound that
    is not a finite number in −1…1."""
    return window_sentiment(points, np.asarray(bars.time, dtype=np.int64), bars.timeframe, 1)


def window_sentiment(points: Sequence[tuple[int, float]], bar_time: npt.NDArray[np.int64], timeframe: str,
                     days: int = 1, sessions: npt.NDArray[np.int64] | None = None) -> DailySentiment:
    """Per bar (``bar_time``, epoch seconds of bars of ``timeframe``): the mean compound and
    the count of the headlines of the last ``days`` sessions up to and including the bar's
    own (its week or month on weekly/monthly bars; every bar of an intraday session gets
    that session's figures). ``days=1`` is ``daily_sentiment``.

    The sessions are the days the bars have, plus ``sessions`` (days since 1970-01-01, e.g.
    the market calendar's) when given: then a window may reach before the first bar (a few
    intraday bars still see ``days`` sessions of news). Ignored on weekly/monthly bars.
    Raises ``ValueError`` for a compound outside −1…1 or ``days`` < 1."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a whole number >= 1, not {days!r}")
    bar_time = np.asarray(bar_time, dtype=np.int64)
    n = len(bar_time)
    mean = np.full(n, np.nan)
    count = np.zeros(n, dtype=np.int64)
    if n == 0 or not points:
        return DailySentiment(mean, count)
    t = np.fromiter((int(p[0]) for p in points), dtype=np.int64, count=len(points))
    v = np.fromiter((float(p[1]) for p in points), dtype=np.float64, count=len(points))
    if not np.all(np.isfinite(v)) or np.any(np.abs(v) > 1.0):
        raise ValueError("sentiment scores must be finite numbers in -1..1")
    news_day = _ny_days(t)
    # daily bars are stamped at 00:00 UTC of their date
    bar_day = _ny_days(bar_time) if timeframe in INTRADAY else bar_time // _DAY
    if sessions is not None and timeframe not in ("1wk", "1mo"):
        days_axis = np.union1d(np.asarray(sessions, dtype=np.int64), bar_day)
        inverse = np.searchsorted(days_axis, bar_day)
    elif timeframe in INTRADAY:
        days_axis, inverse = np.unique(bar_day, return_inverse=True)
    else:
        days_axis = bar_day
        inverse = np.arange(n)
    if timeframe in ("1wk", "1mo"):
        slot = np.searchsorted(days_axis, news_day, side="right") - 1  # the period that holds the day
        ok = slot >= 0
        if len(days_axis):
            # past the last bar: only inside the last period (a week, or the last month)
            end = days_axis[-1] + (7 if timeframe == "1wk" else 31)
            ok &= news_day < end
    else:
        slot = np.searchsorted(days_axis, news_day, side="left")  # that session, else the next
        ok = slot < len(days_axis)
    slot, v = slot[ok], v[ok]
    m = len(days_axis)
    sums = np.bincount(slot, weights=v, minlength=m)
    counts = np.bincount(slot, minlength=m).astype(np.int64)
    if days > 1:  # trailing windows of `days` slots: differences of running totals
        cs = np.concatenate(([0.0], np.cumsum(sums)))
        cc = np.concatenate(([0], np.cumsum(counts)))
        lo = np.maximum(np.arange(1, m + 1) - days, 0)
        sums = cs[1:] - cs[lo]
        counts = cc[1:] - cc[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        day_mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    # a window's mean of scores in -1..1 stays in it (running totals may round past it)
    day_mean = np.clip(day_mean, -1.0, 1.0)
    mean = np.asarray(day_mean[inverse], dtype=np.float64)
    count = np.asarray(counts[inverse], dtype=np.int64)
    return DailySentiment(mean, count)
