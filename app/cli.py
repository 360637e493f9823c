"""The ``stockscanner`` command: no verb opens the workstation, a verb runs headless.

One function per verb (``cmd_<verb>``), its arguments added by ``_add_<verb>``; the feature
modules (``app/features``) declare which verbs exist, and the parser is built from them.
Verbs call the same engine functions as the widgets. Imports are lazy so that
``stockscanner --version`` and the window start fast.
Exit codes: 0 ok, 1 user error (bad input, clear message on stderr), 2 usage error.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from engine import __version__


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 1."""


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=None, default=str))


# --------------------------------------------------------------------------- verbs

def cmd_gui(args: argparse.Namespace) -> int:
    from app.main import run_gui

    return run_gui(args)


def _add_import(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import a bar CSV (Yahoo, Stooq or generic OHLCV) into the local store")
    p.add_argument("path")
    p.add_argument("--symbol", help="symbol (default: from the file name)")
    p.add_argument("--timeframe", default=None, help="1d, 1m, 5m, ... (default: detected)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    from engine.data.service import DataService

    svc = DataService.open_default()
    result = svc.import_csv(args.path, symbol=args.symbol, timeframe=args.timeframe)
    if args.json:
        _print_json(result.to_dict())
    else:
        print(
            f"Imported {result.rows} bars of {result.symbol} ({result.timeframe}) "
            f"from {result.first} to {result.last}."
        )
        for note in getattr(result, "notes", ()):
            print(f"note: {note}")
    return 0


def _add_screenshot(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("screenshot", help="render the main window offscreen to a PNG")
    p.add_argument("out")
    p.add_argument("--size", default="1600x1000", help="WIDTHxHEIGHT (default 1600x1000)")
    p.set_defaults(func=cmd_screenshot)


def cmd_screenshot(args: argparse.Namespace) -> int:
    from app.main import screenshot

    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError as exc:
        raise CliError(f"--size must look like 1600x1000, not {args.size!r}") from exc
    screenshot(args.out, w, h)
    print(args.out)
    return 0


def _add_backtest(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backtest",
        help="backtest entry/exit formulas on a bar CSV (long only, market orders at the next open)",
        description=(
            "Backtest a long-only rule strategy through the paper broker engine: when flat and "
            "ENTRY is true at a bar's close, buy QTY at market; when long and EXIT is true, sell "
            "the position at market. Orders fill by the paper fill rules (next bar's open, at most "
            "--participation of a bar's volume). final_equity = cash + open position at the last close."
        ),
    )
    p.add_argument("path", help="bar CSV (Yahoo, Stooq or generic OHLCV)")
    p.add_argument("--entry", required=True, metavar="EXPR",
                   help='formula, e.g. "crosses_above(sma(close,10), sma(close,30))"')
    p.add_argument("--exit", required=True, metavar="EXPR",
                   help='formula, e.g. "crosses_below(sma(close,10), sma(close,30))"')
    p.add_argument("--qty", required=True, type=int, metavar="N", help="shares per trade")
    p.add_argument("--cash", default="100000", metavar="C", help="starting cash (default 100000)")
    p.add_argument("--commission", default="none", metavar="SPEC",
                   help="none | per_share:RATE[:MIN[:MAX_PCT]] (e.g. per_share:0.005:1.0) | "
                        "percent:P (P%% of value) | flat:AMOUNT (per fill); fees round up to the cent")
    p.add_argument("--slippage", default="none", metavar="SPEC",
                   help="none | bps:N (N basis points against you) | spread[:BPS] (half an assumed "
                        "spread, default 10 bps) | sqrt[:K] (square-root impact, K=0.1)")
    p.add_argument("--participation", type=float, default=0.10, metavar="F",
                   help="largest fraction of a bar's volume one order may take (default 0.10)")
    p.add_argument("--symbol", help="symbol (default: from the file name)")
    p.add_argument("--json", action="store_true", help="print trades, final_equity and metrics as JSON")
    p.set_defaults(func=cmd_backtest)


def cmd_backtest(args: argparse.Namespace) -> int:
    from engine.data.csv_import import read_bars_csv
    from engine.paper.backtest import FixedQty, RuleStrategy, run_backtest
    from engine.paper.fills import FillConfig, parse_commission, parse_slippage

    if args.qty <= 0:
        raise CliError(f"--qty must be a positive number of shares, not {args.qty}")
    try:
        config = FillConfig(parse_slippage(args.slippage), parse_commission(args.commission),
                            args.participation)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    bars = read_bars_csv(args.path, symbol=args.symbol).bars
    result = run_backtest(
        bars, RuleStrategy(args.entry, args.exit, FixedQty(args.qty)), cash=args.cash, config=config
    )
    out = result.to_dict()
    if args.json:
        _print_json(out)
        return 0
    m = out["metrics"]
    for t in out["trades"]:
        print(f"{t['entry_time']} buy {t['qty']} @ {t['entry_price']:.4f}  "
              f"{t['exit_time']} sell @ {t['exit_price']:.4f}  P&L {t['pnl']:,.2f}")
    print(f"{len(out['trades'])} trades, final equity {out['final_equity']:,.2f}, "
          f"total return {m['total_return']:.2%}, max drawdown {m['max_drawdown']:.2%}")
    return 0


def _add_compute(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compute", help="evaluate formulas over a bar CSV and write them as CSV columns")
    p.add_argument("path", help="bar CSV (Yahoo, Stooq or generic OHLCV)")
    p.add_argument("--expr", action="append", required=True, metavar="EXPR",
                   help="formula, e.g. 'rsi(close,14)' (repeatable; one output column each)")
    p.add_argument("--out", required=True, metavar="OUT.csv",
                   help="output: date, then one column per --expr (true/false as 1/0, NaN empty)")
    p.set_defaults(func=cmd_compute)


def cmd_compute(args: argparse.Namespace) -> int:
    from engine.formula import FormulaError, parse
    from engine.scanner.headless import formula_error_text, read_bars, write_compute_csv

    for text in args.expr:
        try:
            parse(text)
        except FormulaError as exc:
            raise CliError(formula_error_text(exc, text)) from exc
    rows = write_compute_csv(read_bars(args.path), args.expr, args.out)
    print(f"Wrote {rows} rows × {len(args.expr)} formulas to {args.out}")
    return 0


def _add_scan(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scan", help="scan a folder of SYMBOL.csv files for a formula on the last bar")
    p.add_argument("--data", required=True, metavar="DIR", help="folder with one SYMBOL.csv per symbol")
    p.add_argument("--where", required=True, metavar="EXPR", help="condition, e.g. 'rsi(close) < 30'")
    p.add_argument("--json", action="store_true", help='print [{"symbol": ..., "close": ...}, ...]')
    p.set_defaults(func=cmd_scan)


def cmd_scan(args: argparse.Namespace) -> int:
    from engine.formula import FormulaError
    from engine.scanner.headless import formula_error_text, scan_directory

    try:
        found = scan_directory(args.data, args.where)
    except FormulaError as exc:
        raise CliError(formula_error_text(exc, args.where)) from exc
    for name, why in found.failed:
        print(f"warning: skipped {name}: {why}", file=sys.stderr)
    if args.json:
        _print_json([{"symbol": s, "close": c} for s, c in found.matches])
    else:
        for s, c in found.matches:
            print(f"{s}\t{c:g}")
        print(f"{len(found.matches)} of {found.scanned} symbols match", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- parser

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stockscanner", description="Stock Scanner trading workstation")
    p.add_argument("--version", action="version", version=f"stockscanner {__version__}")
    p.add_argument("--data-dir", metavar="DIR", help="keep every file in DIR (also: STOCKSCANNER_HOME)")
    p.add_argument("--verbose", "-v", action="store_true", help="log debug messages to stderr")
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    from app.features import cli_verbs  # each feature module declares its verbs

    for verb in cli_verbs():
        vp = sub.add_parser(verb.name, help=verb.help, description=verb.description)
        verb.configure(vp)
        vp.set_defaults(func=verb.run)
    p.set_defaults(func=cmd_gui)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from engine import paths

    if args.data_dir:
        paths.set_data_dir(args.data_dir)
    from app.logging_setup import setup_logging

    setup_logging(verbose=args.verbose, console=args.verb is not None)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ValueError, OSError, RuntimeError) as exc:
        # Engine errors carry user-facing messages (bad CSV, unwritable folder, ...).
        if args.verb is None:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
