"""Strategies: rules in the formula language with sizing, stops and a category; their local
store (table ``strategies``, migration ``0013_strategies``), a backtest on a universe, and a
live run in a paper account.

* ``StrategyDef``: name, category (``CATEGORIES``), entry and exit conditions, sizing (fixed
  quantity, % of equity, or risk per trade with its stop), stop-loss and take-profit
  percentages, bar timeframe and universe. ``rules()`` is the service's JSON shape
  (``server/routers/strategies.py`` ``RulesIn``); ``from_rules`` reads it back.
* ``backtest_universe``: each symbol of the universe trades in its own sleeve (an equal share
  of the cash, its own paper account, ``engine.paper.backtest.run_backtest``, so fills follow
  the paper broker's rules); the strategy's equity is the sum of the sleeves at every bar time
  of the union (a sleeve is its cash before its first bar and holds its last value after its
  last). % of equity and risk per trade size on the sleeve's equity.
* ``LiveRunner``: on each new bar of a symbol, evaluates the rules on its bars and places the
  entry (a market order, a bracket when there are stops/targets) or the exit (flatten)
  through ``PaperSession`` — the same checks as the order ticket. A strategy runs in its own
  paper account, so the account's equity curve and fills are the strategy's live results.
* ``live_results`` / ``run_payload``: the equity points (epoch s, cents) and closed trades
  (exit epoch s, P&L cents) that are published to the service.
"""
from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import numpy as np

from engine.data.bars import Bars
from engine.store.db import Database

CATEGORIES: dict[str, str] = {
    "trend_following": "Trend following", "mean_reversion": "Mean reversion", "breakout": "Breakout",
    "momentum": "Momentum", "swing": "Swing", "day_trading": "Day trading",
    "options_income": "Options income", "long_term": "Long term",
}
SIZING_KINDS = ("fixed_qty", "percent_equity", "risk_per_trade")
TIMEFRAMES = ("1d", "1h", "30m", "15m", "5m", "1m")
#: the service takes at most this many points and trades per run (server/routers/strategies.py)
MAX_PUBLISHED_POINTS = 1_000


class StrategyError(ValueError):
    """A strategy cannot be saved, run or published; the message says why."""


