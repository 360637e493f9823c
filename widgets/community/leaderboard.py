"""The Leaderboard dock: ranked strategies by timeframe and category, searched, in pages; the
detail of one (equity curve, metrics, component scores with the published weights, lineage,
reviews); rate & review; clone into my strategies; open an unlisted link.

A thin view over the community service it receives (``sync.strategies.CommunityService``);
every call runs in the app's worker pattern. Ranks are by the out-of-sample score where one
exists (live paper results, else the last 30 % of the history); day / week / month rank the
live paper results in that window.
"""
from __future__ import annotations

import datetime as dt
import html
import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.community.strategies import CATEGORIES
from widgets.community.common import EquityPlot, ScoreView, metrics_text, num
from widgets.table import Column, TableModel, TableView
from widgets.tasks import TaskSubmitter

log = logging.getLogger(__name__)

TIMEFRAMES = (("all", "All time"), ("month", "Month"), ("week", "Week"), ("day", "Day"))
PER_PAGE = 25


def _stars(r: dict[str, Any]) -> str:
    return f"{r['rating']:.1f}★ ({r['rating_count']})" if r.get("rating") is not None else "–"


COLUMNS = [
    Column("#", lambda r: r["rank"], numeric=True, key="rank"),
    Column("Strategy", lambda r: r["name"], key="name"),
    Column("Category", lambda r: CATEGORIES.get(r["category"], r["category"]), key="category"),
    Column("By", lambda r: r["owner"], key="owner"),
    Column("Score", lambda r: r["score"], numeric=True, fmt=lambda v: num(v, 1), key="score"),
    Column("In-sample", lambda r: r["score_is"], numeric=True, fmt=lambda v: num(v, 1), key="score_is"),
    Column("Out-of-sample", lambda r: r["score_oos"], numeric=True, fmt=lambda v: num(v, 1), key="score_oos"),
    Column("Trades", lambda r: r["trades"], numeric=True, key="trades"),
    Column("Rating", lambda r: r.get("rating"), numeric=True, fmt=lambda _v: "", override=_stars, key="rating"),
    Column("Clones", lambda r: r["clone_count"], numeric=True, key="clones"),
    Column("Followers", lambda r: r["followers"], numeric=True, key="followers", hidden=True),
]


