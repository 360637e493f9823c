"""The Journal dock: entries (search and filter by any field), the editor of the trader's
fields with autosave and undo, a calendar of daily P&L, and the review with its exports.

A thin view over ``engine.journal.store.JournalStore``: it renders what the store returns
and calls its commands; ``JournalChanged`` (through the Qt bridge) refreshes it. Typing is
saved 400 ms after the last key (and at once when another entry is chosen or the dock
hides), so a crash loses at most that; the store merges a burst of typing into one undo
step. Reviews are computed in a worker.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QSignalBlocker, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QPixmap, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import (
    QCalendarWidget,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.journal.events import JournalChanged
from engine.journal.review import DEFAULT_RULES, EMOTIONS, Period, Review, Rule, fmt_signed, review
from engine.journal.store import JournalStore, StoredEntry
from widgets.table import Column, TableModel, TableView
from widgets.tasks import TaskSubmitter

Connect = Callable[..., Any]

FILTER_FIELDS = ("any field", "symbol", "side", "setup", "tag", "emotion", "mistake", "notes", "source",
                 "followed plan", "confidence")
SAVE_DELAY_MS = 400


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
        for w in (self.search, self.search_field, self.count, self.undo_btn, self.redo_btn, self.delete_btn):
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
        self._save_timer.timeout.connect(self.save_now)
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

    def _on_editor_changed(self) -> None:
        self._dirty = True
        self._save_timer.start()

    def save_now(self) -> bool:
        """Write the editor's fields to the store now (autosave calls it); False when a
        value is refused (the reason is shown under the form)."""
        self._save_timer.stop()
        if not self._dirty or self.current_id is None:
            return True
        self._dirty = False
        try:
            updated = self.store.edit(self.current_id, **self.editor.values())
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
        e = self.store.redo()
        if e is not None:
            self._replace(e)
            self._show(e.id)

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

