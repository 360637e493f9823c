"""The one table model and view: numeric sort, keyed rows, column choice, saved state, copy, CSV."""
import csv
import math
from dataclasses import dataclass
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QMenu

from engine import formatting as fmt
from widgets.table import RIGHT, Column, TableModel, TableView


@dataclass(frozen=True)
class Row:
    id: str
    price: float
    qty: int
    note: str = ""


COLUMNS = (
    Column("Id", lambda r: r.id, key="id", hideable=False),
    Column("Price", lambda r: r.price, True, key="price", fmt=fmt.price,
           color=lambda r: QColor("#ff0000") if r.price < 0 else None),
    Column("Qty", lambda r: r.qty, True, key="qty", fmt=fmt.quantity),
    Column("Note", lambda r: r.note, key="note"),
)
ROWS = [Row("a", 9.0, 1500), Row("b", 100.0, 2), Row("c", 10.0, 30), Row("d", math.nan, 4), Row("e", -1.0, 5)]


def _view(qtbot, rows=ROWS, **kw):
    model = TableModel(COLUMNS, key=lambda r: r.id, **kw)
    model.set_rows(rows)
    view = TableView(model, "testTable")
    qtbot.addWidget(view)
    view.resize(600, 300)
    return model, view


def _shown(view, col=0):
    return [view.proxy.index(r, col).data() for r in range(view.proxy.rowCount())]


def test_sorts_on_raw_numbers_with_missing_values_last_both_ways(qtbot):
    model, view = _view(qtbot)
    assert _shown(view) == ["a", "b", "c", "d", "e"]  # the rows' own order until a header is clicked
    view.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert _shown(view, 1) == ["-1.00", "9.00", "10.00", "100.00", "—"]  # as text "10.00" < "9.00"
    view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    assert _shown(view, 1) == ["100.00", "10.00", "9.00", "-1.00", "—"]
    view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    assert _shown(view) == ["a", "c", "e", "d", "b"]
    # a changed row moves to its sorted place
    model.upsert(Row("b", 100.0, 10_000))
    assert _shown(view)[0] == "b"


def test_cells_are_formatted_aligned_and_coloured(qtbot):
    model, view = _view(qtbot)
    assert model.index(0, 2).data() == "1,500"
    assert model.index(0, 1).data(Qt.ItemDataRole.TextAlignmentRole) == RIGHT
    assert model.index(0, 0).data(Qt.ItemDataRole.TextAlignmentRole) is None
    assert model.index(4, 1).data(Qt.ItemDataRole.ForegroundRole) == QColor("#ff0000")
    assert model.index(0, 1).data(Qt.ItemDataRole.ForegroundRole) is None


def test_keyed_rows_newest_first_like_the_trading_blotters(qtbot):
    # the blotters' Column(title, text, numeric, color, tip) signature works unchanged
    cols = [Column("Id", lambda f: f["id"]), Column("Qty", lambda f: f"{f['qty']:,}", True,
                                                    tip=lambda f: "partial" if f["qty"] < 10 else None)]
    model = TableModel(cols, key=lambda f: f["id"], newest_first=True)
    model.set_rows([{"id": "f1", "qty": 5}, {"id": "f2", "qty": 1000}])  # given oldest first
    assert [model.row_texts(i) for i in range(2)] == [["f2", "1,000"], ["f1", "5"]]
    model.upsert({"id": "f3", "qty": 7})
    assert model.index(0, 0).data() == "f3"
    model.upsert({"id": "f1", "qty": 6})  # in place, not a second row
    assert model.rowCount() == 3 and model.index(2, 1).data() == "6"
    assert model.index(2, 1).data(Qt.ItemDataRole.ToolTipRole) == "partial"
    model.remove("f2")
    model.remove("nope")
    assert [model.index(i, 0).data() for i in range(model.rowCount())] == ["f3", "f1"]
    with pytest.raises(TypeError, match="no key function"):
        TableModel(cols).upsert({"id": "x", "qty": 1})


def test_header_menu_hides_and_shows_columns(qtbot):
    model, view = _view(qtbot)
    menu = QMenu()
    view.fill_header_menu(menu)
    titles = [a.text() for a in menu.actions() if a.isCheckable()]
    assert titles == ["Price", "Qty", "Note"]  # the key column cannot be hidden
    qty = next(a for a in menu.actions() if a.text() == "Qty")
    qty.toggle()
    assert view.isColumnHidden(2) and view.is_column_hidden("qty")
    qty.toggle()
    assert not view.isColumnHidden(2)


def test_state_round_trips_hidden_columns_widths_and_sort(qtbot):
    model, view = _view(qtbot)
    view.set_column_hidden("note", True)
    view.setColumnWidth(1, 137)  # as a user's drag does
    view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    state = view.view_state()
    assert state["hidden"] == ["note"] and state["widths"]["price"] == 137 and state["sort"] == ["qty", "desc"]
    _, again = _view(qtbot)
    again.restore_view_state(state)
    assert again.isColumnHidden(3) and again.columnWidth(1) == 137
    assert _shown(again) == _shown(view)
    # auto-sizing keeps the user's width
    again.fit_columns()
    assert again.columnWidth(1) == 137


