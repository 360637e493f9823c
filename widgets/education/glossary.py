"""The Glossary dock: a search box, the matching terms, and the selected term's entry
(definition, formula, related terms as links)."""
from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QSplitter, QTextBrowser, QVBoxLayout, QWidget

from engine.education.content import Term
from engine.education.service import EducationService


class GlossaryWidget(QWidget):
    term_shown = Signal(str)

    def __init__(self, service: EducationService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("glossaryWidget")
        self.service = service
        self.search = QLineEdit()
        self.search.setObjectName("glossarySearch")
        self.search.setPlaceholderText("Search the glossary…  (e.g. sharpe, stop, rsi)")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setObjectName("glossaryList")
        self.detail = QTextBrowser()
        self.detail.setObjectName("glossaryDetail")
        self.detail.setOpenLinks(False)
        self.detail.anchorClicked.connect(self._on_link)
        self.count = QLabel()
        self.count.setObjectName("glossaryCount")
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(self.detail)
        split.setSizes([220, 420])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.search)
        lay.addWidget(split, 1)
        lay.addWidget(self.count)
        self.search.textChanged.connect(self.refilter)
        self.list.currentItemChanged.connect(lambda cur, _prev: cur is not None and self.show_term(cur.data(256)))
        self.refilter("")

    def refilter(self, text: str) -> None:
        terms = self.service.search(text, limit=500)
        self.list.clear()
        for t in terms:
            it = QListWidgetItem(t.term)
            it.setData(256, t.id)
            it.setToolTip(t.definition)
            self.list.addItem(it)
        n = len(self.service.glossary)
        self.count.setText(f"{len(terms)} of {n} terms" if text.strip() else f"{n} terms")
        if terms and text.strip():
            self.list.setCurrentRow(0)

    def show_term(self, term_id: str) -> bool:
        """Show ``term_id``'s entry (selecting it in the list when listed); False if unknown."""
        term = self.service.term(term_id)
        if term is None:
            return False
        self.detail.setHtml(self.entry_html(term))
        for i in range(self.list.count()):
            if self.list.item(i).data(256) == term.id and self.list.currentRow() != i:
                self.list.blockSignals(True)
                self.list.setCurrentRow(i)
                self.list.blockSignals(False)
        self.term_shown.emit(term.id)
        return True

    def entry_html(self, t: Term) -> str:
        parts = [f"<h2>{html.escape(t.term)}</h2>",
                 f"<p style='color:#8a8f98'>{html.escape(t.category.replace('-', ' '))}"
                 + (f" · also: {html.escape(', '.join(t.aliases))}" if t.aliases else "") + "</p>",
                 f"<p>{html.escape(t.definition)}</p>"]
        if t.formula:
            parts.append(f"<p><b>Formula</b><br><code>{html.escape(t.formula)}</code></p>")
        related = [r for r in (self.service.term(x) for x in t.related) if r is not None]
        if related:
            parts.append("<p><b>Related</b>: " + ", ".join(
                f"<a href='term:{r.id}'>{html.escape(r.term)}</a>" for r in related) + "</p>")
        return "".join(parts)

    def _on_link(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("term:"):
            self.show_term(text[5:])

    def state(self) -> dict[str, Any]:
        return {"query": self.search.text()}

    def restore_state(self, state: dict[str, Any]) -> None:
        q = state.get("query")
        if isinstance(q, str):
            self.search.setText(q)
