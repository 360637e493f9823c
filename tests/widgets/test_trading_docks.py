"""Paper-trading docks: working orders (modify/cancel), history, fills, positions
(P&L, flatten, reverse), account summary + equity curve, account chooser, chart markers,
the session's quote timer — over a real PaperBroker on a temp store."""
import csv
import json
from decimal import Decimal as D

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QFileDialog

from app.mainwindow import StatefulDock

from engine.paper import OrderRequest, OrderState, OrderType, Side, TimeInForce
from engine.paper.orders import Fill
from tests.widgets.stubs import FakeData, SyncTasks, make_bars
from tests.widgets.trading_stubs import Trading
from widgets import style
from widgets.chart import ChartWidget, PriceAxis
from widgets.trading import (
    AccountWidget,
    ChartTradeMarkers,
    FillsWidget,
    ModifyOrderDialog,
    NewAccountDialog,
    OrderHistoryWidget,
    PositionsWidget,
    WorkingOrdersWidget,
    fill_markers,
)


@pytest.fixture
def tr(tmp_path, request):
    t = Trading(tmp_path / "paper.sqlite3", cash=getattr(request, "param", 100_000))
    yield t
    t.close()


def _show(qtbot, w):
    qtbot.addWidget(w)
    w.resize(1000, 300)
    w.show()
    return w


def _rows(model):
    return [model.row_texts(i) for i in range(model.rowCount())]


def _limit(side="buy", qty=10, px="95", tif=TimeInForce.GTC, sym="ACME"):
    return OrderRequest(sym, Side(side), qty, OrderType.LIMIT, limit_price=D(px), tif=tif)


def test_working_orders_show_modify_and_cancel(tr, qtbot):
    wo = _show(qtbot, WorkingOrdersWidget(tr.session))
    hist = _show(qtbot, OrderHistoryWidget(tr.session))
    assert wo.empty.isVisible() and not wo.cancel_btn.isEnabled()
    tr.quote("ACME", "99.95", "100.05")
    o = tr.session.submit(_limit())
    [row] = _rows(wo.model)
    assert row[1:9] == ["ACME", "BUY", "10", "Limit", "lmt 95.00", "GTC", "accepted", ""]
    assert not wo.empty.isVisible()

    dlg = ModifyOrderDialog(o, wo)
    qtbot.addWidget(dlg)
    assert dlg.limit.parent() is dlg and dlg.stop.parent() is None  # a limit order has no stop field
    dlg.limit.setText("abc")
    dlg.accept()
    assert "not a number" in dlg.error.text() and dlg.result() != QDialog.DialogCode.Accepted
    dlg.limit.setText("96.5")
    dlg.qty.setValue(20)
    dlg.accept()
    assert dlg.changes == {"qty": 20, "limit_price": D("96.5")}
    tr.session.modify(o.order_id, **dlg.changes)
    assert _rows(wo.model)[0][3:6] == ["20", "Limit", "lmt 96.50"]

    wo.table.selectRow(0)
    wo.cancel_btn.click()
    assert wo.model.rowCount() == 0 and wo.empty.isVisible()
    [h] = _rows(hist.model)
    assert h[1] == "ACME" and h[8] == "cancelled" and h[-1] == "cancelled by user"

    for px in ("90", "91"):
        tr.session.submit(_limit(px=px))
    assert wo.model.rowCount() == 2 and [r[8] for r in _rows(hist.model)][:2] == ["accepted", "accepted"]
    wo.cancel_all_btn.click()
    assert wo.model.rowCount() == 0
    assert [r[8] for r in _rows(hist.model)] == ["cancelled"] * 3


def test_a_failed_command_is_shown_in_the_dock(tr, qtbot):
    pos = _show(qtbot, PositionsWidget(tr.session))
    tr.quote("ACME", "99.95", "100.05")
    tr.session.submit(OrderRequest("ACME", Side.BUY, 10))
    tr.quote("ACME", "99.95", "100.05")
    pos.table.selectRow(0)
    pos.reverse_btn.click()  # a cash account cannot turn a long into a short
    assert pos.error.isVisible() and "cannot sell short" in pos.error.text()
    fills = _show(qtbot, FillsWidget(tr.session))
    tr.session.command_failed.emit("anything")
    assert fills.error.parent() is fills and not fills.error.isVisible()  # no stray window, no message


