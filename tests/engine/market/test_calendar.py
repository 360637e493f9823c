"""The market calendar against outside truth: the NYSE's published holidays and early closes,
US daylight-saving changes, and the OCC's monthly expiry rule."""
import datetime as dt
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from engine.market import calendar as mc
from engine.market.calendar import (
    calendar_for,
    exchange_for,
    get_calendar,
    monthly_expiries,
    session_close_after,
)

NY = ZoneInfo("America/New_York")
UTC = dt.timezone.utc
REPO = Path(__file__).resolve().parents[3]

# NYSE holidays as published on nyse.com (Holidays & Trading Hours), full-day closures.
NYSE_HOLIDAYS = {
    2024: ["2024-01-01", "2024-01-15", "2024-02-19", "2024-03-29", "2024-05-27", "2024-06-19",
           "2024-07-04", "2024-09-02", "2024-11-28", "2024-12-25"],
    # 2025-01-09: closed for the National Day of Mourning for President Carter
    2025: ["2025-01-01", "2025-01-09", "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26",
           "2025-06-19", "2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25"],
    # 2026-07-03: Independence Day observed (July 4 is a Saturday)
    2026: ["2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19",
           "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25"],
}
# Early closes at 1:00 p.m. New York.
NYSE_EARLY_CLOSES = {
    2024: ["2024-07-03", "2024-11-29", "2024-12-24"],
    2025: ["2025-07-03", "2025-11-28", "2025-12-24"],
    2026: ["2026-11-27", "2026-12-24"],
}


def _ny(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=NY).timestamp())


@pytest.fixture(scope="module")
def nyse():
    return get_calendar("XNYS")


@pytest.mark.parametrize("year", sorted(NYSE_HOLIDAYS))
def test_holidays_and_early_closes_match_the_nyse_calendar(nyse, year):
    want = [dt.date.fromisoformat(d) for d in NYSE_HOLIDAYS[year]]
    assert nyse.holidays(f"{year}-01-01", f"{year}-12-31") == want
    assert not any(nyse.is_session(d) for d in want)
    early = [dt.date.fromisoformat(d) for d in NYSE_EARLY_CLOSES[year]]
    assert nyse.early_closes(dt.date(year, 1, 1), dt.date(year, 12, 31)) == early
    for d in early:
        o, c = nyse.open_close(d)
        assert (dt.datetime.fromtimestamp(o, NY).time(), dt.datetime.fromtimestamp(c, NY).time()) == \
            (dt.time(9, 30), dt.time(13, 0))
        assert len(nyse.minutes(d)) == 210
    # every other weekday is a full 09:30-16:00 session
    days = nyse.sessions(f"{year}-01-01", f"{year}-12-31")
    weekdays = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    weekdays = weekdays[np.is_busday(weekdays)]
    assert len(days) == len(weekdays) - len(want)
    full = [d for d in days.astype(object) if d not in early]
    assert all(len(nyse.minutes(d)) == 390 for d in full)


def test_thanksgiving_week_2024(nyse):
    assert nyse.is_session("2024-11-27") and not nyse.is_session("2024-11-28")
    assert nyse.open_close("2024-11-29") == (_ny(2024, 11, 29, 9, 30), _ny(2024, 11, 29, 13))
    assert nyse.open_close("2024-11-29") == (1732890600, 1732903200)  # 14:30 and 18:00 UTC
    # Wednesday after the close → Friday's open and its early close
    wed_evening = _ny(2024, 11, 27, 17)
    assert nyse.next_open(wed_evening) == _ny(2024, 11, 29, 9, 30)
    assert nyse.next_close(wed_evening) == _ny(2024, 11, 29, 13)
    assert nyse.previous_close(_ny(2024, 11, 29, 10)) == _ny(2024, 11, 27, 16)
    assert not nyse.is_open(_ny(2024, 11, 28, 11))
    assert nyse.is_open(_ny(2024, 11, 29, 12, 59)) and not nyse.is_open(_ny(2024, 11, 29, 13))
    assert nyse.session_at(_ny(2024, 11, 29, 12)) == dt.date(2024, 11, 29)
    assert nyse.session_at(_ny(2024, 11, 28, 12)) is None


