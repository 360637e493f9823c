"""Exchange sessions: trading days, holidays, early closes and time zones, from exchange_calendars.

One ``MarketCalendar`` per exchange (``get_calendar("XNYS")``, cached) answers every "is the
market open / when does it close" question of the app: DAY-order expiry, scheduled rescans after
the close, demo intraday sessions, chart time axes and options expiries.

Units and conventions
---------------------
* A point in time (``t``) is UTC epoch seconds (``int`` or ``float``, as ``Bars.time``) or a
  timezone-aware ``datetime``; naive datetimes are refused. Every time this module returns is
  UTC epoch seconds as ``int``.
* A day (``day``) is a ``datetime.date``, an ISO ``"YYYY-MM-DD"`` string or a
  ``numpy.datetime64``: the exchange's local trading date. A ``datetime`` is refused as a day
  (which zone's date would it mean?).
* A session is ``[open, close)``: at the closing second the market is closed.
* ``next_open`` / ``next_close`` are strictly after ``t``; ``previous_close`` strictly before.

Where the data comes from, and where it stops
---------------------------------------------
Sessions, holidays, early closes and the time zone come from ``exchange_calendars`` (maintained
by others) for ``EXACT_FIRST``..``EXACT_LAST`` (clamped to what the library has for the exchange).
The library's future years follow its holiday rules; ad-hoc closures (a national day of mourning)
are only known once a release adds them. Outside that window, within ``RANGE_FIRST``..
``RANGE_LAST``, a weekday-only fallback is used: every weekday of the exchange's week is a session
with today's regular hours and no holidays. ``is_exact(day)`` says which of the two a day comes
from. Days outside ``RANGE_FIRST``..``RANGE_LAST`` raise ``ValueError``.

``exchange_calendars`` (and pandas with it) is imported on the first ``get_calendar`` call, not
when this module is imported: it takes about 0.2 s after pandas (1.1-1.7 s with pandas, cold),
plus about 0.15-0.3 s to build a calendar, so nothing on the start-up path may ask for one.
"""
from __future__ import annotations

import datetime as _dt
import math
import threading
import warnings
from dataclasses import dataclass
from typing import Any, Union
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

#: Exchanges the app shows (ISO 10383 MIC codes, as exchange_calendars names them).
EXCHANGES = ("XNYS", "XNAS")
DEFAULT_EXCHANGE = "XNYS"
#: The window asked of exchange_calendars (Yahoo's oldest daily bars start in 1962).
EXACT_FIRST = _dt.date(1962, 1, 1)
EXACT_LAST = _dt.date(2050, 12, 31)
#: The weekday-only fallback covers the rest of this range; outside it everything raises.
RANGE_FIRST = _dt.date(1900, 1, 1)
RANGE_LAST = _dt.date(2100, 12, 31)

_ALIASES = {"NYSE": "XNYS", "NASDAQ": "XNAS", "NAS": "XNAS", "NMS": "XNAS", "NYQ": "XNYS"}
#: Yahoo Finance ticker suffixes of listings outside the US → exchange (ISO MIC).
YAHOO_SUFFIXES = {
    "L": "XLON", "TO": "XTSE", "DE": "XETR", "F": "XFRA", "PA": "XPAR", "AS": "XAMS",
    "SW": "XSWX", "MI": "XMIL", "MC": "XMAD", "ST": "XSTO", "HK": "XHKG", "T": "XTKS",
    "AX": "XASX",
}

#: Each exchange's time zone, as exchange_calendars states it (tests/engine/market keeps the two
#: equal), so a chart can label intraday bars in exchange time without building a calendar.
EXCHANGE_TZ = {
    "XNYS": "America/New_York", "XNAS": "America/New_York", "XLON": "Europe/London",
    "XTSE": "America/Toronto", "XETR": "Europe/Berlin", "XFRA": "Europe/Berlin",
    "XPAR": "Europe/Paris", "XAMS": "Europe/Amsterdam", "XSWX": "Europe/Zurich",
    "XMIL": "Europe/Rome", "XMAD": "Europe/Madrid", "XSTO": "Europe/Stockholm",
    "XHKG": "Asia/Hong_Kong", "XTKS": "Asia/Tokyo", "XASX": "Australia/Sydney",
}

Instant = Union[int, float, np.integer, np.floating, _dt.datetime]
DayLike = Union[_dt.date, str, np.datetime64]

_EPOCH = _dt.date(1970, 1, 1)
_BUILD_LOCK = threading.Lock()


