"""Verified backups of the local store, their rotation, and restore.

A backup is written with SQLite's online backup API (``sqlite3.Connection.backup``: pages
are copied under the database's own locking, so writers may keep going; never a file copy
of a live database), to a temporary name, then checked with ``PRAGMA integrity_check``
and only then renamed into place. A copy that fails the check is deleted and
``BackupFailed`` raised.

Rotation (``rotate``): in ``<data dir>/backups/`` the newest backup of each of the last
``DAILY_KEPT`` (7) days that have one, plus the newest of each of the last ``WEEKLY_KEPT``
(4) ISO weeks before those, are kept; older ones are deleted. Backups written elsewhere
(``--out``) are never rotated.

Restore (``restore``) refuses a file that is not a healthy Stock Scanner store of this or an
older schema (the store's own ``DatabaseCorrupt`` / ``ForeignDatabase`` / ``NewerDatabase``
errors), moves the current store and its WAL aside to ``<name>.before-restore-<time>``,
and puts a copy of the backup in its place.
"""
from __future__ import annotations

import datetime as _dt
import re
import sqlite3
from pathlib import Path

from engine.store.db import (
    APPLICATION_ID,
    DatabaseCorrupt,
    ForeignDatabase,
    NewerDatabase,
    StoreError,
    backups_dir,
    known_revisions,
    list_backups,
    probe_file,
    revision_number,
    head_revision,
    store_errors,
)

DAILY_KEPT = 7
WEEKLY_KEPT = 4
_STAMP_RE = re.compile(r"-(\d{8}-\d{6})(?:-\d+)?\.sqlite3$")


class BackupFailed(StoreError):
    """The copy could not be written or failed its integrity check."""


class NotRestorable(DatabaseCorrupt):
    """The file offered for a restore is not a healthy SQLite file."""

    def __init__(self, path: Path, detail: str) -> None:
        StoreError.__init__(self, f"The file {path} cannot be restored: it is not a healthy SQLite database "
                                  f"({detail}); nothing was changed.")
        self.path, self.detail, self.backups = path, detail, []


def _stamp_of(p: Path) -> _dt.datetime | None:
    m = _STAMP_RE.search(p.name)
    if not m:
        return None
    try:
        return _dt.datetime.strptime(m.group(1), "%Y%m%d-%H%M%S")
    except ValueError:
        return None


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    finally:
        conn.close()
    return "ok" if rows == ["ok"] else "; ".join(rows[:3])


def take_backup(db_path: Path, out: Path | None = None, *, now: _dt.datetime | None = None) -> Path:
    """Back the store at ``db_path`` up with the online backup API and verify the copy.

    ``out`` None: into ``backups/`` with a time stamp, then ``rotate``; ``out`` a folder: a
    stamped file inside it; else that file (refused if it exists). Returns the backup's path.
    Raises ``FileNotFoundError`` when there is no store, ``FileExistsError`` for an existing
    ``out`` file, ``BackupFailed`` when the copy fails its integrity check, and the store's
    errors (locked, disk full, ...) from ``store_errors``.
    """
    db_path = Path(db_path)
    if not db_path.exists() or db_path.stat().st_size == 0:
        raise FileNotFoundError(f"there is no database at {db_path} to back up")
    now = now or _dt.datetime.now()
    stamp = now.strftime("%Y%m%d-%H%M%S")
    if out is None or Path(out).is_dir():
        folder = backups_dir(db_path) if out is None else Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / f"{db_path.stem}-{stamp}.sqlite3"
        n = 1
        while dest.exists():
            dest = folder / f"{db_path.stem}-{stamp}-{n}.sqlite3"
            n += 1
    else:
        dest = Path(out)
        if dest.exists():
            raise FileExistsError(f"{dest} already exists; choose another file or a folder")
        if not dest.parent.is_dir():
            raise FileNotFoundError(f"the folder {dest.parent} does not exist")
    tmp = dest.with_name(dest.name + ".partial")
    with store_errors(db_path):
        src = sqlite3.connect(db_path, timeout=30.0)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)  # one step: a consistent snapshot even while others write
            finally:
                dst.close()
        finally:
            src.close()
    verdict = _integrity(tmp)
    if verdict != "ok":
        tmp.unlink(missing_ok=True)
        raise BackupFailed(f"the backup of {db_path} failed its integrity check ({verdict}); nothing was kept")
    tmp.replace(dest)
    if out is None:
        rotate(db_path)
    return dest


