"""Journey: first start on demo data → place a bracket order from the ticket → the entry
fills → the take-profit fills → the stop-loss is cancelled → the position is flat → the
P&L shows in the account dock (and is still there after a restart).

Quotes are deterministic: the app's quote path is kept, only the feed's source is replaced
by scripted prices, so fills come through the same path as in the running app
(feed worker → PaperSession.apply_quotes → broker.on_quote → bus → bridge → docks)."""
from decimal import Decimal as D

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
        assert session.quote(sym).bid == D(bid)
        # the docks hear of it through the bridge, on the next turn of the event loop
        qtbot.waitUntil(lambda: f"Ask {ask}" in ticket.quote_label.text(), timeout=5000)

    quote("99.95", "100.05")
    assert "Ask 100.05" in ticket.quote_label.text() and "demo quotes" in ticket.quote_label.text()

    # --- fill in the ticket: buy 100, bracket with take-profit 101 and stop-loss 98, GTC
    qtbot.mouseClick(ticket.buy_btn, LEFT)
    ticket.type_box.setCurrentIndex(ticket.type_box.findText("Bracket"))
    ticket.qty_edit.clear()
    qtbot.keyClicks(ticket.qty_edit, "100")
    qtbot.keyClicks(ticket.tp_edit, "101")
    qtbot.keyClicks(ticket.sl_edit, "98")
    ticket.tif_box.setCurrentIndex(ticket.tif_box.findText("GTC"))
    assert ticket.est_cost.text() == "$10,005.00" and ticket.bp_after.text() == "$89,995.00"
    assert ticket.place_btn.isEnabled() and ticket.place_btn.text() == f"Buy 100 {sym} · bracket"
    qtbot.mouseClick(ticket.place_btn, LEFT)

    positions = win.show_dock("positions")
    orders = win.show_dock("orders")
    # --- the entry fills at the ask on the next quote round (the ticket asks for one at once)
    qtbot.waitUntil(lambda: positions.model.rowCount() == 1, timeout=5000)
    assert _rows(positions)[0][:3] == [sym, "100", "100.05"]
    qtbot.waitUntil(lambda: orders.model.rowCount() == 2, timeout=5000)
    exits = {r[8]: r for r in _rows(orders)}  # by role
    assert exits["take-profit"][2:6] == ["SELL", "100", "Limit", "lmt 101.00"]
    assert exits["stop-loss"][2:6] == ["SELL", "100", "Stop", "stp 98.00"]
    assert {r[7] for r in exits.values()} == {"accepted"}

    # --- price rises through the take-profit: it fills at the bid, the stop is cancelled
    quote("101.10", "101.15")
    qtbot.waitUntil(lambda: positions.model.rowCount() == 0, timeout=5000)
    qtbot.waitUntil(lambda: orders.model.rowCount() == 0, timeout=5000)
    assert positions.total.text() == "No open positions."
    history = win.show_dock("order_history")
    by_role = {r[9]: r for r in _rows(history)}
    assert by_role["take-profit"][8] == "filled" and by_role["take-profit"][6] == "101.10"
    assert by_role["stop-loss"][8] == "cancelled" and "OCO" in by_role["stop-loss"][-1]
    assert by_role["bracket entry"][8] == "filled"
    fills = win.show_dock("fills")
    assert [(r[2], r[3], r[4]) for r in _rows(fills)] == [("SELL", "100", "101.10"), ("BUY", "100", "100.05")]

    # --- P&L in the account dock: (101.10 - 100.05) × 100 = 105.00 before fees; the default
    # commission (IBKR Pro fixed) is the $1.00 minimum on each 100-share fill: 103.00 after
    account = win.show_dock("account")
    qtbot.waitUntil(lambda: account.values["realized_pnl"].text() == "+$105.00", timeout=5000)
    assert account.values["total_pnl"].text() == "+$103.00"
    assert account.values["equity"].text() == "$100,103.00"
    assert account.values["unrealized_pnl"].text() == "$0.00"
    assert float(account.points[-1][1]) == 100_103.0
    # both trades are drawn on the chart (the chart shows the traded symbol)
    assert sorted(s["symbol"] for s in chart.markers.data) == ["t", "t1"]

    qtbot.waitUntil(lambda: not ctx.tasks.active, timeout=15000)
    ws.close()

    # --- the ledger survives a restart
    ws2 = build_workstation()
    qtbot.addWidget(ws2.window)
    ws2.window.show()
    account2 = ws2.window.show_dock("account")
    assert account2.values["realized_pnl"].text() == "+$105.00"
    assert ws2.window.show_dock("positions").model.rowCount() == 0
    qtbot.waitUntil(lambda: not ws2.ctx.tasks.active, timeout=15000)
    ws2.close()
