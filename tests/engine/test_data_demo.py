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


def test_ten_years_of_business_days_ending_at_the_fixed_date():
    bars = DemoProvider().fetch("GLOBX")
    days = bars.dates().astype("datetime64[D]")
    assert days[-1] == demo.DAILY_END
    assert (days[-1] - days[0]).astype(int) >= 3652
    assert np.all(np.is_busday(days)) and np.all(bars.time % 86400 == 0)
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
    assert w.volume.sum() == d.volume.sum() and len(w) in range(len(d) // 5, len(d) // 5 + 3)
    part = p.fetch("INITK", "1d", start=int(d.time[10]), end=int(d.time[20]))
    assert part.time.tolist() == d.time[10:20].tolist()


def test_unknown_symbol_is_refused():
    with pytest.raises(UnknownSymbolError, match="demo"):
        DemoProvider().fetch("AAPL")


def test_new_york_offset_rule_agrees_with_the_time_zone_database():
    ny = ZoneInfo("America/New_York")
    for day in np.arange(np.datetime64("2014-01-01"), np.datetime64("2027-01-01"), 3):
        d = day.astype(object)
        noon = _dt.datetime(d.year, d.month, d.day, 12, tzinfo=ny)
        assert demo._ny_offset_hours(day) == noon.utcoffset().total_seconds() / 3600, d


def test_providers_implement_the_interface():
    from engine.data.provider import Provider
    from engine.data.yahoo import YahooProvider

    assert isinstance(DemoProvider(), Provider) and DemoProvider.is_demo
    y = YahooProvider(lambda **kw: None)
    assert isinstance(y, Provider) and not y.is_demo and y.source == "yahoo"
