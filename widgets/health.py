"""The Health dock: the checks with status colours (thresholds in tool tips), app metrics as
sparklines, and this device's security audit log. A thin view: ``HealthService``
(``app/features/health.py``) runs the checks in a worker and owns backups and diagnostics."""
from __future__ import annotations

import datetime as _dt
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from widgets.sparkline import SPARKLINE_ROLE, SparklineDelegate
from widgets.table import Column, TableModel

STATUS_COLORS = {"healthy": "#26a69a", "degraded": "#e0a030", "unhealthy": "#ef5350"}


def _value_text(c: Any) -> str:
    if c.value is None:
        return "—"
    return f"{c.value} {c.unit}".strip()


def _tip(c: Any) -> str:
    from engine.health.checks import threshold_text

    base = c.name.split(":", 1)[0]
    parts = [threshold_text(base) or {
        "database_integrity": "unhealthy unless the integrity check answers ok",
        "sync_status": "degraded when a configured service is offline"}.get(base, "")]
    if c.detail:
        parts.append(c.detail)
    return "\n".join(p for p in parts if p)


def _table(model: TableModel) -> QTableView:
    v = QTableView()
    v.setModel(model)
    v.verticalHeader().setVisible(False)
    v.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    v.horizontalHeader().setStretchLastSection(True)
    v.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return v


class HealthWidget(QWidget):
    """Checks, metrics and the security log; buttons for refresh, backup, restore, export."""

    refreshed = Signal()

    def __init__(self, service: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("healthWidget")
        self.service = service
        self.checks = TableModel([
            Column("Check", lambda c: c.name, tip=_tip),
            Column("Status", lambda c: c.status.value, color=lambda c: QColor(STATUS_COLORS[c.status.value]),
                   tip=_tip),
            Column("Value", _value_text, tip=_tip),
            Column("Detail", lambda c: c.detail, tip=_tip),
        ], key=lambda c: c.name)
        self.metrics = TableModel([
            Column("Metric", lambda r: r[0]),
            Column("Last", lambda r: round(r[1][-1], 2) if r[1] else None, numeric=True),
            Column("Median", lambda r: round(sorted(r[1])[len(r[1]) // 2], 2) if r[1] else None, numeric=True),
            Column("Samples", lambda r: len(r[1]), numeric=True),
            Column("Recent", lambda r: "", roles={SPARKLINE_ROLE: lambda r: tuple(r[1])}),
        ], key=lambda r: r[0])
        self.security = TableModel([
            Column("Time", lambda e: _dt.datetime.fromtimestamp(e["time"]).strftime("%Y-%m-%d %H:%M:%S")),
            Column("Event", lambda e: e["kind"]),
            Column("Detail", lambda e: e.get("detail", "")),
        ])
        self.usage = TableModel([
            Column("Action", lambda r: r[0]),
            Column("Uses", lambda r: int(r[1].get("count", 0)), numeric=True),
            Column("Last used", lambda r: _dt.datetime.fromtimestamp(float(r[1].get("last", 0))).strftime(
                "%Y-%m-%d %H:%M")),
        ], key=lambda r: r[0])
        self.summary = QLabel("Not checked yet")
        self.summary.setObjectName("healthSummary")
        buttons = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh", objectName="healthRefresh")
        self.backup_button = QPushButton("Back up now", objectName="healthBackup")
        self.restore_button = QPushButton("Restore…", objectName="healthRestore")
        self.export_button = QPushButton("Export diagnostics…", objectName="healthExport")
        for b in (self.refresh_button, self.backup_button, self.restore_button, self.export_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.refresh_button.clicked.connect(self.refresh)
        self.backup_button.clicked.connect(self._on_backup_clicked)
        self.restore_button.clicked.connect(self._on_restore_clicked)
        self.export_button.clicked.connect(self._on_export_clicked)
        tabs = QTabWidget(objectName="healthTabs")
        self.checks_view = _table(self.checks)
        tabs.addTab(self.checks_view, "Checks")
        self.metrics_view = _table(self.metrics)
        self.metrics_view.setItemDelegateForColumn(4, SparklineDelegate(self.metrics_view))
        self.metrics_view.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        tabs.addTab(self.metrics_view, "Metrics")
        tabs.addTab(_table(self.security), "Security log")
        usage_page = QWidget()
        usage_lay = QVBoxLayout(usage_page)
        self.usage_note = QLabel()
        self.usage_note.setWordWrap(True)
        usage_lay.addWidget(self.usage_note)
        usage_lay.addWidget(_table(self.usage), 1)
        tabs.addTab(usage_page, "Usage")
        self.tabs = tabs
        # the tabs take the height they are given: their pages' minimums (the usage note's wrap)
        # pushed the window past 800 px when the dock opened at 1280×800
        tabs.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        tabs.setMinimumHeight(90)
        lay = QVBoxLayout(self)
        lay.addLayout(buttons)
        lay.addWidget(self.summary)
        lay.addWidget(tabs, 1)
        self.refresh()

    def refresh(self) -> None:
        self.refresh_button.setEnabled(False)
        self.summary.setText("Checking…")
        self.service.refresh(self._on_checks_returned, self._on_checks_errored)

    def _on_checks_returned(self, checks: list[Any]) -> None:
        from shiboken6 import isValid

        from engine.health import worst

        if not isValid(self) or not isValid(self.refresh_button):
            return  # the dock was closed (and deleted) while the checks ran
        self.refresh_button.setEnabled(True)
        self.checks.set_rows(checks)
        status = worst(checks).value
        bad = [c.name for c in checks if c.status.value != "healthy"]
        shown = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        self.summary.setText(f"Overall: {status}" + (f" ({shown})" if bad else ""))
        self.summary.setStyleSheet(f"color: {STATUS_COLORS[status]}; font-weight: bold")
        self.metrics.set_rows(sorted(self.service.metrics.series.items()))
        self.security.set_rows(list(reversed(self.service.security.entries())))
        self.usage.set_rows(sorted(self.service.usage.counts().items(), key=lambda r: -int(r[1].get("count", 0))))
        self.usage_note.setText(
            "Usage analytics are on: the counts below stay on this computer and leave it only in a "
            "diagnostics zip you export." if self.service.usage_enabled() else
            "Usage analytics are off (Settings → Health → Usage analytics). Nothing is counted.")
        self.refreshed.emit()

    def _on_checks_errored(self, exc: BaseException) -> None:
        from shiboken6 import isValid

        if not isValid(self) or not isValid(self.refresh_button):
            return
        self.refresh_button.setEnabled(True)
        self.summary.setText(f"The checks failed: {exc}")

    def _on_backup_clicked(self) -> None:
        self.service.backup_now(lambda _p: self.refresh())

    def _on_restore_clicked(self) -> None:
        self.service.choose_restore(self)

    def _on_export_clicked(self) -> None:
        self.service.export_diagnostics(self)
