"""One table for every list of rows in the app (vn.py's ``BaseMonitor`` idea over a
``QAbstractTableModel``, napari's item-model pattern).

Columns are declared once as ``Column`` values — header, raw value, formatter, alignment,
colour, tooltip, sort key, extra roles — and ``TableModel`` shows any sequence of immutable
rows with them: ``set_rows`` replaces them; with a ``key`` function ``upsert`` and ``remove``
change one row in place (``newest_first`` puts new rows on top). ``TableView`` adds what
every table needs:

* **sorting** by clicking a header, on the raw values (numbers as numbers, never as their
  text); a missing value (None, NaN) sorts last in both directions; ``sortable=False`` or a
  never-clicked header keeps the rows' own order;
* **column choice**: the header's context menu hides and shows columns (``extend_header_menu``
  adds entries, such as the scanner's "Add formula column…");
* **state** ``view_state()`` / ``restore_view_state(dict)`` — hidden columns, widths and the sort, by
  column key, so it survives columns that come and go (the scanner's formula columns) and is
  saved with the dock layout;
* **copy** (Ctrl+C): the selected rows' visible columns as shown, tab-separated, a header
  line first — what a spreadsheet paste expects;
* **CSV export** ``export_csv(path)``: a header of column keys, then every exportable column
  (hidden ones too: a file is for analysis, not for the screen width) in the order shown and
  the rows in the order shown; numbers as plain numbers with full precision
  (``engine.formatting.plain``: ``0.00001``, not ``1e-05``; no thousands separators, no
  locale), missing values as empty fields, true/false as ``true``/``false``.

**Editing in place** is opt-in per column: a ``Column`` with ``edit`` (the text an editor
starts from, None where that row's cell is not editable) and optionally ``choices`` (a
combo box instead of a line edit) is editable once the view calls ``enable_editing()``
(double-click or F2). Rows stay immutable: an edit does not change the model, it emits
``TableModel.cell_edited(row, column_key, text)``; the owner sends the change and the row
is upserted when it is done — a refused change leaves the cell as it was.

Every table of the app uses it: the scanner results, the watchlist and the trading blotters
(working orders, order history, fills, positions); ``set_rows`` / ``upsert`` / ``remove`` /
``refresh_all`` / ``row_texts`` keep rows by key.
"""
from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QFont, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QMenu,
    QStyledItemDelegate,
    QTableView,
    QWidget,
)

from engine.formatting import MISSING, plain

#: raw sort value of a cell (what the proxy sorts on; tests read it too)
SORT_ROLE = int(Qt.ItemDataRole.UserRole)
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
HEADER_CHARS = 28  # longer headers (formula columns) are elided; the tooltip has the whole text


