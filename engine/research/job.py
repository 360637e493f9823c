"""One optimisation run for the app: a progress generator around ``search``/``walk_forward``,
and what the Optimizer shows of its result (heatmap grid, verdict in plain words).

``optimize_job(request)`` is a generator for the worker pattern (``app/workers.py``): the
search runs on a thread of its own while the generator yields ``Progress`` (with an ETA)
every ``POLL_S``; closing the generator (the worker's cancel) cancels the executor — the
process pool's workers are terminated and joined — and waits for the search thread, so no
worker process is left behind when it returns.
"""
from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.data.bars import Bars
from engine.progress import Progress
from engine.research.params import Params, ParamError
from engine.research.search import MIN_TRADES, Row, SearchResult, Study, search
from engine.research.walkforward import WalkForward, walk_forward

POLL_S = 0.2
SCHEMES = ("none", "rolling", "anchored")


@dataclass(frozen=True, slots=True)
class OptimizeRequest:
    """What the Optimizer asks for. ``scheme``: none | rolling | anchored (``windows`` of them)."""

    data: Sequence[Bars]
    study: Study
    objective: str = "sharpe"
    method: str = "grid"
    trials: int = 100
    seed: int = 0
    min_trades: int = MIN_TRADES
    scheme: str = "none"
    windows: int = 4
    workers: int | None = None
    scheduler: str | None = None
    universe: str = ""

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ParamError(f"the window scheme is one of {', '.join(SCHEMES)}, not {self.scheme!r}")
        if self.scheme != "none" and (isinstance(self.windows, bool) or not isinstance(self.windows, int)
                                      or not 1 <= self.windows <= 100):
            raise ParamError(f"walk-forward needs 1 to 100 windows, not {self.windows!r}")
        if not self.data:
            raise ParamError("the universe has no bars")


@dataclass(frozen=True, slots=True)
class OptimizeOutcome:
    request: OptimizeRequest
    result: SearchResult  # the full-sample search
    walk: WalkForward | None
    seconds: float
    pids: tuple[int, ...] = ()  # the pool's worker processes (all ended by now)
    notes: list[str] = field(default_factory=list)


def _eta(done: int, total: int, elapsed: float) -> str:
    if done <= 0 or total <= 0:
        return "estimating time left…"
    left = elapsed / done * (total - done)
    return f"about {_dur(left)} left" if done < total else "finishing…"


def _dur(s: float) -> str:
    s = max(0.0, s)
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s // 60:.0f} min {s % 60:.0f} s"
    return f"{s // 3600:.0f} h {s % 3600 // 60:.0f} min"


def make_executor(workers: int | None, scheduler: str | None) -> Any:
    from engine.research.executor import DaskExecutor, ProcessExecutor

    return DaskExecutor(scheduler) if scheduler else ProcessExecutor(workers)


def optimize_job(req: OptimizeRequest, executor: Any = None) -> Generator[Progress, None, OptimizeOutcome]:
    """Run ``req`` (see the module docstring); returns the outcome. Raises what ``search`` and
    ``walk_forward`` raise, and ``GeneratorExit`` handling leaves no worker behind."""
    from engine.research.executor import Cancelled

    ex = executor if executor is not None else make_executor(req.workers, req.scheduler)
    own = executor is None
    prog: queue.Queue[tuple[int, int]] = queue.Queue()
    box: dict[str, Any] = {}
    pids: set[int] = set()

    def report(done: int, total: int) -> None:
        prog.put((done, total))
        if hasattr(ex, "pids"):
            pids.update(ex.pids())

    def run() -> None:
        try:
            common: dict[str, Any] = dict(objective=req.objective, method=req.method, trials=req.trials, seed=req.seed,
                                          min_trades=req.min_trades, executor=ex, progress=report)
            if req.scheme == "none":
                box["result"] = (search(req.data, req.study, **common), None)
            else:
                wf = walk_forward(req.data, req.study, req.windows, anchored=req.scheme == "anchored", **common)
                box["result"] = (wf.full, wf)
        except BaseException as exc:  # noqa: BLE001 - handed to the generator's caller
            box["error"] = exc

    t0 = time.monotonic()
    th = threading.Thread(target=run, name="optimize", daemon=True)
    th.start()
    done, total = 0, 0
    try:
        yield Progress(0, 0, "starting the workers…")
        while th.is_alive():
            th.join(POLL_S)
            while not prog.empty():
                done, total = prog.get_nowait()
            if hasattr(ex, "pids"):
                pids.update(ex.pids())
            yield Progress(done, total, f"{done:,} of {total:,} backtests, {_eta(done, total, time.monotonic() - t0)}"
                           if total else "starting the workers…")
    except GeneratorExit:
        ex.cancel()
        th.join()
        if own:
            ex.close()
        raise
    if own:
        ex.close()
    err = box.get("error")
    if isinstance(err, Cancelled):
        raise err
    if err is not None:
        raise err
    res, wf = box["result"]
    return OptimizeOutcome(req, res, wf, time.monotonic() - t0, tuple(sorted(pids)))


