"""The options dock: one underlying's chain (expiry tabs, calls | strike | puts), its smile,
the fitted surface with its term structure, and the strategy builder.

The chain and its analysis (bid/ask IVs, SVI surface) are computed in a worker
(``TaskSubmitter``); ``show_result`` only pivots arrays and redraws, so a ~5,000-contract
chain refreshes within the 50 ms budget (bench ``options.dock_refresh_5k``). The source line
says where the quotes come from: the demo chain, or Yahoo (delayed) with the age of the
cached quotes and why a refresh failed when it did.
"""
from __future__ import annotations

import datetime as _dt
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QTabBar,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.options.analysis import ChainAnalysis, analyse
from engine.options.chain import OptionChain
from engine.options.yahoo import ChainResult
from widgets.options.chain_table import DEFAULT_GREEKS, GREEK_FIELDS, ChainTableModel, ChainTableView
from widgets.options.strategy_builder import StrategyBuilder
from widgets.tasks import TaskSubmitter

log = logging.getLogger(__name__)

ChainLoader = Callable[[str, bool], ChainResult]


def load_and_analyse(get: ChainLoader, symbol: str, refresh: bool = False) -> tuple[ChainResult, ChainAnalysis]:
    """Worker body: the chain (service rules) and its analysis."""
    res = get(symbol, refresh)
    return res, analyse(res.chain)


