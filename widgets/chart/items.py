"""Chart graphics items: they only draw, and only the visible index range.

``OhlcItem`` follows pyqtgraph's ``customGraphicsItem`` example with two additions: it
draws only the visible index range (cached per 256-bar-aligned window), and above about
one bar per pixel it switches to level-of-detail: each pixel column is one aggregated
bar (first open, max high, min low, last close), like finplot's ``lod_candles``.

``LineItem`` draws a series (a study, or the close for the line/area/baseline types) the
same way: clipped to the visible range, and above one point per pixel column reduced to
that column's min and max (the shape of the line is kept, its 1M points are not drawn).

``GridItem`` draws the grid as one path per direction behind the data, instead of
pyqtgraph's axis grid (which repaints the whole view through every axis: 92 of 111 ms of
a pan frame in the issue's profile).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPicture, QPolygonF

from widgets import style

CHUNK = 256
#: the bar styles ``OhlcItem`` draws (the chart-type selector's non-transform types)
BAR_STYLES = ("candles", "hollow", "ohlc")


def _aggregate(o, h, l, c, k: int):  # noqa: E741 - OHLC names
    """Aggregate consecutive groups of ``k`` bars (last group may be short)."""
    n = len(o)
    starts = np.arange(0, n, k)
    ao = o[starts]
    ac = c[np.minimum(starts + k, n) - 1]
    ah = np.maximum.reduceat(h, starts)
    al = np.minimum.reduceat(l, starts)
    return starts, ao, ah, al, ac


def _visible_window(item: pg.GraphicsObject, n: int) -> tuple[int, int, int]:
    """(first, stop, k) of what ``item`` should draw: the visible bars widened to 256-bar
    chunks (so a pan reuses the cached picture), and ``k`` bars per pixel column (1 = every bar)."""
    vb = item.getViewBox()
    if vb is None:
        return 0, n, 1
    x0, x1 = vb.viewRange()[0]
    i0 = max(0, (int(math.floor(x0)) // CHUNK) * CHUNK)
    i1 = min(n, (int(math.ceil(x1)) // CHUNK + 1) * CHUNK)
    px = item.pixelWidth() or 1.0  # bar-index units per pixel
    k = max(1, int(px)) if px >= 1.0 else 1
    if k > 1:
        i0 = (i0 // k) * k
    return i0, max(i0, i1), k


def visible_bounds(y: np.ndarray, x0: float, x1: float) -> tuple[float, float] | None:
    """Finite (min, max) of ``y`` over bar indices ``x0..x1`` (``None`` when nothing is there)."""
    n = len(y)
    i0 = max(0, int(math.floor(x0 + 0.5)))
    i1 = min(n, int(math.ceil(x1 + 0.5)))
    if i1 <= i0:
        return None
    seg = y[i0:i1]
    lo, hi = np.fmin.reduce(seg), np.fmax.reduce(seg)  # fmin/fmax skip NaN without a warning
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    return float(lo), float(hi)


class _CachedItem(pg.GraphicsObject):
    """Pictures cached per visible window; subclasses implement ``_draw(i0, i1, k)``."""

    def __init__(self) -> None:
        super().__init__()
        self._pictures: dict[tuple[Any, ...], QPicture] = {}
        self._rect = QRectF()

    # every subclass (OhlcItem, LineItem) defines these two: how many points it has, and the
    # picture of points i0..i1 aggregated k to a pixel column
    _count: Callable[[], int]
    _draw: Callable[[int, int, int], QPicture]

    def _key(self) -> tuple[Any, ...]:
        return _visible_window(self, self._count())

    def clear_cache(self) -> None:
        self._pictures.clear()
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._rect

    def paint(self, p: QPainter, *args: Any) -> None:
        if self._count() == 0:
            return
        key = self._key()
        pic = self._pictures.get(key)
        if pic is None:
            if len(self._pictures) > 64:
                self._pictures.clear()
            pic = self._draw(*key[:3])
            self._pictures[key] = pic
        pic.play(p)


class OhlcItem(_CachedItem):
    """Candles (``bar_style`` "candles", "hollow" or "ohlc"), or volume bars (``volume=True``).

    A bar whose open equals its close has no body: it is drawn as a horizontal hair line
    (Qt draws a zero-height rectangle in a ``QPicture`` as a block about one unit tall,
    the issue's ±0.5 phantom bar)."""

    def __init__(self, volume: bool = False) -> None:
        super().__init__()
        self.volume_mode = volume
        self.bar_style = "candles"
        self.o = self.h = self.l = self.c = np.empty(0)

    def _count(self) -> int:
        return len(self.o)

    def set_style(self, bar_style: str) -> None:
        if bar_style not in BAR_STYLES:
            raise ValueError(f"unknown bar style {bar_style!r}; use one of {', '.join(BAR_STYLES)}")
        self.bar_style = bar_style
        self.clear_cache()

    def set_data(self, o: np.ndarray, h: np.ndarray, l: np.ndarray, c: np.ndarray) -> None:  # noqa: E741
        self.prepareGeometryChange()
        self.o, self.h, self.l, self.c = o, h, l, c
        self._pictures.clear()
        n = len(o)
        hi = float(np.fmax.reduce(h)) if n else math.nan  # fmax/fmin skip NaN, no mask copied
        lo = 0.0 if self.volume_mode or not n else float(np.fmin.reduce(l))
        if n and math.isfinite(hi) and math.isfinite(lo):
            self._rect = QRectF(-0.5, lo, n, (hi - lo) or 1.0)
        else:
            self._rect = QRectF()
        self.update()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None):  # noqa: N802,N803
        n = len(self.o)
        if n == 0:
            return None, None
        if ax == 0:
            return -0.5, n - 0.5
        x0, x1 = orthoRange if orthoRange is not None else (0, n)
        return self.y_bounds(x0, x1) or (None, None)

    def y_bounds(self, x0: float, x1: float) -> tuple[float, float] | None:
        """(low, high) of the bars drawn over bar indices ``x0..x1`` (volume: 0..max)."""
        hi = visible_bounds(self.h, x0, x1)
        if hi is None:
            return None
        if self.volume_mode:
            return 0.0, hi[1]
        lo = visible_bounds(self.l, x0, x1)
        return (lo[0] if lo else hi[0]), hi[1]

    def _visible(self) -> tuple[int, int, int]:
        return _visible_window(self, len(self.o))

    def _draw(self, i0: int, i1: int, k: int) -> QPicture:
        colors = style.CHART
        pic = QPicture()
        p = QPainter(pic)
        o, h, l, c = (a[i0:i1] for a in (self.o, self.h, self.l, self.c))  # noqa: E741
        if k > 1:
            starts, o, h, l, c = _aggregate(o, h, l, c, k)  # noqa: E741
            x = i0 + starts + (k - 1) / 2.0
            w = k * 0.8
        else:
            x = np.arange(i0, i0 + len(o), dtype=float)
            w = 0.7
        up = c >= o
        up_col = QColor(colors.volume_up if self.volume_mode else colors.up)
        dn_col = QColor(colors.volume_down if self.volume_mode else colors.down)
        for is_up, mask, col in ((True, up, up_col), (False, ~up, dn_col)):
            idx = np.nonzero(mask & np.isfinite(h))[0]
            if idx.size == 0:
                continue
            pen = QPen(col)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.setBrush(col)
            if self.volume_mode:
                idx = idx[h[idx] > 0]  # a zero-volume bar draws nothing (not a phantom block)
                p.drawRects([QRectF(x[i] - w / 2, 0.0, w, h[i]) for i in idx])
                continue
            # a zero-length line or zero-height rectangle in a QPicture plays back as a block
            # about one price unit tall (the issue's ±0.5 phantom bar): never draw one
            wick = idx[h[idx] > l[idx]]
            if self.bar_style == "ohlc":
                p.drawLines([QLineF(x[i], l[i], x[i], h[i]) for i in wick]
                            + [QLineF(x[i] - w / 2, o[i], x[i], o[i]) for i in idx]
                            + [QLineF(x[i], c[i], x[i] + w / 2, c[i]) for i in idx])
                continue
            body = c[idx] != o[idx]
            hollow = self.bar_style == "hollow" and is_up
            # wicks: the whole range for a filled body; a hollow body must not show the wick inside it
            if hollow:
                top, bot = np.maximum(o, c), np.minimum(o, c)
                p.drawLines([QLineF(x[i], top[i], x[i], h[i]) for i in idx if h[i] > top[i]]
                            + [QLineF(x[i], l[i], x[i], bot[i]) for i in idx if bot[i] > l[i]])
                p.setBrush(Qt.BrushStyle.NoBrush)
            else:
                p.drawLines([QLineF(x[i], l[i], x[i], h[i]) for i in wick])
            b = idx[body]
            p.drawRects([QRectF(x[i] - w / 2, min(o[i], c[i]), w, abs(c[i] - o[i])) for i in b])
            f = idx[~body]
            p.drawLines([QLineF(x[i] - w / 2, o[i], x[i] + w / 2, o[i]) for i in f])
        p.end()
        return pic


