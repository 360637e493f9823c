"""Issue 10: working orders modified in place from the blotter (quantity, price, TIF cells
and the Modify dialog), through the broker thread and the engine's checks."""
from decimal import Decimal as D

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QMessageBox

from engine.paper import OrderRequest, OrderType, Side, TimeInForce
from tests.widgets.trading_stubs import Trading
from widgets.trading import ModifyOrderDialog, WorkingOrdersWidget
from widgets.trading.blotters import cell_change
from widgets.trading.session import BrokerThread, TradingSession


@pytest.fixture
def tr(tmp_path):
    t = Trading(tmp_path / "paper.sqlite3")
    t.core.max_distance_pct = D(10)  # the engine's default: far prices are asked about
    yield t
    t.close()


@pytest.fixture
def wo(tr, qtbot):
    commands = BrokerThread()
    s = TradingSession(tr.core, tr.tasks, tr.bus.subscribe, commands=commands)
    w = WorkingOrdersWidget(s)
    qtbot.addWidget(w)
    w.resize(1000, 300)
    w.show()
    tr.quote("ACME", "99.95", "100.05")
    yield w
    s.close()


def _cell(w, key, row=0):
    return w.table.proxy.index(row, w.model.column_of(key))


def _editors(w):
    vp = w.table.viewport()
    return [e for e in vp.findChildren(QLineEdit, "cellEditor") + vp.findChildren(QComboBox, "cellEditorChoice")
            if e.isVisible()]


def _edit(qtbot, w, key, text, row=0):
    """Double-click the cell, type ``text``, press Enter, wait for the broker thread."""
    idx = _cell(w, key, row)
    w.table.scrollTo(idx)
    rect = w.table.visualRect(idx)
    qtbot.mouseClick(w.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(w.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    editors = _editors(w)
    assert len(editors) == 1, "the cell opened no editor"
    editor = editors[0]
    if isinstance(editor, QComboBox):
        while editor.currentText() != text:  # as a user picks with the arrow keys
            qtbot.keyClick(editor, Qt.Key.Key_Down)
    else:
        editor.setText(text)
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not _editors(w), timeout=5000)  # the delegate commits on a queued call
    qtbot.waitUntil(lambda: w.session.commands.pending == 0, timeout=5000)
    return editor


def _place(tr, w, qtbot, **kw):
    req = OrderRequest("ACME", Side.BUY, 10, OrderType.LIMIT, limit_price=D("99"), tif=TimeInForce.DAY, **kw)
    o = tr.session.submit(req)
    qtbot.waitUntil(lambda: w.model.rowCount() >= 1, timeout=5000)
    return o


def test_price_quantity_and_tif_are_edited_in_their_cells(tr, wo, qtbot):
    o = _place(tr, wo, qtbot)
    assert wo.model.row_texts(0)[3:7] == ["10", "Limit", "lmt 99.00", "DAY"]
    _edit(qtbot, wo, "prices", "99.50")
    _edit(qtbot, wo, "qty", "25")
    _edit(qtbot, wo, "tif", "GTC")
    now = tr.broker.order(o.order_id)
    assert (now.limit_price, now.qty, now.tif) == (D("99.50"), 25, TimeInForce.GTC)
    qtbot.waitUntil(lambda: wo.model.row_texts(0)[3:7] == ["25", "Limit", "lmt 99.50", "GTC"], timeout=5000)
    # a cell that is not editable (the symbol) opens the Modify dialog instead
    assert not wo.table.is_editable(_cell(wo, "symbol")) and wo.table.is_editable(_cell(wo, "tif"))


def test_a_refused_edit_is_shown_and_the_cell_keeps_the_order(tr, wo, qtbot):
    tr.quote("ACME", "99.95", "100.05")
    o = tr.session.submit(OrderRequest("ACME", Side.BUY, 10, OrderType.STOP, stop_price=D("101"),
                                       tif=TimeInForce.GTC))
    qtbot.waitUntil(lambda: wo.model.rowCount() == 1, timeout=5000)
    _edit(qtbot, wo, "prices", "99")  # below the ask: it would trigger at once
    assert tr.broker.order(o.order_id).stop_price == D("101")
    qtbot.waitUntil(lambda: wo.error.isVisible(), timeout=5000)
    assert wo.error.text() == "Buy stop 99.00 is below the ask 100.05: it would trigger immediately"
    assert wo.model.row_texts(0)[5] == "stp 101.00"
    _edit(qtbot, wo, "qty", "ten")  # not a number: refused before anything is sent
    assert "not a number" in wo.error.text() and tr.broker.order(o.order_id).qty == 10


def test_a_question_is_asked_and_yes_sends_it_confirmed(tr, wo, qtbot):
    o = _place(tr, wo, qtbot)
    _edit(qtbot, wo, "prices", "80")  # 20 % below the market: the engine asks
    qtbot.waitUntil(lambda: wo.question is not None, timeout=5000)
    assert "Buy limit 80.00 is 20.0 % below the market" in wo.question.text()
    assert tr.broker.order(o.order_id).limit_price == D("99") and not wo.error.isVisible()
    assert wo.model.row_texts(0)[5] == "lmt 99.00"
    wo.question.button(QMessageBox.StandardButton.No).click()
    qtbot.waitUntil(lambda: wo.question is None, timeout=5000)
    assert tr.broker.order(o.order_id).limit_price == D("99")  # no: nothing changed
    _edit(qtbot, wo, "prices", "80")
    qtbot.waitUntil(lambda: wo.question is not None, timeout=5000)
    wo.question.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: tr.broker.order(o.order_id).limit_price == D("80"), timeout=5000)
    qtbot.waitUntil(lambda: wo.model.row_texts(0)[5] == "lmt 80.00", timeout=5000)


def test_the_modify_dialog_changes_the_time_in_force(tr, wo, qtbot):
    o = _place(tr, wo, qtbot)
    dlg = ModifyOrderDialog(o, wo)
    qtbot.addWidget(dlg)
    assert dlg.tif.currentData() == "day"
    dlg.tif.setCurrentIndex(dlg.tif.findData("gtc"))
    dlg.accept()
    assert dlg.changes == {"tif": "gtc"}
    wo.modify(o, dlg.changes)
    qtbot.waitUntil(lambda: tr.broker.order(o.order_id).tif is TimeInForce.GTC, timeout=5000)


@pytest.mark.parametrize(("key", "text", "why"), [
    ("qty", "2.5", "whole number"), ("qty", "0", "whole number"), ("prices", "-1", "above 0"),
    ("tif", "IOC", "DAY or GTC"), ("symbol", "X", "cannot be changed"),
])
def test_cell_values_are_checked_before_sending(tr, wo, qtbot, key, text, why):
    o = _place(tr, wo, qtbot)
    with pytest.raises(ValueError, match=why):
        cell_change(o, key, text)


def test_screenshot_of_a_cell_being_edited(tr, wo, qtbot):
    o = _place(tr, wo, qtbot)
    assert o is not None
    tr.session.submit(OrderRequest("ACME", Side.BUY, 5, OrderType.STOP, stop_price=D("101"), tif=TimeInForce.GTC))
    qtbot.waitUntil(lambda: wo.model.rowCount() == 2, timeout=5000)
    wo.resize(1280, 800)
    idx = _cell(wo, "prices")
    wo.table.edit(idx)
    qtbot.waitUntil(lambda: len(_editors(wo)) == 1, timeout=3000)
    wo.grab().save("/tmp/paper2/working_orders_editing.png")