def keep_set(files: list[Path], daily: int = DAILY_KEPT, weekly: int = WEEKLY_KEPT) -> set[Path]:
    """Which of ``files`` the rotation keeps (see the module docstring)."""
    dated = sorted(((s, p) for p in files if (s := _stamp_of(p)) is not None), reverse=True)
    keep: set[Path] = set()
    days: list[_dt.date] = []
    weeks: list[tuple[int, int]] = []
    for stamp, p in dated:  # newest first: the first seen of a day/week is its newest
        day = stamp.date()
        if day in days:
            continue
        if len(days) < daily:
            days.append(day)
            keep.add(p)
            continue
        week = tuple(stamp.isocalendar())[:2]
        if week in weeks or any(tuple(d.isocalendar())[:2] == week for d in days):
            days.append(day)
            continue
        if len(weeks) < weekly:
            weeks.append((int(week[0]), int(week[1])))
            keep.add(p)
        days.append(day)
    return keep


def rotate(db_path: Path, daily: int = DAILY_KEPT, weekly: int = WEEKLY_KEPT) -> list[Path]:
    """Delete the backups of ``db_path`` the rotation does not keep; returns those deleted."""
    files = list_backups(db_path)
    keep = keep_set(files, daily, weekly)
    gone = [p for p in files if p not in keep and _stamp_of(p) is not None]
    for p in gone:
        p.unlink(missing_ok=True)
    return gone


def check_restorable(backup_file: Path) -> None:
    """Raise unless ``backup_file`` is a healthy Stock Scanner store this build can open.

    ``FileNotFoundError`` (missing or empty), ``DatabaseCorrupt`` (not SQLite, damaged),
    ``ForeignDatabase`` (another program's database), ``NewerDatabase`` (a newer schema).
    """
    backup_file = Path(backup_file)
    try:
        probe = probe_file(backup_file)
    except DatabaseCorrupt as exc:
        m = re.search(r"damaged \((.*)\)\. It has not", str(exc))
        raise NotRestorable(backup_file, m.group(1) if m else "damaged") from exc
    if probe is None:
        raise FileNotFoundError(f"{backup_file} does not exist or is empty")
    if probe.application_id != APPLICATION_ID:
        raise ForeignDatabase(f"{backup_file} is not a Stock Scanner store (an SQLite database of another "
                              "program); nothing was restored")
    if (probe.revision is not None and probe.revision not in known_revisions()) or (
            probe.user_version > revision_number(head_revision())):
        raise NewerDatabase(f"{backup_file} was written by a newer Stock Scanner (schema "
                            f"{probe.revision or probe.user_version}); nothing was restored")


def restore(db_path: Path, backup_file: Path, *, now: _dt.datetime | None = None) -> Path | None:
    """Replace the store at ``db_path`` with a copy of ``backup_file``.

    The current store (with its ``-wal``/``-shm``) is moved to
    ``<name>.before-restore-<time>``; returns that path (None when there was no store).
    The caller makes sure no process has the store open. Raises what ``check_restorable``
    raises, before anything is changed.
    """
    db_path, backup_file = Path(db_path), Path(backup_file)
    check_restorable(backup_file)
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    tmp = db_path.with_name(db_path.name + ".restoring")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    aside: Path | None = None
    if db_path.exists():
        aside = db_path.with_name(f"{db_path.name}.before-restore-{stamp}")
        db_path.replace(aside)
    for suffix in ("-wal", "-shm"):
        side = db_path.with_name(db_path.name + suffix)
        if side.exists():
            if aside is not None:
                side.replace(aside.with_name(aside.name + suffix))
            else:
                side.unlink()
    tmp.replace(db_path)
    return aside


def pending_file(db_path: Path) -> Path:
    """Where a restore chosen in the running workstation waits for the next start."""
    return Path(db_path).with_name("restore-pending.json")


def schedule_restore(db_path: Path, backup_file: Path) -> Path:
    """Ask for ``backup_file`` to replace the store at the next start (the store is open
    while the workstation runs). Raises what ``check_restorable`` raises."""
    import json

    check_restorable(backup_file)
    marker = pending_file(db_path)
    marker.write_text(json.dumps({"backup": str(Path(backup_file).resolve())}), encoding="utf-8")
    return marker


def apply_pending_restore(db_path: Path) -> tuple[Path, Path | None] | None:
    """At start-up, before the store is opened: carry out a scheduled restore.

    Returns (backup restored, where the previous store was kept) or None when nothing was
    scheduled. The marker is removed first, so a restore that fails is not retried forever;
    the failure is raised (``check_restorable``'s errors) and the store is unchanged.
    """
    import json

    marker = pending_file(db_path)
    if not marker.exists():
        return None
    try:
        backup_file = Path(json.loads(marker.read_text(encoding="utf-8"))["backup"])
    except (ValueError, KeyError, TypeError) as exc:
        marker.unlink(missing_ok=True)
        raise ValueError(f"the scheduled restore in {marker} is unreadable ({exc}); nothing was restored") from exc
    marker.unlink(missing_ok=True)
    return backup_file, restore(db_path, backup_file)
