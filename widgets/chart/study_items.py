"""Items of the multi-line studies: a filled band (Bollinger, the Ichimoku cloud) and a
histogram (MACD's).

Both follow ``items.LineItem``: only the visible index range is drawn, cached per 256-bar
window, and above one bar per pixel column the values are reduced per column (the band to
each column's mean of either edge, the histogram to each column's extreme bars), so a
million-bar series costs what its visible pixels cost.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
import pyqtgraph as pg
from PySide6.QtGui import QBrush, QColor, QPainter, QPicture

from widgets.chart.items import _CachedItem, visible_bounds

#: TradingView's MACD histogram colours: strong when the bar grows away from zero, light when
#: it shrinks back towards it
HIST_COLORS = {"grow_above": "#26a69a", "fall_above": "#b2dfdb", "grow_below": "#ff5252", "fall_below": "#ffcdd2"}


def _column_means(y: np.ndarray, k: int) -> np.ndarray:
    n = len(y)
    cols = -(-n // k)
    pad = np.full(cols * k, np.nan)
    pad[:n] = y
    m = pad.reshape(cols, k)
    ok = np.isfinite(m)
    cnt = ok.sum(axis=1)
    s = np.where(ok, m, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, s / np.maximum(cnt, 1), np.nan)


def _rect_of(*arrays: np.ndarray) -> QRectF:
    vals = [a[np.isfinite(a)] for a in arrays]
    vals = [v for v in vals if v.size]
    if not vals:
        return QRectF()
    lo = min(float(v.min()) for v in vals)
    hi = max(float(v.max()) for v in vals)
    n = max(len(a) for a in arrays)
    return QRectF(-0.5, lo, n, (hi - lo) or 1.0)


class BandFillItem(_CachedItem):
    """The area between two series ``a`` and ``b`` (same length): ``up_color`` where a ≥ b,
    ``down_color`` where a < b (one colour for a Bollinger band; green/red for the Ichimoku
    cloud by which span is on top). Crossings are cut at the interpolated crossing point."""

    def __init__(self, up_color: str = "#42a5f5", down_color: str | None = None, alpha: int = 40) -> None:
        super().__init__()
        self.a = self.b = np.empty(0)
        self.up_color = up_color
        self.down_color = down_color or up_color
        self.alpha = alpha
        self.setZValue(2)

    def _count(self) -> int:
        return len(self.a)

    def set_data(self, a: np.ndarray, b: np.ndarray, up_color: str | None = None,
                 down_color: str | None = None) -> None:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if a.shape != b.shape:
            raise ValueError("a band needs two series of one length")
        self.prepareGeometryChange()
        self.a, self.b = a, b
        if up_color is not None:
            self.up_color = up_color
        if down_color is not None:
            self.down_color = down_color
        self._rect = _rect_of(a, b)
        self.clear_cache()

    def y_bounds(self, x0: float, x1: float) -> tuple[float, float] | None:
        ba, bb = visible_bounds(self.a, x0, x1), visible_bounds(self.b, x0, x1)
        got = [v for v in (ba, bb) if v is not None]
        if not got:
            return None
        return min(v[0] for v in got), max(v[1] for v in got)

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None):  # noqa: N802,N803
        n = len(self.a)
        if n == 0:
            return None, None
        if ax == 0:
            return -0.5, n - 0.5
        x0, x1 = orthoRange if orthoRange is not None else (0, n)
        return self.y_bounds(x0, x1) or (None, None)

    def polygons(self, i0: int = 0, i1: int | None = None, k: int = 1) -> list[tuple[bool, np.ndarray, np.ndarray]]:
        """The filled shapes over ``i0..i1`` (``k`` bars a column): (a is on top, x, y of the
        outline: along ``a`` forward, back along ``b``). A run where one side is on top is one
        shape, cut at the interpolated crossing; a missing value ends a shape."""
        a, b = self.a[i0:i1], self.b[i0:i1]
        if k > 1:
            a, b = _column_means(a, k), _column_means(b, k)
            x = i0 + np.arange(len(a)) * k + (k - 1) / 2.0
        else:
            x = np.arange(i0, i0 + len(a), dtype=float)
        ok = np.isfinite(a) & np.isfinite(b)
        side = a >= b
        # runs of finite values with one side on top
        key = np.where(ok, side.astype(np.int8), -1)
        cuts = np.nonzero(np.diff(key))[0] + 1
        starts = np.r_[0, cuts]
        stops = np.r_[cuts, len(a)]
        out: list[tuple[bool, np.ndarray, np.ndarray]] = []
        for s0, s1 in zip(starts.tolist(), stops.tolist()):
            if s1 <= s0 or not ok[s0]:
                continue
            xs, ta, tb = x[s0:s1], a[s0:s1], b[s0:s1]
            # extend to the crossings with the neighbouring runs (where the spans are equal)
            pre: list[tuple[float, float]] = []
            post: list[tuple[float, float]] = []
            for j0, j1, into in ((s0 - 1, s0, pre), (s1 - 1, s1, post)):
                if 0 <= j0 and j1 < len(a) and ok[j0] and ok[j1] and side[j0] != side[j1]:
                    d0, d1 = a[j0] - b[j0], a[j1] - b[j1]
                    t = d0 / (d0 - d1) if d0 != d1 else 0.0
                    into.append((float(x[j0] + t * (x[j1] - x[j0])), float(a[j0] + t * (a[j1] - a[j0]))))
            px = np.r_[[p[0] for p in pre], xs, [p[0] for p in post], xs[::-1]]
            py = np.r_[[p[1] for p in pre], ta, [p[1] for p in post], tb[::-1]]
            if len(px) >= 3:
                out.append((bool(side[s0]), px, py))
        return out

    def _draw(self, i0: int, i1: int, k: int) -> QPicture:
        pic = QPicture()
        p = QPainter(pic)
        p.setPen(Qt.PenStyle.NoPen)
        for on_top, px, py in self.polygons(i0, i1, k):
            col = QColor(self.up_color if on_top else self.down_color)
            col.setAlpha(self.alpha)
            path = pg.arrayToQPath(px, py, connect="all")
            path.closeSubpath()
            p.fillPath(path, QBrush(col))
        p.end()
        return pic


class HistogramItem(_CachedItem):
    """Bars from zero to each value (MACD's histogram), coloured as TradingView's: strong
    green growing above zero, light green shrinking above, strong red growing below, light
    red shrinking below (``bar_colors``)."""

    def __init__(self, colors: dict[str, str] | None = None) -> None:
        super().__init__()
        self.y = np.empty(0)
        self.colors = dict(HIST_COLORS, **(colors or {}))
        self.setZValue(3)

    def _count(self) -> int:
        return len(self.y)

    def set_data(self, y: np.ndarray, colors: dict[str, str] | None = None) -> None:
        self.prepareGeometryChange()
        self.y = np.asarray(y, dtype=float)
        if colors:
            self.colors.update(colors)
        r = _rect_of(self.y, np.zeros(1))
        self._rect = r
        self.clear_cache()

    def bar_kinds(self, i0: int = 0, i1: int | None = None) -> np.ndarray:
        """Per bar of ``i0..i1``: "grow_above", "fall_above", "grow_below", "fall_below" ("" for
        no value), by TradingView's rule: above zero the bar is strong when it rose from the
        bar before, below zero when it did not rise (it moved away from zero, or stayed)."""
        i1 = len(self.y) if i1 is None else min(i1, len(self.y))
        y = self.y[i0:i1]
        prev = np.r_[self.y[i0 - 1] if i0 > 0 else np.nan, y[:-1]]
        with np.errstate(invalid="ignore"):
            rising = prev < y  # False after a missing bar
        above = y >= 0
        out = np.full(len(y), "", dtype=object)
        fin = np.isfinite(y)
        out[fin & above & rising] = "grow_above"
        out[fin & above & ~rising] = "fall_above"
        out[fin & ~above & ~rising] = "grow_below"
        out[fin & ~above & rising] = "fall_below"
        return out

    def bar_colors(self) -> list[str]:
        """The colour each bar is drawn in ("" where there is no value)."""
        return [self.colors[k] if k else "" for k in self.bar_kinds()]

    def y_bounds(self, x0: float, x1: float) -> tuple[float, float] | None:
        b = visible_bounds(self.y, x0, x1)
        if b is None:
            return None
        return min(b[0], 0.0), max(b[1], 0.0)

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None):  # noqa: N802,N803
        n = len(self.y)
        if n == 0:
            return None, None
        if ax == 0:
            return -0.5, n - 0.5
        x0, x1 = orthoRange if orthoRange is not None else (0, n)
        return self.y_bounds(x0, x1) or (None, None)

    def _draw(self, i0: int, i1: int, k: int) -> QPicture:
        pic = QPicture()
        p = QPainter(pic)
        p.setPen(Qt.PenStyle.NoPen)
        y = self.y[i0:i1]
        kinds = self.bar_kinds(i0, i1)
        if k > 1:  # one column: its highest and its lowest bar, coloured as those bars
            cols = -(-len(y) // k)
            rects: dict[str, list[QRectF]] = {}
            for c in range(cols):
                seg = y[c * k:(c + 1) * k]
                if not np.isfinite(seg).any():
                    continue
                xc = i0 + c * k + (k - 1) / 2.0
                for j in {int(np.nanargmax(seg)), int(np.nanargmin(seg))}:
                    v = float(seg[j])
                    if v != 0 and math.isfinite(v):
                        rects.setdefault(str(kinds[c * k + j]), []).append(QRectF(xc - k * 0.4, 0.0, k * 0.8, v))
        else:
            rects = {}
            for j in np.nonzero(np.isfinite(y) & (y != 0))[0].tolist():
                rects.setdefault(str(kinds[j]), []).append(QRectF(i0 + j - 0.35, 0.0, 0.7, float(y[j])))
        for kind, rs in rects.items():
            p.setBrush(QColor(self.colors[kind]))
            p.drawRects(rs)
        p.end()
        return pic


def pen_style(dash: str) -> Qt.PenStyle:
    """The Qt pen style of a line-style name: "solid", "dash" or "dot"."""
    return {"solid": Qt.PenStyle.SolidLine, "dash": Qt.PenStyle.DashLine,
            "dot": Qt.PenStyle.DotLine}.get(dash, Qt.PenStyle.SolidLine)


