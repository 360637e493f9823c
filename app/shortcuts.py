"""The keyboard shortcuts dialog (Help → Keyboard shortcuts…): every action of the window with
its shortcut, editable; a shortcut another action has is refused naming that action. Changes
apply at once and are kept in the store's kv table (``ui.shortcuts``: action key → key
sequence, "" for none), applied again at start.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app.palette import _plain, describe, window_actions

if TYPE_CHECKING:
    from app.mainwindow import MainWindow

KV_NAME = "shortcuts"  # ctx.ui key -> "ui.shortcuts"
NATIVE = QKeySequence.SequenceFormat.PortableText


class ShortcutConflict(ValueError):
    pass


def action_key(a: QAction) -> str:
    """A stable key for an action: its objectName (feature ids, dock ids), else its text."""
    return a.objectName() or "text:" + _plain(a.text())


def name_actions(window: "MainWindow") -> None:
    """Give the window's actions stable object names where they have none."""
    for aid, a in window.feature_actions.items():
        if not a.objectName():
            a.setObjectName(aid)
    for iid, a in window.view_toggles.items():
        if not a.objectName():
            a.setObjectName(f"dock.{iid}")


def defaults(window: "MainWindow") -> dict[str, str]:
    d = getattr(window, "_shortcut_defaults", None)
    if d is None:
        d = {action_key(a): a.shortcut().toString(NATIVE) for a in window_actions(window)}
        window._shortcut_defaults = d  # type: ignore[attr-defined]
    return d


def owner_of(window: "MainWindow", seq: str, exclude: QAction | None = None) -> QAction | None:
    if not seq:
        return None
    want = QKeySequence(seq)
    for a in window_actions(window):
        if a is not exclude and not a.shortcut().isEmpty() and a.shortcut().matches(want) == QKeySequence.SequenceMatch.ExactMatch:
            return a
    return None


def assign(window: "MainWindow", a: QAction, seq: str) -> None:
    """Give ``a`` the shortcut ``seq`` ("" = none) now and keep it; ShortcutConflict when
    another action has it."""
    seq = QKeySequence(seq).toString(NATIVE) if seq else ""
    if seq and QKeySequence(seq).isEmpty():
        raise ShortcutConflict(f"{seq!r} is not a key sequence")
    other = owner_of(window, seq, exclude=a)
    if other is not None:
        raise ShortcutConflict(f"{seq} is already the shortcut of “{describe(window, other)}”; "
                               "change or clear that one first")
    defaults(window)  # remember the shipped ones before the first change
    a.setShortcut(QKeySequence(seq))
    saved = dict(window.ctx.ui.get(KV_NAME) or {})
    saved[action_key(a)] = seq
    window.ctx.ui.set(KV_NAME, saved)


def apply_saved(window: "MainWindow") -> None:
    name_actions(window)
    defaults(window)
    saved = window.ctx.ui.get(KV_NAME) or {}
    if not isinstance(saved, dict):
        return
    by_key = {action_key(a): a for a in window_actions(window)}
    for key, seq in saved.items():
        a = by_key.get(key)
        if a is not None and isinstance(seq, str):
            a.setShortcut(QKeySequence(seq))


class ShortcutsDialog(QDialog):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.window_ = window
        self.filter = QLineEdit(objectName="shortcutFilter", placeholderText="Filter…")
        self.table = QTableWidget(0, 2, objectName="shortcutTable")
        self.table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 420)
        self.editor = QKeySequenceEdit(objectName="shortcutEditor")
        self.editor.setMaximumSequenceLength(1)
        self.assign_button = QPushButton("Assign", objectName="shortcutAssign")
        self.clear_button = QPushButton("Clear", objectName="shortcutClear")
        self.reset_button = QPushButton("Default", objectName="shortcutDefault")
        self.error = QLabel(objectName="shortcutError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #ef5350;")  # as the Settings dialog's errors
        row = QHBoxLayout()
        row.addWidget(QLabel("New shortcut:"))
        row.addWidget(self.editor, 1)
        for b in (self.assign_button, self.clear_button, self.reset_button):
            row.addWidget(b)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.filter)
        lay.addWidget(self.table, 1)
        lay.addLayout(row)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.resize(760, 560)
        self.actions_: list[QAction] = sorted(window_actions(window), key=lambda a: describe(window, a).lower())
        self.filter.textChanged.connect(self.populate)
        self.table.currentCellChanged.connect(lambda *_: self._selected_changed())
        self.assign_button.clicked.connect(lambda: self.set_selected(self.editor.keySequence().toString(NATIVE)))
        self.clear_button.clicked.connect(lambda: self.set_selected(""))
        self.reset_button.clicked.connect(self._reset_selected)
        self.populate("")

    def populate(self, text: str = "") -> None:
        t = text.lower()
        self.shown = [a for a in self.actions_
                      if t in describe(self.window_, a).lower() or t in a.shortcut().toString().lower()]
        self.table.setRowCount(len(self.shown))
        for r, a in enumerate(self.shown):
            self.table.setItem(r, 0, QTableWidgetItem(describe(self.window_, a)))
            self.table.setItem(r, 1, QTableWidgetItem(a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)))
        if self.shown:
            self.table.setCurrentCell(0, 0)

    def selected(self) -> QAction | None:
        r = self.table.currentRow()
        return self.shown[r] if 0 <= r < len(self.shown) else None

    def select(self, a: QAction) -> None:
        self.filter.setText("")
        self.table.setCurrentCell(self.shown.index(a), 0)

    def _selected_changed(self) -> None:
        a = self.selected()
        self.editor.setKeySequence(a.shortcut() if a is not None else QKeySequence())
        self.error.setText("")

    def set_selected(self, seq: str) -> bool:
        a = self.selected()
        if a is None:
            return False
        try:
            assign(self.window_, a, seq)
        except ShortcutConflict as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        r = self.table.currentRow()
        self.table.item(r, 1).setText(a.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
        return True

    def _reset_selected(self) -> None:
        a = self.selected()
        if a is not None:
            self.set_selected(defaults(self.window_).get(action_key(a), ""))


def open_shortcuts(window: "MainWindow") -> Any:
    dlg = ShortcutsDialog(window)
    dlg.open()
    return dlg