@dataclass(frozen=True)
class Column:
    """One column. ``value(row)`` is the raw value (sorted, exported); ``fmt(value)`` the
    text shown (default: the value itself, ``—`` when missing); ``numeric`` right-aligns;
    ``color(row)`` the text colour; ``tip(row)`` a tooltip; ``sort(row)`` overrides the sort
    value; ``roles`` answers extra item roles (``{SPARKLINE_ROLE: lambda r: r.sparkline}``).
    ``key`` (default: the title) names the column in saved state and in the CSV header;
    ``override(row)`` may return a text shown instead of the value (a failed row's "error")."""

    title: str
    value: Callable[[Any], Any]
    numeric: bool = False
    color: Callable[[Any], QColor | str | None] | None = None
    tip: Callable[[Any], str | None] | None = None
    fmt: Callable[[Any], str] | None = None
    key: str = ""
    sort: Callable[[Any], Any] | None = None
    roles: Mapping[int, Callable[[Any], Any]] = field(default_factory=dict)
    hidden: bool = False  # hidden until the user shows it
    hideable: bool = True
    export: bool = True
    override: Callable[[Any], str | None] | None = None  # text shown instead, when it returns one
    edit: Callable[[Any], str | None] | None = None  # editor's start text; None: not editable there
    choices: Callable[[Any], Sequence[str]] | None = None  # a combo box of these instead of a line edit

    @property
    def id(self) -> str:
        return self.key or self.title

    def text(self, row: Any) -> str:
        if self.override is not None:
            t = self.override(row)
            if t is not None:
                return t
        v = self.value(row)
        if self.fmt is not None:
            return self.fmt(v)
        return MISSING if _missing(v) else str(v)

    def sort_value(self, row: Any) -> Any:
        return (self.sort or self.value)(row)

    def edit_text(self, row: Any) -> str | None:
        """The text an editor of this cell starts from (None: the cell is not editable)."""
        return self.edit(row) if self.edit is not None else None


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _less(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() < b.casefold()
    try:
        return bool(a < b)
    except TypeError:  # mixed types in one column: compare their text
        return str(a) < str(b)


class TableModel(QAbstractTableModel):
    """Rows shown through ``columns`` (see the module docstring).

    ``key(row)`` identifies a row for ``upsert``/``remove``; ``newest_first`` puts inserted
    rows on top (and ``set_rows``, given oldest first, shows them reversed).
    ``row_background(row)``, ``row_font(row, column)`` and ``row_tip(row)`` style whole rows
    (the scanner tints rows that are new since the previous run).
    """

    columns_changed = Signal()
    cell_edited = Signal(object, str, str)  # row, column key, the text entered

    # Class-level empties for what Qt's virtual calls read: when Python collects a model, its
    # instance dict is cleared before the C++ object is destroyed, and a view still attached
    # asks rowCount()/data() in that window (AttributeError: 'PositionsModel' object has no
    # attribute 'rows' in a CI run). The model then reads as empty instead of raising.
    rows: list[Any] = []  # noqa: RUF012 - never mutated: __init__ binds each instance's own list
    columns: list[Column] = []  # noqa: RUF012 - likewise

    def __init__(self, columns: Sequence[Column], key: Callable[[Any], Any] | None = None,
                 newest_first: bool = False, *,
                 row_background: Callable[[Any], QColor | None] | None = None,
                 row_font: Callable[[Any, Column], QFont | None] | None = None,
                 row_tip: Callable[[Any], str | None] | None = None) -> None:
        super().__init__()
        self.columns: list[Column] = list(columns)
        self.key = key
        self.newest_first = newest_first
        self.row_background = row_background
        self.row_font = row_font
        self.row_tip = row_tip
        self.rows: list[Any] = []
        self._index: dict[Any, int] = {}

    # ---------------------------------------------------------------- columns
    def set_columns(self, columns: Sequence[Column]) -> None:
        """Replace the columns (rows stay); views re-apply their hidden columns and widths."""
        self.beginResetModel()
        self.columns = list(columns)
        self.endResetModel()
        self.columns_changed.emit()

    def headers(self) -> list[str]:
        return [c.title for c in self.columns]

    def column_keys(self) -> list[str]:
        return [c.id for c in self.columns]

    def column_of(self, key: str) -> int:
        """The index of the column with ``key`` (or title); raises ``KeyError``."""
        for i, c in enumerate(self.columns):
            if key in (c.id, c.title):
                return i
        raise KeyError(f"no column {key!r}")

    # ---------------------------------------------------------------- rows
    def set_rows(self, rows: Iterable[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        if self.newest_first:
            self.rows.reverse()
        self._reindex()
        self.endResetModel()

    def _reindex(self) -> None:
        self._index = {self.key(r): i for i, r in enumerate(self.rows)} if self.key is not None else {}

    def _need_key(self) -> Callable[[Any], Any]:
        if self.key is None:
            raise TypeError("this table has no key function: use set_rows")
        return self.key

    def upsert(self, row: Any) -> None:
        """Replace the row with ``row``'s key in place, or insert it (on top when newest first)."""
        k = self._need_key()(row)
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

    def remove(self, key: Any) -> None:
        """Drop the row with ``key`` (nothing happens when there is none)."""
        self._need_key()
        i = self._index.get(key)
        if i is None:
            return
        self.beginRemoveRows(QModelIndex(), i, i)
        del self.rows[i]
        self._reindex()
        self.endRemoveRows()

    def row_for(self, key: Any) -> Any | None:
        i = self._index.get(key)
        return None if i is None else self.rows[i]

    def refresh_all(self) -> None:
        """Redraw every cell (values computed from outside state changed, e.g. last prices)."""
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(self.columns) - 1))

    def row_texts(self, i: int) -> list[str]:
        return [c.text(self.rows[i]) for c in self.columns]

    def sort_value(self, row: int, column: int) -> Any:
        return self.columns[column].sort_value(self.rows[row])

    # ---------------------------------------------------------------- Qt model
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        title = self.columns[section].title
        if role == Qt.ItemDataRole.DisplayRole:
            return title if len(title) <= HEADER_CHARS else title[: HEADER_CHARS - 1] + "…"
        if role == Qt.ItemDataRole.ToolTipRole and len(title) > HEADER_CHARS:
            return title
        if role == Qt.ItemDataRole.TextAlignmentRole and self.columns[section].numeric:
            return RIGHT
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(row)
        if role == SORT_ROLE:
            return col.sort_value(row)
        if role == Qt.ItemDataRole.ForegroundRole and col.color is not None:
            c = col.color(row)
            return QColor(c) if isinstance(c, str) else c
        if role == Qt.ItemDataRole.BackgroundRole and self.row_background is not None:
            return self.row_background(row)
        if role == Qt.ItemDataRole.FontRole and self.row_font is not None:
            return self.row_font(row, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = col.tip(row) if col.tip is not None else None
            return tip or (self.row_tip(row) if self.row_tip is not None else None)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if col.numeric else None
        if role == Qt.ItemDataRole.EditRole:
            return col.edit_text(row)
        fn = col.roles.get(role)
        return fn(row) if fn is not None else None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        f = super().flags(index)
        if index.isValid() and self.columns[index.column()].edit_text(self.rows[index.row()]) is not None:
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        """An edit: ``cell_edited`` is emitted when the text changed; the row stays as it is."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        row, col = self.rows[index.row()], self.columns[index.column()]
        old = col.edit_text(row)
        text = str(value).strip()
        if old is None or text == old.strip():
            return False
        self.cell_edited.emit(row, col.id, text)
        return True


class CellEditDelegate(QStyledItemDelegate):
    """The editor of an editable ``Column``: a line edit from ``Column.edit``, or a combo box
    of ``Column.choices``; the text goes to ``TableModel.setData`` (``cell_edited``)."""

    def __init__(self, view: TableView) -> None:
        super().__init__(view)
        self.view = view

    def _column(self, index: QModelIndex | QPersistentModelIndex) -> tuple[Column, Any] | None:
        src = self.view.proxy.mapToSource(index) if index.model() is self.view.proxy else index
        if not src.isValid():
            return None
        m = self.view.source
        return m.columns[src.column()], m.rows[src.row()]

    def createEditor(self, parent: QWidget, option: Any, index: QModelIndex | QPersistentModelIndex) -> QWidget:  # noqa: N802
        cr = self._column(index)
        if cr is not None and cr[0].choices is not None:
            box = QComboBox(parent)
            box.setObjectName("cellEditorChoice")
            box.addItems(list(cr[0].choices(cr[1])))
            box.activated.connect(lambda _i, b=box: self._on_choice_activated(b))  # a pick is the edit
            return box
        edit = QLineEdit(parent)
        edit.setObjectName("cellEditor")
        if cr is not None and cr[0].numeric:
            edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return edit

    def _on_choice_activated(self, box: QComboBox) -> None:
        # a combo does not commit on Enter: picking is the edit. Handing the focus back to the
        # view commits and closes it the way Qt does for any editor that loses focus.
        if box.hasFocus():
            self.view.setFocus()
        else:
            self.commitData.emit(box)
            self.closeEditor.emit(box, QStyledItemDelegate.EndEditHint.NoHint)

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:  # noqa: N802
        text = index.data(Qt.ItemDataRole.EditRole)
        text = "" if text is None else str(text)
        if isinstance(editor, QComboBox):
            i = editor.findText(text, Qt.MatchFlag.MatchFixedString)
            editor.setCurrentIndex(max(0, i))
        elif isinstance(editor, QLineEdit):
            editor.setText(text)
            editor.selectAll()

    def setModelData(self, editor: QWidget, model: Any, index: QModelIndex | QPersistentModelIndex) -> None:  # noqa: N802
        text = editor.currentText() if isinstance(editor, QComboBox) else \
            editor.text() if isinstance(editor, QLineEdit) else ""
        model.setData(index, text, Qt.ItemDataRole.EditRole)


class TableProxy(QSortFilterProxyModel):
    """Sorts on the columns' raw sort values; missing values (None, NaN) last in both orders.
    ``set_text_filter("aapl sell")`` shows only the rows where every word appears in some
    cell's text (any case); "" shows every row."""

    _words: tuple[str, ...] = ()

    def set_text_filter(self, text: str) -> None:
        words = tuple(text.lower().split())
        if words == self._words:
            return
        if hasattr(self, "beginFilterChange"):  # Qt ≥ 6.9; invalidateFilter() is deprecated there
            self.beginFilterChange()
            self._words = words
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._words = words
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        if not self._words:
            return True
        m = self.sourceModel()
        if not isinstance(m, TableModel):
            return True
        hay = " ".join(m.row_texts(source_row)).lower()
        return all(w in hay for w in self._words)

    def lessThan(self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        m = self.sourceModel()
        if not isinstance(m, TableModel):
            return super().lessThan(left, right)
        a = m.sort_value(left.row(), left.column())
        b = m.sort_value(right.row(), right.column())
        ma, mb = _missing(a), _missing(b)
        if ma or mb:
            if ma and mb:
                return False
            # Qt shows "a before b" for lessThan(a, b) ascending and lessThan(b, a) descending
            descending = self.sortOrder() == Qt.SortOrder.DescendingOrder
            return ma == descending
        return _less(a, b)


class TableView(QTableView):
    """A ``QTableView`` over a ``TableModel`` through a ``TableProxy`` (see the module docstring).

    ``selection``: extended (the default) or single; ``sortable=False`` keeps the rows' order.
    ``extend_header_menu(menu)`` may add actions below the column choices. ``fill``: a narrow
    table (the watchlist) fits its columns to its width until the user sizes one.
    """

    columns_toggled = Signal()

    def __init__(self, model: TableModel, name: str, parent: QWidget | None = None, *, sortable: bool = True,
                 selection: QAbstractItemView.SelectionMode = QAbstractItemView.SelectionMode.ExtendedSelection,
                 row_height: int = 24, fill: bool = False) -> None:
        super().__init__(parent)
        self.fill = fill  # fit the columns to the view's width on every resize until the user sets one
        # what the last fit_columns measured (by column id: natural width, width of the values),
        # so a resize fits the width without measuring every cell again (issue 8)
        self._measured: dict[str, tuple[int, int]] = {}
        self.setObjectName(name)
        self.source = model
        self.proxy = TableProxy(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(SORT_ROLE)
        self.setModel(self.proxy)
        self.extend_header_menu: Callable[[QMenu], None] | None = None
        self._hidden: set[str] = {c.id for c in model.columns if c.hidden}
        self._shown: set[str] = set()  # hidden by default, shown by the user
        self._pinned: dict[str, int] = {}  # widths the user chose (or a restored state had)
        self._sizing = False
        self._pending_sort: tuple[str, str] | None = None
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(selection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(row_height)
        h = self.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        h.setStretchLastSection(True)
        h.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        h.customContextMenuRequested.connect(self._on_header_menu)
        h.sectionResized.connect(self._on_section_resized)
        if sortable:
            self.setSortingEnabled(True)
            self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the rows' own order until a click
        model.modelAboutToBeReset.connect(self._on_model_about_to_reset)
        model.columns_changed.connect(self.apply_column_state)
        model.modelReset.connect(self.apply_column_state)
        self.apply_column_state()

    # ---------------------------------------------------------------- editing
    def enable_editing(self) -> CellEditDelegate:
        """Let the editable columns (``Column.edit``) be edited in place: double-click or F2
        opens the editor; an edit reaches the owner as ``TableModel.cell_edited``."""
        d = CellEditDelegate(self)
        self.setItemDelegate(d)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        return d

    def is_editable(self, index: QModelIndex | QPersistentModelIndex) -> bool:
        """The cell at view ``index`` can be edited in place."""
        return self.editTriggers() != QAbstractItemView.EditTrigger.NoEditTriggers and \
            bool(index.flags() & Qt.ItemFlag.ItemIsEditable)

    # ---------------------------------------------------------------- rows
    def row_at(self, view_row: int) -> Any:
        return self.source.rows[self.proxy.mapToSource(self.proxy.index(view_row, 0)).row()]

    def visible_rows(self) -> list[Any]:
        """The rows in the order shown."""
        return [self.row_at(r) for r in range(self.proxy.rowCount())]

    def selected_rows(self) -> list[Any]:
        """The selected rows, in the order shown."""
        sm = self.selectionModel()
        # any selected cell selects its row: ``selectedRows()`` needs *every* column selected,
        # which a row selection made while some columns are hidden (or moved) does not give
        view_rows = sorted({i.row() for i in sm.selectedIndexes()}) if sm is not None else []
        return [self.row_at(r) for r in view_rows]

    def source_row(self, index: QModelIndex | QPersistentModelIndex) -> Any | None:
        """The row behind a view index (None when invalid)."""
        src = self.proxy.mapToSource(index) if index.model() is self.proxy else index
        return self.source.rows[src.row()] if src.isValid() else None

    # ---------------------------------------------------------------- columns
    def _visual_columns(self) -> list[int]:
        h = self.horizontalHeader()
        return [h.logicalIndex(v) for v in range(h.count())]

    def visible_columns(self) -> list[int]:
        return [c for c in self._visual_columns() if not self.isColumnHidden(c)]

    def set_column_hidden(self, key: str, hidden: bool) -> None:
        """Hide or show the column ``key`` (or title); raises ``KeyError`` for an unknown one."""
        c = self.source.column_of(key)
        col = self.source.columns[c]
        if hidden and not col.hideable:
            return
        (self._hidden.add if hidden else self._hidden.discard)(col.id)
        (self._shown.discard if hidden else self._shown.add)(col.id)
        self._sizing = True  # showing a section resizes it: that is not the user's width
        try:
            self.setColumnHidden(c, hidden)
            w = self._pinned.get(col.id)
            if not hidden and w is not None:  # a hidden section forgets its width
                self.setColumnWidth(c, w)
        finally:
            self._sizing = False
        self.columns_toggled.emit()

    def is_column_hidden(self, key: str) -> bool:
        return self.isColumnHidden(self.source.column_of(key))

    def apply_column_state(self) -> None:
        """Hide the columns hidden by key, put back pinned widths (after a column change)."""
        self._sizing = True
        try:
            for i, c in enumerate(self.source.columns):
                hidden = c.id in self._hidden or (c.hidden and c.id not in self._shown)
                self.setColumnHidden(i, hidden)
                w = self._pinned.get(c.id)
                if w is not None and not hidden:
                    self.setColumnWidth(i, w)
        finally:
            self._sizing = False
        self._apply_pending_sort()

    def fit_columns(self, minimum: Mapping[str, int] | None = None, maximum: Mapping[str, int] | None = None,
                    default_maximum: int | None = None, grow_only: bool = False, fit_width: bool = False) -> None:
        """Size columns to their contents (and headers) within ``minimum``/``maximum`` by key;
        widths the user chose stay. ``grow_only`` only widens, so a value is never cut off;
        ``fit_width`` shrinks the others evenly so the whole table fits the view (a narrow dock)."""
        minimum, maximum = minimum or {}, maximum or {}
        self._sizing = True
        try:
            self._fit(minimum, maximum, default_maximum, grow_only)
            if fit_width:
                self._fit_width()
        finally:
            self._sizing = False

    def _fit_width(self) -> None:
        """Shrink the unpinned columns evenly so the visible ones fit the viewport."""
        vis = self.visible_columns()
        free = [i for i in vis if self.source.columns[i].id not in self._pinned]
        excess = sum(self.columnWidth(i) for i in vis) - self.viewport().width()
        if excess > 0 and free:
            # take the room from the headers' padding first: a value is cut off last
            values = {i: self._measured.get(self.source.columns[i].id, (0, 0))[1] for i in free}
            floor = {i: min(self.columnWidth(i), max(24, values[i])) for i in free}
            slack = {i: self.columnWidth(i) - floor[i] for i in free}
            total = sum(slack.values())
            if total < excess:  # not enough padding: shrink all evenly down to 24 px
                floor = {i: 24 for i in free}
                slack = {i: max(0, self.columnWidth(i) - 24) for i in free}
                total = sum(slack.values())
            for i in free:
                cut = math.ceil(excess * slack[i] / total) if total else 0
                self.setColumnWidth(i, max(floor[i], self.columnWidth(i) - cut))

    def _refit_width(self) -> bool:
        """Fit the width again from the last measurement (no cell is measured): False when
        the visible columns are not the ones measured (then ``fit_columns`` must measure)."""
        vis = self.visible_columns()
        ids = [self.source.columns[i].id for i in vis]
        if not ids or any(k not in self._measured for k in ids):
            return False
        self._sizing = True
        try:
            for i, k in zip(vis, ids):
                if k not in self._pinned:
                    self.setColumnWidth(i, self._measured[k][0])
            self._fit_width()
        finally:
            self._sizing = False
        return True

    def _fit(self, minimum: Mapping[str, int], maximum: Mapping[str, int], default_maximum: int | None,
             grow_only: bool) -> None:
        h = self.horizontalHeader()
        for i, c in enumerate(self.source.columns):
            if self.isColumnHidden(i):
                continue
            values = self.sizeHintForColumn(i)
            want = max(values, h.sectionSizeHint(i), minimum.get(c.id, 0))
            cap = maximum.get(c.id, default_maximum)
            if cap is not None:
                want = min(want, max(cap, minimum.get(c.id, 0)))
            if c.id in self._pinned:
                want = max(self._pinned[c.id], want) if grow_only else self._pinned[c.id]
            elif grow_only:
                want = max(self.columnWidth(i), want)
            self._measured[c.id] = (want, values)
            self.setColumnWidth(i, want)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.fill and not self._pinned and self.source.rows:
            # the values were measured once after the data came (fit_columns); a resize (many
            # while the window lays out at start-up) only fits that to the new width
            if not self._refit_width():
                self.fit_columns(fit_width=True)

    def _on_model_about_to_reset(self) -> None:
        self._sizing = True  # the reset gives sections default sizes; apply_column_state ends it

    def _on_section_resized(self, logical: int, old: int, new: int) -> None:
        if self._sizing or not 0 <= logical < len(self.source.columns) or new <= 0 or old <= 0:
            return  # old 0: a section being shown or created, not a user's drag
        h = self.horizontalHeader()
        vis = self.visible_columns()
        if h.stretchLastSection() and vis and logical == vis[-1]:
            return  # the stretched last column follows the window, not the user
        self._pinned[self.source.columns[logical].id] = new

    def _on_header_menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        self.fill_header_menu(menu)
        menu.exec(self.horizontalHeader().mapToGlobal(pos))

    def fill_header_menu(self, menu: QMenu) -> None:
        """The column choices (checkable; a column that cannot be hidden is left out), then
        ``extend_header_menu``'s entries."""
        menu.clear()
        for i, c in enumerate(self.source.columns):
            if not c.hideable:
                continue
            title = c.title if len(c.title) <= 40 else c.title[:39] + "…"
            a = QAction(title, menu)
            a.setCheckable(True)
            a.setChecked(not self.isColumnHidden(i))
            a.toggled.connect(lambda on, k=c.id: self.set_column_hidden(k, not on))
            menu.addAction(a)
        menu.addSeparator()
        menu.addAction("Copy selection", self.copy_selection)
        if self.extend_header_menu is not None:
            self.extend_header_menu(menu)

    # ---------------------------------------------------------------- state
    def view_state(self) -> dict[str, Any]:
        """Hidden columns, widths and the sort, by column key (JSON-ready). Not ``state()``:
        that name is ``QAbstractItemView.state()``, the view's editing/dragging state."""
        widths = dict(self._pinned)
        vis = self.visible_columns()
        for i in vis[:-1] if self.horizontalHeader().stretchLastSection() else vis:
            widths[self.source.columns[i].id] = self.columnWidth(i)
        hidden = sorted(self._hidden | {c.id for i, c in enumerate(self.source.columns) if self.isColumnHidden(i)})
        col = self.horizontalHeader().sortIndicatorSection() if self.isSortingEnabled() else -1
        sort = None
        if 0 <= col < len(self.source.columns) and self.proxy.sortColumn() >= 0:
            order = "desc" if self.horizontalHeader().sortIndicatorOrder() == Qt.SortOrder.DescendingOrder else "asc"
            sort = [self.source.columns[col].id, order]
        return {"hidden": hidden, "shown": sorted(self._shown), "widths": widths, "sort": sort}

    def restore_view_state(self, state: Mapping[str, Any]) -> None:
        """Put back a ``view_state()``; entries of the wrong type are skipped, keys of columns that
        are not there yet are kept for when they come."""
        if not isinstance(state, Mapping):
            return
        hidden = state.get("hidden")
        if isinstance(hidden, list):
            self._hidden = {k for k in hidden if isinstance(k, str)}
        shown = state.get("shown")
        if isinstance(shown, list):
            self._shown = {k for k in shown if isinstance(k, str)} - self._hidden
        widths = state.get("widths")
        if isinstance(widths, Mapping):
            self._pinned = {k: int(v) for k, v in widths.items()
                            if isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and 8 <= v <= 4000}
        self.apply_column_state()
        sort = state.get("sort")
        if self.isSortingEnabled() and isinstance(sort, list) and len(sort) == 2 and sort[1] in ("asc", "desc"):
            self._pending_sort = (str(sort[0]), sort[1])
            self._apply_pending_sort()

    def _apply_pending_sort(self) -> None:
        """Sort as a restored state said, once its column is there (a formula column comes with a run)."""
        if self._pending_sort is None:
            return
        key, order = self._pending_sort
        try:
            col = self.source.column_of(key)
        except KeyError:
            return
        self._pending_sort = None
        self.sortByColumn(col, Qt.SortOrder.DescendingOrder if order == "desc" else Qt.SortOrder.AscendingOrder)

    # ---------------------------------------------------------------- copy and export
    def copy_text(self, rows: Sequence[Any] | None = None) -> str:
        """``rows`` (default: the selection) as tab-separated text of the visible columns, as shown."""
        rows = self.selected_rows() if rows is None else rows
        if not rows:
            return ""
        cols = [self.source.columns[i] for i in self.visible_columns()]
        lines = ["\t".join(c.title for c in cols)]
        lines += ["\t".join(c.text(r).replace("\t", " ").replace("\n", " ") for c in cols) for r in rows]
        return "\n".join(lines) + "\n"

    def copy_selection(self) -> str:
        """Put the selection on the clipboard (``copy_text``); returns the text."""
        text = self.copy_text()
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)

    def csv_rows(self) -> list[list[str]]:
        """The CSV export as rows of fields: header of keys, then each row in the order shown."""
        cols = [self.source.columns[i] for i in self._visual_columns() if self.source.columns[i].export]
        out = [[c.id for c in cols]]
        out += [[plain(c.value(r)) for c in cols] for r in self.visible_rows()]
        return out

    def export_csv(self, path: str | Path) -> Path:
        """Write ``csv_rows()`` to ``path`` (UTF-8); raises ``OSError`` if it cannot be written."""
        path = Path(path)
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(self.csv_rows())
        path.write_text(buf.getvalue(), encoding="utf-8")
        return path
