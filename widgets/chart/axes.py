"""Chart axes: dates under the panes (bar index -> time), price and volume on the right.

Each axis can carry *markers*: a value drawn as a filled label on the axis (the last price,
the crosshair's price or time), painted over the axis' cached picture so moving the
crosshair repaints only the label, not the ticks.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from engine import formatting as fmt

#: the chart's time-axis zones (setting ``chart/time_zone``)
TIME_ZONES = ("exchange", "local", "utc")


class _MarkedAxis(pg.AxisItem):
    """An axis with labelled markers: ``set_marker(key, value, text, colour)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.markers: dict[str, tuple[float, str, str]] = {}
        self.marker_text_color = "#ffffff"

    def set_marker(self, key: str, value: float | None, text: str = "", color: str = "#555555") -> None:
        if value is None or not np.isfinite(value):
            if self.markers.pop(key, None) is not None:
                self.update()
            return
        self.markers[key] = (float(value), text, color)
        self.update()

    def paint(self, p: QPainter, opt: Any, widget: Any) -> None:
        super().paint(p, opt, widget)
        view = self.linkedView()
        if not self.markers or view is None:
            return
        rect = self.boundingRect()
        fm = p.fontMetrics()
        vertical = self.orientation in ("left", "right")
        for value, text, color in self.markers.values():
            pt = view.mapViewToScene(QPointF(value, value))
            local = self.mapFromScene(pt)
            w, h = fm.horizontalAdvance(text) + 8, fm.height() + 2
            if vertical:
                if not rect.top() <= local.y() <= rect.bottom():
                    continue
                box = QRectF(rect.left(), local.y() - h / 2, rect.width(), h)
            else:
                if not rect.left() <= local.x() <= rect.right():
                    continue
                box = QRectF(local.x() - w / 2, rect.top(), w, h)
            p.fillRect(box, QColor(color))
            p.setPen(QColor(self.marker_text_color))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def zone_for(mode: str, exchange: _dt.tzinfo) -> _dt.tzinfo | None:
    """The tz a time axis in ``mode`` ("exchange", "local", "utc") draws in (``None`` = the
    machine's local zone, as ``datetime.astimezone()`` takes it)."""
    if mode == "utc":
        return _dt.timezone.utc
    if mode == "local":
        return None
    return exchange


class DateAxis(_MarkedAxis):
    """Bottom axis labelling bar indices with their dates/times.

    Daily and longer bars are labelled with their trading date (stored as that date's UTC
    midnight); intraday bars in ``tz`` (by default the exchange's own time from the market
    calendar's ``exchange_tz``: a NYSE 09:30 bar reads 09:30, not 14:30 UTC). Tick strings
    are cached per (bar, zone), so a pan formats only the labels it has not shown yet."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.times = np.empty(0, dtype=np.int64)
        self.intraday = False
        self.tz: _dt.tzinfo | None = _dt.timezone.utc
        self._cache: dict[tuple[int, int, bool, Any], str] = {}

    def format_time(self, i: int, long: bool = False) -> str:
        """Bar ``i``'s time as the axis shows it (``long``: with the year and the zone)."""
        n = len(self.times)
        if i >= n and n >= 2 and i < n + 500:
            t = self.future_time(i)  # the room after the last bar (the Ichimoku cloud's projection)
        elif not 0 <= i < n:
            return ""
        else:
            t = int(self.times[i])
        key = (i, t, long, (self.intraday, id(self.tz)))
        s = self._cache.get(key)
        if s is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            if self.intraday:
                d = _dt.datetime.fromtimestamp(t, _dt.timezone.utc).astimezone(self.tz)
                s = d.strftime("%Y-%m-%d %H:%M %Z" if long else "%m-%d %H:%M")
            else:
                s = _dt.datetime.fromtimestamp(t, _dt.timezone.utc).strftime("%a %Y-%m-%d" if long else "%Y-%m-%d")
            self._cache[key] = s
        return s

    def future_time(self, i: int) -> int:
        """The time bar ``i`` (past the last bar) would have: business days after a daily
        series, the usual step after any other (holidays are not known ahead here)."""
        n = len(self.times)
        last = int(self.times[-1])
        step = int(np.median(np.diff(self.times[-min(n, 50):])))
        ahead = i - n + 1
        if not self.intraday and step <= 86400 * 1.5:
            day = np.datetime64(last // 86400, "D")
            return int(np.busday_offset(day, ahead, roll="forward").astype("datetime64[s]").astype(np.int64))
        return last + ahead * max(step, 1)

    def zone_name(self) -> str:
        """The zone intraday labels are in (e.g. "EDT"), empty for daily bars."""
        if not self.intraday or not len(self.times):
            return ""
        return _dt.datetime.fromtimestamp(int(self.times[-1]), _dt.timezone.utc).astimezone(self.tz).strftime("%Z")

    def tickStrings(self, values: Sequence[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [self.format_time(int(round(v))) for v in values]


class VolumeAxis(_MarkedAxis):
    """Right axis of the volume pane: 1.2K / 3.4M / 5.6B instead of 5e+07."""

    def tickStrings(self, values: Sequence[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [fmt.compact_tick(v * scale) for v in values]


class PriceAxis(_MarkedAxis):
    """A price or equity axis with thousands separators and the decimals the tick spacing
    needs (``100,150``, not ``100150``; ``12.5``); pass it as ``axisItems={"right": PriceAxis("right")}``.

    ``inverse`` maps a drawn value back to a price (log and percent scales draw transformed
    values); ``percent`` labels ticks as percent changes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inverse: Callable[[float], float] | None = None
        self.percent = False

    def tickStrings(self, values: Sequence[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        if self.percent:
            return [f"{v * scale:+.{max(0, min(4, -int(np.floor(np.log10(spacing * scale)))))}f}%"
                    if spacing > 0 else f"{v:+.2f}%" for v in values]
        if self.inverse is not None:
            prices = [self.inverse(v * scale) for v in values]
            if len(prices) > 1:
                step = min(abs(b - a) for a, b in zip(prices, prices[1:])) or abs(prices[0]) * 1e-3
            else:
                step = abs(prices[0]) * 1e-3 if prices else 1.0
            return [fmt.tick(v, step) for v in prices]
        return [fmt.tick(v * scale, spacing * scale) for v in values]
