"""Backtests: a rule strategy driven over history through the paper account engine.

The strategy's entry and exit signals are computed once, vectorised (numpy bool arrays),
from formula expressions (``engine.formula.evaluate``) or callables ``(bars) -> array``.
The loop then visits only bars where something can happen — a signal bar, or any bar while
an order is working — and hands those bars to the same ``PaperAccount`` that live paper
trading uses, with full order objects, the transition table and the exact ledger. That is
why a backtest and a paper run of a strategy fill alike, and why the loop is fast: on bars
where nothing is working there is nothing to do.

Semantics (backtrader's defaults): the strategy looks at each bar's close; an entry when
flat submits a GTC market buy, an exit when long a GTC market sell of the whole position;
they fill by the bar-mode rules (next bar's open). An order created on the last bar never
fills. ``final_equity`` is cash plus the open position valued at the last close. Long only.
"""
from __future__ import annotations

import datetime as _dt
import gc
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import numpy as np

from engine.data.bars import INTRADAY, Bars
from engine.paper.account import AccountKind, IdSource, PaperAccount
from engine.paper.fills import FillConfig
from engine.paper.errors import InvalidValue
from engine.paper.money import CENT, MAX_PRICE, ZERO, to_money, to_price
from engine.paper.orders import Bar, Fill, OrderRequest, OrderState, OrderType, Role, Side, TimeInForce

SignalFn = Callable[[Bars], np.ndarray]
Signal = str | SignalFn


@dataclass(frozen=True, slots=True)
class FixedQty:
    """Always ``qty`` shares."""

    qty: int


@dataclass(frozen=True, slots=True)
class PercentEquity:
    """``pct`` % of current equity, at the signal bar's close, rounded down to whole shares."""

    pct: float


@dataclass(frozen=True, slots=True)
class RiskPerTrade:
    """Risk ``risk_pct`` % of equity per trade with a protective stop ``stop_pct`` % below
    the signal close: qty = ⌊equity × risk% / (close × stop%)⌋. The stop is a real stop
    order (bracket child of the entry)."""

    risk_pct: float
    stop_pct: float


Sizing = FixedQty | PercentEquity | RiskPerTrade


@dataclass(frozen=True, slots=True)
class RuleStrategy:
    """Entry/exit rules. ``take_profit_pct``/``stop_loss_pct`` (optional, % from the signal
    close) make each entry a bracket order."""

    entry: Signal
    exit: Signal | None = None
    sizing: Sizing = FixedQty(100)
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    name: str = "strategy"


@dataclass(frozen=True, slots=True)
class Trade:
    """One closed round trip (long). Prices are volume-weighted over its fills; ``pnl`` is
    after fees."""

    entry_time: int  # epoch s
    entry_price: Decimal
    exit_time: int
    exit_price: Decimal
    qty: int
    pnl: Decimal
    fees: Decimal


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Trades, the exact final equity, per-bar equity (float, for charts) and metrics."""

    symbol: str
    timeframe: str
    trades: list[Trade]
    fills: list[Fill]
    final_equity: Decimal
    final_cash: Decimal
    open_qty: int
    initial_cash: Decimal
    equity: np.ndarray  # float64 per bar
    time: np.ndarray  # int64 epoch s per bar
    metrics: dict[str, float | int | None]
    bars_visited: int
    orders: int
    rejected: list[str] = field(default_factory=list)
    #: why orders were rejected: reason (its text before the first ":") → how many
    rejections: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON shape (prices and money as numbers; times ISO dates/datetimes)."""
        daily = self.timeframe not in INTRADAY

        def fmt(s: int) -> str:
            d = _dt.datetime.fromtimestamp(s, _dt.UTC)
            return d.date().isoformat() if daily else d.isoformat().replace("+00:00", "Z")
        return {
            "symbol": self.symbol,
            "trades": [
                {
                    "entry_time": fmt(t.entry_time), "entry_price": float(t.entry_price),
                    "exit_time": fmt(t.exit_time), "exit_price": float(t.exit_price),
                    "qty": t.qty, "pnl": float(t.pnl),
                }
                for t in self.trades
            ],
            "final_equity": float(self.final_equity.quantize(CENT)),
            "final_cash": float(self.final_cash.quantize(CENT)),
            "open_qty": self.open_qty,
            "metrics": self.metrics,
            "rejections": dict(self.rejections),
        }


