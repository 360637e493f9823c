"""Health checks: each measures one figure and grades it healthy / degraded / unhealthy.

Thresholds (``THRESHOLDS``; a value at or above a bound takes that grade):

=================  ==============  ============  =============
check              unit            degraded at   unhealthy at
=================  ==============  ============  =============
database_latency   ms              100           500
disk_used          %               80            90
process_memory     MB              1024          2048
database_size      MB              2048          8192
data_freshness     sessions behind 1             5
last_backup_age    hours           26            72
background_work    active tasks    8             32
=================  ==============  ============  =============

``database_integrity`` is healthy when ``PRAGMA quick_check`` (or ``integrity_check`` with
``full=True``) answers "ok", else unhealthy. ``sync_status`` is healthy when a configured
link is connected, degraded when it is configured but offline, healthy with the value
"not configured" when there is none (a local-only workstation is fine).
"""
from __future__ import annotations

import datetime as _dt
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from engine.store.db import connect_sqlite, list_backups


class Status(str, Enum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


_ORDER = {Status.HEALTHY: 0, Status.DEGRADED: 1, Status.UNHEALTHY: 2}

#: name -> (degraded at, unhealthy at, unit); see the module docstring.
THRESHOLDS: dict[str, tuple[float, float, str]] = {
    "database_latency": (100.0, 500.0, "ms"),
    "disk_used": (80.0, 90.0, "%"),
    "process_memory": (1024.0, 2048.0, "MB"),
    "database_size": (2048.0, 8192.0, "MB"),
    "data_freshness": (1.0, 5.0, "sessions behind"),
    "last_backup_age": (26.0, 72.0, "hours"),
    "background_work": (8.0, 32.0, "active tasks"),
}


@dataclass(frozen=True, slots=True)
class Check:
    """One check's result. ``value`` is a number, or text when there is no figure."""

    name: str
    status: Status
    value: float | int | str | None
    unit: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON form: exactly ``name``, ``status``, ``value``, ``unit``."""
        return {"name": self.name, "status": self.status.value, "value": self.value, "unit": self.unit}


def threshold_text(name: str) -> str:
    """"degraded ≥ 100 ms, unhealthy ≥ 500 ms" for a graded check, "" otherwise."""
    if name not in THRESHOLDS:
        return ""
    d, u, unit = THRESHOLDS[name]
    return f"degraded ≥ {d:g} {unit}, unhealthy ≥ {u:g} {unit}"


def grade(name: str, value: float) -> Status:
    """The status of ``value`` for the graded check ``name`` (``THRESHOLDS``).

    Raises ``KeyError`` for a name without thresholds and ``ValueError`` for NaN.
    """
    degraded, unhealthy, _unit = THRESHOLDS[name]
    if value != value:
        raise ValueError(f"{name}: value is not a number")
    if value >= unhealthy:
        return Status.UNHEALTHY
    if value >= degraded:
        return Status.DEGRADED
    return Status.HEALTHY


def worst(checks: Iterable[Check]) -> Status:
    """The worst status among ``checks`` (healthy for none)."""
    return max((c.status for c in checks), key=_ORDER.__getitem__, default=Status.HEALTHY)


def _graded(name: str, value: float, detail: str = "", digits: int = 1) -> Check:
    return Check(name, grade(name, value), round(value, digits), THRESHOLDS[name][2], detail)


# --------------------------------------------------------------------------- the checks

def database_integrity(db_path: Path, *, full: bool = False) -> Check:
    """``PRAGMA quick_check`` (``integrity_check`` with ``full``) of the store, read-only."""
    pragma = "integrity_check" if full else "quick_check"
    if not db_path.exists():
        return Check("database_integrity", Status.HEALTHY, "no database yet", "", pragma)
    try:
        conn = connect_sqlite(f"file:{db_path}?mode=ro", uri=True)
        try:
            rows = [str(r[0]) for r in conn.execute(f"PRAGMA {pragma}").fetchall()]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return Check("database_integrity", Status.UNHEALTHY, str(exc), "", pragma)
    ok = rows == ["ok"]
    return Check("database_integrity", Status.HEALTHY if ok else Status.UNHEALTHY,
                 "ok" if ok else "; ".join(rows[:3]), "", pragma)


def database_size(db_path: Path) -> Check:
    """The store's size with its WAL, in MB."""
    total = sum(p.stat().st_size for p in (db_path, db_path.with_name(db_path.name + "-wal")) if p.exists())
    return _graded("database_size", total / 1e6, digits=2)


def database_latency(db_path: Path, repeats: int = 5) -> Check:
    """Median wall time of a small read query (``SELECT count(*) FROM sqlite_master`` and a
    kv lookup) on a fresh connection, in ms."""
    if not db_path.exists():
        return Check("database_latency", Status.HEALTHY, None, "ms", "no database yet")
    times = []
    conn = connect_sqlite(f"file:{db_path}?mode=ro", uri=True)
    try:
        for _ in range(repeats):
            t0 = time.perf_counter()
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        conn.close()
    times.sort()
    return _graded("database_latency", times[len(times) // 2], digits=3)


def disk_used(folder: Path) -> Check:
    """How full the disk holding ``folder`` is, in % used."""
    u = shutil.disk_usage(folder if folder.exists() else folder.parent)
    free_gb = u.free / 1e9
    return _graded("disk_used", 100.0 * (u.total - u.free) / u.total if u.total else 0.0,
                   detail=f"{free_gb:.1f} GB free")


def process_memory_mb() -> float:
    """This process's resident memory in MB: psutil when installed, else /proc, else
    ``resource`` (peak RSS, the best the platform offers without psutil)."""
    try:
        import psutil  # type: ignore[import-untyped]

        return float(psutil.Process().memory_info().rss) / 1e6
    except ImportError:
        pass
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


def process_memory() -> Check:
    return _graded("process_memory", process_memory_mb())


def data_freshness(db_path: Path, now: float | None = None) -> list[Check]:
    """One check per stored (source, symbol, timeframe): how many sessions of its exchange's
    calendar closed after its newest bar's session (0 = up to date). Generated demo data
    (source "demo") is shown but always healthy."""
    if not db_path.exists():
        return []
    from engine.market.calendar import exchange_for, exchange_tz, get_calendar

    now = time.time() if now is None else now
    conn = connect_sqlite(f"file:{db_path}?mode=ro", uri=True)
    try:
        try:
            rows = conn.execute(
                "SELECT source, symbol, timeframe, last_ts FROM bar_series ORDER BY source, symbol, timeframe"
            ).fetchall()
        except sqlite3.OperationalError:
            return []
    finally:
        conn.close()
    out = []
    for source, symbol, timeframe, last_ts in rows:
        name = f"data_freshness:{source}:{symbol}:{timeframe}"
        try:
            ex = exchange_for(symbol)
            cal = get_calendar(ex)
            tz = exchange_tz(symbol)
            last_close = cal.previous_close(now)
            last_session = _dt.datetime.fromtimestamp(last_close, tz).date()
            bar_day = _dt.datetime.fromtimestamp(int(last_ts), tz).date()
            behind = 0 if bar_day >= last_session else max(
                0, len(cal.sessions(bar_day, last_session)) - (1 if cal.is_session(bar_day) else 0))
        except ValueError as exc:  # outside the calendar's range
            out.append(Check(name, Status.DEGRADED, str(exc), "sessions behind"))
            continue
        detail = f"newest bar {bar_day.isoformat()}, last session {last_session.isoformat()}"
        if source == "demo":  # generated prices: no market to be behind, shown but not graded
            out.append(Check(name, Status.HEALTHY, behind, "sessions behind", detail + " (demo data, not graded)"))
            continue
        out.append(Check(name, grade("data_freshness", behind), behind, "sessions behind", detail))
    return out


def background_work(active: int) -> Check:
    """How many worker tasks are running or queued."""
    return Check("background_work", grade("background_work", float(active)), int(active), "active tasks")


def last_backup_age(db_path: Path, now: float | None = None) -> Check:
    """Hours since the newest backup in ``backups/`` (unhealthy when there is none)."""
    now = time.time() if now is None else now
    found = list_backups(db_path)
    if not found:
        return Check("last_backup_age", Status.UNHEALTHY if db_path.exists() else Status.HEALTHY,
                     None, "hours", "no backup yet")
    newest = max(p.stat().st_mtime for p in found)
    return _graded("last_backup_age", max(0.0, (now - newest) / 3600.0), detail=found[0].name)


def sync_status(link: object | None) -> Check:
    """A sync link's state, duck-typed: the last ``SyncStatusChanged`` (``state`` off,
    signed_out, synced, pending: healthy; offline: degraded; error: unhealthy), else
    ``base_url`` of ``sync.link.ServiceLink`` (None = offline), else a
    ``connected``/``is_connected``/``online`` attribute or method); "not configured" when
    there is none."""
    if link is None:
        return Check("sync_status", Status.HEALTHY, "not configured", "")
    state = getattr(link, "state", None)
    if isinstance(state, str):  # the last sync.service.SyncStatusChanged
        message = str(getattr(link, "message", "") or "")
        graded = {"off": (Status.HEALTHY, "not configured"), "signed_out": (Status.HEALTHY, "signed out"),
                  "synced": (Status.HEALTHY, "synced"), "pending": (Status.HEALTHY, "pending"),
                  "offline": (Status.DEGRADED, "offline"), "error": (Status.UNHEALTHY, "error")}
        st, text = graded.get(state, (Status.DEGRADED, state))
        pending = getattr(link, "pending", 0)
        return Check("sync_status", st, text, "", message or (f"{pending} changes waiting" if pending else ""))
    if hasattr(link, "base_url"):  # sync.link.ServiceLink: a URL while the service answers
        url = getattr(link, "base_url", None)
        if url:
            return Check("sync_status", Status.HEALTHY, "connected", "", str(url))
        return Check("sync_status", Status.DEGRADED, "offline", "", str(getattr(link, "reason", "") or ""))
    for attr in ("connected", "is_connected", "online"):
        v = getattr(link, attr, None)
        if v is None:
            continue
        state = bool(v() if callable(v) else v)
        return Check("sync_status", Status.HEALTHY if state else Status.DEGRADED,
                     "connected" if state else "offline", "")
    return Check("sync_status", Status.HEALTHY, "configured", "")


def _safe(name: str, unit: str, fn: Callable[[], Any]) -> list[Check]:
    """``fn()`` as a list of checks; an error becomes one unhealthy check that names it."""
    try:
        got = fn()
    except (OSError, sqlite3.Error, ValueError) as exc:
        return [Check(name, Status.UNHEALTHY, f"{type(exc).__name__}: {exc}"[:200], unit)]
    return list(got) if isinstance(got, list) else [got]


def run_checks(db_path: Path, *, active_tasks: int = 0, sync_link: object | None = None,
               full_integrity: bool = False, now: float | None = None,
               extra: Iterable[Callable[[], Check]] = ()) -> list[Check]:
    """Every check, in display order. Slow (integrity, freshness): run it in a worker. A check
    that fails (a damaged or locked file) is reported unhealthy with its error, never raised."""
    steps: list[tuple[str, str, Callable[[], Any]]] = [
        ("database_integrity", "", lambda: database_integrity(db_path, full=full_integrity)),
        ("database_size", "MB", lambda: database_size(db_path)),
        ("database_latency", "ms", lambda: database_latency(db_path)),
        ("disk_used", "%", lambda: disk_used(db_path.parent)),
        ("process_memory", "MB", process_memory),
        ("data_freshness", "sessions behind", lambda: data_freshness(db_path, now)),
        ("background_work", "active tasks", lambda: background_work(active_tasks)),
        ("last_backup_age", "hours", lambda: last_backup_age(db_path, now)),
        ("sync_status", "", lambda: sync_status(sync_link)),
    ]
    checks: list[Check] = []
    for name, unit, fn in steps:
        checks.extend(_safe(name, unit, fn))
    for fn in extra:
        checks.extend(_safe("extra", "", fn))
    return checks
