"""The one worker pattern: function and generator workers, progress, cancel, errors."""
import logging
import threading

from app.workers import TaskRunner, Worker
from engine.progress import Progress


def _run(qtbot, w: Worker, runner=None):
    events = []
    s = w.signals
    s.started.connect(lambda: events.append("started"))
    s.progress.connect(lambda p: events.append(("progress", p.done)))
    s.returned.connect(lambda r: events.append(("returned", r)))
    s.errored.connect(lambda e: events.append(("errored", str(e))))
    s.cancelled.connect(lambda: events.append("cancelled"))
    s.finished.connect(lambda: events.append("finished"))
    return events


def test_function_worker_returns_its_result_then_finishes(qtbot):
    w = Worker(lambda a, b: a + b, 2, b=3, label="add")
    events = _run(qtbot, w)
    w.run()  # synchronously here; signals are direct on this thread
    assert events == ["started", ("returned", 5), "finished"]


def test_generator_worker_reports_progress_and_returns(qtbot):
    def job():
        for i in range(3):
            yield Progress(i + 1, 3, "step")
        return "done"

    w = Worker(job)
    assert w.is_generator
    events = _run(qtbot, w)
    w.run()
    assert events == ["started", ("progress", 1), ("progress", 2), ("progress", 3), ("returned", "done"), "finished"]


def test_cancel_closes_the_generator_at_its_next_yield(qtbot):
    closed = []

    def job():
        try:
            for i in range(1000):
                if i == 2:
                    w.cancel()
                yield Progress(i, 1000)
        finally:
            closed.append(True)

    w = Worker(job)
    events = _run(qtbot, w)
    w.run()
    assert "cancelled" in events and events[-1] == "finished"
    assert not any(isinstance(e, tuple) and e[0] == "returned" for e in events)
    assert closed == [True]  # the engine function's cleanup ran (GeneratorExit)


def test_errors_reach_errored_and_the_log_and_finished_still_comes(qtbot, caplog):
    def boom():
        raise ValueError("bad row 7")

    w = Worker(boom, label="Import")
    events = _run(qtbot, w)
    with caplog.at_level(logging.ERROR, logger="app.workers"):
        w.run()
    assert events == ["started", ("errored", "bad row 7"), "finished"]
    assert any("Import" in r.getMessage() for r in caplog.records)


def test_a_generator_that_fails_midway_errors_after_its_progress(qtbot):
    def job():
        yield Progress(1, 2)
        raise OSError("disk full")

    w = Worker(job)
    events = _run(qtbot, w)
    w.run()
    assert events == ["started", ("progress", 1), ("errored", "disk full"), "finished"]


def test_task_runner_runs_off_the_gui_thread_and_reports(qtbot):
    runner = TaskRunner()
    threads, results, failed, finished = [], [], [], []
    runner.task_failed.connect(lambda w, e: failed.append(str(e)))
    runner.task_finished.connect(lambda w: finished.append(w.label))

    def work():
        threads.append(threading.current_thread())
        return 42

    runner.submit(work, label="ok", on_result=results.append)
    runner.submit(lambda: 1 / 0, label="bad")
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=5000)
    assert results == [42] and threads[0] is not threading.main_thread()
    assert failed and "division" in failed[0]
    assert runner.active == []


def test_cancel_all_cancels_running_generators(qtbot):
    runner = TaskRunner()
    gate = threading.Event()
    got = []

    def slow():
        for i in range(200):
            gate.wait(0.01)
            yield Progress(i, 200)
        return "never"

    w = runner.submit(slow, label="slow", on_result=got.append)
    qtbot.waitUntil(lambda: w.signals is not None and not w.done.is_set(), timeout=2000)
    with qtbot.waitSignal(w.signals.cancelled, timeout=5000):
        runner.cancel_all()
    qtbot.waitUntil(lambda: not runner.active, timeout=5000)
    assert got == []


def test_a_callback_of_an_object_dropped_while_its_task_runs_still_runs_safely(qtbot):
    """PySide held a plain object's bound method weakly: the object freed while its task ran
    (a scheduler released by AppContext.close) was then called into -- a segfault. The runner
    keeps the object alive until the task is done."""
    import gc

    runner = TaskRunner()
    release = threading.Event()
    calls: list[str] = []

    class Scheduler:  # a plain object, as app/features/alerts.py's _Runner
        def __init__(self) -> None:
            self.busy = True

        def on_result(self, value: int) -> None:
            calls.append(f"result {value}")

        def on_finished(self) -> None:
            self.busy = False
            calls.append("finished")

    sched = Scheduler()
    runner.submit(lambda: (release.wait(10), 7)[1], on_result=sched.on_result, on_finished=sched.on_finished)
    del sched
    gc.collect()
    release.set()
    qtbot.waitUntil(lambda: calls == ["result 7", "finished"], timeout=10000)
    qtbot.waitUntil(lambda: not runner.active, timeout=10000)