def rule_formula(text: str, what: str) -> Any:
    """``text`` parsed as a rule: it must be a condition (true/false), as a scan filter must.

    Raises ``FormulaError`` (with the column) for a bad formula or one that gives numbers.
    """
    from engine.formula import FormulaError, parse  # lazy: a sibling package

    f = parse(text)
    if not f.is_boolean:
        raise FormulaError(f"a backtest {what} rule must be a condition (true/false), e.g. "
                           "'crosses_above(sma(close,10), sma(close,30))'; this formula gives numbers",
                           1, text=text)
    return f


def _signal(sig: Signal, bars: Bars, what: str) -> np.ndarray:
    raw: object = rule_formula(sig, what).evaluate(bars) if isinstance(sig, str) else sig(bars)
    arr: np.ndarray = np.asarray(raw)
    if arr.shape != (len(bars),):
        raise ValueError(f"{what} signal has shape {arr.shape}, expected ({len(bars)},)")
    if arr.dtype != np.bool_:
        arr = np.nan_to_num(arr.astype(np.float64), nan=0.0) != 0.0
    return arr


def run_backtest(
    bars: Bars,
    strategy: RuleStrategy,
    *,
    cash: Decimal | float | int = 100000,
    config: FillConfig | None = None,
    kind: AccountKind = AccountKind.CASH,
) -> BacktestResult:
    """Run ``strategy`` over ``bars`` (see module docstring); returns trades, equity, metrics.

    ``cash`` must be positive (below 1e13, whole cents). Raises ``InvalidValue`` (a
    ``ValueError``) for a bad cash amount or bars the broker cannot trade on (a price that is
    not finite, not positive or too large, high < low), ``ValueError`` for empty bars or
    malformed signals, and ``FormulaError`` for a bad expression or a rule that gives numbers
    rather than true/false.
    """
    # The loop allocates many small objects that never form cycles; the cyclic collector
    # would only pause it (a third of the run time on 100k bars), so it is off meanwhile.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(bars, strategy, cash, config, kind)
    finally:
        if gc_was_enabled:
            gc.enable()


def _run(
    bars: Bars, strategy: RuleStrategy, cash: Decimal | float | int, config: FillConfig | None,
    kind: AccountKind,
) -> BacktestResult:
    n = len(bars)
    if n == 0:
        raise ValueError("no bars to backtest")
    cash_d = to_money(cash, "starting cash")
    if cash_d <= 0:
        raise InvalidValue(f"starting cash must be positive, not {cash_d:,}")
    _check_prices(bars)
    entry = _signal(strategy.entry, bars, "entry")
    exit_ = _signal(strategy.exit, bars, "exit") if strategy.exit is not None else np.zeros(n, np.bool_)
    acct = PaperAccount(
        strategy.name, cash_d, kind, config or FillConfig(), ids=IdSource("bt"),
        session_bars=not bars.is_intraday, day_trading=bars.is_intraday,
    )
    sym = bars.symbol or "SYMBOL"
    # Only the visited bars are read, so index the arrays (``.item()`` gives Python
    # numbers) rather than converting whole columns to lists.
    tms = bars.time.astype(np.int64) * 1000
    o_, h_, l_, c_, v_ = bars.open, bars.high, bars.low, bars.close, bars.volume
    interesting = np.flatnonzero(entry | exit_).tolist()
    entry_l = entry
    exit_l = exit_
    fill_bars: list[int] = []
    fills_all: list[Fill] = []
    rejected: list[str] = []
    working = acct._working  # the loop asks "is anything working?" on every visited bar
    ledger = acct.ledger
    visited = 0
    norders = 0
    k = 0  # cursor into interesting
    i = -1
    nint = len(interesting)
    while True:
        lst = working.get(sym)
        if lst:
            i += 1
        else:
            while k < nint and interesting[k] <= i:
                k += 1
            if k >= nint:
                break
            i = interesting[k]
        if i >= n:
            break
        visited += 1
        close = to_price(c_[i].item())
        t_ms = tms[i].item()
        if lst:
            bar = Bar(t_ms, to_price(o_[i].item()), to_price(h_[i].item()), to_price(l_[i].item()),
                      close, v_[i].item())
            got = acct._on_bar(sym, bar)
            if got:
                fills_all.extend(got)
                fill_bars.extend([i] * len(got))
        acct.prices[sym] = close
        pos = ledger.positions.get(sym)
        qty_now = pos.qty if pos is not None else 0
        lst = working.get(sym)
        if qty_now == 0:
            if entry_l[i] and not any(o.is_buy and o.is_working for o in lst or ()):
                q = _size(strategy, acct, close)
                if q > 0:
                    req = _entry_request(strategy, sym, q, close)
                    o = acct._submit(req, t_ms, check=True, group=None, role=Role.SINGLE)
                    norders += 1
                    if o.state is OrderState.REJECTED:
                        rejected.append(f"{_iso(t_ms)}: {o.reason}")
        elif qty_now > 0 and exit_l[i] and not any((not o.is_buy) and o.role.value not in ("take_profit", "stop_loss") for o in lst or ()):
            for o in list(lst or ()):
                if o.is_working:
                    acct._cancel(o, t_ms, "strategy exit")
            o = acct._submit(OrderRequest(sym, Side.SELL, qty_now, tif=TimeInForce.GTC), t_ms,
                             check=True, group=None, role=Role.SINGLE)
            norders += 1
            if o.state is OrderState.REJECTED:
                rejected.append(f"{_iso(t_ms)}: {o.reason}")
    last_close = to_price(c_[-1].item())
    open_qty = ledger.qty(sym)
    final_equity = ledger.cash + open_qty * last_close
    equity, position = _equity_curve(bars, fills_all, fill_bars, float(cash_d))
    trades = _trades(fills_all)
    metrics = compute_metrics(
        equity, position, bars.time, trades, float(cash_d), bars.is_intraday, float(final_equity)
    )
    counted: dict[str, int] = {}
    for r in rejected:
        key = r.split(": ", 1)[1].split(":", 1)[0].split(";", 1)[0].strip()
        counted[key] = counted.get(key, 0) + 1
    return BacktestResult(
        sym, bars.timeframe, trades, fills_all, final_equity, ledger.cash, open_qty, cash_d,
        equity, bars.time, metrics, visited, norders, rejected,
        dict(sorted(counted.items(), key=lambda kv: -kv[1])),
    )


