"""Universe backtests: one rule strategy over many symbols as one portfolio, through the paper engine.

Every symbol's orders go to **one** ``PaperAccount`` (one cash pool, the broker's fills,
costs, partial fills, buying-power checks and rejections — the same engine as
``engine.paper.backtest`` and live paper trading). The strategy's entry/exit formulas are
evaluated per symbol, vectorised, before the loop.

The loop walks the union of the symbols' bar times. At each time:

1. every symbol with a bar then has its working orders matched against that bar (fills at
   the open by the bar-mode rules), in universe order;
2. **exits**: each long symbol whose exit rule is true at this close gets a market sell of
   its whole position (its other working orders cancelled), as in the single-symbol backtest;
3. **entries**: the symbols that are flat, have no working buy and whose entry rule is true
   at this close are the candidates. Free slots = ``max_positions`` − (symbols with a
   position, including those whose exit has not filled yet) − (entries still working).
   When there are more candidates than slots, they are **ranked**: by the ``rank`` formula's
   value at the signal bar, highest first (a missing/NaN value ranks last), ties and the
   default (no ``rank``) by the universe's order. Candidates are submitted in that order until
   the slots are used; an order the broker rejects (not enough buying power) does not use a
   slot and the next candidate is tried. Candidates left over are counted as *skipped*.

Sizing is computed at the signal bar's close: ``FixedQty`` shares, ``FixedDollars`` (⌊$ /
close⌋), ``PercentEquity`` (⌊equity × pct / close⌋) or ``EqualWeight`` (⌊equity /
max_positions / close⌋), equity being cash plus positions at their latest closes. The last
three are capped to what the buying power still allows (less 0.5 % for costs), so a slot is
filled with what the cash buys rather than rejected; ``FixedQty`` is not capped (the broker
rejects an entry it cannot afford, as in the single-symbol backtest).

With one symbol (and any ``max_positions`` ≥ 1) the result is the single-symbol backtest's:
the same orders, fills, trades and final equity (a test checks it).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import numpy as np

from engine.data.bars import Bars
from engine.paper.account import AccountKind, IdSource, PaperAccount
from engine.paper.backtest import (
    FixedQty, PercentEquity, Trade, _check_prices, _entry_request, _iso, _signal, _trades, compute_metrics,
)
from engine.paper.fills import FillConfig
from engine.paper.money import ZERO, to_money, to_price
from engine.paper.orders import Bar, Fill, OrderRequest, OrderState, Role, Side, TimeInForce

MAX_POSITIONS = 10_000
#: share of the buying power kept back when a $, % or equal-weight entry is capped to the cash left
COST_HEADROOM = Decimal("0.005")


@dataclass(frozen=True, slots=True)
class FixedDollars:
    """⌊``amount`` / signal close⌋ shares per entry."""

    amount: float


@dataclass(frozen=True, slots=True)
class EqualWeight:
    """⌊equity / max_positions / signal close⌋ shares per entry (one slot's share of equity)."""


PortfolioSizing = FixedQty | FixedDollars | PercentEquity | EqualWeight
SIZINGS = ("qty", "dollars", "percent", "equal")


def parse_sizing(text: str) -> PortfolioSizing:
    """``qty:100`` | ``dollars:10000`` | ``percent:10`` | ``equal``. Raises ``ValueError``."""
    t = text.strip().lower() if isinstance(text, str) else ""
    kind, _, arg = t.partition(":")
    if kind == "equal" and not arg:
        return EqualWeight()
    if kind in ("qty", "dollars", "percent") and arg:
        try:
            v = float(arg)
        except ValueError:
            v = math.nan
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"sizing {text!r}: {arg!r} must be a positive number")
        if kind == "qty":
            if v != int(v) or v > 10**9:
                raise ValueError(f"sizing {text!r}: shares must be a whole number up to 1e9")
            return FixedQty(int(v))
        if kind == "percent":
            if v > 100:
                raise ValueError(f"sizing {text!r}: at most 100 % of equity per position (cash account)")
            return PercentEquity(v)
        return FixedDollars(v)
    raise ValueError(f"sizing is qty:N, dollars:AMOUNT, percent:P or equal, not {text!r}")


