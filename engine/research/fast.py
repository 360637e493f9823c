"""The fast path of sweeps: signals as arrays, fills by a compiled kernel where that is exact.

The event engine (``engine.paper.backtest.run_backtest``) drives every order through the
paper account. For the rules below its outcome is a small state machine, which
``engine.research._sim.simulate`` runs (numba-compiled via ``engine.lazy_kernels``) with
prices and cash in integer micro-dollars, so every comparison the broker makes with its
Decimals is made exactly here too:

* fixed quantity, long only, market orders filling at the next bar's open;
* a cash account, no commission, no slippage, no latency, no stop-loss/take-profit;
* daily (or longer) bars.

When a fill would be partial (the bar's volume cap) or could not be afforded at the open,
the kernel stops and says so, and the event engine runs that backtest instead. So
``backtest`` always gives the event engine's trades; ``run_fast`` gives them or ``None``.
A property test (``tests/engine/research/test_fast.py``) checks trade-for-trade identity on
random bars and parameters.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from engine.data.bars import Bars
from engine.lazy_kernels import LazyKernels, default_cache_setup
from engine.research import _sim

_KERNELS = LazyKernels("engine.research._nb", Path(__file__).resolve().parent, "research",
                       configure_cache=default_cache_setup)
set_backend = _KERNELS.set_backend
backend = _KERNELS.backend

_MICRO = Decimal("0.000001")


def _k() -> ModuleType | Any:
    nb = _KERNELS.kernels()
    return nb if nb is not None else _sim


def to_micro(x: np.ndarray) -> np.ndarray:
    """Prices as int64 micro-dollars, rounded half-even from their exact binary value — the
    paper engine's ``to_price`` (1e-6 quantum). Raises ``ValueError`` for a price that is not
    finite or not in (0, 1e9)."""
    a = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(a)) or np.any(a <= 0) or np.any(a >= 1e9):
        raise ValueError("prices must be finite, positive and below 1,000,000,000")
    y = a * 1e6
    out = np.rint(y).astype(np.int64)
    # x·1e6 in floating point may sit on the wrong side of a half; those few are done exactly
    frac = np.abs(y - np.floor(y) - 0.5)
    for i in np.flatnonzero(frac < 1e-3).tolist():
        out[i] = int(Decimal(float(a[i])).quantize(_MICRO).scaleb(6))
    return out


@dataclass(frozen=True, slots=True)
class FastRun:
    """What the fast path computed: the event engine's trades, equity and metrics."""

    trades: list[Any]  # engine.paper.backtest.Trade
    equity: np.ndarray
    position: np.ndarray
    final_equity: Decimal
    metrics: dict[str, float | int | None]
    rejected: int


def exact_reason(strategy: Any, config: Any = None, kind: Any = None, bars: Bars | None = None) -> str | None:
    """Why the fast path is not exact for this backtest (None: it is).

    ``strategy`` is an ``engine.paper.backtest.RuleStrategy``, ``config`` a ``FillConfig``,
    ``kind`` an ``AccountKind``.
    """
    from engine.paper.account import AccountKind
    from engine.paper.backtest import FixedQty
    from engine.paper.fills import FillConfig, NoCommission, NoSlippage

    cfg = config if config is not None else FillConfig()
    if type(strategy.sizing) is not FixedQty:
        return "sizing other than a fixed quantity"
    if strategy.stop_loss_pct or strategy.take_profit_pct:
        return "stop-loss/take-profit brackets"
    if not isinstance(cfg.slippage, NoSlippage) or not isinstance(cfg.commission, NoCommission):
        return "slippage or commission"
    if cfg.latency_ms:
        return "latency"
    if kind is not None and kind is not AccountKind.CASH:
        return "a margin account"
    if bars is not None and bars.is_intraday:
        return "intraday bars (day-trading rules)"
    return None


