"""Orders on the chart: working orders as price lines, drag to modify, ✕ to cancel, the
position line, over a real PaperBroker (``trading_stubs.Trading``)."""
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from engine.paper import OrderRequest, OrderState, OrderType, Side, TimeInForce
from tests.widgets.stubs import SyncTasks, make_bars
from tests.widgets.trading_stubs import Trading
from widgets.chart import ChartWidget
from widgets.chart.orders import ChartOrders, order_label, tick_round


class _Data:
    def get_bars(self, symbol, timeframe="1d", refresh=False):
        return make_bars(symbol, n=120, seed=3, timeframe=timeframe)


@pytest.fixture
def tr(tmp_path):
    t = Trading(tmp_path / "paper.sqlite3")
    yield t
    t.close()


def _chart(qtbot, symbol="ACME"):
    w = ChartWidget(_Data(), SyncTasks())
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.open_symbol(symbol)
    return w


def _bracket(tr, qty=100, target="110"):
    """A long bracket on ACME whose entry fills at 100: stop 95 and target 110 stay working."""
    tr.quote("ACME", "99.95", "100.05")
    req = OrderRequest("ACME", Side.BUY, qty, OrderType.MARKET, tif=TimeInForce.GTC,
                       take_profit=D(target), stop_loss=D("95"))
    assert tr.session.submit(req) is not None
    tr.quote("ACME", "99.95", "100.05")
    orders = {o.role.value: o for o in tr.broker.orders("Paper") if o.is_working}
    assert set(orders) == {"take_profit", "stop_loss"}
    return orders


def _drag(ol, chart, price):
    """What a mouse drag does to the line: moves it, then reports the drop."""
    ol.line.setValue(chart.price_to_y(price))
    ol.line.sigPositionChangeFinished.emit(ol.line)


def test_bracket_children_and_position_are_lines(tr, qtbot):
    orders = _bracket(tr)
    chart = _chart(qtbot)
    co = ChartOrders(chart, tr.session)
    sl = co.line(orders["stop_loss"].order_id, "stop_price")
    tp = co.line(orders["take_profit"].order_id, "limit_price")
    assert sl is not None and tp is not None
    assert sl.line.value() == pytest.approx(95.0) and tp.line.value() == pytest.approx(110.0)
    assert "SL SELL STP 100" in sl.label.format and "95.00" in sl.label.format
    assert "TP SELL LMT 100" in tp.label.format
    assert co.position_line is not None and co.position_line.value() == pytest.approx(100.05)
    assert co.position_text().startswith("Position +100 @ 100.05")
    assert "P&L" in co.position_text()
    tr.session.flatten("ACME")
    tr.quote("ACME", "99.95", "100.05")
    assert not co.position_line.isVisible() and co.position_text() == ""
    assert not co.lines  # the flatten cancelled the bracket's children


def test_bracket_screenshot(tr, qtbot):
    """A bracket in view (entry filled at 100.05, stop 95, target 103) for a look at 1280×800."""
    _bracket(tr, target="103")
    chart = _chart(qtbot)
    co = ChartOrders(chart, tr.session)
    assert len(co.lines) == 2
    chart.grab().save("/tmp/chart-orders/bracket.png")


def test_dragging_the_stop_line_modifies_the_order(tr, qtbot):
    orders = _bracket(tr)
    chart = _chart(qtbot)
    co = ChartOrders(chart, tr.session)
    sl_id = orders["stop_loss"].order_id
    _drag(co.line(sl_id, "stop_price"), chart, 97.236)
    stop = next(o for o in tr.broker.orders("Paper") if o.order_id == sl_id)
    assert stop.stop_price == D("97.24")  # rounded to the cent, as the ticket types it
    assert co.line(sl_id, "stop_price").line.value() == pytest.approx(97.24)
    assert "97.24" in co.line(sl_id, "stop_price").label.format


def test_refused_drag_snaps_back_and_says_why(tr, qtbot):
    orders = _bracket(tr)
    chart = _chart(qtbot)
    co = ChartOrders(chart, tr.session)
    sl_id = orders["stop_loss"].order_id
    reasons = []
    co.refused.connect(reasons.append)
    _drag(co.line(sl_id, "stop_price"), chart, -3.0)  # below zero: the broker refuses it
    stop = next(o for o in tr.broker.orders("Paper") if o.order_id == sl_id)
    assert stop.stop_price == D("95")
    assert co.line(sl_id, "stop_price").line.value() == pytest.approx(95.0)
    assert reasons and "stop price" in reasons[0].lower()
    assert co.notice.isVisible() and "stop price" in co.notice.textItem.toPlainText().lower()


def test_cancel_cross_cancels_the_order(tr, qtbot):
    tr.quote("ACME", "99.95", "100.05")
    o = tr.session.submit(OrderRequest("ACME", Side.BUY, 10, OrderType.LIMIT, limit_price=D("90"),
                                       tif=TimeInForce.GTC))
    chart = _chart(qtbot)
    co = ChartOrders(chart, tr.session)
    ol = co.line(o.order_id, "limit_price")
    assert ol is not None and ol.label.format.startswith("BUY LMT 10 @ 90.00")
    ev = SimpleNamespace(button=lambda: Qt.MouseButton.LeftButton, accept=lambda: None)
    ol.cancel.mouseClickEvent(ev)
    assert next(x for x in tr.broker.orders("Paper") if x.order_id == o.order_id).state is OrderState.CANCELLED
    assert co.line(o.order_id, "limit_price") is None


def test_lines_follow_session_events_and_symbol(tr, qtbot):
    tr.quote("ACME", "99.95", "100.05")
    chart = _chart(qtbot)
    co = ChartOrders(chart, tr.session)
    assert not co.lines
    o = tr.session.submit(OrderRequest("ACME", Side.BUY, 5, OrderType.LIMIT, limit_price=D("80"),
                                       tif=TimeInForce.GTC))
    assert co.line(o.order_id, "limit_price") is not None  # the order event drew it
    tr.session.modify(o.order_id, limit_price=D("81"))
    assert co.line(o.order_id, "limit_price").line.value() == pytest.approx(81.0)
    chart.open_symbol("OTHER")
    assert not co.lines  # another symbol's chart shows none of ACME's orders
    chart.open_symbol("ACME")
    assert co.line(o.order_id, "limit_price") is not None
    chart.set_scale("log")
    assert co.line(o.order_id, "limit_price").line.value() == pytest.approx(1.9084850188786497)


def test_tick_round_and_label():
    assert tick_round(97.236) == D("97.24") and tick_round(0.123456) == D("0.1235")
    with pytest.raises(ValueError):
        tick_round(float("nan"))