def test_state_applies_to_columns_that_come_later_and_skips_bad_entries(qtbot):
    model, view = _view(qtbot)
    view.restore_view_state({"hidden": ["extra", 3], "widths": {"extra": 99, "price": "wide", "qty": True},
                             "sort": ["gone", "asc"]})
    view.restore_view_state("not a dict")
    model.set_columns([*COLUMNS[:3], Column("Extra", lambda r: r.qty * 2, True, key="extra"), COLUMNS[3]])
    assert view.isColumnHidden(3) and not view.isColumnHidden(1)
    view.set_column_hidden("extra", False)
    assert view.columnWidth(3) == 99


def test_a_column_hidden_by_default_can_be_shown_and_stays_shown(qtbot):
    cols = [*COLUMNS, Column("Flag", lambda r: r.qty > 3, key="flag", hidden=True)]
    model = TableModel(cols, key=lambda r: r.id)
    view = TableView(model, "t")
    qtbot.addWidget(view)
    assert view.isColumnHidden(4)
    view.set_column_hidden("flag", False)
    state = view.view_state()
    model.set_columns(cols)  # e.g. the scanner's next run
    assert not view.isColumnHidden(4)
    other = TableView(TableModel(cols), "t2")
    qtbot.addWidget(other)
    other.restore_view_state(state)
    assert not other.isColumnHidden(4)


def test_ctrl_c_copies_the_selected_rows_as_shown(qtbot):
    model, view = _view(qtbot)
    view.set_column_hidden("note", True)
    view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    view.selectRow(0)
    view.selectionModel().select(view.proxy.index(2, 0), view.selectionModel().SelectionFlag.Select
                                 | view.selectionModel().SelectionFlag.Rows)
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "Id\tPrice\tQty\nb\t100.00\t2\na\t9.00\t1,500\n"


def test_csv_export_writes_plain_numbers_every_column_and_the_shown_order(qtbot, tmp_path):
    rows = [Row("x", 1234.5, 1_000_000, "a, b"), Row("y", 0.00001, 3), Row("z", math.nan, 7)]
    model, view = _view(qtbot, rows=rows)
    view.set_column_hidden("note", True)  # hidden on screen, still in the file
    view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    out = view.export_csv(tmp_path / "t.csv")
    got = list(csv.reader(out.open(encoding="utf-8")))
    assert got == [["id", "price", "qty", "note"],
                   ["x", "1234.5", "1000000", "a, b"],   # no "1,234.50", no locale
                   ["z", "", "7", ""],                    # NaN is an empty field
                   ["y", "0.00001", "3", ""]]             # not 1e-05


def test_exact_decimals_export_as_stored(qtbot, tmp_path):
    cols = [Column("Id", lambda r: r[0], key="id"), Column("Limit", lambda r: r[1], True, key="limit", fmt=fmt.price)]
    model = TableModel(cols)
    model.set_rows([("o1", Decimal("100.00")), ("o2", Decimal("1E+2"))])
    view = TableView(model, "t")
    qtbot.addWidget(view)
    assert [model.index(i, 1).data() for i in range(2)] == ["100.00", "100.00"]
    assert view.csv_rows()[1:] == [["o1", "100.00"], ["o2", "100"]]


def test_a_filling_table_measures_its_values_once_and_resizes_from_that(qtbot):
    # the watchlist is resized many times while the window lays out at start-up (issue 8):
    # each resize fits the width again, but measuring every cell is done once, after the data
    model = TableModel(COLUMNS, key=lambda r: r.id)
    model.set_rows(ROWS * 20)
    view = TableView(model, "fillTable", fill=True)
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    measured = []
    real = view.sizeHintForColumn
    view.sizeHintForColumn = lambda i: measured.append(i) or real(i)
    view.fit_columns(fit_width=True)  # after the first data (the watchlist does this once)
    once = len(measured)
    assert once == len(COLUMNS)
    wide = [view.columnWidth(i) for i in range(3)]  # the last column stretches with the view
    for width in (500, 420, 380, 600, 400):
        view.resize(width, 300)
        QGuiApplication.processEvents()
        assert sum(view.columnWidth(i) for i in range(4)) <= view.viewport().width()  # still fits
    assert len(measured) == once  # no cell measured again
    view.resize(900, 300)
    QGuiApplication.processEvents()
    assert [view.columnWidth(i) for i in range(3)] == wide  # wide enough again: the measured widths
    view.set_column_hidden("note", True)
    view.set_column_hidden("note", False)
    view.resize(380, 300)
    QGuiApplication.processEvents()
    assert len(measured) == once and sum(view.columnWidth(i) for i in range(4)) <= view.viewport().width()