@dataclass(frozen=True, slots=True)
class StrategyDef:
    """One strategy (module docstring). ``remote_id`` is its id on the service once
    published; ``parent_remote_id`` the service id it was cloned from (lineage)."""

    name: str
    category: str
    entry: str
    exit: str | None = None
    sizing_kind: str = "fixed_qty"
    sizing_value: float = 100.0
    risk_stop_pct: float | None = None
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    timeframe: str = "1d"
    universe: str = "demo"
    description: str = ""
    id: int | None = None
    remote_id: int | None = None
    parent_remote_id: int | None = None
    visibility: str = "private"
    results: dict[str, Any] = field(default_factory=dict)
    created_at: int = 0
    updated_at: int = 0

    def validate(self) -> StrategyDef:
        """``self`` with text trimmed; raises ``StrategyError`` for a bad name, category,
        sizing, stop/target or timeframe, and for a rule that is not a condition."""
        from engine.formula import FormulaError

        from engine.paper.backtest import rule_formula

        name = (self.name or "").strip()
        if not 1 <= len(name) <= 120:
            raise StrategyError("a strategy needs a name of 1 to 120 characters")
        if self.category not in CATEGORIES:
            raise StrategyError(f"unknown category {self.category!r}; one of: {', '.join(CATEGORIES)}")
        if self.sizing_kind not in SIZING_KINDS:
            raise StrategyError(f"unknown sizing {self.sizing_kind!r}; one of: {', '.join(SIZING_KINDS)}")
        v = self.sizing_value
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise StrategyError("the sizing needs a positive number")
        if self.sizing_kind == "fixed_qty" and v != int(v):
            raise StrategyError("a fixed quantity is a whole number of shares")
        if self.sizing_kind != "fixed_qty" and v > 100:
            raise StrategyError("a percentage of equity or risk is at most 100")
        if self.sizing_kind == "risk_per_trade" and self.risk_stop_pct is None:
            raise StrategyError("risk per trade needs the stop distance (%) it risks")
        for what, pct, hi in (("stop", self.risk_stop_pct, 100.0), ("stop loss", self.stop_loss_pct, 100.0),
                              ("take profit", self.take_profit_pct, 1000.0)):
            if pct is not None and (isinstance(pct, bool) or not isinstance(pct, (int, float))
                                    or not math.isfinite(pct) or not 0 < pct < hi):
                raise StrategyError(f"the {what} must be a percentage above 0 and below {hi:g}")
        if self.timeframe not in TIMEFRAMES:
            raise StrategyError(f"unknown timeframe {self.timeframe!r}; one of: {', '.join(TIMEFRAMES)}")
        entry = (self.entry or "").strip()
        exit_ = (self.exit or "").strip() or None
        for what, text in (("entry", entry), ("exit", exit_)):
            if what == "entry" and not text:
                raise StrategyError("a strategy needs an entry rule")
            if text is None:
                continue
            try:
                rule_formula(text, what)
            except FormulaError as exc:
                raise StrategyError(f"the {what} rule: {exc}") from None
        return replace(self, name=name, entry=entry, exit=exit_, description=(self.description or "").strip())

    def rule_strategy(self) -> Any:
        """The ``engine.paper.backtest.RuleStrategy`` of these rules."""
        from engine.paper.backtest import FixedQty, PercentEquity, RiskPerTrade, RuleStrategy

        sizing: Any
        if self.sizing_kind == "fixed_qty":
            sizing = FixedQty(int(self.sizing_value))
        elif self.sizing_kind == "percent_equity":
            sizing = PercentEquity(float(self.sizing_value))
        else:
            sizing = RiskPerTrade(float(self.sizing_value), float(self.risk_stop_pct or 0))
        return RuleStrategy(self.entry, self.exit, sizing, self.stop_loss_pct, self.take_profit_pct, self.name)

    def rules(self) -> dict[str, Any]:
        """The service's ``rules`` JSON."""
        return {"entry": self.entry, "exit": self.exit,
                "sizing": {"kind": self.sizing_kind, "value": self.sizing_value, "stop_pct": self.risk_stop_pct},
                "stop_loss_pct": self.stop_loss_pct, "take_profit_pct": self.take_profit_pct,
                "timeframe": self.timeframe, "universe": self.universe}

    @classmethod
    def from_rules(cls, name: str, category: str, rules: dict[str, Any], description: str = "",
                   **extra: Any) -> StrategyDef:
        """A definition from the service's JSON (``validate`` it before use)."""
        sz = rules.get("sizing") or {}
        return cls(name=name, category=category, entry=str(rules.get("entry") or ""), exit=rules.get("exit"),
                   sizing_kind=str(sz.get("kind", "fixed_qty")), sizing_value=float(sz.get("value", 100)),
                   risk_stop_pct=sz.get("stop_pct"), stop_loss_pct=rules.get("stop_loss_pct"),
                   take_profit_pct=rules.get("take_profit_pct"), timeframe=str(rules.get("timeframe") or "1d"),
                   universe=str(rules.get("universe") or ""), description=description, **extra)

    def sizing_text(self) -> str:
        if self.sizing_kind == "fixed_qty":
            return f"{int(self.sizing_value)} shares"
        if self.sizing_kind == "percent_equity":
            return f"{self.sizing_value:g}% of equity"
        return f"risk {self.sizing_value:g}% per trade, stop {self.risk_stop_pct:g}%"


# ------------------------------------------------------------------ local store
_COLS = ("id, name, category, description, rules, remote_id, parent_remote_id, visibility, results, "
         "created_at, updated_at")


def _row(r: Any) -> StrategyDef:
    rules = json.loads(r[4])
    return StrategyDef.from_rules(r[1], r[2], rules, r[3], id=int(r[0]), remote_id=r[5], parent_remote_id=r[6],
                                  visibility=r[7], results=json.loads(r[8] or "{}"), created_at=int(r[9]),
                                  updated_at=int(r[10]))