def test_fills_positions_pnl_flatten(tr, qtbot):
    pos = _show(qtbot, PositionsWidget(tr.session))
    fills = _show(qtbot, FillsWidget(tr.session))
    assert pos.total.text() == "No open positions." and fills.total.text() == "No fills yet."
    tr.quote("ACME", "99.95", "100.05")
    tr.session.submit(OrderRequest("ACME", Side.BUY, 100))
    tr.quote("ACME", "99.95", "100.05")
    [f] = _rows(fills.model)
    assert f[1:7] == ["ACME", "BUY", "100", "100.05", "$10,005.00", "$0.00"]
    assert fills.total.text() == "1 fill · fees $0.00"

    tr.quote("ACME", "100.95", "101.05")  # last = mid 101.00
    [p] = _rows(pos.model)
    # realized today, then the hidden realized (all time) and fees
    assert p[:9] == ["ACME", "100", "100.05", "101.00", "$10,100.00", "+$95.00", "$0.00", "$0.00", "$0.00"]
    # then the options columns: underlying, Greeks (a share: delta 1) and the position delta
    assert p[9:] == ["ACME", "", "+1.000", "+0.0000", "+0.000", "+0.000", "+100.0"]
    assert "unrealized" in pos.total.text() and "+$95.00" in pos.total.text()

    pos.table.selectRow(0)
    pos.flatten_btn.click()
    tr.quote("ACME", "100.95", "101.05")  # the closing market order sells at the bid
    # the closed symbol stays for the day with its realized P&L (as TWS shows it)
    [p] = _rows(pos.model)
    assert p[:2] == ["ACME", "0"] and p[6] == "+$90.00"
    assert pos.total.text().startswith("No open positions. · 1 closed today · realized today")
    assert "+$90.00" in pos.total.text()
    assert not pos.flatten_btn.isEnabled()
    assert [r[2] for r in _rows(fills.model)] == ["SELL", "BUY"]  # newest first
    assert tr.session.summary.realized_pnl == D("90.00")  # (100.95 - 100.05) × 100


def test_reverse_in_a_margin_account(tmp_path, qtbot):
    t = Trading(tmp_path / "m.sqlite3", kind="margin")
    try:
        pos = _show(qtbot, PositionsWidget(t.session))
        t.quote("ACME", "49.99", "50.01")
        t.session.submit(OrderRequest("ACME", Side.BUY, 100))
        t.quote("ACME", "49.99", "50.01")
        pos.reverse_btn.click()
        t.quote("ACME", "49.99", "50.01")
        [p] = _rows(pos.model)
        assert p[:2] == ["ACME", "-100"]
    finally:
        t.close()


def test_events_of_another_account_stay_out(tr, qtbot):
    wo = _show(qtbot, WorkingOrdersWidget(tr.session))
    tr.broker.create_account("Other", 50_000)
    tr.quote("ACME", "99.95", "100.05")
    tr.broker.submit("Other", _limit())
    assert wo.model.rowCount() == 0
    tr.session.set_account("Other")  # switching accounts reloads the blotters
    assert wo.model.rowCount() == 1


