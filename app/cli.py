"""The ``stockscanner`` command: no verb opens the workstation, a verb runs headless.

One function per verb (``cmd_<verb>``), its arguments added by ``_add_<verb>``; the feature
modules (``app/features``) declare which verbs exist, and the parser is built from them.
Verbs call the same engine functions as the widgets. Imports are lazy so that
``stockscanner --version`` and the window start fast.
Exit codes:

* 0 – done;
* 1 – bad input (a file, a formula, a value the engine refuses) or a store or disk problem
  (locked, full, read-only, newer or damaged database, unwritable data folder): one
  sentence ``error: ...`` on stderr, never a traceback (that goes to the log file), and
  nothing is changed;
* 2 – usage error, from argparse: an unknown verb or option, or an option value that is
  wrong on its face without reading anything (``--qty abc``, ``--size 0x0``,
  ``--data-dir ''``).
"""
from __future__ import annotations

import argparse
import errno
import json
import logging
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from engine import __version__

log = logging.getLogger(__name__)

#: ``screenshot --size`` bounds: a small laptop window up to 8K (40000x40000 took 67 s).
MIN_SIZE = (320, 240)
MAX_SIZE = (7680, 4320)
_SIZE_RE = re.compile(r"\s*(\d{1,6})\s*[x×]\s*(\d{1,6})\s*", re.IGNORECASE)


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 1."""


def screen_size(text: str) -> tuple[int, int]:
    """``"1600x1000"`` as (1600, 1000); argparse type of ``screenshot --size``.

    Raises ``argparse.ArgumentTypeError`` (exit 2) for malformed text or a size outside
    ``MIN_SIZE`` … ``MAX_SIZE``.
    """
    m = _SIZE_RE.fullmatch(text)
    if not m:
        raise argparse.ArgumentTypeError(f"must look like 1600x1000 (WIDTHxHEIGHT in pixels), not '{text}'")
    w, h = int(m.group(1)), int(m.group(2))
    (w0, h0), (w1, h1) = MIN_SIZE, MAX_SIZE
    if not (w0 <= w <= w1 and h0 <= h <= h1):
        raise argparse.ArgumentTypeError(
            f"{w}x{h} is outside the sizes a window can have here ({w0}x{h0} to {w1}x{h1})")
    return w, h


def data_dir_arg(text: str) -> str:
    """argparse type of ``--data-dir``: refuses an empty or blank path (exit 2), which
    would otherwise silently mean the default folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "is empty (or only spaces); give a folder, or leave --data-dir out to use the default one")
    return text


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what it wraps (SQLAlchemy's ``orig``, ``__cause__``, ``__context__``)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        orig = getattr(e, "orig", None)
        context = None if e.__suppress_context__ else e.__context__
        todo += [orig if isinstance(orig, BaseException) else None, e.__cause__, context]


def summarise(text: str, max_lines: int = 3, max_chars: int = 400) -> str:
    """A long message (an integrity check's list of problems) shortened to its first
    ``max_lines`` lines, each at most ``max_chars`` characters, and a count of the rest."""
    lines = [ln.rstrip() for ln in str(text).strip().splitlines() if ln.strip()] or [""]
    shown = [ln if len(ln) <= max_chars else ln[:max_chars].rstrip() + " …" for ln in lines[:max_lines]]
    if len(lines) > max_lines:
        shown.append(f"… ({len(lines) - max_lines} more lines)")
    return "\n".join(shown)


def store_error_sentence(exc: BaseException) -> str | None:
    """One sentence for a store or disk failure anywhere in ``exc``'s chain, else None.

    Our own ``StoreError`` (locked, damaged, newer, foreign, read-only, disk full) is shown
    as it is (summarised); raw ``sqlite3`` / SQLAlchemy / Alembic errors and ``OSError``
    with ENOSPC, EROFS or EACCES are translated.
    """
    from engine import paths
    from engine.store.db import StoreError

    db = paths.database_path()
    for e in _causes(exc):
        if isinstance(e, (StoreError, paths.DataDirError)):
            return summarise(str(e))
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            where = e.filename or db.parent
            return f"There is no space left on the disk for {where}, so nothing was saved; free some space and try again."
        if isinstance(e, OSError) and e.errno == errno.EROFS:
            where = e.filename or db.parent
            return f"{where} is on a read-only disk, so nothing was saved; choose another place to write to."
        if isinstance(e, OSError) and e.errno in (errno.EACCES, errno.EPERM):
            where = e.filename or db.parent
            return f"Permission denied for {where}, so nothing was done; check its permissions or choose another place."
        if type(e).__name__ == "CommandError" and type(e).__module__.startswith("alembic"):
            m = re.search(r"Can't locate revision identified by '([^']*)'", str(e))
            if m:
                return (f"The database {db} was written by a newer version of Stock Scanner (schema "
                        f"{m.group(1)}); this version leaves it unchanged: use the newer version, or choose "
                        "another folder with --data-dir.")
            return f"The database {db} cannot be upgraded ({summarise(str(e), 1, 200)}); it was left unchanged."
        if isinstance(e, sqlite3.Error):
            msg = str(e)
            low = msg.lower()
            if "locked" in low or "busy" in low:
                return (f"The database {db} is locked by another process (another Stock Scanner or import); "
                        "nothing was changed: try again when it has finished.")
            if "disk is full" in low or "disk full" in low:
                return (f"The disk holding the database {db} is full, so nothing was saved; "
                        "free some space and try again.")
            if "readonly" in low or "read-only" in low:
                return (f"The database {db} is read-only, so nothing was saved; make it writable or choose "
                        "another folder with --data-dir.")
            if "no such table" in low or "no such column" in low:
                return (f"The database {db} is not a complete Stock Scanner store ({msg}); nothing was changed: "
                        f"restore a backup from {db.parent / 'backups'} or choose another folder with --data-dir.")
            if "malformed" in low or "not a database" in low or "corrupt" in low:
                return (f"The database {db} is damaged ({summarise(msg, 1, 200)}); nothing was changed: "
                        f"restore a backup from {db.parent / 'backups'}.")
            if "unable to open" in low:
                return (f"The database {db} cannot be opened ({msg}); check that its folder exists and "
                        "can be written.")
            return f"The database {db} cannot be used ({summarise(msg, 1, 200)})."
    return None


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
        _print_json({**result.to_dict(), "notes": list(result.notes), "skipped": result.skipped})
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
    p.add_argument("--size", default=(1600, 1000), type=screen_size, metavar="WxH",
                   help=f"window size in pixels, {MIN_SIZE[0]}x{MIN_SIZE[1]} to {MAX_SIZE[0]}x{MAX_SIZE[1]} "
                        "(default 1600x1000)")
    p.set_defaults(func=cmd_screenshot)


def cmd_screenshot(args: argparse.Namespace) -> int:
    from app.main import screenshot

    w, h = args.size
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
    p.add_argument("path", nargs="?", help="bar CSV (Yahoo, Stooq or generic OHLCV)")
    p.add_argument("--universe", metavar="NAME",
                   help="instead of PATH: one portfolio over demo | imported | sp500 | nasdaq100 | "
                        "watchlist:NAME | symbol:TICKER (see --max-positions, --sizing, --rank)")
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
    from app.research_cli import add_portfolio_args

    add_portfolio_args(p)
    p.set_defaults(func=cmd_backtest)


def cmd_backtest(args: argparse.Namespace) -> int:
    from engine.data.csv_import import read_bars_csv
    from engine.formula import FormulaError
    from engine.paper.backtest import FixedQty, RuleStrategy, rule_formula, run_backtest
    from engine.paper.fills import FillConfig, parse_commission, parse_slippage
    from engine.paper.money import to_money, to_qty
    from engine.scanner.headless import formula_error_text

    if getattr(args, "universe", None):
        from app.research_cli import cmd_backtest_universe

        return cmd_backtest_universe(args)
    if not args.path:
        raise CliError("give a bar CSV, or --universe NAME")
    try:
        qty = to_qty(args.qty, "--qty")
        cash = to_money(args.cash, "--cash")
        if cash <= 0:
            raise ValueError(f"--cash must be a positive amount, not {args.cash}")
        config = FillConfig(parse_slippage(args.slippage), parse_commission(args.commission),
                            args.participation)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    for what, text in (("entry", args.entry), ("exit", args.exit)):
        try:
            rule_formula(text, what)
        except FormulaError as exc:
            raise CliError(f"--{what}: {formula_error_text(exc, text)}") from exc
    bars = read_bars_csv(args.path, symbol=args.symbol).bars
    try:
        result = run_backtest(bars, RuleStrategy(args.entry, args.exit, FixedQty(qty)), cash=cash, config=config)
    except ArithmeticError as exc:  # a value out of Decimal's range that slipped past the checks
        raise CliError(f"the backtest cannot be computed exactly with these values ({type(exc).__name__})") from exc
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
    if result.rejections:
        n = sum(result.rejections.values())
        why = "; ".join(f"{reason} ({count}×)" for reason, count in result.rejections.items())
        print(f"{n} order{'s were' if n != 1 else ' was'} rejected: {why}")
        print(f"  first: {result.rejected[0]}")
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
    from engine.formula import FormulaError, parse
    from engine.scanner.headless import formula_error_text, scan_directory

    try:
        if not parse(args.where).is_boolean:
            shown = args.where.strip() if len(args.where.strip()) <= 60 else args.where.strip()[:60] + "…"
            raise CliError(f"--where must be a condition that is true or false, such as 'rsi(close) < 30' "
                           f"or 'close > sma(close, 50)'; '{shown}' gives numbers")
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
    p.add_argument("--data-dir", metavar="DIR", type=data_dir_arg,
                   help="keep every file in DIR (also: STOCKSCANNER_HOME)")
    p.add_argument("--verbose", "-v", action="store_true", help="log debug messages to stderr")
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    from app.features import cli_verbs  # each feature module declares its verbs

    for verb in cli_verbs():
        vp = sub.add_parser(verb.name, help=verb.help, description=verb.description)
        verb.configure(vp)
        vp.set_defaults(func=verb.run)
    p.set_defaults(func=cmd_gui)
    return p


def error_payload(sentence: str, exc: BaseException | None = None) -> dict[str, Any]:
    """The ``--json`` form of a failure: ``{"error": SENTENCE, "problems": [{"line": N,
    "message": TEXT}, …], "notes": […]}``; ``problems`` and ``notes`` come from a
    ``CsvFormatError`` (line 0 = the whole file), else they are empty."""
    problems = [{"line": int(line), "message": str(msg)} for line, msg in getattr(exc, "problems", ())]
    return {"error": sentence, "problems": problems, "notes": [str(n) for n in getattr(exc, "notes", ())]}


def _report_error(args: argparse.Namespace, sentence: str, exc: BaseException | None = None) -> None:
    """Print a failure: ``error: SENTENCE`` on stderr, then every problem of a bad file on
    its own line; with ``--json`` also the JSON form (``error_payload``) on stdout."""
    from engine.data.errors import CsvFormatError

    if isinstance(exc, CsvFormatError):
        sentence = exc.summary
        unit = exc.unit
        lines = [f"  {unit} {line}: {msg}" if line > 0 else f"  {msg}" for line, msg in exc.problems]
        lines += [f"note: {n}" for n in exc.notes]
    else:
        lines = []
    if getattr(args, "json", False):
        _print_json(error_payload(sentence, exc))
    print("\n".join([f"error: {sentence}", *lines]), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from engine import paths

    if args.data_dir is not None:
        paths.set_data_dir(args.data_dir)
    from app.logging_setup import setup_logging

    setup_logging(verbose=args.verbose, console=args.verb is not None)
    if args.verb is not None:
        # A log file on a full or read-only disk must not add "--- Logging error ---"
        # tracebacks to the one-sentence error below.
        logging.raiseExceptions = False
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        _report_error(args, str(exc))
        return 1
    except Exception as exc:
        if args.verb is None:  # the window reports its own start-up errors
            raise
        sentence = store_error_sentence(exc)
        if sentence is None:
            if not isinstance(exc, (ValueError, OSError, RuntimeError)):
                raise  # a bug: keep the traceback
            # Engine errors carry user-facing messages (bad CSV, unwritable folder, ...).
            sentence = str(exc)
        log.info("%s failed: %s", args.verb, sentence, exc_info=exc)  # the details, for the log file
        _report_error(args, sentence, exc)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
