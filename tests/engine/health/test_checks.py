"""Health checks: thresholds map fake values to statuses; real checks on a real store."""
from __future__ import annotations

import datetime as _dt
import sqlite3

import pytest

from engine.health import THRESHOLDS, Status, grade, run_checks, worst
from engine.health.checks import data_freshness, database_integrity, last_backup_age, sync_status
from engine.store.db import open_database


@pytest.mark.parametrize("name,value,status", [
    ("database_latency", 99.9, Status.HEALTHY), ("database_latency", 100, Status.DEGRADED),
    ("database_latency", 499, Status.DEGRADED), ("database_latency", 500, Status.UNHEALTHY),
    ("disk_used", 79.9, Status.HEALTHY), ("disk_used", 80, Status.DEGRADED),
    ("disk_used", 90, Status.UNHEALTHY), ("data_freshness", 0, Status.HEALTHY),
    ("data_freshness", 1, Status.DEGRADED), ("data_freshness", 5, Status.UNHEALTHY),
    ("last_backup_age", 25, Status.HEALTHY), ("last_backup_age", 80, Status.UNHEALTHY),
])
def test_thresholds_map_values_to_statuses(name, value, status):
    assert grade(name, value) is status


def test_issue_thresholds_are_the_stated_ones():
    assert THRESHOLDS["database_latency"][:2] == (100.0, 500.0)
    assert THRESHOLDS["disk_used"][:2] == (80.0, 90.0)


def test_nan_is_refused():
    with pytest.raises(ValueError):
        grade("disk_used", float("nan"))


def test_checks_on_a_fresh_store_are_healthy_but_the_missing_backup(tmp_path):
    db = open_database(tmp_path / "stockscanner.sqlite3")
    checks = {c.name: c for c in run_checks(db.path)}
    assert checks["database_integrity"].value == "ok"
    assert checks["database_integrity"].status is Status.HEALTHY
    assert checks["last_backup_age"].status is Status.UNHEALTHY
    assert checks["sync_status"].value == "not configured"
    assert worst(checks.values()) is Status.UNHEALTHY


def test_a_damaged_store_is_unhealthy(tmp_path):
    p = tmp_path / "s.sqlite3"
    p.write_bytes(b"SQLite format 3\x00" + b"\x07" * 4000)
    assert database_integrity(p).status is Status.UNHEALTHY


def test_freshness_counts_sessions_behind_the_calendar(tmp_path):
    db = open_database(tmp_path / "s.sqlite3")
    # Friday 2026-11-20 bar; "now" is Wednesday 2026-11-25 evening New York time:
    # sessions Mon 23, Tue 24, Wed 25 closed after it -> 3 behind.
    bar = int(_dt.datetime(2026, 11, 20, 14, 30, tzinfo=_dt.timezone.utc).timestamp())
    now = _dt.datetime(2026, 11, 26, 0, 0, tzinfo=_dt.timezone.utc).timestamp()
    fresh = int(_dt.datetime(2026, 11, 25, 14, 30, tzinfo=_dt.timezone.utc).timestamp())
    conn = sqlite3.connect(db.path)
    with conn:
        conn.execute("INSERT INTO bar_series(symbol,timeframe,source,first_ts,last_ts,rows,updated_at) "
                     "VALUES ('AAPL','1d','yahoo',?,?,1,0)", (bar, bar))
        conn.execute("INSERT INTO bar_series(symbol,timeframe,source,first_ts,last_ts,rows,updated_at) "
                     "VALUES ('MSFT','1d','csv',?,?,1,0)", (fresh, fresh))
    conn.close()
    checks = {c.name: c for c in data_freshness(db.path, now)}
    assert checks["data_freshness:yahoo:AAPL:1d"].value == 3
    assert checks["data_freshness:yahoo:AAPL:1d"].status is Status.DEGRADED
    assert checks["data_freshness:csv:MSFT:1d"].value == 0
    assert checks["data_freshness:csv:MSFT:1d"].status is Status.HEALTHY


def test_backup_age(tmp_path):
    db = open_database(tmp_path / "stockscanner.sqlite3")
    (tmp_path / "backups").mkdir()
    b = tmp_path / "backups" / "stockscanner-20261101-000000.sqlite3"
    b.write_bytes(b"x")
    import os
    os.utime(b, (1_000_000, 1_000_000))
    c = last_backup_age(db.path, now=1_000_000 + 30 * 3600)
    assert c.value == 30.0 and c.status is Status.DEGRADED


def test_sync_status_reads_a_service_link():
    class Link:
        base_url = None
        reason = "connection refused"
    assert sync_status(Link()).status is Status.DEGRADED
    Link.base_url = "http://127.0.0.1:8000"
    assert sync_status(Link()).value == "connected"


def test_a_damaged_store_gives_unhealthy_checks_not_an_exception(tmp_path):
    p = tmp_path / "stockscanner.sqlite3"
    p.write_bytes(b"SQLite format 3\x00" + b"\x07" * 4000)
    checks = {c.name: c for c in run_checks(p)}
    assert checks["database_integrity"].status is Status.UNHEALTHY
    assert checks["database_latency"].status is Status.UNHEALTHY
    assert "DatabaseError" in str(checks["database_latency"].value)
    assert checks["disk_used"].status in (Status.HEALTHY, Status.DEGRADED, Status.UNHEALTHY)
