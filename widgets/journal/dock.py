"""The Journal dock: entries (search and filter by any field), the editor of the trader's
fields with autosave and undo, a calendar of daily P&L, and the review with its exports.

A thin view over ``engine.journal.store.JournalStore``: it renders what the store returns
and calls its commands; ``JournalChanged`` (through the Qt bridge) refreshes it. Typing is
saved 400 ms after the last key (and at once when another entry is chosen or the dock
hides), so a crash loses at most that; the store merges a burst of typing into one undo
step. The timed autosave commits in a worker (values are checked on the GUI thread first, so
a refusal still shows at once); saves never overlap or land out of order, and the explicit
flushes (another entry chosen, undo, review, the dock hiding) wait for one in flight and
then commit before they return. Reviews are computed in a worker.

Screenshots: "Add screenshot…" stores a PNG or JPEG (at most ``MAX_SCREENSHOT_BYTES``) in
the store (``add_screenshot``); the editor shows them as a strip of thumbnails and a click
opens one larger.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QSignalBlocker, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import (
    QCalendarWidget,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.journal.events import JournalChanged
from engine.journal.review import DEFAULT_RULES, EMOTIONS, Period, Review, Rule, fmt_signed, review
from engine.journal.store import Attachment, EntryFields, JournalStore, StoredEntry
from widgets.table import Column, TableModel, TableView
from widgets.tasks import TaskSubmitter

Connect = Callable[..., Any]

FILTER_FIELDS = ("any field", "symbol", "side", "setup", "tag", "emotion", "mistake", "notes", "source",
                 "followed plan", "confidence")
SAVE_DELAY_MS = 400
MAX_SCREENSHOT_BYTES = 10_000_000
SCREENSHOT_SUFFIXES = (".png", ".jpg", ".jpeg")
THUMB = 96


def read_screenshot(path: str | Path) -> bytes:
    """The bytes of the PNG or JPEG at ``path`` (at most ``MAX_SCREENSHOT_BYTES``). Raises
    ``ValueError`` (one sentence) for another kind of file, a too large or unreadable one."""
    p = Path(path)
    if p.suffix.lower() not in SCREENSHOT_SUFFIXES:
        raise ValueError(f"{p.name} is not a PNG or JPEG picture")
    try:
        size = p.stat().st_size
        if size > MAX_SCREENSHOT_BYTES:
            raise ValueError(f"{p.name} is {size:,} bytes; a screenshot may be at most "
                             f"{MAX_SCREENSHOT_BYTES // 1_000_000} MB ({MAX_SCREENSHOT_BYTES:,} bytes)")
        data = p.read_bytes()
    except OSError as exc:
        raise ValueError(f"{p.name} cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")) or QImage.fromData(data).isNull():
        raise ValueError(f"{p.name} is not a readable PNG or JPEG picture")
    return data


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _hold(ms: int) -> str:
    s = ms // 1000
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m = s // 60
    return f"{d}d {h}h" if d else (f"{h}h {m:02d}m" if h else f"{m}m")


def _color(v: Any) -> str | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return "#26a69a" if x > 0 else ("#ef5350" if x < 0 else None)


def _text_of(e: StoredEntry, what: str) -> str:
    f = e.fields
    values = {
        "symbol": e.trip.symbol, "side": e.trip.direction, "setup": " ".join(f.setups), "tag": " ".join(f.tags),
        "emotion": f"{f.emotion_before or ''} {f.emotion_after or ''}", "mistake": " ".join(f.mistakes),
        "notes": f.notes, "source": f"{e.source} {e.account}",
        "followed plan": "" if f.followed_plan is None else ("yes" if f.followed_plan else "no"),
        "confidence": "" if f.confidence is None else str(f.confidence),
    }
    if what == "any field":
        return " ".join(values.values())
    return values.get(what, "")


def matches(e: StoredEntry, field: str, text: str) -> bool:
    """Does entry ``e`` match the search ``text`` in ``field`` (every word, any case)?"""
    hay = _text_of(e, field).casefold()
    return all(w in hay for w in text.casefold().split())


COLUMNS = (
    Column("Exit", lambda e: e.trip.exit_time_ms, fmt=_day, key="exit"),
    Column("Symbol", lambda e: e.trip.symbol, key="symbol"),
    Column("Side", lambda e: e.trip.direction, key="side"),
    Column("Qty", lambda e: e.trip.qty, numeric=True, key="qty"),
    Column("Net P&L", lambda e: float(e.trip.net_pnl), numeric=True, fmt=lambda v: fmt_signed(v), key="net",
           color=lambda e: _color(e.trip.net_pnl)),
    Column("R", lambda e: e.trip.r_multiple, numeric=True, key="r",
           fmt=lambda v: "—" if v is None else f"{v:+.2f}"),
    Column("Held", lambda e: e.trip.holding_ms, fmt=_hold, numeric=True, key="held"),
    Column("Setups", lambda e: ", ".join(e.fields.setups), key="setups"),
    Column("Tags", lambda e: ", ".join(e.fields.tags), key="tags"),
    Column("Emotion", lambda e: e.fields.emotion_before or "", key="emotion"),
    Column("Mistakes", lambda e: ", ".join(e.fields.mistakes), key="mistakes"),
    Column("Plan", lambda e: "" if e.fields.followed_plan is None else ("yes" if e.fields.followed_plan else "no"),
           key="plan"),
    Column("📷", lambda e: "✓" if e.has_snapshot else "", key="snapshot", hideable=True),
    Column("Source", lambda e: e.source, key="source", hidden=True),
)


class EntryEditor(QWidget):
    """The trader's fields of one entry; ``changed`` is emitted (debounced by the dock)."""

    changed = Signal()
    screenshot_clicked = Signal(object)  # Attachment

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("journal_editor")
        form = QFormLayout(self)
        self.title = QLabel("No entry selected")
        self.title.setObjectName("journal_editor_title")
        form.addRow(self.title)
        self.setups = QLineEdit(placeholderText="breakout, ORB")
        self.tags = QLineEdit(placeholderText="FOMO, news")
        self.emotion_before = QComboBox(editable=True)
        self.emotion_after = QComboBox(editable=True)
        for c in (self.emotion_before, self.emotion_after):
            c.addItems(["", *EMOTIONS])
            c.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.confidence = QComboBox()
        self.confidence.addItems(["", "1", "2", "3", "4", "5"])
        self.plan = QComboBox()
        self.plan.addItems(["", "yes", "no"])
        self.mistakes = QLineEdit(placeholderText="chased, moved stop")
        self.notes = QPlainTextEdit(placeholderText="Notes (markdown)")
        self.notes.setMinimumHeight(60)
        self.snapshot = QLabel()
        self.snapshot.setObjectName("journal_snapshot")
        self.snapshot.setMinimumHeight(120)
        self.snapshot.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.shot_btn = QPushButton("Add screenshot…")
        self.shot_btn.setObjectName("journal_add_screenshot")
        self.shots = QWidget()
        self.shots.setObjectName("journal_screenshots")
        self.shots_row = QHBoxLayout(self.shots)
        self.shots_row.setContentsMargins(0, 0, 0, 0)
        self.shots_row.addStretch(1)
        shots_scroll = QScrollArea()
        shots_scroll.setWidget(self.shots)
        shots_scroll.setWidgetResizable(True)
        shots_scroll.setFixedHeight(THUMB + 24)
        self.thumbs: list[QToolButton] = []
        self.error = QLabel()
        self.error.setStyleSheet("color: #ef5350")
        self.error.setWordWrap(True)
        form.addRow("Setups", self.setups)
        form.addRow("Tags", self.tags)
        form.addRow("Emotion before", self.emotion_before)
        form.addRow("Emotion after", self.emotion_after)
        form.addRow("Confidence", self.confidence)
        form.addRow("Followed plan", self.plan)
        form.addRow("Mistakes", self.mistakes)
        form.addRow(self.notes)
        form.addRow(self.error)
        form.addRow(self.snapshot)
        form.addRow(self.shot_btn, shots_scroll)
        for w in (self.setups, self.tags, self.mistakes):
            w.textEdited.connect(self.changed)
        for c in (self.emotion_before, self.emotion_after):
            c.editTextChanged.connect(lambda _t: self.changed.emit())
        self.confidence.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.plan.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.notes.textChanged.connect(self.changed)
        self.setEnabled(False)

    def show_entry(self, e: StoredEntry | None, png: bytes | None = None) -> None:
        blockers = [QSignalBlocker(w) for w in (self.setups, self.tags, self.emotion_before, self.emotion_after,
                                                self.confidence, self.plan, self.mistakes, self.notes)]
        self.error.clear()
        if e is None:
            self.title.setText("No entry selected")
            self.setEnabled(False)
            for w in (self.setups, self.tags, self.mistakes):
                w.clear()
            self.notes.clear()
            self.snapshot.clear()
            del blockers
            return
        self.setEnabled(True)
        t, f = e.trip, e.fields
        r = "" if t.r_multiple is None else f", {t.r_multiple:+.2f} R"
        self.title.setText(f"<b>{t.symbol}</b> {t.direction} {t.qty} · {fmt_signed(float(t.net_pnl))}{r} · "
                           f"exit {_day(t.exit_time_ms)}")
        self.setups.setText(", ".join(f.setups))
        self.tags.setText(", ".join(f.tags))
        self.mistakes.setText(", ".join(f.mistakes))
        self.emotion_before.setEditText(f.emotion_before or "")
        self.emotion_after.setEditText(f.emotion_after or "")
        self.confidence.setCurrentIndex(f.confidence or 0)
        self.plan.setCurrentIndex(0 if f.followed_plan is None else (1 if f.followed_plan else 2))
        if self.notes.toPlainText() != f.notes:
            self.notes.setPlainText(f.notes)
        if png:
            pm = QPixmap()
            pm.loadFromData(png, "PNG")
            self.snapshot.setPixmap(pm.scaledToWidth(min(pm.width(), 420), Qt.TransformationMode.SmoothTransformation))
        else:
            self.snapshot.setText("No chart snapshot")
        del blockers

    def show_screenshots(self, shots: Sequence[Attachment]) -> None:
        """The strip of thumbnails of ``shots`` (a click emits ``screenshot_clicked``)."""
        for b in self.thumbs:
            self.shots_row.removeWidget(b)
            b.deleteLater()
        self.thumbs = []
        for a in shots:
            pm = QPixmap()
            if a.data is not None:
                pm.loadFromData(a.data)
            elif a.path:
                pm.load(a.path)
            b = QToolButton()
            b.setObjectName(f"journal_screenshot_{a.id}")
            b.setIconSize(QSize(THUMB, THUMB))
            b.setIcon(QIcon(pm.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                      Qt.TransformationMode.SmoothTransformation)) if not pm.isNull() else QIcon())
            b.setToolTip("Click to open larger" if not pm.isNull() else f"{a.path or 'picture'} cannot be shown")
            b.clicked.connect(lambda _c=False, a=a: self.screenshot_clicked.emit(a))
            self.shots_row.insertWidget(len(self.thumbs), b)
            self.thumbs.append(b)

    def values(self) -> dict[str, Any]:
        """The form's fields as ``EntryFields`` keyword arguments (not yet validated)."""
        conf = self.confidence.currentText()
        plan = self.plan.currentText()
        return {
            "setups": self.setups.text(), "tags": self.tags.text(), "mistakes": self.mistakes.text(),
            "emotion_before": self.emotion_before.currentText() or None,
            "emotion_after": self.emotion_after.currentText() or None,
            "confidence": int(conf) if conf else None,
            "followed_plan": None if not plan else plan == "yes",
            "notes": self.notes.toPlainText(),
        }


