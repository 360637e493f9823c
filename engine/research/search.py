"""Parameter search over a parameterised rule strategy: full grid, random, Bayesian (TPE).

``Study`` is the strategy (entry/exit templates, quantity, cash, fill rules) and its
parameter ``Space``. ``run_point`` backtests one point on one or more symbols — through
``engine.research.fast.backtest``, so the compiled kernel where it is exact and the paper
event engine otherwise — and returns its metrics and per-bar returns. ``search`` evaluates
points through an executor (``engine.research.executor``; serial by default), ranks them by
the objective, and puts results with fewer than ``min_trades`` closed trades last, flagged.

Objectives: ``sharpe``, ``sortino``, ``cagr``, ``profit_factor`` (maximised),
``max_drawdown`` (minimised), or a formula over the metric names (``parse_expression``:
``sharpe * (1 - max_drawdown)``), maximised.

Bayesian search uses optuna's TPE sampler (Bergstra et al. 2011) on the grid's values
(categorical per parameter), seeded, in batches as large as the executor has workers.
"""
from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from engine.data.bars import Bars
from engine.research.params import Expression, ParamError, Params, Space, Template, parse_expression

MIN_TRADES = 30  # as the strategy leaderboard
METRICS = ("sharpe", "sortino", "cagr", "profit_factor", "max_drawdown", "total_return", "win_rate",
           "trades", "exposure")
MINIMISED = frozenset({"max_drawdown"})
SEARCHES = ("grid", "random", "bayes")


@dataclass(frozen=True, slots=True, eq=False)
class Study:
    """A parameterised long-only rule strategy: market orders of ``qty`` shares at the next open."""

    entry: Template
    exit: Template | None
    space: Space
    qty: int = 100
    cash: int = 100_000
    config: Any = None  # engine.paper.fills.FillConfig (None: the defaults)
    #: engine.research.portfolio.PortfolioRules: run every point as one portfolio over all the
    #: symbols (one cash pool of ``cash``, its sizing; ``qty`` unused), through the paper engine
    portfolio: Any = None

    def __post_init__(self) -> None:
        if isinstance(self.qty, bool) or not isinstance(self.qty, int) or not 0 < self.qty <= 10**9:
            raise ParamError(f"the quantity must be a whole number of shares from 1 to 1e9, not {self.qty!r}")
        if isinstance(self.cash, bool) or not isinstance(self.cash, int) or not 0 < self.cash < 10**13:
            raise ParamError(f"the starting cash must be whole dollars from 1 to 1e13, not {self.cash!r}")
        self.space.check_templates(*(t for t in (self.entry, self.exit) if t is not None))

    @classmethod
    def from_text(cls, entry: str, exit: str | None, params: Sequence[str], constraints: Sequence[str] = (),
                  **kw: Any) -> "Study":
        """From CLI texts. Raises ``ParamError`` for bad parameters, constraints or templates."""
        return cls(Template(entry), Template(exit) if exit else None, Space.from_specs(params, constraints), **kw)

    def formulas(self, point: Params) -> tuple[str, str | None]:
        """The entry and exit formula texts at ``point``."""
        return self.entry.substitute(point), (self.exit.substitute(point) if self.exit else None)

    def validate(self, point: Params) -> None:
        """Parse the formulas at ``point``; raises ``FormulaError`` naming the rule that is wrong."""
        from engine.paper.backtest import rule_formula

        e, x = self.formulas(point)
        rule_formula(e, "entry")
        if x is not None:
            rule_formula(x, "exit")


@dataclass(frozen=True, slots=True)
class Window:
    """Bars [start, end) are simulated; entries only from ``entry_from`` on; metrics and
    returns count from ``entry_from`` (the bars before it are the indicators' warm-up)."""

    start: int
    end: int
    entry_from: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One point's metrics (averaged over symbols; trades summed) and per-bar returns
    (equal-weight mean over symbols) from the window's ``entry_from`` on."""

    params: Params
    metrics: dict[str, float | None]
    returns: np.ndarray
    engines: tuple[str, ...]


def _f(x: object) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(float(x)) else None


