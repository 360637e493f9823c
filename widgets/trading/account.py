"""The account chooser and the Account dock (money of the selected account, equity curve)."""
from __future__ import annotations

import time
from decimal import Decimal

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from engine.formatting import money, percent
from engine.paper.account import AccountSummary
from widgets import style
from widgets.chart import PriceAxis
from widgets.trading.blotters import SessionView, hint
from widgets.trading.fmt import ZERO, pnl_color
from widgets.trading.session import TradingSession


class AccountChooser(QWidget):
    """The account combo box plus a "New…" button (used by the ticket and the account dock)."""

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.box = QComboBox()
        self.box.setObjectName("accountChooser")
        self.box.setToolTip("Paper account")
        self.box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.new_btn = QToolButton(text="New…", toolTip="Create a paper account (name, starting cash, cash or margin)")
        self.new_btn.setObjectName("newAccountButton")
        self.new_btn.clicked.connect(self.new_account)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.box, 1)
        lay.addWidget(self.new_btn)
        self.box.currentTextChanged.connect(self._on_chosen)
        session.accounts_changed.connect(self.reload)
        session.account_selected.connect(self._on_selected)
        self.reload()

    def reload(self) -> None:
        self.box.blockSignals(True)
        self.box.clear()
        self.box.addItems(self.session.accounts())
        self.box.setCurrentText(self.session.account)
        self.box.blockSignals(False)

    def _on_chosen(self, name: str) -> None:
        if name:
            self.session.set_account(name)

    def _on_selected(self, name: str) -> None:
        if self.box.findText(name) < 0:
            self.reload()
        self.box.blockSignals(True)
        self.box.setCurrentText(name)
        self.box.blockSignals(False)

    def new_account(self) -> None:
        from widgets.trading.dialogs import NewAccountDialog

        NewAccountDialog(self.session, self).exec()


