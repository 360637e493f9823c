"""Settings dialog: data source, data folder, theme, service URL, proxy, paper trading
(order confirmation and its notional, hotkey trading, the distance from the market that asks).

Values are checked with the settings schema's validators (the feature modules' keys), so
the dialog and the file agree on what is valid.
"""
from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.settings import DATA_SOURCES, AppSettings
from app.theme import HINT, style_hint
from engine import paths


class SettingsDialog(QDialog):
    """Edits ``AppSettings``; ``changed`` holds the keys that differ after OK."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.settings = settings
        self.changed: dict[str, object] = {}

        self.source = QComboBox(objectName="dataSource")
        for key, label in DATA_SOURCES.items():
            self.source.addItem(label, key)
        self.source.setCurrentIndex(max(0, self.source.findData(settings.get("data/source"))))
        self.folder = QLineEdit(str(paths.data_dir()), objectName="dataFolder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        self.theme = QComboBox(objectName="theme")
        self.theme.addItems(["dark", "light"])
        self.theme.setCurrentText(str(settings.get("ui/theme")))
        self.service = QLineEdit(str(settings.get("service/url") or ""), objectName="serviceUrl")
        self.service.setPlaceholderText("empty = the built-in service on 127.0.0.1")
        self.embedded = QCheckBox("Start the built-in service when no service URL is set",
                                  objectName="serviceEmbedded")
        self.embedded.setChecked(bool(settings.get("service/embedded", True)))
        self.proxy = QLineEdit(str(settings.get("network/proxy") or ""), objectName="proxy")
        self.proxy.setPlaceholderText("e.g. http://proxy.example:3128 (empty = none)")
        self.confirm = QCheckBox("Confirm orders before sending", objectName="tradingConfirm")
        self.confirm.setChecked(bool(settings.get("trading/confirm_orders")))
        self.confirm_above = QLineEdit(_number(settings.get("trading/confirm_above")), objectName="tradingConfirmAbove")
        self.confirm_above.setPlaceholderText("dollars; 0 = every order")
        self.confirm.toggled.connect(self.confirm_above.setEnabled)
        self.confirm_above.setEnabled(self.confirm.isChecked())
        self.hotkeys = QCheckBox("Hotkey trading (Shift+B buy, Shift+S sell, Shift+F flatten)", objectName="tradingHotkeys")
        self.hotkeys.setChecked(bool(settings.get("trading/hotkeys")))
        self.distance = QLineEdit(_number(settings.get("trading/max_distance_pct")), objectName="tradingMaxDistance")
        self.distance.setPlaceholderText("percent, e.g. 10")
        self.error = QLabel("", objectName="settingsError")
        self.error.setStyleSheet("color: #ef5350;")
        self.error.setWordWrap(True)

        data_box = QGroupBox("Data source")
        df = QFormLayout(data_box)
        df.addRow("Market data:", self.source)
        df.addRow("Data folder:", folder_row)
        note = QLabel("A new data folder is used from the next start.")
        note.setObjectName(HINT)
        style_hint(note)
        df.addRow("", note)
        ui_box = QGroupBox("Appearance")
        uf = QFormLayout(ui_box)
        uf.addRow("Theme:", self.theme)
        net_box = QGroupBox("Network")
        nf = QFormLayout(net_box)
        nf.addRow("Service URL:", self.service)
        nf.addRow("", self.embedded)
        nf.addRow("HTTP proxy:", self.proxy)

        trade_box = QGroupBox("Paper trading")
        tf = QFormLayout(trade_box)
        tf.addRow("", self.confirm)
        tf.addRow("Confirm orders above ($):", self.confirm_above)
        tf.addRow("", self.hotkeys)
        tf.addRow("Ask when a price is more than (%):", self.distance)
        trade_note = QLabel("A price farther than this from the market (its last price) is asked about before "
                            "the order is sent; a stop that would trigger at once is always refused.")
        trade_note.setObjectName(HINT)
        trade_note.setWordWrap(True)
        style_hint(trade_note)
        tf.addRow("", trade_note)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        for w in (data_box, ui_box, net_box, trade_box):
            lay.addWidget(w)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Data folder", self.folder.text())
        if d:
            self.folder.setText(d)

    def validate(self) -> str:
        """The first problem with the form, or "" if it can be saved."""
        for key, value in self._values().items():
            problem = self.settings.validate(key, value)
            if problem:
                return problem
        folder = self.folder.text().strip()
        if folder and folder != str(paths.data_dir()):
            try:
                paths.ensure_writable(paths.Path(folder).expanduser())
            except paths.DataDirError as exc:
                return str(exc)
        return ""

    def _values(self) -> dict[str, object]:
        return {
            "data/source": self.source.currentData(),
            "ui/theme": self.theme.currentText(),
            "service/url": self.service.text().strip(),
            "service/embedded": self.embedded.isChecked(),
            "network/proxy": self.proxy.text().strip(),
            "trading/confirm_orders": self.confirm.isChecked(),
            "trading/confirm_above": _typed(self.confirm_above.text(), "Confirm orders above"),
            "trading/hotkeys": self.hotkeys.isChecked(),
            "trading/max_distance_pct": _typed(self.distance.text(), "The distance from the market"),
        }

    def accept(self) -> None:
        try:
            problem = self.validate()
        except ValueError as exc:
            problem = str(exc)
        if problem:
            self.error.setText(problem)
            return
        new = self._values()
        self.changed = {k: v for k, v in new.items() if _differs(self.settings.get(k), v)}
        for k, v in self.changed.items():
            self.settings.set(k, v)
        folder = self.folder.text().strip()
        if folder and folder != str(paths.data_dir()):
            paths.choose_data_dir(folder)
            self.changed["data/folder"] = folder
        self.settings.sync()
        super().accept()


def _number(value: object) -> str:
    """A numeric setting for an edit field: ``5000``, ``2.5`` (no ``5000.0``)."""
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return f"{f:.10g}"


def _typed(text: str, what: str) -> float:
    """A number typed in the form ("5,000" is fine); raises ``ValueError`` with one sentence."""
    t = text.strip().replace(",", "").replace("$", "").rstrip("%").strip()
    try:
        return float(t)
    except ValueError:
        raise ValueError(f"{what}: {text.strip() or 'nothing'!r} is not a number.") from None


def _differs(old: object, new: object) -> bool:
    if isinstance(new, (bool, float)):
        try:
            return (bool(old) if isinstance(new, bool) else float(old)) != new  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return True
    return str(old or "") != str(new or "")
