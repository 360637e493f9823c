"""Glossary tooltips: hovering a metric or indicator name anywhere in the app shows its
glossary entry, and "What's this?" on it opens the Glossary dock at that term.

Two ways in, one table (``METRIC_TERMS``: the names the app shows → glossary ids):

* ``link_term(widget, term, open_term)`` for a widget that *is* a metric (a label): tooltip,
  What's-this text and a context-menu entry "What's this: <term>".
* ``GlossaryTooltips``, one event filter on the application: a tooltip request over a label, a
  table header section or a list/table cell whose text is a known name shows the entry (after
  the widget's own note, when it has one); F1 then opens that term in the Glossary dock. So the account, journal, review, leaderboard and indicator lists
  get the links without each dock knowing about the glossary.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QAction, QHelpEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QToolTip, QWidget

from engine.education.content import Glossary, Term
from engine.education.glossary import METRIC_TERMS

_CALL = re.compile(r"^([a-z_]+)\s*\(")


def normalise(text: str) -> str:
    """The lookup form of a shown name: lower case, no markup, no trailing colon, unit or
    parameters ("Sharpe:" → "sharpe", "RSI (14)" → "rsi", "sma(close, 50)" → "sma")."""
    t = re.sub(r"<[^>]+>", "", text).strip().lower().rstrip(":").strip()
    m = _CALL.match(t)
    if m:
        return m.group(1)
    t = re.sub(r"\s*\((?:[^)]*)\)\s*$", "", t)  # "RSI (14)", "Return (%)"
    return t.replace("_", " ").strip()


def term_for(text: str, glossary: Glossary) -> Term | None:
    tid = METRIC_TERMS.get(normalise(text))
    return glossary.get(tid) if tid else None


def term_html(term: Term) -> str:
    """A term's tooltip: name, definition, formula."""
    out = f"<b>{html.escape(term.term)}</b><br>{html.escape(term.definition)}"
    if term.formula:
        out += f"<br><code>{html.escape(term.formula)}</code>"
    return f"<div style='max-width: 380px'>{out}<br><i>F1: open it in the Glossary</i></div>"


def link_term(widget: QWidget, term: Term, open_term: Callable[[str], None] | None = None) -> None:
    """Make ``widget`` explain ``term``: tooltip, What's-this text and, with ``open_term``, a
    context-menu action that opens the glossary at the term."""
    widget.setToolTip(term_html(term))
    widget.setWhatsThis(term_html(term))
    widget.setProperty("glossaryTerm", term.id)
    if open_term is not None and not any(a.objectName() == "glossaryWhatsThis" for a in widget.actions()):
        a = QAction(f"What's this: {term.term}", widget)
        a.setObjectName("glossaryWhatsThis")
        a.triggered.connect(lambda _=False, t=term.id: open_term(t))
        widget.addAction(a)
        widget.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)


class GlossaryTooltips(QObject):
    """Application event filter: glossary tooltips over known metric and indicator names."""

    def __init__(self, glossary: Callable[[], Glossary], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.glossary = glossary
        self.shown: list[str] = []  # term ids shown, newest last (tests and diagnostics)
        self.last: tuple[str, float] | None = None  # (term id, monotonic time) of the last one shown

    def text_at(self, obj: QObject, pos: QPoint) -> str:
        """The name under ``pos`` in ``obj`` (a label, a header section, a view's cell), else ""."""
        if isinstance(obj, QLabel):
            return obj.text()
        parent = obj.parent()
        if isinstance(parent, QHeaderView):
            obj = parent
        if isinstance(obj, QHeaderView):
            model = obj.model()
            if model is None:
                return ""
            section = obj.logicalIndexAt(pos)
            if section < 0:
                return ""
            v = model.headerData(section, obj.orientation(), Qt.ItemDataRole.DisplayRole)
            return str(v) if v is not None else ""
        if isinstance(parent, QAbstractItemView) and not isinstance(parent, QHeaderView):
            index = parent.indexAt(pos)
            if index.isValid():
                v = index.data(Qt.ItemDataRole.DisplayRole)
                return str(v) if v is not None else ""
        return ""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() != QEvent.Type.ToolTip or not isinstance(obj, QWidget) or not isinstance(event, QHelpEvent):
            return False
        if obj.property("glossaryTerm"):
            return False  # ``link_term`` gave it the entry already
        try:
            text = self.text_at(obj, event.pos())
            term = term_for(text, self.glossary()) if text and len(text) < 60 else None
        except RuntimeError:  # a widget being deleted
            return False
        if term is None:
            return False
        import time

        self.shown.append(term.id)
        del self.shown[:-50]
        self.last = (term.id, time.monotonic())
        own = obj.toolTip()  # the widget's own note (how the app computes it) comes first
        tip = term_html(term) if not own else f"<div style='max-width: 380px'>{html.escape(own)}</div><hr>{term_html(term)}"
        QToolTip.showText(event.globalPos(), tip, obj)
        return True
