"""The watchlist dock: named symbol lists with last price, change and volume.

A ``QAbstractTableModel`` over plain rows (napari's base item model pattern); quotes are
computed from cached bars in a worker, never on the GUI thread.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.watchlists import WatchlistError, WatchlistService
from widgets import style
from widgets.chart import BarSource
from widgets.tasks import TaskSubmitter


@dataclass(frozen=True, slots=True)
class QuoteRow:
    symbol: str
    last: float = float("nan")
    change_pct: float = float("nan")
    volume: float = float("nan")
    demo: bool = False
    error: str = ""


def compute_quotes(data: BarSource, symbols: list[str]) -> list[QuoteRow]:
    """Last close, daily change % and volume of each symbol (errors kept per row)."""
    rows = []
    for s in symbols:
        try:
            b = data.get_bars(s, "1d")
        except Exception as exc:  # noqa: BLE001 - one bad symbol must not hide the others
            rows.append(QuoteRow(s, error=str(exc)))
            continue
        if len(b) == 0:
            rows.append(QuoteRow(s, error="no bars"))
            continue
        last = float(b.close[-1])
        prev = float(b.close[-2]) if len(b) > 1 else last
        rows.append(QuoteRow(s, last, (last / prev - 1) * 100 if prev else 0.0, float(b.volume[-1]), b.is_demo))
    return rows


class QuoteTableModel(QAbstractTableModel):
    HEADERS = ("Symbol", "Last", "Chg %", "Volume")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[QuoteRow] = []

    def set_rows(self, rows: list[QuoteRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return r.symbol
            if r.error:
                return "—" if col != 1 else "error"
            if col == 1:
                return f"{r.last:,.2f}"
            if col == 2:
                return f"{r.change_pct:+.2f}%"
            if col == 3:
                return _human(r.volume)
        if role == Qt.ItemDataRole.UserRole:  # sort key
            return (r.symbol, r.last, r.change_pct, r.volume)[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return r.error or ("demo data" if r.demo else None)
        if role == Qt.ItemDataRole.ForegroundRole and col == 2 and not r.error and np.isfinite(r.change_pct):
            return QColor(style.CHART.up if r.change_pct >= 0 else style.CHART.down)
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _human(v: float) -> str:
    if not np.isfinite(v):
        return "—"
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(v) >= div:
            return f"{v / div:.2f}{unit}"
    return f"{v:,.0f}"


class WatchlistWidget(QWidget):
    """Watchlists: choose a list, add/remove symbols, activate one to chart it."""

    symbol_activated = Signal(str)
    quotes_loaded = Signal()

    def __init__(self, watchlists: WatchlistService, data: BarSource, tasks: TaskSubmitter,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("watchlistWidget")
        self.watchlists = watchlists
        self.data = data
        self.tasks = tasks
        self.model = QuoteTableModel()
        self._computing: list[str] | None = None  # symbols whose quotes a worker computes now
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)

        self.list_box = QComboBox()
        self.list_box.setObjectName("watchlistChooser")
        self.list_box.currentTextChanged.connect(self._on_list_changed)
        self.new_btn = QToolButton(text="New…", toolTip="Create a watchlist")
        self.new_btn.clicked.connect(self._on_new_clicked)
        self.add_edit = QLineEdit(placeholderText="Add symbol…")
        self.add_edit.setObjectName("watchlistAdd")
        self.add_edit.returnPressed.connect(self._on_add)
        self.remove_btn = QToolButton(text="Remove", toolTip="Remove the selected symbols (Del)")
        self.remove_btn.clicked.connect(self._on_remove)

        self.table = QTableView()
        self.table.setObjectName("watchlistTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the user's order until a header is clicked
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setAlternatingRowColors(True)
        self.table.activated.connect(self._on_row_activated)
        self.table.clicked.connect(self._on_row_activated)
        QShortcut(QKeySequence.StandardKey.Delete, self.table, activated=self._on_remove)

        top = QHBoxLayout()
        top.addWidget(self.list_box, 1)
        top.addWidget(self.new_btn)
        add = QHBoxLayout()
        add.addWidget(self.add_edit, 1)
        add.addWidget(self.remove_btn)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addLayout(add)
        lay.addWidget(self.table, 1)
        self.reload_lists()

    # ------------------------------------------------------------------ API
    @property
    def current(self) -> str:
        return self.list_box.currentText()

    def reload_lists(self, select: str | None = None) -> None:
        names = self.watchlists.names()
        cur = select or self.current
        self.list_box.blockSignals(True)
        self.list_box.clear()
        self.list_box.addItems(names)
        if cur in names:
            self.list_box.setCurrentText(cur)
        self.list_box.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        """Recompute the quotes of the current list in a worker."""
        name = self.current
        if not name:
            self.model.set_rows([])
            return
        symbols = self.watchlists.symbols(name)
        if symbols == self._computing:
            return  # the same quotes are being computed already (a list change can arrive twice)
        self._computing = symbols
        self.model.set_rows([QuoteRow(s) for s in symbols])
        self.tasks.submit(compute_quotes, self.data, symbols, label=f"Quotes for {name}",
                          on_result=self._on_quotes, on_finished=self._on_quotes_finished)

    def symbols(self) -> list[str]:
        return [r.symbol for r in self.model.rows]

    def state(self) -> dict[str, Any]:
        """The selected list (saved with the layout)."""
        return {"list": self.current}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Select the saved list again if it still exists."""
        name = state.get("list")
        if isinstance(name, str) and name in self.watchlists.names() and name != self.current:
            self.list_box.setCurrentText(name)

    # ------------------------------------------------------------------ slots
    def _on_quotes_finished(self) -> None:
        self._computing = None

    def _on_quotes(self, rows: list[QuoteRow]) -> None:
        if [r.symbol for r in rows] == self.symbols():
            self.model.set_rows(rows)
        self.quotes_loaded.emit()

    def _on_list_changed(self, _name: str) -> None:
        self.refresh()

    def _on_row_activated(self, index: QModelIndex) -> None:
        src = self.proxy.mapToSource(index)
        if src.isValid():
            self.symbol_activated.emit(self.model.rows[src.row()].symbol)

    def _on_new_clicked(self) -> None:
        name, ok = QInputDialog.getText(self, "New watchlist", "Name:")
        if ok and name.strip():
            try:
                self.watchlists.create(name)
            except WatchlistError as exc:
                QMessageBox.warning(self, "Watchlist", str(exc))
                return
            self.reload_lists(select=name.strip())

    def _on_add(self) -> None:
        text = self.add_edit.text()
        if not text.strip() or not self.current:
            return
        try:
            self.watchlists.add(self.current, [s for s in text.replace(",", " ").split()])
        except WatchlistError as exc:
            QMessageBox.warning(self, "Watchlist", str(exc))
            return
        self.add_edit.clear()
        self.refresh()

    def _on_remove(self) -> None:
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        syms = [self.model.rows[r].symbol for r in rows]
        if syms:
            self.watchlists.remove(self.current, syms)
            self.refresh()
