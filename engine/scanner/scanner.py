"""``Scanner.run``: load a universe's bars, evaluate a filter on all of them in one
vectorised pass, and report matching symbols with their columns, a sparkline and the
difference from the previous run of the same scan.

The scanner takes a *bar source* — any ``(symbol, timeframe) -> Bars`` callable — so it
runs on ``DataService.get_bars`` in the app and on plain dictionaries in tests. Loading is
incremental and rate-limited by the data layer, not here.
"""
from __future__ import annotations

import csv
import datetime as _dt
import math
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.bars import Bars
from engine.formatting import plain
from engine.formula import Evaluator, Panel, parse_many
from engine.progress import Progress
from engine.scanner.filters import ScanDefinition
from engine.scanner.store import ScanStore
from engine.scanner.universe import Universe

BarSource = Callable[[str, str], Bars]
RefreshMany = Callable[[Sequence[str], str], Iterator[Progress]]
SPARKLINE_BARS = 60


@dataclass(frozen=True, slots=True)
class ScanRow:
    """One matching symbol. ``values`` follow ``ScanResult.columns`` (NaN = no value;
    true/false columns as 1.0/0.0); ``sparkline`` holds the last closes, oldest first."""

    symbol: str
    close: float
    change_pct: float  # last close vs the previous close, percent
    volume: float
    last_time: int  # epoch seconds of the symbol's last bar
    values: tuple[float, ...]
    sparkline: tuple[float, ...]
    is_demo: bool = False


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What a scan found. ``new``/``dropped`` compare with the previous run of the same scan
    on the same universe (empty when there was none: ``previous_run`` is then None)."""

    name: str
    formula: str
    universe: str
    ran_at: _dt.datetime
    columns: tuple[str, ...]
    rows: tuple[ScanRow, ...]
    new: tuple[str, ...]
    dropped: tuple[str, ...]
    scanned: int
    errors: tuple[tuple[str, str], ...] = ()  # (symbol, why its bars could not be loaded)
    previous_run: str | None = None
    skipped: tuple[str, ...] = field(default=())  # loaded but without bars

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(r.symbol for r in self.rows)

    def to_dicts(self) -> list[dict[str, Any]]:
        """Rows as plain dicts (``symbol, close, change_pct, volume, <column>…, new``); NaN → None."""
        new = set(self.new)
        out = []
        for r in self.rows:
            d: dict[str, Any] = {"symbol": r.symbol, "close": _num(r.close), "change_pct": _num(r.change_pct),
                                 "volume": _num(r.volume)}
            for c, v in zip(self.columns, r.values):
                d[c] = _num(v)
            d["new"] = r.symbol in new
            out.append(d)
        return out

    def to_csv(self, path: str | Path) -> Path:
        """Write the rows as CSV (header ``symbol,close,change_pct,volume,<columns…>,new``;
        NaN as an empty field; numbers in full precision without exponent or separators,
        ``engine.formatting.plain``). Returns the path; raises ``OSError`` if it cannot be written."""
        path = Path(path)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["symbol", "close", "change_pct", "volume", *self.columns, "new"])
            for d in self.to_dicts():
                w.writerow([plain(v) for v in d.values()])
        return path


def _num(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


class Scanner:
    """Runs scan definitions over universes.

    ``bars``: ``(symbol, timeframe) -> Bars`` (raise to report a symbol as failed).
    ``refresh``: optional ``(symbols, timeframe) -> Iterator[Progress]`` run first when a scan
    asks to refresh (``DataService.refresh_many``). ``store``: where runs are recorded for
    the new/dropped diff (None: no history). ``custom``: the custom indicators as a mapping,
    or a callable returning one (``FormulaService.custom_map``) read at each run.
    """

    def __init__(self, bars: BarSource, *, refresh: RefreshMany | None = None, store: ScanStore | None = None,
                 custom: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None) -> None:
        self.bars = bars
        self.refresh = refresh
        self.store = store
        self._custom = custom

    @classmethod
    def from_service(cls, data_service: Any, store: ScanStore | None = None, formulas: Any = None) -> Scanner:
        """A scanner over ``engine.data.service.DataService`` (and a ``FormulaService``)."""
        return cls(
            lambda s, tf: data_service.get_bars(s, timeframe=tf),
            refresh=lambda syms, tf: data_service.refresh_many(syms, tf),
            store=store,
            custom=formulas.custom_map if formulas is not None else None,
        )

    def custom(self) -> dict[str, str]:
        c = self._custom
        if c is None:
            return {}
        return dict(c() if callable(c) else c)

    def run(self, definition: ScanDefinition, universe: Universe, *, refresh: bool = False,
            columns: Sequence[str] | None = None, now: _dt.datetime | None = None,
            sparkline: int = SPARKLINE_BARS, record: bool = True) -> Generator[Progress, None, ScanResult]:
        """Scan ``universe`` for ``definition`` (a generator: yields ``Progress``, returns ``ScanResult``).

        ``columns`` overrides the definition's expression columns. The filter is evaluated on
        the last bar of each symbol. Closing the generator cancels (nothing is recorded).
        Raises ``FormulaError`` (before loading anything) for a bad filter or column.
        """
        cols = tuple(definition.columns if columns is None else columns)
        text = definition.formula_text
        custom = self.custom()
        definition.compile(custom)  # boolean check with a clear message
        formulas = parse_many([text, *cols], custom)
        filt, col_fs = formulas[0], formulas[1:]
        symbols = list(universe.symbols)
        total = len(symbols)
        tf = definition.timeframe
        if refresh and self.refresh is not None and symbols:
            yield Progress(0, total, f"Refreshing {total} symbols…")
            yield from self.refresh(symbols, tf)
        loaded: list[Bars] = []
        errors: list[tuple[str, str]] = []
        skipped: list[str] = []
        for i, sym in enumerate(symbols):
            yield Progress(i, total, f"Loading {sym}")
            try:
                b = self.bars(sym, tf)
            except Exception as exc:  # noqa: BLE001 - one bad symbol must not stop the scan; reported
                errors.append((sym, str(exc) or type(exc).__name__))
                continue
            if len(b) == 0:
                skipped.append(sym)
                continue
            loaded.append(b)
        yield Progress(total, total, f"Evaluating {text}")
        need = max(int(definition.lookback), filt.lookback + 2, *(f.lookback + 2 for f in col_fs), sparkline, 2)
        panel = Panel.from_bars(loaded, length=need, align="right")
        rows: list[ScanRow] = []
        if len(panel):
            ev = Evaluator(panel)
            hits = filt.evaluate_last(panel, evaluator=ev)[:, 0]
            idx = np.flatnonzero(hits)
            values = [f.evaluate_last(panel, evaluator=ev)[:, 0] for f in col_fs]
            close = panel.close
            prev = close[:, -2] if close.shape[1] >= 2 else np.full(len(panel), np.nan)
            with np.errstate(all="ignore"):
                chg = (close[:, -1] / prev - 1.0) * 100.0
            for i in (int(j) for j in idx):
                spark = close[i, -sparkline:]
                spark = spark[~np.isnan(spark)]
                rows.append(ScanRow(
                    panel.symbols[i], float(close[i, -1]), float(chg[i]), float(panel.volume[i, -1]),
                    int(panel.last_time[i]), tuple(float(v[i]) for v in values),
                    tuple(float(v) for v in spark), loaded[i].is_demo,
                ))
        rows.sort(key=lambda r: r.symbol)
        ran_at = now or _dt.datetime.now(_dt.timezone.utc)
        matched = [r.symbol for r in rows]
        new: tuple[str, ...] = ()
        dropped: tuple[str, ...] = ()
        previous = None
        if self.store is not None:
            last = self.store.last_run(definition.key(), universe.name, text)  # same universe and filter
            if last is not None:
                previous = last.ran_at
                before = set(last.symbols)
                new = tuple(s for s in matched if s not in before)
                dropped = tuple(sorted(before - set(matched)))
            if record:
                self.store.save_run(definition.key(), universe.name, text, matched, ran_at)
        return ScanResult(definition.name, text, universe.name, ran_at, cols, tuple(rows), new, dropped,
                          len(loaded), tuple(errors), previous, tuple(skipped))
