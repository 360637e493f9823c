"""The order ticket: fields per order type, estimate, inline validation, placing, hotkeys,
prices from chart clicks — against a real PaperBroker on a temp store."""
from decimal import Decimal as D

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QApplication

from engine.paper import OrderState, OrderType, Side
from engine.paper.orders import Role
from tests.widgets.stubs import FakeData, SyncTasks
from tests.widgets.trading_stubs import Trading
from widgets.chart import ChartWidget
from widgets.order_ticket import OrderTicketWidget


@pytest.fixture
def tr(tmp_path):
    t = Trading(tmp_path / "paper.sqlite3")
    yield t
    t.close()


@pytest.fixture
def ticket(tr, qtbot):
    w = OrderTicketWidget(tr.session)
    qtbot.addWidget(w)
    w.resize(320, 700)
    w.show()
    w.set_symbol("acme")
    tr.quote("ACME", "99.95", "100.05")
    return w


def _visible(ticket, widget):
    return ticket._row_visible(widget)


def test_fields_follow_the_order_type(ticket):
    shown = {}
    for kind in ("market", "limit", "stop", "stop_limit", "trailing_stop", "bracket", "oco"):
        ticket.set_type(kind)
        shown[kind] = {name for name, w in (("limit", ticket.limit_edit), ("stop", ticket.stop_edit),
                                            ("trail", ticket.trail_edit), ("tp", ticket.tp_edit),
                                            ("sl", ticket.sl_edit), ("entry", ticket.entry_box))
                       if _visible(ticket, w)}
    assert shown == {
        "market": set(), "limit": {"limit"}, "stop": {"stop"}, "stop_limit": {"limit", "stop"},
        "trailing_stop": {"trail"}, "bracket": {"entry", "tp", "sl"}, "oco": {"limit", "stop"},
    }
    ticket.entry_box.setCurrentIndex(1)  # a limit entry brings the limit price back
    ticket.set_type("bracket")
    assert _visible(ticket, ticket.limit_edit)


def test_market_order_estimate_and_buying_power_after(ticket, tr):
    assert ticket.symbol == "ACME" and ticket.symbol_edit.text() == "ACME"
    assert "Bid 99.95" in ticket.quote_label.text() and "Ask 100.05" in ticket.quote_label.text()
    assert "demo quotes" in ticket.quote_label.text()
    ticket.qty_edit.setText("100")
    assert ticket.est_price.text() == "100.05"
    assert ticket.est_cost.text() == "$10,005.00"
    assert ticket.bp_after.text() == "$89,995.00"
    assert ticket.place_btn.isEnabled() and ticket.place_btn.text() == "Buy 100 ACME · market"
    assert not ticket.validation.isVisible()

    order = ticket.place()
    assert order.state is OrderState.ACCEPTED
    # the ticket asked the driver for a quote at once, and the market order filled at the ask
    assert tr.session.positions["ACME"].qty == 100
    assert tr.broker.fills("Paper")[0].price == D("100.05")
    assert "BUY 100 ACME market" in ticket.status.text()


def test_inline_validation_blocks_placing(ticket):
    ticket.qty_edit.setText("2000")
    assert ticket.validation.text() == "Exceeds buying power by $100,100.00"
    assert ticket.bp_after.text() == "-$100,100.00"
    assert not ticket.place_btn.isEnabled()

    ticket.qty_edit.setText("10")
    ticket.set_type("limit")
    assert ticket.validation.text() == "Limit price missing"
    assert not ticket.place_btn.isEnabled()
    ticket.limit_edit.setText("abc")
    assert "not a number" in ticket.validation.text()
    ticket.limit_edit.setText("-3")
    assert ticket.validation.text() == "Limit price must be positive"
    ticket.limit_edit.setText("99.50")
    assert ticket.place_btn.isEnabled() and ticket.est_cost.text() == "$995.00"

    ticket.qty_edit.setText("1.5")
    assert "whole number of shares" in ticket.validation.text()
    ticket.qty_edit.setText("10")
    ticket.set_side(Side.SELL)
    assert ticket.validation.text().startswith("A cash account cannot sell short: you hold 0 ACME")
    assert not ticket.place_btn.isEnabled()


def test_quantity_in_dollars_rounds_down_to_whole_shares(ticket, tr):
    ticket.qty_unit.setCurrentIndex(1)  # $
    ticket.qty_edit.setText("5,000")
    assert ticket.qty_hint.text() == "= 49 shares at 100.05"
    assert ticket.place_btn.text() == "Buy 49 ACME · market"
    ticket.place()
    assert tr.session.positions["ACME"].qty == 49


