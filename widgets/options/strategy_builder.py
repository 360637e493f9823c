"""The strategy builder: a template (``engine.options.strategy``) or custom legs, the payoff
chart (at the first expiry and "today" moved by the date slider, breakevens and the
current price marked) and the position Greeks. Premiums are the chain's mids; values before
expiry are priced off the fitted surface (the engine's rules, ``Strategy.pnl``).
"""
from __future__ import annotations

import datetime as _dt
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.options import strategy as st
from engine.options.analysis import ChainAnalysis, template_strategy, with_chain_premiums
from engine.options.chain import OptionChain

CUSTOM = "custom"
GRID_POINTS = 401


def _money(x: float) -> str:
    return "unlimited" if math.isinf(x) else f"{x:,.0f}"


class StrategyBuilder(QWidget):
    """See module docstring. ``strategy`` and ``market`` are what is drawn."""

    strategy_changed = Signal()
    #: "Send to ticket": the option legs as [(side, contracts, OCC symbol)]
    send_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chain: OptionChain | None = None
        self.analysis: ChainAnalysis | None = None
        self.expiry: _dt.date | None = None
        self.strategy: st.Strategy | None = None
        self.market: st.Market | None = None
        self.breakevens: list[float] = []
        self._custom_legs: list[st.Leg] = []

        self.template = QComboBox(objectName="strategyTemplate")
        self.template.addItems(list(st.TEMPLATES) + [CUSTOM])
        self.template.setCurrentText("vertical")
        self.qty = QSpinBox(minimum=-50, maximum=50, value=1, objectName="strategyQty")
        self.kind = QComboBox()
        self.kind.addItems(["call", "put", "stock"])
        self.leg_qty = QSpinBox(minimum=-100, maximum=100, value=1)
        self.leg_strike = QDoubleSpinBox(decimals=2, minimum=0.01, maximum=1e6)
        self.add_leg = QPushButton("Add leg")
        self.clear_legs = QPushButton("Clear legs")
        self.send_btn = QPushButton("Send to ticket", objectName="strategySend",
                                    toolTip="Place the option legs with the paper broker (a confirmation first)")
        self.send_btn.setVisible(False)  # shown when the dock has a paper trading session
        self.legs = QTableWidget(0, 5)
        self.legs.setHorizontalHeaderLabels(["Type", "Qty", "Strike", "Days", "Premium"])
        self.legs.verticalHeader().setVisible(False)
        self.legs.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.legs.setMaximumHeight(150)
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="strategyDate")
        self.slider.setRange(0, 0)
        self.date_label = QLabel()
        self.summary = QLabel(wordWrap=True)
        self.greeks_label = QLabel(wordWrap=True)
        self.plot = pg.PlotWidget()
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "underlying price at the date")
        self.plot.setLabel("left", "P&L (position, $)")
        self.plot.addLegend(offset=(10, 10))
        self.zero = pg.InfiniteLine(0, angle=0, pen=pg.mkPen("#888", width=1))
        self.spot_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#f5c542", width=1, style=Qt.PenStyle.DashLine),
                                         label="spot", labelOpts={"position": 0.95, "color": "#f5c542"})
        self.expiry_curve = self.plot.plot([], [], pen=pg.mkPen("#42a5f5", width=2), name="at expiry")
        self.today_curve = self.plot.plot([], [], pen=pg.mkPen("#ff7043", width=2), name="today")
        self.be_points = pg.ScatterPlotItem(size=9, brush=pg.mkBrush("#ffffff"), pen=pg.mkPen("#42a5f5"),
                                            symbol="d")
        for item in (self.zero, self.spot_line, self.be_points):
            self.plot.addItem(item)
        self._be_lines: list[pg.InfiniteLine] = []

        top = QHBoxLayout()
        for w in (QLabel("Template"), self.template, QLabel("Qty"), self.qty, QLabel("   Leg"), self.kind,
                  self.leg_qty, self.leg_strike, self.add_leg, self.clear_legs):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.send_btn)
        date_row = QHBoxLayout()
        date_row.addWidget(QLabel("Date"))
        date_row.addWidget(self.slider, 1)
        date_row.addWidget(self.date_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.legs)
        lay.addWidget(self.summary)
        lay.addWidget(self.greeks_label)
        lay.addWidget(self.plot, 1)
        lay.addLayout(date_row)

        self.template.currentTextChanged.connect(lambda _t: self.rebuild())
        self.qty.valueChanged.connect(lambda _v: self.rebuild())
        self.add_leg.clicked.connect(self._on_add_leg_clicked)
        self.clear_legs.clicked.connect(self._on_clear_legs_clicked)
        self.slider.valueChanged.connect(self._on_slider_moved)
        self.send_btn.clicked.connect(self._on_send_clicked)

    # ------------------------------------------------------------------ inputs
    def set_chain(self, chain: OptionChain | None, analysis: ChainAnalysis | None, expiry: _dt.date | None) -> None:
        self.chain, self.analysis, self.expiry = chain, analysis, expiry
        if chain is not None and not self._custom_legs:
            self.leg_strike.setValue(float(chain.spot))
        self.rebuild()

    def _on_add_leg_clicked(self) -> None:
        if self.chain is None or self.expiry is None:
            return
        kind = self.kind.currentText()
        qty = int(self.leg_qty.value())
        if qty == 0:
            self.summary.setText("A leg needs a non-zero quantity.")
            return
        part = self.chain.select(expiry=self.expiry)
        ks = np.unique(part.strike)
        strike = float(ks[np.argmin(np.abs(ks - self.leg_strike.value()))])  # a listed strike
        self._custom_legs.append(st.Leg(kind, qty * (100 if kind == "stock" else 1))
                                 if kind == "stock" else st.Leg(kind, qty, strike, float(part.years[0])))
        self.template.setCurrentText(CUSTOM)
        self.rebuild()

    def _on_clear_legs_clicked(self) -> None:
        self._custom_legs.clear()
        self.rebuild()

    # ------------------------------------------------------------------ compute + draw
    def rebuild(self) -> None:
        """Build the strategy from the template (or custom legs) and redraw everything."""
        self.strategy = None
        self.market = self.analysis.market(self.chain) if (self.analysis and self.chain) else None
        if self.chain is None or self.expiry is None or self.market is None:
            self._clear(self.analysis.surface_error if self.analysis else "No chain.")
            return
        name = self.template.currentText()
        try:
            if name == CUSTOM:
                if not self._custom_legs:
                    self._clear("Add legs: type, quantity (negative = short) and strike, at the selected expiry.")
                    return
                raw = st.custom("custom", list(self._custom_legs))
            else:
                qty = int(self.qty.value()) or 1
                raw = template_strategy(name, self.chain, self.expiry, qty)
            self.strategy = with_chain_premiums(raw, self.chain, self.market)
        except ValueError as exc:
            self._clear(str(exc))
            return
        days = max(0, int(round(self.strategy.first_expiry * 365)))
        self.slider.blockSignals(True)
        self.slider.setRange(0, days)
        self.slider.setValue(min(self.slider.value(), days))
        self.slider.blockSignals(False)
        self._fill_legs()
        self._draw()
        self.strategy_changed.emit()

    def _clear(self, why: str) -> None:
        self.legs.setRowCount(0)
        self.expiry_curve.setData([], [])
        self.today_curve.setData([], [])
        self.be_points.setData([], [])
        for ln in self._be_lines:
            self.plot.removeItem(ln)
        self._be_lines = []
        self.breakevens = []
        self.summary.setText(why)
        self.greeks_label.setText("")

    def _fill_legs(self) -> None:
        assert self.strategy is not None
        self.legs.setRowCount(len(self.strategy.legs))
        for i, leg in enumerate(self.strategy.legs):
            vals = [leg.kind, f"{leg.qty:+d}", "" if leg.kind == "stock" else f"{leg.strike:g}",
                    "" if leg.kind == "stock" else f"{leg.years * 365:.0f}", f"{leg.premium:.2f}"]
            for j, v in enumerate(vals):
                self.legs.setItem(i, j, QTableWidgetItem(v))

    def grid(self) -> np.ndarray:
        """The underlying prices the curves are drawn over: ±40 % around spot and the strikes."""
        assert self.market is not None and self.strategy is not None
        ks = [leg.strike for leg in self.strategy.legs if leg.kind != "stock"]
        lo = min([self.market.spot * 0.6] + [k * 0.9 for k in ks])
        hi = max([self.market.spot * 1.4] + [k * 1.1 for k in ks])
        return np.linspace(lo, hi, GRID_POINTS)

    @property
    def elapsed_years(self) -> float:
        assert self.strategy is not None
        return min(self.slider.value() / 365.0, self.strategy.first_expiry)

    def _draw(self) -> None:
        assert self.strategy is not None and self.market is not None
        s, m = self.strategy, self.market
        x = self.grid()
        self.expiry_curve.setData(x, s.pnl(m, x))
        self._draw_today()
        self.breakevens = s.breakevens(m)
        for ln in self._be_lines:
            self.plot.removeItem(ln)
        self._be_lines = []
        for i, be in enumerate(self.breakevens):
            ln = pg.InfiniteLine(be, angle=90, pen=pg.mkPen("#42a5f5", width=1, style=Qt.PenStyle.DotLine),
                                 label=f"BE {be:.2f}", labelOpts={"position": 0.06 + 0.07 * (i % 2), "color": "#42a5f5"})
            self.plot.addItem(ln)
            self._be_lines.append(ln)
        self.be_points.setData(self.breakevens, [0.0] * len(self.breakevens))
        self.spot_line.setValue(m.spot)
        top, bottom = s.max_profit_loss(m)
        net = s.net_premium()
        try:
            pop = f"{s.probability_of_profit(m):.0%}"
        except ValueError:
            pop = "n/a"
        self.summary.setText(
            f"<b>{s.name}</b> — net {'debit' if net >= 0 else 'credit'} {abs(net):,.0f}; max profit "
            f"{_money(top)}, max loss {_money(-bottom) if not math.isinf(bottom) else 'unlimited'}; breakevens "
            + (", ".join(f"{b:.2f}" for b in self.breakevens) or "none")
            + f"; probability of profit {pop} (risk-neutral, from the surface)")
        self._show_greeks()

    def _draw_today(self) -> None:
        assert self.strategy is not None and self.market is not None
        x = self.grid()
        t = self.elapsed_years
        self.today_curve.setData(x, self.strategy.pnl(self.market, x, t))
        days = self.slider.value()
        if self.chain is not None:
            when = self.chain.as_of + _dt.timedelta(days=days)
            self.date_label.setText(f"{when:%Y-%m-%d} (+{days} d)")
        self.today_curve.opts["name"] = "today" if days == 0 else f"in {days} days"

    def _show_greeks(self) -> None:
        assert self.strategy is not None and self.market is not None
        g = self.strategy.greeks(self.market, self.elapsed_years)
        self.greeks_label.setText(
            f"Position Greeks: Δ {g['delta']:+,.1f} sh · Γ {g['gamma']:+,.2f} sh/$ · vega {g['vega']:+,.1f} $/pt · "
            f"Θ {g['theta']:+,.1f} $/day · ρ {g['rho']:+,.1f} $/pt")

    def order_legs(self) -> list[tuple[str, int, str]]:
        """The strategy's option legs as (side, contracts, OCC symbol); raises ``ValueError``
        with the reason (no strategy, a stock leg)."""
        if self.strategy is None or self.chain is None:
            raise ValueError("build a strategy first")
        from engine.options.legs import occ_legs

        return occ_legs(self.strategy, self.chain)

    def _on_send_clicked(self) -> None:
        try:
            legs = self.order_legs()
        except ValueError as exc:
            self.summary.setText(str(exc))
            return
        self.send_requested.emit(legs)

    def _on_slider_moved(self, _value: int) -> None:
        if self.strategy is None or self.market is None:
            return
        self._draw_today()
        self._show_greeks()
