"""Scheduled rescans for the scanner dock: the schedule box, the "next run" label and a
single-shot timer armed with ``engine.scanner.next_run_time``.

"After the daily close" needs the exchange calendar, whose first build takes up to ~1.5 s;
that build runs in a worker (the task runner) before the next run is computed, so choosing
the schedule, or restoring it at start-up, never freezes the window.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QLabel

from engine.market.calendar import DEFAULT_EXCHANGE, get_calendar
from engine.scanner import SCHEDULES, next_run_time
from widgets.tasks import TaskSubmitter

#: what the schedule box shows → the engine's schedule key (None: manual only)
SCHEDULE_CHOICES: tuple[tuple[str, str | None], ...] = (
    ("Manual", None),
    ("Every 1 min", "1min"),
    ("Every 10 min", "10min"),
    ("After the daily close", "after_close"),
)
assert all(k in SCHEDULES for _, k in SCHEDULE_CHOICES if k)

#: calendars a worker has built in this process (a later call is a dict look-up)
_WARM: set[str] = set()


def _warm_calendar(exchange: str) -> str:
    get_calendar(exchange)
    return exchange


class ScanScheduler(QObject):
    """Arms ``timer`` for the schedule chosen in ``box`` and emits ``due`` when a run is due
    (then arms it again). ``clock`` gives the aware current time."""

    due = Signal()

    def __init__(self, tasks: TaskSubmitter, clock: Callable[[], _dt.datetime], parent: QObject | None = None,
                 exchange: str = DEFAULT_EXCHANGE) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.clock = clock
        self.exchange = exchange
        self.next_run: _dt.datetime | None = None
        self.box = QComboBox()
        self.box.setObjectName("scannerSchedule")
        for text, key in SCHEDULE_CHOICES:
            self.box.addItem(text, key)
        self.box.setToolTip("Rescan automatically")
        self.label = QLabel("")
        self.label.setObjectName("hint")
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse timer may fire early
        self.timer.timeout.connect(self._on_timer_timeout)
        self.box.currentIndexChanged.connect(lambda _i: self.arm())
        self._warming = False

    @property
    def key(self) -> str | None:
        key = self.box.currentData()
        return str(key) if key is not None else None

    def set_key(self, key: str | None) -> None:
        """Choose a schedule (None: manual); raises ``ValueError`` for an unknown one."""
        i = self.box.findData(key)
        if i < 0:
            raise ValueError(f"unknown schedule {key!r}; use one of {', '.join(SCHEDULES)}")
        self.box.setCurrentIndex(i)

    def arm(self) -> None:
        """Start the timer for the next run of the chosen schedule (stop it for Manual)."""
        key = self.key
        if key is None:
            self.timer.stop()
            self.next_run = None
            self.label.setText("")
            self.label.setToolTip("")
            return
        if key == "after_close" and self.exchange not in _WARM:
            self._warm_then_arm()
            return
        now = self.clock()
        self.next_run = next_run_time(key, now, self.exchange) if key == "after_close" else next_run_time(key, now)
        # a few ms late, so the clock has passed the run time when it fires (the next one is then later)
        ms = max(0, int((self.next_run - now).total_seconds() * 1000) + 20)
        self.timer.start(ms)
        local = self.next_run.astimezone()
        self.label.setText(f"next run {local.strftime('%a %H:%M' if key == 'after_close' else '%H:%M')}")
        self.label.setToolTip(local.strftime("%Y-%m-%d %H:%M:%S %Z"))

    def _warm_then_arm(self) -> None:
        self.timer.stop()
        self.next_run = None
        self.label.setText("finding the next close…")
        if self._warming:
            return
        self._warming = True
        self.tasks.submit(_warm_calendar, self.exchange, label=f"Market calendar {self.exchange}",
                          on_result=self._on_calendar_ready, on_error=self._on_calendar_failed,
                          on_finished=self._on_warm_finished)

    def _on_warm_finished(self) -> None:
        self._warming = False

    def _on_calendar_ready(self, exchange: str) -> None:
        _WARM.add(exchange)
        self._warming = False
        if self.key == "after_close":
            self.arm()

    def _on_calendar_failed(self, exc: BaseException) -> None:
        self._warming = False
        self.label.setText("no market calendar")
        self.label.setToolTip(str(exc))

    def _on_timer_timeout(self) -> None:
        self.due.emit()
        self.arm()
