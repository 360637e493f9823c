"""Research benchmarks.

* ``research.sweep_1000x100``: SMA(fast)/SMA(slow) crossover, 1,000 (fast, slow) pairs ×
  100 symbols × 2,520 daily bars (252 million bar-evaluations), fills at the next bar's open,
  through ``engine.research.fast.sweep_sma`` (one compiled pass per pair and symbol, one
  core). The first call's JIT is excluded (a warm-up on a small panel). 20 random (pair,
  symbol) samples are replayed through the event engine (``run_backtest``); their trade
  counts and final equity must be identical, else the note says so. Peak memory is the
  process's peak RSS. Peer: vectorbt (``bench`` extra) on the same panel, in a child process
  (its own peak memory; its first-call JIT excluded by a warm-up), on a fixed subset of
  ``VBT_SYMBOLS`` symbols in chunks of ``VBT_CHUNK`` (unchunked it does not fit in memory),
  scaled to 100 symbols — said in the note. Both run on one core; the timed figure is CPU
  time (the machine is shared, so wall time mostly measures the other processes), wall
  times are in the note. vectorbt's final values are compared with ours on its subset.
* ``research.sweep_dask_vs_pool``: the same sweep (its pairs split into jobs, the panel
  shipped once per worker) on a 2-worker Dask ``LocalCluster`` (loopback) against the local
  process pool of 2; wall time, median of ``SCALE_REPEATS``, on ``SCALE_SYMBOLS`` symbols
  (said in the note), in 8 jobs (a job of ~0.3 s CPU: smaller ones measure Dask's per-task
  cost rather than the sweep). Goal: Dask within 1.3× of the pool.
"""
from __future__ import annotations

import resource
import time

import numpy as np

from bench.core import Result, benchmark
from engine.data.bars import Bars

N_SYM = 100
N_BARS = 2520
PAIRS = [(f, s) for f in range(2, 52) for s in range(60, 260, 10)]  # 50 × 20 = 1,000


def _panel(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0002, 0.015, (N_SYM, N_BARS)), axis=1))
    open_ = close * np.exp(rng.normal(0, 0.004, (N_SYM, N_BARS)))
    o, c = np.round(open_, 4), np.round(close, 4)
    vol = rng.integers(1_000_000, 5_000_000, (N_SYM, N_BARS)).astype(float)
    t = (np.datetime64("2010-01-01") + np.arange(N_BARS)).astype("datetime64[s]").astype(np.int64)
    return o, c, vol, t


@benchmark("research.sweep_1000x100")
def sweep_1000x100() -> Result:
    from engine.paper.backtest import FixedQty, RuleStrategy, run_backtest
    from engine.research.fast import backend, sweep_sma

    o, c, v, t = _panel()
    sweep_sma(o[:2, :300], c[:2, :300], v[:2, :300], PAIRS[:3])  # JIT warm-up
    t0, p0 = time.perf_counter(), time.process_time()
    out = sweep_sma(o, c, v, PAIRS)
    ours = time.perf_counter() - t0
    cpu_ours = time.process_time() - p0
    evals = len(PAIRS) * N_SYM * N_BARS
    rng = np.random.default_rng(0)
    bad = 0
    for _ in range(20):
        p, s = int(rng.integers(len(PAIRS))), int(rng.integers(N_SYM))
        f, sl = PAIRS[p]
        hi = np.maximum(o[s], c[s])
        lo = np.minimum(o[s], c[s])
        bars = Bars(f"S{s}", "1d", t, o[s], hi, lo, c[s], v[s])
        res = run_backtest(bars, RuleStrategy(f"crosses_above(sma(close,{f}), sma(close,{sl}))",
                                              f"crosses_below(sma(close,{f}), sma(close,{sl}))", FixedQty(100)))
        if out[p, s, 1] != len(res.trades) or abs(out[p, s, 2] - float(res.final_equity)) > 1e-6:
            bad += 1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peer = _vectorbt_peer()
    peer_s = peer.get("cpu_scaled_s")
    if peer_s is not None:
        pe = evals / peer_s
        peer_note = (f"vectorbt {peer['version']}: {peer['symbols']} of the 100 symbols in chunks of {peer['chunk']}, "
                     f"{peer['cpu_s']:.1f} s CPU ({peer['wall_s']:.1f} s wall) scaled ×{100 / peer['symbols']:g} to "
                     f"{peer_s:.0f} s CPU = {pe / 1e6:.2f} M bar-evaluations/s; its peak RSS {peer['peak_mb']:.0f} MB; "
                     f"its JIT warm-up {peer['warmup_s']:.0f} s excluded; final values equal to ours on "
                     f"{peer['same_final']}/{peer['compared']} (pair, symbol); throughput ×{evals / cpu_ours / pe:.1f} "
                     f"vectorbt's (goal ≥ 10×)")
    else:
        peer_note = f"no vectorbt figure: {peer.get('error', 'unknown error')}"
    note = (f"{evals / cpu_ours / 1e6:.0f} M bar-evaluations/s on {backend()}, one core ({cpu_ours:.1f} s CPU, "
            f"{ours:.1f} s wall); peak RSS {peak_mb:.0f} MB (goal ≤ 2,048); "
            f"{20 - bad}/20 sampled (pair, symbol) replays identical to the event engine"
            + (f" — {bad} DIFFER" if bad else "") + f"; {peer_note}")
    return Result("research.sweep_1000x100", cpu_ours, "vectorbt" if peer_s else None, peer_s, note)