def run_fast(bars: Bars, entry: np.ndarray, exit_: np.ndarray, qty: int, cash: float | int | Decimal,
             participation: float = 0.10) -> FastRun | None:
    """Backtest boolean ``entry``/``exit_`` arrays on ``bars`` by the compiled kernel.

    Returns ``None`` when a fill would be partial or unaffordable (run the event engine).
    ``cash`` in dollars (whole cents), ``qty`` shares. Raises ``ValueError`` for bad inputs.
    """
    from engine.paper.backtest import Trade, compute_metrics

    n = len(bars)
    if n == 0:
        raise ValueError("no bars to backtest")
    if isinstance(qty, bool) or not isinstance(qty, (int, np.integer)) or qty <= 0:
        raise ValueError(f"qty must be a positive whole number of shares, not {qty!r}")
    cash_d = Decimal(str(cash)) if not isinstance(cash, Decimal) else cash
    if not cash_d.is_finite() or cash_d <= 0:
        raise ValueError(f"starting cash must be positive, not {cash}")
    cash_u = int((cash_d * 1_000_000).to_integral_value())
    entry_b = np.ascontiguousarray(entry, dtype=np.bool_)
    exit_b = np.ascontiguousarray(exit_, dtype=np.bool_)
    if entry_b.shape != (n,) or exit_b.shape != (n,):
        raise ValueError(f"signals must have shape ({n},)")
    o_u = to_micro(bars.open)
    c_u = to_micro(bars.close)
    vol = np.ascontiguousarray(bars.volume, dtype=np.float64)
    out_in = np.empty(n, np.int64)
    out_out = np.empty(n, np.int64)
    ntr, status, ebar, rej = _k().simulate(o_u, c_u, vol, entry_b, exit_b, int(qty), cash_u,
                                           float(participation), out_in, out_out)
    if status != 0:
        return None
    q = int(qty)
    trades = []
    idx: list[int] = []
    signed: list[float] = []
    px: list[float] = []
    for k in range(int(ntr)):
        i, j = int(out_in[k]), int(out_out[k])
        e, x = int(o_u[i]), int(o_u[j])
        trades.append(Trade(int(bars.time[i]), Decimal(e).scaleb(-6).quantize(_MICRO), int(bars.time[j]),
                            Decimal(x).scaleb(-6).quantize(_MICRO), q,
                            Decimal(q * (x - e)).scaleb(-6), Decimal(0)))
        idx += [i, j]
        signed += [float(q), float(-q)]
        px += [e / 1e6, x / 1e6]
    if ebar >= 0:
        idx.append(int(ebar))
        signed.append(float(q))
        px.append(int(o_u[ebar]) / 1e6)
    # the same float arithmetic as the event engine's equity curve
    dq = np.zeros(n)
    dc = np.zeros(n)
    if idx:
        ia = np.asarray(idx, dtype=np.int64)
        s = np.asarray(signed)
        cost = np.asarray(px) * s + np.zeros(len(s))
        np.add.at(dq, ia, s)
        np.add.at(dc, ia, -cost)
    qty_curve = np.cumsum(dq)
    cash0 = float(cash_d)
    equity = cash0 + np.cumsum(dc) + qty_curve * bars.close
    open_qty = q if ebar >= 0 else 0
    cash_end = cash_d + sum((t.pnl for t in trades), Decimal(0)) - (Decimal(int(o_u[ebar])).scaleb(-6) * q if ebar >= 0 else 0)
    final = cash_end + open_qty * Decimal(int(c_u[-1])).scaleb(-6)
    metrics = compute_metrics(equity, qty_curve, bars.time, trades, cash0, bars.is_intraday, float(final))
    return FastRun(trades, equity, qty_curve, final, metrics, int(rej))


@dataclass(frozen=True, slots=True)
class Outcome:
    """One backtest's trades, per-bar equity and metrics, and which engine produced them."""

    trades: list[Any]
    equity: np.ndarray
    metrics: dict[str, float | int | None]
    engine: str  # "fast" or "event"


@dataclass(frozen=True, slots=True)
class ArraySignal:
    """A precomputed signal, usable as a ``RuleStrategy`` rule (picklable, unlike a lambda)."""

    values: np.ndarray

    def __call__(self, _bars: Bars) -> np.ndarray:
        return self.values