def segment_metrics(equity: np.ndarray, time_s: np.ndarray, trades: list[Any]) -> dict[str, float | None]:
    """Metrics of an equity segment (per-bar, float dollars, daily bars): total_return, cagr,
    max_drawdown, sharpe and sortino (daily, × √252, risk-free 0), win_rate, profit_factor,
    trades (those listed), exposure is not known here (None)."""
    from engine.performance.metrics import sortino_ratio

    eq = np.asarray(equity, dtype=np.float64)
    out: dict[str, float | None] = dict.fromkeys(METRICS)
    if eq.size == 0:
        return out
    out["total_return"] = float(eq[-1] / eq[0] - 1)
    years = (float(time_s[-1]) - float(time_s[0])) / (365.25 * 86400) if eq.size > 1 else 0.0
    if years > 0 and eq[-1] > 0:
        out["cagr"] = float((eq[-1] / eq[0]) ** (1 / years) - 1)
    peak = np.maximum.accumulate(eq)
    out["max_drawdown"] = float(np.max(1 - eq / peak))
    r = np.diff(eq) / eq[:-1]
    if r.size > 1:
        sd = float(np.std(r, ddof=1))
        if sd > 0:
            out["sharpe"] = float(np.mean(r)) / sd * math.sqrt(252)
        out["sortino"] = _f(sortino_ratio(r, periods_per_year=252))
    wins = [float(t.pnl) for t in trades if t.pnl > 0]
    losses = [float(t.pnl) for t in trades if t.pnl < 0]
    out["trades"] = float(len(trades))
    out["win_rate"] = len(wins) / len(trades) if trades else None
    out["profit_factor"] = sum(wins) / -sum(losses) if losses else None
    return out


def run_point(data: Sequence[Bars], study: Study, point: Params, window: Window | None = None) -> Evaluation:
    """Backtest ``study`` at ``point`` on every series of ``data`` (see ``Window``).

    Raises ``ParamError``/``FormulaError`` for a point whose formulas are wrong.
    """
    from engine.formula import parse
    from engine.paper.fills import FillConfig
    from engine.research.fast import backtest

    e_text, x_text = study.formulas(point)
    if study.portfolio is not None:
        return _portfolio_point(data, study, point, window, e_text, x_text)
    ef = parse(e_text)
    xf = parse(x_text) if x_text is not None else None
    cfg = study.config if study.config is not None else FillConfig()
    per: list[dict[str, float | None]] = []
    rets: list[np.ndarray] = []
    engines: list[str] = []
    for bars in data:
        w = window or Window(0, len(bars), 0)
        b = _slice(bars, w.start, w.end)
        entry = np.asarray(ef.evaluate(b), dtype=np.bool_).copy()
        k0 = w.entry_from - w.start
        entry[:k0] = False
        exit_ = np.asarray(xf.evaluate(b), dtype=np.bool_) if xf is not None else np.zeros(len(b), np.bool_)
        out = backtest(b, entry, exit_, qty=study.qty, cash=study.cash, config=cfg)
        start_t = int(b.time[k0]) if k0 < len(b) else int(b.time[-1]) + 1
        seg = slice(max(k0 - 1, 0), None)  # the bar before the first entry bar anchors the first return
        trades = [t for t in out.trades if t.entry_time >= start_t]
        m = segment_metrics(out.equity[seg], b.time[seg], trades)
        m["exposure"] = None
        per.append(m)
        eq = out.equity[seg]
        rets.append(np.diff(eq) / eq[:-1])
        engines.append(out.engine)
    metrics: dict[str, float | None] = {}
    for key in METRICS:
        vals = [v for m in per if (v := m[key]) is not None]
        metrics[key] = (float(sum(vals)) if key == "trades" else float(np.mean(vals))) if vals else None
    if metrics["trades"] is None:
        metrics["trades"] = 0.0
    n = min(len(r) for r in rets)
    returns = np.mean(np.stack([r[len(r) - n:] for r in rets]), axis=0) if n else np.zeros(0)
    return Evaluation(dict(point), metrics, returns, tuple(engines))