def test_daylight_saving_moves_the_session_in_utc(nyse):
    # 2024-03-10 clocks go forward: 14:30 UTC on Friday, 13:30 UTC on Monday
    assert nyse.open_close("2024-03-08") == (int(dt.datetime(2024, 3, 8, 14, 30, tzinfo=UTC).timestamp()),
                                             int(dt.datetime(2024, 3, 8, 21, 0, tzinfo=UTC).timestamp()))
    assert nyse.open_close("2024-03-11")[0] == int(dt.datetime(2024, 3, 11, 13, 30, tzinfo=UTC).timestamp())
    # 2024-11-03 clocks go back: 13:30 UTC on Friday, 14:30 UTC on Monday
    assert nyse.open_close("2024-11-01")[0] == int(dt.datetime(2024, 11, 1, 13, 30, tzinfo=UTC).timestamp())
    assert nyse.open_close("2024-11-04")[0] == int(dt.datetime(2024, 11, 4, 14, 30, tzinfo=UTC).timestamp())
    for d in nyse.sessions("2024-03-04", "2024-03-15").astype(object):
        m = nyse.minutes(d)
        first = dt.datetime.fromtimestamp(int(m[0]), NY)
        last = dt.datetime.fromtimestamp(int(m[-1]), NY)
        assert (first.time(), last.time(), len(m)) == (dt.time(9, 30), dt.time(15, 59), 390)
        assert np.all(np.diff(m) == 60)
    assert nyse.tz == NY


def test_next_and_previous_are_strict_and_skip_weekends(nyse):
    fri_close = _ny(2024, 6, 7, 16)
    assert nyse.next_close(fri_close) == _ny(2024, 6, 10, 16)  # at the close it is closed
    assert nyse.next_close(fri_close - 1) == fri_close
    assert nyse.previous_close(fri_close) == _ny(2024, 6, 6, 16)
    assert nyse.previous_close(fri_close + 1) == fri_close
    assert nyse.next_open(_ny(2024, 6, 10, 9, 30)) == _ny(2024, 6, 11, 9, 30)
    assert nyse.is_open(_ny(2024, 6, 10, 9, 30)) and not nyse.is_open(_ny(2024, 6, 8, 12))
    sat = dt.datetime(2024, 6, 8, 12, tzinfo=UTC)  # aware datetimes work as well as seconds
    assert nyse.next_open(sat) == _ny(2024, 6, 10, 9, 30)


def test_session_close_after_is_the_day_order_expiry():
    # during a session: that day's close; early close honoured
    assert session_close_after(_ny(2024, 11, 29, 10)) == _ny(2024, 11, 29, 13)
    assert session_close_after(_ny(2024, 12, 24, 9, 45), "XNAS") == _ny(2024, 12, 24, 13)
    # before the open: that day's close; after the close, on a holiday or weekend: the next one
    assert session_close_after(_ny(2024, 11, 27, 8)) == _ny(2024, 11, 27, 16)
    assert session_close_after(_ny(2024, 11, 27, 16)) == _ny(2024, 11, 29, 13)
    assert session_close_after(_ny(2024, 11, 28, 12)) == _ny(2024, 11, 29, 13)
    assert session_close_after(_ny(2025, 4, 17, 20)) == _ny(2025, 4, 21, 16)  # over Good Friday
    assert session_close_after(1732903200.5 - 1) == 1732903200  # float seconds (ms / 1000)


@pytest.mark.parametrize("year, want", [
    (2025, ["2025-01-17", "2025-02-21", "2025-03-21", "2025-04-17", "2025-05-16", "2025-06-20",
            "2025-07-18", "2025-08-15", "2025-09-19", "2025-10-17", "2025-11-21", "2025-12-19"]),
    # 2022-04-15 was Good Friday: April's options expired on Thursday 2022-04-14
    (2022, ["2022-01-21", "2022-02-18", "2022-03-18", "2022-04-14", "2022-05-20", "2022-06-17",
            "2022-07-15", "2022-08-19", "2022-09-16", "2022-10-21", "2022-11-18", "2022-12-16"]),
])
def test_monthly_expiries_are_third_fridays_moved_before_holidays(year, want):
    assert monthly_expiries(year) == [dt.date.fromisoformat(d) for d in want]


