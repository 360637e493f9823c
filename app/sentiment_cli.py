"""``stockscanner sentiment (--text TEXT | --csv PATH --column NAME) [--json]``.

Scores text with the finance-aware sentiment of ``engine.sentiment`` (the same call the
news dock uses). With ``--json`` the output is a list, in input order, of
``{"compound": float, "label": "positive" | "neutral" | "negative"}``; without, a table.
A missing column, an unreadable or non-UTF-8 CSV, or a text too long to score is one
sentence on stderr and exit status 1.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

MAX_CSV_BYTES = 200_000_000
_PREVIEW = 72


def configure(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", metavar="TEXT", help="one text to score")
    src.add_argument("--csv", metavar="PATH", help="a CSV file (UTF-8) with a header line")
    parser.add_argument("--column", metavar="NAME", help="the CSV column holding the texts (with --csv)")
    parser.add_argument("--json", action="store_true",
                        help='print a JSON list of {"compound": …, "label": …}, in input order')


class SentimentInputError(ValueError):
    """Input the sentiment verb refuses: one sentence, exit status 1 (``app.cli.main``
    prints a ValueError's message without a traceback)."""


def _fail(sentence: str) -> Exception:
    return SentimentInputError(sentence)


def read_column(path: str, column: str) -> list[str]:
    """The cells of ``column`` in the CSV at ``path``, in file order (an empty cell is "").
    Raises ``SentimentInputError`` (one sentence) when the file cannot be read or has no such column."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if not p.is_file():
            raise _fail(f"{path} is not a file.")
        if size > MAX_CSV_BYTES:
            raise _fail(f"{path} is larger than {MAX_CSV_BYTES // 1_000_000} MB; split it first.")
        raw = p.read_bytes()
    except FileNotFoundError:
        raise _fail(f"{path} does not exist.") from None
    except OSError as exc:
        raise _fail(f"{path} cannot be read ({exc.strerror or type(exc).__name__}).") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(f"{path} is not UTF-8 text (byte {exc.start + 1}); save it as UTF-8 CSV.") from None
    if "\x00" in text:
        raise _fail(f"{path} is not a text CSV file (it contains NUL bytes).")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader, None)
        if not header:
            raise _fail(f"{path} is empty; it needs a header line with the column {column!r}.")
        names = [h.strip() for h in header]
        if column not in names:
            shown = ", ".join(repr(n) for n in names[:10]) + (", …" if len(names) > 10 else "")
            raise _fail(f"{path} has no column {column!r}; its columns are {shown}.")
        i = names.index(column)
        return [row[i] if i < len(row) else "" for row in reader if row]
    except csv.Error as exc:
        raise _fail(f"{path} is not a readable CSV (line {reader.line_num}: {exc}).") from None


def run(args: argparse.Namespace) -> int:
    """Score ``--text`` or a CSV column and print the result; 0 ok, 1 bad input."""
    if args.csv is not None:
        if not args.column:
            raise _fail("--csv needs --column NAME: the column that holds the texts.")
        texts = read_column(args.csv, args.column)
    else:
        if args.column:
            raise _fail("--column goes with --csv, not with --text.")
        texts = [args.text]
    from engine.sentiment import score
    from engine.sentiment.analyzer import MAX_TEXT_CHARS

    for n, t in enumerate(texts, start=1):
        if len(t) > MAX_TEXT_CHARS:
            where = f"row {n} of {args.csv}" if args.csv is not None else "the text"
            raise _fail(f"{where} has {len(t):,} characters; at most {MAX_TEXT_CHARS:,} are scored.")
    results = score(texts) if texts else []
    if args.json:
        print(json.dumps([{"compound": round(r.compound, 4), "label": r.label} for r in results]))
        return 0
    if not results:
        print("no texts to score")
        return 0
    width = len(str(len(results)))
    print(f"{'#':>{width}}  {'compound':>8}  {'label':<8}  text")
    for n, (t, r) in enumerate(zip(texts, results), start=1):
        one = " ".join(t.split())
        preview = one if len(one) <= _PREVIEW else one[: _PREVIEW - 1] + "…"
        print(f"{n:>{width}}  {r.compound:>+8.4f}  {r.label:<8}  {preview}")
    return 0