def test_account_summary_equity_curve_and_new_account(tr, qtbot):
    acc = _show(qtbot, AccountWidget(tr.session))
    assert acc.values["equity"].text() == "$100,000.00"
    assert acc.kind.text() == "cash account · started with $100,000.00"
    assert "demo quotes" in acc.quote_note.text()
    tr.quote("ACME", "99.95", "100.05")
    tr.session.submit(OrderRequest("ACME", Side.BUY, 100))
    tr.quote("ACME", "99.95", "100.05")
    tr.session.submit(OrderRequest("ACME", Side.SELL, 100))
    tr.quote("ACME", "101.95", "102.05")
    assert acc.values["realized_pnl"].text() == "+$190.00"  # sold at the bid 101.95
    assert acc.values["total_pnl"].text() == "+$190.00"
    assert acc.values["equity"].text() == "$100,190.00"
    assert acc.values["return"].text() == "+0.19%"
    assert style.CHART.up in acc.values["realized_pnl"].styleSheet()  # coloured as a gain
    ys = [float(e) for _t, e in acc.points]
    assert ys[0] == 100_000 and ys[-1] == 100_190  # one point per fill batch
    n = len(acc.points)
    tr.session.snapshot_equity()  # flat: no point
    assert len(acc.points) == n
    tr.session.submit(OrderRequest("ACME", Side.BUY, 10))
    tr.quote("ACME", "101.95", "102.05")
    tr.quote("ACME", "104.95", "105.05")
    tr.session.snapshot_equity()  # open position: a point with its unrealized P&L
    assert float(acc.points[-1][1]) == 100_190 + 10 * (105.00 - 102.05)
    assert float(tr.broker.equity_curve("Paper")[-1][1]) == float(acc.points[-1][1])
    tr.session.submit(OrderRequest("ACME", Side.SELL, 10))
    tr.quote("ACME", "104.95", "105.05")

    dlg = NewAccountDialog(tr.session, acc)
    qtbot.addWidget(dlg)
    dlg.name.setText("Paper")
    dlg.accept()
    assert "exists already" in dlg.error.text()
    dlg.name.setText("Swing")
    dlg.cash.setText("lots")
    dlg.accept()
    assert "Starting cash" in dlg.error.text()
    dlg.cash.setText("25,000")
    dlg.kind.setCurrentIndex(1)  # margin
    dlg.accept()
    assert dlg.result() == QDialog.DialogCode.Accepted
    assert tr.session.account == "Swing"
    assert acc.chooser.box.currentText() == "Swing"
    assert [acc.chooser.box.itemText(i) for i in range(acc.chooser.box.count())] == ["Paper", "Swing"]
    assert acc.values["equity"].text() == "$25,000.00"
    assert acc.kind.text().startswith("margin account")
    acc.chooser.box.setCurrentText("Paper")
    assert tr.session.account == "Paper" and acc.values["equity"].text() == "$100,219.00"


def test_fill_markers_land_on_the_bar_of_the_fill():
    bars = make_bars("ACME", n=50)
    t = [int(x) for x in bars.time]

    def fill(sym, sec, side="buy", price="100"):
        return Fill("f", "o", "Paper", sym, Side(side), 1, D(price), D(0), sec * 1000)

    fills = [fill("ACME", t[10] + 5), fill("ACME", t[-1] + 86400 * 3, "sell", "101.5"),
             fill("OTHER", t[12]), fill("ACME", t[0] - 86400)]
    assert fill_markers(fills, bars) == [(10, 100.0, "buy"), (49, 101.5, "sell")]
    assert fill_markers(fills, None) == []


def test_chart_shows_markers_of_the_accounts_fills(tr, qtbot):
    chart = ChartWidget(FakeData(), SyncTasks())
    qtbot.addWidget(chart)
    markers = ChartTradeMarkers(tr.session)
    markers.attach(chart)
    chart.open_symbol("ACME")
    assert len(chart.markers.data) == 0
    tr.quote("ACME", "99.95", "100.05")
    tr.session.submit(OrderRequest("ACME", Side.BUY, 5))
    tr.quote("ACME", "99.95", "100.05")
    assert len(chart.markers.data) == 1
    x, y = chart.markers.data[0]["x"], chart.markers.data[0]["y"]
    assert (x, y) == (len(chart.bars) - 1, 100.05)  # live fill after the history: last bar
    chart.open_symbol("GLOBX")
    assert len(chart.markers.data) == 0


def test_quote_rounds_quote_watched_symbols_once_at_a_time(tr):
    s = tr.session
    assert not s.poll_now()  # nothing to quote yet
    s.watch("t", ["ACME"])
    tr.quotes.set("ACME", "9.99", "10.01")
    s.feed.busy = True  # a round in flight: the next tick is skipped
    assert not s.poll_now()
    s.feed.busy = False
    assert s.poll_now() and not s.busy
    assert tr.quotes.asked == ["ACME"] and tr.tasks.labels == ["Paper quotes"]  # through the worker
    assert s.quote("ACME").ask == D("10.01")
    o = s.submit(_limit(px="10.02", tif=TimeInForce.DAY, sym="ACME"))
    s.watch("t", [])
    assert s.poll_now()  # the working order keeps ACME quoted
    assert tr.broker.order(o.order_id).state is OrderState.FILLED


