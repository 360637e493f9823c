"""The one worker pattern (after napari's ``_qt/qthreading.py`` / superqt's WorkerBase).

A plain function or a generator runs on ``QThreadPool``. Signals, delivered on the GUI
thread: ``started``, ``progress(Progress)``, ``returned(result)``, ``errored(exc)``,
``finished``. A generator worker yields ``engine.progress.Progress`` objects; ``cancel()``
closes it at its next yield (``GeneratorExit`` inside the engine function), after which
``cancelled`` is emitted instead of ``returned``.

``TaskRunner`` is what widgets receive (they may not import app/, so they type it with
``widgets.tasks.TaskSubmitter``): it submits workers, keeps them alive while they run and
reports them to the status bar. Errors go to the log and a visible notification.
"""
from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from engine.progress import Progress

log = logging.getLogger(__name__)

MIN_THREADS = 6


class WorkerSignals(QObject):
    started = Signal()
    progress = Signal(object)
    returned = Signal(object)
    errored = Signal(object)
    cancelled = Signal()
    finished = Signal()


class Worker(QRunnable):
    """Runs ``fn(*args, **kwargs)`` off the GUI thread. Emits signals on ``self.signals``."""

    def __init__(self, fn: Callable[..., Any], *args: Any, label: str = "", **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)  # TaskRunner owns the lifetime (signals must outlive run())
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.label = label or getattr(fn, "__name__", "task")
        self.signals = WorkerSignals()
        self._cancel = threading.Event()
        self.done = threading.Event()

    @property
    def is_generator(self) -> bool:
        return inspect.isgeneratorfunction(self.fn)

    def cancel(self) -> None:
        """Ask the worker to stop at its next yield (generator workers only)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:  # noqa: D401 - Qt override
        sig = self.signals
        try:
            sig.started.emit()
            result = self.fn(*self.args, **self.kwargs)
            if inspect.isgenerator(result):
                gen = result
                while True:
                    if self._cancel.is_set():
                        gen.close()
                        sig.cancelled.emit()
                        return
                    try:
                        item = next(gen)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    if isinstance(item, Progress):
                        sig.progress.emit(item)
            sig.returned.emit(result)
        except Exception as exc:  # noqa: BLE001 - reported through errored
            log.error("task %r failed", self.label, exc_info=exc)
            sig.errored.emit(exc)
        finally:
            self.done.set()
            sig.finished.emit()


def _held(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` as a slot the connection keeps alive.

    PySide holds a bound method of a plain Python object only weakly: when that object was
    freed before the worker's queued signal arrived (a feature scheduler released by
    ``AppContext.close`` while its cycle still ran), PySide 6.11 called into the freed object
    -- a segfault in ``PyObject_SetAttr`` (seen under gdb in the app tests). A closure is held
    strongly, so the object lives until the worker is done. Methods of QObjects stay direct:
    PySide drops those connections when the QObject is destroyed, which is what a deleted
    widget needs."""
    owner = getattr(fn, "__self__", None)
    if owner is None or isinstance(owner, QObject):
        return fn
    return lambda *args: fn(*args)


class TaskRunner(QObject):
    """Submits workers to a thread pool and tells the status bar what runs."""

    task_started = Signal(object)  # Worker
    task_progress = Signal(object, object)  # Worker, Progress
    task_finished = Signal(object)  # Worker
    task_failed = Signal(object, object)  # Worker, Exception

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        # Qt's default is one thread per core (2 here). Our tasks mostly wait on SQLite, the
        # disk or the network, so a quick one (the chart's bars) must not queue behind two
        # slow ones (a universe refresh, watchlist quotes).
        self.pool.setMaxThreadCount(max(self.pool.maxThreadCount(), MIN_THREADS))
        self.active: list[Worker] = []

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        label: str = "",
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> Worker:
        """Run ``fn`` in the pool; callbacks run on the GUI thread."""
        w = Worker(fn, *args, label=label, **kwargs)
        s = w.signals
        if on_result:
            s.returned.connect(_held(on_result))
        if on_progress:
            s.progress.connect(_held(on_progress))
        if on_error:
            s.errored.connect(_held(on_error))
        s.errored.connect(lambda exc, w=w: self.task_failed.emit(w, exc))
        s.progress.connect(lambda p, w=w: self.task_progress.emit(w, p))
        if on_finished:
            s.finished.connect(_held(on_finished))
        s.finished.connect(lambda w=w: self._on_worker_finished(w))
        self.active.append(w)
        self.task_started.emit(w)
        self.pool.start(w)
        return w

    def cancel_all(self) -> None:
        for w in list(self.active):
            w.cancel()

    def wait_all(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)

    def _on_worker_finished(self, w: Worker) -> None:
        if w in self.active:
            self.active.remove(w)
        self.task_finished.emit(w)
