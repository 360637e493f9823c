"""The chain table: calls | strike | puts for one expiry, a ``QAbstractTableModel`` over the
chain's numpy columns (cells are formatted when Qt asks for them, so a refresh costs one
pivot of the arrays, not one string per cell), ITM shading, flagged quotes greyed with the
reason in the tooltip, and the underlying price drawn as a line between the strikes (``ChainTableView``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPaintEvent, QPainter, QPen
from PySide6.QtWidgets import QTableView

from engine.options.chain import Flag, OptionChain

Index = QModelIndex | QPersistentModelIndex

#: (column key, header, format) of one side; Greeks are chosen by the user
BASE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("bid", "Bid", ".2f"), ("ask", "Ask", ".2f"), ("last", "Last", ".2f"),
    ("volume", "Vol", ",d"), ("open_interest", "OI", ",d"), ("iv", "IV %", "pct"),
)
GREEK_FIELDS: dict[str, tuple[str, str]] = {
    "delta": ("Δ", ".3f"), "gamma": ("Γ", ".4f"), "vega": ("Vega", ".3f"),
    "theta": ("Θ/day", ".3f"), "rho": ("ρ", ".3f"),
}
DEFAULT_GREEKS = ("delta", "theta")
ITM_CALL = QColor(38, 166, 154, 55)
ITM_PUT = QColor(239, 83, 80, 50)
SPOT_LINE = QColor("#f5c542")
FLAGGED = QColor("#7d828c")


_R = Qt.ItemDataRole
_ROLES = frozenset({_R.DisplayRole, _R.TextAlignmentRole, _R.FontRole, _R.BackgroundRole, _R.ForegroundRole,
                    _R.ToolTipRole})
_BOLD = QFont()
_BOLD.setBold(True)
_ITM_CALL, _ITM_PUT, _FLAGGED = QBrush(ITM_CALL), QBrush(ITM_PUT), QBrush(FLAGGED)


def flag_text(bits: int) -> str:
    """"crossed, no bid" -- what is wrong with a quote, for the tooltip."""
    names = {Flag.CROSSED: "crossed (bid > ask)", Flag.ZERO_BID: "no bid", Flag.ZERO_ASK: "no ask",
             Flag.NO_IV: "no implied vol", Flag.MISSING: "missing bid/ask"}
    return ", ".join(text for f, text in names.items() if bits & int(f))


class ChainTableModel(QAbstractTableModel):
    """Rows = distinct strikes of one expiry; columns = call fields (mirrored) | strike | put fields."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.greeks: tuple[str, ...] = DEFAULT_GREEKS
        self.spot = math.nan
        self.strikes: list[float] = []
        self.spot_row = -1  # the first row whose strike is >= spot (the line is drawn above it)
        self._side_cols: list[tuple[str, str, str]] = []
        self._cols: dict[bool, dict[str, list[Any]]] = {True: {}, False: {}}
        self._flags: dict[bool, list[int]] = {True: [], False: []}
        self._present: dict[bool, list[bool]] = {True: [], False: []}
        self._fields()

    # ------------------------------------------------------------------ data
    def _fields(self) -> None:
        self._side_cols = list(BASE_FIELDS) + [(g, *GREEK_FIELDS[g]) for g in self.greeks]

    def set_greeks(self, greeks: tuple[str, ...]) -> None:
        self.beginResetModel()
        self.greeks = tuple(g for g in GREEK_FIELDS if g in greeks)
        self._fields()
        self.endResetModel()

    def set_chain(self, part: OptionChain | None) -> None:
        """Show one expiry's rows (``chain.select(expiry=...)``); None clears."""
        self.beginResetModel()
        if part is None or len(part) == 0:
            self.strikes, self.spot, self.spot_row = [], math.nan, -1
            self._cols = {True: {}, False: {}}
            self._flags = {True: [], False: []}
            self._present = {True: [], False: []}
        else:
            ks = np.unique(part.strike)
            self.strikes = ks.tolist()
            self.spot = float(part.spot)
            self.spot_row = int(np.searchsorted(ks, self.spot, side="left"))
            for is_call in (True, False):
                sel = part.is_call == is_call
                row = np.searchsorted(ks, part.strike[sel])
                present = np.zeros(ks.size, dtype=bool)
                present[row] = True
                cols: dict[str, list[Any]] = {}
                for key, _h, _f in list(BASE_FIELDS) + [(g, "", "") for g in GREEK_FIELDS]:
                    src = getattr(part, key)[sel]
                    full = np.zeros(ks.size, dtype=src.dtype) if src.dtype.kind in "iu" else np.full(ks.size, np.nan)
                    full[row] = src
                    cols[key] = full.tolist()
                flags = np.zeros(ks.size, dtype=np.int64)
                flags[row] = part.flags[sel]
                self._cols[is_call] = cols
                self._flags[is_call] = flags.tolist()
                self._present[is_call] = present.tolist()
        self.endResetModel()

    # ------------------------------------------------------------------ layout
    @property
    def strike_column(self) -> int:
        return len(self._side_cols)

    def column_of(self, is_call: bool, key: str) -> int:
        """The column of ``key`` on the call or put side."""
        i = [c[0] for c in self._side_cols].index(key)
        return self.strike_column - 1 - i if is_call else self.strike_column + 1 + i

    def _where(self, column: int) -> tuple[bool | None, tuple[str, str, str] | None]:
        n = len(self._side_cols)
        if column == n:
            return None, None
        if column < n:
            return True, self._side_cols[n - 1 - column]
        return False, self._side_cols[column - n - 1]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.strikes)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else 2 * len(self._side_cols) + 1

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt override
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        side, spec = self._where(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return "Strike" if spec is None else spec[1]
        if role == Qt.ItemDataRole.ToolTipRole:
            if spec is None:
                return "strike; the yellow line is the underlying price"
            unit = {"vega": " per vol point", "theta": " per calendar day", "rho": " per rate point",
                    "iv": " (American, from the mid)"}.get(spec[0], "")
            return f"{'call' if side else 'put'} {spec[1]}{unit}"
        return None

    def is_itm(self, row: int, is_call: bool) -> bool:
        k = self.strikes[row]
        return k < self.spot if is_call else k > self.spot

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or not index.isValid():
            return None
        r, c = index.row(), index.column()
        side, spec = self._where(c)
        if role == Qt.ItemDataRole.DisplayRole:
            if spec is None:
                return f"{self.strikes[r]:g}"
            if not self._present[side][r]:
                return ""
            v = self._cols[side][spec[0]][r]
            if spec[2] == ",d":
                return f"{v:,d}" if v else "0"
            if not math.isfinite(v):
                return "–"
            return f"{v * 100:.1f}" if spec[2] == "pct" else f"{v:{spec[2]}}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter if spec is None else Qt.AlignmentFlag.AlignRight
                       | Qt.AlignmentFlag.AlignVCenter)
        if side is None:
            return _BOLD if role == Qt.ItemDataRole.FontRole else None
        if role == Qt.ItemDataRole.BackgroundRole:
            if self.is_itm(r, side):
                return _ITM_CALL if side else _ITM_PUT
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            return _FLAGGED if self._flags[side][r] else None
        if role == Qt.ItemDataRole.ToolTipRole:
            bits = self._flags[side][r]
            return f"{'call' if side else 'put'} {self.strikes[r]:g}: " + (flag_text(bits) if bits else "quote ok")
        return None


class ChainTableView(QTableView):
    """The chain's view: draws the underlying price as a line above the first strike at or
    above it (once per paint, not per cell: a Python delegate per cell costs ~10 ms)."""

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        model = self.model()
        if not isinstance(model, ChainTableModel) or not 0 <= model.spot_row <= model.rowCount():
            return
        if model.spot_row < model.rowCount():
            y = self.rowViewportPosition(model.spot_row)
        else:
            last = model.rowCount() - 1
            y = self.rowViewportPosition(last) + self.rowHeight(last)
        if y < 0:
            return
        painter = QPainter(self.viewport())
        painter.setPen(QPen(SPOT_LINE, 2))
        painter.drawLine(0, y, self.viewport().width(), y)
        painter.end()
