"""Health, diagnostics and backups: the health checks (``engine/health``), the ``health``,
``backup``, ``restore`` and ``diagnostics`` verbs (``app/health_cli.py``), and the daily
backup while the workstation runs.

Scheduled backups: one at start-up (``app/main.py``) and then every
``health/backup_interval_hours`` (default 24) while running, from an object-owned QTimer;
each runs ``engine.health.backups.take_backup`` in a worker (online backup API, verified,
rotated: 7 daily + 4 weekly kept).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.features import CliVerb, Feature, ServiceSpec, SettingKey

if TYPE_CHECKING:
    from app.context import AppContext

BACKUP_INTERVAL_KEY = "health/backup_interval_hours"


def _interval_problem(v: Any) -> str | None:
    return None if 1 <= int(v) <= 24 * 7 else "must be between 1 and 168 hours"


class BackupScheduler:
    """Takes a verified backup every ``interval_h`` hours in a worker (object-owned QTimer)."""

    def __init__(self, ctx: "AppContext", interval_h: float = 24.0) -> None:
        from PySide6.QtCore import QTimer

        self.ctx = ctx
        self.timer = QTimer()
        self.timer.setInterval(int(interval_h * 3600 * 1000))
        self.timer.timeout.connect(self.backup_now)
        self.last: Any = None
        self.timer.start()

    def backup_now(self) -> None:
        from engine.health.backups import take_backup

        self.ctx.tasks.submit(take_backup, self.ctx.db.path, label="Backing up the database",
                              on_result=self._on_done)

    def _on_done(self, path: Any) -> None:
        self.last = path

    def stop(self) -> None:
        self.timer.stop()


def _scheduler(ctx: "AppContext") -> BackupScheduler:
    return BackupScheduler(ctx, float(ctx.settings.get(BACKUP_INTERVAL_KEY, 24)))


def _start(ctx: "AppContext") -> None:
    ctx.service(BackupScheduler)


def _verbs() -> tuple[CliVerb, ...]:
    def lazy(name: str) -> Any:
        def call(*a: Any) -> Any:
            from app import health_cli

            return getattr(health_cli, name)(*a)
        return call

    return (
        CliVerb("health", "check the database, disk, memory, data freshness and backups",
                lazy("add_health"), lazy("cmd_health"),
                description="Each check with its status (healthy, degraded, unhealthy) and figure; "
                            "exit status 1 when one is unhealthy."),
        CliVerb("backup", "back the local store up (SQLite online backup, verified)",
                lazy("add_backup"), lazy("cmd_backup")),
        CliVerb("restore", "restore the local store from a backup (the current one is kept aside)",
                lazy("add_restore"), lazy("cmd_restore")),
        CliVerb("diagnostics", "write a zip of logs, settings and health results, secrets removed",
                lazy("add_diagnostics"), lazy("cmd_diagnostics")),
    )


FEATURE = Feature(
    id="health",
    title="Health",
    services=(ServiceSpec("app.features.health:BackupScheduler", _scheduler),),
    settings=(
        SettingKey(BACKUP_INTERVAL_KEY, int, 24, "Hours between scheduled backups while running",
                   validator=_interval_problem, label="Backup every (hours)"),
    ),
    cli_verbs=_verbs(),
    start=_start,
)
