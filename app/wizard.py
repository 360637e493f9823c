"""The first-run wizard: data source (demo / Yahoo / import a CSV), theme, and an optional
account page that explains and offers "Later". Shown once, on the first start of a data folder
(kv ``ui.first_run_done``), unless ``STOCKSCANNER_FIRST_RUN_WIZARD=0`` (tests/conftest.py sets it);
Help → First-run wizard… opens it again.

The choices go through the same path as the Settings dialog (``settings.set`` then
``window.apply_settings``), so every feature reacts as it does there.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

if TYPE_CHECKING:
    from app.mainwindow import MainWindow

DONE_KEY = "first_run_done"  # ctx.ui -> kv "ui.first_run_done"
ENV = "STOCKSCANNER_FIRST_RUN_WIZARD"


def _hint(text: str) -> QLabel:
    from app import theme

    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName(theme.HINT)
    theme.style_hint(label)
    return label


class FirstRunWizard(QWizard):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.setObjectName("firstRunWizard")
        self.setWindowTitle("Welcome to Stock Scanner")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.window_ = window
        settings = window.ctx.settings

        # -- data source
        p1 = QWizardPage(objectName="wizardData")
        p1.setTitle("Where should prices come from?")
        p1.setSubTitle("You can change this later in Settings → General → Data source.")
        self.demo = QRadioButton("Demo data — generated prices, works offline (good for a first look)",
                                 objectName="wizardDemo")
        self.yahoo = QRadioButton("Yahoo Finance — real daily and intraday bars, needs the internet",
                                  objectName="wizardYahoo")
        self.csv = QRadioButton("Import a CSV file of bars (Yahoo, Stooq or generic OHLCV)", objectName="wizardCsv")
        self.sources = QButtonGroup(self)
        for b in (self.demo, self.yahoo, self.csv):
            self.sources.addButton(b)
        (self.yahoo if settings.get("data/source") == "yahoo" else self.demo).setChecked(True)
        self.csv_path = QLineEdit(objectName="wizardCsvPath", placeholderText="path of a .csv file")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.csv_path, 1)
        row.addWidget(browse)
        self.csv_error = QLabel(objectName="wizardCsvError")
        self.csv_error.setStyleSheet("color: #ef5350;")
        l1 = QVBoxLayout(p1)
        for b in (self.demo, self.yahoo, self.csv):
            l1.addWidget(b)
        l1.addLayout(row)
        l1.addWidget(self.csv_error)
        l1.addWidget(_hint("A CSV is imported into the local store and its symbol opens in the chart; the "
                           "source for other symbols stays demo data until you choose Yahoo."))
        l1.addStretch(1)
        p1.validatePage = self._validate_data  # type: ignore[method-assign]
        self.addPage(p1)

        # -- theme
        p2 = QWizardPage(objectName="wizardTheme")
        p2.setTitle("Theme")
        p2.setSubTitle("Dark suits long sessions in front of charts; light suits bright rooms and printing.")
        self.dark = QRadioButton("Dark", objectName="wizardDark")
        self.light = QRadioButton("Light", objectName="wizardLight")
        (self.light if settings.get("ui/theme") == "light" else self.dark).setChecked(True)
        self.light.toggled.connect(lambda on: window.set_theme("light" if on else "dark"))  # preview
        l2 = QVBoxLayout(p2)
        l2.addWidget(self.dark)
        l2.addWidget(self.light)
        l2.addWidget(_hint("The theme changes as you pick it; View → Theme switches it later."))
        l2.addStretch(1)
        self.addPage(p2)

        # -- account (optional)
        p3 = QWizardPage(objectName="wizardAccount")
        p3.setTitle("An account (optional)")
        p3.setSubTitle("Everything works without one.")
        l3 = QVBoxLayout(p3)
        l3.addWidget(_hint(
            "An account on a Stock Scanner service keeps your watchlists, alerts, journal and workspaces in "
            "step between your computers, and lets you publish workspaces for others. Your data stays in the "
            "local store either way; nothing leaves this machine until you sign in."))
        self.account_button = QPushButton("Sign in or create an account…", objectName="wizardAccountButton")
        self.account_button.clicked.connect(self._open_account)
        self.later = QPushButton("Later", objectName="wizardLater")
        self.later.clicked.connect(self.accept)
        row3 = QHBoxLayout()
        row3.addWidget(self.account_button)
        row3.addWidget(self.later)
        row3.addStretch(1)
        l3.addLayout(row3)
        l3.addWidget(_hint("Account → Account… opens this later."))
        l3.addStretch(1)
        self.addPage(p3)
        self.resize(640, 440)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a bar CSV", "", "CSV files (*.csv);;All files (*)")
        if path:
            self.csv_path.setText(path)
            self.csv.setChecked(True)

    def _validate_data(self) -> bool:
        if self.csv.isChecked() and not os.path.isfile(self.csv_path.text().strip()):
            self.csv_error.setText("Choose an existing CSV file, or pick demo data or Yahoo.")
            return False
        self.csv_error.setText("")
        return True

    def _open_account(self) -> None:
        act = self.window_.feature_actions.get("account.open")
        if act is not None:
            act.trigger()

    def chosen_source(self) -> str:
        return "yahoo" if self.yahoo.isChecked() else "demo"

    def accept(self) -> None:
        """Apply what was chosen (also when "Later" ends the wizard on the last page)."""
        w = self.window_
        settings = w.ctx.settings
        changed: dict[str, object] = {}
        for key, value in (("data/source", self.chosen_source()), ("ui/theme", "light" if self.light.isChecked() else "dark")):
            if settings.get(key) != value:
                settings.set(key, value)
                changed[key] = value
        if changed:
            w.apply_settings(changed)
        if self.csv.isChecked() and self.csv_path.text().strip():
            w.import_csv(self.csv_path.text().strip())
        w.ctx.ui.set(DONE_KEY, True)
        super().accept()

    def reject(self) -> None:
        self.window_.ctx.ui.set(DONE_KEY, True)  # closed: not shown again at start (Help has it)
        self.window_.set_theme(str(self.window_.ctx.settings.get("ui/theme")))  # undo a preview
        super().reject()


def should_show(window: "MainWindow") -> bool:
    return os.environ.get(ENV, "1") != "0" and not window.ctx.ui.get(DONE_KEY, False)


def open_wizard(window: "MainWindow") -> FirstRunWizard:
    wiz = FirstRunWizard(window)
    window._wizard = wiz  # type: ignore[attr-defined]  # kept until it closes
    wiz.open()
    return wiz


def maybe_open_at_start(window: "MainWindow") -> FirstRunWizard | None:
    return open_wizard(window) if should_show(window) else None
