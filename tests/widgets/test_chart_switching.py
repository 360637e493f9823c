"""Switching chart type: results kept per data version, never shown for changed bars."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import talib

from engine.data.bars import Bars
from tests.widgets.stubs import FakeData, SyncTasks, make_bars
from widgets.chart import ChartWidget, register_chart_type
from widgets.chart import switching
from widgets.chart import widget as chart_module
from widgets.chart.switching import ResultCache


@dataclass(frozen=True)
class _Out:
    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray


class Counting:
    """A transform that halves the bars (every other one) and counts its runs."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, bars: Bars) -> _Out:
        self.runs += 1
        s = slice(None, None, 2)
        return _Out(bars.time[s], bars.open[s], bars.high[s], bars.low[s], bars.close[s])


class Deferred(SyncTasks):
    """Keeps submitted work until ``run_all``: a worker that has not finished yet."""

    def __init__(self) -> None:
        super().__init__()
        self.queue: list[tuple] = []

    def submit(self, fn, *args, label="", on_result=None, on_error=None, **kwargs):
        self.queue.append((fn, args, on_result))
        return self

    def run_all(self) -> None:
        while self.queue:
            fn, args, on_result = self.queue.pop(0)
            r = fn(*args)
            if on_result:
                on_result(r)


@pytest.fixture
def halving():
    fn = Counting()
    register_chart_type("test-halving", "Every other bar (test)", fn)
    yield fn
    # charts of these tests may outlive them (a later theme change redraws every chart): none
    # may be left on a type that no longer exists
    from PySide6.QtWidgets import QApplication

    for w in QApplication.allWidgets():
        if isinstance(w, ChartWidget) and w.chart_type == "test-halving":
            w.set_chart_type("candles")
    chart_module._TYPES.pop("test-halving", None)


@pytest.fixture
def chart(qtbot):
    w = ChartWidget(FakeData(), SyncTasks())
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    w.set_bars(make_bars("ACME", n=400))
    return w


def _sma_counter():
    calls = []

    def sma(b):
        calls.append(len(b))
        return talib.SMA(b.close, 20)
    return sma, calls


# ---------------------------------------------------------------- the cache itself
def test_result_cache_keeps_the_recent_within_its_bytes():
    c = ResultCache(max_bytes=3 * 800)
    for i in range(4):
        c.put((1, i), np.zeros(100))  # 800 bytes each
    assert (1, 0) not in c and all((1, i) in c for i in (1, 2, 3)) and c.bytes == 2400
    c.get((1, 1))  # used: the oldest is now 2
    c.put((2, 9), np.zeros(100))
    assert (1, 2) not in c and (1, 1) in c
    c.put((3, 0), np.zeros(1000))  # larger than the whole cache: not kept, nothing evicted for it
    assert (3, 0) not in c and len(c) == 3
    c.drop_before(2)
    assert list(k for k in [(1, 1), (1, 3), (2, 9)] if k in c) == [(2, 9)] and c.bytes == 800
    with pytest.raises(ValueError):
        ResultCache(0)


# ---------------------------------------------------------------- studies across bar styles
def test_switching_bar_styles_keeps_the_studies_without_recomputing(chart):
    sma, calls = _sma_counter()
    chart.set_overlay("sma", sma)
    assert len(calls) == 1
    for kind in ("line", "ohlc", "area", "candles"):
        chart.set_chart_type(kind)
    assert len(calls) == 1  # the same bars: the same values
    _, y = chart._overlays["sma"].getData()
    np.testing.assert_allclose(y, talib.SMA(chart.bars.close, 20), equal_nan=True)
    assert not chart.is_drawing()


def test_a_transform_runs_once_per_series_and_its_studies_follow(chart, halving):
    sma, calls = _sma_counter()
    chart.set_overlay("sma", sma)
    chart.set_chart_type("test-halving")
    assert halving.runs == 1 and len(chart.shown) == 200 and calls[-1] == 200
    chart.set_chart_type("candles")
    chart.set_chart_type("test-halving")
    assert halving.runs == 1 and len(calls) == 2  # both from the cache
    _, y = chart._overlays["sma"].getData()
    np.testing.assert_allclose(y, talib.SMA(chart.bars.close[::2], 20), equal_nan=True)


def test_new_bars_are_never_drawn_from_the_cache(chart, halving):
    sma, calls = _sma_counter()
    chart.set_overlay("sma", sma)
    chart.set_chart_type("test-halving")
    chart.set_chart_type("candles")
    chart.set_bars(make_bars("ACME", n=400, seed=99))  # same symbol and length, other prices
    chart.set_chart_type("test-halving")
    assert halving.runs == 2
    np.testing.assert_array_equal(chart.shown.close, chart.bars.close[::2])
    _, y = chart._overlays["sma"].getData()
    np.testing.assert_allclose(y, talib.SMA(chart.bars.close[::2], 20), equal_nan=True)


