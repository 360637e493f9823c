"""The Optimizer's run: progress with an ETA, cancel that leaves no worker process, heatmap, verdict."""
from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest

from engine.research.executor import ProcessExecutor
from engine.research.job import OptimizeRequest, heatmap, optimize_job, verdict_words
from engine.research.params import ParamError
from engine.research.search import Study, search
from engine.progress import Progress
from tests.engine.research.stubs import random_bars
from tests.procs import alive

ENTRY = "crosses_above(sma(close,{fast}), sma(close,{slow}))"
EXIT = "crosses_below(sma(close,{fast}), sma(close,{slow}))"


def test_job_runs_to_the_end_with_progress_and_walk_forward() -> None:
    data = [random_bars(600, 3, symbol="A")]
    study = Study.from_text(ENTRY, EXIT, ["fast=5:15:5", "slow=20:40:10"], ["fast < slow"])
    gen = optimize_job(OptimizeRequest(data, study, scheme="rolling", windows=2, min_trades=0, workers=1))
    seen: list[Progress] = []
    while True:
        try:
            seen.append(next(gen))
        except StopIteration as stop:
            out = stop.value
            break
    assert out.walk is not None and len(out.walk.windows) == 2 and len(out.result.rows) == 9
    # 3 searches × 9 points; a loaded machine may report them all in one step ("finishing…")
    assert any(p.total == 27 and ("left" in p.text or "finishing" in p.text) for p in seen if p.total)
    assert all(not alive(p) for p in out.pids)
    words = verdict_words(out.walk, out.result)
    assert any("Deflated Sharpe ratio" in w for w in words) and any("Parameter fast" in w for w in words)


def test_the_time_left_reads_from_the_pace_so_far() -> None:
    from engine.research.job import _eta

    assert _eta(0, 27, 0.0) == "estimating time left…"
    assert _eta(9, 27, 30.0) == "about 1 min 0 s left"  # 30 s for 9: 60 s for the other 18
    assert _eta(27, 27, 90.0) == "finishing…"


def test_cancel_leaves_no_worker_process() -> None:
    data = [random_bars(3000, s, symbol=f"S{s}") for s in range(4)]
    study = Study.from_text(ENTRY, EXIT, ["fast=2:60:1", "slow=61:200:1"])
    ex = ProcessExecutor(2)
    gen = optimize_job(OptimizeRequest(data, study, workers=2), executor=ex)
    deadline = time.monotonic() + 120
    pids: list[int] = []
    while time.monotonic() < deadline:
        p = next(gen)
        pids = ex.pids() or pids
        if p.total and p.done > 0:
            break
    assert pids and all(alive(x) for x in pids)
    gen.close()  # the worker pattern's cancel
    assert all(not alive(x) for x in pids)
    assert ex.pids() == []


def test_heatmap_max_and_fixed() -> None:
    data = [random_bars(500, 7, symbol="A")]
    study = Study.from_text(ENTRY, EXIT, ["fast=5:10:5", "slow=20:30:10", "x=1,2"])
    # x is not used by the formulas: both of its values give the same objective
    res = search(data, study, min_trades=0)
    hm = heatmap(res.rows, study, "fast", "slow")
    assert hm.z.shape == (2, 2) and hm.mode == "max"
    for r in res.rows:
        if r.objective is not None:
            i, j = hm.ys.index(r.params["slow"]), hm.xs.index(r.params["fast"])
            assert hm.z[i, j] >= r.objective - 1e-12
    fx = heatmap(res.rows, study, "fast", "slow", fixed={"x": 2})
    assert fx.mode == "fixed" and np.array_equal(np.isnan(fx.z), np.isnan(hm.z))
    best = max((r for r in res.rows if r.objective is not None), key=lambda r: r.objective)
    assert hm.best == (best.params["fast"], best.params["slow"])
    lo = heatmap(res.rows, study, "fast", "slow", minimise=True)
    assert np.nanmin(lo.z) == min(r.objective for r in res.rows if r.objective is not None and not math.isnan(r.objective))
    with pytest.raises(ParamError):
        heatmap(res.rows, study, "fast", "fast")
    with pytest.raises(ParamError):
        OptimizeRequest(data, study, scheme="sideways")
