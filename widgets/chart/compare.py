"""Compare: other symbols on the price pane, on a % axis from the first visible bar.

**Compare…** on the chart's toolbar adds symbols (comma separated). The price pane switches
to the percent scale (the scale it had comes back when the last compared symbol is removed):
the chart's own bars and every compared symbol are rebased to 0 % at the first visible bar,
and rebased again whenever a pan or zoom changes that bar. Each compared symbol is one
coloured line with a legend entry (click it to change its colour or remove it).

Bars come from the chart's data service (``get_bars(symbol, timeframe)``) in the worker, and
are aligned by timestamp to the chart's bars: a bar of the chart with no bar of the same time
in the compared series is a gap in its line. Saved with the chart's state.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QInputDialog, QMessageBox, QToolButton

from engine.data.bars import Bars
from widgets.chart.items import LineItem

#: colours of the compared symbols, in the order they are added (TradingView's compare palette)
COLORS = ("#ff9800", "#e91e63", "#00bcd4", "#9c27b0", "#8bc34a", "#795548", "#607d8b", "#ffeb3b")
MAX_SYMBOLS = 8


def align_closes(main_time: np.ndarray, other: Bars) -> np.ndarray:
    """``other``'s closes at ``main_time`` (seconds), NaN where it has no bar of that time."""
    t = np.asarray(other.time, dtype=np.int64)
    mt = np.asarray(main_time, dtype=np.int64)
    out = np.full(len(mt), np.nan)
    if not len(t) or not len(mt):
        return out
    order = np.argsort(t, kind="stable")
    ts, cs = t[order], np.asarray(other.close, dtype=float)[order]
    idx = np.searchsorted(ts, mt)
    ok = idx < len(ts)
    ok[ok] = ts[idx[ok]] == mt[ok]
    out[ok] = cs[idx[ok]]
    return out


def rebased(values: np.ndarray, first: int) -> np.ndarray:
    """``values`` as % change from the first finite value at or after bar ``first`` (all NaN
    when there is none)."""
    y = np.asarray(values, dtype=float)
    seg = np.nonzero(np.isfinite(y[max(0, first):]) & (y[max(0, first):] != 0))[0]
    if not seg.size:
        return np.full(len(y), np.nan)
    base = y[max(0, first) + int(seg[0])]
    return (y / base - 1.0) * 100.0


