"""Start-up to an interactive window on the demo workspace (median of 5 runs).

Each run is a fresh interpreter (``python -m bench.startup_probe``) that builds the
workstation on a prepared demo data dir, shows it, waits until the chart has drawn its
bars and the event loop is idle, then prints. The peer is a bare PySide6 + pyqtgraph
window measured the same way: the floor a Qt app can reach on this machine.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench.core import REPO, Result, benchmark

BARE = (
    "import os; os.environ.setdefault('QT_QPA_PLATFORM','offscreen')\n"
    "from PySide6.QtWidgets import QApplication, QMainWindow\n"
    "from PySide6.QtCore import QTimer\n"
    "import pyqtgraph as pg\n"
    "app = QApplication([]); w = QMainWindow(); w.setCentralWidget(pg.PlotWidget()); w.show()\n"
    "QTimer.singleShot(0, app.quit); app.exec(); print('ready', flush=True)\n"
)


def _time(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds from launching ``cmd`` until it prints 'ready' (interpreter shutdown excluded)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    elapsed = None
    for line in proc.stdout:
        if line.strip() == "ready":
            elapsed = time.perf_counter() - t0
            break
    _out, err = proc.communicate(timeout=120)
    if proc.returncode != 0 or elapsed is None:
        raise RuntimeError(f"start-up probe failed: {err[-1500:]}")
    return elapsed


@benchmark("startup.demo_workspace")
def startup() -> list[Result]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    # An installed app has its bytecode compiled (pip does it at install); this machine sets
    # PYTHONDONTWRITEBYTECODE, which would recompile ~50 of our modules from source on every
    # start. Let the first (uncounted) start write the .pyc files, as a user's first start does.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as home:
        env["STOCKSCANNER_HOME"] = home
        probe = [sys.executable, "-m", "bench.startup_probe"]
        first = _time(probe, env)  # creates the store, runs migrations, seeds the demo workspace
        ours = statistics.median(_time(probe, env) for _ in range(5))
    peer = statistics.median(_time([sys.executable, "-c", BARE], env) for _ in range(5))
    return [
        Result("startup.demo_workspace", ours, "bare PySide6+pyqtgraph", peer,
               note=f"median of 5 warm starts; first start on an empty data dir {first * 1e3:.0f} ms"),
    ]
