"""Timeframes built from finer bars (engine/charts/resample) against pandas resample, on the
FUT 1-minute and NVDA daily files in tests/data, plus a DST week and an early close; and
DataService.get_bars building them from the finest stored bars."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.charts import _backend
from engine.charts.resample import can_build, finest, resample
from engine.data.bars import Bars
from engine.data.csv_import import read_bars_csv
from engine.market.calendar import get_calendar

AGG = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
NY = "America/New_York"


@pytest.fixture(params=["numba", "numpy"])
def backend(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    previous = _backend.set_backend(request.param)
    yield request.param
    _backend.set_backend(previous)


_FUT: list[Bars] = []


@pytest.fixture
def fut(shared_data) -> Bars:  # type: ignore[no-untyped-def]
    if not _FUT:  # read once for the module (shared_data is function-scoped)
        _FUT.append(read_bars_csv(shared_data / "FUT-2006-1min.csv").bars)
    return _FUT[0]


def same(ours: Bars, ref: pd.DataFrame) -> None:
    got = ours.to_frame()
    assert len(got) == len(ref)
    assert (got.index.values == ref.index.values).all()
    assert (got[list(AGG)].values == ref[list(AGG)].values).all()


@pytest.mark.parametrize("tf,rule", [("5m", "5min"), ("15m", "15min"), ("30m", "30min")])
def test_short_intraday_equals_pandas_resample(fut: Bars, tf: str, rule: str, backend: str) -> None:
    # NYSE opens on the half hour: session-aligned 5-30 minute bins are plain UTC multiples
    same(resample(fut, tf), fut.to_frame().resample(rule).agg(AGG).dropna())


def _segment_reference(df: pd.DataFrame, rule: str) -> pd.DataFrame:
    """pandas resample per segment (pre-open, session, after close, day without a session),
    each with its bins' origin at the open, the close or the exchange's midnight."""
    cal = get_calendar("XNYS")
    local = df.index.tz_localize("UTC").tz_convert(NY)
    parts = []
    for day, g in df.groupby(local.date):
        mid = pd.Timestamp(day).tz_localize(NY).tz_convert("UTC").tz_localize(None)
        if not cal.is_session(day):
            parts.append(g.resample(rule, origin=mid).agg(AGG).dropna())
            continue
        o, c = (pd.Timestamp(x, unit="s") for x in cal.open_close(day))
        for seg, origin in ((g[g.index < o], o), (g[(g.index >= o) & (g.index < c)], o), (g[g.index >= c], c)):
            if len(seg):
                r = seg.resample(rule, origin=origin).agg(AGG).dropna()
                r.index = np.maximum(r.index, mid)  # the first pre-open bin starts at midnight
                parts.append(r)
    return pd.concat(parts)


@pytest.mark.parametrize("tf,rule", [("1h", "1h"), ("4h", "4h")])
def test_hour_bins_follow_the_session_like_pandas_per_segment(fut: Bars, tf: str, rule: str, backend: str) -> None:
    ours = resample(fut, tf)
    same(ours, _segment_reference(fut.to_frame(), rule))
    local = pd.DatetimeIndex(ours.dates()).tz_localize("UTC").tz_convert(NY)
    # 2006-01-03 is a session: its 1h bins start 09:30, 10:30, ... New York time
    day = local[local.date == pd.Timestamp("2006-01-03").date()]
    assert "09:30" in {t.strftime("%H:%M") for t in day}


@pytest.mark.parametrize("tf,rule,kw", [("1d", "D", {}), ("1wk", "W-MON", {"label": "left", "closed": "left"}),
                                        ("1mo", "MS", {})])
def test_daily_weekly_monthly_from_minutes_group_by_exchange_date(fut: Bars, tf: str, rule: str, kw: dict) -> None:  # type: ignore[type-arg]
    local = fut.to_frame().tz_localize("UTC").tz_convert(NY)
    ref = local.resample(rule, **kw).agg(AGG).dropna()
    ref.index = ref.index.tz_localize(None)
    same(resample(fut, tf), ref)


@pytest.mark.parametrize("tf,rule,kw", [("1wk", "W-MON", {"label": "left", "closed": "left"}), ("1mo", "MS", {})])
def test_weekly_monthly_from_a_daily_file(shared_data, tf: str, rule: str, kw: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    daily = read_bars_csv(shared_data / "NVDA-1999-2014.csv").bars
    ours = resample(daily, tf)
    same(ours, daily.to_frame().resample(rule, **kw).agg(AGG).dropna())
    if tf == "1wk":  # labelled by the Monday of the week
        assert (pd.DatetimeIndex(ours.dates()).day_of_week == 0).all()


def _session_minutes(*days: str) -> Bars:
    cal = get_calendar("XNYS")
    t = np.concatenate([cal.minutes(d) for d in days])
    x = np.arange(len(t), dtype=float)
    return Bars.from_arrays("SPY", "1m", t, 100 + x, 101 + x, 99 + x, 100.5 + x, np.ones(len(t)))


def test_dst_week_keeps_hour_bars_on_the_session(backend: str) -> None:
    # 2024-03-08 is EST (open 14:30 UTC), 2024-03-11 EDT (open 13:30 UTC)
    h = resample(_session_minutes("2024-03-08", "2024-03-11"), "1h")
    local = pd.DatetimeIndex(h.dates()).tz_localize("UTC").tz_convert(NY).strftime("%d %H:%M").tolist()
    hours = ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30", "15:30"]
    assert local == [f"08 {x}" for x in hours] + [f"11 {x}" for x in hours]
    assert h.volume.tolist() == [60] * 6 + [30] + [60] * 6 + [30]


def test_early_close_day(backend: str) -> None:
    b = _session_minutes("2024-11-29")  # closes 13:00 New York
    h = resample(b, "1h")
    assert pd.DatetimeIndex(h.dates()).tz_localize("UTC").tz_convert(NY).strftime("%H:%M").tolist() == [
        "09:30", "10:30", "11:30", "12:30"]
    assert h.volume.tolist() == [60, 60, 60, 30]
    four = resample(b, "4h")
    assert len(four) == 1 and four.volume[0] == 210 and four.close[0] == b.close[-1]
    d = resample(b, "1d")
    assert d.time.tolist() == [int(pd.Timestamp("2024-11-29").timestamp())]
    assert (d.open[0], d.high[0], d.low[0], d.close[0]) == (b.open[0], b.high.max(), b.low.min(), b.close[-1])


def test_pre_market_and_after_hours_bins(backend: str) -> None:
    # 2024-03-11 (EDT): 08:00-09:29 pre-market, 16:00-17:59 after hours, New York time
    cal = get_calendar("XNYS")
    o, c = cal.open_close("2024-03-11")
    t = np.r_[np.arange(o - 90 * 60, o, 60), np.arange(c, c + 120 * 60, 60)]
    b = Bars.from_arrays("SPY", "1m", t, *(np.ones(len(t)) for _ in range(5)))
    local = pd.DatetimeIndex(resample(b, "1h").dates()).tz_localize("UTC").tz_convert(NY).strftime("%H:%M")
    assert local.tolist() == ["07:30", "08:30", "16:00", "17:00"]


def test_refusals_and_helpers(fut: Bars) -> None:
    hourly = resample(fut, "1h")
    with pytest.raises(ValueError, match="cannot be built from 1h"):
        resample(hourly, "5m")
    with pytest.raises(ValueError, match="unknown timeframe"):
        resample(fut, "3m")
    bad = Bars.from_arrays("X", "1m", np.array([0, 60]), np.array([1.0, np.nan]), *(np.ones(2) for _ in range(4)))
    with pytest.raises(ValueError, match="non-finite open"):
        resample(bad, "5m")
    assert resample(fut, "1m") is fut
    assert can_build("1m", "4h") and not can_build("4h", "1h") and not can_build("1wk", "1mo")
    assert finest(["1d", "5m", "1m"], "1h") == "1m" and finest(["1d"], "5m") is None


def test_data_service_builds_missing_timeframes_from_the_finest_stored(db, shared_data) -> None:  # type: ignore[no-untyped-def]
    from engine.data.errors import DataError
    from engine.data.service import DataService
    from engine.events import EventBus

    svc = DataService(db, bus=EventBus())  # demo source: an imported symbol asked for 5m failed
    svc.import_csv(shared_data / "FUT-2006-1min.csv")
    five = svc.get_bars("FUT", "5m")
    assert five.timeframe == "5m" and five.meta["built_from"] == "1m" and len(five) == 6404
    assert len(svc.get_bars("FUT", "1d")) == 41 and len(svc.get_bars("FUT", "4h")) > 0
    assert svc.cached("FUT", "5m") is None  # built, not stored: it follows the 1m bars
    svc.import_csv(shared_data / "NVDA-1999-2014.csv")
    assert svc.get_bars("NVDA", "1wk").meta["built_from"] == "1d"
    with pytest.raises(DataError, match=r"stored bars \(1d\) cannot make them"):
        svc.get_bars("NVDA", "5m")
    demo4h = svc.get_bars("ACME", "4h")  # demo data has no 4h: built from its 1m bars
    assert demo4h.is_demo and demo4h.meta["built_from"] == "1m"
