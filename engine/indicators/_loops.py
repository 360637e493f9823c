"""Path-dependent indicator loops written once, in plain Python.

``engine.indicators._nb`` compiles these with numba; the numpy fallback (no numba) runs
them as they are. They take indexable rows (numpy arrays, or lists for speed in plain
Python) and write into ``out``.
"""
from __future__ import annotations

from typing import Protocol

_NAN = float("nan")


class Row(Protocol):
    """What the loops read: a list of floats or a 1-D float64 array."""

    def __len__(self) -> int: ...

    def __getitem__(self, i: int, /) -> float: ...


class OutRow(Row, Protocol):
    """What the loops write into."""

    def __setitem__(self, i: int, value: float, /) -> None: ...


def sar_row(high: Row, low: Row, accel: float, maximum: float, out: OutRow) -> None:
    """TA-Lib SAR, step for step, into ``out`` (same length as high/low; bar 0 NaN)."""
    n = len(high)
    if n < 2:
        for i in range(n):
            out[i] = _NAN
        return
    out[0] = _NAN
    af = accel
    dm = low[0] - low[1]
    dp = high[1] - high[0]
    is_long = not (dm > 0 and dm > dp)
    if is_long:
        ep = high[1]
        sar = low[0]
    else:
        ep = low[1]
        sar = high[0]
    new_low = low[1]
    new_high = high[1]
    for t in range(1, n):
        prev_low = new_low
        prev_high = new_high
        new_low = low[t]
        new_high = high[t]
        if is_long:
            if new_low <= sar:
                is_long = False
                sar = ep
                if sar < prev_high:
                    sar = prev_high
                if sar < new_high:
                    sar = new_high
                out[t] = sar
                af = accel
                ep = new_low
                sar = sar + af * (ep - sar)
                if sar < prev_high:
                    sar = prev_high
                if sar < new_high:
                    sar = new_high
            else:
                out[t] = sar
                if new_high > ep:
                    ep = new_high
                    af += accel
                    if af > maximum:
                        af = maximum
                sar = sar + af * (ep - sar)
                if sar > prev_low:
                    sar = prev_low
                if sar > new_low:
                    sar = new_low
        else:
            if new_high >= sar:
                is_long = True
                sar = ep
                if sar > prev_low:
                    sar = prev_low
                if sar > new_low:
                    sar = new_low
                out[t] = sar
                af = accel
                ep = new_high
                sar = sar + af * (ep - sar)
                if sar > prev_low:
                    sar = prev_low
                if sar > new_low:
                    sar = new_low
            else:
                out[t] = sar
                if new_low < ep:
                    ep = new_low
                    af += accel
                    if af > maximum:
                        af = maximum
                sar = sar + af * (ep - sar)
                if sar < prev_high:
                    sar = prev_high
                if sar < new_high:
                    sar = new_high
