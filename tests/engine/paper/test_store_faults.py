"""A full disk, a disk I/O error, a read-only file or a lock while trading: the broker call
raises the store's one-sentence ``StoreError``, nothing of it is kept (memory equals the
store), and the next call works."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import pytest

from engine.events import EventBus
from engine.paper import OrderRequest, OrderState, OrderType, PaperBroker, Side, TimeInForce
from engine.store.db import DatabaseLocked, DiskFull, DiskIOError, ReadOnlyDatabase, StoreError
from tests.faults import DISK_FULL, IO_ERROR, FaultPlan, install, integrity

NOW = int(dt.datetime(2024, 11, 27, 11, tzinfo=ZoneInfo("America/New_York")).timestamp() * 1000)


def limit(side: str, qty: int, price: str, tif: TimeInForce = TimeInForce.GTC) -> OrderRequest:
    return OrderRequest("ORCL", Side(side), qty, OrderType.LIMIT, limit_price=D(price), tif=tif)


def state(b: PaperBroker) -> tuple[Any, ...]:
    """Everything a user sees of account ``acct`` (money valued at the last quotes)."""
    return stored(b) + (b.account_summary("acct"), b.watched_symbols())


def stored(b: PaperBroker) -> tuple[Any, ...]:
    """What the store holds of account ``acct`` (quotes are not stored)."""
    return b.orders("acct"), b.fills("acct"), b.positions("acct")


def prepare(b: PaperBroker) -> dict[str, str]:
    b.create_account("acct", D("100000"), "margin")
    held = b.submit("acct", limit("buy", 20, "40"))
    b.submit("acct", limit("buy", 10, "45", TimeInForce.DAY))
    b.on_quote("ORCL", bid=D("44.90"), ask=D("45.00"), last=D("44.95"))  # fills the second
    return {"held": held.order_id}


ACTIONS: dict[str, Callable[[PaperBroker, dict[str, str]], object]] = {
    "submit": lambda b, ids: b.submit("acct", limit("buy", 5, "44.5")),
    "bracket": lambda b, ids: b.submit("acct", OrderRequest(
        "ORCL", Side.BUY, 5, OrderType.LIMIT, limit_price=D("46"), tif=TimeInForce.GTC,
        take_profit=D("50"), stop_loss=D("40"))),
    "fill": lambda b, ids: b.on_quote("ORCL", bid=D("39.80"), ask=D("39.90"), last=D("39.85")),
    "cancel": lambda b, ids: b.cancel(ids["held"]),
    "modify": lambda b, ids: b.modify(ids["held"], qty=30, limit_price=D("41")),
    "flatten": lambda b, ids: b.flatten("acct", "ORCL"),
}


@pytest.fixture
def plan(monkeypatch: pytest.MonkeyPatch) -> FaultPlan:
    return install(monkeypatch)


def _open(path: Path) -> PaperBroker:
    return PaperBroker.open(path, bus=EventBus(), clock=lambda: NOW)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_full_disk_at_any_write_raises_disk_full_and_keeps_memory_equal_to_the_store(
    tmp_path: Path, plan: FaultPlan, action: str,
) -> None:
    act = ACTIONS[action]
    # count the writes of the action, and keep what a successful run leaves
    plan.arm(None)
    b = _open(tmp_path / "count.sqlite3")
    ids = prepare(b)
    plan.arm(None)
    act(b, ids)
    total = plan.writes
    b.close()
    assert total >= 3  # BEGIN'd inserts, updates, COMMIT
    for n in range(1, total + 1):
        path = tmp_path / f"s{n}.sqlite3"
        plan.arm(None)
        b = _open(path)
        ids = prepare(b)
        before = state(b)
        plan.arm(n, DISK_FULL)
        with pytest.raises(DiskFull) as info:
            act(b, ids)
        assert plan.fired
        plan.arm(None)
        msg = str(info.value)
        assert "full" in msg and str(path) in msg and "\n" not in msg and msg.count(". ") == 0, msg
        # nothing half-applied: the broker shows exactly what the store holds, the state before
        assert state(b) == before, (action, n, plan.statements)
        fresh = _open(path)
        assert stored(fresh) == stored(b)
        fresh.close()
        assert integrity(path) == "ok"
        # and the next call works
        act(b, ids)
        after = state(b)
        b.close()
        again = _open(path)
        assert stored(again) == after[:3]
        again.close()


@pytest.mark.parametrize(("error", "cls"), [
    (IO_ERROR, DiskIOError),
    ("database is locked", DatabaseLocked),
    ("attempt to write a readonly database", ReadOnlyDatabase),
])
def test_other_store_failures_while_trading_are_one_sentence_store_errors(
    tmp_path: Path, plan: FaultPlan, error: str, cls: type[StoreError],
) -> None:
    path = tmp_path / "p.sqlite3"
    b = _open(path)
    ids = prepare(b)
    before = state(b)
    plan.arm(1, error)
    with pytest.raises(cls) as info:
        b.modify(ids["held"], limit_price=D("41"))
    plan.arm(None)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert state(b) == before
    assert b.modify(ids["held"], limit_price=D("41")).limit_price == D("41")


def test_create_account_on_a_full_disk_creates_nothing(tmp_path: Path, plan: FaultPlan) -> None:
    path = tmp_path / "p.sqlite3"
    b = _open(path)
    plan.arm(1, DISK_FULL)
    with pytest.raises(DiskFull):
        b.create_account("acct", 1000)
    plan.arm(None)
    assert b.accounts() == []
    b.create_account("acct", 1000)
    assert b.accounts() == ["acct"]


def test_opening_on_a_full_disk_keeps_due_day_orders_until_they_can_be_written(
    tmp_path: Path, plan: FaultPlan,
) -> None:
    path = tmp_path / "p.sqlite3"
    clock = [NOW]
    b = PaperBroker.open(path, bus=EventBus(), clock=lambda: clock[0])
    b.create_account("acct", D("100000"))
    day = b.submit("acct", limit("buy", 1, "30", TimeInForce.DAY))
    b.close()
    clock[0] = NOW + 2 * 86_400_000  # two days later: the DAY order is due
    plan.arm(1, DISK_FULL)  # the expiry's first write fails while opening
    b2 = PaperBroker.open(path, bus=EventBus(), clock=lambda: clock[0])
    assert plan.fired
    plan.arm(None)
    assert b2.accounts() == ["acct"] and b2.quarantined == []  # not taken for a broken account
    assert b2.order(day.order_id).state is OrderState.ACCEPTED  # what the store holds
    assert b2.expire_due() == 1
    assert b2.order(day.order_id).state is OrderState.EXPIRED
