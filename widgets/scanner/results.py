"""The scanner's results: the rows of a ``ScanResult`` in the app's one table model.

Fixed columns (Symbol, Trend with a sparkline, Last, Chg %, Volume, New — hidden until
chosen), then the scan's formula columns. Rows new since the previous run are tinted and
their symbol bold; sorting is on the raw numbers (the Trend column on the sparkline's change).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtGui import QColor, QFont

from engine import formatting as fmt
from engine.scanner import ScanRow
from widgets import style
from widgets.sparkline import SPARKLINE_ROLE
from widgets.table import Column, TableModel

NEW_TINT = QColor(63, 166, 106, 70)  # translucent green: readable on dark and light bases


def _trend(r: ScanRow) -> float:
    s = r.sparkline
    return (s[-1] / s[0] - 1.0) if len(s) >= 2 and s[0] else 0.0


def _change_color(r: ScanRow) -> QColor | None:
    if r.change_pct != r.change_pct:
        return None
    return QColor(style.CHART.up if r.change_pct >= 0 else style.CHART.down)


class ScanResultModel(TableModel):
    """The rows of a ``ScanResult``: ``FIXED`` columns, then the scan's formula columns."""

    FIXED = ("Symbol", "Trend", "Last", "Chg %", "Volume", "New")
    TREND = 1

    def __init__(self) -> None:
        self.new: set[str] = set()
        self.formula_columns: tuple[str, ...] = ()
        super().__init__(self._columns(()), key=lambda r: r.symbol, row_background=self._background,
                         row_font=self._font, row_tip=self._tip)

    def _columns(self, formulas: Sequence[str]) -> list[Column]:
        cols = [
            Column("Symbol", lambda r: r.symbol, key="symbol", hideable=False),
            Column("Trend", lambda r: None, key="trend", fmt=lambda _v: "", sort=_trend, export=False,
                   roles={SPARKLINE_ROLE: lambda r: r.sparkline}),
            Column("Last", lambda r: r.close, True, key="close", fmt=fmt.price),
            Column("Chg %", lambda r: r.change_pct, True, key="change_pct", fmt=fmt.percent, color=_change_color),
            Column("Volume", lambda r: r.volume, True, key="volume", fmt=fmt.volume),
            Column("New", lambda r: r.symbol in self.new, key="new", fmt=lambda v: "new" if v else "",
                   hidden=True, tip=lambda r: "new since the previous run" if r.symbol in self.new else None),
        ]
        for i, f in enumerate(formulas):
            cols.append(Column(f, lambda r, i=i: r.values[i], True, key=f, fmt=fmt.number))
        return cols

    def set_result(self, rows: Iterable[ScanRow], columns: Sequence[str], new: Iterable[str] = ()) -> None:
        """Show ``rows`` with the formula ``columns``; ``new`` symbols are highlighted."""
        self.new = set(new)
        if tuple(columns) != self.formula_columns:
            self.formula_columns = tuple(columns)
            self.set_columns(self._columns(self.formula_columns))
        self.set_rows(rows)

    def _background(self, r: ScanRow) -> QColor | None:
        return NEW_TINT if r.symbol in self.new else None

    def _font(self, r: ScanRow, col: Column) -> QFont | None:
        if col.id == "symbol" and r.symbol in self.new:
            f = QFont()
            f.setBold(True)
            return f
        return None

    def _tip(self, r: ScanRow) -> str | None:
        parts = (["new since the previous run"] if r.symbol in self.new else []) + (["demo data"] if r.is_demo else [])
        return " · ".join(parts) or None

    def symbol(self, row: int) -> str:
        return str(self.rows[row].symbol)

    def data_row(self, row: int) -> Any:
        return self.rows[row]
