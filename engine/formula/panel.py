"""``Panel``: many symbols' bars as 2-D arrays (symbols × time) for vectorised evaluation."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.data.bars import INTRADAY, Bars

_FIELDS = ("open", "high", "low", "close", "volume")


def _f64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Panel:
    """OHLCV of several symbols on one time axis.

    ``open``…``volume`` are float64 arrays of shape (symbols, time), NaN where a symbol has
    no bar. ``time`` (int64 epoch seconds, shape (time,)) is the common axis;
    ``last_time`` (shape (symbols,)) is each symbol's own last bar time, so a scanner can
    tell a stale symbol from a current one.

    Two alignments (``Panel.from_bars(align=...)``):

    * ``"right"`` (default, what the scanner uses): each symbol's last ``length`` bars,
      right-aligned so column -1 is every symbol's latest bar; a symbol with fewer bars is
      padded with NaN on the left. No gaps appear inside a series, so indicators see exactly
      the bar sequence a chart shows. ``time`` is the time axis of the symbol whose last bar
      is newest (ties: the longest); other symbols' columns may be other dates if their
      data is stale — compare ``last_time``.
    * ``"union"``: columns are the union of all timestamps; a symbol without a bar at a time
      has NaN there (a NaN inside a series makes windowed indicators NaN around it).
    """

    symbols: tuple[str, ...]
    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    last_time: np.ndarray
    timeframe: str = "1d"
    #: per symbol: True when all five fields are finite in every column (computed on
    #: construction; lets evaluation skip the indicators' leading-NaN/gap handling there)
    clean: np.ndarray | None = None

    def __post_init__(self) -> None:
        shape = (len(self.symbols), int(self.time.shape[0]))
        for f in _FIELDS:
            a = getattr(self, f)
            if a.shape != shape:
                raise ValueError(f"Panel.{f} has shape {a.shape}, expected {shape} (symbols × time)")
        if self.clean is None:
            ok = np.ones(shape[0], dtype=bool)
            with np.errstate(all="ignore"):
                for f in _FIELDS:
                    # a finite row sum proves every value of the row finite
                    ok &= np.isfinite(np.add.reduce(getattr(self, f), axis=1)) if shape[1] else True
            object.__setattr__(self, "clean", ok)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.symbols), int(self.time.shape[0]))

    def __len__(self) -> int:
        return len(self.symbols)

    @property
    def is_intraday(self) -> bool:
        return self.timeframe in INTRADAY

    def index(self, symbol: str) -> int:
        """Row of ``symbol`` (raises ``KeyError``)."""
        try:
            return self.symbols.index(symbol)
        except ValueError:
            raise KeyError(symbol) from None

    def select(self, rows: np.ndarray | Sequence[int]) -> Panel:
        """A panel with only ``rows`` (indices into ``symbols``), same time axis."""
        idx = np.asarray(rows, dtype=np.intp)
        return Panel(
            tuple(self.symbols[i] for i in idx), self.time, self.open[idx], self.high[idx], self.low[idx],
            self.close[idx], self.volume[idx], self.last_time[idx], self.timeframe,
            None if self.clean is None else self.clean[idx],
        )

    @classmethod
    def from_arrays(cls, symbols: Sequence[str], time: np.ndarray, open: np.ndarray, high: np.ndarray,
                    low: np.ndarray, close: np.ndarray, volume: np.ndarray, timeframe: str = "1d") -> Panel:
        """From 2-D arrays (symbols × time); ``last_time`` is the time of each row's last non-NaN close."""
        t = np.ascontiguousarray(time, dtype=np.int64)
        f = _f64
        c = f(close)
        valid = ~np.isnan(c)
        last_idx = c.shape[1] - 1 - np.argmax(valid[:, ::-1], axis=1) if c.size else np.zeros(len(symbols), int)
        last_time = np.where(valid.any(axis=1), t[last_idx] if t.size else 0, np.iinfo(np.int64).min) \
            if c.size else np.full(len(symbols), np.iinfo(np.int64).min, dtype=np.int64)
        return cls(tuple(symbols), t, f(open), f(high), f(low), c, f(volume),
                   np.asarray(last_time, dtype=np.int64), timeframe)

    @classmethod
    def from_bars(cls, bars: Sequence[Bars], length: int | None = None, align: str = "right") -> Panel:
        """Stack several ``Bars`` (see the class docstring for ``align``).

        ``length`` keeps only the last ``length`` columns (default: all). Raises
        ``ValueError`` for an unknown alignment or mixed timeframes.
        """
        if align not in ("right", "union"):
            raise ValueError(f"unknown alignment {align!r}: use 'right' or 'union'")
        tfs = {b.timeframe for b in bars}
        if len(tfs) > 1:
            raise ValueError(f"cannot put bars of different timeframes in one panel: {sorted(tfs)}")
        timeframe = next(iter(tfs)) if tfs else "1d"
        symbols = tuple(b.symbol for b in bars)
        s = len(bars)
        last_time = np.array([b.time[-1] if len(b) else np.iinfo(np.int64).min for b in bars], dtype=np.int64)
        if align == "right":
            t_len = max((len(b) for b in bars), default=0)
            if length is not None:
                t_len = min(t_len, int(length))
            arrays = {f: np.full((s, t_len), np.nan) for f in _FIELDS}
            ref, ref_key = None, None
            for i, b in enumerate(bars):
                k = min(len(b), t_len)
                if k == 0:
                    continue
                for f in _FIELDS:
                    arrays[f][i, t_len - k:] = getattr(b, f)[-k:]
                key = (int(b.time[-1]), k)
                if ref_key is None or key > ref_key:
                    ref, ref_key = b, key
            time = np.zeros(t_len, dtype=np.int64)
            if ref is not None:
                k = min(len(ref), t_len)
                time[t_len - k:] = ref.time[-k:]
                if k < t_len:  # the longest series is not the newest: extend backwards by index
                    time[: t_len - k] = ref.time[0] - np.arange(t_len - k, 0, -1)
            return cls(symbols, time, arrays["open"], arrays["high"], arrays["low"], arrays["close"],
                       arrays["volume"], last_time, timeframe)
        times = np.unique(np.concatenate([b.time for b in bars])) if bars else np.zeros(0, np.int64)
        if length is not None:
            times = times[-int(length):] if length > 0 else times[:0]
        arrays = {f: np.full((s, times.shape[0]), np.nan) for f in _FIELDS}
        for i, b in enumerate(bars):
            pos = np.searchsorted(times, b.time)
            ok = (pos < times.shape[0]) & (times[np.minimum(pos, max(times.shape[0] - 1, 0))] == b.time) \
                if times.shape[0] else np.zeros(len(b), bool)
            for f in _FIELDS:
                arrays[f][i, pos[ok]] = getattr(b, f)[ok]
        return cls(symbols, times.astype(np.int64), arrays["open"], arrays["high"], arrays["low"],
                   arrays["close"], arrays["volume"], last_time, timeframe)

    @classmethod
    def from_single(cls, bars: Bars) -> Panel:
        """A one-row panel of ``bars`` with its own time axis."""
        def row(a: np.ndarray) -> np.ndarray:
            return np.asarray(a, dtype=np.float64)[None, :]

        last = bars.time[-1] if len(bars) else np.iinfo(np.int64).min
        return cls(
            (bars.symbol,), np.asarray(bars.time, dtype=np.int64), row(bars.open), row(bars.high), row(bars.low),
            row(bars.close), row(bars.volume), np.array([last], dtype=np.int64), bars.timeframe,
        )
