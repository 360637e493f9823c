"""Trade markers: the selected account's fills drawn on the charts of their symbol."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject

from engine.data.bars import Bars
from engine.paper.orders import Fill
from widgets.trading.session import TradingSession


def fill_markers(fills: Iterable[Fill], bars: Bars | None, symbol: str | None = None) -> list[tuple[int, float, str]]:
    """Trade markers ``(bar index, price, "buy"|"sell")`` of ``fills`` on ``bars``.

    A fill goes on the bar whose period contains its time; a fill after the last bar (live
    paper quotes beyond the stored history) on the last bar; fills before the first bar or of
    another symbol are left out.
    """
    if bars is None or len(bars) == 0:
        return []
    sym = symbol or bars.symbol
    times = np.asarray(bars.time, dtype=np.int64)
    out = []
    for f in fills:
        if f.symbol != sym:
            continue
        i = int(np.searchsorted(times, f.time_ms // 1000, side="right")) - 1
        if i < 0:
            continue
        out.append((i, float(f.price), f.side.value))
    return out


class ChartTradeMarkers(QObject):
    """Keeps the trade markers of attached charts in step with the chosen account's fills."""

    def __init__(self, session: TradingSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.charts: list[Any] = []
        self._fills: list[Fill] = []
        session.account_selected.connect(self._reload)
        session.fill_added.connect(self._on_fill)
        self._reload()

    def attach(self, chart: Any) -> None:
        """``chart`` needs ``bars``, ``symbol``, ``bars_loaded`` and ``set_markers``."""
        if chart in self.charts:
            return
        self.charts.append(chart)
        chart.bars_loaded.connect(lambda _b, c=chart: self._draw(c))
        chart.destroyed.connect(lambda _o=None, c=chart: self.charts.remove(c) if c in self.charts else None)
        self._draw(chart)

    def _reload(self, *_: object) -> None:
        _o, fills, _p = self.session.snapshot()
        self._fills = list(fills)
        self._draw_all()

    def _on_fill(self, f: Fill) -> None:
        self._fills.append(f)
        self._draw_all()

    def _draw_all(self) -> None:
        for c in list(self.charts):
            self._draw(c)

    def _draw(self, chart: Any) -> None:
        chart.set_markers(fill_markers(self._fills, chart.bars, chart.symbol))


__all__ = ["ChartTradeMarkers", "fill_markers"]
