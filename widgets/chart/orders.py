"""Orders and trades on the chart (TradingView's trading panel, thinkorswim Active Trader).

``ChartOrders`` keeps one chart in step with the selected paper account:

* every working order of the chart's symbol is a labelled horizontal price line (side,
  type, quantity, price; a bracket's stop-loss and take-profit children too). Dragging a
  line modifies the order through ``TradingSession.send_modify`` — the broker-thread path
  the blotter's Modify dialog uses, so the engine's checks (``PaperBroker.modify``) are the
  same as the ticket's. A refused drag snaps the line back to the order's price and says
  why (``refused``); a ✕ on the line cancels the order (``send_cancel``). A trailing stop's
  line follows the market and cannot be dragged (change its trail in the blotter);
* the position's average price is a line too, labelled with its open P&L at the latest mark.

Lines are rebuilt from the session's events (an order changed, a fill, the account or the
chart's symbol changed), never polled. ``TradeLinksItem`` draws closed round trips as
entry→exit segments with their P&L (``widgets/trading/markers.py`` computes them).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from engine import formatting as fmt
from engine.paper.orders import OrderType, OrderView, Role, Side
from engine.paper.session import CommandResult
from widgets import style

_TYPE_TEXT = {OrderType.MARKET: "MKT", OrderType.LIMIT: "LMT", OrderType.STOP: "STP",
              OrderType.STOP_LIMIT: "STP LMT", OrderType.TRAILING_STOP: "TRAIL"}
_ROLE_TEXT = {Role.TAKE_PROFIT: "TP", Role.STOP_LOSS: "SL", Role.ENTRY: "Entry"}
NOTICE_MS = 5000  # how long a refused drag's reason stays on the chart
Z_LINES = 45


def tick_round(price: float) -> Decimal:
    """A dragged price as the ticket would type it: cents at $1 and above, 4 places below."""
    if not math.isfinite(price):
        raise ValueError("the line is not at a price")
    places = 2 if abs(price) >= 1 else 4
    return Decimal(str(round(price, places)))


def order_lines(o: OrderView) -> list[tuple[str, Decimal]]:
    """The draggable prices of a working order: (field for ``modify``, price). A stop-limit
    has two (stop and limit); a trailing stop's current stop is shown but is not a field."""
    out: list[tuple[str, Decimal]] = []
    if o.stop_price is not None:
        out.append(("trail" if o.type is OrderType.TRAILING_STOP else "stop_price", o.stop_price))
    if o.limit_price is not None:
        out.append(("limit_price", o.limit_price))
    return out


def order_label(o: OrderView, field: str, price: Decimal | float) -> str:
    """The text on an order's line: role, side, type, quantity and price ("SL SELL STP 100 @ 95.00")."""
    role = _ROLE_TEXT.get(o.role, "")
    kind = _TYPE_TEXT.get(o.type, o.type.value.upper())
    if o.type is OrderType.STOP_LIMIT:
        kind = "STP" if field == "stop_price" else "LMT"
        kind = f"STP LMT ({kind.lower()})"
    qty = o.qty - o.filled_qty
    return " ".join(x for x in (role, o.side.value.upper(), kind, str(qty), "@", fmt.price(float(price))) if x)


class CancelLabel(pg.InfLineLabel):
    """The ✕ on an order line: a click cancels the order."""

    def __init__(self, line: pg.InfiniteLine, on_click: Callable[[], None], color: str) -> None:
        super().__init__(line, "✕", position=0.985, anchors=[(1, 0.5), (1, 0.5)], fill=pg.mkBrush(color),
                         color="#ffffff", movable=False)
        self.on_click = on_click
        self.setToolTip("Cancel this order")
        self.setZValue(Z_LINES + 2)

    def mouseClickEvent(self, ev: Any) -> None:  # noqa: N802 - pyqtgraph override
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.on_click()


@dataclass
class OrderLine:
    """One price line of one order (an order has one or two: stop and limit)."""

    order: OrderView
    field: str  # "stop_price" | "limit_price" | "trail"
    price: Decimal
    line: pg.InfiniteLine
    label: pg.InfLineLabel
    cancel: CancelLabel
    pending: bool = False  # a modify is on its way to the broker