# --------------------------------------------------------------------------- views of a result


@dataclass(frozen=True, slots=True)
class Heatmap:
    """The objective over two parameters: ``z[i, j]`` at ``ys[i]``, ``xs[j]`` (NaN: not evaluated
    or undefined); ``best`` the (x, y) of the highest cell."""

    x: str
    y: str
    xs: tuple[Any, ...]
    ys: tuple[Any, ...]
    z: np.ndarray
    mode: str  # "max" or "fixed"
    fixed: dict[str, Any]
    best: tuple[Any, Any] | None


def heatmap(rows: Sequence[Row], study: Study, x: str, y: str, *, fixed: Params | None = None,
            minimise: bool = False) -> Heatmap:
    """The objective (as shown) over parameters ``x`` and ``y``. The other parameters are
    optimised over (the best value at each cell: the highest, or the lowest with ``minimise``
    — max drawdown) when ``fixed`` is None, else held at ``fixed``'s values (rows with other
    values are left out). Raises ``ParamError`` for an unknown or repeated name."""
    names = study.space.names
    for n in (x, y):
        if n not in names:
            raise ParamError(f"{n!r} is not a parameter ({', '.join(names)})")
    if x == y:
        raise ParamError("choose two different parameters for the heatmap")
    px = next(p for p in study.space.params if p.name == x)
    py = next(p for p in study.space.params if p.name == y)
    xi = {v: j for j, v in enumerate(px.values)}
    yi = {v: i for i, v in enumerate(py.values)}
    z = np.full((len(py.values), len(px.values)), np.nan)
    others = [n for n in names if n not in (x, y)]
    fix = {k: v for k, v in (fixed or {}).items() if k in others} if fixed is not None else None
    for r in rows:
        if r.objective is None or not math.isfinite(r.objective):
            continue
        if fix is not None and any(r.params.get(k) != v for k, v in fix.items()):
            continue
        i, j = yi.get(r.params[y]), xi.get(r.params[x])
        if i is None or j is None:
            continue
        v = r.objective
        if math.isnan(z[i, j]) or (v < z[i, j] if minimise else v > z[i, j]):
            z[i, j] = v
    best = None
    if np.isfinite(z).any():
        bi, bj = np.unravel_index(int(np.nanargmin(z) if minimise else np.nanargmax(z)), z.shape)
        best = (px.values[int(bj)], py.values[int(bi)])
    return Heatmap(x, y, px.values, py.values, z, "max" if fix is None else "fixed", dict(fix or {}), best)


def verdict_words(wf: WalkForward | None, res: SearchResult) -> list[str]:
    """The overfitting verdict as plain sentences (deflated Sharpe, PBO, IS→OOS degradation,
    parameter stability), or why there is none."""
    if wf is None:
        return [f"{len(res.rows)} parameter sets tried on all bars; choose a rolling or anchored window scheme "
                "to test them out of sample and get the overfitting verdict."]
    out = [wf.verdict()[0].upper() + wf.verdict()[1:] + "."]
    d = wf.deflated
    if d is not None:
        chance = "it is unlikely to be luck" if d.dsr >= 0.95 else "it could well be luck"
        out.append(f"Deflated Sharpe ratio {d.dsr:.2f}: after allowing for the {d.n_trials} parameter sets tried, "
                   f"the chance that the best one's Sharpe ratio is real is {d.dsr:.0%} — {chance}.")
    p = wf.pbo
    if p is not None:
        out.append(f"Probability of backtest overfitting {p.pbo:.0%}: in that share of {p.n_splits:,} "
                   "in-/out-of-sample splits, the in-sample winner did worse than the median out of sample"
                   + (" (above 50 %: the ranking does not carry over)." if p.pbo > 0.5 else "."))
    if wf.degradation is not None:
        g = wf.degradation
        ins = [w.is_objective for w in wf.windows if w.is_objective is not None]
        oos = [w.oos_objective for w in wf.windows if w.oos_objective is not None]
        out.append(f"Mean {res.objective} in sample {float(np.mean(ins)):.3f}, out of sample {float(np.mean(oos)):.3f}: "
                   + (f"it degraded by {g:.0%} out of sample." if g > 0 else f"it held up ({-g:.0%} better)."))
    for name, st in wf.stability.items():
        share = st.get("mode_share", 0.0)
        cv = st.get("cv")
        words = "stable" if share >= 0.75 else ("fairly stable" if share >= 0.5 else "unstable")
        tail = f", spread {cv:.0%} of its mean" if cv is not None and math.isfinite(cv) else ""
        out.append(f"Parameter {name} is {words} across windows: the most common choice won {share:.0%} of them{tail}.")
    out.extend(wf.notes)
    return out
