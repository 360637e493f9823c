"""Longer timeframes built from finer bars: 1m 2m 5m 15m 30m 1h 4h D W M.

Each new bar is the **open of its first bar, the highest high, the lowest low, the close of
its last bar and the summed volume** (pandas ``resample(...).agg(first, max, min, last,
sum)``); bins without bars make no bar. The time of a bar is the start of its bin.

Intraday bins follow the exchange's sessions (``engine.market.calendar``, the symbol's
exchange by ``exchange_for``), in exchange time, so daylight-saving changes and early closes
move them with the session:

* inside a session bins start at the open and step by the timeframe: NYSE 1h bars start at
  09:30, 10:30, …, 15:30 (the last one 30 minutes long), 4h bars at 09:30 and 13:30; on an
  early close (13:00) the last bin ends at the close;
* before the open (pre-market) bins count back from the open; from the close on (after hours)
  they count forward from the close; neither crosses the exchange's midnight;
* on a day without a session (weekend, holiday: futures, crypto) bins count from the
  exchange's midnight.

So bins never straddle the open, the close or midnight. For NYSE the 1m-30m bins are also
plain multiples of their length in UTC, exactly what ``pandas.resample`` gives.

Daily, weekly and monthly bars group by the **exchange's local date** of each bar (daily source
bars carry their date already). A daily bar is dated midnight UTC of that date (``Bars``'
convention), a weekly bar by the **Monday** of its week (Monday-Sunday weeks, even when
Monday is a holiday), a monthly bar by the first day of its month.

Source bars must be finite and at most as long as the target (a 1h bar cannot be cut into
5m bars; a week cannot be cut into months).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from engine.charts import _backend
from engine.data.bars import Bars

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from engine.market.calendar import MarketCalendar

#: Length of every intraday timeframe id in seconds.
INTRADAY_SECONDS = {"1m": 60, "2m": 120, "5m": 300, "15m": 900, "30m": 1800, "60m": 3600,
                    "1h": 3600, "4h": 14_400}
#: Timeframes by increasing length (ranks compare "finer than").
_RANK = {"1m": 1, "2m": 2, "5m": 5, "15m": 15, "30m": 30, "60m": 60, "1h": 60, "4h": 240,
         "1d": 1440, "1wk": 10_080, "1mo": 43_200}
TARGETS = tuple(_RANK)

I64 = npt.NDArray[np.int64]


def can_build(source: str, target: str) -> bool:
    """True when ``target`` bars can be built exactly from ``source`` bars (both timeframe ids):
    intraday targets from intraday sources whose length divides theirs; D, W and M from any
    intraday or daily source (and M not from W)."""
    if source not in _RANK or target not in _RANK:
        return False
    if target in INTRADAY_SECONDS:
        return source in INTRADAY_SECONDS and INTRADAY_SECONDS[target] % INTRADAY_SECONDS[source] == 0
    if source in ("1wk", "1mo"):
        return source == target
    return True


def finest(available: list[str], target: str) -> str | None:
    """Of the stored timeframes ``available``, the finest that can build ``target``, or None."""
    usable = [tf for tf in available if can_build(tf, target)]
    return min(usable, key=lambda tf: _RANK[tf]) if usable else None


def resample(bars: Bars, timeframe: str, *, calendar: MarketCalendar | None = None) -> Bars:
    """``bars`` aggregated to ``timeframe`` (see the module docstring for the bins).

    ``calendar`` is the exchange whose sessions intraday bins follow (default: the symbol's,
    ``calendar_for``; building it the first time costs a few hundred ms); daily and longer
    targets need only its time zone. Returns ``bars`` itself when the timeframe is the same.

    Raises ValueError for an unknown timeframe, a target shorter than (or not a multiple of)
    the source, or bars with non-finite values.
    """
    if timeframe not in _RANK:
        raise ValueError(f"unknown timeframe {timeframe!r}; use one of {', '.join(TARGETS)}")
    if timeframe == bars.timeframe or {timeframe, bars.timeframe} == {"1h", "60m"}:
        return bars if timeframe == bars.timeframe else _with(bars, timeframe, bars.time, np.arange(len(bars)))
    if not can_build(bars.timeframe, timeframe):
        raise ValueError(f"{timeframe} bars cannot be built from {bars.timeframe} bars "
                         "(only longer timeframes can be built from shorter ones)")
    for name in ("open", "high", "low", "close", "volume"):
        if not np.isfinite(getattr(bars, name)).all():
            raise ValueError(f"the {bars.symbol} {bars.timeframe} bars have non-finite {name} values")
    t = np.asarray(bars.time, dtype=np.int64)
    if len(t) == 0:
        return _with(bars, timeframe, t, np.zeros(0, dtype=np.int64))
    if timeframe in INTRADAY_SECONDS:
        if calendar is None:
            from engine.market.calendar import calendar_for

            calendar = calendar_for(bars.symbol)
        keys = _intraday_keys(t, INTRADAY_SECONDS[timeframe], calendar)
        labels = keys
    else:
        if bars.timeframe in INTRADAY_SECONDS:
            tz = calendar.tz if calendar is not None else _tz(bars.symbol)
            day = (t + _utc_offsets(t, tz)) // 86400
        else:
            day = t // 86400
        if timeframe == "1d":
            keys = day
            labels = day * 86400
        elif timeframe == "1wk":
            keys = (day + 3) // 7  # 1970-01-01 was a Thursday: +3 makes weeks start on Monday
            labels = (keys * 7 - 3) * 86400
        else:
            keys = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
            labels = keys.astype("datetime64[M]").astype("datetime64[s]").astype(np.int64)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return _aggregate(bars, timeframe, labels[starts], starts)


def _with(bars: Bars, timeframe: str, time: I64, starts: I64) -> Bars:
    if len(starts):
        return _aggregate(bars, timeframe, time, starts)
    e = np.zeros(0)
    return Bars.from_arrays(bars.symbol, timeframe, time, e, e, e, e, e, source=bars.source)


def _aggregate(bars: Bars, timeframe: str, time: I64, starts: I64) -> Bars:
    ends = np.r_[starts[1:], len(bars)] - 1
    out = Bars.from_arrays(
        bars.symbol, timeframe, time, bars.open[starts], np.maximum.reduceat(bars.high, starts),
        np.minimum.reduceat(bars.low, starts), bars.close[ends], np.add.reduceat(bars.volume, starts),
        source=bars.source)
    out.meta.update(bars.meta)
    out.meta["built_from"] = bars.timeframe
    return out


def _tz(symbol: str) -> ZoneInfo:
    from engine.market.calendar import exchange_tz

    return exchange_tz(symbol or "XNYS")


def _utc_offsets(t: I64, tz: ZoneInfo) -> I64:
    """Seconds east of UTC of ``tz`` at each UTC time ``t`` (sorted). Every zone's offset
    changes on a quarter hour, so it is looked up (pandas, vectorised) once per quarter hour
    spanned, not per bar: 1M bars over ten years in a few ms."""
    import pandas as pd

    q = t // 900
    first, last = int(q[0]), int(q[-1])
    if last - first > 4_000_000:  # over a century: per distinct quarter instead of a dense table
        uniq, inv = np.unique(q, return_inverse=True)
        return np.asarray(_offsets_at(uniq * 900, tz, pd)[inv], dtype=np.int64)
    offs = _offsets_at(np.arange(first, last + 1, dtype=np.int64) * 900, tz, pd)
    return np.asarray(offs[q - first], dtype=np.int64)


def _offsets_at(times: I64, tz: ZoneInfo, pd: Any) -> I64:
    utc = pd.DatetimeIndex(times.astype("datetime64[s]"))
    local = utc.tz_localize("UTC").tz_convert(tz.key).tz_localize(None)
    return np.asarray((local.asi8 - utc.asi8) // _unit_per_second(utc), dtype=np.int64)


def _unit_per_second(idx: Any) -> int:
    return {"s": 1, "ms": 1000, "us": 1_000_000, "ns": 1_000_000_000}[str(idx.unit)]


def _intraday_keys(t: I64, step: int, cal: MarketCalendar) -> I64:
    """Bin start (UTC epoch seconds) of each bar time ``t`` (see the module docstring)."""
    off = _utc_offsets(t, cal.tz)
    day = (t + off) // 86400
    days, opens, closes = cal.session_bounds(np.datetime64(int(day[0]), "D"), np.datetime64(int(day[-1]), "D"))
    out = np.empty_like(t)
    _backend.loop("session_bins")(t, off, np.ascontiguousarray(days), np.ascontiguousarray(opens),
                                  np.ascontiguousarray(closes), int(step), out)
    return out
