"""Chart graphics items: candles/volume bars drawn for the visible range only.

``OhlcItem`` follows pyqtgraph's ``customGraphicsItem`` example with two additions: it
draws only the visible index range (cached per 256-bar-aligned window), and above about
one bar per pixel it switches to level-of-detail: each pixel column is one aggregated
bar (first open, max high, min low, last close), like finplot's ``lod_candles``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QColor, QPainter, QPen, QPicture

from widgets import style

CHUNK = 256


def _aggregate(o, h, l, c, k: int):  # noqa: E741 - OHLC names
    """Aggregate consecutive groups of ``k`` bars (last group may be short)."""
    n = len(o)
    starts = np.arange(0, n, k)
    ao = o[starts]
    ac = c[np.minimum(starts + k, n) - 1]
    ah = np.maximum.reduceat(h, starts)
    al = np.minimum.reduceat(l, starts)
    return starts, ao, ah, al, ac


class OhlcItem(pg.GraphicsObject):
    """Candles, or volume bars (``volume=True``), drawn for the visible range only."""

    def __init__(self, volume: bool = False) -> None:
        super().__init__()
        self.volume_mode = volume
        self.o = self.h = self.l = self.c = np.empty(0)
        self._pictures: dict[tuple[int, int, int], QPicture] = {}
        self._rect = QRectF()

    def set_data(self, o: np.ndarray, h: np.ndarray, l: np.ndarray, c: np.ndarray) -> None:  # noqa: E741
        self.prepareGeometryChange()
        self.o, self.h, self.l, self.c = o, h, l, c
        self._pictures.clear()
        n = len(o)
        if n:
            lo = 0.0 if self.volume_mode else float(np.nanmin(l))
            hi = float(np.nanmax(h))
            self._rect = QRectF(-0.5, lo, n, (hi - lo) or 1.0)
        else:
            self._rect = QRectF()
        self.update()

    def clear_cache(self) -> None:
        self._pictures.clear()
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._rect

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None):  # noqa: N802,N803
        n = len(self.o)
        if n == 0:
            return None, None
        if ax == 0:
            return -0.5, n - 0.5
        i0, i1 = 0, n
        if orthoRange is not None:
            i0 = max(0, int(math.floor(orthoRange[0] + 0.5)))
            i1 = min(n, int(math.ceil(orthoRange[1] + 0.5)))
            if i1 <= i0:
                return None, None
        if self.volume_mode:
            return 0.0, float(np.nanmax(self.h[i0:i1]) * 1.05)
        return float(np.nanmin(self.l[i0:i1])), float(np.nanmax(self.h[i0:i1]))

    def _visible(self) -> tuple[int, int, int]:
        n = len(self.o)
        vb = self.getViewBox()
        if vb is None:
            return 0, n, 1
        x0, x1 = vb.viewRange()[0]
        i0 = max(0, (int(math.floor(x0)) // CHUNK) * CHUNK)
        i1 = min(n, (int(math.ceil(x1)) // CHUNK + 1) * CHUNK)
        px = self.pixelWidth() or 1.0  # bar-index units per pixel
        k = max(1, int(px)) if px >= 1.0 else 1
        if k > 1:
            i0 = (i0 // k) * k
        return i0, max(i0, i1), k

    def paint(self, p: QPainter, *args: Any) -> None:
        if len(self.o) == 0:
            return
        key = self._visible()
        pic = self._pictures.get(key)
        if pic is None:
            if len(self._pictures) > 64:
                self._pictures.clear()
            pic = self._draw(*key)
            self._pictures[key] = pic
        pic.play(p)

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
        for mask, col in ((up, up_col), (~up, dn_col)):
            idx = np.nonzero(mask & np.isfinite(h))[0]
            if idx.size == 0:
                continue
            pen = QPen(col)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.setBrush(col)
            if self.volume_mode:
                p.drawRects([QRectF(x[i] - w / 2, 0.0, w, h[i]) for i in idx])
                continue
            p.drawLines([QLineF(x[i], l[i], x[i], h[i]) for i in idx])
            p.drawRects([QRectF(x[i] - w / 2, min(o[i], c[i]), w, abs(c[i] - o[i])) for i in idx])
        p.end()
        return pic
