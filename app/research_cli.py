"""``stockscanner optimize``: parameter search and walk-forward analysis without the window.

    stockscanner optimize PATH|--universe NAME --entry EXPR --exit EXPR --param fast=5:50:5
        --param slow=20:200:10 [--constraint "fast < slow"] [--objective sharpe]
        [--search grid|random|bayes] [--walk-forward N] [--scheduler tcp://HOST:PORT] --json

PATH is a bar CSV or a folder of them (one symbol per file, the same calendar for a
walk-forward); ``--universe demo`` uses the deterministic demo symbols (labelled demo).
Runs on a local process pool (all cores), or on the Dask cluster at ``--scheduler``.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

SEARCHES = ("grid", "random", "bayes")


def add_optimize(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", help="bar CSV, or a folder of bar CSVs (one symbol each)")
    p.add_argument("--universe", metavar="NAME",
                   help="instead of PATH, one portfolio over: demo | imported | sp500 | nasdaq100 | "
                        "watchlist:NAME (or a watchlist's name) | symbol:TICKER (bars from the local store)")
    p.add_argument("--entry", required=True, metavar="EXPR",
                   help='rule with {parameters}, e.g. "crosses_above(sma(close,{fast}), sma(close,{slow}))"')
    p.add_argument("--exit", required=True, metavar="EXPR", help="exit rule with {parameters}")
    p.add_argument("--param", action="append", default=[], required=True, metavar="NAME=SPEC",
                   help="NAME=START:STOP:STEP (inclusive), NAME=a,b,c or NAME=VALUE; repeat per parameter")
    p.add_argument("--constraint", action="append", default=[], metavar="EXPR", help='e.g. "fast < slow"')
    p.add_argument("--objective", default="sharpe",
                   help="sharpe | sortino | cagr | profit_factor | max_drawdown (minimised) | a formula "
                        "over those, e.g. 'sharpe * (1 - max_drawdown)'")
    p.add_argument("--search", default="grid", choices=SEARCHES)
    p.add_argument("--trials", type=int, default=100, help="points tried by random/bayes (default 100)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--min-trades", type=int, default=30, help="fewer closed trades: ranked last, flagged (30)")
    p.add_argument("--walk-forward", type=int, default=0, metavar="N", help="N walk-forward windows")
    p.add_argument("--anchored", action="store_true", help="anchored in-sample windows (default rolling)")
    p.add_argument("--qty", type=int, default=100, help="shares per trade (default 100)")
    p.add_argument("--cash", type=int, default=100000,
                   help="starting cash per symbol, or of the portfolio with --universe/--portfolio (default 100000)")
    add_portfolio_args(p)
    p.add_argument("--portfolio", action="store_true",
                   help="run PATH's symbols as one portfolio (as --universe does) instead of one by one")
    p.add_argument("--workers", type=int, default=None, help="local processes (default: all cores)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask scheduler")
    p.add_argument("--top", type=int, default=20, help="rows to print (default 20)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")


def add_portfolio_args(p: argparse.ArgumentParser) -> None:
    """The portfolio flags shared by ``optimize`` and ``backtest --universe``."""
    p.add_argument("--max-positions", type=int, default=10, metavar="N",
                   help="portfolio: at most N symbols held at once (default 10)")
    p.add_argument("--sizing", default=None, metavar="SPEC",
                   help="portfolio sizing: equal (equity / N per position, the default) | qty:SHARES | "
                        "dollars:AMOUNT | percent:P (of equity)")
    p.add_argument("--rank", default=None, metavar="EXPR",
                   help="portfolio: when more symbols signal than slots are free, the highest value of this "
                        "formula wins (e.g. 'roc(close, 20)'); default: the universe's order")
    if not any(a.dest == "commission" for a in p._actions):
        p.add_argument("--commission", default="none", metavar="SPEC",
                       help="none | per_share:RATE[:MIN[:MAX_PCT]] | percent:P | flat:AMOUNT (the broker's)")
        p.add_argument("--slippage", default="none", metavar="SPEC", help="none | bps:N | spread[:BPS] | sqrt[:K]")


def portfolio_rules(args: argparse.Namespace, default_qty: int | None = None) -> Any:
    """``PortfolioRules`` from the flags. Raises ``ValueError``."""
    from engine.research.portfolio import PortfolioRules, parse_sizing

    spec = args.sizing or (f"qty:{default_qty}" if default_qty else "equal")
    if args.rank is not None:
        from engine.formula import parse

        parse(args.rank)
    return PortfolioRules(args.max_positions, parse_sizing(spec), args.rank)


def fill_config(args: argparse.Namespace) -> Any:
    from engine.paper.fills import FillConfig, parse_commission, parse_slippage

    return FillConfig(parse_slippage(getattr(args, "slippage", "none") or "none"),
                      parse_commission(getattr(args, "commission", "none") or "none"),
                      getattr(args, "participation", 0.10) or 0.10)


def _fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 1


def load_universe(name: str) -> Any:
    """``LoadedUniverse`` of ``--universe NAME`` (the demo one without opening the store)."""
    from engine.research.service import ResearchService

    if name.strip().lower() == "demo":
        return ResearchService(None).load_universe("demo")  # type: ignore[arg-type]
    from engine.store.db import open_database

    return ResearchService(open_database()).load_universe(name)


def _load(args: argparse.Namespace) -> list[Any]:
    from engine.scanner.headless import read_bars

    if args.universe:
        if args.path:
            raise ValueError("give PATH or --universe, not both")
        u = load_universe(args.universe)
        if u.missing:
            print(f"note: {len(u.missing)} symbols of {u.name} have no stored bars and are left out "
                  f"({', '.join(u.missing[:10])}{' …' if len(u.missing) > 10 else ''})", file=sys.stderr)
        return list(u.bars)
    if not args.path:
        raise ValueError("give a bar CSV (or a folder of them) or --universe NAME")
    path = Path(args.path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
        if not files:
            raise ValueError(f"{path} holds no .csv files")
        return [read_bars(f) for f in files]
    return [read_bars(path)]


def _num(x: object) -> object:
    return None if isinstance(x, float) and not math.isfinite(x) else x


def cmd_optimize(args: argparse.Namespace) -> int:
    from engine.formula import FormulaError
    from engine.research.executor import Cancelled, DaskExecutor, ProcessExecutor
    from engine.research.params import ParamError
    from engine.research.search import Study, search
    from engine.research.portfolio import sizing_text
    from engine.research.walkforward import walk_forward
    from engine.scanner.headless import formula_error_text
    from engine.store.db import StoreError

    try:
        as_portfolio = bool(args.universe) or args.portfolio
        rules = portfolio_rules(args) if as_portfolio else None
        study = Study.from_text(args.entry, args.exit, args.param, args.constraint, qty=args.qty, cash=args.cash,
                                config=fill_config(args), portfolio=rules)
        data = _load(args)
        if args.walk_forward < 0:
            raise ValueError("--walk-forward must be 0 (none) or a number of windows")
    except FormulaError as exc:
        return _fail(formula_error_text(exc, exc.text or ""))
    except (ParamError, ValueError, OSError, StoreError) as exc:
        return _fail(str(exc))
    try:
        ex: Any = DaskExecutor(args.scheduler) if args.scheduler else ProcessExecutor(args.workers)
    except ValueError as exc:
        return _fail(str(exc))
    try:
        common = dict(objective=args.objective, method=args.search, trials=args.trials, seed=args.seed,
                      min_trades=args.min_trades, executor=ex)
        if args.walk_forward:
            wf = walk_forward(data, study, args.walk_forward, anchored=args.anchored, **common)  # type: ignore[arg-type]
            res = wf.full
        else:
            wf = None
            res = search(data, study, **common)  # type: ignore[arg-type]
    except FormulaError as exc:
        return _fail(formula_error_text(exc, exc.text or ""))
    except (ParamError, ValueError) as exc:
        return _fail(str(exc))
    except (Cancelled, KeyboardInterrupt):
        return _fail("cancelled")
    finally:
        ex.close()
    out: dict[str, Any] = {
        "symbols": [b.symbol for b in data], "demo": any(b.is_demo for b in data),
        "objective": res.objective, "search": res.search, "min_trades": res.min_trades,
        "evaluated": len(res.rows), "grid_size": res.grid_size,
        "portfolio": None if rules is None else {
            "universe": args.universe or args.path, "max_positions": rules.max_positions,
            "sizing": sizing_text(rules.sizing), "rank": rules.rank, "cash": args.cash},
        "results": [{"rank": r.rank, "params": r.params, "objective": r.objective, "flagged": r.flagged,
                     "metrics": {k: _num(v) for k, v in r.metrics.items()}} for r in res.rows],
    }
    if wf is not None:
        out["walk_forward"] = {
            "windows": [{"is": [_iso(data, w.window.is_start), _iso(data, w.window.is_end - 1)],
                         "oos": [_iso(data, w.window.oos_start), _iso(data, w.window.oos_end - 1)],
                         "params": w.params, "is_objective": w.is_objective, "oos_objective": w.oos_objective,
                         "oos_metrics": w.oos_metrics} for w in wf.windows],
            "oos_metrics": wf.oos_metrics, "degradation": wf.degradation, "stability": wf.stability,
            "deflated_sharpe": None if wf.deflated is None else {
                "dsr": wf.deflated.dsr, "sharpe_per_bar": wf.deflated.sharpe, "benchmark_per_bar": wf.deflated.benchmark,
                "trials": wf.deflated.n_trials, "observations": wf.deflated.n_obs},
            "pbo": None if wf.pbo is None else {"pbo": wf.pbo.pbo, "splits": wf.pbo.n_splits, "blocks": wf.pbo.n_blocks},
            "verdict": wf.verdict(), "notes": wf.notes,
        }
    if args.json:
        print(json.dumps(out, default=str, allow_nan=False))
        return 0
    names = study.space.names
    print(f"{len(res.rows)} points, objective {res.objective}, {res.search} search"
          + (" (demo data)" if out["demo"] else ""))
    for r in res.rows[: max(0, args.top)]:
        ps = " ".join(f"{k}={r.params[k]}" for k in names)
        obj = "n/a" if r.objective is None else f"{r.objective:.3f}"
        flag = f"  (< {res.min_trades} trades)" if r.flagged else ""
        print(f"{r.rank:4d}. {ps}  {res.objective} {obj}  trades {int(r.metrics['trades'] or 0)}{flag}")
    if wf is not None:
        m = wf.oos_metrics
        print(f"walk-forward: {len(wf.windows)} windows, OOS total return {m['total_return']:.2%}, "
              f"OOS Sharpe {m['sharpe'] if m['sharpe'] is not None else float('nan'):.2f}")
        print(wf.verdict())
    return 0


def _iso(data: list[Any], i: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(int(data[0].time[i]), dt.UTC).date().isoformat()


def cmd_backtest_universe(args: argparse.Namespace) -> int:
    """``stockscanner backtest --universe NAME``: one portfolio over the universe through the paper engine."""
    from engine.formula import FormulaError
    from engine.paper.backtest import rule_formula
    from engine.research.portfolio import run_portfolio
    from engine.scanner.headless import formula_error_text
    from engine.store.db import StoreError

    try:
        if args.path:
            raise ValueError("give PATH or --universe, not both")
        for what, text in (("entry", args.entry), ("exit", args.exit)):
            try:
                rule_formula(text, what)
            except FormulaError as exc:
                raise ValueError(f"--{what}: {formula_error_text(exc, text)}") from None
        rules = portfolio_rules(args, default_qty=args.qty)
        config = fill_config(args)
        u = load_universe(args.universe)
        res = run_portfolio(u.bars, args.entry, args.exit, rules, cash=args.cash, config=config)
    except FormulaError as exc:
        return _fail(formula_error_text(exc, exc.text or ""))
    except (ValueError, OSError, StoreError, ArithmeticError) as exc:
        return _fail(str(exc))
    out = {"universe": u.name, "demo": u.demo, "missing": list(u.missing), **res.to_dict()}
    if args.json:
        print(json.dumps(out, default=str, allow_nan=False))
        return 0
    m = out["metrics"]
    print(f"{u.name}{' (demo data)' if u.demo else ''}: {len(u.bars)} symbols, at most {rules.max_positions} "
          f"held, sizing {out['sizing']}")
    sharpe = m["sharpe"] if m["sharpe"] is not None else float("nan")
    print(f"{len(res.trades)} trades, final equity {out['final_equity']:,.2f}, total return {m['total_return']:.2%}, "
          f"max drawdown {m['max_drawdown']:.2%}, Sharpe {sharpe:.2f}; "
          f"{res.skipped} entry signals found no free slot, {len(res.rejected)} orders rejected")
    for r in sorted(res.per_symbol, key=lambda r: -r.pnl)[:20]:
        wr = "n/a" if r.win_rate is None else f"{r.win_rate:.0%}"
        print(f"  {r.symbol:8s} trades {r.trades:4d}  P&L {float(r.pnl):12,.2f}  win {wr:>4s}  skipped {r.skipped}")
    return 0