def test_closed_session_stops_quoting(tr):
    tr.session.watch("t", ["ACME"])
    tr.quotes.set("ACME", "9.99", "10.01")
    tr.session.start()
    assert tr.session.timer.isActive()
    tr.session.close()
    assert tr.session.closed and not tr.session.timer.isActive()
    assert not tr.session.poll_now()
    tr.session._on_fetched([tr.quotes.quote("ACME", 0)])  # a round that was in flight is dropped
    assert tr.session.quote("ACME") is None


def test_modify_dialog_shows_prices_as_typed_not_in_exponent_form(tr, qtbot):
    """A 100.00 limit showed as "1E+2" (Decimal.normalize) in the Modify dialog."""
    tr.quote("ACME", "99.95", "100.05")
    o = tr.session.submit(_limit(px="100.00", qty=5))
    dlg = ModifyOrderDialog(o, None)
    qtbot.addWidget(dlg)
    assert dlg.limit.text() == "100.00"
    dlg.accept()
    assert dlg.changes == {}  # unchanged text changes nothing
    for order, field, text in (
        (tr.session.submit(_limit(px="96.505")), "limit", "96.505"),
        (tr.session.submit(OrderRequest("ACME", Side.BUY, 1, OrderType.STOP, stop_price=D("200"))), "stop", "200.00"),
        (tr.session.submit(OrderRequest("ACME", Side.BUY, 1, OrderType.TRAILING_STOP, trail_percent=D("10"))),
         "trail", "10"),
    ):
        d = ModifyOrderDialog(order, None)
        qtbot.addWidget(d)
        assert getattr(d, field).text() == text, (field, getattr(d, field).text())


# ---------------------------------------------------------------- blotters on the generic table
def _shown(w, key):
    """The column ``key`` as shown, top to bottom."""
    t = w.table
    c = t.source.column_of(key)
    return [t.proxy.index(r, c).data() for r in range(t.proxy.rowCount())]


def _three_orders(tr):
    tr.quote("ACME", "99.95", "100.05")
    for qty, px in ((5, "9.5"), (100, "100"), (10, "25")):
        tr.session.submit(_limit(qty=qty, px=px))


def test_a_blotter_sorts_numbers_as_numbers(tr, qtbot):
    wo = _show(qtbot, WorkingOrdersWidget(tr.session))
    _three_orders(tr)
    assert _shown(wo, "qty") == ["5", "100", "10"]  # arrival order until a header is clicked
    wo.table.sortByColumn(wo.model.column_of("qty"), Qt.SortOrder.AscendingOrder)
    assert _shown(wo, "qty") == ["5", "10", "100"]  # as text it would be 10, 100, 5
    wo.table.sortByColumn(wo.model.column_of("prices"), Qt.SortOrder.DescendingOrder)
    assert _shown(wo, "prices") == ["lmt 100.00", "lmt 25.00", "lmt 9.50"]
    # the buttons act on the row shown, not on the model row at the same index
    wo.table.selectRow(0)
    assert wo.selected().limit_price == D("100")
    wo.cancel_selected()
    assert _shown(wo, "prices") == ["lmt 25.00", "lmt 9.50"]

    fills = _show(qtbot, FillsWidget(tr.session))
    pos = _show(qtbot, PositionsWidget(tr.session))
    for sym, ask in (("AAA", "9.50"), ("BBB", "100.05"), ("CCC", "25.00")):
        tr.quote(sym, "1", ask)
        tr.session.submit(OrderRequest(sym, Side.BUY, 10))
        tr.quote(sym, "1", ask)
    fills.table.sortByColumn(fills.model.column_of("price"), Qt.SortOrder.AscendingOrder)
    assert _shown(fills, "price") == ["9.50", "25.00", "100.05"]
    pos.table.sortByColumn(pos.model.column_of("avg_price"), Qt.SortOrder.DescendingOrder)
    assert _shown(pos, "symbol") == ["BBB", "CCC", "AAA"]
    pos.table.selectRow(2)
    assert pos.selected().symbol == "AAA"


