"""Glossary tooltips: hovering a metric or indicator name anywhere in the app shows its
glossary entry, and "What's this?" on it opens the Glossary dock at that term.

Two ways in, one table (``METRIC_TERMS``: the names the app shows → glossary ids):

* ``link_term(widget, term, open_term)`` for a widget that *is* a metric (a label): tooltip,
  What's-this text and a context-menu entry "What's this: <term>".
* ``GlossaryTooltips``, one event filter on the application: a tooltip request over a label, a
  table header section or a list/table cell whose text is a known name (and that has no tooltip
  of its own) shows the entry. So the account, journal, review, leaderboard and indicator lists
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

#: names shown in the app (lower case, without a trailing colon or unit) -> glossary id
METRIC_TERMS: dict[str, str] = {
    # account and positions
    "equity": "equity", "cash": "cash", "buying power": "buying-power", "buying power used": "buying-power",
    "margin": "margin", "maintenance margin": "maintenance-margin", "realized p&l": "realized-pnl",
    "realized": "realized-pnl", "unrealized p&l": "unrealized-pnl", "unrealized": "unrealized-pnl",
    "day p&l": "day-pnl", "fees": "commission", "commission": "commission", "day fees": "commission",
    "slippage": "slippage", "spread": "spread", "bid": "bid", "ask": "ask", "last": "last-price",
    "volume": "volume", "total return": "total-return", "return": "total-return",
    # performance (journal, review, research, leaderboard)
    "sharpe": "sharpe-ratio", "sharpe ratio": "sharpe-ratio", "sortino": "sortino-ratio",
    "sortino ratio": "sortino-ratio", "calmar": "calmar-ratio", "calmar ratio": "calmar-ratio", "cagr": "cagr",
    "volatility": "volatility", "max drawdown": "max-drawdown", "max dd": "max-drawdown", "drawdown": "drawdown",
    "profit factor": "profit-factor", "win rate": "win-rate", "expectancy": "expectancy",
    "average win": "average-win", "avg win": "average-win", "average loss": "average-loss", "avg loss": "average-loss",
    "r": "r-multiple", "r multiple": "r-multiple", "avg r": "r-multiple", "payoff ratio": "payoff-ratio",
    "payoff": "payoff-ratio", "beta": "beta", "alpha": "alpha", "correlation": "correlation",
    # orders
    "market": "market-order", "limit": "limit-order", "stop": "stop-order", "stop limit": "stop-limit-order",
    "stop-limit": "stop-limit-order", "trailing stop": "trailing-stop", "bracket": "bracket-order", "oco": "oco-order",
    "tif": "time-in-force", "time in force": "time-in-force", "day": "day-order", "gtc": "gtc", "ioc": "ioc",
    "fok": "fok", "risk": "position-sizing", "stop loss": "stop-order",
    # indicators and studies
    "sma": "sma", "ema": "ema", "wma": "wma", "rsi": "rsi", "macd": "macd", "bollinger bands": "bollinger-bands",
    "bb": "bollinger-bands", "bbands": "bollinger-bands", "stochastic": "stochastic-oscillator", "atr": "atr",
    "adx": "adx", "obv": "obv", "vwap": "vwap", "ichimoku": "ichimoku-cloud", "ichimoku cloud": "ichimoku-cloud",
    "parabolic sar": "parabolic-sar", "cci": "cci", "williams %r": "williams-r", "mfi": "mfi",
    "momentum": "momentum", "roc": "rate-of-change", "keltner channel": "keltner-channel",
    "donchian channel": "donchian-channel",
    # options
    "delta": "delta", "gamma": "gamma", "theta": "theta", "vega": "vega", "rho": "rho", "iv": "implied-volatility",
    "implied volatility": "implied-volatility", "strike": "strike-price", "expiry": "expiration",
    "expiration": "expiration", "open interest": "open-interest", "oi": "open-interest", "premium": "premium",
    # chart types
    "candles": "candlestick", "candlestick": "candlestick", "heikin-ashi": "heikin-ashi", "heikin ashi": "heikin-ashi",
    "renko": "renko",
}
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
    return f"<div style='max-width: 380px'>{out}<br><i>What's this? (right-click) opens the Glossary</i></div>"


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
        if obj.toolTip():
            return False  # the widget explains itself
        try:
            text = self.text_at(obj, event.pos())
            term = term_for(text, self.glossary()) if text and len(text) < 60 else None
        except RuntimeError:  # a widget being deleted
            return False
        if term is None:
            return False
        self.shown.append(term.id)
        QToolTip.showText(event.globalPos(), term_html(term), obj)
        return True