class OptionsWidget(QWidget):
    """See module docstring. ``get(symbol, refresh)`` is ``ChainService.get``."""

    chain_shown = Signal(str)  # symbol

    def __init__(self, get: ChainLoader, tasks: TaskSubmitter, parent: QWidget | None = None, *,
                 trading: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("optionsWidget")
        #: the paper trading session (``widgets.trading.session.TradingSession``): "Send to
        #: ticket" and the chain's Buy / Sell; None: analytics only
        self.trading = trading
        self.sender_: Any = None
        self._get = get
        self._tasks = tasks
        self.symbol = ""
        self.result: ChainResult | None = None
        self.analysis: ChainAnalysis | None = None
        self.expiries: list[_dt.date] = []
        self._pending: Any = None

        self.symbol_edit = QLineEdit(placeholderText="symbol", maximumWidth=110, objectName="optionsSymbol")
        self.refresh_btn = QPushButton("Refresh")
        self.greeks_btn = QToolButton(text="Greeks ▾")
        self.greeks_btn.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.greeks_btn)
        self._greek_actions: dict[str, QAction] = {}
        for g, (label, _f) in GREEK_FIELDS.items():
            act = QAction(f"{g} ({label})", menu, checkable=True, checked=g in DEFAULT_GREEKS)
            act.toggled.connect(self._on_greeks_toggled)
            menu.addAction(act)
            self._greek_actions[g] = act
        self.greeks_btn.setMenu(menu)
        self.status = QLabel("Open a symbol to see its option chain.", wordWrap=True)
        self.tabs_exp = QTabBar(objectName="optionsExpiries")
        self.tabs_exp.setExpanding(False)
        self.tabs_exp.setUsesScrollButtons(True)

        self.model = ChainTableModel(self)
        self.table = ChainTableView(objectName="optionsChain")
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectItems)

        self.smile = pg.PlotWidget()
        self.smile.showGrid(x=True, y=True, alpha=0.15)
        self.smile.setLabel("bottom", "strike")
        self.smile.setLabel("left", "implied vol %")
        self.smile.addLegend(offset=(10, 10))
        self.smile_bars = pg.ErrorBarItem(pen=pg.mkPen("#8891a0", width=1), beam=0.0)
        self.smile.addItem(self.smile_bars)
        self.smile_calls = pg.ScatterPlotItem(size=6, brush=pg.mkBrush("#26a69a"), pen=None, name="call mid")
        self.smile_puts = pg.ScatterPlotItem(size=6, brush=pg.mkBrush("#ef5350"), pen=None, name="put mid")
        self.smile.addItem(self.smile_calls)
        self.smile.addItem(self.smile_puts)
        self.smile_fit = self.smile.plot([], [], pen=pg.mkPen("#f5c542", width=2), name="SVI fit")
        self.smile_spot = pg.InfiniteLine(angle=90, pen=pg.mkPen("#f5c542", style=Qt.PenStyle.DashLine),
                                          label="spot", labelOpts={"position": 0.95, "color": "#f5c542"})
        self.smile.addItem(self.smile_spot)
        self.smile_note = QLabel(wordWrap=True)

        self.heat = pg.PlotWidget()
        self.heat.setLabel("bottom", "log-moneyness ln(K/F)")
        self.heat.getAxis("bottom").enableAutoSIPrefix(False)
        self.heat.setLabel("left", "days to expiry")
        self.heat_img = pg.ImageItem()
        self.heat.addItem(self.heat_img)
        self.heat_bar = pg.ColorBarItem(values=(0, 100), colorMap=pg.colormap.get("viridis"), label="IV %")
        self.heat_bar.setImageItem(self.heat_img, insert_in=self.heat.getPlotItem())
        self.term = pg.PlotWidget()
        self.term.showGrid(x=True, y=True, alpha=0.15)
        self.term.setLabel("bottom", "days to expiry")
        self.term.setLabel("left", "ATM IV %")
        self.term_curve = self.term.plot([], [], pen=pg.mkPen("#42a5f5", width=2), symbol="o", symbolSize=6,
                                         symbolBrush="#42a5f5")
        self.surface_note = QLabel(wordWrap=True)

        self.builder = StrategyBuilder()

        top = QHBoxLayout()
        for w in (QLabel("Underlying"), self.symbol_edit, self.refresh_btn, self.greeks_btn):
            top.addWidget(w)
        top.addWidget(self.status, 1)
        self.views = QTabWidget(objectName="optionsViews")
        chain_page = self.table
        smile_page = QWidget()
        sl = QVBoxLayout(smile_page)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.smile, 1)
        sl.addWidget(self.smile_note)
        surface_page = QWidget()
        su = QVBoxLayout(surface_page)
        su.setContentsMargins(0, 0, 0, 0)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.heat)
        split.addWidget(self.term)
        su.addWidget(split, 1)
        su.addWidget(self.surface_note)
        self.views.addTab(chain_page, "Chain")
        self.views.addTab(smile_page, "Smile")
        self.views.addTab(surface_page, "Surface")
        self.views.addTab(self.builder, "Strategy")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.tabs_exp)
        lay.addWidget(self.views, 1)

        self.symbol_edit.returnPressed.connect(lambda: self.set_symbol(self.symbol_edit.text()))
        self.refresh_btn.clicked.connect(lambda: self.set_symbol(self.symbol or self.symbol_edit.text(), refresh=True))
        self.tabs_exp.currentChanged.connect(self._on_expiry_changed)
        if trading is not None:
            self._wire_trading(trading)

    # ------------------------------------------------------------------ paper trading
    def _wire_trading(self, trading: Any) -> None:
        from widgets.options.send import OptionOrderSender

        self.sender_ = OptionOrderSender(trading, self)
        self.sender_.sent.connect(self._on_options_sent)
        self.sender_.failed.connect(self._on_options_failed)
        self.builder.send_btn.setVisible(True)
        self.builder.send_requested.connect(self.sender_.send_legs)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_chain_menu)

    def contract_at(self, row: int, column: int) -> str | None:
        """The compact OCC symbol of the chain cell (row, column); None on the strike column."""
        is_call, _f = self.model._where(column)
        e = self.current_expiry
        if is_call is None or e is None or not 0 <= row < len(self.model.strikes) \
                or not self.model._present[is_call][row] or self.result is None:
            return None
        from engine.options.chain import occ_symbol

        return occ_symbol(self.result.chain.symbol, e, "call" if is_call else "put",
                          float(self.model.strikes[row])).replace(" ", "")

    def send_contract(self, side: str, symbol: str, qty: int = 1) -> None:
        """Place one contract through the same confirmation as a strategy."""
        if self.sender_ is not None:
            self.sender_.send_legs([(side, qty, symbol)])

    def _on_chain_menu(self, pos: Any) -> None:
        idx = self.table.indexAt(pos)
        sym = self.contract_at(idx.row(), idx.column()) if idx.isValid() else None
        if sym is None:
            return
        menu = QMenu(self)
        for side in ("buy", "sell"):
            act = menu.addAction(f"{side.capitalize()} 1 {sym} — send to ticket")
            act.triggered.connect(lambda _c=False, s=side: self.send_contract(s, sym))
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def _on_options_sent(self, views: tuple[Any, ...]) -> None:
        states = ", ".join(sorted({v.state.value for v in views}))
        self.builder.summary.setText(f"Sent {len(views)} order(s) to the paper broker: {states}. "
                                     "See Working Orders, Fills and Positions.")

    def _on_options_failed(self, text: str) -> None:
        self.builder.summary.setText(f"Not sent: {text}")

    # ------------------------------------------------------------------ loading
    def set_symbol(self, symbol: str, refresh: bool = False) -> None:
        """Load ``symbol``'s chain in a worker (the linked chart's symbol arrives here)."""
        sym = symbol.strip().upper()
        if not sym or (sym == self.symbol and not refresh and self.result is not None):
            return
        self.symbol = sym
        self.symbol_edit.setText(sym)
        self.status.setText(f"Loading the option chain of {sym}…")
        if self._pending is not None:
            self._pending.cancel()
        self._pending = self._tasks.submit(load_and_analyse, self._get, sym, refresh,
                                           label=f"Option chain {sym}", on_result=self._on_loaded,
                                           on_error=self._on_load_failed)

    def _on_loaded(self, bundle: tuple[ChainResult, ChainAnalysis]) -> None:
        res, an = bundle
        if res.chain.symbol != self.symbol:
            return  # an older request finished after a newer one was asked for
        self.show_result(res, an)

    def _on_load_failed(self, exc: BaseException) -> None:
        log.warning("option chain of %s: %s", self.symbol, exc)
        self.status.setText(f"No option chain for {self.symbol}: {exc}")

    # ------------------------------------------------------------------ drawing
    def show_result(self, res: ChainResult, analysis: ChainAnalysis) -> None:
        """Show a loaded chain (GUI thread; no solving here)."""
        self.result, self.analysis = res, analysis
        chain = res.chain
        keep = self.current_expiry
        self.expiries = chain.expiries()
        self.tabs_exp.blockSignals(True)
        while self.tabs_exp.count():
            self.tabs_exp.removeTab(0)
        for e in self.expiries:
            days = (e - chain.as_of).days
            self.tabs_exp.addTab(f"{e:%b %d '%y} ({days}d)")
        idx = self.expiries.index(keep) if keep in self.expiries else self._default_expiry_index(chain)
        self.tabs_exp.setCurrentIndex(idx)
        self.tabs_exp.blockSignals(False)
        extra = f"; {len(analysis.violations)} surface arbitrage violations" if analysis.violations else ""
        flagged = int((chain.flags != 0).sum())
        self.status.setText(f"{chain.symbol} {chain.spot:,.2f} · {len(chain):,} contracts ({flagged:,} flagged) · "
                            f"{res.label()}{extra}")
        self._show_surface()
        self._show_expiry()
        self.chain_shown.emit(chain.symbol)

    def _default_expiry_index(self, chain: OptionChain) -> int:
        # the first expiry at least a week out: the front weekly is mostly noise
        for i, e in enumerate(self.expiries):
            if (e - chain.as_of).days >= 7:
                return i
        return 0

    @property
    def current_expiry(self) -> _dt.date | None:
        i = self.tabs_exp.currentIndex()
        return self.expiries[i] if 0 <= i < len(self.expiries) else None

    def _on_expiry_changed(self, _i: int) -> None:
        self._show_expiry()

    def _show_expiry(self) -> None:
        if self.result is None:
            return
        chain = self.result.chain
        e = self.current_expiry
        if e is None:
            self.model.set_chain(None)
            return
        mask = chain.expiry == np.datetime64(e, "D")
        part = chain.select(expiry=e)
        self.model.set_chain(part)
        if 0 <= self.model.spot_row < self.model.rowCount():
            self.table.scrollTo(self.model.index(max(self.model.spot_row - 1, 0), self.model.strike_column),
                                QTableView.ScrollHint.PositionAtCenter)
        self._show_smile(part, mask)
        self.builder.set_chain(chain, self.analysis, e)

    def _show_smile(self, part: OptionChain, mask: np.ndarray) -> None:
        assert self.analysis is not None
        bid, ask = self.analysis.iv_bid[mask], self.analysis.iv_ask[mask]
        otm = np.where(part.is_call, part.strike >= part.spot, part.strike < part.spot)
        ok = part.usable & otm
        calls, puts = ok & part.is_call, ok & ~part.is_call
        self.smile_calls.setData(part.strike[calls], part.iv[calls] * 100)
        self.smile_puts.setData(part.strike[puts], part.iv[puts] * 100)
        bars = ok & np.isfinite(bid) & np.isfinite(ask)
        if bars.any():
            mid = part.iv[bars] * 100
            self.smile_bars.setData(x=part.strike[bars], y=mid, top=ask[bars] * 100 - mid, bottom=mid - bid[bars] * 100)
        else:
            self.smile_bars.setData(x=np.empty(0), y=np.empty(0), top=np.empty(0), bottom=np.empty(0))
        self.smile_spot.setValue(part.spot)
        t = float(part.years[0])
        surf = self.analysis.surface
        if surf is not None and part.strike.size:
            ks = np.linspace(float(part.strike.min()), float(part.strike.max()), 200)
            self.smile_fit.setData(ks, surf.iv(ks, t) * 100)
        else:
            self.smile_fit.setData([], [])
        self.smile_note.setText(
            "Out-of-the-money mids (American IV); bars span the bid and ask IVs; the line is the SVI surface "
            f"at {t * 365:.0f} days. {int((part.flags != 0).sum())} flagged quotes are left out.")

    def _show_surface(self) -> None:
        an = self.analysis
        if an is None or an.surface is None:
            self.heat_img.clear()
            self.term_curve.setData([], [])
            self.surface_note.setText(f"No surface: {an.surface_error if an else 'no chain'}")
            return
        surf = an.surface
        ts = surf.years
        span = max(max(abs(a), abs(b)) for a, b in an.quoted) if an.quoted else 0.5
        kx = np.linspace(-span, span, 101)
        tt = np.linspace(float(ts[0]), float(ts[-1]), 60)
        w = surf.total_variance(kx[:, None], tt[None, :])
        iv = np.sqrt(np.maximum(w, 0.0) / tt[None, :]) * 100
        if an.quoted:  # shown only where there are quotes (nearest fitted expiry's range)
            near = np.abs(tt[:, None] - ts[None, :]).argmin(axis=1)
            lo_k = np.array([an.quoted[j][0] for j in near])
            hi_k = np.array([an.quoted[j][1] for j in near])
            iv = np.where((kx[:, None] >= lo_k[None, :]) & (kx[:, None] <= hi_k[None, :]), iv, np.nan)
        self.heat_img.setImage(iv, autoLevels=False)
        lo, hi = (float(np.nanpercentile(iv, 1)), float(np.nanpercentile(iv, 99))) if np.isfinite(iv).any() \
            else (0.0, 100.0)
        self.heat_bar.setLevels((math.floor(lo), math.ceil(hi) if hi > lo else lo + 1))
        from PySide6.QtCore import QRectF

        self.heat_img.setRect(QRectF(float(kx[0]), float(tt[0] * 365), float(kx[-1] - kx[0]),
                                     float((tt[-1] - tt[0]) * 365) or 1.0))
        years, atm = an.term
        self.term_curve.setData(years * 365, atm * 100)
        viol = an.violations
        kinds = {v.kind for v in viol}
        vtext = ("no butterfly or calendar arbitrage found" if not viol else
                 f"{len(viol)} arbitrage violations within the quoted strikes ({', '.join(sorted(kinds))}), e.g. at "
                 f"{viol[0].years * 365:.0f} days, k = {viol[0].k:+.2f}")
        sk = surf.skew(float(ts[min(len(ts) - 1, int(np.searchsorted(ts, 30 / 365)))]))
        self.surface_note.setText(
            f"SVI per expiry ({len(ts)} fitted), total variance interpolated; {vtext}. 25Δ risk reversal "
            f"{sk['risk_reversal_25d'] * 100:+.1f} pts, butterfly {sk['butterfly_25d'] * 100:+.1f} pts "
            "(≈30 days).")

    # ------------------------------------------------------------------ settings
    def _on_greeks_toggled(self, _checked: bool) -> None:
        self.model.set_greeks(tuple(g for g, a in self._greek_actions.items() if a.isChecked()))

    def state(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "greeks": list(self.model.greeks), "view": self.views.currentIndex(),
                "template": self.builder.template.currentText()}

    def restore_state(self, state: dict[str, Any]) -> None:
        greeks = state.get("greeks")
        if isinstance(greeks, list):
            for g, a in self._greek_actions.items():
                a.setChecked(g in greeks)
        view = state.get("view")
        if isinstance(view, int) and 0 <= view < self.views.count():
            self.views.setCurrentIndex(view)
        tpl = state.get("template")
        if isinstance(tpl, str) and self.builder.template.findText(tpl) >= 0:
            self.builder.template.setCurrentText(tpl)
        sym = state.get("symbol")
        if isinstance(sym, str) and sym:
            self.set_symbol(sym)


def time_refresh(widget: OptionsWidget, res: ChainResult, analysis: ChainAnalysis, repeat: int = 5) -> float:
    """Best seconds of ``show_result`` + a synchronous repaint of the dock (the bench)."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        widget.show_result(res, analysis)
        widget.repaint()
        best = min(best, time.perf_counter() - t0)
    return best