class AccountWidget(SessionView):
    """The chosen account's money (equity, cash, buying power, P&L) and its equity curve."""

    FIELDS = (
        ("equity", "Equity"), ("day_pnl", "Day P&L"),
        ("cash", "Cash"), ("day_realized", "Realized today"),
        ("buying_power", "Buying power"), ("day_fees", "Fees today"),
        ("buying_power_used", "Buying power used"), ("unrealized_pnl", "Unrealized P&L"),
        ("market_value", "Market value"), ("realized_pnl", "Realized P&L"),
        ("total_pnl", "Total P&L"), ("fees", "Fees paid"),
        ("return", "Return"),
    )
    TIPS = {
        "day_pnl": "Equity now minus equity at the start of today (New York): realized and unrealized, after fees",
        "day_realized": "Realized P&L of today's closing fills (FIFO), before fees",
        "buying_power_used": "What positions and working orders take of the buying power (share of the total)",
        "realized_pnl": "Realized P&L since the account was opened, before fees",
        "fees": "Commissions paid since the account was opened",
    }

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.setObjectName("accountWidget")
        self.chooser = AccountChooser(session)
        self.kind = QLabel("")
        self.kind.setObjectName("accountKindLabel")
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        for i, (key, title) in enumerate(self.FIELDS):
            name = QLabel(title)
            name.setObjectName("hint")
            name.setToolTip(self.TIPS.get(key, ""))
            val = QLabel("—")
            val.setObjectName(f"account_{key}")
            val.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            val.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            f = val.font()
            f.setBold(True)
            val.setFont(f)
            self.values[key] = val
            r, c = divmod(i, 2)
            grid.addWidget(name, r, c * 3)
            grid.addWidget(val, r, c * 3 + 1)
        grid.setColumnMinimumWidth(2, 18)
        self.quote_note = hint("")
        self.curve_plot = pg.PlotWidget()
        self.curve_plot.setObjectName("equityCurve")
        self.curve_plot.setMinimumHeight(90)
        self.curve_plot.setMinimumWidth(160)
        self.curve_plot.setMenuEnabled(False)
        self.curve_plot.hideButtons()
        # equity with thousands separators ("100,150", not pyqtgraph's "100150")
        self.curve_plot.setAxisItems({"bottom": pg.DateAxisItem(orientation="bottom"), "right": PriceAxis("right")})
        self.curve_plot.showAxis("right")
        self.curve_plot.hideAxis("left")
        self.curve = self.curve_plot.plot([], [], stepMode=None)
        self.base_line = pg.InfiniteLine(angle=0, movable=False)
        self.curve_plot.addItem(self.base_line, ignoreBounds=True)
        self.points: list[tuple[int, Decimal]] = []

        top = QHBoxLayout()
        top.addWidget(QLabel("Account"))
        top.addWidget(self.chooser, 1)
        self.kind.setObjectName("hint")
        left = QVBoxLayout()
        left.addLayout(top)
        left.addWidget(self.kind)
        left.addLayout(grid)
        left.addWidget(self.quote_note)
        left.addStretch(1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.addLayout(left, 0)
        lay.addWidget(self.curve_plot, 1)
        session.summary_changed.connect(self._on_summary)
        session.equity_point.connect(self._on_equity_point)
        session.quotes_changed.connect(self._sync_note)
        style.theme_signals().changed.connect(self._on_theme)
        self._on_theme(style.CHART)
        self.reload()

    def reload(self) -> None:
        if self.session.summary is not None:
            self._on_summary(self.session.summary)
        self.points = []
        self.session.load_equity_curve(self._on_curve)
        self._sync_note()

    def _sync_note(self) -> None:
        self.quote_note.setText(f"Paper trading on {self.session.quote_label}; no real money.")
        self.quote_note.setToolTip(self.session.quote_description)

    def _on_curve(self, points: list[tuple[int, Decimal]]) -> None:
        self.points = list(points)
        self._draw_curve()

    def _on_equity_point(self, t_ms: int, equity: Decimal) -> None:
        if not self.points or t_ms >= self.points[-1][0]:
            self.points.append((t_ms, equity))
            self._draw_curve()

    def _draw_curve(self) -> None:
        if not self.points:
            self.curve.setData([], [])
            return
        x = np.array([t / 1000 for t, _ in self.points], dtype=float)
        y = np.array([float(e) for _, e in self.points], dtype=float)
        if len(x) == 1:  # one point: draw a flat line to now so the start is visible
            x = np.r_[x, max(x[0] + 60, time.time())]
            y = np.r_[y, y]
        self.curve.setData(x, y)
        lo, hi = float(y.min()), float(y.max())
        pad = max((hi - lo) * 0.1, abs(hi) * 0.002, 1.0)
        self.curve_plot.setYRange(lo - pad, hi + pad, padding=0)
        s = self.session.summary
        if s is not None:
            self.base_line.setPos(float(s.initial_cash))

    def _on_summary(self, s: AccountSummary) -> None:
        total = s.equity - s.initial_cash
        ret = (total / s.initial_cash * 100) if s.initial_cash else ZERO
        day = self.session.day_pnl()
        day_real = getattr(s, "day_realized_pnl", ZERO)
        used = getattr(s, "buying_power_used", ZERO)
        whole = used + max(s.buying_power, ZERO)
        used_pct = f" ({percent(used / whole * 100, signed=False, places=0)})" if whole > 0 else ""
        vals = {
            "equity": money(s.equity), "cash": money(s.cash), "buying_power": money(s.buying_power),
            "market_value": money(s.market_value), "total_pnl": money(total, True),
            "return": percent(ret), "realized_pnl": money(s.realized_pnl, True),
            "unrealized_pnl": money(s.unrealized_pnl, True), "fees": money(s.fees),
            "day_pnl": money(day, True), "day_realized": money(day_real, True),
            "day_fees": money(getattr(s, "day_fees", ZERO)), "buying_power_used": money(used) + used_pct,
        }
        colors = {"total_pnl": total, "return": total, "realized_pnl": s.realized_pnl, "unrealized_pnl": s.unrealized_pnl,
                  "day_pnl": day, "day_realized": day_real}
        for k, v in vals.items():
            lbl = self.values[k]
            lbl.setText(v)
            c = pnl_color(colors[k]) if k in colors else None
            lbl.setStyleSheet(f"color: {c.name()};" if c is not None else "")
        self.kind.setText(f"{s.kind.value} account · started with {money(s.initial_cash)}")

    def _on_theme(self, colors: style.ChartColors) -> None:
        self.curve_plot.setBackground(colors.background)
        for ax in ("right", "bottom"):
            self.curve_plot.getAxis(ax).setPen(pg.mkPen(colors.foreground))
            self.curve_plot.getAxis(ax).setTextPen(pg.mkPen(colors.foreground))
        self.curve_plot.showGrid(x=True, y=True, alpha=colors.grid_alpha)
        self.curve.setPen(pg.mkPen(colors.overlays[1], width=2))
        self.base_line.setPen(pg.mkPen(colors.crosshair, style=Qt.PenStyle.DashLine))


__all__ = ["AccountChooser", "AccountWidget"]
