"""``stockscanner chart-transform``: a bar CSV as Renko bricks, Kagi lines, Point & Figure
columns, Line Break lines, range bars or Heikin-Ashi candles (``engine.charts``), headless.

Output: one element per line (``TIME OPEN HIGH LOW CLOSE``; P&F ``TIME X|O LOW HIGH``), or
with ``--json`` a list of ``{"time","open","high","low","close"}`` (P&F:
``{"time","kind":"X"|"O","low","high"}``). Times as ``stockscanner import`` prints them.
"""
from __future__ import annotations

import argparse
import json
from typing import Any

TYPES = ("renko", "kagi", "pnf", "linebreak", "range", "heikin-ashi")
#: which of the optional parameters each type takes
_TAKES = {"renko": {"box", "atr"}, "pnf": {"box", "atr", "reversal"}, "range": {"box", "atr"},
          "kagi": {"reversal"}, "linebreak": {"lines"}, "heikin-ashi": set()}
KAGI_DEFAULT_REVERSAL = "4%"


def add_chart_transform(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``chart-transform``."""
    parser.description = (
        "Turn a bar CSV into a chart type. renko: --box B (price units) or --atr N (the last "
        "ATR(N) as a fixed box); pnf: --box B or --atr N, --reversal R boxes (default 3), "
        "high/low method; range: --box B (the range of every bar) or --atr N; kagi: --reversal "
        "R as a price amount or a percentage such as 4%% (default 4%%); linebreak: --lines N "
        "(default 3). The rules of each type are in the README.")
    parser.add_argument("path", help="bar CSV (Yahoo, Stooq or generic OHLCV)")
    parser.add_argument("--type", required=True, choices=TYPES, help="chart type")
    parser.add_argument("--box", type=float, metavar="B", help="box size / range in price units")
    parser.add_argument("--atr", type=int, metavar="N", help="box = ATR(N) at the last bar")
    parser.add_argument("--reversal", metavar="R", help="kagi: amount or P%%; pnf: boxes (default 3)")
    parser.add_argument("--lines", type=int, metavar="N", help="linebreak: lines to break (default 3)")
    parser.add_argument("--symbol", help="symbol (default: from the file name)")
    parser.add_argument("--json", action="store_true", help="print the elements as a JSON list")


def run_chart_transform(args: argparse.Namespace) -> int:
    """Run ``chart-transform``; a bad value raises ``CliError`` (exit 1, one sentence)."""
    from app.cli import CliError
    from engine.data.csv_import import read_bars_csv

    kind = args.type
    given = {k for k in ("box", "atr", "reversal", "lines") if getattr(args, k) is not None}
    extra = sorted(given - _TAKES[kind])
    if extra:
        raise CliError(f"--{extra[0]} does not apply to {kind} charts")
    if "box" in _TAKES[kind] and given >= {"box", "atr"}:
        raise CliError("give --box or --atr, not both")
    if kind in ("renko", "pnf", "range") and not given & {"box", "atr"}:
        raise CliError(f"{kind} charts need --box B or --atr N")
    bars = read_bars_csv(args.path, symbol=args.symbol).bars
    try:
        out = _transform(kind, bars, args)
    except (ValueError, TypeError) as exc:
        raise CliError(str(exc)) from exc
    records = out.records(bars.is_intraday)
    if args.json:
        print(json.dumps(records))
        return 0
    for r in records:
        if kind == "pnf":
            print(f"{r['time']}  {r['kind']}  {r['low']:g}  {r['high']:g}")
        else:
            print("  ".join([r["time"], *(_fmt(r[k]) for k in ("open", "high", "low", "close"))]))
    return 0


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:g}"


def _box(bars: Any, args: argparse.Namespace) -> float:
    from engine.charts import atr_box

    if args.box is not None:
        return float(args.box)
    return atr_box(bars, args.atr)


def _transform(kind: str, bars: Any, args: argparse.Namespace) -> Any:
    from engine import charts

    if kind == "heikin-ashi":
        return charts.heikin_ashi(bars)
    if kind == "linebreak":
        return charts.line_break(bars, 3 if args.lines is None else args.lines)
    if kind == "renko":
        return charts.renko(bars, args.box) if args.box is not None else charts.renko(bars, atr=args.atr)
    if kind == "range":
        return charts.range_bars(bars, _box(bars, args))
    if kind == "pnf":
        text = "3" if args.reversal is None else args.reversal.strip()
        if not text.isdigit():
            raise ValueError(f"--reversal for pnf is a whole number of boxes, not {args.reversal!r}")
        return charts.point_and_figure(bars, _box(bars, args), int(text))
    text = (KAGI_DEFAULT_REVERSAL if args.reversal is None else args.reversal).strip()
    percent = text.endswith("%")
    try:
        amount = float(text[:-1] if percent else text)
    except ValueError:
        raise ValueError(f"--reversal must be a price amount or a percentage such as 4%, not {text!r}") from None
    return charts.kagi(bars, amount, percent=percent)