def _check_prices(bars: Bars) -> None:
    """Refuse bars no order can be matched against (before anything runs)."""
    o, h, lo, c = (np.asarray(a, dtype=np.float64) for a in (bars.open, bars.high, bars.low, bars.close))
    ok = np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)
    ok &= (o > 0) & (h > 0) & (lo > 0) & (c > 0) & (h >= lo)
    ok &= (o < float(MAX_PRICE)) & (h < float(MAX_PRICE)) & (lo < float(MAX_PRICE)) & (c < float(MAX_PRICE))
    bad = np.flatnonzero(~ok)
    if len(bad):
        i = int(bad[0])
        when = _iso(int(bars.time[i]) * 1000)[:10] if not bars.is_intraday else _iso(int(bars.time[i]) * 1000)
        raise InvalidValue(
            f"bar {i + 1} ({when}) cannot be traded on: open {o[i]:g}, high {h[i]:g}, low {lo[i]:g}, "
            f"close {c[i]:g} (prices must be finite, positive, below {MAX_PRICE:,} and high ≥ low)"
            + (f"; {len(bad) - 1} more such bars" if len(bad) > 1 else "")
        )


def _iso(ms: int) -> str:
    return _dt.datetime.fromtimestamp(ms / 1000, _dt.UTC).isoformat()


def _size(strategy: RuleStrategy, acct: PaperAccount, close: Decimal) -> int:
    s = strategy.sizing
    if type(s) is FixedQty:
        return s.qty
    equity = acct.ledger.equity(acct.prices)
    if type(s) is PercentEquity:
        return int((equity * Decimal(repr(s.pct)) / 100 / close).to_integral_value(ROUND_FLOOR))
    if type(s) is RiskPerTrade:
        risk = equity * Decimal(repr(s.risk_pct)) / 100
        per_share = close * Decimal(repr(s.stop_pct)) / 100
        return int((risk / per_share).to_integral_value(ROUND_FLOOR)) if per_share > 0 else 0
    raise TypeError(f"unknown sizing {s!r}")


def _entry_request(strategy: RuleStrategy, sym: str, qty: int, close: Decimal) -> OrderRequest:
    sl = strategy.stop_loss_pct
    if type(strategy.sizing) is RiskPerTrade:
        sl = strategy.sizing.stop_pct
    tp = strategy.take_profit_pct
    return OrderRequest(
        sym, Side.BUY, qty, OrderType.MARKET, tif=TimeInForce.GTC,
        stop_loss=to_price(close * (1 - Decimal(repr(sl)) / 100)) if sl else None,
        take_profit=to_price(close * (1 + Decimal(repr(tp)) / 100)) if tp else None,
        tag=strategy.name,
    )