VBT_SYMBOLS = 10
VBT_CHUNK = 5
SCALE_SYMBOLS = 100
SCALE_REPEATS = 5


def _vectorbt_peer() -> dict:
    """Run ``_vectorbt_child`` in a child process; its JSON line, or {"error": why}."""
    import json
    import subprocess
    import sys

    try:
        import importlib.util

        if importlib.util.find_spec("vectorbt") is None:
            return {"error": "vectorbt is not installed (pip install vectorbt; the bench extra has it)"}
    except (ImportError, ValueError) as exc:
        return {"error": f"vectorbt cannot be found ({exc})"}
    code = "from bench.bench_research import _vectorbt_child; _vectorbt_child()"
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=3600,
                           cwd=str(__import__("bench.core").core.REPO))
    except subprocess.TimeoutExpired:
        return {"error": "vectorbt took more than an hour"}
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if r.returncode != 0 or not lines:
        tail = (r.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"vectorbt failed (exit {r.returncode}): {tail}"}
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def _vectorbt_child() -> None:
    """The vectorbt sweep on ``VBT_SYMBOLS`` symbols of the panel (prints one JSON line).

    Signals as ours: MA crossings (``ma_crossed_above``/``below`` of SMA fast and slow) at a
    bar's close, shifted one bar so the order fills at the next bar's open (``price=open``),
    100 shares, $100,000; then the metrics a sweep ranks by (total return, Sharpe, max
    drawdown, trade count)."""
    import json
    import time as _t

    import pandas as pd
    import vectorbt as vbt

    from engine.research.fast import sweep_sma

    o, c, v, t = _panel()
    idx = pd.to_datetime(t, unit="s")
    fast = [f for f, _ in PAIRS]
    slow = [s for _, s in PAIRS]

    def run(lo: int, hi: int, fs: list[int], ss: list[int]) -> tuple[np.ndarray, np.ndarray]:
        cl = pd.DataFrame(c[lo:hi].T, index=idx, columns=[f"S{k}" for k in range(lo, hi)])
        fm = vbt.MA.run(cl, fs, short_name="fast")
        sm = vbt.MA.run(cl, ss, short_name="slow")
        en = fm.ma_crossed_above(sm)
        ex = fm.ma_crossed_below(sm)
        n = len(fs)
        cb = pd.DataFrame(np.tile(c[lo:hi].T, (1, n)), index=idx, columns=en.columns)
        ob = pd.DataFrame(np.tile(o[lo:hi].T, (1, n)), index=idx, columns=en.columns)
        pf = vbt.Portfolio.from_signals(cb, en.vbt.fshift(1, fill_value=False), ex.vbt.fshift(1, fill_value=False),
                                        price=ob, size=100, init_cash=100000, freq="1D")
        pf.total_return()
        pf.sharpe_ratio()
        pf.max_drawdown()
        nt = pf.trades.count()
        # columns are pair-major: (fast, slow, symbol) for each pair, then each symbol
        return np.asarray(pf.final_value()).reshape(n, hi - lo), np.asarray(nt).reshape(n, hi - lo)

    w0 = _t.perf_counter()
    run(0, 2, fast[:3], slow[:3])
    warm = _t.perf_counter() - w0
    t0, p0 = _t.perf_counter(), _t.process_time()
    finals = []
    for lo in range(0, VBT_SYMBOLS, VBT_CHUNK):
        fv, _nt = run(lo, min(VBT_SYMBOLS, lo + VBT_CHUNK), fast, slow)
        finals.append(fv)
    wall, cpu = _t.perf_counter() - t0, _t.process_time() - p0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ours = sweep_sma(o[:VBT_SYMBOLS], c[:VBT_SYMBOLS], v[:VBT_SYMBOLS], PAIRS)
    fv_all = np.concatenate(finals, axis=1)
    same = int(np.sum(np.abs(fv_all - ours[:, :, 2]) < 1e-6))
    print(json.dumps({"version": vbt.__version__, "symbols": VBT_SYMBOLS, "chunk": VBT_CHUNK, "wall_s": wall,
                      "cpu_s": cpu, "cpu_scaled_s": cpu * N_SYM / VBT_SYMBOLS, "warmup_s": warm, "peak_mb": peak,
                      "same_final": same, "compared": int(fv_all.size)}))


