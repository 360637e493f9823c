"""Kill a trading process with SIGKILL at random moments: nothing acknowledged is lost, the
ledger reconciles with the fills, and the database passes PRAGMA integrity_check."""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from engine.events import EventBus
from engine.paper.broker import PaperBroker

REPO = Path(__file__).resolve().parents[3]
REPEATS = 20


def _run_and_kill(db: Path, seed: int, delay: float) -> list[tuple[str, str]]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.Popen(
        [sys.executable, "-m", "tests.engine.paper.crash_child", str(db), str(seed)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )
    assert p.stdout is not None
    first = p.stdout.readline()  # READY: the broker is open and trading starts
    if first.strip() != "READY":
        p.kill()
        raise AssertionError(f"child failed to start: {first!r} {p.stderr.read() if p.stderr else ''}")
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    out, _err = p.communicate(timeout=30)
    assert p.returncode == -signal.SIGKILL
    lines = [ln.split() for ln in out.splitlines()]
    return [(a[0], a[1]) for a in lines if len(a) == 2]  # a line cut by the kill is dropped


def _check(db: Path, acked: list[tuple[str, str]]) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        orders = {r[0]: r for r in conn.execute("SELECT order_id, qty, filled_qty, state FROM paper_orders")}
        fills = conn.execute("SELECT fill_id, order_id, side, qty, price, fee FROM paper_fills").fetchall()
        cash0 = Decimal(conn.execute("SELECT initial_cash FROM paper_accounts WHERE name='crash'").fetchone()[0])
    finally:
        conn.close()
    fill_ids = {f[0] for f in fills}
    for kind, ident in acked:
        if kind == "O":
            assert ident in orders, f"acknowledged order {ident} lost"
        else:
            assert ident in fill_ids, f"acknowledged fill {ident} lost"
    # independent reconciliation from the raw rows
    per_order = defaultdict(int)
    cash = cash0
    qty = 0
    for _fid, oid, side, q, price, fee in fills:
        per_order[oid] += q
        s = q if side == "buy" else -q
        cash -= s * Decimal(price) + Decimal(fee)
        qty += s
    for oid, (_, oqty, filled, state) in orders.items():
        assert filled == per_order.get(oid, 0), f"order {oid} says {filled} filled, fills say {per_order.get(oid, 0)}"
        assert filled <= oqty
    broker = PaperBroker.open(db, bus=EventBus())
    try:
        s = broker.account_summary("crash")
        assert s.cash == cash
        pos = {p.symbol: p.qty for p in broker.positions("crash")}
        assert pos.get("SIM", 0) == qty
        assert {f.fill_id for f in broker.fills("crash")} == fill_ids
        for oid, (_, _q, filled, state) in orders.items():
            view = broker.order(oid)
            assert view.filled_qty == filled and view.state.value == state
    finally:
        broker.close()
    return len(orders), len(fills)


@pytest.mark.slow
def test_sigkill_loses_nothing_acknowledged(tmp_path):
    db = tmp_path / "paper.sqlite3"
    rng = random.Random(1234)
    t0 = time.monotonic()
    total_acked = 0
    for rep in range(REPEATS):
        acked = _run_and_kill(db, seed=rep, delay=rng.uniform(0.02, 0.35))
        total_acked += len(acked)
        n_orders, n_fills = _check(db, acked)
    assert total_acked > 100  # the children really traded
    assert n_orders > 100 and n_fills > 10
    assert time.monotonic() - t0 < 90
