"""Settings dialog: data source, data folder, theme, service URL, proxy, paper trading
(order confirmation and its notional, hotkey trading, the distance from the market that asks),
then a tab for each other feature that declares preference keys, built from its
``Feature.settings`` (a check box for a ``bool``, a list for keys with ``choices``, a field
otherwise; the key's description under it), so a new feature's keys are editable without
touching this file.

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
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.features import Feature, SettingKey
from app.settings import DATA_SOURCES, AppSettings
from app.theme import HINT, style_hint
from engine import paths


class SettingsDialog(QDialog):
    """Edits ``AppSettings``; ``changed`` holds the keys that differ after OK."""

    #: keys the hand-made General and Paper trading tabs edit (every other key gets a generic row)
    FIXED_KEYS = frozenset({"data/source", "ui/theme", "service/url", "service/embedded", "network/proxy",
                            "trading/confirm_orders", "trading/confirm_above", "trading/hotkeys",
                            "trading/max_distance_pct"})

    def __init__(self, settings: AppSettings, parent: QWidget | None = None,
                 features: list[Feature] | None = None, section: str = "") -> None:
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
        self.tabs = QTabWidget(objectName="settingsTabs")
        general = QWidget()
        gl = QVBoxLayout(general)
        for w in (data_box, ui_box, net_box):
            gl.addWidget(w)
        gl.addStretch(1)
        self.tabs.addTab(general, "General")
        trading = QWidget()
        tl = QVBoxLayout(trading)
        tl.addWidget(trade_box)
        self.tabs.addTab(trading, "Paper trading")
        self._tab_ids = ["general", "trading"]
        #: generic editors: key -> (spec, read the typed value)
        self.fields: dict[str, tuple[SettingKey, QWidget]] = {}
        self._feature_tabs(features)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        if section in self._tab_ids:
            self.tabs.setCurrentIndex(self._tab_ids.index(section))
        self.resize(600, min(max(self.sizeHint().height(), 420), 700))

    # ------------------------------------------------------------------ generic feature tabs
    def _feature_tabs(self, features: list[Feature] | None) -> None:
        if features is None:
            from app.features import FEATURES

            features = list(FEATURES)
        for feature in features:
            keys = [k for k in feature.settings if k.key not in self.FIXED_KEYS and k.key in self.settings.schema]
            if not keys:
                continue
            if feature.id == "trading":  # its other keys join the hand-made Paper trading tab
                page_layout = self.tabs.widget(1).layout()
                box = QGroupBox("More")
                form = QFormLayout(box)
                page_layout.addWidget(box)  # type: ignore[union-attr]
            else:
                page = QWidget()
                form = QFormLayout(page)
                scroll = QScrollArea()
                scroll.setWidgetResizable(True)
                scroll.setWidget(page)
                self.tabs.addTab(scroll, feature.title)
                self._tab_ids.append(feature.id)
            for spec in keys:
                self._add_field(form, spec)
            if feature.id == "health":
                self._add_restore_button(form)
        trading_layout = self.tabs.widget(1).layout()
        trading_layout.addStretch(1)  # type: ignore[union-attr]

    def _add_restore_button(self, form: QFormLayout) -> None:
        """Backups → Restore…: the chosen backup replaces the store at the next start."""
        button = QPushButton("Restore…", objectName="restoreBackup")
        button.setToolTip("Choose a backup; it replaces the local store when Stock Scanner starts next "
                          "(the current store is kept beside it)")

        def choose() -> None:
            from app.features.health import choose_restore

            choose_restore(self, paths.database_path())

        button.clicked.connect(choose)
        form.addRow("Backups", button)

    def _add_field(self, form: QFormLayout, spec: SettingKey) -> None:
        value = self.settings.get(spec.key)
        name = "setting_" + spec.key.replace("/", "_")
        hint = QLabel(_sentence(spec.description))
        hint.setObjectName(HINT)
        hint.setWordWrap(True)
        style_hint(hint)
        editor: QWidget
        if spec.type is bool:
            box = QCheckBox(_title(spec), objectName=name)
            box.setChecked(bool(value))
            editor = box
            form.addRow("", box)
        elif spec.choices:
            combo = QComboBox(objectName=name)
            for choice in spec.choices:
                combo.addItem(str(choice), choice)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            editor = combo
            form.addRow(_title(spec) + ":", combo)
        else:
            edit = QLineEdit(_number(value) if spec.type in (int, float) else str(value or ""), objectName=name)
            editor = edit
            form.addRow(_title(spec) + ":", edit)
        editor.setToolTip(f"{spec.key}: {spec.description}")
        form.addRow("", hint)
        self.fields[spec.key] = (spec, editor)

    def _field_value(self, spec: SettingKey, editor: QWidget) -> object:
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QComboBox):
            return editor.currentData()
        assert isinstance(editor, QLineEdit)
        text = editor.text().strip()
        if spec.type in (int, float):
            number = _typed(text, _title(spec))
            if spec.type is int:
                if number != int(number):
                    raise ValueError(f"{_title(spec)}: {text!r} is not a whole number.")
                return int(number)
            return number
        return text

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
        } | {key: self._field_value(spec, editor) for key, (spec, editor) in self.fields.items()}

    def accept(self) -> None:
        try:
            problem = self.validate()
        except ValueError as exc:
            problem = str(exc)
        if problem:
            self.error.setText(problem)
            return
        self.error.setText("")
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


def _title(spec: SettingKey) -> str:
    """A field label from the key: ``journal/review_min_trades`` → "Review min trades"."""
    if spec.label:
        return spec.label
    words = spec.key.rsplit("/", 1)[-1].replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else ""


def _differs(old: object, new: object) -> bool:
    if isinstance(new, bool | int | float):
        try:
            return (bool(old) if isinstance(new, bool) else float(old)) != new  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return True
    return str(old or "") != str(new or "")
