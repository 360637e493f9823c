"""The bar series that every computation uses.

Times are UTC epoch **seconds** (int64). For daily bars the timestamp is midnight UTC of
the trading date. Prices and volume are float64 arrays of equal length, time strictly
increasing. ``Bars`` is frozen: it crosses threads by reference.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas costs ~0.3 s to import: only the conversions below need it
    import pandas as pd

TIMEFRAMES = ("1m", "2m", "5m", "15m", "30m", "60m", "1h", "4h", "1d", "1wk", "1mo")
INTRADAY = frozenset({"1m", "2m", "5m", "15m", "30m", "60m", "1h", "4h"})
#: What the UI shows for a timeframe id, after TradingView: minutes end in "m", hours in
#: "h", and D / W / M for day, week and month ("1m" is never a month). The ids stay as
#: stored and as the CLI takes them.
TIMEFRAME_LABELS = {"1m": "1m", "2m": "2m", "5m": "5m", "15m": "15m", "30m": "30m", "60m": "1h", "1h": "1h", "4h": "4h",
                    "1d": "D", "1wk": "W", "1mo": "M"}


def timeframe_label(timeframe: str) -> str:
    """The label the UI shows for a timeframe id (``"1d"`` → ``"D"``, ``"60m"`` → ``"1h"``,
    ``"1mo"`` → ``"M"``); an unknown id is shown as it is."""
    return TIMEFRAME_LABELS.get(timeframe, timeframe)


@dataclass(frozen=True, slots=True)
class Bars:
    """OHLCV bars of one symbol and timeframe.

    ``source`` says where they came from: ``"demo"`` (always shown as demo data),
    ``"yahoo"``, ``"csv"``.
    """

    symbol: str
    timeframe: str
    time: np.ndarray  # int64 epoch seconds, UTC
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    source: str = "csv"
    meta: dict[str, str] = field(default_factory=dict, compare=False)

    def __len__(self) -> int:
        return int(self.time.shape[0])

    @property
    def is_demo(self) -> bool:
        return self.source == "demo"

    @property
    def is_intraday(self) -> bool:
        return self.timeframe in INTRADAY

    def dates(self) -> np.ndarray:
        """Times as ``datetime64[s]`` (UTC)."""
        return self.time.astype("datetime64[s]")

    def slice(self, start: int, stop: int | None = None) -> Bars:
        s = slice(start, stop)
        return Bars(
            self.symbol, self.timeframe, self.time[s], self.open[s], self.high[s],
            self.low[s], self.close[s], self.volume[s], self.source, dict(self.meta),
        )

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame indexed by UTC-naive datetime with open/high/low/close/volume."""
        import pandas as pd

        return pd.DataFrame(
            {
                "open": self.open,
                "high": self.high,
                "low": self.low,
                "close": self.close,
                "volume": self.volume,
            },
            index=pd.DatetimeIndex(self.dates(), name="time"),
        )

    @classmethod
    def from_arrays(
        cls,
        symbol: str,
        timeframe: str,
        time: np.ndarray,
        open: np.ndarray,
        high: np.ndarray,
        low: np.ndarray,
        close: np.ndarray,
        volume: np.ndarray,
        source: str = "csv",
    ) -> Bars:
        def f(a: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(a, dtype=np.float64)

        return cls(
            symbol, timeframe, np.ascontiguousarray(time, dtype=np.int64),
            f(open), f(high), f(low), f(close), f(volume), source,
        )

    @classmethod
    def from_frame(cls, symbol: str, timeframe: str, df: pd.DataFrame, source: str = "csv") -> Bars:
        """From a DataFrame with a DatetimeIndex (naive = UTC) and lower-case OHLCV columns."""
        import pandas as pd

        idx = pd.DatetimeIndex(df.index)
        if idx.tz is not None:
            idx = idx.tz_convert("UTC").tz_localize(None)
        t = idx.values.astype("datetime64[s]").astype(np.int64)
        return cls.from_arrays(
            symbol, timeframe, t, df["open"].to_numpy(), df["high"].to_numpy(),
            df["low"].to_numpy(), df["close"].to_numpy(), df["volume"].to_numpy(), source,
        )
