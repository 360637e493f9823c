"""Chart axes: dates under the panes (bar index -> time), price and volume on the right."""
from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg

from engine import formatting as fmt


class DateAxis(pg.AxisItem):
    """Bottom axis labelling bar indices with their dates/times.

    Daily and longer bars are labelled with their trading date (stored as that date's UTC
    midnight); intraday bars in the exchange's own time (``tz``, from the market calendar's
    ``exchange_tz``: a NYSE 09:30 bar reads 09:30, not 14:30 UTC)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.times = np.empty(0, dtype=np.int64)
        self.intraday = False
        self.tz: _dt.tzinfo = _dt.timezone.utc

    def tickStrings(self, values: Sequence[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        out = []
        n = len(self.times)
        for v in values:
            i = int(round(v))
            if 0 <= i < n:
                t = int(self.times[i])
                if self.intraday:
                    out.append(_dt.datetime.fromtimestamp(t, self.tz).strftime("%m-%d %H:%M"))
                else:
                    out.append(_dt.datetime.fromtimestamp(t, _dt.timezone.utc).strftime("%Y-%m-%d"))
            else:
                out.append("")
        return out


class VolumeAxis(pg.AxisItem):
    """Right axis of the volume pane: 1.2K / 3.4M / 5.6B instead of 5e+07."""

    def tickStrings(self, values: Sequence[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [fmt.compact_tick(v * scale) for v in values]


class PriceAxis(pg.AxisItem):
    """A price or equity axis with thousands separators and the decimals the tick spacing
    needs (``100,150``, not ``100150``; ``12.5``); pass it as ``axisItems={"right": PriceAxis("right")}``."""

    def tickStrings(self, values: Sequence[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [fmt.tick(v * scale, spacing * scale) for v in values]
