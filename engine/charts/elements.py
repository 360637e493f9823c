"""What every chart-type transform returns, and the checks of its parameters.

Each transform turns bars into *elements* (candles, bricks, lines, columns) and says, for
every element, which source bars it covers: ``start``/``stop`` are a half-open range of
source bar indices (``bars[start:stop]``), and ``time`` is the time of the bar at ``start``
(UTC epoch seconds, as ``Bars.time``). The chart draws elements on a bar-index axis and maps a
cursor back to source bars with these ranges.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: Most elements one transform may make (a box far too small for the prices would make
#: hundreds of millions of bricks; refused with a sentence instead of exhausting memory).
MAX_ELEMENTS = 5_000_000


@dataclass(frozen=True, slots=True)
class Elements:
    """OHLC elements of a chart type: one entry per candle/brick/line/bar (see module doc)."""

    kind: str
    time: I64
    start: I64
    stop: I64
    open: F64
    high: F64
    low: F64
    close: F64

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def records(self, intraday: bool = True) -> list[dict[str, Any]]:
        """``[{"time", "open", "high", "low", "close"}, …]`` with ISO times (``iso_times``);
        non-finite prices (a NaN source bar of Heikin-Ashi) become None."""
        times = iso_times(self.time, intraday)
        return [{"time": t, "open": _num(o), "high": _num(h), "low": _num(lo), "close": _num(c)}
                for t, o, h, lo, c in zip(times, self.open.tolist(), self.high.tolist(),
                                          self.low.tolist(), self.close.tolist())]


@dataclass(frozen=True, slots=True)
class RenkoBricks(Elements):
    """Renko bricks; ``direction`` +1 (up) / -1 (down) per brick, ``box`` the brick height used."""

    direction: npt.NDArray[np.int8]
    box: float


@dataclass(frozen=True, slots=True)
class KagiLines(Elements):
    """Kagi lines (open = where the line starts, close = where it ends); ``yang`` True where
    the line ends thick (yang), ``switch`` the price where its thickness changed (NaN if not)."""

    yang: npt.NDArray[np.bool_]
    switch: F64


@dataclass(frozen=True, slots=True)
class PnFColumns:
    """Point & Figure columns: ``kind`` +1 for X (rising), -1 for O (falling); ``low`` and
    ``high`` are the prices of the column's lowest and highest box; ``box`` and ``reversal``
    (boxes) as used; ``time``/``start``/``stop`` as for ``Elements``."""

    time: I64
    start: I64
    stop: I64
    kind: npt.NDArray[np.int8]
    low: F64
    high: F64
    box: float
    reversal: int

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def boxes(self) -> npt.NDArray[np.int64]:
        """How many X or O each column holds."""
        return np.asarray(np.rint((self.high - self.low) / self.box).astype(np.int64) + 1)

    def records(self, intraday: bool = True) -> list[dict[str, Any]]:
        """``[{"time", "kind": "X"|"O", "low", "high"}, …]`` with ISO times (``iso_times``)."""
        times = iso_times(self.time, intraday)
        return [{"time": t, "kind": "X" if k > 0 else "O", "low": lo, "high": hi}
                for t, k, lo, hi in zip(times, self.kind.tolist(), self.low.tolist(), self.high.tolist())]


def iso_times(time: I64, intraday: bool) -> list[str]:
    """UTC epoch seconds as ``YYYY-MM-DDTHH:MM:SS`` (intraday) or ``YYYY-MM-DD`` (daily and
    longer), the forms ``stockscanner import`` prints."""
    d = np.asarray(time, dtype=np.int64).astype("datetime64[s]")
    return [str(x) for x in (d if intraday else d.astype("datetime64[D]"))]


def _num(x: float) -> float | None:
    return x if math.isfinite(x) else None


# ---------------------------------------------------------------------- checks

def positive(name: str, value: Any) -> float:
    """``value`` as a finite float > 0, else ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return v


def count(name: str, value: Any, lo: int = 1, hi: int = 10_000) -> int:
    """``value`` as an int in ``lo..hi``, else ValueError/TypeError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number, not {type(value).__name__}")
    if not lo <= int(value) <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, not {value}")
    return int(value)


def columns(bars: Any, *names: str) -> tuple[F64, ...]:
    """The float64 columns ``names`` of ``bars`` (anything with ``time`` and OHLC arrays of one
    length); raises ValueError when their lengths differ."""
    n = len(np.asarray(bars.time))
    out = tuple(np.ascontiguousarray(getattr(bars, k), dtype=np.float64) for k in names)
    if any(a.ndim != 1 or a.shape[0] != n for a in out):
        raise ValueError("bars must have one value per time in every column")
    return out


def bound(name: str, value: float, estimate: float) -> int:
    """Output capacity for at most ``estimate`` elements; refuses more than ``MAX_ELEMENTS``."""
    if not math.isfinite(estimate) or estimate > MAX_ELEMENTS:
        raise ValueError(f"{name} {value:g} is too small for these prices: it would make more than "
                         f"{MAX_ELEMENTS:,} elements; choose a larger {name}")
    return int(estimate) + 2


def completed_ranges(bar: I64) -> tuple[I64, I64]:
    """(start, stop) of elements completed on the bars ``bar`` (non-decreasing): each covers
    the bars after the previous element's bar up to its own; several completed on one bar
    cover just that bar."""
    stop = bar + 1
    start = np.empty_like(bar)
    if bar.shape[0]:
        start[0] = 0
        start[1:] = np.where(bar[:-1] < bar[1:], bar[:-1] + 1, bar[1:])
    return start, stop


def opened_ranges(bar: I64, n: int) -> tuple[I64, I64]:
    """(start, stop) of elements opened on the bars ``bar`` (strictly increasing, the first
    taken as 0): each covers the bars up to the next one's opening bar."""
    start = bar.copy()
    if start.shape[0]:
        start[0] = 0
    stop = np.empty_like(start)
    stop[:-1] = start[1:]
    if stop.shape[0]:
        stop[-1] = n
    return start, stop


def grid(k: npt.NDArray[np.int64], box: float, anchor: float = 0.0) -> F64:
    """Prices of box levels ``k`` (``anchor + k*box``), rounded to 10 decimals so that 13 boxes
    of 0.1 print as 1.3, not 1.3000000000000003."""
    return np.asarray(np.round(anchor + k.astype(np.float64) * box, 10))
