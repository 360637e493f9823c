"""Fail the n-th write of each write path, for every n: afterwards the store opens, passes
``integrity_check`` and holds either the state before or the state after the operation."""
from __future__ import annotations

import sqlite3
from decimal import Decimal

import numpy as np
import pytest

from engine.data.bar_store import BarStore
from engine.data.service import DataService
from engine.events import EventBus
from engine.paper import OrderRequest, OrderType, PaperBroker, Side, TimeInForce
from engine.store.db import StoreError, open_database
from tests.faults import IO_ERROR, install, integrity

CSV_OLD = "Date,Open,High,Low,Close,Volume\n2020-01-02,10,11,9,10.5,100\n2020-01-03,10,11,9,10.5,100\n"
CSV_NEW = "".join(
    ["Date,Open,High,Low,Close,Volume\n"]
    + [f"2021-{m:02d}-{d:02d},20,21,19,20.5,{m * 100 + d}\n" for m in range(1, 13) for d in range(1, 28)]
)


@pytest.mark.parametrize("error", ["database or disk is full", IO_ERROR])
def test_csv_import_failing_at_any_write_keeps_old_or_new_bars(tmp_path, monkeypatch, error):
    path = tmp_path / "s.sqlite3"
    db = open_database(path)
    src = tmp_path / "FLT.csv"
    src.write_text(CSV_OLD)
    DataService(db, bus=EventBus()).import_csv(src)
    old = BarStore(db).load("FLT", "1d")
    src.write_text(CSV_NEW)
    plan = install(monkeypatch)
    counting = open_database(tmp_path / "count.sqlite3")
    plan.arm(None)
    DataService(counting, bus=EventBus()).import_csv(src)
    total = plan.writes
    assert total >= 5  # symbol row, delete, series row, chunks, series update, COMMIT
    for n in range(1, total + 1):
        plan.arm(n, error)
        with pytest.raises(StoreError):
            DataService(db, bus=EventBus()).import_csv(src)
        assert plan.fired
        plan.arm(None)
        assert integrity(path) == "ok"
        again = open_database(path)
        got = BarStore(again).load("FLT", "1d")
        assert len(got) == len(old) and np.array_equal(got.close, old.close), n  # the before state
    DataService(db, bus=EventBus()).import_csv(src)
    assert len(BarStore(db).load("FLT", "1d")) == 12 * 27  # and the after state is reachable


def _open_broker(path):
    return PaperBroker.open(path, bus=EventBus(), clock=lambda: 1_700_000_000_000)


def _state(path):
    b = _open_broker(path)
    try:
        return ([(o.order_id, o.state.value, o.filled_qty) for o in b.orders("acct")],
                [(f.fill_id, f.qty, f.price) for f in b.fills("acct")],
                [(p.symbol, p.qty) for p in b.positions("acct")])
    finally:
        b.close()


def _run_faulted(tmp_path, monkeypatch, prepare, act):
    """prepare(broker) then act(broker) with the n-th write failing, for every n."""
    plan = install(monkeypatch)

    def fresh(name):
        path = tmp_path / f"{name}.sqlite3"
        b = _open_broker(path)
        b.create_account("acct", Decimal("100000"))
        prepare(b)
        return path, b

    path, b = fresh("count")
    plan.arm(None)
    act(b)
    total = plan.writes
    b.close()
    after = _state(path)
    assert total >= 3
    for n in range(1, total + 1):
        path, b = fresh(f"s{n}")
        b.close()
        before = _state(path)
        b = _open_broker(path)
        plan.arm(n)
        with pytest.raises((sqlite3.Error, StoreError)):
            act(b)
        assert plan.fired
        plan.arm(None)
        b.close()
        assert integrity(path) == "ok"
        got = _state(path)
        assert got == before, (n, plan.statements)
    return after


def test_paper_submit_failing_at_any_write_records_nothing(tmp_path, monkeypatch):
    req = OrderRequest("ORCL", Side.BUY, 5, OrderType.LIMIT, limit_price=Decimal("44.5"), tif=TimeInForce.GTC)
    after = _run_faulted(tmp_path, monkeypatch, lambda b: None, lambda b: b.submit("acct", req))
    assert len(after[0]) == 1 and after[0][0][1] == "accepted"


def test_paper_fill_failing_at_any_write_books_nothing(tmp_path, monkeypatch):
    req = OrderRequest("ORCL", Side.BUY, 5, OrderType.LIMIT, limit_price=Decimal("44.5"), tif=TimeInForce.GTC)
    after = _run_faulted(
        tmp_path, monkeypatch, lambda b: b.submit("acct", req),
        lambda b: b.on_quote("ORCL", bid=Decimal("44.00"), ask=Decimal("44.10"), last=Decimal("44.05")),
    )
    assert len(after[1]) == 1 and after[2] == [("ORCL", 5)]
