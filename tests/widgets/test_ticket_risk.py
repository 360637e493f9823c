"""Issue 10, the ticket: prices from another symbol, no quote, the engine's refusals and
questions, risk and sizing by risk, commission, confirmation and the hotkey switch —
against a real PaperBroker on a temp store."""
from dataclasses import replace
from decimal import Decimal as D

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from engine.paper import OrderState, Side
from engine.paper.fills import FillConfig, PerShare
from engine.paper.orders import Role
from tests.widgets.trading_stubs import Trading
from widgets import order_ticket
from widgets.order_ticket import CONFIRM_KEY, HOTKEYS_KEY, MemoryPrefs, OrderTicketWidget


@pytest.fixture
def tr(tmp_path):
    t = Trading(tmp_path / "paper.sqlite3")
    yield t
    t.close()


def _ticket(tr, qtbot, prefs=None, symbol="ACME", bid="99.95", ask="100.05"):
    w = OrderTicketWidget(tr.session, prefs=prefs)
    qtbot.addWidget(w)
    w.resize(320, 800)
    w.show()
    w.set_symbol(symbol)
    tr.quote(symbol, bid, ask)
    return w


def test_bracket_prices_of_the_previous_symbol_are_cleared(tr, qtbot):
    """The ORCL-after-NUKAC reproduction: TP 77.00 / SL 74.50 typed for NUKAC (≈ 76) must
    not become a bracket on ORCL (≈ 44.9) whose stop fires at once."""
    w = _ticket(tr, qtbot, symbol="NUKAC", bid="75.95", ask="76.05")
    w.set_type("bracket")
    w.qty_edit.setText("100")
    w.tp_edit.setText("77.00")
    w.sl_edit.setText("74.50")
    assert w.place_btn.isEnabled()
    tr.quotes.set("ORCL", "44.94", "44.96")
    w.set_symbol("ORCL")
    tr.quote("ORCL", "44.94", "44.96")
    assert (w.tp_edit.text(), w.sl_edit.text()) == ("", "")
    assert "Prices cleared: they were for NUKAC" in w.status.text()
    assert not w.place_btn.isEnabled() and w.place() is None
    assert tr.broker.orders("Paper") == []
    # a leg given in % follows the new entry instead
    w.tp_edit.setText("2")
    w.tp_unit.setCurrentIndex(1)
    w.set_symbol("NUKAC")
    tr.quote("NUKAC", "75.95", "76.05")
    assert w.tp_edit.text() == "2" and w.exits.text().startswith("TP 77.57")  # 76.05 × 1.02


def test_no_quote_says_why_and_nothing_can_be_sent(tr, qtbot):
    tr.core.no_quote_reason = lambda symbol: f"no bars of {symbol} are stored" if symbol == "FUT" else ""
    w = OrderTicketWidget(tr.session)
    qtbot.addWidget(w)
    w.set_symbol("FUT")
    w.set_type("limit")
    w.qty_edit.setText("10")
    w.limit_edit.setText("20.00")
    assert w.quote_label.text() == "No quote: no bars of FUT are stored"
    assert w.validation.text() == "No bars of FUT are stored"  # check_ticket's problem: the engine's reason
    assert not w.place_btn.isEnabled() and w.place() is None and w.market(Side.BUY) is None
    assert tr.broker.orders("Paper") == []


def test_engine_refusals_disable_send_and_questions_are_asked(tr, qtbot, monkeypatch):
    real = order_ticket.check_ticket

    def checks(spec, quote, **kw):  # the engine's market checks (other half of issue 10)
        c = real(spec, quote, **kw)
        lim = spec.limit and D(str(spec.limit))
        if lim and lim > 1000:
            return replace(c, problems=(*c.problems, "limit 5000.00 is absurd"))
        if lim and lim > 110:
            return replace(c, confirm=("buy limit 115.00 is 15 % through the ask 100.05: it fills at once",))
        return c

    monkeypatch.setattr(order_ticket, "check_ticket", checks)
    w = _ticket(tr, qtbot)
    w.set_type("limit")
    w.qty_edit.setText("10")
    w.limit_edit.setText("5000")
    assert w.validation.text() == "Limit 5000.00 is absurd" and not w.place_btn.isEnabled()
    w.limit_edit.setText("115")
    assert w.place_btn.isEnabled()
    assert w.place() is None and w.confirm_dialog is not None  # asked, not sent
    assert "15 % through the ask" in w.confirm_dialog.questions.text()
    assert not w.confirm_dialog.dont_ask_again.isVisible()  # the engine's questions are always asked
    assert tr.broker.orders("Paper") == []
    w.confirm_dialog.reject()
    assert tr.broker.orders("Paper") == [] and w.status.text() == "Not sent."
    w.place()
    w.confirm_dialog.accept()
    [o] = tr.broker.orders("Paper")
    assert o.limit_price == D("115") and o.qty == 10


