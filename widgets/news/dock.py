"""The news dock: stored headlines filtered by symbol, watchlist or search text, with a
sentiment badge (colour + score), unread state, and the article opened in the browser.

A thin view over ``engine.news.service.NewsService``: it reads stored news (fast, works
offline) and calls the service's commands; refreshing from the network is the feature
module's job (a worker on a schedule), ``reload()`` runs when the service announces news.
A linked dock follows its group's chart: ``set_symbol`` (called by the shell) filters by it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.news import NewsError, NewsItem
from engine.news.service import NewsService
from widgets.table import Column, TableModel, TableView

ALL = "all"
SYMBOL = "symbol"
WATCHLIST = "watchlist:"
LIMIT = 500


def sentiment_colour(compound: float) -> QColor:
    """The badge colour: green for positive, red for negative, grey for neutral (VADER's
    ±0.05 thresholds), deeper the stronger the score."""
    if compound >= 0.05:
        base = QColor("#26a69a")
    elif compound <= -0.05:
        base = QColor("#ef5350")
    else:
        return QColor("#5f6672")
    strength = min(1.0, abs(compound))
    base.setAlphaF(0.35 + 0.65 * strength)
    return base


def score_text(compound: float) -> str:
    """The badge text: the score with its sign, two decimals ("+0.82", "-0.40", "0.00")."""
    return "0.00" if abs(compound) < 0.005 else f"{compound:+.2f}"


def _when(epoch: int) -> str:
    t = dt.datetime.fromtimestamp(epoch).astimezone()
    return t.strftime("%Y-%m-%d %H:%M")


class FeedsDialog(QDialog):
    """The user's RSS/Atom feeds: add (URL, optional name and symbols), remove."""

    def __init__(self, service: NewsService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newsFeedsDialog")
        self.setWindowTitle("News feeds")
        self.service = service
        self.list = QListWidget()
        self.list.setObjectName("newsFeedsList")
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://example.com/feed.xml")
        self.name = QLineEdit()
        self.name.setPlaceholderText("name (optional)")
        self.symbols = QLineEdit()
        self.symbols.setPlaceholderText("symbols it is about, e.g. AAPL, MSFT (optional)")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        add = QPushButton("Add")
        add.clicked.connect(self.add)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.remove)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.list)
        lay.addWidget(self.url)
        lay.addWidget(self.name)
        lay.addWidget(self.symbols)
        lay.addLayout(row)
        lay.addWidget(self.message)
        lay.addWidget(buttons)
        self.reload()

    def reload(self) -> None:
        self.list.clear()
        for f in self.service.feeds():
            state = f"  — {f.last_error}" if f.last_error else ("" if f.last_ok_at else "  — not fetched yet")
            item_text = f"{f.name}  <{f.url}>{'  [' + ', '.join(f.symbols) + ']' if f.symbols else ''}{state}"
            self.list.addItem(item_text)
            self.list.item(self.list.count() - 1).setData(Qt.ItemDataRole.UserRole, f.id)

    def add(self) -> None:
        syms = [s for s in self.symbols.text().replace(";", ",").split(",") if s.strip()]
        try:
            self.service.add_feed(self.url.text(), self.name.text(), syms)
        except NewsError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText("Added; it is fetched on the next refresh.")
        self.url.clear()
        self.name.clear()
        self.symbols.clear()
        self.reload()

    def remove(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.service.remove_feed(int(item.data(Qt.ItemDataRole.UserRole)))
            self.reload()


class NewsWidget(QWidget):
    """The dock content (see the module docstring)."""

    symbol_activated = Signal(str)
    refresh_requested = Signal()

    def __init__(self, service: NewsService, watchlists: Callable[[], Sequence[str]] = lambda: (),
                 watchlist_symbols: Callable[[str], Sequence[str]] = lambda _n: (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newsWidget")
        self.service = service
        self._watchlists = watchlists
        self._watchlist_symbols = watchlist_symbols
        self.symbol = ""
        self.last_refresh = ""

        self.scope = QComboBox()
        self.scope.setObjectName("newsScope")
        self.symbol_edit = QLineEdit()
        self.symbol_edit.setObjectName("newsSymbol")
        self.symbol_edit.setPlaceholderText("symbol")
        self.symbol_edit.setMaximumWidth(90)
        self.symbol_edit.editingFinished.connect(self._on_symbol_edit_finished)
        self.search = QLineEdit()
        self.search.setObjectName("newsSearch")
        self.search.setPlaceholderText("Search headlines")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self.reload())
        self.unread_only = QCheckBox("Unread only")
        self.unread_only.toggled.connect(lambda _b: self.reload())
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Fetch Yahoo Finance news for the watchlists and every feed")
        self.refresh_button.clicked.connect(self.refresh_requested.emit)
        self.feeds_button = QPushButton("Feeds…")
        self.feeds_button.clicked.connect(self.edit_feeds)
        top = QHBoxLayout()
        top.addWidget(self.scope)
        top.addWidget(self.symbol_edit)
        top.addWidget(self.search, 1)
        top.addWidget(self.unread_only)
        top.addWidget(self.refresh_button)
        top.addWidget(self.feeds_button)

        bold = QFont()
        bold.setBold(True)
        self._bold = bold
        self.model = TableModel([
            Column("Sentiment", lambda r: r.compound, numeric=True, fmt=score_text,
                   color=lambda r: "#ffffff",
                   tip=lambda r: f"{r.label} ({r.compound:+.3f}, finance-aware VADER)",
                   roles={int(Qt.ItemDataRole.BackgroundRole): lambda r: sentiment_colour(r.compound)},
                   hideable=False),
            Column("Time", lambda r: r.published, fmt=_when),
            Column("Symbols", lambda r: ", ".join(r.symbols)),
            Column("Headline", lambda r: r.title, tip=lambda r: r.summary or r.title, hideable=False),
            Column("Source", lambda r: ("Demo · " if r.demo else "") + r.source,
                   color=lambda r: "#b7791f" if r.demo else None),
        ], key=lambda r: r.id, row_font=lambda r, _c: self._bold if not r.read else None)
        self.table = TableView(self.model, "newsTable", fill=True)
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        self.table.activated.connect(lambda _i: self.open_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_selected())

        self.detail = QTextBrowser()
        self.detail.setObjectName("newsDetail")
        self.detail.setOpenLinks(False)
        self.detail.anchorClicked.connect(lambda _u: self.open_selected())
        self.detail.setMaximumHeight(110)  # the headline list gets the room; a summary is a few lines
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)

        self.open_button = QPushButton("Open article")
        self.open_button.clicked.connect(self.open_selected)
        self.read_button = QPushButton("Mark read")
        self.read_button.clicked.connect(lambda: self.mark_selected(True))
        self.unread_button = QPushButton("Mark unread")
        self.unread_button.clicked.connect(lambda: self.mark_selected(False))
        self.all_read_button = QPushButton("Mark all read")
        self.all_read_button.clicked.connect(self.mark_all_read)
        self.status = QLabel("")
        self.status.setObjectName("newsStatus")
        bottom = QHBoxLayout()
        bottom.addWidget(self.open_button)
        bottom.addWidget(self.read_button)
        bottom.addWidget(self.unread_button)
        bottom.addWidget(self.all_read_button)
        bottom.addWidget(self.status, 1)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        lay.addLayout(bottom)
        self.reload_scopes()
        self.scope.currentIndexChanged.connect(lambda _i: self._on_scope_changed())
        self._on_scope_changed()

    # ---------------------------------------------------------------- filters
    def reload_scopes(self) -> None:
        """Fill the scope box: all news, one symbol, or each watchlist (kept if still there)."""
        current = self.scope.currentData()
        self.scope.blockSignals(True)
        self.scope.clear()
        self.scope.addItem("Symbol", SYMBOL)
        self.scope.addItem("All news", ALL)
        for name in self._watchlists():
            self.scope.addItem(f"Watchlist: {name}", WATCHLIST + name)
        i = self.scope.findData(current) if current is not None else 0
        self.scope.setCurrentIndex(max(0, i))
        self.scope.blockSignals(False)

    def _on_scope_changed(self) -> None:
        self.symbol_edit.setEnabled(self.scope.currentData() == SYMBOL)
        self.reload()

    def _on_symbol_edit_finished(self) -> None:
        s = self.symbol_edit.text().strip().upper()
        if s != self.symbol:
            self.set_symbol(s)

    def set_symbol(self, symbol: str) -> None:
        """Filter by ``symbol`` (what the linked chart shows) when the scope is "Symbol"."""
        self.symbol = symbol.strip().upper()
        self.symbol_edit.setText(self.symbol)
        if self.scope.currentData() == SYMBOL:
            self.reload()

    def set_scope(self, scope: str) -> None:
        """``"all"``, ``"symbol"`` or ``"watchlist:NAME"``."""
        i = self.scope.findData(scope)
        if i >= 0:
            self.scope.setCurrentIndex(i)

    def _symbols_filter(self) -> list[str] | None:
        scope = self.scope.currentData()
        if scope == SYMBOL:
            return [self.symbol] if self.symbol else None
        if isinstance(scope, str) and scope.startswith(WATCHLIST):
            return list(self._watchlist_symbols(scope[len(WATCHLIST):]))
        return None

    # ---------------------------------------------------------------- rows
    def reload(self) -> None:
        """Read the stored news again with the current filters (fast; works offline)."""
        keep = {r.id for r in self.table.selected_rows()}
        try:
            rows = self.service.items(symbols=self._symbols_filter(), search=self.search.text(),
                                      unread_only=self.unread_only.isChecked(), limit=LIMIT)
        except NewsError as exc:
            self.status.setText(str(exc))
            return
        self.model.set_rows(rows)
        if keep:
            for view_row in range(self.table.proxy.rowCount()):
                if self.table.row_at(view_row).id in keep:
                    self.table.selectRow(view_row)
                    break
        self._update_status()
        self._show_selected()

    def rows(self) -> list[NewsItem]:
        return list(self.model.rows)

    def _update_status(self) -> None:
        rows = self.model.rows
        unread = sum(not r.read for r in rows)
        where = {SYMBOL: self.symbol or "all symbols", ALL: "all symbols"}.get(self.scope.currentData(),
                                                                              self.scope.currentText())
        if not rows:
            text = f"No headlines for {where}" + (" yet: Refresh fetches them." if not self.search.text() else ".")
        else:
            more = f" (the newest {LIMIT})" if len(rows) >= LIMIT else ""
            text = f"{len(rows)} headlines{more} for {where}, {unread} unread"
            if any(r.demo for r in rows):
                text += " · demo headlines are generated"
        if self.last_refresh:
            text += f" · {self.last_refresh}"
        self.status.setText(text)

    def set_refresh_result(self, text: str) -> None:
        """What the last refresh did (shown in the status line), e.g. its errors."""
        self.last_refresh = text
        self._update_status()

    def _current(self) -> NewsItem | None:
        rows = self.table.selected_rows()
        return rows[0] if rows else None

    def _show_selected(self) -> None:
        r = self._current()
        if r is None:
            self.detail.setHtml("")
            return
        from html import escape

        demo = "<p><i>A generated demo headline: there is no article.</i></p>" if r.demo else ""
        self.detail.setHtml(
            f"<b>{escape(r.title)}</b><br><small>{escape(_when(r.published))} · {escape(r.source)} · "
            f"{escape(', '.join(r.symbols))} · {escape(r.label)} {score_text(r.compound)}</small>"
            f"<p>{escape(r.summary)}</p>{demo}"
            + ("" if r.demo else f'<p><a href="{escape(r.url)}">Open article</a></p>'))

    # ---------------------------------------------------------------- commands
    def open_selected(self) -> None:
        """Open the selected article in the system browser and mark it read (a demo headline
        has no article: the status line says so)."""
        r = self._current()
        if r is None:
            return
        message = ""
        if r.demo:
            message = "A generated demo headline: there is no article to open."
        elif not QDesktopServices.openUrl(QUrl(r.url)):
            message = f"No browser could open {r.url}."
        if not r.read:
            self.service.mark_read([r.id])
            self.reload()
        if message:
            self.status.setText(message)

    def mark_selected(self, read: bool) -> None:
        ids = [r.id for r in self.table.selected_rows()]
        if ids:
            self.service.mark_read(ids, read)
            self.reload()

    def mark_all_read(self) -> None:
        ids = [r.id for r in self.model.rows if not r.read]
        if ids:
            self.service.mark_read(ids, True)
            self.reload()

    def edit_feeds(self) -> None:
        FeedsDialog(self.service, self).exec()

    # ---------------------------------------------------------------- state
    def state(self) -> dict[str, Any]:
        """Scope, symbol, unread filter and the table's columns (saved with the layout)."""
        return {"scope": self.scope.currentData(), "symbol": self.symbol,
                "unread_only": self.unread_only.isChecked(), "table": self.table.view_state()}

    def restore_state(self, state: dict[str, Any]) -> None:
        scope = state.get("scope")
        if isinstance(scope, str):
            self.set_scope(scope)
        sym = state.get("symbol")
        if isinstance(sym, str) and sym and not self.symbol:
            self.set_symbol(sym)
        if isinstance(state.get("unread_only"), bool):
            self.unread_only.setChecked(state["unread_only"])
        table = state.get("table")
        if isinstance(table, dict):
            self.table.restore_view_state(table)