def _equity_curve(
    bars: Bars, fills: list[Fill], fill_bars: list[int], cash0: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-bar equity (at each close) and position, as floats for charts and metrics."""
    n = len(bars)
    dq = np.zeros(n)
    dc = np.zeros(n)
    if fills:
        idx = np.asarray(fill_bars, dtype=np.int64)
        s = np.array([f.qty if f.side is Side.BUY else -f.qty for f in fills], dtype=np.float64)
        cost = np.array([float(f.price) for f in fills]) * s + np.array([float(f.fee) for f in fills])
        np.add.at(dq, idx, s)
        np.add.at(dc, idx, -cost)
    qty = np.cumsum(dq)
    return cash0 + np.cumsum(dc) + qty * bars.close, qty


def _trades(fills: list[Fill]) -> list[Trade]:
    out: list[Trade] = []
    pos = 0
    e_not = x_not = fees = ZERO
    e_qty = x_qty = 0
    t0 = 0
    for f in fills:
        if pos == 0:
            e_not = x_not = fees = ZERO
            e_qty = x_qty = 0
            t0 = f.time_ms
        fees += f.fee
        if f.side is Side.BUY:
            e_not += f.price * f.qty
            e_qty += f.qty
            pos += f.qty
        else:
            x_not += f.price * f.qty
            x_qty += f.qty
            pos -= f.qty
        if pos == 0:
            out.append(Trade(
                t0 // 1000, (e_not / e_qty).quantize(Decimal("0.000001")), f.time_ms // 1000,
                (x_not / x_qty).quantize(Decimal("0.000001")), e_qty, x_not - e_not - fees, fees,
            ))
    return out


def compute_metrics(
    equity: np.ndarray, position: np.ndarray, time_s: np.ndarray, trades: list[Trade],
    cash0: float, intraday: bool, final_equity: float,
) -> dict[str, float | int | None]:
    """Standard performance figures (floats, for display):

    * ``total_return``: final equity / initial cash − 1.
    * ``cagr``: (final / initial) ^ (1 / years) − 1, years = span of the bars / 365.25 days.
    * ``max_drawdown``: largest fall from a running peak of equity, as a fraction (≥ 0).
    * ``sharpe``: mean / standard deviation (ddof 1) of daily equity returns × √252, risk-free 0
      (intraday bars are taken at each day's last bar).
    * ``win_rate``: winning closed trades / closed trades (None without trades).
    * ``profit_factor``: gross profit / gross loss of closed trades (None without a loss).
    * ``trades``: closed trades. ``exposure``: fraction of bars with a position open.
    """
    n = len(equity)
    total_return = final_equity / cash0 - 1 if cash0 else 0.0
    years = (float(time_s[-1]) - float(time_s[0])) / (365.25 * 86400) if n > 1 else 0.0
    cagr = None
    if years > 0 and final_equity > 0:
        cagr = (final_equity / cash0) ** (1 / years) - 1
    peak = np.maximum.accumulate(equity)
    dd = float(np.max(1 - equity / peak)) if n else 0.0
    daily = equity
    if intraday and n > 1:
        day = time_s // 86400
        last_of_day = np.flatnonzero(np.diff(day) != 0)
        daily = np.concatenate([equity[last_of_day], equity[-1:]])
    rets = np.diff(daily) / daily[:-1] if len(daily) > 1 else np.array([])
    sharpe = None
    if len(rets) > 1:
        sd = float(np.std(rets, ddof=1))
        if sd > 0:
            sharpe = float(np.mean(rets)) / sd * math.sqrt(252)
    wins = [float(t.pnl) for t in trades if t.pnl > 0]
    losses = [float(t.pnl) for t in trades if t.pnl < 0]
    return {
        "total_return": total_return,
        "cagr": cagr,
        "max_drawdown": dd,
        "sharpe": sharpe,
        "win_rate": (len(wins) / len(trades)) if trades else None,
        "profit_factor": (sum(wins) / -sum(losses)) if losses else None,
        "trades": len(trades),
        "exposure": float(np.mean(position != 0)) if n else 0.0,
    }