def test_risk_reward_and_size_by_risk_on_the_ticket(tr, qtbot):
    w = _ticket(tr, qtbot)
    w.set_type("bracket")
    w.qty_edit.setText("100")
    w.tp_edit.setText("104.05")
    w.sl_edit.setText("98.05")
    # from the ask 100.05: risk 100 × 2.00 = 200, reward 100 × 4.00 = 400, 0.20 % of 100,000
    txt = w.risk_label.text()
    assert "risk $200.00</span> (0.20% of equity)" in txt and "reward $400.00" in txt and "R:R 2.00" in txt
    assert w.risk.reward_risk == D("2.00")
    # size by risk: $300 with the stop 2 % below the entry (98.049 → 98.05): 300 / 2.00 = 150 shares
    w.sl_edit.setText("2")
    w.sl_unit.setCurrentIndex(1)
    w.risk_edit.setText("300")
    assert w.qty_edit.text() == "150" and w.qty_edit.isReadOnly()
    assert w.risk.risk == D("300.00")
    w.risk_unit.setCurrentIndex(1)  # 0.1 % of equity = $100 → 50 shares
    w.risk_edit.setText("0.1")
    assert w.qty_edit.text() == "50"
    w.risk_edit.setText("1")
    w.risk_unit.setCurrentIndex(0)  # $1 does not cover one share
    assert "does not cover one share" in w.validation.text() and not w.place_btn.isEnabled()
    w.risk_edit.clear()
    assert not w.qty_edit.isReadOnly()


def test_protective_stop_shows_its_risk(tr, qtbot):
    w = _ticket(tr, qtbot)
    w.qty_edit.setText("10")
    w.place()  # long 10 at 100.05
    w.set_side(Side.SELL)
    w.set_type("stop")
    w.stop_edit.setText("95")
    # from the last 100.00 down to 95: 10 × 5 = $50
    assert w.risk is not None and w.risk.risk == D("50.00") and w.risk_label.isVisible()


def test_commission_is_shown_with_the_account_model(tr, qtbot):
    ibkr = FillConfig(commission=PerShare(D("0.005"), D("1.00"), D("1")))
    tr.broker.create_account("Fees", 100_000, "cash", config=ibkr)
    w = _ticket(tr, qtbot)
    tr.session.set_account("Fees")
    w.qty_edit.setText("100")
    assert w.est_fee.text() == "$1.00"  # 100 × 0.005 = 0.50 → the $1.00 minimum
    w.qty_edit.setText("1")
    assert w.est_fee.text() == "$1.00"
    w.qty_edit.setText("1000")
    assert w.est_fee.text() == "$5.00"
    # the risk includes the round trip's commissions: 100 × 2.00 + 1.00 + 1.00
    w.set_type("bracket")
    w.qty_edit.setText("100")
    w.sl_edit.setText("98.05")
    assert w.risk.risk == D("202.00")
    # sizing keeps the risk with fees within the budget: 99 × 2.00 + 2.00 = 200
    w.risk_edit.setText("200")
    assert w.qty_edit.text() == "99"


def test_confirmation_above_the_notional_and_dont_ask_again(tr, qtbot):
    prefs = MemoryPrefs(trading__confirm_orders=True, trading__confirm_above=5000)
    w = _ticket(tr, qtbot, prefs=prefs)
    assert w.confirm_check.isChecked() and w.confirm_check.text() == "Confirm orders above $5,000.00"
    w.qty_edit.setText("10")  # $1,000.50: below the threshold, sent at once
    assert w.place().state is OrderState.ACCEPTED
    w.set_type("bracket")
    w.qty_edit.setText("100")
    w.tp_edit.setText("104.05")
    w.sl_edit.setText("98.05")
    assert w.place() is None
    dlg = w.confirm_dialog
    assert dlg is not None and dlg.isVisible()
    head = dlg.findChild(type(dlg.summary), "confirmHeadline").text()
    assert head == "BUY 100 ACME · bracket · DAY"
    assert "take profit 104.05 · stop loss 98.05" in dlg.summary.text()
    assert "Value $10,005.00" in dlg.summary.text() and "Risk $200.00 (0.20% of equity)" in dlg.summary.text()
    assert len(tr.broker.orders("Paper")) == 1
    dlg.dont_ask_again.setChecked(True)
    dlg.accept()
    assert {o.role for o in tr.broker.orders("Paper")} == {Role.SINGLE, Role.ENTRY, Role.TAKE_PROFIT, Role.STOP_LOSS}
    assert prefs[CONFIRM_KEY] is False and not w.confirm_check.isChecked()
    w.place()  # not asked any more
    assert w.confirm_dialog is None and len(tr.broker.orders("Paper")) == 7


def test_hotkeys_do_nothing_while_hotkey_trading_is_off(tr, qtbot):
    prefs = MemoryPrefs(trading__hotkeys=False)
    w = _ticket(tr, qtbot, prefs=prefs)
    w.qty_edit.setText("30")
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=2000)
    w.setFocus()
    qtbot.keyClick(w, Qt.Key.Key_B, Qt.KeyboardModifier.ShiftModifier)
    assert tr.broker.orders("Paper") == []
    assert "hotkey trading is off" in w.status.text()
    w.hotkeys_check.setChecked(True)
    assert prefs[HOTKEYS_KEY] is True
    qtbot.keyClick(w, Qt.Key.Key_B, Qt.KeyboardModifier.ShiftModifier)
    assert tr.session.positions["ACME"].qty == 30
    qtbot.keyClick(w, Qt.Key.Key_End)  # release Shift for later tests
    assert "with hotkey trading on" in w.buy_mkt_btn.toolTip()