def test_bracket_with_percent_legs_places_entry_and_waiting_exits(ticket, tr):
    ticket.set_type("bracket")
    ticket.qty_edit.setText("100")
    ticket.tp_edit.setText("2")
    ticket.tp_unit.setCurrentIndex(1)  # %
    ticket.sl_edit.setText("1")
    ticket.sl_unit.setCurrentIndex(1)
    [req] = ticket.build_requests()
    # from the ask 100.05: +2 % = 102.051 → 102.05, -1 % = 99.0495 → 99.05
    assert (req.take_profit, req.stop_loss) == (D("102.05"), D("99.05"))
    assert ticket.exits.text() == "TP 102.05 · SL 99.05"  # the % legs as prices
    ticket.tif_box.setCurrentIndex(2)  # IOC is not allowed for a bracket entry
    assert "cannot be IOC or FOK" in ticket.validation.text() and not ticket.place_btn.isEnabled()
    ticket.tif_box.setCurrentIndex(0)  # DAY
    tr.quotes.prices.clear()  # no further quote: the entry stays unfilled, to look at the waiting children
    ticket.place()
    orders = {o.role: o for o in tr.broker.orders("Paper")}
    assert orders[Role.ENTRY].type is OrderType.MARKET
    assert orders[Role.TAKE_PROFIT].limit_price == D("102.05")
    assert orders[Role.STOP_LOSS].stop_price == D("99.05")
    assert orders[Role.TAKE_PROFIT].state is OrderState.WAITING
    assert orders[Role.STOP_LOSS].tif.value == "gtc"  # exits outlive the entry's day


def test_bracket_needs_at_least_one_exit_and_a_sane_order(ticket):
    ticket.set_type("bracket")
    assert ticket.validation.text() == "A bracket needs a take profit, a stop loss, or both"
    ticket.tp_edit.setText("98")
    ticket.sl_edit.setText("101")
    assert "stop loss < take profit" in ticket.validation.text()
    assert not ticket.place_btn.isEnabled()


def test_oco_exit_pair_first_fill_cancels_the_other(ticket, tr):
    ticket.qty_edit.setText("100")
    ticket.place()  # long 100 at 100.05
    ticket.set_side(Side.SELL)
    ticket.set_type("oco")
    ticket.limit_edit.setText("110")
    ticket.stop_edit.setText("95")
    ticket.tif_box.setCurrentIndex(1)  # GTC
    assert ticket.place_btn.isEnabled(), ticket.validation.text()
    ticket.place()
    working = tr.broker.orders("Paper", working_only=True)
    assert sorted(o.type.value for o in working) == ["limit", "stop"]
    tr.quote("ACME", "110.10", "110.20")
    states = {o.type.value: o.state for o in tr.broker.orders("Paper") if o.role is Role.OCO}
    assert states == {"limit": OrderState.FILLED, "stop": OrderState.CANCELLED}
    assert "ACME" not in {p.symbol for p in tr.broker.positions("Paper")}


def test_trailing_stop_in_percent(ticket, tr):
    ticket.qty_edit.setText("10")
    ticket.place()
    ticket.set_side(Side.SELL)
    ticket.set_type("trailing_stop")
    ticket.trail_edit.setText("5")
    ticket.trail_unit.setCurrentIndex(1)  # %
    [req] = ticket.build_requests()
    assert (req.trail_percent, req.trail_amount) == (D("5"), None)
    ticket.trail_edit.setText("150")
    assert ticket.validation.text() == "Trail percent must be below 100"
    ticket.trail_edit.setText("5")
    o = ticket.place()
    assert o.type is OrderType.TRAILING_STOP and o.state is OrderState.ACCEPTED


def test_market_order_without_a_quote_says_so(tr, qtbot):
    w = OrderTicketWidget(tr.session)
    qtbot.addWidget(w)
    w.set_symbol("NOQUOTE")
    # the engine's reason (PaperSession.no_quote_reason), in the quote line and as the problem
    assert w.quote_label.text() == "No quote: the demo quotes have no price for NOQUOTE"
    assert "no price for NOQUOTE" in w.validation.text()
    assert not w.place_btn.isEnabled()


def _focus(edit):
    QApplication.sendEvent(edit, QFocusEvent(QEvent.Type.FocusIn, Qt.FocusReason.MouseFocusReason))


def test_chart_click_sets_the_focused_price_field(ticket, qtbot):
    chart = ChartWidget(FakeData(), SyncTasks())
    qtbot.addWidget(chart)
    chart.open_symbol("ACME")
    ticket.follow_chart(chart)
    ticket.set_type("stop")
    chart.price_clicked.emit(97.456)
    assert ticket.stop_edit.text() == "97.46"  # the only price field of a stop
    ticket.set_type("stop_limit")
    _focus(ticket.limit_edit)
    chart.price_clicked.emit(97.0)
    assert ticket.limit_edit.text() == "97.00" and ticket.stop_edit.text() == "97.46"
    ticket.set_type("market")
    chart.price_clicked.emit(96.0)
    assert "limit, stop or bracket" in ticket.status.text()
    # the ticket follows the chart's symbol
    chart.open_symbol("GLOBX")
    assert ticket.symbol == "GLOBX"


