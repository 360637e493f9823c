"""The "update available" dialog: the new version, the running one, the release notes from
the target's signed custom metadata (shown as plain text: nothing in them is loaded or run)."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget


class UpdateDialog(QDialog):
    """Accepted = "Install on restart"; rejected = "Later"."""

    def __init__(self, version: str, current: str, notes: str, channel: str = "stable",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("updateDialog")
        self.setWindowTitle("Update available")
        lay = QVBoxLayout(self)
        head = QLabel(f"Stock Scanner {version} is available{' (beta)' if channel == 'beta' else ''}. "
                      f"You have {current}.")
        head.setObjectName("updateHeading")
        font = head.font()
        font.setBold(True)
        head.setFont(font)
        head.setWordWrap(True)
        lay.addWidget(head)
        lay.addWidget(QLabel("What's new:"))
        self.notes = QPlainTextEdit(notes.strip() or "(no release notes)")
        self.notes.setReadOnly(True)
        self.notes.setObjectName("updateNotes")
        lay.addWidget(self.notes, 1)
        foot = QLabel("It was downloaded and verified. It installs beside this version when you "
                      "restart; if it does not start, this version keeps running.")
        foot.setWordWrap(True)
        lay.addWidget(foot)
        buttons = QDialogButtonBox()
        self.install_button = buttons.addButton("Install on restart", QDialogButtonBox.ButtonRole.AcceptRole)
        self.later_button = buttons.addButton("Later", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(520, 380)