class ChartOrders(QObject):
    """Working orders and the position of ``chart``'s symbol as price lines (module docstring).

    ``session`` is a ``TradingSession`` (or anything with its signals, ``snapshot``,
    ``positions``, ``mark``, ``send_modify`` and ``send_cancel``)."""

    refused = Signal(str)  # why a drag or a ✕ did not go through (also shown on the chart)
    lines_changed = Signal()

    def __init__(self, chart: Any, session: Any, parent: QObject | None = None) -> None:
        super().__init__(parent if parent is not None else chart)
        self.chart = chart
        self.session = session
        self.lines: dict[tuple[str, str], OrderLine] = {}  # (order id, field)
        self.position_line: pg.InfiniteLine | None = None
        self.position_label: pg.InfLineLabel | None = None
        self.notice = pg.TextItem("", anchor=(0, 0), color="#ffffff", fill=pg.mkBrush(style.CHART.down))
        self.notice.setZValue(Z_LINES + 5)
        self.notice.hide()
        chart.price_pane.add_extra(self.notice)
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.timeout.connect(self.notice.hide)
        session.order_updated.connect(self._on_session_order_updated)
        session.account_selected.connect(self.reload)
        session.position_changed.connect(self._on_session_position)
        session.marks_changed.connect(self._on_session_position)
        chart.symbol_changed.connect(self.reload)
        chart.bars_loaded.connect(self.reload)
        chart.price_scale_changed.connect(self._place_all)
        chart.price_pane.vb.sigRangeChanged.connect(self._place_notice)
        self.reload()

    # ------------------------------------------------------------------ building
    @property
    def symbol(self) -> str | None:
        return self.chart.symbol

    def working_orders(self) -> list[OrderView]:
        """The selected account's working orders of the chart's symbol."""
        orders, _fills, _pos = self.session.snapshot()
        return [o for o in orders if o.is_working and o.symbol == self.symbol]

    def reload(self, *_: object) -> None:
        """Rebuild every line from the session (account, symbol or bars changed)."""
        for key in list(self.lines):
            self._remove(key)
        for o in self.working_orders():
            self._show_order(o)
        self._update_position()
        self.lines_changed.emit()

    def _show_order(self, o: OrderView) -> None:
        wanted = dict(order_lines(o)) if o.is_working and o.symbol == self.symbol else {}
        for key in [k for k in self.lines if k[0] == o.order_id and k[1] not in wanted]:
            self._remove(key)
        for field, price in wanted.items():
            ol = self.lines.get((o.order_id, field))
            if ol is None:
                self._add(o, field, price)
            else:
                ol.order, ol.price, ol.pending = o, price, False
                self._place(ol)

    def _add(self, o: OrderView, field: str, price: Decimal) -> None:
        color = style.CHART.up if o.side is Side.BUY else style.CHART.down
        dash = Qt.PenStyle.DashLine if o.role in (Role.TAKE_PROFIT, Role.STOP_LOSS) else Qt.PenStyle.SolidLine
        movable = field != "trail"
        line = pg.InfiniteLine(angle=0, movable=movable, pen=pg.mkPen(color, width=1.4, style=dash),
                               hoverPen=pg.mkPen(color, width=3))
        line.setZValue(Z_LINES)
        label = pg.InfLineLabel(line, "", position=0.01, anchors=[(0, 0.5), (0, 0.5)], color="#ffffff",
                                fill=pg.mkBrush(QColor(color).darker(115)), movable=False)
        label.setZValue(Z_LINES + 1)
        oid = o.order_id
        cancel = CancelLabel(line, lambda oid=oid: self.cancel_order(oid), color)
        ol = OrderLine(o, field, price, line, label, cancel)
        line.setToolTip("Drag to change the order's price" if movable else
                        "A trailing stop follows the market: change its trail in Working Orders")
        line.sigPositionChanged.connect(lambda _l, ol=ol: self._on_line_moving(ol))
        line.sigPositionChangeFinished.connect(lambda _l, ol=ol: self._on_line_dropped(ol))
        self.lines[(oid, field)] = ol
        self.chart.price_pane.add_extra(line)
        self._place(ol)

    def _remove(self, key: tuple[str, str]) -> None:
        ol = self.lines.pop(key, None)
        if ol is not None:
            self._drop_extra(ol.line)

    def _drop_extra(self, item: Any) -> None:
        pane = self.chart.price_pane
        if item in pane.extras:
            pane.extras.remove(item)
        pane.plot.removeItem(item)

    def _place(self, ol: OrderLine) -> None:
        y = self.chart.price_to_y(float(ol.price))
        ol.line.blockSignals(True)
        ol.line.setValue(y if math.isfinite(y) else 0.0)
        ol.line.blockSignals(False)
        ol.line.setVisible(math.isfinite(y))
        ol.label.setFormat(order_label(ol.order, ol.field, ol.price))
        ol.label.valueChanged()

    def _place_all(self) -> None:
        for ol in self.lines.values():
            self._place(ol)
        self._update_position()

    # ------------------------------------------------------------------ position
    def _on_session_position(self, *_: object) -> None:
        self._update_position()

    def _update_position(self) -> None:
        pos = self.session.positions.get(self.symbol) if self.symbol else None
        if pos is None or not pos.qty or pos.avg_price is None:
            if self.position_line is not None:
                self.position_line.hide()  # kept for the next position (removing it with its label crashed Qt)
            return
        mark = self.session.mark(self.symbol)
        pnl = mark.unrealized if mark is not None else None
        color = style.CHART.foreground
        if self.position_line is None:
            self.position_line = pg.InfiniteLine(angle=0, movable=False,
                                                 pen=pg.mkPen(color, width=1.2, style=Qt.PenStyle.DotLine))
            self.position_line.setZValue(Z_LINES - 1)
            self.position_label = pg.InfLineLabel(self.position_line, "", position=0.45, anchors=[(0, 0.5), (0, 0.5)],
                                                  color="#ffffff", movable=False)
            self.chart.price_pane.add_extra(self.position_line)
        assert self.position_label is not None
        self.position_line.show()
        pnl_col = style.CHART.up if pnl is not None and pnl >= 0 else style.CHART.down
        self.position_label.fill = pg.mkBrush(QColor(pnl_col if pnl is not None else "#607d8b").darker(120))
        self.position_line.setValue(self.chart.price_to_y(float(pos.avg_price)))
        self.position_label.setFormat(self.position_text())
        self.position_label.valueChanged()

    def position_text(self) -> str:
        """The position line's label: "Position +100 @ 100.00   P&L +$250.00" ("" without one)."""
        pos = self.session.positions.get(self.symbol) if self.symbol else None
        if pos is None or not pos.qty or pos.avg_price is None:
            return ""
        mark = self.session.mark(self.symbol)
        pnl = mark.unrealized if mark is not None else None
        sign = "+" if pos.qty > 0 else ""
        pnl_text = "–" if pnl is None else ("+" if pnl >= 0 else "−") + fmt.money(abs(float(pnl)))
        return f"Position {sign}{pos.qty} @ {fmt.price(float(pos.avg_price))}   P&L {pnl_text}"

    # ------------------------------------------------------------------ commands
    def _on_session_order_updated(self, o: OrderView) -> None:
        if o.symbol == self.symbol:
            self._show_order(o)
            self.lines_changed.emit()

    def _on_line_moving(self, ol: OrderLine) -> None:
        price = self.chart.y_to_price(ol.line.value())
        if math.isfinite(price):
            ol.label.setFormat(order_label(ol.order, ol.field, price))

    def _on_line_dropped(self, ol: OrderLine) -> None:
        try:
            new = tick_round(self.chart.y_to_price(ol.line.value()))
        except ValueError as exc:
            self._refuse(ol, str(exc))
            return
        if new == ol.price:
            self._place(ol)
            return
        self.modify_order(ol.order.order_id, ol.field, new)

    def modify_order(self, order_id: str, field: str, price: Decimal) -> None:
        """Send "change ``field`` of ``order_id`` to ``price``" to the broker thread; the line
        stays where it was dropped until the broker answers, then follows the order (or snaps
        back with the reason)."""
        ol = self.lines.get((order_id, field))
        if ol is None:
            return
        ol.pending = True
        self.session.send_modify(order_id, {field: price},
                                 lambda res, key=(order_id, field): self._on_modified(key, res))

    def _on_modified(self, key: tuple[str, str], res: CommandResult[Any]) -> None:
        ol = self.lines.get(key)
        if res.error is not None:
            if ol is not None:
                self._refuse(ol, res.error)
            else:
                self._show_notice(res.error)
            return
        if isinstance(res.value, OrderView):
            self._show_order(res.value)
            self.lines_changed.emit()

    def _refuse(self, ol: OrderLine, reason: str) -> None:
        ol.pending = False
        self._place(ol)  # back to the order's price
        self._show_notice(reason)

    def cancel_order(self, order_id: str) -> None:
        """Cancel ``order_id`` (the ✕ on its line) through the broker thread."""
        self.session.send_cancel(order_id, self._on_cancelled)

    def _on_cancelled(self, res: CommandResult[Any]) -> None:
        if res.error is not None:
            self._show_notice(res.error)
        elif isinstance(res.value, OrderView):
            self._show_order(res.value)
            self.lines_changed.emit()

    # ------------------------------------------------------------------ notice
    def _show_notice(self, reason: str) -> None:
        text = reason[:1].upper() + reason[1:]
        self.notice.setText(f"Order not changed: {text}")
        self.notice.show()
        self._place_notice()
        self._notice_timer.start(NOTICE_MS)
        self.refused.emit(reason)

    def _place_notice(self, *_: object) -> None:
        (x0, x1), (y0, y1) = self.chart.price_pane.vb.viewRange()
        self.notice.setPos(x0 + (x1 - x0) * 0.01, y1 - (y1 - y0) * 0.06)

    # ------------------------------------------------------------------ for tests and screenshots
    def line(self, order_id: str, field: str) -> OrderLine | None:
        return self.lines.get((order_id, field))


