"""The data service keeps bars read from the store (and bars built from them) until the stored
series is written: a timeframe switch back is a lookup, a changed series is never served stale."""
import numpy as np
import pytest

from engine.charts.resample import resample
from engine.data.bars import Bars
from engine.data.loaded_cache import LoadedCache
from engine.data.service import DataService
from engine.events import EventBus


def minute_bars(n, seed=1, t0=1_600_000_000 // 86400 * 86400 + 14 * 3600 + 30 * 60, symbol="X"):
    rng = np.random.default_rng(seed)
    t = t0 + 60 * np.arange(n, dtype=np.int64)  # from 14:30 UTC, inside the NYSE session
    c = 100 + np.cumsum(rng.normal(0, 0.1, n))
    return Bars.from_arrays(symbol, "1m", t, c, c + 0.5, c - 0.5, c + 0.1, rng.integers(1, 1000, n), "csv")


@pytest.fixture
def svc(db):
    return DataService(db, "demo", bus=EventBus())


def test_a_series_read_twice_is_read_once_until_it_is_written(svc):
    svc.store.replace(minute_bars(500))
    first = svc.load("X", "1m")
    assert svc.load("X", "1m") is first
    svc.store.merge(minute_bars(510).slice(500, 510))  # ten new bars
    after = svc.load("X", "1m")
    assert after is not first and len(after) == 510


def test_a_replaced_series_with_the_same_times_is_read_again(svc):
    svc.store.replace(minute_bars(500, seed=1))
    first = svc.load("X", "1m")
    svc.store.replace(minute_bars(500, seed=2))  # same times and length, other prices, maybe the same second
    again = svc.load("X", "1m")
    np.testing.assert_array_equal(again.close, minute_bars(500, seed=2).close)
    assert not np.array_equal(again.close, first.close)


def test_built_timeframes_are_kept_and_rebuilt_after_a_write(svc):
    svc.store.replace(minute_bars(600))
    five = svc.get_bars("X", "5m")
    assert svc.get_bars("X", "5m") is five
    np.testing.assert_array_equal(five.close, resample(minute_bars(600), "5m").close)
    svc.store.merge(minute_bars(610).slice(600, 610))
    newer = svc.get_bars("X", "5m")
    assert newer is not five
    np.testing.assert_array_equal(newer.close, resample(minute_bars(610), "5m").close)


def test_the_cache_keeps_the_most_recent_within_its_bytes():
    one = minute_bars(100)  # 6 columns x 100 x 8 bytes = 4,800 bytes
    c = LoadedCache(max_bytes=2 * 4800)
    c.put("a", one)
    c.put("b", one)
    c.get("a")
    c.put("c", one)
    assert c.get("b") is None and c.get("a") is one and c.get("c") is one and c.bytes == 9600
    c.put("big", minute_bars(1000))  # larger than the whole cache: not kept
    assert c.get("big") is None and len(c) == 2
    with pytest.raises(ValueError):
        LoadedCache(0)
