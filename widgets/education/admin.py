"""The education admin page: the service's courses and glossary terms; pick one, edit its JSON,
check it with the same validator the service uses, save (the service checks again and bumps
the version, so every app pulls the edit). Calls go through ``load``/``fetch``/``save``
callables the app runs in workers; the service refuses non-admins."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton, QSplitter, QVBoxLayout,
    QWidget,
)

from engine.education import content as ec

Run = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[BaseException], None]], None]


class EducationAdminDialog(QDialog):
    def __init__(self, run: Run, load: Callable[[], list[tuple[str, str]]],
                 fetch: Callable[[str, str], dict[str, Any]], save: Callable[[str, str, dict[str, Any]], int],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("educationAdmin")
        self.setWindowTitle("Education content (admin)")
        self.resize(960, 620)
        self.run, self.load, self.fetch, self.save_fn = run, load, fetch, save
        self.current: tuple[str, str] | None = None
        self.items = QListWidget()
        self.items.setObjectName("educationAdminItems")
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("educationAdminEditor")
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.status = QLabel("Loading…")
        self.status.setObjectName("educationAdminStatus")
        self.status.setWordWrap(True)
        self.check_btn = QPushButton("Check")
        self.check_btn.setObjectName("educationAdminCheck")
        self.save_btn = QPushButton("Save to the service")
        self.save_btn.setObjectName("educationAdminSave")
        split = QSplitter()
        split.addWidget(self.items)
        split.addWidget(self.editor)
        split.setSizes([260, 700])
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.check_btn)
        row.addWidget(self.save_btn)
        lay = QVBoxLayout(self)
        lay.addWidget(split, 1)
        lay.addLayout(row)
        self.items.currentItemChanged.connect(lambda cur, _p: cur is not None and self.open_item(*cur.data(256)))
        self.check_btn.clicked.connect(self.check)
        self.save_btn.clicked.connect(self.save)
        self.run(self.load, self._on_list, self._on_error)

    def _on_error(self, exc: BaseException) -> None:
        self.status.setText(f"<span style='color:#ef5350'>{exc}</span>")

    def _on_list(self, rows: list[tuple[str, str]]) -> None:
        self.items.clear()
        for kind, key in rows:
            it = QListWidgetItem(f"{'Course' if kind == 'course' else 'Term'}: {key}")
            it.setData(256, (kind, key))
            self.items.addItem(it)
        self.status.setText(f"{len(rows)} items. Pick one to edit.")

    def open_item(self, kind: str, key: str) -> None:
        self.current = (kind, key)
        self.status.setText(f"Loading {key}…")

        def shown(data: dict[str, Any]) -> None:
            if self.current == (kind, key):
                self.editor.setPlainText(json.dumps(data, indent=2, ensure_ascii=False))
                self.status.setText(f"{kind} {key}: edit, Check, then Save.")

        self.run(lambda: self.fetch(kind, key), shown, self._on_error)

    def parsed(self) -> dict[str, Any] | None:
        """The editor's JSON validated with the content rules; None (status says why) if not."""
        if self.current is None:
            return None
        try:
            data = json.loads(self.editor.toPlainText())
            if self.current[0] == "course":
                ec.course_from_dict(data, "course")
            else:
                ec.term_from_dict(data, "term")
        except (ValueError, ec.ContentError) as exc:
            self._on_error(exc)
            return None
        return data if isinstance(data, dict) else None

    def check(self) -> bool:
        ok = self.parsed() is not None
        if ok:
            self.status.setText("<span style='color:#26a69a'>Valid.</span>")
        return ok

    def save(self) -> None:
        data = self.parsed()
        if data is None or self.current is None:
            return
        kind, key = self.current
        self.save_btn.setEnabled(False)

        def saved(version: int) -> None:
            self.save_btn.setEnabled(True)
            self.status.setText(f"<span style='color:#26a69a'>Saved {key} as version {version}.</span>")

        def failed(exc: BaseException) -> None:
            self.save_btn.setEnabled(True)
            self._on_error(exc)

        self.run(lambda: self.save_fn(kind, key, data), saved, failed)