def sizing_text(s: PortfolioSizing) -> str:
    """The ``parse_sizing`` text of ``s``."""
    if isinstance(s, FixedQty):
        return f"qty:{s.qty}"
    if isinstance(s, FixedDollars):
        return f"dollars:{s.amount:g}"
    if isinstance(s, PercentEquity):
        return f"percent:{s.pct:g}"
    return "equal"


@dataclass(frozen=True, slots=True)
class PortfolioRules:
    """How the portfolio is run: slots, sizing, and the ranking of competing entries."""

    max_positions: int = 10
    sizing: PortfolioSizing = EqualWeight()
    rank: str | None = None  # a numeric formula, higher first; None: universe order
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None

    def __post_init__(self) -> None:
        m = self.max_positions
        if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= MAX_POSITIONS:
            raise ValueError(f"the position limit must be a whole number from 1 to {MAX_POSITIONS:,}, not {m!r}")
        if not isinstance(self.sizing, (FixedQty, FixedDollars, PercentEquity, EqualWeight)):
            raise ValueError(f"unknown sizing {self.sizing!r}")
        for what, v in (("stop loss", self.stop_loss_pct), ("take profit", self.take_profit_pct)):
            if v is not None and (not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 < v < 100):
                raise ValueError(f"the {what} must be a percentage between 0 and 100, not {v!r}")
        if self.rank is not None and (not isinstance(self.rank, str) or not self.rank.strip()):
            raise ValueError("the ranking formula must be non-empty text, or None for universe order")


@dataclass(frozen=True, slots=True)
class SymbolResult:
    """One symbol's share of the portfolio run."""

    symbol: str
    trades: int
    pnl: Decimal  # closed trades, after fees
    fees: Decimal
    wins: int
    signals: int  # bars whose entry rule was true while flat
    entries: int  # entry orders submitted
    skipped: int  # entry signals that found no free slot
    rejected: int  # orders the broker rejected
    open_qty: int

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.trades if self.trades else None


