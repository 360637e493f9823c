"""What the ``compute`` and ``scan`` CLI verbs do, as plain functions (no printing).

* ``compute_table(path, exprs)`` – evaluate formulas over a bar CSV, one column each.
* ``write_compute_csv(...)`` – that table as CSV: ``date`` then one column per formula,
  headed by the formula text; true/false as ``1``/``0``; NaN (warm-up) as an empty field;
  numbers in Python's shortest round-trip form. Dates are ``YYYY-MM-DD`` for daily and
  slower bars, ``YYYY-MM-DD HH:MM:SS`` (UTC) for intraday bars.
* ``scan_directory(folder, where)`` – every ``SYMBOL.csv`` in a folder, scanned on its last
  bar with the same ``Scanner`` the app uses.
"""
from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.bars import Bars
from engine.formula import FormulaError, parse_many
from engine.progress import run_to_end
from engine.scanner.filters import ScanDefinition
from engine.scanner.scanner import Scanner
from engine.scanner.universe import symbols_universe


def read_bars(path: str | Path, symbol: str | None = None) -> Bars:
    """Bars of a CSV in any layout the importer reads (``engine.data.csv_import``).

    Raises ``engine.data.errors.DataError`` (a ``ValueError``) for a missing or bad file.
    """
    from engine.data.csv_import import read_bars_csv

    return read_bars_csv(path, symbol=symbol).bars


def formula_error_text(exc: FormulaError, text: str) -> str:
    """``exc`` with the formula and a caret under the column (for terminals)."""
    return f"{exc}\n  {text}\n  {' ' * max(exc.column - 1, 0)}^"


def compute_table(bars: Bars, exprs: Sequence[str]) -> list[np.ndarray]:
    """Each formula evaluated on ``bars`` (bool or float64 arrays). Raises ``FormulaError``."""
    formulas = parse_many(list(exprs))
    from engine.formula import Evaluator, Panel

    ev = Evaluator(Panel.from_single(bars))
    return [f.evaluate_panel(ev.panel, evaluator=ev)[0] for f in formulas]


def _cell(v: object) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    f = float(v)  # type: ignore[arg-type]
    if np.isnan(f):
        return ""
    return repr(f) if not f.is_integer() or abs(f) >= 1e16 else str(int(f))


def write_compute_csv(bars: Bars, exprs: Sequence[str], out: str | Path) -> int:
    """Write the ``compute`` table (see module docstring); returns the number of rows.

    Raises ``FormulaError`` before writing anything, ``OSError`` if ``out`` cannot be written.
    """
    cols = compute_table(bars, exprs)
    if bars.is_intraday:
        dates = np.datetime_as_string(bars.time.astype("datetime64[s]"), unit="s")
        dates = np.char.replace(dates.astype(str), "T", " ")
    else:
        dates = np.datetime_as_string(bars.time.astype("datetime64[s]").astype("datetime64[D]"), unit="D")
    with open(out, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["date", *exprs])
        for i in range(len(bars)):
            w.writerow([str(dates[i]), *(_cell(c[i]) for c in cols)])
    return len(bars)


@dataclass(frozen=True, slots=True)
class DirectoryScan:
    """Matches (sorted by symbol, with their last close) and the files that could not be read."""

    matches: tuple[tuple[str, float], ...]
    failed: tuple[tuple[str, str], ...]
    scanned: int


def scan_directory(folder: str | Path, where: str) -> DirectoryScan:
    """Scan every ``*.csv`` in ``folder`` (symbol = file name stem) for ``where`` on the last bar.

    Indicators see each file's whole history. Raises ``FormulaError`` for a bad formula
    (before reading any file) and ``NotADirectoryError`` if ``folder`` is not a folder;
    unreadable files are reported in ``failed`` and skipped.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder of SYMBOL.csv files")
    probe = ScanDefinition("", where)
    probe.compile()
    loaded: dict[str, Bars] = {}
    failed: list[tuple[str, str]] = []
    for p in sorted(folder.glob("*.csv")):
        sym = p.stem.upper()
        try:
            loaded[sym] = read_bars(p, symbol=sym)
        except (ValueError, OSError) as exc:
            failed.append((p.name, str(exc)))
    by_tf: dict[str, list[str]] = {}
    for s, b in loaded.items():
        by_tf.setdefault(b.timeframe, []).append(s)
    matches: list[tuple[str, float]] = []
    for tf, syms in by_tf.items():
        longest = max(len(loaded[s]) for s in syms)
        definition = ScanDefinition("", where, timeframe=tf, lookback=longest)
        scanner = Scanner(lambda s, _tf: loaded[s])
        result = run_to_end(scanner.run(definition, symbols_universe(syms), record=False, sparkline=1))
        matches.extend((r.symbol, r.close) for r in result.rows)
    matches.sort()
    return DirectoryScan(tuple(matches), tuple(failed), len(loaded))