def _portfolio_point(data: Sequence[Bars], study: Study, point: Params, window: Window | None,
                     e_text: str, x_text: str | None) -> Evaluation:
    from engine.paper.backtest import rule_formula
    from engine.paper.fills import FillConfig
    from engine.research.portfolio import run_portfolio

    rule_formula(e_text, "entry")
    if x_text is not None:
        rule_formula(x_text, "exit")
    cfg = study.config if study.config is not None else FillConfig()
    if window is None:
        res = run_portfolio(data, e_text, x_text, study.portfolio, cash=study.cash, config=cfg)
        eq = np.concatenate([[float(study.cash)], res.equity])
        m = {k: (None if v is None else float(v)) for k, v in res.metrics.items() if k in METRICS}
        return Evaluation(dict(point), m, np.diff(eq) / eq[:-1], ("portfolio",))
    sliced = [_slice(b, window.start, window.end) for b in data]
    k0 = window.entry_from - window.start
    t_from = min(int(b.time[k0]) for b in sliced if k0 < len(b))
    res = run_portfolio(sliced, e_text, x_text, study.portfolio, cash=study.cash, config=cfg, entry_from=t_from)
    j0 = int(np.searchsorted(res.time, t_from))
    seg = slice(max(j0 - 1, 0), None)
    trades = [t for _, t in res.trades if t.entry_time >= t_from]
    m = segment_metrics(res.equity[seg], res.time[seg], trades)
    m["exposure"] = float(np.mean(res.open_positions[j0:] > 0)) if j0 < len(res.time) else None
    eq = res.equity[seg]
    return Evaluation(dict(point), m, np.diff(eq) / eq[:-1], ("portfolio",))


def _slice(bars: Bars, lo: int, hi: int) -> Bars:
    if lo == 0 and hi == len(bars):
        return bars
    return Bars(bars.symbol, bars.timeframe, bars.time[lo:hi], bars.open[lo:hi], bars.high[lo:hi],
                bars.low[lo:hi], bars.close[lo:hi], bars.volume[lo:hi], bars.source)


# --------------------------------------------------------------------------- objectives


@dataclass(frozen=True, slots=True, eq=False)
class Objective:
    """What a search maximises: a metric (``max_drawdown`` is minimised) or a formula over metrics."""

    text: str
    metric: str | None
    formula: Expression | None

    @classmethod
    def parse(cls, text: str) -> "Objective":
        """``"sharpe"`` … or a formula over the metric names. Raises ``ParamError``."""
        t = text.strip() if isinstance(text, str) else ""
        if t in METRICS:
            return cls(t, t, None)
        expr = parse_expression(t)
        unknown = sorted(expr.names - set(METRICS))
        if unknown:
            raise ParamError(f"objective {t!r} uses {unknown[0]!r}, which is not a metric "
                             f"(metrics: {', '.join(METRICS)})")
        return cls(t, None, expr)

    def score(self, metrics: dict[str, float | None]) -> float:
        """Higher is better; NaN when the metric is not defined (no trades, no loss …)."""
        if self.metric is not None:
            v = metrics.get(self.metric)
            if v is None or not math.isfinite(v):
                return math.nan
            return -v if self.metric in MINIMISED else v
        assert self.formula is not None
        v = self.formula.value(metrics)
        return v if math.isfinite(v) else math.nan

    def shown(self, metrics: dict[str, float | None]) -> float | None:
        """The objective's value as the user reads it (drawdown positive)."""
        s = self.score(metrics)
        if math.isnan(s):
            return None
        return -s if self.metric in MINIMISED else s


# --------------------------------------------------------------------------- search


class Executor(Protocol):
    workers: int

    def map(self, fn: Callable[..., Any], items: Sequence[Any], data: Any,
            progress: Callable[[int, int], None] | None = None) -> list[Any]: ...


class SerialExecutor:
    """Runs jobs in this process, in order (tests, small searches)."""

    workers = 1

    def map(self, fn: Callable[..., Any], items: Sequence[Any], data: Any,
            progress: Callable[[int, int], None] | None = None) -> list[Any]:
        out = []
        for k, it in enumerate(items):
            out.append(fn(data, it))
            if progress is not None:
                progress(k + 1, len(items))
        return out


@dataclass(frozen=True, slots=True)
class PointJob:
    """One point to evaluate (what an executor ships per task; the data goes once per worker)."""

    study: Study
    point: Params
    window: Window | None = None


def evaluate_job(data: Sequence[Bars], job: PointJob) -> Evaluation:
    """``run_point`` for an executor: a module-level function, so it pickles."""
    return run_point(data, job.study, job.point, job.window)


