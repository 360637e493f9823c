"""Import a broker CSV into the journal through a column mapping.

Pick a file; its first rows are previewed and each field the journal needs gets a combo of
the file's columns (required ones marked *). Choose a built-in mapping (IBKR Flex, Generic),
one saved earlier, or map by hand; a mapping can be saved under a name and is offered next
time. The import (``engine.journal.imports.import_broker_csv``) runs in a worker; the
dialog then shows what was added, what was already in the journal (skipped), the positions
still open, or every refused line as the engine reports it (nothing is imported then).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.journal.exports import ImportProblem
from engine.journal.imports import BUILTIN_MAPPINGS, BrokerImport, ColumnMapping, import_broker_csv
from engine.journal.store import JournalStore
from widgets.tasks import TaskSubmitter

#: (ColumnMapping field, label, required)
FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("symbol", "Symbol", True),
    ("side", "Side (empty: signed quantity)", False),
    ("qty", "Quantity", True),
    ("price", "Price", True),
    ("fee", "Fee", False),
    ("time", "Time", True),
    ("date", "Date (when separate)", False),
)
PREVIEW_ROWS = 10
BY_HAND = "Map by hand"
SAVED_PREFIX = "Saved: "
MAX_PREVIEW_BYTES = 256_000


def read_preview(path: str | Path, rows: int = PREVIEW_ROWS) -> tuple[list[str], list[list[str]]]:
    """The header and first ``rows`` rows of the CSV at ``path``. Raises ``ValueError``
    (one sentence) when it cannot be read as a CSV with a header."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read(MAX_PREVIEW_BYTES)
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{Path(path).name} cannot be read as a text CSV ({exc.__class__.__name__})") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise ValueError(f"{Path(path).name} has no header row")
    body = []
    for row in reader:
        if len(body) >= rows:
            break
        body.append(row)
    return [h.strip() for h in header], body


