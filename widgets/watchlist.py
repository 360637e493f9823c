"""The watchlist dock: named symbol lists with last price, change and volume.

The rows are shown in the app's one table (``widgets.table``: sortable on the raw numbers,
columns chosen from the header, widths saved with the layout, Ctrl+C copies) with the app's
number formats (``engine.formatting``); quotes are computed from cached bars in a worker,
never on the GUI thread.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine import formatting as fmt
from engine.data.bars import Bars
from engine.data.errors import NoNetworkError, RateLimitedError
from engine.watchlists import WatchlistError, WatchlistService
from widgets import style
from widgets.chart import BarSource
from widgets.table import Column, TableModel, TableView
from widgets.tasks import TaskSubmitter


@dataclass(frozen=True, slots=True)
class QuoteRow:
    symbol: str
    last: float = float("nan")
    change_pct: float = float("nan")
    volume: float = float("nan")
    demo: bool = False
    error: str = ""
    #: the source could not be reached: the values (if any) are the last cached ones, of ``as_of``
    offline: bool = False
    as_of: str = ""
    #: the previous session's close (what Chg % is measured from, also for live quotes)
    prev_close: float = float("nan")
    #: ``last`` is the paper session's live quote (the price the ticket and the chart show)
    live: bool = False


def _quote(symbol: str, b: Bars, offline: bool = False) -> QuoteRow:
    last = float(b.close[-1])
    prev = float(b.close[-2]) if len(b) > 1 else last
    change = (last / prev - 1) * 100 if prev else 0.0
    as_of = str(np.datetime64(int(b.time[-1]), "s").astype("datetime64[D]"))
    return QuoteRow(symbol, last, change, float(b.volume[-1]), b.is_demo, offline=offline, as_of=as_of,
                    prev_close=prev)


def _cached_real_bars(data: BarSource, symbol: str) -> Bars | None:
    """The cached daily bars of ``symbol`` unless they are demo bars (never shown as real)."""
    cached, load = getattr(data, "cached", None), getattr(data, "load", None)
    if cached is None or load is None:
        return None
    try:
        info = cached(symbol, "1d")
        if info is None or info.source == "demo":
            return None
        bars: Bars = load(symbol, "1d")
    except Exception:  # noqa: BLE001 - no usable cache: the row says offline
        return None
    return bars if len(bars) else None


def compute_quotes(data: BarSource, symbols: list[str]) -> list[QuoteRow]:
    """Last close, daily change % and volume of each symbol (errors kept per row). When the
    source cannot be reached the last cached (non-demo) values are shown, marked offline."""
    rows = []
    update_failed = getattr(data, "update_failed", None)
    for s in symbols:
        try:
            b = data.get_bars(s, "1d")
        except (NoNetworkError, RateLimitedError) as exc:
            cached = _cached_real_bars(data, s)
            rows.append(_quote(s, cached, offline=True) if cached is not None
                        else QuoteRow(s, error=str(exc), offline=True))
            continue
        except Exception as exc:  # noqa: BLE001 - one bad symbol must not hide the others
            rows.append(QuoteRow(s, error=str(exc)))
            continue
        if len(b) == 0:
            rows.append(QuoteRow(s, error="no bars"))
            continue
        # the service kept the cache because the top-up failed (offline): say so
        stale = bool(update_failed is not None and update_failed(s, "1d"))
        rows.append(_quote(s, b, offline=stale))
    return rows


def _change_color(r: QuoteRow) -> QColor | None:
    if r.offline:
        return _muted()
    if r.error or not np.isfinite(r.change_pct):
        return None
    return QColor(style.CHART.up if r.change_pct >= 0 else style.CHART.down)


def _muted() -> QColor:
    """The theme's muted text (the palette's placeholder colour: readable on both themes)."""
    return QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText)


def _offline_font(r: QuoteRow) -> QFont | None:
    if not r.offline:
        return None
    f = QFont()
    f.setItalic(True)
    return f


def _last_text(r: QuoteRow) -> str | None:
    if r.offline and not np.isfinite(r.last):
        return "offline"
    return "error" if r.error else None


def _row_tip(r: QuoteRow) -> str | None:
    if r.offline:
        if r.as_of:
            return f"offline — last cached value from {r.as_of}"
        return f"offline — no cached value yet ({r.error})" if r.error else "offline — no cached value yet"
    return r.error or ("demo data" if r.demo else None)


QUOTE_COLUMNS = (
    Column("Symbol", lambda r: r.symbol, key="symbol", hideable=False,
           color=lambda r: _muted() if r.offline else None),
    Column("Last", lambda r: r.last, True, key="last", fmt=fmt.price, override=_last_text,
           color=lambda r: _muted() if r.offline else None),
    Column("Chg %", lambda r: r.change_pct, True, key="change_pct", fmt=fmt.percent, color=_change_color),
    Column("Volume", lambda r: r.volume, True, key="volume", fmt=fmt.volume,
           color=lambda r: _muted() if r.offline else None),
)


def quote_model() -> TableModel:
    """The watchlist's rows in the app's one table model; a failed symbol says "error" in Last,
    one the source could not reach shows its last cached values (muted, italic) or "offline"."""
    return TableModel(QUOTE_COLUMNS, key=lambda r: r.symbol, row_tip=_row_tip,
                      row_font=lambda r, _c: _offline_font(r))


def _check_symbols(check: Callable[[str], Any], symbols: list[str]) -> list[tuple[str, bool, str]]:
    """(symbol, accepted, message) for each symbol, checked with the source (in a worker)."""
    out = []
    for s in dict.fromkeys(symbols):
        r = check(s)
        out.append((r.symbol, bool(r.ok), str(r.message)))
    return out


class WatchlistWidget(QWidget):
    """Watchlists: choose a list, add/remove symbols, activate one to chart it."""

    symbol_activated = Signal(str)
    quotes_loaded = Signal()

    def __init__(self, watchlists: WatchlistService, data: BarSource, tasks: TaskSubmitter,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("watchlistWidget")
        self.watchlists = watchlists
        self.data = data
        self.tasks = tasks
        self.model = quote_model()
        self._computing: list[str] | None = None  # symbols whose quotes a worker computes now
        self._fitted = False

        self.list_box = QComboBox()
        self.list_box.setObjectName("watchlistChooser")
        self.list_box.currentTextChanged.connect(self._on_list_changed)
        self.new_btn = QToolButton(text="New…", toolTip="Create a watchlist")
        self.new_btn.clicked.connect(self._on_new_clicked)
        self.add_edit = QLineEdit(placeholderText="Add symbol…")
        self.add_edit.setObjectName("watchlistAdd")
        self.add_edit.returnPressed.connect(self._on_add)
        self.remove_btn = QToolButton(text="Remove", toolTip="Remove the selected symbols (Del)")
        self.remove_btn.clicked.connect(self._on_remove)

        # the user's order until a header is clicked (TableView keeps the rows' order)
        self.table = TableView(self.model, "watchlistTable", row_height=22, fill=True,
                               selection=QAbstractItemView.SelectionMode.ExtendedSelection)
        self.proxy = self.table.proxy
        self.table.activated.connect(self._on_row_activated)
        self.table.clicked.connect(self._on_row_activated)
        QShortcut(QKeySequence.StandardKey.Delete, self.table, activated=self._on_remove)

        top = QHBoxLayout()
        top.addWidget(self.list_box, 1)
        top.addWidget(self.new_btn)
        add = QHBoxLayout()
        add.addWidget(self.add_edit, 1)
        add.addWidget(self.remove_btn)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addLayout(add)
        self.add_status = QLabel()  # why a symbol was refused, or that it could not be checked
        self.add_status.setObjectName("watchlistAddStatus")
        self.add_status.setWordWrap(True)
        self.add_status.hide()
        lay.addWidget(self.add_status)
        lay.addWidget(self.table, 1)
        self.setMinimumWidth(self.minimum_width())
        self.reload_lists()

    # ------------------------------------------------------------------ API
    def minimum_width(self) -> int:
        """The narrowest the dock may get: symbol, last and change stay readable (a layout
        saved on a large screen and restored on a small one squashed them to "AC…")."""
        fm = self.table.fontMetrics()
        pad = 2 * self.table.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin) + 12
        samples = (("Symbol", "WWWWW"), ("Last", "88,888.88"), ("Chg %", "+88.88%"))
        cols = sum(max(fm.horizontalAdvance(a), fm.horizontalAdvance(b)) + pad for a, b in samples)
        scroll = self.table.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        margins = self.layout().contentsMargins() if self.layout() is not None else None
        side = (margins.left() + margins.right()) if margins is not None else 8
        return cols + scroll + 2 * self.table.frameWidth() + side

    @property
    def current(self) -> str:
        return self.list_box.currentText()

    def reload_lists(self, select: str | None = None) -> None:
        names = self.watchlists.names()
        cur = select or self.current
        self.list_box.blockSignals(True)
        self.list_box.clear()
        self.list_box.addItems(names)
        if cur in names:
            self.list_box.setCurrentText(cur)
        self.list_box.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        """Recompute the quotes of the current list in a worker."""
        name = self.current
        if not name:
            self.model.set_rows([])
            return
        symbols = self.watchlists.symbols(name)
        if symbols == self._computing:
            return  # the same quotes are being computed already (a list change can arrive twice)
        self._computing = symbols
        self.model.set_rows([QuoteRow(s) for s in symbols])
        self.tasks.submit(compute_quotes, self.data, symbols, label=f"Quotes for {name}",
                          on_result=self._on_quotes, on_finished=self._on_quotes_finished)

    def symbols(self) -> list[str]:
        return [r.symbol for r in self.model.rows]

    def apply_live_quotes(self, last_for: Callable[[str], Any]) -> int:
        """Move Last and Chg % to the live quotes (``last_for(symbol)``: the paper session's
        last price, or None), so the watchlist shows the price the ticket trades at and the
        chart's last bar draws (issue 10: one quote stream). Chg % stays measured from the
        previous session's close. Returns how many rows changed."""
        changed = 0
        for r in list(self.model.rows):
            px = last_for(r.symbol)
            if px is None or r.error:
                continue
            v = float(px)
            if v == r.last and r.live:
                continue
            prev = r.prev_close
            chg = (v / prev - 1) * 100 if prev == prev and prev else r.change_pct
            self.model.upsert(replace(r, last=v, change_pct=chg, live=True))
            changed += 1
        return changed

    def state(self) -> dict[str, Any]:
        """The selected list and the table's columns (saved with the layout)."""
        return {"list": self.current, "table": self.table.view_state()}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Select the saved list again if it still exists; put back the columns."""
        name = state.get("list")
        if isinstance(name, str) and name in self.watchlists.names() and name != self.current:
            self.list_box.setCurrentText(name)
        table = state.get("table")
        if isinstance(table, dict):
            self.table.restore_view_state(table)

    # ------------------------------------------------------------------ slots
    def _on_quotes_finished(self) -> None:
        self._computing = None

    def _on_quotes(self, rows: list[QuoteRow]) -> None:
        if [r.symbol for r in rows] == self.symbols():
            self.model.set_rows(rows)
            if not self._fitted and rows:  # size to real values once; the user's widths stay after
                self._fitted = True
                self.table.fit_columns(fit_width=True)
        self.quotes_loaded.emit()

    def _on_list_changed(self, _name: str) -> None:
        self.refresh()

    def _on_row_activated(self, index: QModelIndex) -> None:
        row = self.table.source_row(index)
        if row is not None:
            self.symbol_activated.emit(row.symbol)

    def _on_new_clicked(self) -> None:
        name, ok = QInputDialog.getText(self, "New watchlist", "Name:")
        if ok and name.strip():
            try:
                self.watchlists.create(name)
            except WatchlistError as exc:
                QMessageBox.warning(self, "Watchlist", str(exc))
                return
            self.reload_lists(select=name.strip())

    def _on_add(self) -> None:
        text = self.add_edit.text()
        if not text.strip() or not self.current:
            return
        wanted = text.replace(",", " ").split()
        check = getattr(self.data, "check_symbol", None)
        if check is None:  # a source that cannot check symbols: the list takes them as typed
            self._add_checked(self.current, [(s, True, "") for s in wanted])
            return
        self.add_edit.setEnabled(False)
        self.add_status.setText("Checking " + ", ".join(s.upper() for s in wanted) + "…")
        self.add_status.show()
        self.tasks.submit(_check_symbols, check, wanted, label="Checking symbols",
                          on_result=lambda res, name=self.current: self._add_checked(name, res),
                          on_error=self._on_check_failed,
                          on_finished=lambda: self.add_edit.setEnabled(True))

    def _on_check_failed(self, exc: BaseException) -> None:
        self.add_edit.setEnabled(True)
        self._say(f"The symbols could not be checked: {exc}", error=True)

    def _add_checked(self, name: str, results: list[tuple[str, bool, str]]) -> None:
        """Add the symbols the source accepted; say why the others were refused."""
        self.add_edit.setEnabled(True)
        ok = [s for s, accepted, _m in results if accepted]
        refused = [m for _s, accepted, m in results if not accepted]
        warnings = [m for _s, accepted, m in results if accepted and m]
        if ok:
            try:
                self.watchlists.add(name, ok)
            except WatchlistError as exc:
                self._say(str(exc), error=True)
                return
        if not refused:
            self.add_edit.clear()
        self._say(" ".join(refused + warnings), error=bool(refused))
        self.refresh()

    def _say(self, text: str, error: bool = False) -> None:
        self.add_status.setText(text)
        self.add_status.setProperty("error", error)
        self.add_status.setStyleSheet(f"color: {style.CHART.down};" if error else "")
        self.add_status.setVisible(bool(text))

    def _on_remove(self) -> None:
        syms = [r.symbol for r in self.table.selected_rows()]
        if syms:
            self.watchlists.remove(self.current, syms)
            self.refresh()
