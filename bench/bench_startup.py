"""Start-up to an interactive window on the demo workspace (median of 7 runs).

Each run is a fresh interpreter (``python -m bench.startup_probe``) that builds the
workstation on a prepared demo data dir, shows it, waits until the chart has drawn its
bars and the event loop is idle, then prints. The peer is a bare PySide6 + pyqtgraph
window measured the same way: the floor a Qt app can reach on this machine.

Two figures: wall time from launch to "ready" (``startup.demo_workspace``), and the CPU
time the child had used by then (``startup.demo_workspace_cpu``: user + system of all its
threads, ``time.process_time()`` printed with "ready"). On a shared, loaded machine the
wall time mostly measures the wait for a core; the CPU time still compares builds.
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
    "import time\n"
    "QTimer.singleShot(0, app.quit); app.exec(); print('ready', time.process_time(), flush=True)\n"
)


RUNS = 7


def _time(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds from launching ``cmd`` until it prints 'ready CPU_SECONDS', those CPU
    seconds of the child); interpreter shutdown excluded from both."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    elapsed = cpu = None
    for line in proc.stdout:
        if line.startswith("ready"):
            elapsed = time.perf_counter() - t0
            cpu = float(line.split()[1])
            break
    _out, err = proc.communicate(timeout=120)
    if proc.returncode != 0 or elapsed is None or cpu is None:
        raise RuntimeError(f"start-up probe failed: {err[-1500:]}")
    return elapsed, cpu


def _medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


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
        first, _ = _time(probe, env)  # creates the store, runs migrations, seeds the demo workspace
        # alternate ours and the peer, so a change in the machine's load hits both alike
        ours_runs, peer_runs = [], []
        for _ in range(RUNS):
            ours_runs.append(_time(probe, env))
            peer_runs.append(_time([sys.executable, "-c", BARE], env))
    ours, ours_cpu = _medians(ours_runs)
    peer, peer_cpu = _medians(peer_runs)
    return [
        Result("startup.demo_workspace", ours, "bare PySide6+pyqtgraph", peer,
               note=f"wall, median of {RUNS} warm starts; first start on an empty data dir {first * 1e3:.0f} ms"),
        Result("startup.demo_workspace_cpu", ours_cpu, "bare PySide6+pyqtgraph", peer_cpu,
               note=f"CPU (user+sys, all threads) until interactive, median of {RUNS} warm starts"),
    ]
