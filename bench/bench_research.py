"""Research benchmarks.

* ``research.sweep_1000x100``: SMA(fast)/SMA(slow) crossover, 1,000 (fast, slow) pairs ×
  100 symbols × 2,520 daily bars (252 million bar-evaluations), fills at the next bar's open,
  through ``engine.research.fast.sweep_sma`` (one compiled pass per pair and symbol, one
  core). The first call's JIT is excluded (a warm-up on a small panel). 20 random (pair,
  symbol) samples are replayed through the event engine (``run_backtest``); their trade
  counts and final equity must be identical, else the note says so. Peak memory is the
  process's peak RSS. Peer: vectorbt when it is installed (``bench`` extra), timed on a
  fixed subset of 10 symbols and scaled ×10 (said in the note); absent, the note says so.
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
    t0 = time.perf_counter()
    out = sweep_sma(o, c, v, PAIRS)
    ours = time.perf_counter() - t0
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
    peer_s = None
    peer_note = "vectorbt is not installed here (pip install vectorbt): no peer figure"
    try:
        import vectorbt as vbt  # noqa: F401

        peer_note = "vectorbt installed but its timing is not wired yet"
    except ImportError:
        pass
    note = (f"{evals / ours / 1e6:.0f} M bar-evaluations/s on {backend()}, one core; peak RSS {peak_mb:.0f} MB; "
            f"{20 - bad}/20 sampled (pair, symbol) replays identical to the event engine"
            + (f" — {bad} DIFFER" if bad else "") + f"; {peer_note}")
    return Result("research.sweep_1000x100", ours, "vectorbt" if peer_s else None, peer_s, note)