def _minmax_columns(y: np.ndarray, i0: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Points of ``y`` reduced to each ``k``-wide column's first-seen min and max (in index
    order within the column), as x, y arrays twice the number of columns long; a column
    with no finite value gives NaN (a gap)."""
    n = len(y)
    cols = -(-n // k)
    pad = np.full(cols * k, np.nan)
    pad[:n] = y
    m = pad.reshape(cols, k)
    lo = np.fmin.reduce(m, axis=1)
    hi = np.fmax.reduce(m, axis=1)
    xs = i0 + np.arange(cols) * k + (k - 1) / 2.0
    out_x = np.repeat(xs, 2)
    out_y = np.empty(cols * 2)
    out_y[0::2] = lo
    out_y[1::2] = hi
    return out_x, out_y


class LineItem(_CachedItem):
    """A series over bar indices, drawn for the visible range only, min/max per pixel column.

    ``fill``: ``None`` (a line), ``"area"`` (filled down to the pane's bottom) or
    ``"baseline"`` (up colour above ``base``, down colour below). ``getData()`` returns the
    full series (x = bar index) like pyqtgraph's ``PlotDataItem``."""

    def __init__(self, name: str = "", color: str = "#42a5f5", width: float = 1.2) -> None:
        super().__init__()
        self.name = name
        self.y = np.empty(0)
        self.color = color
        self.width = width
        self.fill: str | None = None
        self.base = 0.0
        self.dash = Qt.PenStyle.SolidLine  # a study's line style (legend editor): solid, dash, dot
        self.setZValue(5)

    def _count(self) -> int:
        return len(self.y)

    def getData(self) -> tuple[np.ndarray, np.ndarray]:  # noqa: N802 - pyqtgraph's name
        return np.arange(len(self.y), dtype=float), self.y

    def set_data(self, y: np.ndarray, color: str | None = None, fill: str | None = None,
                 base: float | None = None) -> None:
        self.prepareGeometryChange()
        self.y = np.asarray(y, dtype=float)
        if color is not None:
            self.color = color
        self.fill = fill
        if base is not None:
            self.base = float(base)
        lo = float(np.fmin.reduce(self.y)) if len(self.y) else math.nan  # skip NaN, no masked copy
        hi = float(np.fmax.reduce(self.y)) if len(self.y) else math.nan
        if len(self.y) and not (math.isfinite(lo) and math.isfinite(hi)):  # ±inf somewhere: finite values only
            finite = self.y[np.isfinite(self.y)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (math.nan, math.nan)
        if math.isfinite(lo) and math.isfinite(hi):
            self._rect = QRectF(-0.5, lo, len(self.y), (hi - lo) or 1.0)
        else:
            self._rect = QRectF()
        self.clear_cache()

    def y_bounds(self, x0: float, x1: float) -> tuple[float, float] | None:
        b = visible_bounds(self.y, x0, x1)
        if b is not None and self.fill == "baseline":
            return min(b[0], self.base), max(b[1], self.base)
        return b

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None):  # noqa: N802,N803
        n = len(self.y)
        if n == 0:
            return None, None
        if ax == 0:
            return -0.5, n - 0.5
        x0, x1 = orthoRange if orthoRange is not None else (0, n)
        return self.y_bounds(x0, x1) or (None, None)

    def _key(self) -> tuple[Any, ...]:
        key = _visible_window(self, len(self.y))
        if self.fill == "area":  # filled down to the view's bottom, which moves with the fit
            vb = self.getViewBox()
            key = (*key, round(vb.viewRange()[1][0], 9) if vb is not None else 0.0)
        return key

    def _draw(self, i0: int, i1: int, k: int) -> QPicture:
        pic = QPicture()
        p = QPainter(pic)
        seg = self.y[i0:i1]
        if k > 1:
            x, y = _minmax_columns(seg, i0, k)
        else:
            x, y = np.arange(i0, i0 + len(seg), dtype=float), seg
        if len(x):
            path = pg.arrayToQPath(x, y, connect="finite")
            pen = QPen(QColor(self.color), self.width)
            pen.setCosmetic(True)
            pen.setStyle(self.dash)
            if self.fill == "area":
                vb = self.getViewBox()
                bottom = vb.viewRange()[1][0] if vb is not None else float(np.nanmin(y))
                self._fill_under(p, x, y, bottom, QColor(self.color))
            elif self.fill == "baseline":
                self._draw_baseline(p, x, y, path)
                p.end()
                return pic
            p.setPen(pen)
            p.drawPath(path)
        p.end()
        return pic

    @staticmethod
    def _fill_under(p: QPainter, x: np.ndarray, y: np.ndarray, level: float, color: QColor,
                    clip: QRectF | None = None) -> None:
        ok = np.isfinite(y)
        if not ok.any():
            return
        xs, ys = x[ok], y[ok]
        poly = QPolygonF([QPointF(xs[0], level)] + [QPointF(a, b) for a, b in zip(xs, ys)]
                         + [QPointF(xs[-1], level)])
        fill = QColor(color)
        fill.setAlpha(60)
        p.save()
        if clip is not None:
            p.setClipRect(clip)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(fill))
        p.drawPolygon(poly)
        p.restore()

    def _draw_baseline(self, p: QPainter, x: np.ndarray, y: np.ndarray, path: QPainterPath) -> None:
        colors = style.CHART
        ok = np.isfinite(y)
        if not ok.any():
            return
        lo, hi = float(np.min(y[ok])), float(np.max(y[ok]))
        span = max(hi - lo, abs(self.base) * 1e-9, 1e-12)
        x0, x1 = float(x[0]) - 1, float(x[-1]) + 1
        above = QRectF(x0, self.base, x1 - x0, max(hi, self.base) - self.base + span)
        below = QRectF(x0, min(lo, self.base) - span, x1 - x0, self.base - min(lo, self.base) + span)
        for rect, col in ((above, colors.up), (below, colors.down)):
            c = QColor(col)
            self._fill_under(p, x, y, self.base, c, rect)
            pen = QPen(c, self.width)
            pen.setCosmetic(True)
            p.save()
            p.setClipRect(rect)
            p.setPen(pen)
            p.drawPath(path)
            p.restore()