def _sweep_job(data: tuple[np.ndarray, np.ndarray, np.ndarray], pairs: list[tuple[int, int]]) -> np.ndarray:
    """One executor job: the sweep of ``pairs`` on the shipped panel (module level: it pickles)."""
    from engine.research.fast import sweep_sma

    o, c, v = data
    return sweep_sma(o, c, v, pairs)


@benchmark("research.sweep_dask_vs_pool")
def sweep_dask_vs_pool() -> Result:
    import statistics

    from distributed import Client, LocalCluster

    from engine.research.executor import DaskExecutor, ProcessExecutor

    o, c, v, _t = _panel()
    data = (o[:SCALE_SYMBOLS].copy(), c[:SCALE_SYMBOLS].copy(), v[:SCALE_SYMBOLS].copy())
    jobs = [PAIRS[k:k + 125] for k in range(0, len(PAIRS), 125)]  # 8 jobs of 125 pairs (~0.3 s CPU each)
    warm = [PAIRS[:1]] * 4

    def timed(ex: object) -> tuple[list[float], np.ndarray]:
        ex.map(_sweep_job, warm, data)  # type: ignore[attr-defined]  # start the workers, load the kernel
        times = []
        out = None
        for _ in range(SCALE_REPEATS):
            t0 = time.perf_counter()
            res = ex.map(_sweep_job, jobs, data)  # type: ignore[attr-defined]
            times.append(time.perf_counter() - t0)
            out = np.concatenate(res)
        assert out is not None
        return times, out

    with ProcessExecutor(2) as pool:
        pool_t, pool_out = timed(pool)
    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers' environment by default, which
    # turns off glibc's adaptive mmap threshold: every large array of a job is then a fresh mmap,
    # page-faulted in and zeroed (measured here: the local pool given the same variable was 25 %
    # slower). The bench keeps Dask's other defaults (one thread for OpenMP/MKL/OpenBLAS).
    import dask

    env = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": env}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address=None) as cluster, Client(cluster) as client:
        dex = DaskExecutor(client=client)
        client.run(lambda: __import__("engine.research.fast"))
        dask_t, dask_out = timed(dex)
    pool_s, dask_s = statistics.median(pool_t), statistics.median(dask_t)
    same = bool(np.array_equal(pool_out, dask_out, equal_nan=True))
    evals = len(PAIRS) * SCALE_SYMBOLS * N_BARS
    note = (f"1,000 pairs × {SCALE_SYMBOLS} symbols × {N_BARS} bars ({evals / 1e6:.0f} M bar-evaluations) in "
            f"{len(jobs)} jobs, panel shipped once per worker; wall time, median of {SCALE_REPEATS} "
            f"(pool {', '.join(f'{x:.2f}' for x in pool_t)} s; Dask {', '.join(f'{x:.2f}' for x in dask_t)} s); "
            f"Dask / pool = {dask_s / pool_s:.2f} (goal ≤ 1.3); results identical: {same}; Dask workers without "
            "MALLOC_TRIM_THRESHOLD_ (see the code)")
    return Result("research.sweep_dask_vs_pool", dask_s, "local pool (2 processes)", pool_s, note)
