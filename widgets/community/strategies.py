"""The My strategies dock: edit a strategy's rules, backtest it on a universe in a worker, and
publish, share (public / unlisted link / private) or revoke it.

A thin view over the community service it receives (``sync.strategies.CommunityService``):
the list is the local store; Save validates and stores (and updates the service's copy of a
published strategy); Backtest runs ``backtest_universe`` in the app's worker pattern and shows
the equity curve, the metrics and the score preview (the service adds the community component);
Publish sends the strategy and its last backtest; Share makes it public or an unlisted link
(the token is shown once, to copy), Revoke makes it private at once.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.community.strategies import CATEGORIES, TIMEFRAMES, StrategyDef, StrategyError
from widgets.community.common import EquityPlot, ScoreView, num, pct
from widgets.tasks import CancellableTask, TaskSubmitter

log = logging.getLogger(__name__)

SIZING = (("fixed_qty", "Fixed quantity (shares)"), ("percent_equity", "% of equity"),
          ("risk_per_trade", "Risk % per trade"))
NEW = StrategyDef("New strategy", "trend_following", "crosses_above(sma(close, 10), sma(close, 30))",
                  "crosses_below(sma(close, 10), sma(close, 30))", "percent_equity", 10.0, stop_loss_pct=8.0)


def _optional(spin: QDoubleSpinBox) -> float | None:
    return float(spin.value()) if spin.value() > 0 else None


class MyStrategiesWidget(QWidget):
    """My strategies. ``service``: a ``CommunityService``; ``tasks`` runs the slow calls."""

    strategy_saved = Signal(object)  # StrategyDef
    backtest_finished = Signal(object)  # UniverseBacktest
    published = Signal(object)  # the service's detail dict
    shared = Signal(object)  # the service's share answer
    live_stepped = Signal(object)  # list of engine.community.strategies.LiveAction
    #: how often a live run evaluates its rules (ms)
    LIVE_INTERVAL_MS = 60_000

    def __init__(self, service: Any, tasks: TaskSubmitter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("myStrategies")
        self.service = service
        self.tasks = tasks
        self.current: StrategyDef | None = None
        self.task: CancellableTask | None = None
        self.last_token = ""

        # ---- list
        self.list = QListWidget()
        self.list.setObjectName("strategyList")
        self.list.currentItemChanged.connect(self._on_list_current_changed)
        new_btn = QPushButton("New")
        new_btn.clicked.connect(self.new_strategy)
        self.delete_btn = QPushButton("Delete")
        self.delete_btn.clicked.connect(self.delete_current)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(QLabel("<b>My strategies</b>"))
        lv.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(new_btn)
        row.addWidget(self.delete_btn)
        lv.addLayout(row)

        # ---- form
        self.name = QLineEdit()
        self.category = QComboBox()
        for key, label in CATEGORIES.items():
            self.category.addItem(label, key)
        self.entry = QPlainTextEdit()
        self.entry.setFixedHeight(44)
        self.entry.setPlaceholderText("a condition, e.g. crosses_above(sma(close, 10), sma(close, 30))")
        self.exit = QPlainTextEdit()
        self.exit.setFixedHeight(44)
        self.exit.setPlaceholderText("optional: a condition to sell, e.g. close < sma(close, 30)")
        self.sizing = QComboBox()
        for key, label in SIZING:
            self.sizing.addItem(label, key)
        self.sizing_value = QDoubleSpinBox(decimals=2, minimum=0.01, maximum=1_000_000.0, value=10.0)
        self.risk_stop = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=99.0, value=5.0, suffix=" %")
        self.risk_stop.setToolTip("risk per trade: the protective stop's distance below the entry")
        self.sizing.currentIndexChanged.connect(self._on_sizing_changed)
        sizing_row = QHBoxLayout()
        sizing_row.addWidget(self.sizing, 2)
        sizing_row.addWidget(self.sizing_value, 1)
        sizing_row.addWidget(QLabel("stop"))
        sizing_row.addWidget(self.risk_stop, 1)
        self.stop_loss = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=99.0, suffix=" %", specialValueText="none")
        self.take_profit = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=999.0, suffix=" %", specialValueText="none")
        exits_row = QHBoxLayout()
        exits_row.addWidget(QLabel("stop loss"))
        exits_row.addWidget(self.stop_loss)
        exits_row.addWidget(QLabel("target"))
        exits_row.addWidget(self.take_profit)
        self.timeframe = QComboBox()
        self.timeframe.addItems(list(TIMEFRAMES))
        self.universe = QComboBox(editable=True)
        self.universe.setToolTip("demo, imported, sp500, nasdaq100, watchlist:NAME or symbol:TICKER")
        try:
            for key, label in self.service.universes():
                self.universe.addItem(label, key)
        except Exception as exc:  # noqa: BLE001 - a store without watchlists: the plain keys still work
            log.warning("universes unavailable: %s", exc)
        tf_row = QHBoxLayout()
        tf_row.addWidget(self.timeframe)
        tf_row.addWidget(self.universe, 1)
        self.description = QLineEdit()
        self.description.setPlaceholderText("what it does, in a sentence (shown on the leaderboard)")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Category", self.category)
        form.addRow("Entry", self.entry)
        form.addRow("Exit", self.exit)
        form.addRow("Sizing", sizing_row)
        form.addRow("Exits", exits_row)
        form.addRow("Bars / universe", tf_row)
        form.addRow("Description", self.description)

        self.save_btn = QPushButton("Save")
        self.save_btn.clicked.connect(self.save)
        self.backtest_btn = QPushButton("Backtest")
        self.backtest_btn.clicked.connect(self.backtest)
        self.publish_btn = QPushButton("Publish")
        self.publish_btn.setToolTip("send the strategy and its last backtest to the service (private until shared)")
        self.publish_btn.clicked.connect(self.publish)
        self.share_btn = QToolButton()
        self.share_btn.setText("Share")
        self.share_btn.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.share_btn)
        menu.addAction("Public (on the leaderboard)", lambda: self.share("public"))
        menu.addAction("Unlisted link (30 days)", lambda: self.share("unlisted"))
        menu.addAction("Private", lambda: self.share("private"))
        self.share_btn.setMenu(menu)
        self.revoke_btn = QPushButton("Revoke")
        self.revoke_btn.setToolTip("make it private now: off the leaderboard, its link stops working")
        self.revoke_btn.clicked.connect(self.revoke)
        self.live_btn = QPushButton("Run live (paper)")
        self.live_btn.setCheckable(True)
        self.live_btn.setToolTip("run the rules on each new bar in the paper account 'strategy: NAME' "
                                 "(orders through the ticket's checks); Publish then sends its results too")
        self.live_btn.toggled.connect(self._on_live_toggled)
        self.live: Any = None
        self._live_busy = False
        self.live_timer = QTimer(self)
        self.live_timer.setInterval(self.LIVE_INTERVAL_MS)
        self.live_timer.timeout.connect(self.live_round)
        buttons = QHBoxLayout()
        for b in (self.save_btn, self.backtest_btn, self.publish_btn, self.share_btn, self.revoke_btn, self.live_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.status = QLabel("")
        self.status.setObjectName("strategyStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.metrics = QLabel("Backtest to see the equity curve, the metrics and the score.")
        self.metrics.setWordWrap(True)
        self.plot = EquityPlot()
        self.score = ScoreView()

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addLayout(form)
        rv.addLayout(buttons)
        rv.addWidget(self.status)
        rv.addWidget(self.metrics)
        results = QHBoxLayout()
        results.addWidget(self.plot, 3)
        results.addWidget(self.score, 2)
        rv.addLayout(results, 1)
        # the editor scrolls rather than holding the dock (and so the window) at its full height
        right_scroll = QScrollArea()
        right_scroll.setWidgetResizable(True)
        right_scroll.setFrameShape(QFrame.Shape.NoFrame)
        right_scroll.setWidget(right)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right_scroll)
        split.setStretchFactor(1, 1)
        split.setSizes([200, 700])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(split)
        self.reload()
        if self.list.count() == 0:
            self.edit(NEW)
        self._on_sizing_changed()

    # ------------------------------------------------------------------ list and form
    def reload(self, select: int | None = None) -> None:
        """Refill the list from the local store (keeping ``select``, an id, current)."""
        self.list.blockSignals(True)
        self.list.clear()
        current = None
        for s in self.service.strategies():
            badge = {"public": " · public", "unlisted": " · link"}.get(s.visibility, "")
            item = QListWidgetItem(s.name + (badge if s.remote_id is not None else ""))
            item.setData(Qt.ItemDataRole.UserRole, s.id)
            self.list.addItem(item)
            if s.id == select:
                current = item
        self.list.blockSignals(False)
        if current is not None:
            self.list.setCurrentItem(current)
        elif self.list.count() and select is None:
            self.list.setCurrentRow(0)

    def _on_list_current_changed(self, item: QListWidgetItem | None, _prev: Any) -> None:
        if item is None:
            return
        sid = item.data(Qt.ItemDataRole.UserRole)
        s = next((x for x in self.service.strategies() if x.id == sid), None)
        if s is not None:
            self.edit(s)

    def _on_sizing_changed(self, *_a: Any) -> None:
        kind = self.sizing.currentData()
        self.risk_stop.setEnabled(kind == "risk_per_trade")
        self.sizing_value.setSuffix(" shares" if kind == "fixed_qty" else " %")
        self.sizing_value.setDecimals(0 if kind == "fixed_qty" else 2)

    def edit(self, s: StrategyDef) -> None:
        """Show ``s`` in the form."""
        self.current = s
        self.name.setText(s.name)
        self.category.setCurrentIndex(max(0, self.category.findData(s.category)))
        self.entry.setPlainText(s.entry)
        self.exit.setPlainText(s.exit or "")
        self.sizing.setCurrentIndex(max(0, self.sizing.findData(s.sizing_kind)))
        self._on_sizing_changed()
        self.sizing_value.setValue(float(s.sizing_value))
        self.risk_stop.setValue(float(s.risk_stop_pct or 0))
        self.stop_loss.setValue(float(s.stop_loss_pct or 0))
        self.take_profit.setValue(float(s.take_profit_pct or 0))
        self.timeframe.setCurrentText(s.timeframe)
        k = self.universe.findData(s.universe)
        if k >= 0:
            self.universe.setCurrentIndex(k)
        else:
            self.universe.setEditText(s.universe or "demo")
        self.description.setText(s.description)
        bt = s.results.get("backtest") or {}
        pts = bt.get("points") or []
        self.plot.show_curves([(p[0], p[1] / 100) for p in pts], [(p[0], p[1] / 100) for p in
                                                                   (s.results.get("live") or {}).get("points") or []])
        self.metrics.setText(f"Last backtest on {s.results.get('backtest_universe', '?')}: {len(bt.get('trades') or [])} "
                             "trades." if pts else "Backtest to see the equity curve, the metrics and the score.")
        self.score.show_card(s.results.get("score"))
        published = s.remote_id is not None
        self.share_btn.setEnabled(published)
        self.revoke_btn.setEnabled(published and s.visibility != "private")
        self.delete_btn.setEnabled(s.id is not None)
        where = {"public": "public on the leaderboard", "unlisted": "shared by link", "private": "private"}
        self._say(f"Published ({where.get(s.visibility, s.visibility)})." if published else
                  "Not published." if s.id is not None else "New strategy: Save to keep it.")

    def universe_key(self) -> str:
        i = self.universe.currentIndex()
        if i >= 0 and self.universe.itemText(i) == self.universe.currentText():
            return str(self.universe.itemData(i))
        return self.universe.currentText().strip()

    def form_strategy(self) -> StrategyDef:
        """The form as a definition (the current one's id, results and service state kept)."""
        base = self.current or NEW
        return replace(
            base, name=self.name.text(), category=str(self.category.currentData()), entry=self.entry.toPlainText(),
            exit=self.exit.toPlainText().strip() or None, sizing_kind=str(self.sizing.currentData()),
            sizing_value=float(self.sizing_value.value()),
            risk_stop_pct=_optional(self.risk_stop) if self.sizing.currentData() == "risk_per_trade" else None,
            stop_loss_pct=_optional(self.stop_loss), take_profit_pct=_optional(self.take_profit),
            timeframe=self.timeframe.currentText(), universe=self.universe_key(), description=self.description.text())

    def new_strategy(self) -> None:
        names = {s.name for s in self.service.strategies()}
        name, k = "New strategy", 2
        while name in names:
            name, k = f"New strategy {k}", k + 1
        self.list.clearSelection()
        self.edit(replace(NEW, name=name))

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #e57373;" if error else "")

    # ------------------------------------------------------------------ commands
    def save(self) -> StrategyDef | None:
        """Validate and store the form (in a worker when the service copy is updated too)."""
        try:
            s = self.form_strategy().validate()
        except StrategyError as exc:
            self._say(f"Cannot save: {exc}", error=True)
            return None
        if s.remote_id is None:
            try:
                saved: StrategyDef = self.service.save(s)
            except StrategyError as exc:
                self._say(f"Cannot save: {exc}", error=True)
                return None
            self._saved(saved)
            return saved
        self._busy("Saving…")
        self.task = self.tasks.submit(self.service.save, s, label="Saving strategy", on_result=self._saved,
                                      on_error=self._failed("Cannot save"), on_finished=self._idle)
        return None

    def _saved(self, s: StrategyDef) -> None:
        self.reload(select=s.id)
        self.edit(s)
        self._say(f"Saved {s.name!r}.")
        self.strategy_saved.emit(s)

    def delete_current(self) -> None:
        s = self.current
        if s is None or s.id is None:
            return
        self._busy("Deleting…")
        self.task = self.tasks.submit(self.service.delete, s, label="Deleting strategy",
                                      on_result=lambda _r: self._after_delete(), on_error=self._failed("Cannot delete"),
                                      on_finished=self._idle)

    def _after_delete(self) -> None:
        self.current = None
        self.reload()
        if self.list.count() == 0:
            self.edit(NEW)
        self._say("Deleted.")

    def backtest(self) -> None:
        """Save, then backtest on the chosen universe in a worker."""
        s = self.save() if (self.current is None or self.current.remote_id is None) else self.current
        if s is None or s.id is None:
            return
        self._busy(f"Backtesting on {s.universe}…")
        self.task = self.tasks.submit(_backtest, self.service, s, label="Backtesting strategy",
                                      on_result=self._on_backtest_returned, on_error=self._failed("The backtest failed"),
                                      on_finished=self._idle)

    def _on_backtest_returned(self, out: tuple[StrategyDef, Any]) -> None:
        s, bt = out
        self.reload(select=s.id)
        self.edit(s)
        self.plot.show_curves(list(zip(bt.time.tolist(), bt.equity.tolist())))
        m = bt.metrics
        self.metrics.setText(f"{len(bt.symbols)} symbols · final equity {float(bt.final_equity):,.2f} from "
                             f"{float(bt.initial_cash):,.0f} · return {pct(m.get('total_return'))} · max drawdown "
                             f"{pct(m.get('max_drawdown'))} · win rate {pct(m.get('win_rate'))} · profit factor "
                             f"{num(m.get('profit_factor'))} · trades {m.get('trades', 0)}")
        self.score.show_card(bt.score)
        self._say(f"Backtested on {len(bt.symbols)} symbols: {len(bt.trades)} trades."
                  + (" Publish to put it on the leaderboard." if bt.score.get("ranked") else
                     f" {bt.score.get('reason', '')}."))
        self.backtest_finished.emit(bt)

    def publish(self) -> None:
        s = self.current
        if s is None or s.id is None:
            self._say("Save and backtest the strategy first.", error=True)
            return
        live = self.live.results() if self.live is not None and self.live.strategy.id == s.id else None
        self._busy("Publishing…")
        self.task = self.tasks.submit(self.service.publish, s, live, label="Publishing strategy",
                                      on_result=self._on_published, on_error=self._failed("Cannot publish"),
                                      on_finished=self._idle)

    def _on_published(self, detail: dict[str, Any]) -> None:
        self.score.show_card(detail.get("scorecard"))
        self.reload(select=self.current.id if self.current else None)
        if self.current is not None:
            fresh = next((x for x in self.service.strategies() if x.id == self.current.id), None)
            if fresh is not None:
                self.edit(fresh)
        self.score.show_card(detail.get("scorecard"))
        ranked = "ranked" if detail.get("ranked") else "not ranked"
        self._say(f"Published ({ranked}; score {detail.get('rank_score') or detail.get('score_is') or 0:.1f}). "
                  "It stays private until you share it.")
        self.published.emit(detail)

    def share(self, visibility: str) -> None:
        s = self.current
        if s is None or s.remote_id is None:
            self._say("Publish the strategy first.", error=True)
            return
        self._busy("Sharing…")
        self.task = self.tasks.submit(self.service.share, s, visibility, 30, label="Sharing strategy",
                                      on_result=self._on_shared, on_error=self._failed("Cannot share"),
                                      on_finished=self._idle)

    def revoke(self) -> None:
        s = self.current
        if s is None or s.remote_id is None:
            return
        self._busy("Revoking…")
        self.task = self.tasks.submit(self.service.revoke, s, label="Revoking share", on_result=self._on_shared,
                                      on_error=self._failed("Cannot revoke"), on_finished=self._idle)

    def _on_shared(self, out: dict[str, Any]) -> None:
        sid = self.current.id if self.current else None
        self.reload(select=sid)
        fresh = next((x for x in self.service.strategies() if x.id == sid), None)
        if fresh is not None:
            self.edit(fresh)
        token = out.get("token")
        if token:
            self.last_token = str(token)
            clip = QGuiApplication.clipboard()
            if clip is not None:
                clip.setText(self.last_token)
            self._say(f"Unlisted until {str(out.get('expires_at'))[:10]}. The link token (copied; shown once): "
                      f"{self.last_token}")
        else:
            self._say({"public": "Public: on the leaderboard once ranked.",
                       "private": "Private: off the leaderboard; any link is revoked."}.get(str(out.get("visibility")), ""))
        self.shared.emit(out)

    # ------------------------------------------------------------------ live paper run
    def _on_live_toggled(self, on: bool) -> None:
        if not on:
            self.stop_live()
            return
        s = self.current
        if s is None or s.id is None:
            self._say("Save the strategy first.", error=True)
            self.live_btn.setChecked(False)
            return
        try:
            self.live = self.service.start_live(s)
        except Exception as exc:  # noqa: BLE001 - shown: no paper broker, a bad account name…
            self._say(f"Cannot run live: {exc}", error=True)
            self.live_btn.setChecked(False)
            return
        self.live_timer.start()
        self._say(f"Running live in the paper account {self.live.account!r}…")
        self.live_round()

    def live_round(self) -> None:
        """One round: load the universe's bars in a worker, then evaluate here (the broker's thread)."""
        if self.live is None or self._live_busy:
            return
        self._live_busy = True
        self.tasks.submit(self.live.load_bars, label="Live strategy bars", on_result=self._on_live_bars,
                          on_error=self._failed("The live run could not load bars"),
                          on_finished=self._on_live_round_finished)

    def _on_live_round_finished(self) -> None:
        self._live_busy = False

    def _on_live_bars(self, bars: dict[str, Any]) -> None:
        if self.live is None:
            return
        acts = self.live.step(bars)
        done = [a for a in acts if a.what != "skipped"]
        summary = self.live.session.summary
        eq = f"; equity {float(summary.equity):,.2f}" if summary is not None else ""
        last = "; ".join(f"{a.symbol} {a.what} {a.detail}" for a in acts[-3:])
        self._say(f"Live in {self.live.account!r} on {len(bars)} symbols: {len(done)} orders this round{eq}"
                  + (f" ({last})" if last else "") + ".")
        self.live_stepped.emit(acts)

    def stop_live(self) -> None:
        self.live_timer.stop()
        if self.live is not None:
            self.live.close()
            self.live = None
            self._say("Live run stopped (the paper account keeps its orders and positions).")
        if self.live_btn.isChecked():
            self.live_btn.blockSignals(True)
            self.live_btn.setChecked(False)
            self.live_btn.blockSignals(False)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.stop_live()
        super().closeEvent(event)

    # ------------------------------------------------------------------ busy state
    def _busy(self, text: str) -> None:
        for b in (self.save_btn, self.backtest_btn, self.publish_btn, self.share_btn, self.revoke_btn, self.delete_btn):
            b.setEnabled(False)
        self._say(text)

    def _idle(self) -> None:
        self.task = None
        for b in (self.save_btn, self.backtest_btn, self.publish_btn):
            b.setEnabled(True)
        s = self.current
        self.delete_btn.setEnabled(s is not None and s.id is not None)
        self.share_btn.setEnabled(s is not None and s.remote_id is not None)
        self.revoke_btn.setEnabled(s is not None and s.remote_id is not None and s.visibility != "private")

    def _failed(self, what: str) -> Any:
        def on_error(exc: BaseException) -> None:
            log.warning("%s: %s", what, exc)
            self._say(f"{what}: {exc}", error=True)
        return on_error


def _backtest(service: Any, s: StrategyDef) -> tuple[StrategyDef, Any]:
    """Worker: backtest ``s``, keep the score preview with its results; the stored strategy and the run."""
    bt = service.backtest(s)
    fresh = next((x for x in service.strategies() if x.id == s.id), s)
    fresh = service.store.save(replace(fresh, results={**fresh.results, "score": bt.score}))
    return fresh, bt
