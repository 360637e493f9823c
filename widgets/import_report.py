"""The import report: what a CSV import found, every problem with its line, copyable.

A toast vanishes after a few seconds and runs the problems together; this dialog keeps
them, one per line, in a read-only text view with a Copy button. It opens when an import
fails, and after a successful one that has notes (a header one column short, skipped
rows, a decimal comma …).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget,
)

from engine.data.errors import CsvFormatError


class ImportReportDialog(QDialog):
    """``headline``: one sentence; ``problems``: ``(line, message)`` pairs (line 0 = the
    whole file); ``notes``: sentences. ``text()`` is what Copy puts on the clipboard."""

    def __init__(self, path: str | Path, headline: str, problems: list[tuple[int, str]] | None = None,
                 notes: tuple[str, ...] | list[str] = (), *, unit: str = "line", failed: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importReport")
        self.path = Path(path)
        self.headline = headline
        self.problems = list(problems or [])
        self.notes = tuple(notes)
        self.unit = unit
        self.failed = failed
        self.setWindowTitle(f"Import report — {self.path.name}")
        self.setMinimumSize(560, 320)

        title = QLabel(headline)
        title.setObjectName("importHeadline")
        title.setWordWrap(True)
        f = title.font()
        f.setBold(True)
        title.setFont(f)
        where = QLabel(str(self.path))
        where.setObjectName("hint")
        where.setWordWrap(True)

        self.view = QPlainTextEdit(self.body())
        self.view.setObjectName("importProblems")
        self.view.setReadOnly(True)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.view.setFont(mono)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("importCopy")
        self.copy_button.setToolTip("Copy the whole report to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(where)
        lay.addWidget(self.view, 1)
        lay.addWidget(buttons)

    # ------------------------------------------------------------------ builders
    @classmethod
    def for_error(cls, path: str | Path, exc: BaseException, parent: QWidget | None = None) -> "ImportReportDialog":
        """The report of a failed import: every problem of a ``CsvFormatError`` with its
        line and the reader's notes; any other error as its sentence."""
        if isinstance(exc, CsvFormatError):
            return cls(path, exc.summary, exc.problems, exc.notes, unit=exc.unit, parent=parent)
        return cls(path, f"{Path(path).name} was not imported; nothing was changed.",
                   [(0, str(exc))], parent=parent)

    @classmethod
    def for_result(cls, path: str | Path, result: object, parent: QWidget | None = None) -> "ImportReportDialog":
        """The report of a successful import (``engine.data.service.ImportResult``) and its notes."""
        from engine.data.bars import timeframe_label

        r = result
        headline = (f"Imported {r.rows:,} bars of {r.symbol} ({timeframe_label(r.timeframe)}), "  # type: ignore[attr-defined]
                    f"{r.first} → {r.last}.")  # type: ignore[attr-defined]
        return cls(path, headline, [], tuple(getattr(r, "notes", ())), failed=False, parent=parent)

    # ------------------------------------------------------------------ content
    def problem_lines(self) -> list[str]:
        return [f"{self.unit} {line}: {msg}" if line > 0 else msg for line, msg in self.problems]

    def body(self) -> str:
        parts: list[str] = []
        if self.problems:
            n = len(self.problems)
            parts.append(f"{n} problem{'s' if n != 1 else ''}:")
            parts += [f"  {ln}" for ln in self.problem_lines()]
        if self.notes:
            if parts:
                parts.append("")
            parts.append("Notes:")
            parts += [f"  {n}" for n in self.notes]
        if not parts:
            parts.append("No problems and nothing to note.")
        return "\n".join(parts)

    def text(self) -> str:
        return f"{self.headline}\n{self.path}\n\n{self.body()}\n"

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())
        self.copy_button.setText("Copied")