def test_hotkeys_buy_sell_flatten(ticket, tr, qtbot):
    assert "Shift+B" in ticket.buy_mkt_btn.toolTip() and "Shift+S" in ticket.sell_mkt_btn.toolTip()
    assert "Shift+F" in ticket.flatten_btn.toolTip()
    ticket.qty_edit.setText("30")
    ticket.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is ticket, timeout=2000)
    ticket.setFocus()
    qtbot.keyClick(ticket, Qt.Key.Key_B, Qt.KeyboardModifier.ShiftModifier)
    assert tr.session.positions["ACME"].qty == 30
    qtbot.keyClick(ticket, Qt.Key.Key_S, Qt.KeyboardModifier.ShiftModifier)
    assert tr.session.positions["ACME"].qty == 0
    ticket.market(Side.BUY)
    assert tr.session.positions["ACME"].qty == 30
    qtbot.keyClick(ticket, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    assert tr.session.positions["ACME"].qty == 0
    # typing a capital letter into a text field is text, not an order
    ticket.symbol_edit.setFocus()
    qtbot.keyClick(ticket.symbol_edit, Qt.Key.Key_B, Qt.KeyboardModifier.ShiftModifier)
    assert len(tr.broker.orders("Paper")) == 4
    # Qt remembers the modifiers of the last key event application-wide: a plain key releases
    # Shift, so later tests' selectRow() does not extend a selection as with Shift held
    qtbot.keyClick(ticket.symbol_edit, Qt.Key.Key_End)
    assert QApplication.keyboardModifiers() == Qt.KeyboardModifier.NoModifier


def test_rejection_by_the_broker_is_shown_in_the_ticket(ticket, tr):
    # An IOC order that cannot fill is cancelled; a margin-less short is refused by the
    # broker itself when placed through the flatten/reverse path: reverse a cash long.
    ticket.qty_edit.setText("10")
    ticket.place()
    o = tr.session.reverse("ACME")
    assert o.state is OrderState.REJECTED
    assert "cannot sell short" in ticket.status.text()


def test_a_stale_quote_is_named_and_nothing_is_sent_on_it(ticket, tr):
    """Issue 9: Yahoo offline — the ticket must not call the last cached close "delayed" and
    send on it silently."""
    ticket.set_type("market")
    ticket.qty_edit.setText("10")
    assert ticket.place_btn.isEnabled()
    tr.quotes.stale_reason = lambda symbol: "the quote is stale: the data source could not be reached"
    tr.quote("ACME", "99.95", "100.05")  # a quote round: the ticket looks again
    assert "stale" in ticket.quote_label.text() and "demo quotes" not in ticket.quote_label.text()
    assert not ticket.place_btn.isEnabled()
    assert "nothing is sent until a fresh quote arrives" in ticket.validation.text()
    assert ticket.place() is None and ticket.market(Side.BUY) is None
    assert "nothing was sent" in ticket.status.text()
    assert tr.broker.orders("Paper") == []
    tr.quotes.stale_reason = lambda symbol: ""  # back online
    tr.quote("ACME", "99.95", "100.05")
    assert ticket.place_btn.isEnabled() and ticket.place() is not None


def test_a_ticket_without_its_session_says_connecting_and_sends_nothing(tr, qtbot):
    # the shell builds the ticket for the first frame and opens the broker after it
    w = OrderTicketWidget(None)
    qtbot.addWidget(w)
    w.resize(320, 700)
    w.show()
    w.set_symbol("acme")
    w.qty_edit.setText("10")
    assert w.symbol == "ACME" and w.quote_label.text() == "Connecting paper account…"
    assert not any(b.isEnabled() for b in (w.place_btn, w.buy_mkt_btn, w.sell_mkt_btn, w.flatten_btn))
    assert w.place() is None and w.market(Side.BUY) is None and w.flatten() is None
    assert "nothing was sent" in w.status.text()
    assert tr.broker.orders("Paper") == []
    tr.quote("ACME", "99.95", "100.05")
    w.attach_session(tr.session)  # the symbol given before is watched and quoted now
    assert "Ask 100.05" in w.quote_label.text() and w.chooser.box.currentText() == tr.session.account
    assert w.place_btn.isEnabled() and w.buy_mkt_btn.isEnabled()
    with pytest.raises(RuntimeError, match="already has its session"):
        w.attach_session(tr.session)
    w.place()
    qtbot.waitUntil(lambda: len(tr.broker.orders("Paper")) == 1, timeout=5000)
