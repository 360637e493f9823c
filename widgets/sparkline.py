"""A sparkline drawn by an item delegate: the last closes of a symbol as a small line.

The model returns the values (oldest first, a tuple of floats) for ``SPARKLINE_ROLE``;
the delegate scales them into the cell. Rising series (last ≥ first) use the theme's
"up" colour, falling ones its "down" colour.
"""
from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from widgets import style

SPARKLINE_ROLE = int(Qt.ItemDataRole.UserRole) + 1


def sparkline_points(values: Sequence[float], rect: QRectF) -> QPolygonF:
    """The polyline of ``values`` scaled into ``rect`` (NaNs skipped; a flat series is centred)."""
    pts = [(i, float(v)) for i, v in enumerate(values) if v == v]  # v == v drops NaN
    poly = QPolygonF()
    if len(pts) < 2:
        return poly
    lo = min(v for _, v in pts)
    hi = max(v for _, v in pts)
    n = len(values) - 1
    span = hi - lo
    for i, v in pts:
        x = rect.left() + rect.width() * i / n
        y = rect.center().y() if span == 0 else rect.bottom() - rect.height() * (v - lo) / span
        poly.append(QPointF(x, y))
    return poly


def paint_sparkline(painter: QPainter, rect: QRectF, values: Sequence[float]) -> None:
    """Draw ``values`` as a line inside ``rect`` in the up/down colour of the current chart theme."""
    poly = sparkline_points(values, rect)
    if poly.isEmpty():
        return
    finite = [v for v in values if v == v]
    color = QColor(style.CHART.up if finite[-1] >= finite[0] else style.CHART.down)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    pen = QPen(color, 1.4)
    pen.setCosmetic(True)
    painter.setPen(pen)
    painter.drawPolyline(poly)
    painter.restore()


class SparklineDelegate(QStyledItemDelegate):
    """Paints the ``SPARKLINE_ROLE`` values of a cell as a sparkline (selection still drawn)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        st = widget.style() if widget is not None else QApplication.style()
        st.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        values = index.data(SPARKLINE_ROLE)
        if values:
            r = QRectF(option.rect).adjusted(4, 4, -4, -4)
            paint_sparkline(painter, r, values)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        return QSize(90, 22)