def _seconds(t: Instant) -> float:
    """``t`` as UTC epoch seconds; refuses naive datetimes, bools and non-finite numbers."""
    if isinstance(t, _dt.datetime):
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError("time must be timezone-aware (e.g. datetime.now(timezone.utc)) "
                             "or UTC epoch seconds")
        return t.timestamp()
    if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, float, np.integer, np.floating)):
        raise TypeError(f"time must be UTC epoch seconds or an aware datetime, not {type(t).__name__}")
    s = float(t)
    if not math.isfinite(s):
        raise ValueError(f"time must be a finite number of seconds, not {t!r}")
    return s


def _day(day: DayLike) -> _dt.date:
    """``day`` as a ``date``; raises ``ValueError`` / ``TypeError`` for anything else."""
    if isinstance(day, _dt.datetime):
        raise TypeError("pass a date, not a datetime (which zone's date would it be?)")
    if isinstance(day, _dt.date):
        return day
    if isinstance(day, np.datetime64):
        if np.isnat(day):
            raise ValueError("day must be a date, not NaT")
        d = day.astype("datetime64[D]").astype(object)
        assert isinstance(d, _dt.date)
        return d
    if isinstance(day, str):
        try:
            return _dt.date.fromisoformat(day.strip())
        except ValueError:
            raise ValueError(f"{day!r} is not a date (use YYYY-MM-DD)") from None
    raise TypeError(f"day must be a date, an ISO date string or numpy.datetime64, not {type(day).__name__}")


def _ordinal(d: _dt.date) -> int:
    return (d - _EPOCH).days


@dataclass(frozen=True, slots=True)
class _Tables:
    days: npt.NDArray[np.int64]  # session dates as days since 1970-01-01, sorted
    opens: npt.NDArray[np.int64]  # UTC epoch seconds
    closes: npt.NDArray[np.int64]
    early: npt.NDArray[np.int64]  # early-close session dates (days since 1970-01-01)


