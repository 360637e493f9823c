"""The alert editor: every field of an ``AlertTemplate``, conditions validated as you type.

One condition per line; each line is checked on every keystroke with the formula
language's own errors (line, column, suggestion), and Save stays disabled until the whole
template is valid. The view only builds a template and asks the service to check/save it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from PySide6.QtCore import QDateTime, QStringListModel, Qt, Signal
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from engine.alerts import AlertError, AlertTemplate, Scope
from engine.alerts.model import ACTIVE_HOURS, CHANNELS, MODE_TEXT, MODES
from engine.formula import FormulaError

CHANNEL_TEXT = {"app": "Tray / notification centre", "webhook": "Webhook", "email": "E-mail", "sms": "SMS"}
HOURS_TEXT = {"always": "Always", "session": "Only while the market is open"}
SCOPE_TEXT = {"symbol": "Symbol", "watchlist": "Watchlist", "universe": "Scanner universe"}
UNIVERSES = ("demo", "imported", "sp500", "nasdaq100")


class AlertEditor(QWidget):
    """Edit one alert. ``validate(text) -> list[FormulaError]`` checks a condition (the
    service's, with the custom indicators); ``save(template) -> template`` stores it;
    ``words()`` lists (name, description) a condition may use, offered as completions of
    the word being typed (``AlertService.condition_words``: fields, functions with
    ``sentiment``, custom indicators)."""

    saved = Signal(object)  # AlertTemplate

    def __init__(self, validate: Callable[[str], list[FormulaError]], save: Callable[[AlertTemplate], AlertTemplate],
                 watchlists: Callable[[], Sequence[str]] = lambda: (), parent: QWidget | None = None,
                 words: Callable[[], Sequence[tuple[str, str]]] = lambda: ()) -> None:
        super().__init__(parent)
        self._words = words
        self.setObjectName("alertEditor")
        self._validate = validate
        self._save = save
        self._watchlists = watchlists
        self._id: int | None = None
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. AAPL breakout")
        self.conditions = QPlainTextEdit()
        self.conditions.setObjectName("alertConditions")
        self.conditions.setPlaceholderText("one condition per line, e.g.\nclose > sma(close, 50)\n"
                                           "volume > 2 * sma(volume, 20)\nsentiment > 0.3")
        self.conditions.setFixedHeight(84)
        self.conditions.setToolTip("Fields, functions (sentiment: the day's news sentiment, -1..1), custom "
                                   "indicators; completions appear as you type a name")
        self.completion_model = QStringListModel(self)
        self.completer = QCompleter(self.completion_model, self)
        self.completer.setObjectName("alertCompleter")
        self.completer.setWidget(self.conditions)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.activated.connect(self._on_completion_activated)
        self.problem = QLabel()
        self.problem.setObjectName("alertProblem")
        self.problem.setWordWrap(True)
        self.combine = QComboBox()
        self.combine.addItem("All conditions (AND)", "and")
        self.combine.addItem("Any condition (OR)", "or")
        self.scope_kind = QComboBox()
        for k, t in SCOPE_TEXT.items():
            self.scope_kind.addItem(t, k)
        self.scope_value = QComboBox()
        self.scope_value.setEditable(True)
        self.mode = QComboBox()
        for m in MODES:
            self.mode.addItem(MODE_TEXT[m], m)
        self.cooldown = QSpinBox()
        self.cooldown.setRange(0, 7 * 24 * 60)
        self.cooldown.setSuffix(" min")
        self.expires_on = QCheckBox("Expires")
        self.expires = QDateTimeEdit(QDateTime.currentDateTime().addDays(30))
        self.expires.setCalendarPopup(True)
        self.expires.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.hours = QComboBox()
        for h in ACTIVE_HOURS:
            self.hours.addItem(HOURS_TEXT[h], h)
        self.channels = {c: QCheckBox(CHANNEL_TEXT[c]) for c in CHANNELS}
        self.channels["app"].setChecked(True)
        self.sound = QCheckBox("Play a sound")
        self.message = QLineEdit()
        self.message.setPlaceholderText("shown with the alert (default: its name and conditions)")
        self.save_button = QPushButton("Save alert")
        self.save_button.setObjectName("alertSave")
        self.new_button = QPushButton("New")

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Conditions", self.conditions)
        form.addRow("", self.problem)
        form.addRow("Combine", self.combine)
        scope = QHBoxLayout()
        scope.addWidget(self.scope_kind)
        scope.addWidget(self.scope_value, 1)
        form.addRow("Scope", scope)
        trig = QHBoxLayout()
        trig.addWidget(self.mode, 1)
        trig.addWidget(QLabel("cooldown"))
        trig.addWidget(self.cooldown)
        form.addRow("Trigger", trig)
        exp = QHBoxLayout()
        exp.addWidget(self.expires_on)
        exp.addWidget(self.expires, 1)
        form.addRow("Expiry", exp)
        form.addRow("Active", self.hours)
        ch = QHBoxLayout()
        for c in self.channels.values():
            ch.addWidget(c)
        ch.addStretch(1)
        form.addRow("Notify by", ch)
        form.addRow("", self.sound)
        form.addRow("Message", self.message)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.save_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addStretch(1)

        self.conditions.textChanged.connect(self._on_conditions_changed)
        self.name.textChanged.connect(self._recheck)
        self.scope_kind.currentIndexChanged.connect(self._on_scope_kind_changed)
        self.scope_value.editTextChanged.connect(self._recheck)
        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        self.expires_on.toggled.connect(self.expires.setEnabled)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.new_button.clicked.connect(lambda: self.load(None))
        self.expires.setEnabled(False)
        self._on_scope_kind_changed()
        self._on_mode_changed()
        self._recheck()

    # ------------------------------------------------------------------ API
    def load(self, alert: AlertTemplate | None) -> None:
        """Show ``alert`` (None: an empty new alert)."""
        a = alert or AlertTemplate("", ("",), Scope("symbol", ""))
        self._id = alert.id if alert is not None else None
        self.name.setText(a.name)
        self.conditions.setPlainText("\n".join(a.conditions))
        self.combine.setCurrentIndex(self.combine.findData(a.combine))
        self.scope_kind.setCurrentIndex(self.scope_kind.findData(a.scope.kind))
        self.scope_value.setEditText(a.scope.value)
        self.mode.setCurrentIndex(self.mode.findData(a.mode))
        self.cooldown.setValue(a.cooldown_s // 60)
        self.expires_on.setChecked(a.expires_at is not None)
        if a.expires_at is not None:
            self.expires.setDateTime(QDateTime.fromSecsSinceEpoch(a.expires_at))
        self.hours.setCurrentIndex(self.hours.findData(a.active_hours))
        for c, box in self.channels.items():
            box.setChecked(c in a.channels if alert is not None else c == "app")
        self.sound.setChecked(a.sound)
        self.message.setText(a.message)
        self._recheck()

    def template(self) -> AlertTemplate:
        """The template the fields describe (checked). Raises ``AlertError``."""
        conds = tuple(line for line in self.conditions.toPlainText().splitlines() if line.strip())
        expires = None
        if self.expires_on.isChecked():
            expires = int(self.expires.dateTime().toSecsSinceEpoch())
        return AlertTemplate(
            name=self.name.text(), conditions=conds, scope=Scope(str(self.scope_kind.currentData()),
                                                                 self.scope_value.currentText()),
            combine=str(self.combine.currentData()), mode=str(self.mode.currentData()),
            cooldown_s=self.cooldown.value() * 60, expires_at=expires, active_hours=str(self.hours.currentData()),
            channels=tuple(c for c, b in self.channels.items() if b.isChecked()), sound=self.sound.isChecked(),
            message=self.message.text(), id=self._id,
        ).checked()

    def problems(self) -> list[str]:
        """What keeps the alert from being saved (empty when it can be)."""
        out = []
        lines = self.conditions.toPlainText().splitlines()
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            for e in self._validate(line):
                out.append(f"Line {i + 1}, column {e.column}: {e.message}"
                           + (f" — did you mean '{e.suggestion}'?" if e.suggestion else ""))
        if not out:
            try:
                self.template()
            except AlertError as exc:
                out.append(str(exc))
        return out

    # ------------------------------------------------------------------ slots
    def _on_conditions_changed(self) -> None:
        self._recheck()
        self._offer_completions()

    def _word_before_cursor(self) -> str:
        cur = self.conditions.textCursor()
        text = cur.block().text()[: cur.positionInBlock()]
        i = len(text)
        while i and (text[i - 1].isalnum() or text[i - 1] == "_"):
            i -= 1
        word = text[i:]
        return word if word and not word[0].isdigit() else ""

    def _offer_completions(self) -> None:
        """Show the names starting with the word being typed (two letters or more)."""
        if not self.conditions.hasFocus() and not self.conditions.isVisible():
            return
        word = self._word_before_cursor()
        if len(word) < 2:
            self.completer.popup().hide()
            return
        entries = list(self._words())
        self.completion_model.setStringList([w for w, _ in entries])
        self.completer.setCompletionPrefix(word)
        if self.completer.completionCount() == 0 or (self.completer.completionCount() == 1
                                                       and self.completer.currentCompletion() == word.lower()):
            self.completer.popup().hide()
            return
        rect = self.conditions.cursorRect()  # viewport coordinates; the completer wants the editor's
        rect.translate(self.conditions.viewport().pos())
        rect.setWidth(260)
        self.completer.complete(rect)

    def _on_completion_activated(self, text: str) -> None:
        """Replace the word being typed by the chosen name."""
        word = self._word_before_cursor()
        cur = self.conditions.textCursor()
        cur.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, len(word))
        cur.insertText(text)
        self.conditions.setTextCursor(cur)

    def _recheck(self) -> None:
        problems = self.problems()
        self.problem.setText(problems[0] if problems else "✓ valid")
        self.problem.setStyleSheet("color: #ef5350;" if problems else "color: #26a69a;")
        self.save_button.setEnabled(not problems)
        self._mark_lines()

    def _mark_lines(self) -> None:
        """Underline the offending column of each bad line (positions from the formula errors)."""
        sels = []
        doc = self.conditions.document()
        for i, line in enumerate(self.conditions.toPlainText().splitlines()):
            if not line.strip():
                continue
            for e in self._validate(line):
                block = doc.findBlockByNumber(i)
                cur = QTextCursor(block)
                col = max(0, min(e.column - 1, len(line) - 1))
                cur.movePosition(QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.MoveAnchor, col)
                cur.movePosition(QTextCursor.MoveOperation.EndOfWord, QTextCursor.MoveMode.KeepAnchor)
                if not cur.hasSelection():
                    cur.movePosition(QTextCursor.MoveOperation.Right, QTextCursor.MoveMode.KeepAnchor)
                sel = QTextEdit.ExtraSelection()
                fmt = QTextCharFormat()
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
                fmt.setUnderlineColor(QColor("#ef5350"))
                sel.format = fmt  # type: ignore[attr-defined]
                sel.cursor = cur  # type: ignore[attr-defined]
                sels.append(sel)
        self.conditions.setExtraSelections(sels)

    def _on_scope_kind_changed(self) -> None:
        kind = self.scope_kind.currentData()
        text = self.scope_value.currentText()
        self.scope_value.blockSignals(True)
        self.scope_value.clear()
        if kind == "watchlist":
            self.scope_value.addItems(list(self._watchlists()))
        elif kind == "universe":
            self.scope_value.addItems(list(UNIVERSES))
        self.scope_value.setEditText(text if kind == "symbol" else self.scope_value.itemText(0) or text)
        self.scope_value.blockSignals(False)
        self._recheck()

    def _on_mode_changed(self) -> None:
        self.cooldown.setEnabled(self.mode.currentData() == "every")

    def _on_save_clicked(self) -> None:
        try:
            saved = self._save(self.template())
        except AlertError as exc:
            self.problem.setText(str(exc))
            self.problem.setStyleSheet("color: #ef5350;")
            return
        self._id = saved.id
        self.saved.emit(saved)


def utc_text(t: int | None) -> str:
    """Epoch seconds as local date and time for tables ("" for None)."""
    if t is None:
        return ""
    return dt.datetime.fromtimestamp(int(t)).strftime("%Y-%m-%d %H:%M")