def test_calendar_for_maps_symbols_to_exchanges():
    for sym in ("AAPL", "orcl", "BRK.B", "BRK-B", "^GSPC", "ACME", "FUT-2006"):
        assert exchange_for(sym) == "XNYS", sym
    assert exchange_for("nasdaq") == "XNAS" and exchange_for("NYSE") == "XNYS"
    assert exchange_for("VOD.L") == "XLON" and exchange_for("SHOP.TO") == "XTSE"
    assert calendar_for("ACME") is get_calendar("XNYS")  # cached: one per exchange
    lse = calendar_for("VOD.L")
    assert lse.tz == ZoneInfo("Europe/London")
    assert not lse.is_session("2024-08-26")  # the UK's summer bank holiday, a NYSE session
    assert get_calendar("XNYS").is_session("2024-08-26")
    with pytest.raises(ValueError, match="unknown exchange"):
        get_calendar("XXXX")
    with pytest.raises(ValueError, match="non-empty"):
        exchange_for("  ")


def test_outside_the_exact_window_a_weekday_fallback_is_flagged(nyse):
    assert nyse.exact_range == (mc.EXACT_FIRST, mc.EXACT_LAST)
    assert nyse.is_exact("2024-11-28") and not nyse.is_exact("1955-12-26")
    # 1955-12-26 (Christmas observed) closed the NYSE, but the fallback knows no holidays
    assert nyse.is_session("1955-12-26") and nyse.holidays("1955-12-01", "1955-12-31") == []
    assert not nyse.is_session("1955-12-24")  # a Saturday
    assert nyse.open_close("2075-07-01") == (_ny(2075, 7, 1, 9, 30), _ny(2075, 7, 1, 16))
    # the seam between the library's window and the fallback is continuous
    last = nyse.sessions("2050-12-20", "2050-12-31")[-1].astype(object)
    assert nyse.next_open(nyse.open_close(last)[1]) == _ny(2051, 1, 2, 9, 30)


def test_bad_input_is_refused_with_one_sentence(nyse):
    with pytest.raises(ValueError, match="timezone-aware"):
        nyse.is_open(dt.datetime(2024, 1, 2, 10))
    with pytest.raises(ValueError, match="finite"):
        nyse.next_close(float("nan"))
    with pytest.raises(TypeError, match="epoch seconds"):
        nyse.is_open("2024-01-02")
    with pytest.raises(TypeError, match="not a datetime"):
        nyse.is_session(dt.datetime(2024, 1, 2, tzinfo=UTC))
    with pytest.raises(ValueError, match="not a date"):
        nyse.is_session("2024-13-01")
    with pytest.raises(ValueError, match="not a XNYS session"):
        nyse.open_close("2024-11-28")
    with pytest.raises(ValueError, match="outside the calendar's range"):
        nyse.is_session("1850-01-02")
    with pytest.raises(ValueError, match="outside the calendar's range"):
        nyse.next_open(_ny(2101, 1, 3, 12))
    with pytest.raises(ValueError, match="before start"):
        nyse.sessions("2024-02-01", "2024-01-01")
    with pytest.raises(ValueError, match="outside"):
        monthly_expiries(1800)


def test_importing_the_engine_does_not_import_exchange_calendars():
    code = ("import sys, engine.market, engine.scanner, engine.data.demo, engine.paper\n"
            "from engine.data.demo import DemoProvider\n"
            "DemoProvider().fetch('ACME')\n"
            "print('exchange_calendars' in sys.modules, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.filterwarnings("ignore:DatetimeIndex.weekday is deprecated")  # inside exchange_calendars
def test_the_static_time_zones_are_the_calendars_own():
    from engine.market.calendar import EXCHANGE_TZ, exchange_tz

    for code, name in EXCHANGE_TZ.items():
        assert str(get_calendar(code).tz) == name, code
    assert str(exchange_tz("ACME")) == "America/New_York"
    assert str(exchange_tz("VOD.L")) == "Europe/London"
