"""The Copy trading dock: the copies (leader or strategy, account, settings, status, P&L and
the tracking difference against the leader), pause / resume / stop, a form to start a copy,
and the copied trades of the selected copy next to their originals.

It works with a desk object (``app.social.SocialDesk``) and runs every call in the task
runner; it never touches the database or the network itself."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QPushButton, QScrollArea, QSizePolicy, QSpinBox, QSplitter, QTableWidget, QTableWidgetItem,
    QVBoxLayout, QWidget,
)

from engine.copytrading import ACTIVE, PAUSED, CopyError, CopySettings
from engine.formatting import money

REL_COLUMNS = ("Copying", "Account", "Allocation", "Multiplier", "Stop-loss", "Max open", "Status", "P&L",
               "Return", "Leader return", "Tracking diff.", "Slippage")
LINK_COLUMNS = ("Original", "Leader price", "Copied", "Fill price", "Slippage", "Status", "Why")


def _item(text: str, align_right: bool = False, tip: str = "") -> QTableWidgetItem:
    it = QTableWidgetItem(text)
    it.setFlags(it.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if align_right:
        it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if tip:
        it.setToolTip(tip)
    return it


def _pct(d: Decimal | None) -> str:
    return "—" if d is None else f"{d:+.2f} %"


class CopyTradingWidget(QWidget):
    def __init__(self, desk: Any, tasks: Any, parent: QWidget | None = None, refresh_ms: int = 2000) -> None:
        super().__init__(parent)
        self.desk, self.tasks = desk, tasks
        self._rels: list[Any] = []
        self._busy = False

        # --- start a copy
        form_box = QGroupBox("Start copying")
        form = QFormLayout(form_box)
        self.leader = QLineEdit()
        self.leader.setPlaceholderText("a leader's user id (People tab: Copy…) or strategy:ID")
        self.leader_name = ""
        self.account = QComboBox()
        self.allocation = QDoubleSpinBox()
        self.allocation.setRange(1, 1e9)
        self.allocation.setDecimals(2)
        self.allocation.setValue(10_000)
        self.allocation.setPrefix("$ ")
        self.multiplier = QDoubleSpinBox()
        self.multiplier.setRange(0.01, 100)
        self.multiplier.setValue(1.0)
        self.multiplier.setSuffix(" ×")
        self.stop_loss = QDoubleSpinBox()
        self.stop_loss.setRange(0.1, 100)
        self.stop_loss.setValue(20)
        self.stop_loss.setSuffix(" % of allocation")
        self.max_open = QSpinBox()
        self.max_open.setRange(1, 500)
        self.max_open.setValue(10)
        self.start_button = QPushButton("Start copying")
        self.start_button.clicked.connect(self._start)
        self.apply_button = QPushButton("Apply to the selected copy")
        self.apply_button.setToolTip("Change the selected copy's allocation, multiplier, stop-loss and maximum")
        self.apply_button.clicked.connect(self._apply)
        form.addRow("Leader", self.leader)
        form.addRow("Into account", self.account)
        form.addRow("Allocation", self.allocation)
        form.addRow("Size multiplier", self.multiplier)
        form.addRow("Copy stop-loss", self.stop_loss)
        form.addRow("Max open positions", self.max_open)
        form.addRow(self.start_button)
        form.addRow(self.apply_button)

        # --- the copies
        self.table = QTableWidget(0, len(REL_COLUMNS))
        self.table.setHorizontalHeaderLabels(REL_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selected)
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.stop_button = QPushButton("Stop and close")
        self.stop_button.setToolTip("Stop copying for good and close the copied positions at market")
        self.pause_button.clicked.connect(lambda: self._command("pause"))
        self.resume_button.clicked.connect(lambda: self._command("resume"))
        self.stop_button.clicked.connect(lambda: self._command("stop_copy"))
        buttons = QHBoxLayout()
        for b in (self.pause_button, self.resume_button, self.stop_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.connection = QLabel()
        self.connection.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # a long reason ("No service is configured: …") wraps instead of widening the dock
        self.connection.setWordWrap(True)
        self.connection.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        buttons.addWidget(self.connection, 1)

        # --- copied trades of the selected copy
        self.links = QTableWidget(0, len(LINK_COLUMNS))
        self.links.setHorizontalHeaderLabels(LINK_COLUMNS)
        self.links.verticalHeader().setVisible(False)
        self.links.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.links.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.links.horizontalHeader().setStretchLastSection(True)
        self.message = QLabel()
        self.message.setWordWrap(True)

        top = QWidget()
        top_l = QHBoxLayout(top)
        top_l.setContentsMargins(0, 0, 0, 0)
        copies = QWidget()
        copies_l = QVBoxLayout(copies)
        copies_l.setContentsMargins(0, 0, 0, 0)
        copies_l.addWidget(self.table, 1)
        copies_l.addLayout(buttons)
        top_l.addWidget(copies, 1)
        # the form scrolls rather than push the dock (and the window at 1280×800) taller
        form_scroll = QScrollArea()
        form_scroll.setWidget(form_box)
        form_scroll.setWidgetResizable(True)
        form_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        form_scroll.setMaximumWidth(400)
        form_scroll.setMinimumWidth(340)
        form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        form_scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        top_l.addWidget(form_scroll)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.links)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        split.setMinimumHeight(120)
        for table in (self.table, self.links):
            table.setMinimumHeight(50)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addWidget(self.message)

        self.timer = QTimer(self)
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self._update_buttons()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.refresh()

    # ------------------------------------------------------------------ data
    def set_leader(self, user_id: int, name: str) -> None:
        """Fill the form for ``user_id`` (the People tab's "Copy…")."""
        self.leader.setText(str(user_id))
        self.leader_name = name

    def refresh(self) -> None:
        if self._busy or not self.isVisible():  # a closed dock does not poll
            return
        self._busy = True

        def load() -> tuple[list[Any], dict[int, Any], list[str], str]:
            rels = self.desk.relationships()
            return rels, {r.id: self.desk.tracking(r.id) for r in rels}, self.desk.accounts(), self.desk.connection

        self.tasks.submit(load, label="", on_result=self._show, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self.message.setText(str(exc))

    def _show(self, result: tuple[list[Any], dict[int, Any], list[str], str]) -> None:
        self._busy = False
        rels, tracking, accounts, connection = result
        self.connection.setText(f"Service: {connection}")
        if [self.account.itemText(i) for i in range(self.account.count())] != accounts:
            current = self.account.currentText()
            self.account.clear()
            self.account.addItems(accounts)
            if current in accounts:
                self.account.setCurrentText(current)
        selected = self.selected_id()
        self._rels = rels
        self.table.setRowCount(len(rels))
        for row, r in enumerate(rels):
            t = tracking[r.id]
            s = r.settings
            cells = [
                _item(r.label, tip=f"copy #{r.id}"), _item(r.account), _item(money(s.allocation), True),
                _item(f"{s.multiplier.normalize():f} ×", True), _item(f"{s.stop_loss_pct.normalize():f} %", True),
                _item(str(s.max_open), True), _item(r.status + (f": {r.reason}" if r.reason else ""), tip=r.reason),
                _item(money(t.pnl) + ("" if t.complete else " *"), True,
                      "" if t.complete else "an open position has no quote yet"),
                _item(_pct(t.copier_return_pct), True), _item(_pct(t.leader_return_pct), True),
                _item(_pct(t.difference_pct), True, "your return minus the leader's on the same copied trades"),
                _item("—" if t.slippage_bps is None else f"{t.slippage_bps:+.1f} bps", True,
                      "average fill against the leader's price; positive = worse for you"),
            ]
            for col, cell in enumerate(cells):
                self.table.setItem(row, col, cell)
            if r.id == selected:
                self.table.selectRow(row)
        if selected is None and rels:
            self.table.selectRow(0)
        self._update_buttons()
        self._load_links()

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self._rels):
            return None
        return int(self._rels[rows[0].row()].id)

    def _selected(self) -> None:
        self._update_buttons()
        self._load_links()

    def _update_buttons(self) -> None:
        rid = self.selected_id()
        rel = next((r for r in self._rels if r.id == rid), None)
        self.pause_button.setEnabled(rel is not None and rel.status == ACTIVE)
        self.resume_button.setEnabled(rel is not None and rel.status == PAUSED)
        self.stop_button.setEnabled(rel is not None and rel.status in (ACTIVE, PAUSED))
        self.apply_button.setEnabled(rel is not None and rel.status in (ACTIVE, PAUSED))

    def _load_links(self) -> None:
        rid = self.selected_id()
        if rid is None:
            self.links.setRowCount(0)
            return
        self.tasks.submit(self.desk.links, rid, label="", on_result=self._show_links, on_error=self._failed)

    def _show_links(self, links: list[Any]) -> None:
        self.links.setRowCount(len(links))
        for row, lk in enumerate(links):
            o = lk.original
            slip = ""
            if o is not None and lk.fill_price is not None:
                sign = 1 if lk.side == "buy" else -1
                slip = f"{(lk.fill_price - o.price) * sign:+.4f}"
            cells = [
                _item(f"{o.side.title()} {o.qty:,} {o.symbol}" if o else f"(copy's own close) {lk.symbol}",
                      tip=f"published trade #{o.id} of user #{o.user_id}" if o else ""),
                _item(money(o.price) if o else "—", True),
                _item(f"{lk.side.title()} {lk.qty:,}" + (f" ({lk.filled_qty:,} filled)" if lk.order_id else ""),
                      tip=f"order {lk.order_id}" if lk.order_id else ""),
                _item(money(lk.fill_price) if lk.fill_price is not None else "—", True),
                _item(slip or "—", True),
                _item(lk.order_state or lk.status), _item(lk.reason, tip=lk.reason),
            ]
            for col, cell in enumerate(cells):
                self.links.setItem(row, col, cell)

    # ------------------------------------------------------------------ commands
    def _command(self, name: str) -> None:
        rid = self.selected_id()
        if rid is None:
            return
        self.tasks.submit(getattr(self.desk, name), rid, label="Copy trading",
                          on_result=lambda _r: self.refresh(), on_error=self._failed)

    def _settings(self) -> CopySettings:
        return CopySettings.of(Decimal(str(round(self.allocation.value(), 2))),
                               Decimal(str(round(self.multiplier.value(), 4))),
                               Decimal(str(round(self.stop_loss.value(), 2))), self.max_open.value())

    def _apply(self) -> None:
        rid = self.selected_id()
        if rid is None:
            return
        try:
            settings = self._settings()
        except CopyError as exc:
            self.message.setText(str(exc))
            return
        self.tasks.submit(self.desk.update_settings, rid, settings, label="Copy trading",
                          on_result=lambda r: (self.message.setText(f"New settings for {r.label}."), self.refresh()),
                          on_error=self._failed)

    def _start(self) -> None:
        text = self.leader.text().strip()
        try:
            settings = self._settings()
            if text.lower().startswith("strategy:"):
                kwargs: dict[str, Any] = {"strategy_id": int(text.split(":", 1)[1])}
            else:
                kwargs = {"leader_id": int(text)}
        except (CopyError, ValueError) as exc:
            self.message.setText(str(exc) if isinstance(exc, CopyError) else
                                 "Give a leader's user id, or strategy:ID for a published strategy.")
            return
        account = self.account.currentText()

        def done(rel: Any) -> None:
            self.message.setText(f"Copying {rel.label} into {rel.account} from their next published trade.")
            self.refresh()

        self.tasks.submit(lambda: self.desk.start_copy(account=account, settings=settings,
                                                       leader_name=self.leader_name, **kwargs),
                          label="Start copying", on_result=done, on_error=self._failed)
