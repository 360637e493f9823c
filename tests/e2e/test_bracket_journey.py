"""Journey: first start on demo data → a bracket sized by risk ($200, stop-loss 2 % below the
entry) from the ticket → the risk shown → the order confirmation → the entry fills (the
order went through the broker thread) → on the chart the stop, target and position are
lines; dragging the stop line modifies the order → the take-profit fills → the stop-loss is
cancelled → the symbol is flat but stays in Positions with today's realized P&L → the P&L
shows in the account dock (and is still there after a restart).

Quotes are deterministic: the app's quote path is kept, only the feed's source is replaced
by scripted prices, so fills come through the same path as in the running app
(feed worker → PaperSession.apply_quotes → broker.on_quote → bus → bridge → docks)."""
from decimal import Decimal as D

import pytest

from engine.paper.orders import Side
from engine.paper.risk import size_for_risk

from PySide6.QtCore import Qt

from app.main import build_workstation, open_workspace
from app.trading import trading_session
from tests.widgets.trading_stubs import ScriptedQuotes

LEFT = Qt.MouseButton.LeftButton


def _rows(widget):
    m = widget.model
    return [m.row_texts(i) for i in range(m.rowCount())]


def test_bracket_order_journey(home, qtbot):
    ws = build_workstation()
    win, ctx = ws.window, ws.ctx
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    open_workspace(ws)
    chart = ctx.active_chart
    qtbot.waitUntil(lambda: chart.bars is not None, timeout=15000)
    assert chart.bars.is_demo

    ticket = win.show_dock("order_ticket")
    session = trading_session(ctx)
    assert session.account == "Paper" and session.summary.cash == D("100000")
    session.stop()
    qtbot.waitUntil(lambda: not session.busy, timeout=5000)
    quotes = ScriptedQuotes()
    session.feed.source = quotes
    sym = chart.symbol
    assert ticket.symbol == sym  # the ticket follows the chart

    def quote(bid: str, ask: str) -> None:
        quotes.set(sym, bid, ask)
        qtbot.waitUntil(lambda: not session.busy, timeout=5000)
        assert session.poll_now()
        qtbot.waitUntil(lambda: not session.busy, timeout=5000)
        qtbot.waitUntil(lambda: session.quote(sym).bid == D(bid), timeout=5000)
        # the docks hear of it through the bridge, on the next turn of the event loop
        qtbot.waitUntil(lambda: f"Ask {ask}" in ticket.quote_label.text(), timeout=5000)

    quote("99.95", "100.05")
    assert "Ask 100.05" in ticket.quote_label.text() and "demo quotes" in ticket.quote_label.text()

    # --- fill in the ticket: a bracket risking $200 with the stop-loss 2 % below the entry
    # (100.05 → 98.05: 2.00 a share) and take-profit 101, GTC; the quantity follows the risk
    assert session.commands is not None  # the app's broker thread
    qtbot.mouseClick(ticket.buy_btn, LEFT)
    ticket.type_box.setCurrentIndex(ticket.type_box.findText("Bracket"))
    qtbot.keyClicks(ticket.tp_edit, "101")
    ticket.sl_unit.setCurrentIndex(ticket.sl_unit.findText("%"))
    qtbot.keyClicks(ticket.sl_edit, "2")
    qtbot.keyClicks(ticket.risk_edit, "200")
    ticket.tif_box.setCurrentIndex(ticket.tif_box.findText("GTC"))
    fee = session.fee_model()
    qty = size_for_risk(Side.BUY, D("100.05"), D("98.05"), D("200"), fee=fee)
    assert qty == (100 if fee is None or fee(100, D("100")) == 0 else 99)  # fees count in the risk
    assert ticket.qty_edit.text() == str(qty) and ticket.qty_edit.isReadOnly()
    assert ticket.exits.text() == "TP 101.00 · SL 98.05"
    assert ticket.risk.risk <= D("200") and "of equity" in ticket.risk_label.text()
    assert ticket.place_btn.isEnabled() and ticket.place_btn.text() == f"Buy {qty} {sym} · bracket"
    qtbot.mouseClick(ticket.place_btn, LEFT)
    # --- the value is above $5,000: the summary asks first; nothing is sent before the yes
    dlg = ticket.confirm_dialog
    assert dlg is not None and dlg.isVisible()
    assert session.snapshot()[0] == []
    assert "Risk $" in dlg.summary.text() and "stop loss 98.05" in dlg.summary.text()
    qtbot.mouseClick(dlg.send_btn, LEFT)

    positions = win.show_dock("positions")
    orders = win.show_dock("orders")
    # --- the entry fills at the ask on the next quote round (the ticket asks for one at once)
    qtbot.waitUntil(lambda: positions.model.rowCount() == 1, timeout=5000)
    assert _rows(positions)[0][:3] == [sym, str(qty), "100.05"]
    qtbot.waitUntil(lambda: orders.model.rowCount() == 2, timeout=5000)
    exits = {r[8]: r for r in _rows(orders)}  # by role
    assert exits["take-profit"][2:6] == ["SELL", str(qty), "Limit", "lmt 101.00"]
    assert exits["stop-loss"][2:6] == ["SELL", str(qty), "Stop", "stp 98.05"]
    assert {r[7] for r in exits.values()} == {"accepted"}

    # --- the chart shows the stop, the target and the position as lines; dragging the stop
    # line to 98.50 modifies the order through the broker thread (with the engine's checks)
    lines = chart.order_lines
    working = session.core.broker.orders("Paper", working_only=True)
    sl_id = next(o.order_id for o in working if o.stop_price is not None)
    tp_id = next(o.order_id for o in working if o.limit_price is not None)
    qtbot.waitUntil(lambda: lines.line(sl_id, "stop_price") is not None, timeout=5000)
    sl_line = lines.line(sl_id, "stop_price")
    tp_line = lines.line(tp_id, "limit_price")
    assert sl_line.line.value() == pytest.approx(98.05) and tp_line.line.value() == pytest.approx(101.0)
    assert f"SL SELL STP {qty}" in sl_line.label.format
    qtbot.waitUntil(lambda: f"+{qty} @ 100.05" in lines.position_text(), timeout=5000)
    sl_line.line.setValue(chart.price_to_y(98.50))  # what a mouse drag does to the line
    sl_line.line.sigPositionChangeFinished.emit(sl_line.line)
    qtbot.waitUntil(lambda: "stp 98.50" in {r[8]: r for r in _rows(orders)}["stop-loss"][5], timeout=5000)
    stop = next(o for o in session.core.broker.orders("Paper") if o.order_id == sl_id)
    assert stop.stop_price == D("98.50")

    # --- price rises through the take-profit: it fills at the bid, the stop is cancelled
    quote("101.10", "101.15")
    qtbot.waitUntil(lambda: orders.model.rowCount() == 0, timeout=5000)
    realized = (D("101.10") - D("100.05")) * qty
    # flat, but the symbol stays for the day with its realized P&L
    qtbot.waitUntil(lambda: _rows(positions) and _rows(positions)[0][1] == "0", timeout=5000)
    assert _rows(positions)[0][6] == f"+${realized:,.2f}"
    assert positions.total.text().startswith("No open positions. · 1 closed today")
    history = win.show_dock("order_history")
    by_role = {r[9]: r for r in _rows(history)}
    assert by_role["take-profit"][8] == "filled" and by_role["take-profit"][6] == "101.10"
    assert by_role["stop-loss"][8] == "cancelled" and "OCO" in by_role["stop-loss"][-1]
    assert by_role["bracket entry"][8] == "filled"
    fills = win.show_dock("fills")
    assert [(r[2], r[3], r[4]) for r in _rows(fills)] == [("SELL", str(qty), "101.10"), ("BUY", str(qty), "100.05")]

    # --- P&L in the account dock: (101.10 - 100.05) × qty before fees; the day's figures too
    account = win.show_dock("account")
    fees = session.summary.fees
    net = realized - fees
    qtbot.waitUntil(lambda: account.values["realized_pnl"].text() == f"+${realized:,.2f}", timeout=5000)
    assert account.values["day_realized"].text() == f"+${realized:,.2f}"
    assert account.values["day_fees"].text() == f"${fees:,.2f}"
    assert account.values["day_pnl"].text() == f"+${net:,.2f}"
    assert account.values["total_pnl"].text() == f"+${net:,.2f}"
    assert account.values["equity"].text() == f"${100_000 + net:,.2f}"
    assert account.values["unrealized_pnl"].text() == "$0.00"
    assert account.points[-1][1] == 100_000 + net
    assert len(session.ack_latencies) >= 1  # submit → acknowledged, measured in the window
    # both trades are drawn on the chart (the chart shows the traded symbol)
    assert sorted(s["symbol"] for s in chart.markers.data) == ["t", "t1"]

    qtbot.waitUntil(lambda: not ctx.tasks.active, timeout=15000)
    ws.close()

    # --- the ledger survives a restart
    ws2 = build_workstation()
    qtbot.addWidget(ws2.window)
    ws2.window.show()
    account2 = ws2.window.show_dock("account")
    assert account2.values["realized_pnl"].text() == f"+${realized:,.2f}"
    assert [r[1] for r in _rows(ws2.window.show_dock("positions"))] == ["0"]  # still today's
    qtbot.waitUntil(lambda: not ws2.ctx.tasks.active, timeout=15000)
    ws2.close()