@dataclass(frozen=True, slots=True)
class Row:
    params: Params
    metrics: dict[str, float | None]
    objective: float | None
    flagged: bool  # fewer closed trades than min_trades
    rank: int


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Ranked rows (best first; below ``min_trades`` last, flagged) and every evaluation."""

    rows: list[Row]
    evaluations: list[Evaluation]
    objective: str
    search: str
    min_trades: int
    grid_size: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def best(self) -> Row:
        return self.rows[0]


def rank(evals: Sequence[Evaluation], objective: Objective, min_trades: int) -> list[Row]:
    """Rows sorted: enough trades first, then by objective (undefined last)."""
    scored = []
    for ev in evals:
        s = objective.score(ev.metrics)
        flagged = (ev.metrics.get("trades") or 0) < min_trades
        scored.append((flagged, math.isnan(s), -s if not math.isnan(s) else 0.0, ev, s))
    scored.sort(key=lambda x: (x[0], x[1], x[2]))
    return [Row(ev.params, ev.metrics, objective.shown(ev.metrics), flagged, k + 1)
            for k, (flagged, _n, _s, ev, _) in enumerate(scored)]


def search(data: Sequence[Bars], study: Study, *, objective: str = "sharpe", method: str = "grid",
           trials: int = 100, seed: int = 0, min_trades: int = MIN_TRADES, window: Window | None = None,
           executor: Executor | None = None, progress: Callable[[int, int], None] | None = None,
           shipped: Any = None) -> SearchResult:
    """Search ``study``'s space on ``data``; ``trials`` caps random and Bayesian searches.

    ``shipped`` is what the executor ships to workers in place of ``data`` (an executor's
    handle to data it already holds). Raises ``ParamError`` for a bad objective, method,
    trial count, empty space, or ``FormulaError`` for a point whose formulas are wrong.
    """
    obj = Objective.parse(objective)
    if method not in SEARCHES:
        raise ParamError(f"search must be one of {', '.join(SEARCHES)}, not {method!r}")
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ParamError(f"the number of trials must be a whole number ≥ 1, not {trials!r}")
    if isinstance(min_trades, bool) or not isinstance(min_trades, int) or min_trades < 0:
        raise ParamError(f"the minimum trade count must be a whole number ≥ 0, not {min_trades!r}")
    if not data:
        raise ParamError("no bars to search on")
    ex: Executor = executor if executor is not None else SerialExecutor()
    payload = shipped if shipped is not None else data
    points = list(study.space.grid()) if method != "bayes" or study.space.size() <= 10**6 else []
    if method != "bayes" and not points:
        raise ParamError("no parameter combination satisfies the constraints")
    if points:
        study.validate(points[0])  # a wrong formula is said once, before any worker starts
    if method == "grid":
        evals = ex.map(evaluate_job, [PointJob(study, p, window) for p in points], payload, progress)
    elif method == "random":
        rng = random.Random(seed)
        chosen = points if len(points) <= trials else rng.sample(points, trials)
        evals = ex.map(evaluate_job, [PointJob(study, p, window) for p in chosen], payload, progress)
    else:
        evals = _bayes(payload, study, obj, trials, seed, window, ex, progress, len(points))
    return SearchResult(rank(evals, obj, min_trades), list(evals), obj.text, method, min_trades,
                        study.space.size())


def _bayes(payload: Any, study: Study, obj: Objective, trials: int, seed: int, window: Window | None,
           ex: Executor, progress: Callable[[int, int], None] | None, n_points: int) -> list[Evaluation]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed)
    st = optuna.create_study(direction="maximize", sampler=sampler)
    budget = min(trials, n_points) if n_points else trials
    done: dict[tuple[Any, ...], Evaluation] = {}
    asked = 0
    stale = 0
    while len(done) < budget and stale < 20 * budget:
        batch: list[tuple[Any, Params]] = []
        for _ in range(max(1, ex.workers)):
            if len(done) + len(batch) >= budget:
                break
            tr = st.ask()
            asked += 1
            point: Params = {p.name: tr.suggest_categorical(p.name, list(p.values))  # type: ignore[misc]
                             for p in study.space.params}
            key = tuple(point[n] for n in study.space.names)
            if not study.space.allows(point):
                st.tell(tr, state=optuna.trial.TrialState.PRUNED)
                stale += 1
                continue
            if key in done or any(key == tuple(b[1][n] for n in study.space.names) for b in batch):
                prev = done.get(key)
                score = obj.score(prev.metrics) if prev is not None else math.nan
                if math.isnan(score):
                    st.tell(tr, state=optuna.trial.TrialState.PRUNED)
                else:
                    st.tell(tr, score)
                stale += 1
                continue
            batch.append((tr, point))
        if not batch:
            continue
        evs = ex.map(evaluate_job, [PointJob(study, p, window) for _, p in batch], payload, None)
        for (tr, point), ev in zip(batch, evs):
            s = obj.score(ev.metrics)
            st.tell(tr, s if not math.isnan(s) else -1e9)
            done[tuple(point[n] for n in study.space.names)] = ev
        if progress is not None:
            progress(len(done), budget)
    return list(done.values())
