"""The chart on 1,000,000 one-minute bars, offscreen at 1600×900, against finplot.

Each side runs in a fresh interpreter (``python -m bench.bench_chart ours|finplot``) so the
resident memory it adds is its own. Figures (medians): build + first render, one pan frame
(set the x range, paint synchronously) of the last 200 bars and mid-series, the same with
five studies on screen (SMA 20/50/200, EMA 20, RSI 14), and switching the chart type.
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


def _ours() -> dict[str, float]:
    import talib
    from PySide6.QtWidgets import QApplication

    from widgets.chart import ChartWidget
    from widgets.chart.transform_types import register_transform_types

    register_transform_types()  # the app registers Renko, Kagi, P&F, … at start-up

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
    t0 = time.perf_counter()
    w = ChartWidget(None, Sync())  # type: ignore[arg-type]
    w.resize(W, H)
    w.show()
    w.set_bars(bars)
    w.repaint()
    app.processEvents()
    build = time.perf_counter() - t0

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
    return {"build": build, "pan": pan_plain, "pan5": pan_studies, "rss": rss, "rss_all": _rss_mb() - rss0,
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
    wake = QTimer()  # wakes the waits below now and then, should a result never come
    wake.start(100)
    t = time.perf_counter()  # the warm-up the chart starts a second after it appeared (compiled loops)
    while (not switching._warm["started"] or runner.active) and time.perf_counter() - t < 30:
        app.processEvents()
        time.sleep(0.002)
    warm = time.perf_counter() - t

    def timed(action) -> tuple[float, float, float, float]:
        """(wall, CPU of all threads, longest GUI stretch wall, its GUI-thread CPU) of ``action``
        until drawn. CPU beside wall: with other work on the machine the wall time includes
        waiting for a core; the CPU time is the work itself."""
        longest = longest_cpu = 0.0
        c0, t0 = time.process_time(), time.perf_counter()

        def stretch(fn) -> None:
            nonlocal longest, longest_cpu
            s, sc = time.perf_counter(), time.thread_time()
            fn()
            longest = max(longest, time.perf_counter() - s)
            longest_cpu = max(longest_cpu, time.thread_time() - sc)

        stretch(action)
        while w.is_drawing():  # sleeps until the worker's result arrives (no busy loop taking the GIL)
            stretch(lambda: app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents))
            if time.perf_counter() - t0 > 60:
                raise RuntimeError("the chart did not finish drawing in 60 s")
        stretch(w.repaint)
        return time.perf_counter() - t0, time.process_time() - c0, longest, longest_cpu

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


def _finplot() -> dict[str, float]:
    import numpy as np
    import pandas as pd

    import finplot as fplt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    bars = _bars()
    rss0 = _rss_mb()
    t0 = time.perf_counter()
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
    return {"build": build, "pan": pan_plain, "pan5": pan_studies, "switch": float("nan"), "rss": rss}


def _run(side: str) -> dict[str, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "bench.bench_chart", side], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError((proc.stderr.strip().splitlines() or ["no output"])[-1][:300])


@benchmark("chart.1m_bars")
def chart_bench() -> list[Result]:
    ours = _run("ours")
    try:
        peer: dict[str, float] | None = _run("finplot")
        why = ""
    except Exception as exc:  # noqa: BLE001 - the peer's failure is reported, not fatal
        peer, why = None, f"finplot could not run: {exc}"
    name = "finplot 1.9.7"
    mem = f"memory added {ours['rss']:.0f} MB" + (f" (finplot {peer['rss']:.0f} MB)" if peer else "")

    def res(key: str, fig: str, note: str = "") -> Result:
        pv = peer[key] if peer and peer[key] == peer[key] else None
        return Result(fig, ours[key], name if pv is not None else None, pv, note or why)

    return [
        res("build", "chart.build_first_1m", mem + (f"; {why}" if why else "")),
        res("pan", "chart.pan_1m", "median of last-200 and mid-series pans"),
        res("pan5", "chart.pan_1m_5studies", "SMA 20/50/200, EMA 20, RSI 14 on screen"),
        res("switch", "chart.switch_type_1m", "candles/line/OHLC; finplot has no type switch"),
    ]


if __name__ == "__main__":
    side = sys.argv[1] if len(sys.argv) > 1 else "ours"
    sys.path.insert(0, str(REPO))
    print(json.dumps(_ours() if side == "ours" else _finplot()), flush=True)