@dataclass(frozen=True, slots=True)
class TradeLink:
    """A closed round trip on the chart: entry (bar index, price) → exit, with its P&L (dollars)."""

    x0: float
    price0: float
    x1: float
    price1: float
    pnl: float


class TradeLinksItem(pg.GraphicsObject):
    """Dashed entry→exit segments, green for a winner and red for a loser, the P&L beside
    the exit."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[TradeLink] = []
        self._ys: list[tuple[float, float]] = []
        self._rect = QRectF()
        self.setZValue(30)

    def set_links(self, links: Sequence[TradeLink], to_y: Callable[[float], float]) -> None:
        self.prepareGeometryChange()
        self.links = list(links)
        self._ys = [(to_y(k.price0), to_y(k.price1)) for k in self.links]
        pts = [(k.x0, y0) for k, (y0, _y1) in zip(self.links, self._ys)] + \
              [(k.x1, y1) for k, (_y0, y1) in zip(self.links, self._ys)]
        pts = [(x, y) for x, y in pts if math.isfinite(y)]
        if pts:
            xs, ys = zip(*pts)
            self._rect = QRectF(min(xs) - 1, min(ys), max(xs) - min(xs) + 2, (max(ys) - min(ys)) or 1.0)
        else:
            self._rect = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._rect

    def paint(self, p: QPainter, *args: Any) -> None:
        if not self.links:
            return
        vb = self.getViewBox()
        if vb is None:
            return
        font = QFont()
        font.setPointSize(8)
        p.setFont(font)
        for k, (y0, y1) in zip(self.links, self._ys):
            if not (math.isfinite(y0) and math.isfinite(y1)):
                continue
            color = QColor(style.CHART.up if k.pnl >= 0 else style.CHART.down)
            pen = QPen(color, 1.3, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            p.setPen(pen)
            a, b = vb.mapViewToDevice(QPointF(k.x0, y0)), vb.mapViewToDevice(QPointF(k.x1, y1))
            if a is None or b is None:
                continue
            p.save()
            p.resetTransform()
            p.drawLine(a, b)
            text = ("+" if k.pnl >= 0 else "−") + fmt.money(abs(k.pnl))
            p.drawText(QPointF(b.x() + 8, b.y() - 6), text)
            p.restore()


__all__ = ["CancelLabel", "ChartOrders", "OrderLine", "TradeLink", "TradeLinksItem", "order_label",
           "order_lines", "tick_round"]