@dataclass(frozen=True, slots=True)
class PortfolioResult:
    """The run's equity (one point per union bar time), trades, metrics and per-symbol breakdown."""

    symbols: tuple[str, ...]
    time: np.ndarray  # int64 epoch s, the union of the symbols' bar times
    equity: np.ndarray  # float64 dollars at each time's closes
    cash: np.ndarray  # float64 dollars
    open_positions: np.ndarray  # int64 symbols held
    trades: list[tuple[str, Trade]]  # by exit time
    fills: list[Fill]
    final_equity: Decimal
    final_cash: Decimal
    initial_cash: Decimal
    metrics: dict[str, float | int | None]
    per_symbol: list[SymbolResult]
    rules: PortfolioRules
    rejected: list[str] = field(default_factory=list)
    skipped: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of the CLI (money as numbers, dates ISO)."""
        import datetime as dt

        def day(s: int) -> str:
            return dt.datetime.fromtimestamp(s, dt.UTC).date().isoformat()
        return {
            "symbols": list(self.symbols),
            "max_positions": self.rules.max_positions, "sizing": sizing_text(self.rules.sizing),
            "rank": self.rules.rank,
            "initial_cash": float(self.initial_cash), "final_equity": float(self.final_equity.quantize(Decimal("0.01"))),
            "final_cash": float(self.final_cash.quantize(Decimal("0.01"))),
            "metrics": {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in self.metrics.items()},
            "skipped_signals": self.skipped, "rejected_orders": len(self.rejected),
            "max_open_positions": int(self.open_positions.max()) if self.open_positions.size else 0,
            "per_symbol": [{"symbol": r.symbol, "trades": r.trades, "pnl": float(r.pnl), "fees": float(r.fees),
                            "win_rate": r.win_rate, "signals": r.signals, "entries": r.entries,
                            "skipped": r.skipped, "rejected": r.rejected, "open_qty": r.open_qty}
                           for r in self.per_symbol],
            "trades": [{"symbol": s, "entry_time": day(t.entry_time), "entry_price": float(t.entry_price),
                        "exit_time": day(t.exit_time), "exit_price": float(t.exit_price), "qty": t.qty,
                        "pnl": float(t.pnl), "fees": float(t.fees)} for s, t in self.trades],
        }


def _size(s: PortfolioSizing, slots: int, acct: PaperAccount, close: Decimal) -> int:
    if type(s) is FixedQty:
        return s.qty
    if type(s) is FixedDollars:
        return int((Decimal(repr(s.amount)) / close).to_integral_value(ROUND_FLOOR))
    equity = acct.ledger.equity(acct.prices)
    if type(s) is PercentEquity:
        return int((equity * Decimal(repr(s.pct)) / 100 / close).to_integral_value(ROUND_FLOOR))
    return int((equity / slots / close).to_integral_value(ROUND_FLOOR))


class _Req:
    """What ``_entry_request`` reads of a strategy."""

    __slots__ = ("stop_loss_pct", "take_profit_pct", "sizing", "name")

    def __init__(self, rules: PortfolioRules, name: str) -> None:
        self.stop_loss_pct = rules.stop_loss_pct
        self.take_profit_pct = rules.take_profit_pct
        self.sizing = FixedQty(1)
        self.name = name


def run_portfolio(universe: Sequence[Bars], entry: str | Callable[[Bars], np.ndarray],
                  exit: str | Callable[[Bars], np.ndarray] | None = None,
                  rules: PortfolioRules = PortfolioRules(), *, cash: Decimal | float | int = 100000,
                  config: FillConfig | None = None, kind: AccountKind = AccountKind.CASH,
                  entry_from: int | None = None, name: str = "portfolio",
                  cancelled: Callable[[], bool] | None = None) -> PortfolioResult:
    """Backtest ``entry``/``exit`` over ``universe`` as one portfolio (see the module docstring).

    ``entry_from`` (epoch s): entries only at bars from then on (walk-forward: the earlier bars
    are the indicators' warm-up). ``cancelled`` is polled every few hundred bar times; when it
    returns True the run raises ``engine.research.executor.Cancelled``.

    Raises ``ValueError`` for an empty universe, a symbol listed twice, mixed timeframes, bad
    cash, bars the broker cannot trade on, and ``FormulaError`` for a bad rule.
    """
    from engine.formula import parse

    if not universe:
        raise ValueError("the universe has no symbols")
    syms = [b.symbol or f"S{k}" for k, b in enumerate(universe)]
    if len(set(syms)) != len(syms):
        dup = next(s for s in syms if syms.count(s) > 1)
        raise ValueError(f"symbol {dup} is listed twice in the universe")
    tfs = {b.timeframe for b in universe}
    if len(tfs) > 1:
        raise ValueError(f"the universe mixes timeframes ({', '.join(sorted(tfs))}); use one")
    cash_d = to_money(cash, "starting cash")
    if cash_d <= 0:
        raise ValueError(f"starting cash must be positive, not {cash_d:,}")
    for b in universe:
        if len(b) == 0:
            raise ValueError(f"{b.symbol}: no bars")
        _check_prices(b)
    entries = [_signal(entry, b, "entry") for b in universe]
    exits = [_signal(exit, b, "exit") if exit is not None else np.zeros(len(b), np.bool_) for b in universe]
    rank_vals: list[np.ndarray] | None = None
    if rules.rank is not None:
        f = parse(rules.rank)
        if f.is_boolean:
            raise ValueError("the ranking formula must give numbers (e.g. 'roc(close, 20)'), not true/false")
        rank_vals = [np.asarray(f.evaluate(b), dtype=np.float64) for b in universe]
    if entry_from is not None:
        for k, b in enumerate(universe):
            entries[k] = entries[k] & (b.time >= entry_from)

    n_sym = len(universe)
    all_t = np.concatenate([b.time.astype(np.int64) for b in universe])
    all_s = np.concatenate([np.full(len(b), k, np.int64) for k, b in enumerate(universe)])
    all_i = np.concatenate([np.arange(len(b), dtype=np.int64) for b in universe])
    order = np.lexsort((all_s, all_t))
    all_t, all_s, all_i = all_t[order], all_s[order], all_i[order]
    times, starts = np.unique(all_t, return_index=True)
    bounds = np.append(starts, len(all_t)).tolist()
    s_list = all_s.tolist()
    i_list = all_i.tolist()

    acct = PaperAccount(name, cash_d, kind, config or FillConfig(), ids=IdSource("pf"),
                        session_bars=not universe[0].is_intraday, day_trading=universe[0].is_intraday)
    working = acct._working
    ledger = acct.ledger
    req = _Req(rules, name)
    last_i = [-1] * n_sym
    closes_f = [b.close for b in universe]
    fills_all: list[Fill] = []
    rejected: list[str] = []
    n_signals = [0] * n_sym
    n_entries = [0] * n_sym
    n_skipped = [0] * n_sym
    n_rejected = [0] * n_sym
    steps = len(times)
    eq_out = np.empty(steps)
    cash_out = np.empty(steps)
    held_out = np.zeros(steps, np.int64)
    held: dict[int, int] = {}  # symbol index → qty (positions open now)
    pending_buys: set[int] = set()
    for k in range(steps):
        if cancelled is not None and k % 256 == 0 and cancelled():
            from engine.research.executor import Cancelled

            raise Cancelled("the run was cancelled")
        lo, hi = bounds[k], bounds[k + 1]
        t_ms = int(times[k]) * 1000
        touched = False
        # 1. fills of working orders against this bar
        for j in range(lo, hi):
            s = s_list[j]
            i = i_list[j]
            last_i[s] = i
            sym = syms[s]
            if working.get(sym):
                b = universe[s]
                close = to_price(b.close[i].item())
                bar = Bar(t_ms, to_price(b.open[i].item()), to_price(b.high[i].item()), to_price(b.low[i].item()),
                          close, b.volume[i].item())
                got = acct._on_bar(sym, bar)
                if got:
                    fills_all.extend(got)
                    touched = True
                acct.prices[sym] = close
        if touched:
            held = {s: q for s in range(n_sym) if (q := ledger.qty(syms[s])) != 0}
        if pending_buys:  # an entry leaves the set when it filled, or was cancelled/rejected at the fill
            pending_buys = {s for s in pending_buys if s not in held
                            and any(o.is_buy and o.is_working for o in working.get(syms[s]) or ())}
        # 2. exits, 3. entries — only symbols with a bar now
        candidates: list[int] = []
        for j in range(lo, hi):
            s = s_list[j]
            i = i_list[j]
            sym = syms[s]
            lst = working.get(sym)
            if s in held:
                if held[s] > 0 and exits[s][i] and not any(
                        (not o.is_buy) and o.role.value not in ("take_profit", "stop_loss") for o in lst or ()):
                    acct.prices[sym] = to_price(universe[s].close[i].item())
                    for o in list(lst or ()):
                        if o.is_working:
                            acct._cancel(o, t_ms, "strategy exit")
                    o = acct._submit(OrderRequest(sym, Side.SELL, held[s], tif=TimeInForce.GTC), t_ms,
                                     check=True, group=None, role=Role.SINGLE)
                    if o.state is OrderState.REJECTED:
                        rejected.append(f"{sym} {_iso(t_ms)}: {o.reason}")
                        n_rejected[s] += 1
            elif entries[s][i] and not any(o.is_buy and o.is_working for o in lst or ()):
                n_signals[s] += 1
                candidates.append(s)
        if candidates:
            slots = rules.max_positions - len(held) - len(pending_buys)
            if rank_vals is not None and len(candidates) > max(slots, 0):
                rv = rank_vals
                candidates.sort(key=lambda s: _rank_key(float(rv[s][last_i[s]])))
            if slots > 0:
                for s2, q in held.items():  # equity at the latest closes for the sizing
                    acct.prices[syms[s2]] = to_price(closes_f[s2][last_i[s2]].item())
            for s in candidates:
                if slots <= 0:
                    n_skipped[s] += 1
                    continue
                sym = syms[s]
                close = to_price(universe[s].close[last_i[s]].item())
                acct.prices[sym] = close
                q = _size(rules.sizing, rules.max_positions, acct, close)
                if type(rules.sizing) is not FixedQty and q > 0:
                    # what the cash still allows, less COST_HEADROOM for commissions and slippage
                    cap = int((acct.buying_power() * (1 - COST_HEADROOM) / close).to_integral_value(ROUND_FLOOR))
                    q = min(q, cap)
                if q <= 0:
                    n_skipped[s] += 1
                    continue
                o = acct._submit(_entry_request(req, sym, q, close), t_ms,  # type: ignore[arg-type]
                                 check=True, group=None, role=Role.SINGLE)
                n_entries[s] += 1
                if o.state is OrderState.REJECTED:
                    rejected.append(f"{sym} {_iso(t_ms)}: {o.reason}")
                    n_rejected[s] += 1
                    continue
                pending_buys.add(s)
                slots -= 1
        c = float(ledger.cash)
        eq = c
        for s2, q in held.items():
            eq += q * float(closes_f[s2][last_i[s2]])
        eq_out[k] = eq
        cash_out[k] = c
        held_out[k] = len(held)

    final_cash = ledger.cash
    final_equity = final_cash
    for s in range(n_sym):
        q = ledger.qty(syms[s])
        if q:
            final_equity += q * to_price(universe[s].close[-1].item())
    by_sym: dict[str, list[Fill]] = {}
    for f_ in fills_all:
        by_sym.setdefault(f_.symbol, []).append(f_)
    trades: list[tuple[str, Trade]] = []
    per: list[SymbolResult] = []
    for s, sym in enumerate(syms):
        tr = _trades(by_sym.get(sym, []))
        trades.extend((sym, t) for t in tr)
        pnl = sum((t.pnl for t in tr), ZERO)
        fees = sum((f_.fee for f_ in by_sym.get(sym, [])), ZERO)
        per.append(SymbolResult(sym, len(tr), pnl, fees, sum(1 for t in tr if t.pnl > 0), n_signals[s],
                                n_entries[s], n_skipped[s], n_rejected[s], ledger.qty(sym)))
    trades.sort(key=lambda st: (st[1].exit_time, syms.index(st[0])))
    metrics = portfolio_metrics(eq_out, held_out, times, [t for _, t in trades], float(cash_d),
                                universe[0].is_intraday, float(final_equity))
    return PortfolioResult(tuple(syms), times, eq_out, cash_out, held_out, trades, fills_all, final_equity,
                           final_cash, cash_d, metrics, per, rules, rejected, sum(n_skipped))


def _rank_key(v: float) -> float:
    return -v if math.isfinite(v) else math.inf


def portfolio_metrics(equity: np.ndarray, open_positions: np.ndarray, time_s: np.ndarray, trades: list[Trade],
                      cash0: float, intraday: bool, final_equity: float) -> dict[str, float | int | None]:
    """The backtester's metrics (``engine.paper.backtest.compute_metrics``: total return, CAGR,
    max drawdown, Sharpe, win rate, profit factor, trades, exposure = share of bar times with
    any position) plus the Sortino ratio of the per-bar equity returns
    (``engine.performance.metrics.sortino_ratio``, × √252, which matches empyrical)."""
    from engine.performance.metrics import sortino_ratio

    m = compute_metrics(equity, open_positions, time_s, trades, cash0, intraday, final_equity)
    eq = np.concatenate([[cash0], equity])
    r = np.diff(eq) / eq[:-1]
    so = float(sortino_ratio(r[1:], periods_per_year=252)) if r.size > 2 else math.nan
    m["sortino"] = so if math.isfinite(so) else None
    return m
