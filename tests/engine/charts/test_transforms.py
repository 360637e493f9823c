"""Chart-type transforms against worked examples built by hand (engine/charts), on both the
compiled and the plain-Python loops."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from engine import charts
from engine.charts import _backend

NAN = float("nan")


@pytest.fixture(params=["numba", "numpy"], autouse=True)
def backend(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    previous = _backend.set_backend(request.param)
    yield request.param
    _backend.set_backend(previous)


def bars(close, high=None, low=None, open_=None):  # type: ignore[no-untyped-def]
    c = np.asarray(close, dtype=float)
    return SimpleNamespace(time=np.arange(len(c), dtype=np.int64) * 60 + 1_000_000_000,
                           open=c if open_ is None else np.asarray(open_, float),
                           high=c if high is None else np.asarray(high, float),
                           low=c if low is None else np.asarray(low, float), close=c)


def ohlc(e):  # type: ignore[no-untyped-def]
    return [(o, c) for o, c in zip(e.open.tolist(), e.close.tolist())]


# ---------------------------------------------------------------- Heikin-Ashi

def test_heikin_ashi_worked_example() -> None:
    b = bars([11.0, 12.0], high=[12.0, 13.0], low=[9.0, 10.0], open_=[10.0, 11.0])
    ha = charts.heikin_ashi(b)
    # bar 0: close (10+12+9+11)/4 = 10.5, open (10+11)/2 = 10.5; bar 1: open (10.5+10.5)/2,
    # close (11+13+10+12)/4 = 11.5, high max(13, 10.5, 11.5), low min(10, ...)
    assert ha.close.tolist() == [10.5, 11.5]
    assert ha.open.tolist() == [10.5, 10.5]
    assert ha.high.tolist() == [12.0, 13.0] and ha.low.tolist() == [9.0, 10.0]
    assert ha.start.tolist() == [0, 1] and ha.stop.tolist() == [1, 2]


def test_heikin_ashi_nan_bar_is_skipped_by_the_recursion() -> None:
    b = bars([11.0, NAN, 12.0], high=[12.0, NAN, 13.0], low=[9.0, NAN, 10.0], open_=[10.0, NAN, 11.0])
    ha = charts.heikin_ashi(b)
    assert math.isnan(ha.close[1]) and ha.records()[1]["open"] is None
    assert ha.open[2] == 10.5  # from candle 0, the last finite one


def test_empty_and_one_bar() -> None:
    empty, one = bars([]), bars([10.0])
    assert len(charts.heikin_ashi(empty)) == 0 and len(charts.heikin_ashi(one)) == 1
    for b in (empty, one):
        assert len(charts.renko(b, 1.0)) == 0
        assert len(charts.kagi(b, 1.0)) == 0
        assert len(charts.point_and_figure(b, 1.0)) == 0
        assert len(charts.line_break(b)) == 0
    assert len(charts.range_bars(empty, 1.0)) == 0
    assert ohlc(charts.range_bars(one, 1.0)) == [(10.0, 10.0)]


# ---------------------------------------------------------------- Renko

def test_renko_worked_example_with_reversal_and_gap() -> None:
    # box 1 anchored at the first close 10
    r = charts.renko(bars([10, 11, 12, 11.5, 10, 9, 9, 12, 13]), 1.0)
    assert ohlc(r) == [(10, 11), (11, 12), (11, 10), (10, 9), (10, 11), (11, 12), (12, 13)]
    assert r.direction.tolist() == [1, 1, -1, -1, 1, 1, 1]
    # 11.5 after the 11-12 brick draws nothing; 10 is one box below its bottom (reversal);
    # 12 after the 10-9 brick is a gap of two bricks, both completed on bar 7
    assert r.start.tolist() == [0, 2, 3, 5, 6, 7, 8]
    assert r.stop.tolist() == [2, 3, 5, 6, 8, 8, 9]
    assert r.time.tolist() == (1_000_000_000 + r.start * 60).tolist()


def test_renko_reversal_exactly_at_the_threshold_and_just_short() -> None:
    assert len(charts.renko(bars([10, 12, 10]), 1.0)) == 3  # 10 is exactly 1 box below 11
    assert len(charts.renko(bars([10, 12, 10.01]), 1.0)) == 2
    # binary rounding: 0.1 boxes from 1.0 to 1.3 are three bricks, not two
    r = charts.renko(bars([1.0, 1.3]), 0.1)
    assert len(r) == 3 and r.close.tolist() == [1.1, 1.2, 1.3]


def test_renko_flat_run_and_nan() -> None:
    assert len(charts.renko(bars([10.0] * 50), 1.0)) == 0
    r = charts.renko(bars([10, NAN, 11, NAN]), 1.0)
    assert ohlc(r) == [(10, 11)] and r.start.tolist() == [0] and r.stop.tolist() == [3]


def test_renko_atr_box_is_the_last_atr() -> None:
    from engine.indicators import atr

    rng = np.random.default_rng(3)
    c = 100 + np.cumsum(rng.normal(0, 1, 300))
    b = bars(c, high=c + 0.5, low=c - 0.5)
    r = charts.renko(b, atr=14)
    assert r.box == pytest.approx(float(atr(b.high, b.low, b.close, 14)[-1]), rel=1e-15)
    assert np.allclose(r.high - r.low, r.box)


@pytest.mark.parametrize("box", [0, -1, NAN, math.inf])
def test_renko_refuses_bad_box(box: float) -> None:
    with pytest.raises(ValueError, match="box must be a positive number"):
        charts.renko(bars([1, 2, 3]), box)


def test_renko_needs_exactly_one_of_box_and_atr() -> None:
    with pytest.raises(ValueError, match="box size or an ATR"):
        charts.renko(bars([1, 2, 3]))
    with pytest.raises(ValueError, match="needs more than 14 bars"):
        charts.renko(bars([1, 2, 3]), atr=14)


def test_renko_refuses_a_box_that_would_make_too_many_bricks() -> None:
    with pytest.raises(ValueError, match="too small"):
        charts.renko(bars([1.0, 1000.0]), 1e-6)


# ---------------------------------------------------------------- Kagi

def test_kagi_worked_example_with_thickness() -> None:
    # reversal 2: up 10->12 (yang), down 12->9 (below the waist 10: yin at 10),
    # up 9->11 (not above the shoulder 12: yin), extends to 13 (above 12: yang at 12)
    k = charts.kagi(bars([10, 11, 12, 11, 10, 9, 10, 11, 13]), 2.0)
    assert ohlc(k) == [(10, 12), (12, 9), (9, 13)]
    assert k.yang.tolist() == [True, False, True]
    assert k.switch[0] != k.switch[0] and k.switch[1:].tolist() == [10.0, 12.0]
    assert k.start.tolist() == [0, 4, 7] and k.stop.tolist() == [4, 7, 9]


def test_kagi_reversal_exactly_at_the_threshold() -> None:
    assert len(charts.kagi(bars([10, 12, 10]), 2.0)) == 2
    assert len(charts.kagi(bars([10, 12, 10.5]), 2.0)) == 1
    assert len(charts.kagi(bars([10, 11.99]), 2.0)) == 0  # not yet a first line


def test_kagi_percent_of_the_extreme() -> None:
    k = charts.kagi(bars([100, 110, 104.5, 104]), 5.0, percent=True)
    # 5 % of the extreme 110 is 5.5: 104.5 reverses exactly, 104 extends the down line
    assert ohlc(k) == [(100, 110), (110, 104)]
    with pytest.raises(ValueError, match="below 100"):
        charts.kagi(bars([1, 2]), 100, percent=True)


def test_kagi_flat_run_and_nan() -> None:
    k = charts.kagi(bars([10, 10, 10, NAN, 13, NAN, 13]), 2.0)
    assert ohlc(k) == [(10, 13)] and k.stop.tolist() == [7]


# ---------------------------------------------------------------- Point & Figure

def test_pnf_worked_example_high_low_method() -> None:
    # box 1, 3-box reversal, reference = box of the first close (10)
    high = [10.2, 13.4, 14.9, 12.5, 11.9, 12.0, 14.0, 16.2]
    low = [9.8, 12.0, 14.0, 12.0, 11.0, 10.0, 12.5, 15.0]
    p = charts.point_and_figure(bars([10.0] * 8, high=high, low=low), 1.0, 3)
    # bar 1 reaches 13 = ref + 3: X 11..13; bar 2 extends to 14; bar 3: low 12 is only 2
    # below; bar 4: low 11 = 14 - 3 reverses: O 13..11; bar 5 extends down to 10; bar 6:
    # high 14 is not 10 + 4... it is 10 + 3 + 1: X 11..14; bar 7 extends to 16
    assert [(r["kind"], r["low"], r["high"]) for r in p.records()] == [
        ("X", 11.0, 14.0), ("O", 10.0, 13.0), ("X", 11.0, 16.0)]
    assert p.start.tolist() == [0, 4, 6] and p.stop.tolist() == [4, 6, 8]
    assert p.boxes().tolist() == [4, 4, 6]


def test_pnf_high_is_checked_before_the_low() -> None:
    # in an X column a bar that both adds an X and reaches a reversal only adds the X
    p = charts.point_and_figure(bars([10, 13, 14], high=[10, 13, 14], low=[10, 13, 9]), 1.0, 3)
    assert [(r["kind"], r["high"]) for r in p.records()] == [("X", 14.0)]


def test_pnf_reversal_exactly_three_boxes_and_gap() -> None:
    p = charts.point_and_figure(bars([10, 20, 17]), 1.0, 3)  # a 10-box gap then exactly 3 down
    assert [(r["kind"], r["low"], r["high"]) for r in p.records()] == [("X", 11.0, 20.0), ("O", 17.0, 19.0)]
    assert len(charts.point_and_figure(bars([10, 20, 17.01]), 1.0, 3)) == 1


def test_pnf_rounding_of_fractional_boxes() -> None:
    p = charts.point_and_figure(bars([1.0, 1.3]), 0.1, 3)
    assert p.records()[0]["high"] == 1.3 and p.boxes().tolist() == [3]


def test_pnf_refuses_bad_parameters() -> None:
    with pytest.raises(ValueError, match="reversal must be between"):
        charts.point_and_figure(bars([1, 2]), 1.0, 0)
    with pytest.raises(TypeError, match="whole number"):
        charts.point_and_figure(bars([1, 2]), 1.0, 2.5)  # type: ignore[arg-type]


# ---------------------------------------------------------------- Line Break

def test_line_break_worked_example() -> None:
    c = [10, 11, 12, 13, 11.5, 10, 9.99, 14]
    lb = charts.line_break(bars(c), 3)
    # three up lines 10-11-12-13; 11.5 and 10 do not break the lowest of the last three (10:
    # equal is not below); 9.99 does: a down line from 12 (bottom of the last up line);
    # 14 is above the highest of the last three lines (13): up line from 12
    assert ohlc(lb) == [(10, 11), (11, 12), (12, 13), (12, 9.99), (12, 14)]
    assert lb.start.tolist() == [0, 2, 3, 4, 7] and lb.stop.tolist() == [2, 3, 4, 7, 8]


def test_line_break_fewer_lines_and_flat() -> None:
    assert len(charts.line_break(bars([10, 10, 10]))) == 0
    assert ohlc(charts.line_break(bars([10, 11, 10.5, 9]), 2)) == [(10, 11), (10, 9)]
    assert ohlc(charts.line_break(bars([10, 11, 10.5, 9]), 1)) == [(10, 11), (10, 9)]
    assert ohlc(charts.line_break(bars([10, 11, 12, 10.5]), 1)) == [(10, 11), (11, 12), (11, 10.5)]


# ---------------------------------------------------------------- Range bars

def test_range_bars_worked_example() -> None:
    # one up bar: open 10, low 9.5, high 12, close 11.5 (path 10 -> 9.5 -> 12 -> 11.5), range 1
    b = bars([11.5], high=[12.0], low=[9.5], open_=[10.0])
    r = charts.range_bars(b, 1.0)
    assert [(o, h, lo, c) for o, h, lo, c in zip(r.open, r.high, r.low, r.close)] == [
        (10.0, 10.5, 9.5, 10.5), (10.5, 11.5, 10.5, 11.5), (11.5, 12.0, 11.5, 11.5)]
    assert np.all(r.high[:-1] - r.low[:-1] == 1.0)


def test_range_bars_exactly_at_the_range_stays_one_bar() -> None:
    r = charts.range_bars(bars([10.0, 11.0]), 1.0)
    assert len(r) == 1 and (r.low[0], r.high[0]) == (10.0, 11.0)
    r = charts.range_bars(bars([10.0, 11.5]), 1.0)
    assert len(r) == 2 and r.start.tolist() == [0, 1] and r.stop.tolist() == [2, 2]


def test_range_bars_fill_a_gap_and_skip_nan() -> None:
    r = charts.range_bars(bars([10.0, NAN, 13.0]), 1.0)
    assert ohlc(r) == [(10, 11), (11, 12), (12, 13)]
