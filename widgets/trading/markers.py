"""Trade markers: the selected account's fills drawn on the charts of their symbol.

Several fills on one bar are spread across the bar's width (``spread_markers``) so each
stays visible; closed round trips (``engine.journal.roundtrips``, FIFO) are drawn as
entry→exit links labelled with their net P&L (``trade_links``)."""
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


def _bar_index(times: np.ndarray, time_ms: int) -> int:
    return int(np.searchsorted(times, time_ms // 1000, side="right")) - 1


def spread_markers(points: Iterable[tuple[int, float, str]], width: float = 0.8) -> list[tuple[float, float, str]]:
    """Markers ``(x, price, side)``: the fills of one bar side by side within ``width`` of
    the bar (one fill stays at the bar's centre), in the order they came."""
    by_bar: dict[int, list[tuple[float, str]]] = {}
    for i, price, side in points:
        by_bar.setdefault(int(i), []).append((price, side))
    out: list[tuple[float, float, str]] = []
    for i, group in by_bar.items():
        k = len(group)
        step = min(width / k, 0.3) if k > 1 else 0.0
        for j, (price, side) in enumerate(group):
            out.append((i + (j - (k - 1) / 2) * step, price, side))
    return out


def trade_links(fills: Iterable[Fill], bars: Bars | None, symbol: str | None = None) -> list[Any]:
    """The closed round trips of ``fills`` on ``bars`` as ``TradeLink``s: from the first
    entry's bar at the average entry price to the last exit's bar at the average exit price,
    with the net P&L in dollars. Trips that start before the first bar are left out."""
    if bars is None or len(bars) == 0:
        return []
    sym = symbol or bars.symbol
    mine = sorted((f for f in fills if f.symbol == sym), key=lambda f: f.time_ms)
    if not mine or len({f.side for f in mine}) < 2:
        return []  # no round trip closed (and the journal engine is not loaded for nothing)
    from engine.journal.roundtrips import round_trips
    from widgets.chart.orders import TradeLink

    times = np.asarray(bars.time, dtype=np.int64)
    out = []
    for trip in round_trips(mine):
        i0, i1 = _bar_index(times, trip.entry_time_ms), _bar_index(times, trip.exit_time_ms)
        if i0 < 0 or i1 < 0:
            continue
        out.append(TradeLink(float(i0), float(trip.avg_entry_price), float(i1), float(trip.avg_exit_price),
                             float(trip.net_pnl)))
    return out


class ChartTradeMarkers(QObject):
    """Keeps the trade markers of attached charts in step with the chosen account's fills,
    and gives each attached chart its order lines (``widgets.chart.orders.ChartOrders``) and
    live last bar (``widgets.chart.live.LiveBar``) over the same session."""

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
        if hasattr(chart, "price_pane"):  # a ChartWidget: its working orders, position and live last bar too
            from widgets.chart.live import LiveBar
            from widgets.chart.orders import ChartOrders

            chart.order_lines = ChartOrders(chart, self.session)
            chart.live_bar = LiveBar(chart, self.session)
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
        chart.set_markers(spread_markers(fill_markers(self._fills, chart.bars, chart.symbol)))
        if hasattr(chart, "set_trade_links"):
            chart.set_trade_links(trade_links(self._fills, chart.bars, chart.symbol))


__all__ = ["ChartTradeMarkers", "fill_markers", "spread_markers", "trade_links"]