class GridItem(pg.GraphicsObject):
    """Grid lines of one pane, one cosmetic path per direction, at the ticks its axes chose
    (``ticks_x()``/``ticks_y()`` return view coordinates)."""

    def __init__(self, ticks_x: Callable[[], Sequence[float]], ticks_y: Callable[[], Sequence[float]]) -> None:
        super().__init__()
        self._ticks_x = ticks_x
        self._ticks_y = ticks_y
        self.color = QColor(128, 128, 128, 40)
        self.setZValue(-100)
        self.setFlag(self.GraphicsItemFlag.ItemIgnoresParentOpacity, True)

    def set_color(self, color: QColor) -> None:
        self.color = color
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        vb = self.getViewBox()
        if vb is None:
            return QRectF()
        (x0, x1), (y0, y1) = vb.viewRange()
        return QRectF(x0, y0, x1 - x0, y1 - y0)

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None):  # noqa: N802,N803
        return None, None  # the grid never widens the fit

    def viewRangeChanged(self) -> None:  # noqa: N802 - pyqtgraph hook
        self.prepareGeometryChange()

    def paint(self, p: QPainter, *args: Any) -> None:
        vb = self.getViewBox()
        if vb is None:
            return
        (x0, x1), (y0, y1) = vb.viewRange()
        lines = [QLineF(x, y0, x, y1) for x in self._ticks_x() if x0 <= x <= x1]
        lines += [QLineF(x0, y, x1, y) for y in self._ticks_y() if y0 <= y <= y1]
        pen = QPen(self.color)
        pen.setCosmetic(True)
        p.setPen(pen)
        p.drawLines(lines)
