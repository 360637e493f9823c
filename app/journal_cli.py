"""The journal's CLI verbs: ``analyze``, ``journal export|import`` and ``review``.

* ``stockscanner analyze PATH [--column NAME] [--kind prices|returns|equity] [--json]`` —
  the return metrics of one CSV column as daily data (252 days a year, risk-free 0,
  drawdown a negative fraction; empyrical's definitions). A bar CSV works as it is: its
  ``Close`` is used. Without ``--column``: ``Close`` when the file has one, else its only
  numeric column.
* ``stockscanner journal export --format csv|json|xlsx --out PATH`` (the store of
  ``--data-dir``); ``stockscanner journal import PATH [--mapping NAME] [--account NAME]``
  re-imports an export, or a broker CSV through a column mapping ("IBKR Flex", "Generic" or
  one saved in the journal).
* ``stockscanner review --period week|month|quarter|year [--date D] --out report.pdf|.html``.

Exit status 0 ok, 1 bad input or a store problem (one sentence), 2 usage.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any


class JournalCliError(ValueError):
    """Bad input for a journal verb: one sentence, exit status 1."""


# --------------------------------------------------------------------------- analyze


def configure_analyze(p: argparse.ArgumentParser) -> None:
    p.description = ("Return metrics of one series in a CSV, as daily data: sharpe, sortino, calmar, cagr, "
                     "volatility, max_drawdown (a negative fraction), … annualised with 252 days, risk-free 0 "
                     "(empyrical's definitions). A bar CSV works as it is: its Close is used.")
    p.add_argument("path", help="a CSV file (a bar CSV, or any CSV with a numeric column)")
    p.add_argument("--column", metavar="NAME", help="the column to read (default: Close, or the only numeric one)")
    p.add_argument("--kind", choices=("prices", "returns", "equity"), default="prices",
                   help="what the column holds: prices (default) or equity (returns are computed from "
                        "them) or returns (simple, per day)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")


def _series(path: str, column: str | None) -> tuple[str, Any]:
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise JournalCliError(f"{path} is not a file")
    if column is None:
        try:  # a bar CSV, including the layouts the importer knows (quirky headers too)
            from engine.data.csv_import import read_bars_csv

            bars = read_bars_csv(p).bars
            return "Close", bars.close
        except Exception:  # noqa: BLE001 - not a bar file: look for a numeric column below
            pass
    try:
        df = pd.read_csv(p)
    except Exception as exc:  # noqa: BLE001 - pandas' parser errors have many types
        raise JournalCliError(f"{p.name} cannot be read as CSV ({str(exc).splitlines()[0]})") from None
    cols = {str(c).strip().lower(): c for c in df.columns}
    if column is not None:
        key = cols.get(column.strip().lower())
        if key is None:
            raise JournalCliError(f"{p.name} has no column {column!r}; its columns are "
                                  + ", ".join(map(str, df.columns)))
    elif "close" in cols:
        key = cols["close"]
    else:
        numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
        if len(numeric) != 1:
            raise JournalCliError(f"{p.name} has {len(numeric)} numeric columns; choose one with --column "
                                  f"({', '.join(map(str, df.columns))})")
        key = numeric[0]
    values = pd.to_numeric(df[key], errors="coerce")
    bad = values.isna() & df[key].notna()
    if bad.any():
        line = int(bad.to_numpy().nonzero()[0][0]) + 2
        raise JournalCliError(f"{p.name} line {line}: {df[key][bad].iloc[0]!r} in column {key!r} is not a number")
    return str(key), values.to_numpy(dtype=float)


def run_analyze(args: argparse.Namespace) -> int:
    from engine.performance import analyze_returns, json_safe, to_returns

    name, values = _series(args.path, args.column)
    try:
        r = to_returns(values, args.kind)
        m = analyze_returns(r)
    except ValueError as exc:
        raise JournalCliError(f"column {name!r}: {exc}") from None
    out = json_safe(m.to_dict())
    out = {"column": name, "kind": args.kind, **out}
    if args.json:
        print(json.dumps(out, default=str))
        return 0
    for k in ("n", "total_return", "cagr", "volatility", "sharpe", "sortino", "calmar", "max_drawdown"):
        v = out[k]
        print(f"{k:<14} {'n/a' if v is None else (f'{v:.6f}' if isinstance(v, float) else v)}")
    return 0


# --------------------------------------------------------------------------- journal


def configure_journal(p: argparse.ArgumentParser) -> None:
    p.description = "The trading journal of the local store (--data-dir)."
    sub = p.add_subparsers(dest="journal_cmd", metavar="COMMAND", required=True)
    e = sub.add_parser("export", help="write every journal entry to a CSV, JSON or Excel file",
                       description="One row per entry: the round trip's figures, your fields and its legs, "
                                   "so the file re-imports to the same entries.")
    e.add_argument("--format", required=True, choices=("csv", "json", "xlsx"))
    e.add_argument("--out", required=True, metavar="PATH")
    e.add_argument("--json", action="store_true", help="print {\"rows\", \"out\"} as JSON")
    i = sub.add_parser("import", help="import a journal export, or a broker CSV through a column mapping")
    i.add_argument("path", metavar="PATH")
    i.add_argument("--mapping", metavar="NAME",
                   help="a broker CSV's column mapping: 'IBKR Flex', 'Generic' or one saved in the journal "
                        "(without it PATH is a journal export)")
    i.add_argument("--account", default="", metavar="NAME", help="the broker account the trades belong to")
    i.add_argument("--json", action="store_true")


def _store() -> Any:
    from engine.journal.store import JournalStore

    return JournalStore.open()


def run_journal(args: argparse.Namespace) -> int:
    from engine.journal.exports import ImportProblem, export_entries, import_file

    store = _store()
    try:
        if args.journal_cmd == "export":
            n = export_entries(store.entries(), args.out, args.format)
            if args.json:
                print(json.dumps({"rows": n, "out": str(args.out)}))
            else:
                print(f"{n} entries written to {args.out}")
            return 0
        try:
            if args.mapping:
                from engine.journal.imports import BUILTIN_MAPPINGS, ColumnMapping, import_broker_csv

                saved = store.mappings()
                if args.mapping in saved:
                    mapping = ColumnMapping.from_dict(saved[args.mapping])
                elif args.mapping in BUILTIN_MAPPINGS:
                    mapping = BUILTIN_MAPPINGS[args.mapping]
                else:
                    raise JournalCliError(f"no column mapping {args.mapping!r}; there are "
                                          + ", ".join([*BUILTIN_MAPPINGS, *saved]))
                res = import_broker_csv(store, args.path, mapping, args.account)
                added, existing, still_open = res.added, res.existing, list(res.open_positions)
            else:
                added, existing = import_file(store, args.path)
                still_open = []
        except ImportProblem as exc:
            lines = "\n".join(f"  line {line}: {msg}" for line, msg in exc.problems[:50])
            if args.json:
                print(json.dumps({"error": exc.summary, "problems": [{"line": a, "message": b}
                                                                      for a, b in exc.problems], "notes": []}))
            print(f"error: {exc.summary}\n{lines}", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps({"added": added, "existing": existing, "open_positions": still_open}))
        else:
            print(f"{added} entries added, {existing} already in the journal"
                  + (f"; still open, not journalled: {', '.join(still_open)}" if still_open else ""))
        return 0
    finally:
        store.close()


# --------------------------------------------------------------------------- review


def configure_review(p: argparse.ArgumentParser) -> None:
    p.description = ("The review of one period of the journal (the trips that closed in it): the numbers, "
                     "equity, drawdown, calendar, P&L by weekday, hour and emotion, R histogram, plan "
                     "adherence, mistakes, setups and recommendations, as a PDF or a self-contained HTML file.")
    p.add_argument("--period", required=True, choices=("week", "month", "quarter", "year"))
    p.add_argument("--date", metavar="D", help="a day inside the period, YYYY-MM-DD (default: today)")
    p.add_argument("--out", required=True, metavar="report.pdf|report.html")
    p.add_argument("--tz", default=None, metavar="ZONE", help="time zone for days and hours (default UTC)")
    p.add_argument("--equity", type=float, default=None, metavar="AMOUNT",
                   help="starting equity: adds Sharpe, Sortino, CAGR… of the daily returns")
    p.add_argument("--min-trades", type=int, default=None, metavar="N",
                   help="the fewest trades a recommendation may rest on, for every rule (default: the "
                        "journal/review_min_trades setting; 0 = each rule's own minimum)")


def _review_rules(min_trades: int | None) -> Any:
    """The rules for ``--min-trades`` or, without it, the ``journal/review_min_trades`` setting."""
    from engine.journal.review import rules_with_min_trades

    if min_trades is None:
        from app.features.journal import review_rules
        from app.settings import AppSettings

        return review_rules(AppSettings())
    try:
        return rules_with_min_trades(min_trades)
    except ValueError as exc:
        raise JournalCliError(f"--min-trades: {exc}") from None


def run_review(args: argparse.Namespace) -> int:
    from engine.journal.report import review_html
    from engine.journal.review import Period, review

    out = Path(args.out)
    kind = out.suffix.lower()
    if kind not in (".pdf", ".html", ".htm"):
        raise JournalCliError(f"--out must end in .pdf or .html, not {out.name!r}")
    try:
        day = date.fromisoformat(args.date.strip()) if args.date else date.today()
    except ValueError:
        raise JournalCliError(f"--date must be a day like 2024-03-15, not {args.date!r}") from None
    rules = _review_rules(args.min_trades)
    store = _store()
    try:
        frame = store.frame()
    finally:
        store.close()
    try:
        rv = review(frame, Period.of(args.period, day), tz=args.tz, starting_equity=args.equity, rules=rules)
    except ValueError as exc:
        raise JournalCliError(str(exc)) from None
    if kind == ".pdf":
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtGui import QGuiApplication

        app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
        from widgets.journal.pdf import write_review_pdf

        write_review_pdf(rv, out)
        del app
    else:
        tmp = out.with_name(out.name + ".part")
        tmp.write_text(review_html(rv), encoding="utf-8")
        tmp.replace(out)
    print(f"{rv.period.kind} {rv.period.label}: {rv.stats.n} trades, {len(rv.recommendations)} recommendations "
          f"-> {out}")
    return 0


def wrap(fn: Any) -> Any:
    """Turn ``JournalCliError`` into the one-sentence exit 1 (the shell's ``CliError`` form)."""

    def run(args: argparse.Namespace) -> int:
        from app.cli import CliError

        try:
            return int(fn(args))
        except JournalCliError as exc:
            raise CliError(str(exc)) from None

    return run
