"""Regression guard for the PySide6 pin (see pyproject.toml).

PySide6 6.12.0 on CPython 3.11 drops a reference to None in its void methods and dies
with "Fatal Python error: none_dealloc" after a few thousand calls. This makes a few
hundred thousand void Qt calls in a child process, so a bad PySide6 shows up as a clear
test failure instead of killing the test run.
"""
import os
import subprocess
import sys

CODE = r"""
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QObject, QPointF
from PySide6.QtWidgets import QApplication, QLabel, QWidget
app = QApplication([])
w = QWidget(); lab = QLabel(w); o = QObject()
n = 0
for i in range(60_000):
    lab.setText("x")           # void
    lab.setEnabled(i & 1 == 0) # void
    o.setObjectName("n")      # void
    w.setVisible(False)        # void
    lab.move(i % 50, 3)        # void
    n += 5
print(n, sys.getrefcount(None) > 0)
"""


def test_pyside_survives_hundreds_of_thousands_of_void_calls():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, f"Qt crashed (rc={r.returncode}): {r.stderr[-2000:]}"
    assert r.stdout.split()[0] == "300000"


def test_installed_pyside_is_inside_the_pinned_range():
    import PySide6

    major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    assert (major, minor) == (6, 11), f"PySide6 {PySide6.__version__} is outside >=6.11,<6.12"