def backtest(bars: Bars, entry: np.ndarray, exit_: np.ndarray, *, qty: int = 100,
             cash: float | int | Decimal = 100000, config: Any = None, use_fast: bool = True) -> Outcome:
    """The backtest of boolean signal arrays: the fast kernel where it is exact, else the
    event engine (``engine.paper.backtest.run_backtest``). Same trades either way.

    Raises what ``run_backtest`` raises for bad bars or cash.
    """
    from engine.paper.backtest import FixedQty, RuleStrategy, run_backtest
    from engine.paper.fills import FillConfig

    cfg = config if config is not None else FillConfig()
    strategy = RuleStrategy(ArraySignal(np.asarray(entry, dtype=np.bool_)),
                            ArraySignal(np.asarray(exit_, dtype=np.bool_)), FixedQty(qty))
    if use_fast and exact_reason(strategy, cfg, None, bars) is None:
        try:
            run = run_fast(bars, entry, exit_, qty, cash, cfg.participation)
        except ValueError:
            run = None  # the event engine says what is wrong with these bars, in its words
        if run is not None:
            return Outcome(run.trades, run.equity, run.metrics, "fast")
    res = run_backtest(bars, strategy, cash=cash, config=cfg)
    return Outcome(res.trades, res.equity, res.metrics, "event")


def sma_table(close: np.ndarray, lengths: list[int]) -> np.ndarray:
    """``sma(close, n)`` of the formula language for every n of ``lengths``: (symbols, lengths, bars)."""
    from engine.indicators.moving import sma

    c = np.atleast_2d(np.asarray(close, dtype=np.float64))
    out = np.empty((c.shape[0], len(lengths), c.shape[1]))
    for k, n in enumerate(lengths):
        out[:, k, :] = sma(c, int(n))
    return out


SWEEP_FIELDS = ("status", "trades", "final_equity", "ret_mean", "ret_std", "max_drawdown",
                "gross_profit", "gross_loss", "wins")


def sweep_sma(open_: np.ndarray, close: np.ndarray, volume: np.ndarray, pairs: list[tuple[int, int]], *,
              qty: int = 100, cash: int = 100000, participation: float = 0.10) -> np.ndarray:
    """SMA(fast)/SMA(slow) crossover sweep over a panel (symbols × bars) and ``pairs`` of
    (fast, slow) lengths: entry ``crosses_above(sma(close,fast), sma(close,slow))``, exit
    ``crosses_below``, fills as ``run_fast``. Returns (pairs, symbols, len(SWEEP_FIELDS))
    float64; a status other than 0 marks a (pair, symbol) whose fills were not exact (its
    figures are partial: run it through ``backtest``). Raises ``ValueError`` for bad inputs.
    """
    c = np.ascontiguousarray(np.atleast_2d(close), dtype=np.float64)
    o = np.ascontiguousarray(np.atleast_2d(open_), dtype=np.float64)
    v = np.ascontiguousarray(np.atleast_2d(volume), dtype=np.float64)
    if o.shape != c.shape or v.shape != c.shape:
        raise ValueError("open, close and volume must have the same shape (symbols × bars)")
    if not pairs:
        raise ValueError("no parameter pairs to sweep")
    lengths = sorted({int(x) for p in pairs for x in p})
    if lengths[0] < 1:
        raise ValueError("SMA lengths must be at least 1")
    pos = {n: k for k, n in enumerate(lengths)}
    smas = sma_table(c, lengths)
    fi = np.array([pos[int(a)] for a, _ in pairs], dtype=np.int64)
    si = np.array([pos[int(b)] for _, b in pairs], dtype=np.int64)
    o_u = to_micro(o.ravel()).reshape(o.shape)
    c_u = to_micro(c.ravel()).reshape(c.shape)
    out = np.zeros((len(pairs), c.shape[0], len(SWEEP_FIELDS)))
    _k().sweep_sma(smas, fi, si, o_u, c_u, c, v, int(qty), int(cash) * 1_000_000, float(participation), out)
    return out
