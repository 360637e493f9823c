"""Table models of the trading blotters: immutable engine rows (``OrderView``, ``Fill``,
``PositionView``) keyed by id, kept current by the session's signals."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from engine.paper.ledger import PositionView
from engine.paper.orders import Side
from widgets.trading.fmt import (
    ORDER_TYPE_LABELS,
    ROLE_LABELS,
    fmt_money,
    fmt_price,
    fmt_time,
    order_prices,
    pnl_color,
    side_color,
)
from widgets.trading.session import TradingSession


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Any], str]
    numeric: bool = False
    color: Callable[[Any], QColor | None] | None = None
    tip: Callable[[Any], str | None] | None = None


class RowModel(QAbstractTableModel):
    """A table of immutable engine rows, keyed by ``key(row)``, newest first when ``newest_first``."""

    def __init__(self, columns: Sequence[Column], key: Callable[[Any], str], newest_first: bool = False) -> None:
        super().__init__()
        self.columns = list(columns)
        self.key = key
        self.newest_first = newest_first
        self.rows: list[Any] = []
        self._index: dict[str, int] = {}

    def set_rows(self, rows: Iterable[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        if self.newest_first:
            self.rows.reverse()
        self._reindex()
        self.endResetModel()

    def _reindex(self) -> None:
        self._index = {self.key(r): i for i, r in enumerate(self.rows)}

    def upsert(self, row: Any) -> None:
        k = self.key(row)
        i = self._index.get(k)
        if i is not None:
            self.rows[i] = row
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.columns) - 1))
            return
        pos = 0 if self.newest_first else len(self.rows)
        self.beginInsertRows(QModelIndex(), pos, pos)
        self.rows.insert(pos, row)
        self._reindex()
        self.endInsertRows()

    def remove(self, key: str) -> None:
        i = self._index.get(key)
        if i is None:
            return
        self.beginRemoveRows(QModelIndex(), i, i)
        del self.rows[i]
        self._reindex()
        self.endRemoveRows()

    def refresh_all(self) -> None:
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(self.columns) - 1))

    def row_texts(self, i: int) -> list[str]:
        return [c.text(self.rows[i]) for c in self.columns]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].title
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(row)
        if role == Qt.ItemDataRole.ForegroundRole and col.color is not None:
            return col.color(row)
        if role == Qt.ItemDataRole.ToolTipRole and col.tip is not None:
            return col.tip(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and col.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def order_columns(history: bool) -> list[Column]:
    cols = [
        Column("Time", lambda o: fmt_time(o.updated_ms if history else o.created_ms)),
        Column("Symbol", lambda o: o.symbol),
        Column("Side", lambda o: o.side.value.upper(), color=lambda o: side_color(o.side)),
        Column("Qty", lambda o: f"{o.filled_qty:,}/{o.qty:,}" if o.filled_qty else f"{o.qty:,}", True),
        Column("Type", lambda o: ORDER_TYPE_LABELS[o.type]),
        Column("Price", order_prices, True),
        Column("TIF", lambda o: o.tif.value.upper()),
        Column("State", lambda o: o.state.value.replace("_", " ") + (" (triggered)" if o.triggered and o.is_working else ""),
               tip=lambda o: o.reason or None),
        Column("Role", lambda o: ROLE_LABELS.get(o.role, o.role.value)),
    ]
    if history:
        cols.insert(6, Column("Avg fill", lambda o: fmt_price(o.avg_fill_price), True))
        cols.append(Column("Reason", lambda o: o.reason, tip=lambda o: o.reason or None))
    return cols


FILL_COLUMNS = [
    Column("Time", lambda f: fmt_time(f.time_ms)),
    Column("Symbol", lambda f: f.symbol),
    Column("Side", lambda f: f.side.value.upper(), color=lambda f: side_color(f.side)),
    Column("Qty", lambda f: f"{f.qty:,}", True),
    Column("Price", lambda f: fmt_price(f.price), True),
    Column("Value", lambda f: fmt_money(f.price * f.qty), True),
    Column("Fee", lambda f: fmt_money(f.fee), True),
    Column("Order", lambda f: f.order_id),
]


class PositionsModel(RowModel):
    """Open positions with last price and P&L from the session's marks (computed once
    per quote batch by ``PaperSession``; the cells only look them up)."""

    def __init__(self, session: TradingSession) -> None:
        self.session = session
        mark = session.mark

        def last(p: PositionView) -> Decimal | None:
            m = mark(p.symbol)
            return None if m is None else m.last

        def unreal(p: PositionView) -> Decimal | None:
            m = mark(p.symbol)
            return None if m is None else m.unrealized

        def mv(p: PositionView) -> Decimal | None:
            m = mark(p.symbol)
            return None if m is None else m.market_value

        super().__init__([
            Column("Symbol", lambda p: p.symbol),
            Column("Qty", lambda p: f"{p.qty:,}", True, color=lambda p: side_color(Side.BUY if p.qty > 0 else Side.SELL)),
            Column("Avg price", lambda p: fmt_price(p.avg_price), True),
            Column("Last", lambda p: fmt_price(last(p)), True),
            Column("Market value", lambda p: fmt_money(mv(p)), True),
            Column("Unrealized P&L", lambda p: fmt_money(unreal(p), True), True, color=lambda p: pnl_color(unreal(p))),
            Column("Realized P&L", lambda p: fmt_money(p.realized_pnl, True), True, color=lambda p: pnl_color(p.realized_pnl)),
        ], key=lambda p: p.symbol)

    def apply(self, p: PositionView) -> None:
        if p.qty == 0:
            self.remove(p.symbol)
        else:
            self.upsert(p)


def make_table(model: QAbstractTableModel, name: str) -> QTableView:
    """A blotter table over ``model``: whole-row single selection, read-only, compact rows."""
    t = QTableView()
    t.setObjectName(name)
    t.setModel(model)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setAlternatingRowColors(True)
    t.verticalHeader().hide()
    t.verticalHeader().setDefaultSectionSize(22)
    h = t.horizontalHeader()
    # Blotters hold tens of rows, so sizing columns to their contents stays cheap; a text
    # column at the end takes the rest of the width, a number column does not (it would
    # push its values far from their header).
    h.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    h.setMinimumSectionSize(56)
    last = model.columnCount() - 1
    numeric = isinstance(model, RowModel) and model.columns[last].numeric
    h.setStretchLastSection(not numeric)
    return t


__all__ = ["FILL_COLUMNS", "Column", "PositionsModel", "RowModel", "make_table", "order_columns"]
