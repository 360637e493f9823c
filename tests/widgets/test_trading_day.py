"""Issue 10, the docks: the day's figures in Account and Positions, the order history's
search and export, commands through the broker thread."""
import csv
from decimal import Decimal as D

import pytest

from engine.paper import OrderType, Side
from engine.paper.fills import FillConfig, PerShare
from engine.paper.orders import OrderRequest
from tests.widgets.trading_stubs import Trading
from widgets.trading.account import AccountWidget
from widgets.trading.blotters import OrderHistoryWidget, PositionsWidget, WorkingOrdersWidget
from widgets.trading.session import BrokerThread, TradingSession


@pytest.fixture
def tr(tmp_path):
    t = Trading(tmp_path / "paper.sqlite3")
    ibkr = FillConfig(commission=PerShare(D("0.005"), D("1.00"), D("1")))
    t.broker.create_account("Fees", 100_000, "cash", config=ibkr)
    t.session.set_account("Fees")
    yield t
    t.close()


def _show(qtbot, w):
    qtbot.addWidget(w)
    w.resize(900, 300)
    w.show()
    return w


def test_account_dock_shows_the_day(tr, qtbot):
    acc = _show(qtbot, AccountWidget(tr.session))
    pos = _show(qtbot, PositionsWidget(tr.session))
    tr.quote("ACME", "99.95", "100.05")
    tr.session.submit(OrderRequest("ACME", Side.BUY, 100))        # 100 at 100.05, $1.00
    tr.quote("ACME", "99.95", "100.05")
    tr.quote("BETA", "10.05", "10.07")  # an order needs a quote of its symbol (issue 10)
    tr.session.submit(OrderRequest("BETA", Side.BUY, 10, OrderType.LIMIT, limit_price=D("10")))  # holds $100 + fee
    tr.session.submit(OrderRequest("ACME", Side.SELL, 100))       # 100 at 100.95: +90.00, $1.00
    tr.quote("ACME", "100.95", "101.05")
    v = {k: lbl.text() for k, lbl in acc.values.items()}
    assert v["day_realized"] == "+$90.00" and v["realized_pnl"] == "+$90.00"
    assert v["day_fees"] == "$2.00" and v["fees"] == "$2.00"
    assert v["day_pnl"] == "+$88.00"  # equity 100,088 − 100,000 at the start of the day
    assert v["buying_power_used"] == "$100.00 (0%)"  # the working limit holds 10 × 10 of 100,088
    # the closed symbol stays in Positions with today's realized P&L
    [row] = [pos.model.row_texts(i) for i in range(pos.model.rowCount())]
    assert row[:2] == ["ACME", "0"] and row[6] == "+$90.00"


def test_order_history_search_and_export(tr, qtbot, tmp_path):
    hist = _show(qtbot, OrderHistoryWidget(tr.session))
    tr.quote("ACME", "99.95", "100.05")
    tr.quote("BETA", "9.99", "10.01")  # resting limits near the market: the engine's checks pass them
    for sym, side, px in (("ACME", Side.BUY, "99"), ("BETA", Side.BUY, "9.9"), ("ACME", Side.SELL, "101")):
        tr.session.submit(OrderRequest(sym, side, 5, OrderType.LIMIT, limit_price=D(px)))
    assert hist.count.text() == "3 orders"
    hist.search.setText("acme sell")
    assert hist.table.proxy.rowCount() == 1 and hist.count.text() == "1 of 3"
    path = hist.export_csv(tmp_path / "h.csv")
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 2 and rows[1][1:3] == ["ACME", "SELL"]  # the rows shown
    hist.search.clear()
    assert hist.table.proxy.rowCount() == 3


def test_commands_run_on_the_broker_thread_and_come_back_on_the_gui_thread(tr, qtbot):
    import threading

    commands = BrokerThread()
    s = TradingSession(tr.core, tr.tasks, tr.bus.subscribe, commands=commands)
    threads, results = [], []
    real = tr.core.submit_all

    def spy(reqs, **kw):
        threads.append(threading.current_thread())
        return real(reqs)

    tr.core.submit_all = spy
    tr.quote("ACME", "1.00", "1.02")
    s.send_orders([OrderRequest("ACME", Side.BUY, 1, OrderType.LIMIT, limit_price=D("1"))], results.append)
    assert results == []  # the GUI thread did not wait
    qtbot.waitUntil(lambda: len(results) == 1, timeout=20000)
    assert threads[0] is not threading.main_thread() and results[0].ok
    assert len(s.ack_latencies) == 1
    wo = _show(qtbot, WorkingOrdersWidget(s))
    assert wo.model.rowCount() == 1
    wo.cancel_all()
    qtbot.waitUntil(lambda: commands.pending == 0, timeout=20000)
    assert tr.broker.orders("Fees", working_only=True) == []
    s.close()


def test_quotes_are_applied_on_the_broker_thread_in_the_commands_queue(tr, qtbot):
    import threading

    commands = BrokerThread()
    s = TradingSession(tr.core, tr.tasks, tr.bus.subscribe, commands=commands)
    applied, fills = [], []
    real = tr.core.apply_quotes

    def spy(quotes):
        applied.append(threading.current_thread())
        return real(quotes)

    tr.core.apply_quotes = spy
    s.fill_added.connect(fills.append)
    tr.quotes.set("ACME", "1.00", "1.02")
    s.watch("test", ["ACME"])
    assert s.poll_now()
    qtbot.waitUntil(lambda: commands.pending == 0 and len(applied) == 1, timeout=20000)
    assert applied[0] is not threading.main_thread()
    # an order sent, then a quote that fills it: the same queue keeps that order
    s.send_orders([OrderRequest("ACME", Side.BUY, 1, OrderType.LIMIT, limit_price=D("1.01"))])
    # the order is placed on the broker thread; a quote stamped before it was placed does not
    # fill it (no fills from quotes older than the order), so the quote comes after the ack
    qtbot.waitUntil(lambda: commands.pending == 0, timeout=20000)
    tr.quotes.set("ACME", "0.99", "1.01")
    assert s.poll_now()
    qtbot.waitUntil(lambda: commands.pending == 0 and len(applied) == 2, timeout=20000)
    assert all(t is not threading.main_thread() for t in applied)
    # the fill signal comes from the broker thread: it reaches the GUI thread on a later turn
    qtbot.waitUntil(lambda: len(fills) == 1, timeout=20000)
    assert [(f.qty, f.price) for f in fills] == [(1, D("1.01"))]
    s.close()
