"""The chart on 1,000,000 one-minute bars, offscreen at 1600×900, against finplot.

Each side runs in a fresh interpreter (``python -m bench.bench_chart ours|finplot``) so the
resident memory it adds is its own. Figures (medians): build + first render (the full run
plus ``BUILD_REPEATS`` build-only fresh processes per side, ours and finplot in turn, wall and
CPU time), one pan frame (set the x range, paint synchronously) of the last 200 bars and
mid-series, the same with five studies on screen (SMA 20/50/200, EMA 20, RSI 14), and
switching the chart type (bar styles and Renko/Kagi/P&F/Heikin-Ashi) and the timeframe the
way the app does it: the chart's work in ``app.workers.TaskRunner``, timed until the chart
shows the new type completely (``is_drawing()`` False, then a paint), with the longest
stretch the GUI thread was busy. Wall and CPU are both given: on a loaded machine the wall
time includes waiting for a core.
finplot 1.9.7 needs its time column in nanoseconds under pandas 3, or its panning silently
does nothing; if it cannot run, the output says why.
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time

from bench.core import REPO, Result, benchmark

N = 1_000_000
W, H = 1600, 900
PANS = 15


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _bars():
    import numpy as np

    from engine.data.bars import Bars

    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0005, N)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.0005, N))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.0005, N))
    t = 1_600_000_000 + np.arange(N, dtype=np.int64) * 60
    vol = rng.integers(100, 10_000, N).astype(float)
    return Bars.from_arrays("BENCH", "1m", t, open_, high, low, close, vol, "csv")


def _pan_windows() -> list[tuple[float, float]]:
    out = []
    for k in range(PANS):
        out.append((N - 200 - 5 * k, N - 5 * k))  # the last 200 bars, panning back
        m = N // 2 + 37 * k
        out.append((m - 200, m))  # mid-series
    return out


def _ours(build_only: bool = False) -> dict[str, float]:
    import talib
    from PySide6.QtWidgets import QApplication

    from widgets.chart import ChartWidget
    from widgets.chart.transform_types import register_transform_types

    register_transform_types()  # the app registers Renko, Kagi, P&F, … at start-up
    # the chart package's modules imported before the clock starts, as finplot's are on its side
    # (the drawing layer is imported by the first chart; without .pyc files its compile alone took 25-90 ms)
    import widgets.chart.drawings  # noqa: F401

    app = QApplication.instance() or QApplication([])
    bars = _bars()

    class Sync:
        def submit(self, fn, *args, on_result=None, on_error=None, **_kw):
            r = fn(*args)
            if on_result:
                on_result(r)
            return self

        def cancel(self) -> None:
            pass

    rss0 = _rss_mb()
    c0, t0 = time.process_time(), time.perf_counter()
    w = ChartWidget(None, Sync())  # type: ignore[arg-type]
    w.resize(W, H)
    w.show()
    w.set_bars(bars)
    w.repaint()
    app.processEvents()
    build = time.perf_counter() - t0
    build_cpu = time.process_time() - c0
    if build_only:
        return {"build": build, "build_cpu": build_cpu}

    def pan() -> float:
        times = []
        for x0, x1 in _pan_windows():
            t = time.perf_counter()
            w.price.setXRange(x0, x1, padding=0)
            w.repaint()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    pan_plain = pan()
    rss = _rss_mb() - rss0
    studies = {"sma(close, 20)": lambda b: talib.SMA(b.close, 20), "sma(close, 50)": lambda b: talib.SMA(b.close, 50),
               "sma(close, 200)": lambda b: talib.SMA(b.close, 200), "ema(close, 20)": lambda b: talib.EMA(b.close, 20),
               "rsi(close, 14)": lambda b: talib.RSI(b.close, 14)}
    for name, fn in studies.items():
        w.set_overlay(name, fn)
    w.repaint()
    pan_studies = pan()
    switch, tf = _switches(app, w, bars)
    return {"build": build, "build_cpu": build_cpu, "pan": pan_plain, "pan5": pan_studies, "rss": rss,
            "rss_all": _rss_mb() - rss0,
            **switch, **tf}


#: chart types switched to, in this order, from and back to candles (all with the five studies)
SWITCH_TYPES = ("line", "ohlc", "renko", "kagi", "pnf", "heikin-ashi", "area", "candles")
SWITCH_ROUNDS = 3
#: timeframes switched to (from the 1m bars in a store, built by resampling as the app does)
SWITCH_TIMEFRAMES = ("5m", "1m", "15m", "1m", "5m", "1m", "15m", "1m")


def _switches(app, w, bars) -> tuple[dict[str, float], dict[str, float]]:
    """Type and timeframe switches the way the app runs them: the chart's work in a real
    worker pool (``app.workers.TaskRunner``), each timed until the chart shows the new type or
    timeframe completely (transform, studies, drawn: ``is_drawing()`` False, then a paint),
    with the longest stretch the GUI thread was busy in one go (a call or one event batch)."""
    import tempfile
    from pathlib import Path

    from PySide6.QtCore import QEventLoop, QTimer

    from app.workers import TaskRunner
    from engine.data.service import DataService
    from engine.events import EventBus
    from engine.store.db import open_database
    from widgets.chart import switching

    runner = TaskRunner()
    w.tasks = runner
    # a heartbeat on the GUI thread every 5 ms: the longest gap between two beats is how long
    # the window did not respond (its own work, and waiting for the GIL or a core)
    beat = {"last": time.perf_counter(), "gap": 0.0}

    def on_beat() -> None:
        now = time.perf_counter()
        beat["gap"] = max(beat["gap"], now - beat["last"])
        beat["last"] = now

    heart = QTimer()
    heart.timeout.connect(on_beat)
    heart.start(5)
    t = time.perf_counter()  # the warm-up the chart starts a second after it appeared (compiled loops)
    while (not switching._warm["started"] or runner.active) and time.perf_counter() - t < 30:
        app.processEvents()
        time.sleep(0.002)
    warm = time.perf_counter() - t

    def timed(action) -> tuple[float, float, float, float]:
        """(wall, CPU of all threads, the longest gap between heartbeats, the most GUI-thread
        CPU in one call or event batch) of ``action`` until drawn. CPU beside wall: with other
        work on the machine the wall time includes waiting for a core; the CPU is the work."""
        longest_cpu = 0.0
        c0, t0 = time.process_time(), time.perf_counter()
        beat["last"], beat["gap"] = t0, 0.0

        def stretch(fn) -> None:
            nonlocal longest_cpu
            sc = time.thread_time()
            fn()
            longest_cpu = max(longest_cpu, time.thread_time() - sc)

        stretch(action)
        while w.is_drawing():  # sleeps until the worker's result arrives (no busy loop taking the GIL)
            stretch(lambda: app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents))
            if time.perf_counter() - t0 > 60:
                raise RuntimeError("the chart did not finish drawing in 60 s")
        stretch(w.repaint)
        on_beat()
        return time.perf_counter() - t0, time.process_time() - c0, beat["gap"], longest_cpu

    per: dict[str, list[tuple[float, float]]] = {}
    gui = gui_cpu = 0.0
    for _ in range(SWITCH_ROUNDS):
        for kind in SWITCH_TYPES:
            dt, cpu, block, block_cpu = timed(lambda k=kind: w.set_chart_type(k))
            per.setdefault(kind, []).append((dt, cpu))
            gui, gui_cpu = max(gui, block), max(gui_cpu, block_cpu)
    types = {"switch": statistics.median(x[0] for v in per.values() for x in v),
             "switch_cpu": statistics.median(x[1] for v in per.values() for x in v),
             "switch_gui_max": gui, "switch_gui_max_cpu": gui_cpu, "switch_warmup": warm,
             **{f"switch_{k}": statistics.median(x[0] for x in v) for k, v in per.items()},
             **{f"switch_{k}_first": v[0][0] for k, v in per.items()},
             **{f"switch_{k}_first_cpu": v[0][1] for k, v in per.items()}}

    # timeframes: the 1M 1m bars in a store of their own; 5m/15m are built from them (DataService)
    home = Path(tempfile.mkdtemp(prefix="bench-chart-"))
    svc = DataService(open_database(home / "bars.db"), "demo", bus=EventBus())
    svc.store.replace(bars)
    w.data = svc
    w.set_chart_type("candles")
    tfs: list[tuple[float, float]] = []
    tf_gui = tf_gui_cpu = 0.0
    first: dict[str, tuple[float, float]] = {}
    for target in SWITCH_TIMEFRAMES:
        dt, cpu, block, block_cpu = timed(lambda tf=target: w.open_symbol(bars.symbol, tf))
        if len(w.bars) == 0 or w.bars.timeframe != target:
            raise RuntimeError(f"the timeframe switch to {target} did not show {target} bars")
        first.setdefault(target, (dt, cpu))
        tfs.append((dt, cpu))
        tf_gui, tf_gui_cpu = max(tf_gui, block), max(tf_gui_cpu, block_cpu)
    runner.wait_all()
    return types, {"tf": statistics.median(x[0] for x in tfs), "tf_cpu": statistics.median(x[1] for x in tfs),
                   "tf_gui_max": tf_gui, "tf_gui_max_cpu": tf_gui_cpu,
                   **{f"tf_{k}_first": v[0] for k, v in first.items()},
                   **{f"tf_{k}_first_cpu": v[1] for k, v in first.items()}}


def _finplot(build_only: bool = False) -> dict[str, float]:
    import numpy as np
    import pandas as pd

    import finplot as fplt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    bars = _bars()
    rss0 = _rss_mb()
    c0, t0 = time.process_time(), time.perf_counter()
    # finplot 1.9.7 under pandas 3: the time column in nanoseconds, or panning does nothing
    df = pd.DataFrame({"time": bars.time.astype(np.int64) * 1_000_000_000, "open": bars.open, "close": bars.close,
                       "high": bars.high, "low": bars.low, "volume": bars.volume})
    ax, axv = fplt.create_plot("bench", rows=2, init_zoom_periods=200)
    fplt.candlestick_ochl(df[["time", "open", "close", "high", "low"]], ax=ax)
    fplt.volume_ocv(df[["time", "open", "close", "volume"]], ax=axv)
    win = fplt.windows[0]
    win.resize(W, H)
    win.show()
    fplt.refresh()
    app.processEvents()
    win.repaint()
    build = time.perf_counter() - t0
    build_cpu = time.process_time() - c0
    if build_only:
        return {"build": build, "build_cpu": build_cpu}
    vb = ax.vb

    def pan() -> float:
        times = []
        for x0, x1 in _pan_windows():
            t = time.perf_counter()
            vb.update_y_zoom(x0, x1)  # sets the x range and fits y to it, as finplot's own pan does
            win.repaint()
            times.append(time.perf_counter() - t)
        before = vb.viewRange()[0]
        vb.update_y_zoom(10.0, 210.0)
        app.processEvents()
        if vb.viewRange()[0] == before:
            raise RuntimeError("finplot's view did not move when panned")
        return statistics.median(times)

    pan_plain = pan()
    rss = _rss_mb() - rss0
    c = df["close"]
    for p in (20, 50, 200):
        fplt.plot(df["time"], c.rolling(p).mean(), ax=ax)
    fplt.plot(df["time"], c.ewm(span=20, adjust=False).mean(), ax=ax)
    d = c.diff()
    rs = d.clip(lower=0).ewm(alpha=1 / 14).mean() / (-d.clip(upper=0)).ewm(alpha=1 / 14).mean()
    fplt.plot(df["time"], 100 - 100 / (1 + rs), ax=axv)
    fplt.refresh()
    win.repaint()
    pan_studies = pan()
    return {"build": build, "build_cpu": build_cpu, "pan": pan_plain, "pan5": pan_studies, "rss": rss}


def _run(side: str) -> dict[str, float]:
    # pyqtgraph takes PyQt6 over PySide6 when both are installed and neither is imported yet (finplot
    # imports pyqtgraph first): PySide6 is then refused in the same process; both sides use PySide6
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYQTGRAPH_QT_LIB="PySide6")
    proc = subprocess.run([sys.executable, "-m", "bench.bench_chart", side], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError((proc.stderr.strip().splitlines() or ["no output"])[-1][:300])


BUILD_REPEATS = 4  # fresh interpreters per side for build + first render, ours and finplot in turn


@benchmark("chart.1m_bars")
def chart_bench() -> list[Result]:
    load0 = os.getloadavg()[0]
    ours = _run("ours")
    try:
        peer: dict[str, float] | None = _run("finplot")
        why = ""
    except Exception as exc:  # noqa: BLE001 - the peer's failure is reported, not fatal
        peer, why = None, f"finplot could not run: {exc}"
    builds, peer_builds = [ours], [peer] if peer else []
    for _ in range(BUILD_REPEATS):
        builds.append(_run("ours-build"))
        if peer:
            peer_builds.append(_run("finplot-build"))
    load = f"load average {load0:.1f}-{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    name = "finplot 1.9.7"
    mem = (f"memory added {ours['rss']:.0f} MB" + (f" (finplot {peer['rss']:.0f} MB)" if peer else "")
           + f", {ours['rss_all']:.0f} MB after the studies and switches (results cached per type and timeframe)")

    def med(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    def res(fig: str, value: float, peer_value: float | None, note: str) -> Result:
        return Result(fig, value, name if peer_value is not None else None, peer_value, note)

    def ms(key: str) -> str:
        return f"{ours[key] * 1000:.0f}"

    kinds = list(SWITCH_TYPES)
    first = statistics.median(ours[f"switch_{k}_first"] for k in kinds)
    first_cpu = statistics.median(ours[f"switch_{k}_first_cpu"] for k in kinds)
    cold = ", ".join(f"{k} {ms(f'switch_{k}_first')}/{ms(f'switch_{k}_first_cpu')}" for k in kinds)
    tf_first = ", ".join(f"{k} {ms(f'tf_{k}_first')}/{ms(f'tf_{k}_first_cpu')}" for k in ("5m", "15m", "1m"))
    b_cpu, p_cpu = med(builds, "build_cpu"), (med(peer_builds, "build_cpu") if peer else None)
    n_b = len(builds)
    return [
        res("chart.build_first_1m", med(builds, "build"), med(peer_builds, "build") if peer else None,
            f"median of {n_b} fresh processes per side; {mem}; {load}" + (f"; {why}" if why else "")),
        res("chart.build_first_1m_cpu", b_cpu, p_cpu, f"CPU time of the same builds (median of {n_b})"),
        res("chart.pan_1m", ours["pan"], peer["pan"] if peer else None, "median of last-200 and mid-series pans"),
        res("chart.pan_1m_5studies", ours["pan5"], peer["pan5"] if peer else None,
            "SMA 20/50/200, EMA 20, RSI 14 on screen"),
        res("chart.switch_type_1m", ours["switch"], None,
            f"median of {SWITCH_ROUNDS} rounds over {', '.join(kinds)} with the five studies, through the "
            f"worker pool until drawn (CPU {ms('switch_cpu')} ms); repeats come from the per-series cache; "
            f"finplot has no type switch"),
        res("chart.switch_type_1m_first", first, None,
            f"median of each type's first switch (computed, not cached; CPU {first_cpu * 1000:.0f} ms); "
            f"ms wall/CPU: {cold}; warm-up {ms('switch_warmup')} ms in a worker before"),
        res("chart.switch_timeframe_1m", ours["tf"], None,
            f"median of {'/'.join(SWITCH_TIMEFRAMES)} from a store of the 1M 1m bars (5m/15m resampled), "
            f"bars and studies in the worker, until drawn (CPU {ms('tf_cpu')} ms); first ms wall/CPU: {tf_first}"),
        res("chart.switch_gui_block_1m", max(ours["switch_gui_max"], ours["tf_gui_max"]), None,
            f"longest gap of a 5 ms GUI-thread heartbeat in those switches (the most GUI-thread CPU in one "
            f"call or event batch: {max(ours['switch_gui_max_cpu'], ours['tf_gui_max_cpu']) * 1000:.0f} ms); "
            f"goal 50 ms"),
    ]


if __name__ == "__main__":
    side = sys.argv[1] if len(sys.argv) > 1 else "ours"
    sys.path.insert(0, str(REPO))
    fn = _ours if side.startswith("ours") else _finplot
    print(json.dumps(fn(build_only=side.endswith("-build"))), flush=True)
