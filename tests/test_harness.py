"""The test harness itself (tests/conftest.py, pyproject's pytest options): only a crashed
xdist worker's test runs again, and Qt's critical messages reach the real stderr at once
(outside pytest's capture, which an aborting worker loses)."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _pytest(tmp_path: Path, body: str, *args: str) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_probe.py"
    test.write_text(textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(REPO / "pyproject.toml"),
         "--rootdir", str(tmp_path), "-p", "tests.conftest", "-p", "no:randomly",
         "-p", "no:cacheprovider", "-q", str(test), *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_a_qt_warning_fails_the_test_once_and_a_critical_message_is_on_stderr(tmp_path):
    run = _pytest(tmp_path, """
        def test_warns(qtbot):
            from PySide6 import QtCore
            QtCore.qCritical("probe critical")
    """)
    tail = run.stdout.strip().splitlines()[-1]
    assert "1 failed" in tail and "rerun" not in tail, run.stdout
    assert "[Qt QtCriticalMsg in" in run.stderr and "probe critical" in run.stderr, run.stderr


def test_a_critical_message_survives_the_process_aborting(tmp_path):
    """What Qt said before an abort is on the real stderr, not in pytest's capture (which
    dies with the process)."""
    run = _pytest(tmp_path, """
        import os

        def test_aborts(qtbot):
            from PySide6 import QtCore
            QtCore.qCritical("said before the abort")
            os.abort()
    """)
    assert run.returncode != 0
    assert "said before the abort" in run.stderr and "Fatal Python error: Aborted" in run.stderr, run.stderr


def test_an_ordinary_failure_is_not_rerun(tmp_path):
    run = _pytest(tmp_path, """
        def test_fails():
            assert 1 == 2
    """)
    tail = run.stdout.strip().splitlines()[-1]
    assert "1 failed" in tail and "rerun" not in tail, run.stdout


def test_a_crashed_worker_test_runs_once_more(tmp_path):
    flag = tmp_path / "crashed-once"
    run = _pytest(tmp_path, f"""
        import os
        from pathlib import Path

        def test_crashes_the_first_time():
            flag = Path({str(flag)!r})
            if not flag.exists():
                flag.write_text("x")
                os.abort()
    """, "-n", "1")
    tail = run.stdout.strip().splitlines()[-1]
    assert flag.exists()
    assert "1 passed" in tail and "1 rerun" in tail, run.stdout
