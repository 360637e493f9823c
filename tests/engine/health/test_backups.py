"""Backups: online backup during heavy paper trading restores to a consistent store; the
rotation keeps 7 daily + 4 weekly; restore keeps the current store aside and refuses bad files."""
from __future__ import annotations

import datetime as _dt
import random
import sqlite3
import threading
from decimal import Decimal

import pytest

from engine.events import EventBus
from engine.health.backups import BackupFailed, check_restorable, keep_set, restore, take_backup
from engine.market.calendar import get_calendar
from engine.paper.broker import PaperBroker
from engine.paper.orders import OrderRequest, OrderType, Side, TimeInForce
from engine.store.db import DatabaseCorrupt, ForeignDatabase, open_database
from tests.engine.paper.test_crash_safety import _check


def _trade(db, stop: threading.Event, counts: list[int]) -> None:
    rng = random.Random(7)
    broker = PaperBroker.open(db, bus=EventBus())
    try:
        px = 100.0
        while not stop.is_set():
            px = max(1.0, px * (1 + rng.gauss(0, 0.002)))
            broker.on_quote("SIM", round(px - 0.01, 2), round(px + 0.01, 2), round(px, 2))
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            if rng.random() < 0.5:
                r = OrderRequest("SIM", side, rng.randint(1, 50), tif=TimeInForce.GTC)
            else:
                r = OrderRequest("SIM", side, rng.randint(1, 50), OrderType.LIMIT,
                                 limit_price=Decimal(str(round(px + rng.uniform(-0.3, 0.3), 2))),
                                 tif=TimeInForce.GTC)
            broker.submit("crash", r)
            counts[0] += 1
    finally:
        broker.close()


def test_backup_during_heavy_writes_restores_to_a_consistent_store(tmp_path):
    db = tmp_path / "stockscanner.sqlite3"
    get_calendar("XNYS")
    b = PaperBroker.open(db, bus=EventBus())
    b.create_account("crash", 1_000_000, "margin")
    b.close()
    stop, counts = threading.Event(), [0]
    t = threading.Thread(target=_trade, args=(db, stop, counts))
    t.start()
    backups = []
    try:
        while counts[0] < 30:
            stop.wait(0.01)
        for i in range(4):
            start = counts[0]
            backups.append(take_backup(db, tmp_path / f"b{i}.sqlite3"))
            while counts[0] < start + 20 and t.is_alive():
                stop.wait(0.01)  # trading goes on between (and during) backups
    finally:
        stop.set()
        t.join(30)
    assert counts[0] > 100
    seen = []
    for i, bk in enumerate(backups):
        target = tmp_path / f"restored{i}" / "stockscanner.sqlite3"
        target.parent.mkdir()
        restore(target, bk)
        n_orders, n_fills = _check(target, [])  # integrity ok, ledger reconciles with the fills
        seen.append(n_orders)
    assert seen == sorted(seen) and seen[-1] > seen[0] > 0  # snapshots taken mid-stream


def test_restore_keeps_the_current_store_aside(tmp_path):
    db = open_database(tmp_path / "stockscanner.sqlite3")
    with db.connect() as c:
        c.execute("INSERT INTO kv(key, value) VALUES ('mark', 'before')")
    bk = take_backup(db.path)
    with db.connect() as c:
        c.execute("UPDATE kv SET value='after' WHERE key='mark'")
    db.dispose()
    aside = restore(db.path, bk)
    assert aside is not None and aside.name.startswith("stockscanner.sqlite3.before-restore-")
    q = "SELECT value FROM kv WHERE key='mark'"
    assert sqlite3.connect(db.path).execute(q).fetchone()[0] == "before"
    assert sqlite3.connect(aside).execute(q).fetchone()[0] == "after"


def test_restore_refuses_foreign_and_damaged_files(tmp_path):
    db = open_database(tmp_path / "stockscanner.sqlite3")
    foreign = tmp_path / "other.sqlite3"
    c = sqlite3.connect(foreign)
    c.execute("CREATE TABLE t(x)")
    c.commit()
    c.close()
    with pytest.raises(ForeignDatabase):
        restore(db.path, foreign)
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database at all")
    with pytest.raises(DatabaseCorrupt):
        check_restorable(bad)
    assert db.path.exists() and not list(tmp_path.glob("*.before-restore-*"))


def test_backup_is_verified_and_refuses_an_existing_file(tmp_path):
    db = open_database(tmp_path / "stockscanner.sqlite3")
    out = take_backup(db.path, tmp_path / "copy.sqlite3")
    assert sqlite3.connect(out).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with pytest.raises(FileExistsError):
        take_backup(db.path, out)
    assert issubclass(BackupFailed, Exception)


def test_rotation_keeps_seven_daily_and_four_weekly(tmp_path):
    start = _dt.datetime(2026, 1, 1, 0, 0, 0)
    files = []
    for d in range(120):  # two backups a day for 120 days
        for h in (1, 13):
            s = (start + _dt.timedelta(days=d, hours=h)).strftime("%Y%m%d-%H%M%S")
            files.append(tmp_path / f"stockscanner-{s}.sqlite3")
    kept = sorted(keep_set(files), reverse=True)
    assert len(kept) == 11
    days = [p.name[13:21] for p in kept]
    newest = (start + _dt.timedelta(days=119)).strftime("%Y%m%d")
    assert days[0] == newest and kept[0].name.endswith("-130000.sqlite3")  # the day's newest
    daily = [_dt.datetime.strptime(d, "%Y%m%d").date() for d in days[:7]]
    assert daily == [daily[0] - _dt.timedelta(days=i) for i in range(7)]
    weeks = {_dt.datetime.strptime(d, "%Y%m%d").isocalendar()[:2] for d in days[7:]}
    assert len(weeks) == 4