class StrategyStore:
    """The saved strategies of one data folder (table ``strategies``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, s: StrategyDef) -> StrategyDef:
        """Insert (``id`` None) or update ``s`` after ``validate``; returns it as stored.
        Raises ``StrategyError`` for invalid rules or a name another strategy has."""
        s = s.validate()
        now = int(time.time())
        row = {"n": s.name, "c": s.category, "d": s.description, "r": json.dumps(s.rules(), sort_keys=True),
               "rid": s.remote_id, "pid": s.parent_remote_id, "v": s.visibility,
               "res": json.dumps(s.results, sort_keys=True, allow_nan=False), "t": now}
        with self.db.connect() as c:
            other = c.execute("SELECT id FROM strategies WHERE name=:n", {"n": s.name}).fetchone()
            if other is not None and (s.id is None or int(other[0]) != s.id):
                raise StrategyError(f"a strategy named {s.name!r} already exists")
            if s.id is None:
                cur = c.execute("INSERT INTO strategies(name, category, description, rules, remote_id, "
                                "parent_remote_id, visibility, results, created_at, updated_at) VALUES "
                                "(:n, :c, :d, :r, :rid, :pid, :v, :res, :t, :t)", row)
                sid = int(cur.lastrowid or 0)
            else:
                sid = s.id
                if c.execute("UPDATE strategies SET name=:n, category=:c, description=:d, rules=:r, remote_id=:rid, "
                             "parent_remote_id=:pid, visibility=:v, results=:res, updated_at=:t WHERE id=:id",
                             {**row, "id": sid}).rowcount == 0:
                    raise StrategyError(f"no strategy with id {sid}")
        got = self.get(sid)
        assert got is not None
        return got

    def get(self, sid: int) -> StrategyDef | None:
        with self.db.connect(write=False) as c:
            r = c.execute(f"SELECT {_COLS} FROM strategies WHERE id=:id", {"id": sid}).fetchone()
        return _row(r) if r is not None else None

    def by_name(self, name: str) -> StrategyDef | None:
        with self.db.connect(write=False) as c:
            r = c.execute(f"SELECT {_COLS} FROM strategies WHERE name=:n", {"n": name.strip()}).fetchone()
        return _row(r) if r is not None else None

    def all(self) -> list[StrategyDef]:
        """Every saved strategy, by name."""
        with self.db.connect(write=False) as c:
            rows = c.execute(f"SELECT {_COLS} FROM strategies ORDER BY name COLLATE NOCASE").fetchall()
        return [_row(r) for r in rows]

    def delete(self, sid: int) -> bool:
        with self.db.connect() as c:
            return c.execute("DELETE FROM strategies WHERE id=:id", {"id": sid}).rowcount > 0


# ------------------------------------------------------------------ backtests
@dataclass(frozen=True, slots=True)
class UniverseBacktest:
    """A strategy's backtest over a universe: combined equity, trades by exit, per-symbol
    results, metrics and the local score preview (no community figures)."""

    symbols: tuple[str, ...]
    time: np.ndarray  # int64 epoch s
    equity: np.ndarray  # float64 dollars
    trades: list[tuple[str, Any]]  # (symbol, engine.paper.backtest.Trade), by exit time
    per_symbol: list[Any]  # engine.paper.backtest.BacktestResult
    initial_cash: Decimal
    final_equity: Decimal
    metrics: dict[str, float | int | None]
    score: dict[str, Any]
    rejections: dict[str, int]

    def payload(self) -> dict[str, Any]:
        """The ``backtest`` run to publish: points (epoch s, equity cents), trades (exit s, P&L cents)."""
        return run_payload(list(zip(self.time.tolist(), self.equity.tolist())),
                           [(t.exit_time, t.pnl) for _s, t in self.trades])


def run_payload(points: Sequence[tuple[int, float | Decimal]], trades: Sequence[tuple[int, Decimal | float]]
                ) -> dict[str, Any]:
    """Points and trades in the service's shape (cents; at most ``MAX_PUBLISHED_POINTS``
    points, thinned evenly with the first and last kept, and the last as many trades; times
    strictly increasing). The score reads the points' own rate, so thinning keeps CAGR."""
    pts: list[list[int]] = []
    for t, e in points:
        cents = int((Decimal(str(e)) * 100).to_integral_value())
        if pts and int(t) <= pts[-1][0]:
            pts[-1] = [pts[-1][0], max(1, cents)]
            continue
        pts.append([int(t), max(1, cents)])
    if len(pts) > MAX_PUBLISHED_POINTS:
        step = math.ceil(len(pts) / MAX_PUBLISHED_POINTS)
        last = pts[-1]
        pts = pts[::step]
        if pts[-1] != last:
            pts[-1] = last
    tr = [[int(t), int((Decimal(str(p)) * 100).to_integral_value())] for t, p in trades][-MAX_PUBLISHED_POINTS:]
    return {"points": pts, "trades": tr}


