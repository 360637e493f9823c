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

from app.features import ActionSpec, Area, CliVerb, DockSpec, Feature, ServiceSpec, SettingKey, Subscription

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.context import AppContext
    from app.mainwindow import MainWindow

BACKUP_INTERVAL_KEY = "health/backup_interval_hours"
USAGE_KEY = "health/usage_analytics"
DOCK_ID = "health"


class HealthService:
    """The Health dock's service: checks in a worker, metrics, the security log, backups,
    restore (on next start) and the diagnostics zip."""

    def __init__(self, ctx: "AppContext") -> None:
        import time

        from engine.health.metrics import Metrics, SecurityLog, UsageLog

        self.ctx = ctx
        self.metrics = Metrics(ctx.kv)
        self.security = SecurityLog(ctx.kv)
        self.usage = UsageLog(ctx.kv)
        self.last: list[Any] = []
        self.sync_state: Any = None  # the last sync.service.SyncStatusChanged
        self._started: dict[int, float] = {}
        self._clock = time.perf_counter
        ctx.tasks.task_started.connect(self._on_tasks_started)
        ctx.tasks.task_finished.connect(self._on_tasks_finished)

    # worker durations, recorded per label
    def _on_tasks_started(self, w: Any) -> None:
        self._started[id(w)] = self._clock()

    def _on_tasks_finished(self, w: Any) -> None:
        t0 = self._started.pop(id(w), None)
        if t0 is not None:
            self.metrics.record(f"worker ms: {w.label or 'task'}"[:60], (self._clock() - t0) * 1000)

    def usage_enabled(self) -> bool:
        return bool(self.ctx.settings.get(USAGE_KEY, False))

    def record_usage(self, name: str) -> None:
        """Count one use of ``name`` -- only when the user opted in (``health/usage_analytics``)."""
        if name and self.usage_enabled():
            self.usage.record(name.replace("&", ""))

    def watch_actions(self, window: Any) -> None:
        """Count every menu action and shortcut of ``window`` (while opted in)."""
        from PySide6.QtGui import QAction

        for a in window.findChildren(QAction):
            a.triggered.connect(lambda _=False, a=a: self.record_usage(a.objectName() or a.text()))

    def on_sync_status(self, event: Any) -> None:
        """Keep the sync state for the ``sync_status`` check. (Sign-ins, sign-outs, token
        refreshes and 2FA changes reach the security log from the account client itself:
        ``ServiceClient.on_security``, wired in ``app/features/account.py``.)"""
        self.sync_state = event

    def sync_link(self) -> object | None:
        """The last sync status if one was published, else the running
        ``sync.link.ServiceLink`` if the context has one (looked up lazily), else None."""
        if self.sync_state is not None:
            return self.sync_state
        try:
            from app.features import resolve

            kind = resolve("sync.link:ServiceLink")
        except (ImportError, AttributeError):
            return None
        return self.ctx.service(kind) if self.ctx.has_service(kind) else None

    def run_checks(self) -> list[Any]:
        """Every check (blocking: call it in a worker)."""
        from engine.health import run_checks

        t0 = self._clock()
        checks = run_checks(self.ctx.db.path, active_tasks=max(0, len(self.ctx.tasks.active) - 1),
                            sync_link=self.sync_link())
        self.metrics.record("health refresh ms", (self._clock() - t0) * 1000)
        for c in checks:
            if c.name in ("database_latency", "process_memory") and isinstance(c.value, (int, float)):
                self.metrics.record(f"{c.name} {c.unit}", float(c.value))
        return checks

    def take_frame_times(self) -> None:
        """The chart paints since the last call as two samples: the median and the 95th
        percentile frame time (GUI thread)."""
        from widgets.chart.panes import FRAME_TIMES

        frames = sorted(FRAME_TIMES.take())
        if frames:
            self.metrics.record("chart frame ms (median)", frames[len(frames) // 2])
            self.metrics.record("chart frame ms (p95)", frames[min(len(frames) - 1, int(len(frames) * 0.95))])

    def refresh(self, on_result: Any, on_error: Any) -> None:
        self.take_frame_times()

        def done(checks: list[Any]) -> None:
            self.last = checks
            self.metrics.save()
            on_result(checks)

        self.ctx.tasks.submit(self.run_checks, label="Health checks", on_result=done, on_error=on_error)

    def backup_now(self, on_result: Any = None) -> None:
        from engine.health.backups import take_backup

        def done(path: Any) -> None:
            self.ctx.notifier.notify("Backup", f"Backed up to {path}", "info")
            if on_result:
                on_result(path)

        def failed(exc: BaseException) -> None:
            self.ctx.notifier.notify("Backup failed", str(exc), "error")

        self.ctx.tasks.submit(take_backup, self.ctx.db.path, label="Backing up the database",
                              on_result=done, on_error=failed)

    def choose_restore(self, parent: Any) -> None:
        choose_restore(parent, self.ctx.db.path)

    def export_diagnostics(self, parent: Any) -> None:
        from PySide6.QtWidgets import QFileDialog

        out, _ = QFileDialog.getSaveFileName(parent, "Export diagnostics", "stockscanner-diagnostics.zip",
                                             "Zip files (*.zip)")
        if out:
            self.write_diagnostics(out)

    def write_diagnostics(self, out: Any, on_result: Any = None) -> None:
        from pathlib import Path

        from app.health_cli import write_diagnostics

        def done(path: Any) -> None:
            self.ctx.notifier.notify("Diagnostics", f"Written to {path} (secrets removed)", "info")
            if on_result:
                on_result(path)

        def failed(exc: BaseException) -> None:
            self.ctx.notifier.notify("Diagnostics failed", str(exc), "error")

        out = Path(out)
        if out.exists():
            out.unlink()  # the save dialog already asked to replace it
        usage = self.usage.counts() if self.usage_enabled() else None
        self.ctx.tasks.submit(write_diagnostics, out, self.last or None, usage, label="Exporting diagnostics",
                              on_result=done, on_error=failed)


def choose_restore(parent: Any, db_path: Any) -> None:
    """List the backups of ``db_path``; the one chosen replaces the store on the next start
    (the current store, open in every service, is then moved aside before it is opened)."""
    from PySide6.QtWidgets import QInputDialog, QMessageBox

    from engine.health.backups import schedule_restore
    from engine.store.db import list_backups

    found = list_backups(db_path)
    if not found:
        QMessageBox.information(parent, "Restore", "There is no backup yet (Health → Back up now).")
        return
    names = [p.name for p in found]
    name, ok = QInputDialog.getItem(parent, "Restore a backup",
                                    "Restore on the next start (the current store is kept aside):",
                                    names, 0, False)
    if not ok:
        return
    try:
        schedule_restore(db_path, found[names.index(name)])
    except Exception as exc:  # the store's clear errors (foreign, damaged, newer)
        QMessageBox.warning(parent, "Restore", str(exc))
        return
    QMessageBox.information(parent, "Restore", f"{name} will be restored when Stock Scanner starts "
                            "next; the current store is kept beside it.")


def _dock(ctx: "AppContext", _instance_id: str) -> "QWidget":
    from widgets.health import HealthWidget

    return HealthWidget(ctx.service(HealthService))


def _export_action(ctx: "AppContext", window: "MainWindow") -> None:
    ctx.service(HealthService).export_diagnostics(window)


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

    def set_interval_hours(self, hours: float) -> None:
        self.timer.setInterval(int(float(hours) * 3600 * 1000))
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def close(self) -> None:
        self.timer.stop()


class MetricsSampler:
    """Every ``SAMPLE_S`` seconds: the chart frame times since the last round into the metrics,
    and the metrics saved (so they are kept whether or not the Health dock is open)."""

    SAMPLE_S = 60

    def __init__(self, ctx: "AppContext") -> None:
        from PySide6.QtCore import QTimer

        self.health = ctx.service(HealthService)
        self.timer = QTimer()
        self.timer.setInterval(self.SAMPLE_S * 1000)
        self.timer.timeout.connect(self.sample)
        self.timer.start()

    def sample(self) -> None:
        self.health.take_frame_times()
        self.health.metrics.save()

    def close(self) -> None:
        self.timer.stop()
        self.sample()


def _scheduler(ctx: "AppContext") -> BackupScheduler:
    return BackupScheduler(ctx, float(ctx.settings.get(BACKUP_INTERVAL_KEY, 24)))


def _on_sync_status(ctx: "AppContext", event: Any) -> None:
    ctx.service(HealthService).on_sync_status(event)


def process_age_s() -> float | None:
    """Seconds since this process started (psutil), None without psutil."""
    import time

    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        return None
    return max(0.0, time.time() - float(psutil.Process().create_time()))


def _apply_interval(ctx: "AppContext", hours: Any) -> None:
    ctx.service(BackupScheduler).set_interval_hours(float(hours))


def _start(ctx: "AppContext") -> None:
    ctx.service(BackupScheduler)
    health = ctx.service(HealthService)
    ctx.service(MetricsSampler)
    age = process_age_s()
    if age is not None:  # process start to the main window built
        health.metrics.record("start-up s", age)
        health.metrics.save()
    if ctx.window is not None:
        health.watch_actions(ctx.window)


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
    services=(ServiceSpec("app.features.health:BackupScheduler", _scheduler),
              ServiceSpec("app.features.health:HealthService", HealthService),
              ServiceSpec("app.features.health:MetricsSampler", MetricsSampler)),
    docks=(DockSpec(DOCK_ID, "Health", _dock, Area.BOTTOM, visible=False),),
    actions=(ActionSpec("health.export_diagnostics", "Export &diagnostics…", _export_action, None,
                        menu="&Help"),),
    settings=(
        SettingKey(BACKUP_INTERVAL_KEY, int, 24, "Hours between scheduled backups while running",
                   validator=_interval_problem, apply=_apply_interval, label="Backup every (hours)"),
        SettingKey(USAGE_KEY, bool, False, "Count which actions you use (stored on this computer only; "
                   "shown in the Health dock; sent nowhere unless you export diagnostics)",
                   label="Usage analytics"),
    ),
    cli_verbs=_verbs(),
    subscriptions=(Subscription("sync.service:SyncStatusChanged", _on_sync_status),),
    start=_start,
)
