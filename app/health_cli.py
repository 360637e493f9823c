"""The ``health``, ``backup``, ``restore`` and ``diagnostics`` verbs (``app/features/health.py``)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from app.cli import CliError


def _db_path() -> Path:
    from engine import paths

    return paths.database_path()


def add_health(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help='print {"checks":[{"name","status","value","unit"}...]}')
    p.add_argument("--full", action="store_true", help="PRAGMA integrity_check instead of quick_check (slower)")


def health_results(full: bool = False) -> list[Any]:
    from engine.health import run_checks

    return run_checks(_db_path(), full_integrity=full)


def cmd_health(args: argparse.Namespace) -> int:
    """Every check; exit 1 when one is unhealthy."""
    from engine.health import Status

    checks = health_results(args.full)
    if args.json:
        print(json.dumps({"checks": [c.to_dict() for c in checks]}))
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            value = "-" if c.value is None else c.value
            unit = f" {c.unit}" if c.unit else ""
            detail = f"  ({c.detail})" if c.detail else ""
            print(f"{c.name:<{width}}  {c.status.value:<9}  {value}{unit}{detail}")
    return 1 if any(c.status is Status.UNHEALTHY for c in checks) else 0


def add_backup(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="PATH", type=Path,
                   help="a new file or a folder (default: the data folder's backups/, rotated: "
                        "7 daily + 4 weekly kept)")


def cmd_backup(args: argparse.Namespace) -> int:
    from engine.health.backups import take_backup

    try:
        dest = take_backup(_db_path(), args.out)
    except (FileNotFoundError, FileExistsError) as exc:
        raise CliError(str(exc)) from exc
    print(dest)
    return 0


def add_restore(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="PATH", type=Path, help="a backup file (see the backups/ folder)")


class WorkstationRunning(CliError):
    pass


def _hold_data_folder() -> Any:
    """The workstation's instance lock on the data folder (None if a window holds it)."""
    from app.single_instance import SingleInstance
    from engine import paths

    lock = SingleInstance(paths.data_dir())
    return lock if lock.acquire(listen=False) else None


def cmd_restore(args: argparse.Namespace) -> int:
    from engine.health.backups import check_restorable, restore

    if not args.path.exists():
        raise CliError(f"{args.path} does not exist")
    check_restorable(args.path)  # refuse a foreign, newer or damaged file before anything else
    lock = _hold_data_folder()
    if lock is None:
        raise WorkstationRunning(
            "a workstation has this data folder open; close it (or use Settings → Backups → "
            "Restore… in it) and try again")
    try:
        aside = restore(_db_path(), args.path)
    finally:
        lock.release()
    print(f"restored {_db_path()} from {args.path}")
    if aside is not None:
        print(f"the previous store was kept as {aside}")
    return 0


def add_diagnostics(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="F.zip", type=Path, required=True, help="the zip to write")


def write_diagnostics(out: Path, checks: list[Any] | None = None, usage: dict[str, Any] | None = None) -> Path:
    """The diagnostics zip of this data folder (logs, settings.ini, health and, when given,
    the opt-in usage counts), redacted."""
    from engine import paths
    from engine.health.diagnostics import write_zip

    checks = health_results() if checks is None else checks
    logs = sorted(paths.log_dir().glob("*.log*")) if paths.log_dir().is_dir() else []
    extra = {"usage.json": json.dumps(usage, indent=2)} if usage else None
    return write_zip(out, log_files=logs, settings_file=paths.data_dir() / "settings.ini",
                     health=[c.to_dict() for c in checks], extra=extra)


def cmd_diagnostics(args: argparse.Namespace) -> int:
    try:
        out = write_diagnostics(args.out)
    except FileExistsError as exc:
        raise CliError(str(exc)) from exc
    print(out)
    return 0

