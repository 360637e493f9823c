"""Issue 10: one quote stream. The watchlist's Last moves with the paper session's live quotes
(the price the ticket trades at), and its Chg % stays measured from the previous close."""
from decimal import Decimal as D

from app.main import build_workstation, open_workspace
from app.trading import trading_session
from tests.widgets.trading_stubs import ScriptedQuotes


def test_the_watchlist_shows_the_live_quote_the_ticket_trades_at(home, qtbot):
    ws = build_workstation()
    win, ctx = ws.window, ws.ctx
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    open_workspace(ws)
    wl = win.show_dock("watchlist")
    qtbot.waitUntil(lambda: wl.model.rows and wl.model.rows[0].last == wl.model.rows[0].last, timeout=15000)
    row = wl.model.rows[0]
    sym, prev = row.symbol, row.prev_close
    assert prev == prev and prev > 0  # the previous close is known
    session = trading_session(ctx)
    session.stop()
    qtbot.waitUntil(lambda: not session.busy, timeout=5000)
    quotes = ScriptedQuotes()
    session.feed.source = quotes
    qtbot.waitUntil(lambda: sym in session.core.watched_symbols(), timeout=5000)  # the feed quotes it
    bid, ask = D("123.40"), D("123.50")
    quotes.set(sym, str(bid), str(ask))
    assert session.poll_now()
    last = float((bid + ask) / 2)
    qtbot.waitUntil(lambda: wl.model.rows[0].last == last, timeout=5000)
    r = wl.model.rows[0]
    assert r.symbol == sym and r.live
    assert abs(r.change_pct - (last / prev - 1) * 100) < 1e-9
    assert session.last_price(sym) == (bid + ask) / 2  # what the ticket marks and trades at
    ws.close()
