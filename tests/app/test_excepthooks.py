"""Uncaught errors, on the GUI thread or any other, reach the log and the error dialog."""
import logging
import sys
import threading

from app.main import install_excepthooks


def test_uncaught_errors_go_to_the_log_and_the_dialog(qtbot, caplog, monkeypatch):
    old_hook, old_thread_hook = sys.excepthook, threading.excepthook
    try:
        install_excepthooks(show_dialog=False)
        reporter = install_excepthooks.reporter
        shown = []
        reporter.report.connect(lambda title, text: shown.append(text))
        with caplog.at_level(logging.CRITICAL):
            try:
                raise ValueError("boom on the GUI thread")
            except ValueError:
                sys.excepthook(*sys.exc_info())
            t = threading.Thread(target=lambda: (_ for _ in ()).throw(RuntimeError("boom in a thread")))
            t.start()
            t.join()
        qtbot.waitUntil(lambda: len(shown) == 2, timeout=2000)
        assert "boom on the GUI thread" in shown[0] and "boom in a thread" in shown[1]
        assert "log file" in shown[0]
        logged = [r for r in caplog.records if r.levelno == logging.CRITICAL]
        assert len(logged) == 2 and logged[1].exc_info[0] is RuntimeError
    finally:
        sys.excepthook, threading.excepthook = old_hook, old_thread_hook
