"""Pieces both community docks show: the component scores with their weights, the metrics
line and the equity curve (pyqtgraph)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget

from engine.community.score import COMPONENTS, WEIGHTS

TITLES = {"performance": "Performance", "risk": "Risk", "consistency": "Consistency",
          "efficiency": "Efficiency", "community": "Community"}
TIPS = {
    "performance": "scale(CAGR, −10 %, +40 %)",
    "risk": "½ (100 − scale(|max drawdown|, 0, 50 %)) + ½ (100 − scale(volatility, 0, 60 %))",
    "consistency": "share of profitable months",
    "efficiency": "½ scale(Sharpe, 0, 3) + ½ scale(profit factor, 1, 3)",
    "community": "0.6 × Bayesian-shrunk rating (prior 3★, weight 5) + 0.2 × clones + 0.2 × followers",
}


def pct(v: Any) -> str:
    return "–" if v is None else f"{float(v) * 100:.1f}%"


def num(v: Any, digits: int = 2) -> str:
    return "–" if v is None else f"{float(v):.{digits}f}"


def metrics_text(m: dict[str, Any] | None) -> str:
    """CAGR, max drawdown, Sharpe, win rate, profit factor and trades in one line."""
    if not m:
        return "No results yet."
    return (f"CAGR {pct(m.get('cagr'))} · max drawdown {pct(m.get('max_drawdown'))} · Sharpe "
            f"{num(m.get('sharpe'))} · win rate {pct(m.get('win_rate'))} · profit factor "
            f"{num(m.get('profit_factor'))} · trades {m.get('trades', 0)}")


class ScoreView(QWidget):
    """The five components (bars 0–100) with their published weights, in-sample and
    out-of-sample side by side, and the totals."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scoreView")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        for col, text in enumerate(("Component", "Weight", "In-sample", "Out-of-sample")):
            h = QLabel(f"<b>{text}</b>")
            grid.addWidget(h, 0, col)
        self.bars: dict[tuple[str, str], QProgressBar] = {}
        for row, key in enumerate(COMPONENTS, start=1):
            name = QLabel(TITLES[key])
            name.setToolTip(TIPS[key])
            grid.addWidget(name, row, 0)
            grid.addWidget(QLabel(f"{WEIGHTS[key] * 100:.0f}%"), row, 1)
            for col, part in ((2, "in_sample"), (3, "out_of_sample")):
                bar = QProgressBar()
                bar.setRange(0, 100)
                bar.setFormat("%v")
                bar.setFixedHeight(16)
                bar.setToolTip(TIPS[key])
                grid.addWidget(bar, row, col)
                self.bars[(key, part)] = bar
        self.total = QLabel("")
        self.total.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.total.setWordWrap(True)
        grid.addWidget(self.total, len(COMPONENTS) + 1, 0, 1, 4)
        grid.setColumnStretch(2, 1)
        grid.setColumnStretch(3, 1)
        grid.setRowStretch(len(COMPONENTS) + 2, 1)
        self.show_card(None)

    def show_card(self, card: dict[str, Any] | None) -> None:
        """``card``: ``ScoreCard.as_dict()`` (local) or a service strategy's ``scorecard``."""
        card = card or {}
        for (key, part), bar in self.bars.items():
            comp = card.get(part) or {}
            v = comp.get(key)
            bar.setValue(int(round(float(v))) if v is not None else 0)
            bar.setEnabled(v is not None)
            bar.setFormat("%v" if v is not None else "–")
        ins = (card.get("in_sample") or {}).get("total")
        oos = (card.get("out_of_sample") or {}).get("total")
        src = {"live": "live paper results", "holdout": "last 30 % of the history"}.get(card.get("oos_source") or "", "")
        parts = [f"In-sample <b>{num(ins, 1)}</b>", f"out-of-sample <b>{num(oos, 1)}</b>" + (f" ({src})" if src else "")]
        if card.get("ranked"):
            parts.append(f"rank score <b>{num(card.get('rank_score'), 1)}</b>")
        elif card.get("reason"):
            parts.append(f"not ranked: {card['reason']}")
        self.total.setText(" · ".join(parts) if card else "No score yet.")


class EquityPlot(pg.PlotWidget):
    """Backtest (blue) and live paper (orange) equity over time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, axisItems={"bottom": pg.DateAxisItem()})
        self.setObjectName("equityPlot")
        self.setMinimumHeight(140)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.addLegend(offset=(8, 8))
        self.backtest = self.plot([], [], pen=pg.mkPen("#42a5f5", width=2), name="backtest")
        self.live = self.plot([], [], pen=pg.mkPen("#ffa726", width=2), name="live paper")

    def show_curves(self, backtest: Sequence[Sequence[float]], live: Sequence[Sequence[float]] = ()) -> None:
        """Each a sequence of (epoch s, equity dollars)."""
        for item, pts in ((self.backtest, backtest), (self.live, live)):
            if pts:
                item.setData([float(p[0]) for p in pts], [float(p[1]) for p in pts])
            else:
                item.setData([], [])
        self.enableAutoRange()