def backtest_universe(s: StrategyDef, universe: Sequence[Bars], *, cash: Decimal | int = 100_000,
                      cancelled: Callable[[], bool] | None = None,
                      progress: Callable[[int, int], None] | None = None) -> UniverseBacktest:
    """Backtest ``s`` on every symbol of ``universe`` in equal sleeves (module docstring).

    Raises ``StrategyError`` for invalid rules or an empty universe, and what
    ``run_backtest`` raises for unusable bars."""
    from engine.community.score import History, composite_score
    from engine.paper.backtest import run_backtest
    from engine.research.executor import Cancelled

    s = s.validate()
    if not universe:
        raise StrategyError("the universe has no symbols")
    cash_d = Decimal(cash)
    if cash_d <= 0:
        raise StrategyError("starting cash must be positive")
    sleeve = (cash_d / len(universe)).quantize(Decimal("0.01"), ROUND_FLOOR)
    rule = s.rule_strategy()
    results = []
    for k, bars in enumerate(universe):
        if cancelled is not None and cancelled():
            raise Cancelled()
        results.append(run_backtest(bars, rule, cash=sleeve))
        if progress is not None:
            progress(k + 1, len(universe))
    times = np.unique(np.concatenate([r.time.astype(np.int64) for r in results]))
    total = np.zeros(times.size)
    for r in results:
        idx = np.searchsorted(r.time.astype(np.int64), times, side="right") - 1
        total += np.where(idx >= 0, r.equity[np.clip(idx, 0, None)], float(sleeve))
    leftover = float(cash_d - sleeve * len(universe))
    total += leftover
    trades = sorted(((r.symbol, t) for r in results for t in r.trades), key=lambda x: (x[1].exit_time, x[0]))
    final = sum((r.final_equity for r in results), Decimal(0)) + (cash_d - sleeve * len(universe))
    pnl = [float(t.pnl) for _s, t in trades]
    wins = [p for p in pnl if p > 0]
    losses = [p for p in pnl if p < 0]
    peak = np.maximum.accumulate(total)
    metrics: dict[str, float | int | None] = {
        "total_return": float(final / cash_d - 1), "max_drawdown": float(np.max(1 - total / peak)) if total.size else 0.0,
        "trades": len(trades), "win_rate": len(wins) / len(pnl) if pnl else None,
        "profit_factor": sum(wins) / -sum(losses) if losses else None, "symbols": len(results),
    }
    rejections: dict[str, int] = {}
    for r in results:
        for why, n in r.rejections.items():
            rejections[why] = rejections.get(why, 0) + n
    card = composite_score(History(times, np.maximum(total, 1e-9), [t.exit_time for _s, t in trades], pnl))
    return UniverseBacktest(tuple(r.symbol for r in results), times, total, trades, results, cash_d, final,
                            metrics, card.as_dict(), rejections)


# ------------------------------------------------------------------ live paper trading
@dataclass(frozen=True, slots=True)
class LiveAction:
    symbol: str
    what: str  # "entry", "exit", "skipped"
    detail: str


class LiveRunner:
    """Runs ``strategy`` in the session's selected paper account (module docstring).

    ``bars_of(symbol)`` gives the symbol's bars up to now (None: none yet). ``step()`` acts at
    most once per symbol and bar: an entry when flat and the entry rule is true on the last
    bar, a flatten when long and the exit rule is true there."""

    def __init__(self, session: Any, strategy: StrategyDef, symbols: Sequence[str],
                 bars_of: Callable[[str], Bars | None]) -> None:
        self.session = session
        self.strategy = strategy.validate()
        self.symbols = tuple(symbols)
        self.bars_of = bars_of
        self._seen: dict[str, int] = {}

    def step(self) -> list[LiveAction]:
        """Evaluate every symbol's last bar once; returns what was done (or why not)."""
        from engine.paper.backtest import _entry_request, _signal
        from engine.paper.orders import Side

        out: list[LiveAction] = []
        rule = self.strategy.rule_strategy()
        for sym in self.symbols:
            bars = self.bars_of(sym)
            if bars is None or len(bars) == 0:
                continue
            last_t = int(bars.time[-1])
            if self._seen.get(sym) == last_t:
                continue
            self._seen[sym] = last_t
            entry = _signal(rule.entry, bars, "entry")
            exit_ = _signal(rule.exit, bars, "exit") if rule.exit is not None else None
            pos = self.session.positions.get(sym)
            qty = pos.qty if pos is not None else 0
            close = Decimal(repr(float(bars.close[-1])))
            if qty == 0 and bool(entry[-1]):
                orders, _f, _p = self.session.snapshot()
                if any(o.symbol == sym and o.side is Side.BUY and o.is_working for o in orders):
                    continue
                q = self._size(close)
                if q <= 0:
                    out.append(LiveAction(sym, "skipped", "the sizing gives no whole share"))
                    continue
                res = self.session.submit(_entry_request(rule, sym, q, close))
                out.append(LiveAction(sym, "entry" if res.ok else "skipped",
                                      f"buy {q}" if res.ok else str(res.error)))
            elif qty > 0 and exit_ is not None and bool(exit_[-1]):
                res = self.session.flatten(sym)
                out.append(LiveAction(sym, "exit" if res.ok else "skipped",
                                      f"sell {qty}" if res.ok else str(res.error)))
        return out

    def _size(self, close: Decimal) -> int:
        s = self.strategy
        if s.sizing_kind == "fixed_qty":
            return int(s.sizing_value)
        summary = self.session.summary
        equity = summary.equity if summary is not None else Decimal(0)
        if s.sizing_kind == "percent_equity":
            return int((equity * Decimal(repr(s.sizing_value)) / 100 / close).to_integral_value(ROUND_FLOOR))
        per_share = close * Decimal(repr(s.risk_stop_pct or 0)) / 100
        risk = equity * Decimal(repr(s.sizing_value)) / 100
        return int((risk / per_share).to_integral_value(ROUND_FLOOR)) if per_share > 0 else 0