class MarketCalendar:
    """Sessions of one exchange (see the module docstring for units and the fallback).

    Build it with ``get_calendar(exchange)`` or ``calendar_for(symbol)``, which cache one per
    exchange; queries are binary searches over arrays (microseconds), safe from any thread.
    """

    def __init__(self, name: str, tz: ZoneInfo, regular_open: _dt.time, regular_close: _dt.time,
                 weekmask: str, exact_first: _dt.date, exact_last: _dt.date, tables: _Tables) -> None:
        self.name = name
        #: the exchange's time zone (America/New_York for XNYS and XNAS)
        self.tz = tz
        #: regular session hours, local time (used by the fallback outside the exact window)
        self.regular_hours = (regular_open, regular_close)
        self.weekmask = weekmask
        #: the days exchange_calendars answers for; outside them the weekday fallback is used
        self.exact_range = (exact_first, exact_last)
        self._t = tables
        for a in (tables.days, tables.opens, tables.closes, tables.early):
            a.setflags(write=False)

    def __repr__(self) -> str:
        return f"MarketCalendar({self.name!r}, tz={self.tz.key!r})"

    # ------------------------------------------------------------------ days
    def _checked(self, day: DayLike) -> _dt.date:
        d = _day(day)
        if not RANGE_FIRST <= d <= RANGE_LAST:
            raise ValueError(f"{d} is outside the calendar's range {RANGE_FIRST}..{RANGE_LAST}")
        return d

    def _index(self, d: _dt.date) -> int | None:
        o = _ordinal(d)
        i = int(np.searchsorted(self._t.days, o))
        return i if i < len(self._t.days) and int(self._t.days[i]) == o else None

    def is_exact(self, day: DayLike) -> bool:
        """True when ``day`` is inside the window exchange_calendars answers for (holidays and
        early closes known); False in the weekday-only fallback. Raises like ``is_session``."""
        d = self._checked(day)
        return self.exact_range[0] <= d <= self.exact_range[1]

    def is_session(self, day: DayLike) -> bool:
        """True when the exchange trades on local date ``day``.

        Raises ``ValueError`` for a day outside ``RANGE_FIRST``..``RANGE_LAST`` or that is not a
        date, ``TypeError`` for a value of the wrong type.
        """
        return self._index(self._checked(day)) is not None

    def sessions(self, start: DayLike, end: DayLike) -> npt.NDArray[np.datetime64]:
        """The session dates from ``start`` to ``end``, both included, as ``datetime64[D]``.

        Raises ``ValueError`` when ``end`` is before ``start`` or either is out of range.
        """
        a, b = self._checked(start), self._checked(end)
        if b < a:
            raise ValueError(f"end {b} is before start {a}")
        i = int(np.searchsorted(self._t.days, _ordinal(a), side="left"))
        j = int(np.searchsorted(self._t.days, _ordinal(b), side="right"))
        return self._t.days[i:j].astype("datetime64[D]")

    def holidays(self, start: DayLike, end: DayLike) -> list[_dt.date]:
        """Weekdays (of the exchange's week) from ``start`` to ``end`` on which it is closed:
        regular holidays and unscheduled closures (e.g. 2025-01-09, President Carter's day of
        mourning). Always empty in the fallback. Raises like ``sessions``."""
        a, b = self._checked(start), self._checked(end)
        if b < a:
            raise ValueError(f"end {b} is before start {a}")
        days = np.arange(np.datetime64(a, "D"), np.datetime64(b, "D") + 1)
        week = days[np.is_busday(days, weekmask=self.weekmask)]
        closed = week[~np.isin(week.astype(np.int64), self._t.days)]
        return [d.astype(object) for d in closed]

    def early_closes(self, start: DayLike, end: DayLike) -> list[_dt.date]:
        """Sessions from ``start`` to ``end`` that close before the regular close (NYSE: 13:00 New
        York on the day after Thanksgiving, Christmas Eve, and July 3 or the day before the 4th).
        Raises like ``sessions``."""
        a, b = self._checked(start), self._checked(end)
        if b < a:
            raise ValueError(f"end {b} is before start {a}")
        e = self._t.early
        sel = e[(e >= _ordinal(a)) & (e <= _ordinal(b))]
        return [_EPOCH + _dt.timedelta(days=int(x)) for x in sel]

    def session_bounds(self, start: DayLike, end: DayLike
                       ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """``(days, opens, closes)`` of the sessions from ``start`` to ``end`` (both included):
        dates as days since 1970-01-01, opens/closes as UTC epoch seconds (early closes
        honoured); read-only views, for vectorised work over many sessions (chart bins).
        Raises like ``sessions``."""
        a, b = self._checked(start), self._checked(end)
        if b < a:
            raise ValueError(f"end {b} is before start {a}")
        i = int(np.searchsorted(self._t.days, _ordinal(a), side="left"))
        j = int(np.searchsorted(self._t.days, _ordinal(b), side="right"))
        return self._t.days[i:j], self._t.opens[i:j], self._t.closes[i:j]

    def open_close(self, day: DayLike) -> tuple[int, int]:
        """``(open, close)`` of the session on ``day`` in UTC epoch seconds, early closes honoured.

        Raises ``ValueError`` when ``day`` is not a session (weekend or holiday) or out of range.
        """
        d = self._checked(day)
        i = self._index(d)
        if i is None:
            raise ValueError(f"{d} is not a {self.name} session (weekend or holiday)")
        return int(self._t.opens[i]), int(self._t.closes[i])

    def minutes(self, day: DayLike) -> npt.NDArray[np.int64]:
        """Start times (UTC epoch seconds) of the 1-minute bars of the session on ``day``: from
        the open up to the last minute before the close (390 on a regular NYSE day, 210 on an early
        close). Raises like ``open_close``."""
        o, c = self.open_close(day)
        return np.arange(o, c, 60, dtype=np.int64)

    def monthly_expiries(self, year: int) -> list[_dt.date]:
        """The 12 standard monthly options expiries of ``year``: the third Friday of each month,
        or the session before it when that Friday is a holiday (2025-04-18, Good Friday →
        2025-04-17). Raises ``ValueError`` for a year outside the calendar's range."""
        if isinstance(year, bool) or not isinstance(year, (int, np.integer)):
            raise TypeError(f"year must be an integer, not {type(year).__name__}")
        if not RANGE_FIRST.year <= int(year) <= RANGE_LAST.year:
            raise ValueError(f"year {year} is outside the calendar's range "
                             f"{RANGE_FIRST.year}..{RANGE_LAST.year}")
        out = []
        for month in range(1, 13):
            first = _dt.date(int(year), month, 1)
            d = first + _dt.timedelta(days=(4 - first.weekday()) % 7 + 14)
            while self._index(d) is None:
                d -= _dt.timedelta(days=1)
            out.append(d)
        return out

    # ------------------------------------------------------------------ instants
    def _instant(self, t: Instant) -> float:
        s = _seconds(t)
        lo, hi = int(self._t.opens[0]) - 86400 * 7, int(self._t.closes[-1])
        if not lo <= s < hi:
            raise ValueError(f"time {s:.0f} is outside the calendar's range {RANGE_FIRST}..{RANGE_LAST}")
        return s

    def is_open(self, t: Instant) -> bool:
        """True while a session is in progress at ``t`` (``open <= t < close``)."""
        s = self._instant(t)
        i = int(np.searchsorted(self._t.opens, s, side="right")) - 1
        return i >= 0 and s < self._t.closes[i]

    def next_open(self, t: Instant) -> int:
        """The first session open strictly after ``t`` (UTC epoch seconds)."""
        s = self._instant(t)
        i = int(np.searchsorted(self._t.opens, s, side="right"))
        if i >= len(self._t.opens):
            raise ValueError(f"no {self.name} session opens after {s:.0f} within the calendar's range")
        return int(self._t.opens[i])

    def next_close(self, t: Instant) -> int:
        """The first session close strictly after ``t`` (UTC epoch seconds): during a session its
        own close, otherwise the next session's."""
        s = self._instant(t)
        i = int(np.searchsorted(self._t.closes, s, side="right"))
        if i >= len(self._t.closes):
            raise ValueError(f"no {self.name} session closes after {s:.0f} within the calendar's range")
        return int(self._t.closes[i])

    def previous_close(self, t: Instant) -> int:
        """The last session close strictly before ``t`` (UTC epoch seconds)."""
        s = self._instant(t)
        i = int(np.searchsorted(self._t.closes, s, side="left")) - 1
        if i < 0:
            raise ValueError(f"no {self.name} session closes before {s:.0f} within the calendar's range")
        return int(self._t.closes[i])

    def session_at(self, t: Instant) -> _dt.date | None:
        """The date of the session in progress at ``t``, or None when the market is closed."""
        s = self._instant(t)
        i = int(np.searchsorted(self._t.opens, s, side="right")) - 1
        if i >= 0 and s < self._t.closes[i]:
            return _EPOCH + _dt.timedelta(days=int(self._t.days[i]))
        return None


# ---------------------------------------------------------------------- building

def _local_to_utc(days: npt.NDArray[np.datetime64], at: _dt.time, tz: ZoneInfo) -> npt.NDArray[np.int64]:
    """UTC epoch seconds of local time ``at`` on each of ``days`` in ``tz`` (vectorised)."""
    import pandas as pd

    offset = np.timedelta64(at.hour * 3600 + at.minute * 60 + at.second, "s")
    local = pd.DatetimeIndex(days.astype("datetime64[s]") + offset)
    return _to_seconds(local.tz_localize(tz.key, ambiguous=True, nonexistent="shift_forward"))


def _fallback(first: _dt.date, last: _dt.date, weekmask: str, hours: tuple[_dt.time, _dt.time],
              tz: ZoneInfo) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    if last < first:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
    days = days[np.is_busday(days, weekmask=weekmask)]
    return days.astype(np.int64), _local_to_utc(days, hours[0], tz), _local_to_utc(days, hours[1], tz)


def _to_seconds(values: Any) -> npt.NDArray[np.int64]:
    """UTC epoch seconds of pandas timestamps (aware → converted to UTC; naive → taken as UTC)."""
    import pandas as pd

    idx = pd.DatetimeIndex(values)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return np.asarray(idx.to_numpy().astype("datetime64[s]").astype(np.int64), dtype=np.int64)


def _build(code: str) -> MarketCalendar:
    import exchange_calendars as xc  # lazily: ~0.2 s, and it pulls in pandas
    from exchange_calendars.errors import InvalidCalendarName

    with warnings.catch_warnings():
        # exchange_calendars 4.13 reads Series.values of tz-aware columns, which pandas 3.1
        # deprecates; its problem, not one a user can act on
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        try:
            cal = xc.get_calendar(code, start=EXACT_FIRST.isoformat(), end=EXACT_LAST.isoformat())
            first, last = EXACT_FIRST, EXACT_LAST
        except InvalidCalendarName:
            raise ValueError(f"unknown exchange {code!r}; use an ISO MIC such as XNYS or XNAS") from None
        except ValueError:  # the library records this exchange for a shorter span: its default
            cal = xc.get_calendar(code)
            first, last = cal.first_session.date(), cal.last_session.date()
    tz = ZoneInfo(str(cal.tz))
    hours = (cal.open_times[-1][1], cal.close_times[-1][1])
    weekmask = str(cal.weekmask)
    days = _to_seconds(cal.sessions) // 86400
    opens, closes = _to_seconds(cal.opens), _to_seconds(cal.closes)
    early = _to_seconds(cal.early_closes) // 86400
    b_days, b_opens, b_closes = _fallback(RANGE_FIRST, first - _dt.timedelta(days=1), weekmask, hours, tz)
    a_days, a_opens, a_closes = _fallback(last + _dt.timedelta(days=1), RANGE_LAST, weekmask, hours, tz)
    tables = _Tables(np.concatenate([b_days, days, a_days]), np.concatenate([b_opens, opens, a_opens]),
                     np.concatenate([b_closes, closes, a_closes]), np.asarray(early, dtype=np.int64))
    return MarketCalendar(code, tz, hours[0], hours[1], weekmask, first, last, tables)


def _resolve(exchange: str) -> str:
    if not isinstance(exchange, str) or not exchange.strip():
        raise ValueError("exchange must be a non-empty code such as 'XNYS'")
    code = exchange.strip().upper()
    return _ALIASES.get(code, code)


_CACHE: dict[str, MarketCalendar] = {}


def get_calendar(exchange: str = DEFAULT_EXCHANGE) -> MarketCalendar:
    """The cached ``MarketCalendar`` of ``exchange`` (an ISO MIC such as ``"XNYS"``, ``"XNAS"``,
    ``"XLON"``, or ``"NYSE"`` / ``"NASDAQ"``). The first call per exchange imports
    exchange_calendars and builds the tables (a few hundred ms); later calls are a dict look-up.
    Thread-safe: concurrent first calls build once.

    Raises ``ValueError`` for an exchange that exchange_calendars does not know.
    """
    code = _resolve(exchange)
    cal = _CACHE.get(code)
    if cal is None:
        with _BUILD_LOCK:
            cal = _CACHE.get(code)
            if cal is None:
                cal = _CACHE[code] = _build(code)
    return cal


def exchange_for(symbol_or_exchange: str) -> str:
    """The exchange code whose sessions a symbol trades in (no calendar is built).

    The rule: a known exchange code or alias (XNYS, XNAS, NYSE, NASDAQ) is itself; a Yahoo
    ticker with a listed non-US suffix (``VOD.L`` → XLON, ``SHOP.TO`` → XTSE, see
    ``YAHOO_SUFFIXES``) trades there; everything else — US tickers, ``^`` indices, share classes
    such as ``BRK.B`` / ``BRK-B``, demo symbols (fictional US companies) and imported CSV symbols —
    uses XNYS. NYSE and Nasdaq keep the same sessions, holidays and hours (exchange_calendars makes
    XNAS an alias of XNYS), so the listing venue of a US stock does not matter here.
    """
    if not isinstance(symbol_or_exchange, str) or not symbol_or_exchange.strip():
        raise ValueError("symbol must be a non-empty string")
    s = symbol_or_exchange.strip().upper()
    if s in EXCHANGES or s in _ALIASES:
        return _ALIASES.get(s, s)
    head, dot, suffix = s.rpartition(".")
    if dot and head and suffix in YAHOO_SUFFIXES:
        return YAHOO_SUFFIXES[suffix]
    return DEFAULT_EXCHANGE


def exchange_tz(symbol_or_exchange: str) -> ZoneInfo:
    """The time zone a symbol's (or exchange's) sessions are written in, by the rule of
    ``exchange_for``: ``America/New_York`` for US and demo symbols. Builds no calendar (cheap
    enough for drawing an axis). Raises ``ValueError`` for an empty symbol."""
    return ZoneInfo(EXCHANGE_TZ.get(exchange_for(symbol_or_exchange), "America/New_York"))


def calendar_for(symbol_or_exchange: str) -> MarketCalendar:
    """The calendar of a symbol or exchange code, by the rule of ``exchange_for``."""
    return get_calendar(exchange_for(symbol_or_exchange))


def session_close_after(t_utc: Instant, exchange: str = DEFAULT_EXCHANGE) -> int:
    """When a DAY order entered at ``t_utc`` expires: the close (UTC epoch seconds) of the session
    in progress, or of the next session when the market is closed (nights, weekends, holidays,
    and the closing second itself). Early closes honoured (2024-11-29 → 13:00 New York).

    Raises ``ValueError`` / ``TypeError`` for a naive datetime, a non-finite number or an unknown
    exchange.
    """
    return get_calendar(exchange).next_close(t_utc)


def monthly_expiries(year: int, exchange: str = DEFAULT_EXCHANGE) -> list[_dt.date]:
    """Standard monthly options expiries of ``year`` on ``exchange``; see
    ``MarketCalendar.monthly_expiries``."""
    return get_calendar(exchange).monthly_expiries(year)