def test_a_live_quote_changing_the_last_bar_makes_the_cached_results_stale(chart, halving):
    sma, calls = _sma_counter()
    chart.set_overlay("sma", sma)
    chart.set_chart_type("test-halving")
    chart.set_chart_type("candles")
    n = len(chart.bars)
    last = float(chart.bars.close[-1])
    chart.update_last_bar(last * 1.5, last * 0.9, last * 1.4)  # in place: same object, same length
    chart.set_chart_type("line")
    assert len(calls) == 3  # the bars' studies again, with the new close
    _, y = chart._overlays["sma"].getData()
    np.testing.assert_allclose(y, talib.SMA(chart.bars.close, 20), equal_nan=True)
    chart.set_chart_type("test-halving")
    assert halving.runs == 2
    assert chart.shown.close[-1] == chart.bars.close[n - 1 - (n - 1) % 2]


def test_a_new_function_for_a_study_name_is_computed_again(chart):
    chart.set_overlay("s", lambda b: talib.SMA(b.close, 10))
    chart.set_chart_type("line")
    chart.set_overlay("s", lambda b: talib.SMA(b.close, 30))
    chart.set_chart_type("candles")
    chart.set_chart_type("line")
    _, y = chart._overlays["s"].getData()
    np.testing.assert_allclose(y, talib.SMA(chart.bars.close, 30), equal_nan=True)


def test_a_late_transform_result_is_not_drawn_over_the_type_chosen_since(qtbot, halving):
    tasks = Deferred()
    w = ChartWidget(FakeData(), tasks)
    qtbot.addWidget(w)
    w.show()
    w.set_bars(make_bars("ACME", n=400))
    w.set_chart_type("test-halving")
    assert w.is_drawing() and len(w.shown) == 400
    w.set_chart_type("ohlc")  # chosen before the transform came back
    tasks.run_all()
    assert len(w.shown) == 400 and w.candles.bar_style == "ohlc" and not w.is_drawing()
    w.set_chart_type("test-halving")  # the result that came back late was kept: no second run
    assert halving.runs == 1 and len(w.shown) == 200 and not w.is_drawing()


def test_a_timeframe_load_brings_its_studies_in_the_same_task(qtbot):
    tasks = Deferred()
    w = ChartWidget(FakeData(), tasks)
    qtbot.addWidget(w)
    w.show()
    w.set_overlay("sma", lambda b: talib.SMA(b.close, 20))
    w.open_symbol("ACME", "5m")
    assert w.is_drawing() and len(tasks.queue) == 1
    fn, args, on_result = tasks.queue.pop(0)
    on_result(fn(*args))  # the bars and their studies in one trip to the worker
    assert not tasks.queue and not w.is_drawing() and w.bars.timeframe == "5m"
    _, y = w._overlays["sma"].getData()
    np.testing.assert_allclose(y, talib.SMA(w.bars.close, 20), equal_nan=True)


def test_a_study_added_while_the_bars_load_is_computed_after_them(qtbot):
    tasks = Deferred()
    w = ChartWidget(FakeData(), tasks)
    qtbot.addWidget(w)
    w.show()
    w.set_overlay("a", lambda b: talib.SMA(b.close, 10))
    w.open_symbol("ACME", "5m")
    load = tasks.queue.pop(0)
    w.set_overlay("a", lambda b: talib.SMA(b.close, 40))  # replaced while the load ran
    tasks.queue.clear()  # (its computation on no bars yet did nothing)
    load[2](load[0](*load[1]))
    assert w.is_drawing()  # the load's SMA 10 is not taken for the new SMA 40
    tasks.run_all()
    _, y = w._overlays["a"].getData()
    np.testing.assert_allclose(y, talib.SMA(w.bars.close, 40), equal_nan=True)
    assert not w.is_drawing()


# ---------------------------------------------------------------- warm-up
def test_warm_up_runs_every_transform_on_small_bars(monkeypatch):
    monkeypatch.setitem(switching._warm, "started", False)
    seen = []

    def ok(b):
        seen.append(len(b))
        return b

    def bad(b):
        raise ValueError("no box")
    assert switching.warm_up_needed(switching.WARM_UP_MIN_BARS)
    assert not switching.warm_up_needed(switching.WARM_UP_MIN_BARS - 1)
    assert switching.warm_up([ok, bad, ok]) == 3 and seen == [300, 300]  # and the resample
    assert not switching.warm_up_needed(10**6)  # once per process
