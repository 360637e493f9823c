"""Demo provider: deterministic to the byte, and statistically like real markets."""
import datetime as _dt
import hashlib
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from engine.data import demo
from engine.data.demo import DemoProvider
from engine.data.errors import UnknownSymbolError
from engine.market.calendar import get_calendar

REPO = Path(__file__).resolve().parents[2]


def _digest(bars):
    h = hashlib.sha256()
    for a in (bars.time, bars.open, bars.high, bars.low, bars.close, bars.volume):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def test_same_bytes_twice_and_in_a_fresh_process():
    p = DemoProvider()
    a = p.fetch("ACME")
    demo._daily_arrays.cache_clear()
    b = p.fetch("ACME")
    assert _digest(a) == _digest(b)
    code = ("import hashlib, numpy as np\nfrom engine.data.demo import DemoProvider\n"
            "b = DemoProvider().fetch('ACME')\nh = hashlib.sha256()\n"
            "for a in (b.time, b.open, b.high, b.low, b.close, b.volume):\n"
            "    h.update(np.ascontiguousarray(a).tobytes())\nprint(h.hexdigest())")
    # PYTHONHASHSEED differs per process: the data must not depend on hash().
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         env={"PYTHONHASHSEED": "123", "PATH": ""}, check=True)
    assert out.stdout.strip() == _digest(a)


def test_universe_is_large_fictional_and_labelled():
    syms = demo.demo_symbols()
    assert len(syms) >= 50 and len(set(syms)) == len(syms)
    for d in demo.UNIVERSE:
        assert d.name and d.sector and "Demo" in d.name
    bars = DemoProvider().fetch(syms[7])
    assert bars.source == "demo" and bars.is_demo


def test_ten_years_of_nyse_sessions_ending_at_the_fixed_date():
    bars = DemoProvider().fetch("GLOBX")
    days = bars.dates().astype("datetime64[D]")
    assert days[-1] == demo.DAILY_END
    assert (days[-1] - days[0]).astype(int) >= 3652
    assert np.all(np.is_busday(days)) and np.all(bars.time % 86400 == 0)
    # no bars on exchange holidays: the dates are exactly the calendar's sessions
    nyse = get_calendar("XNYS")
    assert np.array_equal(days, nyse.sessions(demo.DAILY_START, demo.DAILY_END))
    for holiday in ("2024-11-28", "2024-12-25", "2025-04-18", "2025-01-09", "2026-07-03"):
        assert np.datetime64(holiday) not in days, holiday
    assert np.all(bars.high >= np.maximum(bars.open, bars.close))
    assert np.all(bars.low <= np.minimum(bars.open, bars.close)) and np.all(bars.low > 0)
    assert np.all(bars.volume > 0) and np.all(bars.volume == np.round(bars.volume))
    assert np.all(bars.close == np.round(bars.close, 2))


def test_daily_series_generates_in_under_5_ms():
    demo.market_factor()
    demo._daily_arrays.cache_clear()
    best = min(_timed(lambda s=s: demo._daily_arrays(s)) for s in demo.demo_symbols()[:10])
    assert best < 0.005


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def test_returns_have_fat_tails_clustering_and_correlation():
    p = DemoProvider()
    rets = np.array([np.diff(np.log(p.fetch(s).close)) for s in demo.demo_symbols()])
    z = (rets - rets.mean(axis=1, keepdims=True)) / rets.std(axis=1, keepdims=True)
    kurt = (z ** 4).mean(axis=1)
    assert np.all(kurt > 3.0)  # fatter than the normal distribution, every symbol
    a = np.abs(rets)
    acf = np.array([np.corrcoef(x[1:], x[:-1])[0, 1] for x in a])
    assert acf.mean() > 0.03 and np.mean(acf > 0) > 0.9  # volatility clusters
    c = np.corrcoef(rets)
    assert c[np.triu_indices(len(c), 1)].mean() > 0.2  # a common market factor
    vol = np.array([np.corrcoef(np.abs(r), np.log(p.fetch(s).volume[1:]))[0, 1]
                    for r, s in zip(rets, demo.demo_symbols())])
    assert vol.mean() > 0.2  # volume rises with big moves
    gaps = np.array([p.fetch(s).open[1:] / p.fetch(s).close[:-1] - 1 for s in demo.demo_symbols()[:5]])
    assert np.mean(np.abs(gaps) > 0.001) > 0.5  # opens gap away from the previous close