class ImportDialog(QDialog):
    """The broker-CSV import dialog (see the module docstring)."""

    import_finished = Signal(object)  # BrokerImport or ImportProblem / Exception

    def __init__(self, store: JournalStore, tasks: TaskSubmitter | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("journal_import_dialog")
        self.setWindowTitle("Import trades from a broker CSV")
        self.store = store
        self.tasks = tasks
        self.header: list[str] = []
        self.result: BrokerImport | None = None
        self.running = False
        v = QVBoxLayout(self)

        row = QHBoxLayout()
        self.path = QLineEdit(placeholderText="CSV file of executions…")
        self.path.setObjectName("journal_import_path")
        self.browse = QPushButton("Browse…")
        row.addWidget(QLabel("File"))
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        v.addLayout(row)

        self.preview_model = QStandardItemModel(self)
        self.preview = QTableView()
        self.preview.setObjectName("journal_import_preview")
        self.preview.setModel(self.preview_model)
        self.preview.setMinimumHeight(160)
        v.addWidget(self.preview, 2)

        mrow = QHBoxLayout()
        self.mapping = QComboBox()
        self.mapping.setObjectName("journal_import_mapping")
        mrow.addWidget(QLabel("Mapping"))
        mrow.addWidget(self.mapping, 1)
        self.save_name = QLineEdit(placeholderText="name to save this mapping as")
        self.save_btn = QPushButton("Save mapping")
        mrow.addWidget(self.save_name, 1)
        mrow.addWidget(self.save_btn)
        v.addLayout(mrow)

        form = QFormLayout()
        self.columns: dict[str, QComboBox] = {}
        for name, label, required in FIELDS:
            c = QComboBox()
            c.setObjectName(f"journal_import_{name}")
            self.columns[name] = c
            form.addRow(f"{label} *" if required else label, c)
        self.time_format = QLineEdit("iso")
        self.time_format.setToolTip("iso, or a strptime format such as %Y%m%d;%H%M%S")
        self.tz = QLineEdit("UTC")
        self.account = QLineEdit(placeholderText="broker or account name (optional)")
        form.addRow("Time format", self.time_format)
        form.addRow("Time zone", self.tz)
        form.addRow("Account", self.account)
        form.addRow(QLabel("* required"))
        v.addLayout(form)

        self.status = QLabel()
        self.status.setObjectName("journal_import_status")
        self.status.setWordWrap(True)
        self.problems = QPlainTextEdit(readOnly=True)
        self.problems.setObjectName("journal_import_problems")
        self.problems.setMaximumHeight(120)
        self.problems.hide()
        v.addWidget(self.status)
        v.addWidget(self.problems)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.import_btn = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.ActionRole)
        self.import_btn.setEnabled(False)
        v.addWidget(self.buttons)

        self.browse.clicked.connect(self._on_browse_clicked)
        self.path.editingFinished.connect(lambda: self.load_file(self.path.text()))
        self.mapping.activated.connect(lambda _i: self.apply_mapping(self.mapping.currentText()))
        self.save_btn.clicked.connect(self.save_mapping)
        self.import_btn.clicked.connect(self.run_import)
        self.buttons.rejected.connect(self.reject)
        self.import_finished.connect(self._on_import_finished)
        self.refresh_mappings()
        self.resize(900, 640)

    # ---------------------------------------------------------------- mappings
    def refresh_mappings(self) -> None:
        """Offer the built-in and the saved mappings (and mapping by hand)."""
        current = self.mapping.currentText()
        self.mapping.clear()
        self.mapping.addItem(BY_HAND)
        self.mapping.addItems(list(BUILTIN_MAPPINGS))
        self.mapping.addItems([SAVED_PREFIX + n for n in self.store.mappings()])
        if current:
            self.mapping.setCurrentText(current)

    def mapping_names(self) -> list[str]:
        return [self.mapping.itemText(i) for i in range(self.mapping.count())]

    def _mapping_named(self, text: str) -> ColumnMapping | None:
        if text in BUILTIN_MAPPINGS:
            return BUILTIN_MAPPINGS[text]
        if text.startswith(SAVED_PREFIX):
            d = self.store.mappings().get(text[len(SAVED_PREFIX):])
            if d is not None:
                try:
                    return ColumnMapping.from_dict(d)
                except (TypeError, ValueError) as exc:
                    self._error(f"The saved mapping cannot be used: {exc}")
        return None

    def apply_mapping(self, text: str) -> None:
        """Fill the column combos from mapping ``text`` (a name in the mapping combo)."""
        self.mapping.setCurrentText(text)
        m = self._mapping_named(text)
        if m is None:
            return
        for name, c in self.columns.items():
            col = getattr(m, name)
            i = next((k for k in range(c.count()) if c.itemText(k).lower() == col.lower()), -1)
            if i < 0 and col:
                c.addItem(col)  # keep the mapping's column even if this file lacks it: the import says so
                i = c.count() - 1
            c.setCurrentIndex(max(i, 0))
        self.time_format.setText(m.time_format)
        self.tz.setText(m.tz)
        self._update_state()

    def current_mapping(self, name: str = "by hand") -> ColumnMapping:
        """The mapping the form shows. Raises ``ValueError`` naming a missing required column."""
        m = self._mapping_named(self.mapping.currentText())
        cols = {n: c.currentText().strip() for n, c in self.columns.items()}
        kw: dict[str, Any] = {"buy_words": m.buy_words, "sell_words": m.sell_words} if m is not None else {}
        return ColumnMapping(name, **cols, time_format=self.time_format.text().strip() or "iso",
                             tz=self.tz.text().strip() or "UTC", **kw)

    def save_mapping(self) -> bool:
        """Save the form's mapping under the name typed; it is offered from now on."""
        name = self.save_name.text().strip()
        try:
            if not name:
                raise ValueError("type a name to save the mapping under")
            self.store.save_mapping(name, self.current_mapping(name).to_dict())
        except ValueError as exc:
            self._error(str(exc))
            return False
        self.refresh_mappings()
        self.mapping.setCurrentText(SAVED_PREFIX + name)
        self._info(f"Mapping '{name}' saved.")
        return True

    # ---------------------------------------------------------------- file
    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Broker CSV", "", "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.load_file(path)

    def load_file(self, path: str) -> bool:
        """Preview ``path`` and offer its columns; False (reason shown) if it cannot be read."""
        path = path.strip()
        if not path:
            return False
        self.path.setText(path)
        try:
            self.header, rows = read_preview(path)
        except ValueError as exc:
            self.header = []
            self.preview_model.clear()
            self._error(str(exc))
            self._update_state()
            return False
        self.preview_model.clear()
        self.preview_model.setHorizontalHeaderLabels(self.header)
        for r in rows:
            self.preview_model.appendRow([QStandardItem(x) for x in r[:len(self.header)]])
        # rows are labelled with their line in the file (header = line 1), as refusals are
        self.preview_model.setVerticalHeaderLabels([str(i + 2) for i in range(len(rows))])
        self.preview.resizeColumnsToContents()
        for name, c in self.columns.items():
            c.clear()
            c.addItems(["", *self.header])
            guess = next((h for h in self.header if h.lower() == name), "")
            c.setCurrentText(guess)
        self._info(f"{len(self.header)} columns; the first {len(rows)} rows are shown.")
        if self.mapping.currentText() != BY_HAND:
            self.apply_mapping(self.mapping.currentText())
        self._update_state()
        return True

    # ---------------------------------------------------------------- import
    def _update_state(self) -> None:
        self.import_btn.setEnabled(bool(self.header) and not self.running)

    def run_import(self) -> None:
        """Import the file with the form's mapping (in a worker when there is a task runner)."""
        try:
            mapping = self.current_mapping(self.mapping.currentText())
        except ValueError as exc:
            self._error(str(exc))
            return
        path, account = self.path.text().strip(), self.account.text().strip()
        self.running = True
        self._update_state()
        self._info("Importing…")
        if self.tasks is None:
            try:
                self.import_finished.emit(import_broker_csv(self.store, path, mapping, account))
            except (ValueError, OSError) as exc:
                self.import_finished.emit(exc)
            return
        self.tasks.submit(import_broker_csv, self.store, path, mapping, account, label="Journal: broker import",
                          on_result=self.import_finished.emit, on_error=self.import_finished.emit)

    def _on_import_finished(self, res: object) -> None:
        self.running = False
        self._update_state()
        self.problems.clear()
        if isinstance(res, BrokerImport):
            self.result = res
            text = f"{res.added} trades added, {res.existing} skipped (already in the journal)."
            if res.open_positions:
                text += " Still open at the end of the file (not journalled): " + ", ".join(res.open_positions) + "."
            self._info(text)
            self.problems.hide()
            return
        if isinstance(res, ImportProblem):
            self._error(f"Refused: {res.summary}.")
            self.problems.setPlainText("\n".join(f"line {line}: {msg}" for line, msg in res.problems))
            self.problems.show()
            return
        self._error(f"The import failed: {res}")

    def _info(self, text: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(text)

    def _error(self, text: str) -> None:
        self.status.setStyleSheet("color: #ef5350")
        self.status.setText(text)