class CompareLayer:
    """The chart's compared symbols (module docstring)."""

    def __init__(self, chart: Any) -> None:
        self.chart = chart
        self.symbols: list[str] = []
        self.colors: dict[str, str] = {}
        self.bars: dict[str, Bars] = {}  # loaded for the chart's current timeframe
        self.aligned: dict[str, np.ndarray] = {}
        self.errors: dict[str, str] = {}
        self.items: dict[str, LineItem] = {}
        self.scale_before = "linear"
        self._seq: dict[str, int] = {}
        self.button = QToolButton(text="Compare…")
        self.button.setObjectName("chartCompare")
        self.button.setToolTip("Compare other symbols on a % scale from the first visible bar")
        self.button.clicked.connect(self._on_button)

    # ------------------------------------------------------------------ symbols
    def add(self, symbol: str, color: str | None = None) -> str:
        """Compare ``symbol`` (loaded in the worker); raises ``ValueError`` for an empty name,
        the chart's own symbol, one already compared or more than ``MAX_SYMBOLS``."""
        sym = symbol.strip().upper()
        if not sym or not all(ch.isalnum() or ch in ".-^=_" for ch in sym):
            raise ValueError(f"{symbol!r} is not a symbol")
        if sym == (self.chart.symbol or ""):
            raise ValueError(f"{sym} is the chart's own symbol")
        if sym in self.symbols:
            raise ValueError(f"{sym} is already compared")
        if len(self.symbols) >= MAX_SYMBOLS:
            raise ValueError(f"at most {MAX_SYMBOLS} symbols can be compared")
        if not self.symbols and self.chart.scale != "percent":
            self.scale_before = self.chart.scale
        self.symbols.append(sym)
        used = set(self.colors.values())
        self.colors[sym] = color or next((c for c in COLORS if c not in used), COLORS[len(self.symbols) % len(COLORS)])
        if self.chart.scale != "percent":
            self.chart.set_scale("percent")
        self._load(sym)
        return sym

    def remove(self, symbol: str) -> None:
        if symbol not in self.symbols:
            return
        self.symbols.remove(symbol)
        self.colors.pop(symbol, None)
        self.bars.pop(symbol, None)
        self.aligned.pop(symbol, None)
        self.errors.pop(symbol, None)
        item = self.items.pop(symbol, None)
        if item is not None:
            self.chart.price_pane.remove_fit_item(item)
        if not self.symbols and self.chart.scale == "percent":
            self.chart.set_scale(self.scale_before)
        self.chart._update_legends()
        self.chart.fit_panes()

    def set_color(self, symbol: str, color: str) -> None:
        if symbol in self.symbols:
            self.colors[symbol] = color
            self.draw()

    def _on_button(self) -> None:
        text, ok = QInputDialog.getText(self.chart, "Compare", "Symbols to compare (e.g. ORCL, SPY):")
        if not ok:
            return
        problems = []
        for part in text.replace(";", ",").split(","):
            if part.strip():
                try:
                    self.add(part)
                except ValueError as exc:
                    problems.append(str(exc))
        if problems:
            QMessageBox.warning(self.chart, "Compare", "\n".join(problems))

    # ------------------------------------------------------------------ data
    def _load(self, sym: str) -> None:
        c = self.chart
        self._seq[sym] = self._seq.get(sym, 0) + 1
        seq = self._seq[sym]
        tf = c.timeframe
        c.tasks.submit(c.data.get_bars, sym, tf, label=f"Loading {sym} {tf} to compare",
                       on_result=lambda b, s=sym, q=seq: self._on_bars(s, q, b),
                       on_error=lambda exc, s=sym, q=seq: self._on_error(s, q, exc))

    def _on_bars(self, sym: str, seq: int, bars: Bars) -> None:
        if sym not in self.symbols or seq != self._seq.get(sym):
            return
        self.errors.pop(sym, None)
        self.bars[sym] = bars
        self._align(sym)
        self.draw()

    def _on_error(self, sym: str, seq: int, exc: BaseException) -> None:
        if sym not in self.symbols or seq != self._seq.get(sym):
            return
        self.errors[sym] = str(exc)
        self.aligned.pop(sym, None)
        self.draw()

    def _align(self, sym: str) -> None:
        s = self.chart.shown
        b = self.bars.get(sym)
        if s is not None and b is not None:
            self.aligned[sym] = align_closes(s.time, b)

    def on_shown(self) -> None:
        """The chart drew new bars: reload compared symbols of another timeframe, realign the rest."""
        tf = self.chart.timeframe
        for sym in self.symbols:
            b = self.bars.get(sym)
            if b is None or b.timeframe != tf:
                self.bars.pop(sym, None)
                self.aligned.pop(sym, None)
                self._load(sym)
            else:
                self._align(sym)
        self.draw()

    # ------------------------------------------------------------------ drawing
    def first_visible(self) -> int:
        c = self.chart
        s = c.shown
        if s is None or not len(s):
            return 0
        x0 = c.price_pane.vb.viewRange()[0][0]
        return min(max(0, int(np.ceil(x0))), len(s) - 1)

    def draw(self, finish: bool = True) -> None:
        """Every compared line rebased at the first visible bar (hidden off the % scale;
        ``finish``: then refresh the legend and fit the panes)."""
        c = self.chart
        first = self.first_visible()
        on = c.scale == "percent"
        for sym in self.symbols:
            y = self.aligned.get(sym)
            item = self.items.get(sym)
            if y is None:
                if item is not None:
                    item.set_data(np.empty(0))
                continue
            if item is None:
                item = self.items[sym] = LineItem(f"compare:{sym}", self.colors[sym], 1.5)
                item.setZValue(6)
                c.price_pane.add_fit_item(item)
            item.set_data(rebased(y, first), color=self.colors[sym])
            item.setVisible(on)
        if finish:
            c._update_legends()
            c.fit_panes()

    def legend_parts(self, i: int) -> list[str]:
        from engine import formatting as fmt

        first = self.first_visible()
        parts = []
        for sym in self.symbols:
            y = self.aligned.get(sym)
            v = float(rebased(y, first)[i]) if y is not None and 0 <= i < len(y) else float("nan")
            text = fmt.percent(v) if np.isfinite(v) else ("⚠ " + self.errors[sym] if sym in self.errors else "–")
            parts.append(f"<a href='compare:{sym}' style='color:{self.colors[sym]}; text-decoration:none'>"
                         f"{sym}</a> <span style='color:{self.colors[sym]}'>{text}</span>")
        return parts

    # ------------------------------------------------------------------ state
    def state(self) -> dict[str, Any]:
        return {"symbols": list(self.symbols), "colors": dict(self.colors), "scale_before": self.scale_before}

    def restore(self, state: object) -> None:
        if not isinstance(state, dict):
            return
        for sym in list(self.symbols):
            self.remove(sym)
        before = state.get("scale_before")
        raw = state.get("colors")
        colors: dict[str, Any] = raw if isinstance(raw, dict) else {}
        for sym in state.get("symbols") or []:
            if isinstance(sym, str):
                try:
                    col = colors.get(sym) if isinstance(colors.get(sym), str) else None
                    self.add(sym, col)
                except ValueError:
                    continue
        if isinstance(before, str) and before in ("linear", "log"):
            self.scale_before = before