def test_one_minute_bars_cover_the_new_york_session_and_match_the_days():
    p = DemoProvider()
    m = p.fetch("ACME", "1m")
    d = p.fetch("ACME", "1d")
    days = np.unique(m.time // 86400)
    assert len(days) >= 20 and len(m) == len(days) * 390
    ny = ZoneInfo("America/New_York")
    for day in days:
        sel = m.time // 86400 == day
        first = _dt.datetime.fromtimestamp(int(m.time[sel][0]), ny)
        last = _dt.datetime.fromtimestamp(int(m.time[sel][-1]), ny)
        assert (first.hour, first.minute) == (9, 30) and (last.hour, last.minute) == (15, 59)
        i = int(np.searchsorted(d.time, day * 86400))
        assert m.open[sel][0] == d.open[i] and m.close[sel][-1] == d.close[i]
        assert m.high[sel].max() == d.high[i] and m.low[sel].min() == d.low[i]
        assert m.volume[sel].sum() == d.volume[i]
    assert np.all(m.high >= np.maximum(m.open, m.close)) and np.all(m.low <= np.minimum(m.open, m.close))


def test_other_timeframes_are_resampled_consistently():
    p = DemoProvider()
    m, h = p.fetch("INITK", "1m"), p.fetch("INITK", "1h")
    assert h.volume.sum() == m.volume.sum() and h.high.max() == m.high.max()
    d, w = p.fetch("INITK", "1d"), p.fetch("INITK", "1wk")
    assert w.volume.sum() == d.volume.sum()
    # one bar per ISO week, starting at its first session (a Tuesday after a Monday holiday)
    iso_weeks = {}
    for day in d.dates().astype("datetime64[D]").astype(object):
        iso_weeks.setdefault(day.isocalendar()[:2], day)
    assert w.dates().astype("datetime64[D]").astype(object).tolist() == list(iso_weeks.values())
    part = p.fetch("INITK", "1d", start=int(d.time[10]), end=int(d.time[20]))
    assert part.time.tolist() == d.time[10:20].tolist()


def test_unknown_symbol_is_refused():
    with pytest.raises(UnknownSymbolError, match="demo"):
        DemoProvider().fetch("AAPL")


def test_the_frozen_holiday_list_agrees_with_the_market_calendar():
    """The daily demo keeps its own copy of the NYSE closures (so start-up needs no
    exchange_calendars); if a library release changes them, this says so."""
    want = get_calendar("XNYS").holidays(demo.DAILY_START, demo.DAILY_END)
    assert demo.exchange_holidays().astype(object).tolist() == want


def test_holidays_dropped_from_the_daily_series_leave_the_other_bars_as_they_were():
    # the model runs on every weekday; a holiday only removes its own bar, and the next
    # session's open gaps from the last close shown
    full = demo._weekdays()
    d = DemoProvider().fetch("WONKA")
    assert len(full) - len(d) == len(demo.exchange_holidays())
    i = int(np.searchsorted(d.time, np.datetime64("2024-11-29").astype("datetime64[s]").astype(np.int64)))
    assert d.dates()[i - 1].astype("datetime64[D]") == np.datetime64("2024-11-27")
    assert np.all(d.low[i - 1:i + 1] > 0) and d.high[i] >= max(d.open[i], d.close[i])


def test_one_minute_sessions_follow_the_calendar_through_thanksgiving_and_dst():
    """The demo's intraday window is October 2026 (no holiday); a window ending 2024-12-02
    holds the 2024-11-03 clock change, Thanksgiving and the 13:00 close of 2024-11-29."""
    ny = ZoneInfo("America/New_York")
    t, o, h, lo, c, v = demo._minute_arrays("ACME", np.datetime64("2024-12-02"))
    d = DemoProvider().fetch("ACME", "1d")
    days = np.unique(t // 86400).astype("datetime64[D]")
    assert len(days) == demo.INTRADAY_DAYS and days[0] == np.datetime64("2024-10-31")
    assert np.datetime64("2024-11-28") not in days and days[-1] == np.datetime64("2024-12-02")
    nyse = get_calendar("XNYS")
    for day in days:
        sel = t // 86400 == day.astype(np.int64)
        assert np.array_equal(t[sel], nyse.minutes(day))
        first = _dt.datetime.fromtimestamp(int(t[sel][0]), ny)
        last = _dt.datetime.fromtimestamp(int(t[sel][-1]), ny)
        early = day == np.datetime64("2024-11-29")
        assert (first.time(), last.time()) == (_dt.time(9, 30), _dt.time(12, 59) if early else _dt.time(15, 59))
        assert sel.sum() == (210 if early else 390)
        i = int(np.searchsorted(d.time, day.astype("datetime64[s]").astype(np.int64)))
        assert o[sel][0] == d.open[i] and c[sel][-1] == d.close[i]
        assert h[sel].max() == d.high[i] and lo[sel].min() == d.low[i] and v[sel].sum() == d.volume[i]
    # 09:30 New York is 13:30 UTC before the clock change and 14:30 UTC after it
    opens = {str(day): int(t[t // 86400 == day.astype(np.int64)][0] % 86400) for day in days}
    assert opens["2024-11-01"] == 13 * 3600 + 1800 and opens["2024-11-04"] == 14 * 3600 + 1800


def test_one_minute_series_generates_fast():
    demo._minute_arrays("ACME")  # builds the market calendar once
    demo._minute_arrays.cache_clear()
    best = min(_timed(lambda s=s: demo._minute_arrays(s)) for s in demo.demo_symbols()[:3])
    assert best < 0.1  # 22 sessions × 390 minutes; about 10 ms here


def test_providers_implement_the_interface():
    from engine.data.provider import Provider
    from engine.data.yahoo import YahooProvider

    assert isinstance(DemoProvider(), Provider) and DemoProvider.is_demo
    y = YahooProvider(lambda **kw: None)
    assert isinstance(y, Provider) and not y.is_demo and y.source == "yahoo"