class LeaderboardWidget(QWidget):
    """The Leaderboard. ``service``: a ``CommunityService``; ``tasks`` runs the calls."""

    page_loaded = Signal(object)  # the service's page dict
    detail_loaded = Signal(object)  # the service's strategy detail dict
    cloned = Signal(object)  # the local StrategyDef
    reviewed = Signal(object)

    def __init__(self, service: Any, tasks: TaskSubmitter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("leaderboard")
        self.service = service
        self.tasks = tasks
        self.page = 1
        self.more = False
        self.detail: dict[str, Any] | None = None
        self.share_token: str | None = None
        self._loaded_once = False

        self.timeframe = QComboBox()
        for key, label in TIMEFRAMES:
            self.timeframe.addItem(label, key)
        self.category = QComboBox()
        self.category.addItem("All categories", None)
        for key, label in CATEGORIES.items():
            self.category.addItem(label, key)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search names…")
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(self.first_page)
        self.timeframe.currentIndexChanged.connect(self.first_page)
        self.category.currentIndexChanged.connect(self.first_page)
        self.prev_btn = QPushButton("◀")
        self.prev_btn.setToolTip("previous page")
        self.prev_btn.clicked.connect(lambda: self.load(self.page - 1))
        self.next_btn = QPushButton("▶")
        self.next_btn.setToolTip("next page")
        self.next_btn.clicked.connect(lambda: self.load(self.page + 1))
        self.page_label = QLabel("")
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(lambda: self.load(self.page))
        link_btn = QPushButton("Open link…")
        link_btn.setToolTip("open an unlisted strategy by the token its owner shared")
        link_btn.clicked.connect(self.ask_link)
        bar = QHBoxLayout()
        bar.addWidget(self.timeframe)
        bar.addWidget(self.category)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.prev_btn)
        bar.addWidget(self.page_label)
        bar.addWidget(self.next_btn)
        bar.addWidget(refresh)
        bar.addWidget(link_btn)

        self.model = TableModel(COLUMNS, key=lambda r: r["id"])
        self.table = TableView(self.model, "leaderboardTable", sortable=False)
        self.table.setObjectName("leaderboardTable")
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        # ---- detail
        self.title = QLabel("Select a strategy to see its detail.")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rules = QLabel("")
        self.rules.setWordWrap(True)
        self.rules.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.metrics = QLabel("")
        self.metrics.setWordWrap(True)
        self.plot = EquityPlot()
        self.score = ScoreView()
        self.reviews = QLabel("")
        self.reviews.setWordWrap(True)
        self.reviews.setTextFormat(Qt.TextFormat.RichText)
        self.reviews.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.rating = QSpinBox(minimum=1, maximum=5, value=5, suffix=" ★")
        self.review_text = QPlainTextEdit()
        self.review_text.setPlaceholderText("Your review (one per strategy; sending again edits it)")
        self.review_text.setFixedHeight(48)
        self.rate_btn = QPushButton("Rate && review")
        self.rate_btn.clicked.connect(self.send_review)
        self.clone_btn = QPushButton("Clone to my strategies")
        self.clone_btn.clicked.connect(self.clone)
        actions = QHBoxLayout()
        actions.addWidget(self.rating)
        actions.addWidget(self.rate_btn)
        actions.addStretch(1)
        actions.addWidget(self.clone_btn)
        detail = QWidget()
        dv = QVBoxLayout(detail)
        dv.setContentsMargins(4, 0, 0, 0)
        dv.addWidget(self.title)
        dv.addWidget(self.rules)
        dv.addWidget(self.metrics)
        dv.addWidget(self.plot, 1)
        dv.addWidget(self.score)
        dv.addWidget(QLabel("<b>Reviews</b>"))
        dv.addWidget(self.reviews)
        dv.addWidget(self.review_text)
        dv.addLayout(actions)
        self.plot.setMinimumHeight(160)
        self.plot.setMaximumHeight(300)
        self.reviews.setMaximumHeight(120)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(detail)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.table, 1)
        lv.addWidget(self.status)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(scroll)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([620, 640])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addLayout(bar)
        outer.addWidget(split, 1)
        self._show_detail(None)
        self._paging()

    # ------------------------------------------------------------------ pages
    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """The first time the dock is shown, its first page is fetched."""
        super().showEvent(event)
        if not self._loaded_once:
            self._loaded_once = True
            self.load(1)

    def first_page(self, *_a: Any) -> None:
        self.load(1)

    def load(self, page: int = 1) -> None:
        """Fetch page ``page`` for the chosen timeframe, category and search (in a worker)."""
        page = max(1, page)
        tf, cat, q = self.timeframe.currentData(), self.category.currentData(), self.search.text().strip()
        self.status.setText("Loading…")
        self.tasks.submit(self.service.leaderboard, tf, cat, q, page, PER_PAGE, label="Loading the leaderboard",
                          on_result=self._on_page_returned, on_error=self._failed("Cannot load the leaderboard"))

    def _on_page_returned(self, out: dict[str, Any]) -> None:
        self.page = int(out["page"])
        self.more = bool(out["more"])
        rows = list(out["items"])
        self.model.set_rows(rows)
        self.table.resizeColumnsToContents()
        self.status.setStyleSheet("")
        tf = dict(TIMEFRAMES).get(out["timeframe"], out["timeframe"])
        if rows:
            self.status.setText(f"{tf}: ranks {rows[0]['rank']}–{rows[-1]['rank']}. Ranked by the out-of-sample score "
                                "where there is one; fewer than 30 trades are not ranked.")
        else:
            self.status.setText(f"{tf}: no ranked strategies here yet." if self.page == 1 else "No more strategies.")
        self._paging()
        self.page_loaded.emit(out)

    def _paging(self) -> None:
        self.prev_btn.setEnabled(self.page > 1)
        self.next_btn.setEnabled(self.more)
        self.page_label.setText(f"page {self.page}")

    # ------------------------------------------------------------------ detail
    def _on_selection_changed(self, *_a: Any) -> None:
        rows = self.table.selected_rows()
        if rows:
            self.share_token = None
            self.open(int(rows[0]["id"]))

    def open(self, sid: int) -> None:
        self.tasks.submit(self.service.detail, sid, label="Loading a strategy", on_result=self._show_detail,
                          on_error=self._failed("Cannot open the strategy"))

    def ask_link(self) -> None:
        token, ok = QInputDialog.getText(self, "Open a shared strategy", "Link token:")
        if ok and token.strip():
            self.open_link(token.strip())

    def open_link(self, token: str) -> None:
        self.share_token = token
        self.tasks.submit(self.service.open_shared, token, label="Opening a shared strategy",
                          on_result=self._show_detail, on_error=self._failed("Cannot open the link"))

    def _show_detail(self, d: dict[str, Any] | None) -> None:
        self.detail = d
        for w in (self.rate_btn, self.clone_btn, self.rating, self.review_text):
            w.setEnabled(d is not None)
        if d is None:
            self.title.setText("Select a strategy to see its detail.")
            self.rules.setText("")
            self.metrics.setText("")
            self.reviews.setText("")
            self.plot.show_curves([], [])
            self.score.show_card(None)
            return
        lineage = " ← ".join(html.escape(x["name"]) for x in d.get("lineage") or [])
        cat = CATEGORIES.get(d["category"], d["category"])
        self.title.setText(
            f"<b>{html.escape(d['name'])}</b> · {html.escape(cat)} · by {html.escape(d['owner'])}"
            f" · {d['clone_count']} clones · {d['followers']} followers"
            + (f"<br>cloned from {lineage}" if lineage else "")
            + (f"<br>{html.escape(d['description'])}" if d.get("description") else ""))
        r = d.get("rules") or {}
        sz = r.get("sizing") or {}
        sizing = {"fixed_qty": f"{sz.get('value', 0):g} shares", "percent_equity": f"{sz.get('value', 0):g}% of equity",
                  "risk_per_trade": f"risk {sz.get('value', 0):g}% per trade, stop {sz.get('stop_pct') or 0:g}%"
                  }.get(sz.get("kind", ""), "")
        extra = [f"stop loss {r['stop_loss_pct']:g}%" if r.get("stop_loss_pct") else "",
                 f"target {r['take_profit_pct']:g}%" if r.get("take_profit_pct") else ""]
        self.rules.setText(f"Entry: {r.get('entry', '')}\nExit: {r.get('exit') or '—'}\nSizing: {sizing}"
                           + "".join(f" · {e}" for e in extra if e) + f" · {r.get('timeframe', '1d')} bars")
        card = d.get("scorecard") or {}
        part = card.get("out_of_sample") or card.get("in_sample") or {}
        self.metrics.setText(metrics_text(part.get("metrics")))
        self.plot.show_curves(d.get("backtest_curve") or [], d.get("live_curve") or [])
        self.score.show_card(card)
        reviews = d.get("reviews") or []
        self.reviews.setText("<br>".join(
            f"{'★' * int(x['rating'])}{'☆' * (5 - int(x['rating']))} <b>{html.escape(x['author'])}</b>"
            f" · {str(x['updated_at'])[:10]}" + (f": {html.escape(x['text'])}" if x.get("text") else "")
            for x in reviews) or "No reviews yet.")
        mine = next((x for x in reviews if x.get("mine")), None)
        if mine is not None:
            self.rating.setValue(int(mine["rating"]))
            self.review_text.setPlainText(mine.get("text") or "")
            self.rate_btn.setText("Edit my review")
        else:
            self.review_text.setPlainText("")
            self.rate_btn.setText("Rate && review")
        own = bool(d.get("mine"))
        self.rate_btn.setEnabled(not own)
        self.rate_btn.setToolTip("you cannot rate your own strategy" if own else "")
        self.detail_loaded.emit(d)

    # ------------------------------------------------------------------ actions
    def send_review(self) -> None:
        d = self.detail
        if d is None:
            return
        self.tasks.submit(self.service.review, int(d["id"]), int(self.rating.value()),
                          self.review_text.toPlainText().strip(), self.share_token, label="Sending a review",
                          on_result=self._on_reviewed, on_error=self._failed("Cannot send the review"))

    def _on_reviewed(self, d: dict[str, Any]) -> None:
        self._show_detail(d)
        self.status.setText(f"Review saved ({dt.datetime.now():%H:%M}).")
        self.reviewed.emit(d)

    def clone(self) -> None:
        d = self.detail
        if d is None:
            return
        self.tasks.submit(self.service.clone, int(d["id"]), None, self.share_token, label="Cloning a strategy",
                          on_result=self._on_cloned, on_error=self._failed("Cannot clone"))

    def _on_cloned(self, s: Any) -> None:
        self.status.setText(f"Cloned into My strategies as {s.name!r}.")
        self.cloned.emit(s)

    def _failed(self, what: str) -> Any:
        def on_error(exc: BaseException) -> None:
            log.warning("%s: %s", what, exc)
            self.status.setText(f"{what}: {exc}")
            self.status.setStyleSheet("color: #e57373;")
        return on_error

    def state(self) -> dict[str, Any]:
        return {"timeframe": self.timeframe.currentData(), "category": self.category.currentData(),
                "table": self.table.view_state()}

    def restore_state(self, st: dict[str, Any]) -> None:
        for combo, key in ((self.timeframe, "timeframe"), (self.category, "category")):
            i = combo.findData(st.get(key))
            if i >= 0:
                combo.blockSignals(True)
                combo.setCurrentIndex(i)
                combo.blockSignals(False)
        if isinstance(st.get("table"), dict):
            self.table.restore_view_state(st["table"])
