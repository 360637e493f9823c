"""Chart-type transforms on 1,000,000 one-minute bars (``engine.charts``).

* ``charts.transform_<type>_1m`` for heikin-ashi, renko (fixed box and ATR(14) box), kagi,
  pnf, linebreak and range: the time to turn 1M one-minute bars (a seeded random walk on
  consecutive NYSE sessions, about 2,560 of them) into that chart type, best of 5 after one
  warm-up call (numba compiled and loaded). The issue's budget for switching chart type on 1M
  bars is 200 ms in total, drawing included; the widget reports ``chart.switch_type_1m``.
* ``charts.resample_<tf>_1m``: building 5m, 1h and D bars from the same 1M bars, session-aligned
  (the calendar built beforehand), against ``pandas.resample`` on the same bars (which is not
  session-aligned: the peer only for time, not for numbers).

No peer library draws these chart types headless, so the transforms have none.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from bench.core import Result, benchmark, best_of

N = 1_000_000
BUDGET_S = 0.200


def make_bars(n: int = N, seed: int = 11) -> Any:
    """``n`` one-minute bars of a random walk around 100 on NYSE sessions from 2010 on."""
    from engine.data.bars import Bars
    from engine.market.calendar import get_calendar

    cal = get_calendar("XNYS")
    days = cal.sessions("2010-01-04", "2030-12-31")
    t = np.concatenate([cal.minutes(d) for d in days[: n // 380 + 2]])[:n]
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.0006, n)))
    open_ = np.r_[close[0], close[:-1]]
    spread = np.abs(rng.normal(0, 0.0004, n)) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    vol = rng.integers(100, 10_000, n).astype(np.float64)
    return Bars.from_arrays("BENCH", "1m", t, open_, high, low, close, vol)


def _cases(bars: Any) -> dict[str, Any]:
    from engine import charts

    box = round(float(np.median(bars.close)) * 0.005, 2)  # ~0.5 % of the price
    return {
        "heikin-ashi": lambda: charts.heikin_ashi(bars),
        "renko": lambda: charts.renko(bars, box),
        "renko_atr": lambda: charts.renko(bars, atr=14),
        "kagi": lambda: charts.kagi(bars, 1.0, percent=True),
        "pnf": lambda: charts.point_and_figure(bars, box, 3),
        "linebreak": lambda: charts.line_break(bars, 3),
        "range": lambda: charts.range_bars(bars, box),
    }


@benchmark("charts.transform")
def bench_transforms() -> list[Result]:
    bars = make_bars()
    out = []
    for name, fn in _cases(bars).items():
        made = len(fn())  # warm: numba loads (or compiles once) its kernels
        s = best_of(fn, repeat=5)
        if s > BUDGET_S:
            print(f"WARNING: charts.transform_{name}_1m took {s * 1e3:.0f} ms (> 200 ms)", file=sys.stderr)
        out.append(Result(f"charts.transform_{name.replace('-', '_')}_1m", s, None, None,
                          f"{N:,} bars -> {made:,} elements; budget for a type switch 200 ms"))
    return out


@benchmark("charts.resample")
def bench_resample() -> list[Result]:
    from engine.charts.resample import resample
    from engine.market.calendar import get_calendar

    bars = make_bars()
    cal = get_calendar("XNYS")
    df = bars.to_frame()
    agg = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    out = []
    for tf, rule in (("5m", "5min"), ("1h", "1h"), ("1d", "D")):
        made = len(resample(bars, tf, calendar=cal))
        s = best_of(lambda: resample(bars, tf, calendar=cal), repeat=5)
        peer = best_of(lambda: df.resample(rule).agg(agg).dropna(), repeat=3)
        out.append(Result(f"charts.resample_{tf}_1m", s, "pandas resample", peer,
                          f"{N:,} 1m bars -> {made:,} {tf} bars, session-aligned (pandas: UTC bins)"))
    return out