def live_results(session: Any) -> dict[str, Any]:
    """The selected paper account's equity curve and closed round trips, to publish as ``live``."""
    from engine.paper.backtest import _trades

    _o, fills, _p = session.snapshot()
    by_symbol: dict[str, list[Any]] = {}
    for f in sorted(fills, key=lambda f: f.time_ms):
        by_symbol.setdefault(f.symbol, []).append(f)
    trades = sorted((t for fs in by_symbol.values() for t in _trades(fs)), key=lambda t: t.exit_time)
    points = [(t // 1000, e) for t, e in session.equity_curve()]
    if len(points) > 1 and points[0][0] >= points[1][0]:
        # the broker dates the starting point at the first fill: keep it as the second before
        points[0] = (points[1][0] - 1, points[0][1])
    return run_payload(points, [(t.exit_time, t.pnl) for t in trades])


def live_account_name(s: StrategyDef) -> str:
    """The paper account a strategy runs live in: ``strategy: NAME`` (at most 64 characters)."""
    return f"strategy: {s.name}"[:64]


class LiveSession:
    """A strategy running live in its own paper account of ``broker`` (created with
    ``cash`` when missing), through a ``PaperSession`` of its own: the orders go through the
    broker's checks and fill from the quotes the app's feed gives the broker.

    ``load_bars()`` (any thread: it only reads bars, from ``load(universe, timeframe)``) and
    ``step(bars)`` (the broker's thread) are one round; ``results()`` is the ``live`` run to
    publish. ``close()`` stops listening (the account and its history stay).

    ``quotes`` is the app's own session: it is asked to watch the universe's symbols (its feed
    then fetches their quotes) and its latest quotes are applied here before each step, so the
    orders are checked against the market as the ticket's are."""

    def __init__(self, broker: Any, bus: Any, strategy: StrategyDef,
                 load: Callable[[str, str], Sequence[Bars]], cash: Decimal | int = 100_000,
                 quotes: Any = None) -> None:
        from engine.paper.session import PaperSession

        self.strategy = strategy.validate()
        self.account = live_account_name(self.strategy)
        if self.account not in broker.accounts():
            broker.create_account(self.account, cash)
        self.session = PaperSession(broker, bus, account=self.account)
        self._load = load
        self.quotes = quotes
        self.runner: LiveRunner | None = None
        self.actions: list[LiveAction] = []

    def load_bars(self) -> dict[str, Bars]:
        universe = self._load(self.strategy.universe or "demo", self.strategy.timeframe)
        return {b.symbol: b for b in universe}

    def step(self, bars: dict[str, Bars]) -> list[LiveAction]:
        if self.quotes is not None:
            self.quotes.watch(self.account, sorted(bars))
            got = [q for q in (self.quotes.quote(sym) for sym in sorted(bars)) if q is not None]
            if got:
                self.session.apply_quotes(got)
        if self.runner is None or set(self.runner.symbols) != set(bars):
            old = self.runner._seen if self.runner is not None else {}
            self.runner = LiveRunner(self.session, self.strategy, sorted(bars), bars.get)
            self.runner._seen.update(old)
        acts = self.runner.step()
        self.actions.extend(acts)
        return acts

    def results(self) -> dict[str, Any]:
        return live_results(self.session)

    def close(self) -> None:
        if self.quotes is not None:
            self.quotes.watch(self.account, [])
        self.session.close()