def test_blotter_columns_widths_and_sort_survive_a_state_round_trip(tr, qtbot):
    hist = _show(qtbot, OrderHistoryWidget(tr.session))
    _three_orders(tr)
    assert isinstance(hist, StatefulDock)  # the shell saves it with the layout
    assert hist.table.is_column_hidden("limit") and not hist.table.is_column_hidden("tif")
    hist.table.set_column_hidden("tif", True)
    hist.table.set_column_hidden("limit", False)  # hidden by default, chosen by the user
    hist.table.setColumnWidth(hist.model.column_of("symbol"), 137)
    hist.table.sortByColumn(hist.model.column_of("qty"), Qt.SortOrder.DescendingOrder)
    saved = json.loads(json.dumps(hist.state()))

    again = _show(qtbot, OrderHistoryWidget(tr.session))
    assert not again.table.is_column_hidden("tif")
    again.restore_state(saved)
    assert again.table.is_column_hidden("tif") and not again.table.is_column_hidden("limit")
    assert again.table.columnWidth(again.model.column_of("symbol")) == 137
    assert _shown(again, "qty") == ["100", "10", "5"]
    tr.session.submit(_limit(qty=50, px="30"))  # a new row goes where the sort says
    assert _shown(again, "qty") == ["100", "50", "10", "5"]
    again.restore_state({"table": "damaged"})  # a damaged entry changes nothing
    assert again.table.is_column_hidden("tif")


def test_ctrl_c_copies_the_selected_blotter_rows(tr, qtbot):
    wo = _show(qtbot, WorkingOrdersWidget(tr.session))
    _three_orders(tr)
    wo.table.sortByColumn(wo.model.column_of("qty"), Qt.SortOrder.AscendingOrder)
    wo.table.selectRow(0)
    wo.table.selectionModel().select(wo.table.proxy.index(2, 0), QItemSelectionModel.SelectionFlag.Select
                                     | QItemSelectionModel.SelectionFlag.Rows)
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(wo.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    lines = QGuiApplication.clipboard().text().splitlines()
    assert [line.split("\t")[1:9] for line in lines] == [
        ["Symbol", "Side", "Qty", "Type", "Price", "TIF", "State", "Role"],
        ["ACME", "BUY", "5", "Limit", "lmt 9.50", "GTC", "accepted", ""],
        ["ACME", "BUY", "100", "Limit", "lmt 100.00", "GTC", "accepted", ""],
    ]
    assert len(lines[0].split("\t")) == 9  # only the visible columns


@pytest.mark.parametrize("tr", [5_000_000], indirect=True)
def test_blotter_csv_export_writes_plain_numbers(tr, qtbot, tmp_path, monkeypatch):
    fills = _show(qtbot, FillsWidget(tr.session))
    pos = _show(qtbot, PositionsWidget(tr.session))
    tr.quote("ACME", "1234.45", "1234.55")
    tr.session.submit(OrderRequest("ACME", Side.BUY, 1500))
    tr.quote("ACME", "1234.45", "1234.55")
    assert _shown(fills, "value") == ["$1,851,825.00"]
    fills.export_csv(tmp_path / "fills.csv")
    with open(tmp_path / "fills.csv", newline="", encoding="utf-8") as fh:
        [head, row] = list(csv.reader(fh))
    assert head == ["time", "symbol", "side", "qty", "price", "value", "fee", "order_id"]
    got = dict(zip(head, row, strict=True))
    assert (got["qty"], got["price"], got["value"], got["fee"]) == ("1500", "1234.55", "1851825", "0")
    assert got["time"][:2] == "20" and got["side"] == "BUY"

    # the button asks where to write; the positions file has the hidden columns too
    path = tmp_path / "positions.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), "CSV files (*.csv)"))
    assert pos.export_btn.isEnabled()
    pos.export_btn.click()
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["symbol", "qty", "avg_price", "last", "market_value", "unrealized_pnl", "realized_today",
                       "realized_pnl", "fees", "underlying", "package", "delta", "gamma", "theta", "vega",
                       "position_delta"]
    assert rows[1][:11] == ["ACME", "1500", "1234.55", "1234.5", "1851750", "-75", "0", "0", "0", "ACME", ""]
    assert [float(x) for x in rows[1][11:]] == [1.0, 0.0, 0.0, 0.0, 1500.0]

    pos.export_csv(tmp_path / "no-such-dir" / "x.csv")  # a failure is a message, not a traceback
    assert pos.error.isVisible() and "Could not write" in pos.error.text()


def test_equity_axis_separates_thousands(tr, qtbot):
    acc = _show(qtbot, AccountWidget(tr.session))
    axis = acc.curve_plot.getAxis("right")
    assert isinstance(axis, PriceAxis)
    assert axis.tickStrings([100_000.0, 100_150.0], 1.0, 50.0) == ["100,000", "100,150"]