class JournalWidget(QWidget):
    """The Journal dock's content (see the module docstring)."""

    review_ready = Signal(object)  # Review

    def __init__(self, store: JournalStore, tasks: TaskSubmitter | None = None, bridge: Any = None,
                 parent: QWidget | None = None, *, confirm_delete: Callable[[str], bool] | None = None,
                 rules: Sequence[Rule] = DEFAULT_RULES) -> None:
        super().__init__(parent)
        self.rules = tuple(rules)  # the review's rules (each with its minimum number of trades)
        self.setObjectName("journal_widget")
        self.store = store
        self.tasks = tasks
        self.confirm_delete = confirm_delete or self._ask
        self.entries: list[StoredEntry] = []
        self.current_id: int | None = None
        self.last_review: Review | None = None
        self._dirty = False
        self._inflight: threading.Event | None = None  # set when the worker's save has finished
        self._save_again = False
        self._save_gen = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs)

        # entries
        page = QWidget()
        v = QVBoxLayout(page)
        row = QHBoxLayout()
        self.search = QLineEdit(placeholderText="Search…")
        self.search.setObjectName("journal_search")
        self.search_field = QComboBox()
        self.search_field.addItems(FILTER_FIELDS)
        self.count = QLabel()
        self.undo_btn = QPushButton("Undo")
        self.redo_btn = QPushButton("Redo")
        self.delete_btn = QPushButton("Delete…")
        self.add_btn = QPushButton("Add trade…")
        self.import_btn = QPushButton("Import CSV…")
        for w in (self.search, self.search_field, self.count, self.add_btn, self.import_btn, self.undo_btn,
                  self.redo_btn, self.delete_btn):
            row.addWidget(w)
        row.setStretch(0, 1)
        v.addLayout(row)
        split = QSplitter()
        self.model = TableModel(COLUMNS, key=lambda e: e.id)
        self.table = TableView(self.model, "journal_entries", selection=TableView.SelectionMode.SingleSelection)
        self.editor = EntryEditor()
        split.addWidget(self.table)
        split.addWidget(self.editor)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        v.addWidget(split)
        self.tabs.addTab(page, "Entries")

        # calendar
        cal_page = QWidget()
        cv = QVBoxLayout(cal_page)
        self.calendar = QCalendarWidget()
        self.calendar.setObjectName("journal_calendar")
        self.calendar.setGridVisible(True)
        self.day_label = QLabel()
        cv.addWidget(self.calendar)
        cv.addWidget(self.day_label)
        self.tabs.addTab(cal_page, "Calendar")

        # review
        rev = QWidget()
        rv = QVBoxLayout(rev)
        rrow = QHBoxLayout()
        self.period = QComboBox()
        self.period.addItems(["week", "month", "quarter", "year"])
        self.period.setCurrentText("month")
        self.review_date = QDateEdit(QDate.currentDate())
        self.review_date.setCalendarPopup(True)
        self.review_btn = QPushButton("Review")
        self.pdf_btn = QPushButton("PDF…")
        self.html_btn = QPushButton("HTML…")
        self.export_btn = QComboBox()
        self.export_btn.addItems(["Export journal…", "CSV", "JSON", "Excel"])
        for w in (QLabel("Period"), self.period, self.review_date, self.review_btn, self.pdf_btn, self.html_btn,
                  self.export_btn):
            rrow.addWidget(w)
        rrow.addStretch(1)
        rv.addLayout(rrow)
        self.report = QTextBrowser()
        self.report.setObjectName("journal_report")
        self.report.setOpenLinks(False)
        # the report is a printable page: dark text on white in either theme
        self.report.setStyleSheet("QTextBrowser#journal_report { background: #ffffff; color: #222222; }")
        rv.addWidget(self.report)
        self.tabs.addTab(rev, "Review")

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self._on_save_timer_timeout)
        self.add_btn.clicked.connect(self.open_manual_entry)
        self.import_btn.clicked.connect(self.open_import)
        self.editor.shot_btn.clicked.connect(self._on_add_screenshot_clicked)
        self.editor.screenshot_clicked.connect(self.open_screenshot)
        self.editor.changed.connect(self._on_editor_changed)
        self.search.textChanged.connect(lambda _t: self._apply_filter())
        self.search_field.currentIndexChanged.connect(lambda _i: self._apply_filter())
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._on_table_selection())
        self.undo_btn.clicked.connect(self.undo)
        self.redo_btn.clicked.connect(self.redo)
        self.delete_btn.clicked.connect(self.delete_current)
        self.calendar.selectionChanged.connect(self._on_calendar_day)
        self.calendar.currentPageChanged.connect(lambda *_a: self._paint_calendar())
        self.review_btn.clicked.connect(self.run_review)
        self.pdf_btn.clicked.connect(lambda: self._export_report("pdf"))
        self.html_btn.clicked.connect(lambda: self._export_report("html"))
        self.export_btn.activated.connect(self._on_export_journal)
        self.review_ready.connect(self.show_review)
        if bridge is not None:
            bridge.connect(JournalChanged, self._on_journal_changed, self)
        self.reload()

    # ---------------------------------------------------------------- entries
    def reload(self) -> None:
        """Read the entries again (after a change from elsewhere)."""
        self.entries = self.store.entries()
        self._apply_filter()
        self.table.fit_columns()
        self._paint_calendar()
        self._update_buttons()

    def _apply_filter(self) -> None:
        text = self.search.text().strip()
        field = self.search_field.currentText()
        rows = [e for e in self.entries if not text or matches(e, field, text)]
        rows.reverse()  # newest first
        self.model.set_rows(rows)
        self.count.setText(f"{len(rows)} of {len(self.entries)}" if text else f"{len(rows)} entries")
        if self.current_id is not None:
            self.select_entry(self.current_id)

    def visible_entries(self) -> list[StoredEntry]:
        return self.table.visible_rows()

    def select_entry(self, entry_id: int) -> None:
        for i, e in enumerate(self.table.visible_rows()):
            if e.id == entry_id:
                idx = self.table.model().index(i, 0)
                with QSignalBlocker(self.table.selectionModel()):
                    self.table.selectRow(i)
                self.table.scrollTo(idx)
                self._show(entry_id)
                return

    def _on_table_selection(self) -> None:
        rows = self.table.selected_rows()
        self.save_now()
        if rows:
            self._show(rows[0].id)

    def _show(self, entry_id: int) -> None:
        self.current_id = entry_id
        e = next((x for x in self.entries if x.id == entry_id), None)
        self.editor.show_entry(e, self.store.snapshot(entry_id) if e is not None and e.has_snapshot else None)
        self.editor.show_screenshots([a for a in self.store.attachments(entry_id) if a.kind == "screenshot"]
                                     if e is not None else [])

    def _on_editor_changed(self) -> None:
        self._dirty = True
        self._save_timer.start()

    def _checked_values(self) -> dict[str, Any] | None:
        """The editor's values if ``EntryFields`` accepts them, else None (reason shown)."""
        values = self.editor.values()
        try:
            EntryFields(**values)
        except ValueError as exc:
            self.editor.error.setText(str(exc))
            return None
        return values

    def _wait_inflight(self) -> None:
        if self._inflight is not None:
            self._inflight.wait(10.0)  # a single SQLite commit; the worker sets it in ``finally``

    def _on_save_timer_timeout(self) -> None:
        """The debounced autosave: commit in a worker (synchronously without a task runner)."""
        if self.tasks is None:
            self.save_now()
            return
        if not self._dirty or self.current_id is None:
            return
        if self._inflight is not None and not self._inflight.is_set():
            self._save_again = True  # one save at a time, so they land in order
            return
        values = self._checked_values()
        self._dirty = False
        if values is None:
            return
        self.editor.error.clear()
        done = threading.Event()
        self._inflight = done
        self._save_gen += 1
        gen, entry_id, store = self._save_gen, self.current_id, self.store

        def commit() -> StoredEntry:
            try:
                return store.edit(entry_id, **values)
            finally:
                done.set()

        def on_result(e: StoredEntry) -> None:
            if gen == self._save_gen and e.id in {x.id for x in self.entries}:
                self._replace(e)

        def on_error(exc: BaseException) -> None:
            self._dirty = True  # not written: the next save (or the flush on hide) tries again
            self.editor.error.setText(f"Not saved yet: {exc}")

        def on_finished() -> None:
            if self._save_again:
                self._save_again = False
                self._save_timer.start()

        self.tasks.submit(commit, label="Journal: autosave", on_result=on_result, on_error=on_error,
                          on_finished=on_finished)

    def save_now(self) -> bool:
        """Write the editor's fields to the store now, before returning (after a save in
        flight, if any); False when a value is refused (the reason is shown under the form)."""
        self._save_timer.stop()
        self._wait_inflight()
        if not self._dirty or self.current_id is None:
            return True
        self._dirty = False
        self._save_gen += 1  # a worker result arriving later is older than this
        values = self._checked_values()
        if values is None:
            return False
        try:
            updated = self.store.edit(self.current_id, **values)
        except (ValueError, LookupError) as exc:
            self.editor.error.setText(str(exc))
            return False
        self.editor.error.clear()
        self._replace(updated)
        return True

    def _replace(self, e: StoredEntry) -> None:
        self.entries = [e if x.id == e.id else x for x in self.entries]
        self.model.upsert(e)
        self._update_buttons()

    def edit_current(self, **changes: Any) -> StoredEntry:
        """Apply ``changes`` to the selected entry through the store (what the form does)."""
        assert self.current_id is not None
        e = self.store.edit(self.current_id, **changes)
        self._replace(e)
        self._show(e.id)
        return e

    def undo(self) -> None:
        self.save_now()
        e = self.store.undo()
        if e is not None:
            self._replace(e)
            self._show(e.id)

    def redo(self) -> None:
        self.save_now()
        e = self.store.redo()
        if e is not None:
            self._replace(e)
            self._show(e.id)

    # ---------------------------------------------------------------- dialogs
    def open_manual_entry(self) -> QDialog:
        """The manual-entry dialog (a trade made elsewhere); the new entry is selected."""
        from widgets.journal.manual_dialog import ManualEntryDialog

        d = ManualEntryDialog(self.store, self)
        d.added.connect(lambda e: (self.reload(), self.select_entry(e.id)))
        d.open()
        return d

    def open_import(self) -> QDialog:
        """The broker-CSV import dialog."""
        from widgets.journal.import_dialog import ImportDialog

        d = ImportDialog(self.store, self.tasks, self)
        d.import_finished.connect(lambda _r: self.reload())
        d.open()
        return d

    def _on_add_screenshot_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add screenshot", "", "Pictures (*.png *.jpg *.jpeg)")
        if path:
            self.add_screenshot(path)

    def add_screenshot(self, path: str | Path) -> Attachment | None:
        """Store the PNG/JPEG at ``path`` with the selected entry; None (reason shown) if refused."""
        if self.current_id is None:
            return None
        try:
            a = self.store.add_screenshot(self.current_id, data=read_screenshot(path))
        except (ValueError, LookupError) as exc:
            self.editor.error.setText(str(exc))
            return None
        self.editor.error.clear()
        self._show(self.current_id)
        return a

    def open_screenshot(self, a: Attachment) -> QDialog:
        """Screenshot ``a`` in a window, as large as the screen allows."""
        d = QDialog(self)
        d.setObjectName("journal_screenshot_view")
        d.setWindowTitle("Screenshot")
        lab = QLabel()
        lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pm = QPixmap()
        if a.data is not None:
            pm.loadFromData(a.data)
        elif a.path:
            pm.load(a.path)
        screen = self.screen().availableGeometry().size() * 0.9 if self.screen() else QSize(1200, 800)
        if pm.width() > screen.width() or pm.height() > screen.height():
            pm = pm.scaled(screen, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        if pm.isNull():
            lab.setText("This picture cannot be shown.")
        else:
            lab.setPixmap(pm)
        QVBoxLayout(d).addWidget(lab)
        d.open()
        return d

    def _ask(self, text: str) -> bool:
        return QMessageBox.question(self, "Delete journal entry", text) == QMessageBox.StandardButton.Yes

    def delete_current(self) -> None:
        if self.current_id is None:
            return
        e = next((x for x in self.entries if x.id == self.current_id), None)
        if e is None:
            return
        if not self.confirm_delete(f"Delete the {e.trip.symbol} {e.trip.direction} trade closed {_day(e.trip.exit_time_ms)} "
                                   "with its notes and pictures? This cannot be undone."):
            return
        self._dirty = False
        self.store.delete(e.id)
        self.current_id = None
        self.editor.show_entry(None)
        self.reload()

    def _update_buttons(self) -> None:
        self.undo_btn.setEnabled(self.store.can_undo())
        self.redo_btn.setEnabled(self.store.can_redo())
        self.delete_btn.setEnabled(self.current_id is not None)

    def _on_journal_changed(self, ev: JournalChanged) -> None:
        if ev.kind == "edited" and all(any(x.id == i for x in self.entries) for i in ev.ids) and not self._dirty:
            for i in ev.ids:
                try:
                    self._replace(self.store.get(i))
                except LookupError:
                    pass
            self._paint_calendar()
            return
        if ev.kind != "edited":
            self.reload()

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.save_now()
        super().hideEvent(event)

    # ---------------------------------------------------------------- calendar
    def daily_pnl(self) -> dict[date, float]:
        out: dict[date, float] = {}
        for e in self.entries:
            d = datetime.fromtimestamp(e.trip.exit_time_ms / 1000, UTC).date()
            out[d] = out.get(d, 0.0) + float(e.trip.net_pnl)
        return out

    def _paint_calendar(self) -> None:
        self.calendar.setDateTextFormat(QDate(), QTextCharFormat())  # clear
        daily = self.daily_pnl()
        big = max([abs(v) for v in daily.values()] or [1.0]) or 1.0
        for d, v in daily.items():
            fmt = QTextCharFormat()
            c = QColor("#26a69a" if v >= 0 else "#ef5350")
            c.setAlphaF(0.3 + 0.7 * min(abs(v) / big, 1.0))
            fmt.setBackground(c)
            fmt.setToolTip(fmt_signed(v))
            self.calendar.setDateTextFormat(QDate(d.year, d.month, d.day), fmt)
        self._on_calendar_day()

    def _on_calendar_day(self) -> None:
        q = self.calendar.selectedDate()
        d = date(q.year(), q.month(), q.day())
        v = self.daily_pnl().get(d)
        n = sum(1 for e in self.entries if datetime.fromtimestamp(e.trip.exit_time_ms / 1000, UTC).date() == d)
        self.day_label.setText(f"{d.isoformat()}: no closed trades" if v is None
                               else f"{d.isoformat()}: {fmt_signed(v)} over {n} trade{'s' if n != 1 else ''}")

    # ---------------------------------------------------------------- review
    def review_period(self) -> Period:
        q = self.review_date.date()
        return Period.of(self.period.currentText(), date(q.year(), q.month(), q.day()))  # type: ignore[arg-type]

    def run_review(self) -> None:
        """Compute the review of the chosen period (in a worker when there is a task runner)."""
        self.save_now()
        frame = self.store.frame()
        period = self.review_period()
        if self.tasks is None:
            self.show_review(review(frame, period, rules=self.rules))
            return
        self.report.setPlainText("Computing the review…")
        self.tasks.submit(review, frame, period, rules=self.rules, label="Journal review", on_result=self.review_ready.emit)

    def show_review(self, rv: Review) -> None:
        from engine.journal.report import review_charts, review_html
        from widgets.journal.pdf import svg_image

        self.last_review = rv
        doc = self.report.document()
        for name, svg in review_charts(rv).items():
            doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"chart:{name}"), svg_image(svg, 1))
        self.report.setHtml(review_html(rv, inline=False))

    def export_report(self, path: str | Path) -> Path:
        """Write the shown review to ``path`` (.pdf or .html)."""
        from engine.journal.report import review_html
        from widgets.journal.pdf import write_review_pdf

        if self.last_review is None:
            self.show_review(review(self.store.frame(), self.review_period(), rules=self.rules))
        assert self.last_review is not None
        path = Path(path)
        if path.suffix.lower() == ".pdf":
            return write_review_pdf(self.last_review, path)
        path.write_text(review_html(self.last_review), encoding="utf-8")
        return path

    def _export_report(self, kind: str) -> None:
        label = "PDF (*.pdf)" if kind == "pdf" else "HTML (*.html)"
        name = self.last_review.period.label if self.last_review else "review"
        path, _ = QFileDialog.getSaveFileName(self, "Export review", f"review-{name}.{kind}", label)
        if path:
            try:
                self.export_report(path)
            except OSError as exc:
                QMessageBox.warning(self, "Export review", f"The review could not be written: {exc}")

    def _on_export_journal(self, index: int) -> None:
        self.export_btn.setCurrentIndex(0)
        if index == 0:
            return
        ext = ("csv", "json", "xlsx")[index - 1]
        path, _ = QFileDialog.getSaveFileName(self, "Export journal", f"journal.{ext}", f"*.{ext}")
        if path:
            from engine.journal.exports import export_entries

            try:
                export_entries(self.store.entries(), path, ext)
            except OSError as exc:
                QMessageBox.warning(self, "Export journal", f"The journal could not be written: {exc}")

