"""Editing a study from its legend entry.

Every entry in a pane's legend is a link: a click opens ``StudyEditor`` for it, a right click
a menu (Settings…, Hide/Show, Remove). The editor shows

* for a formula line (a built-in indicator, a custom indicator or any formula): the formula,
  one spin box per number in it (named by the indicator's parameter where the function is a
  built-in, e.g. ``rsi`` → *n*), and the line's colour, width and style;
* for a multi-line study (Bollinger, MACD, Ichimoku): its parameters and a colour, width and
  style per line (a colour only for fills);
* for a compared symbol: its colour;

with *Visible* and *Remove*. OK applies: a parameter change recomputes the study in the
worker, a style change redraws; both are part of the chart's saved state.
"""
from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QColorDialog, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QMenu, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from widgets.chart.studies import DASHES, KINDS, MAX_WIDTH, LineStyle

_NUMBER = re.compile(r"(?<![A-Za-z_0-9.])(\d+(?:\.\d+)?)(?![A-Za-z_0-9])")
_CALL = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")
#: formula functions that are outputs of one registry indicator
_ALIASES = {"bb_upper": "bbands", "bb_mid": "bbands", "bb_lower": "bbands", "macd_signal": "macd",
            "macd_hist": "macd", "stoch_k": "stoch", "stoch_d": "stoch"}


def formula_numbers(text: str) -> list[tuple[int, int, float]]:
    """The numbers written in a formula: (start, end, value), left to right."""
    return [(m.start(1), m.end(1), float(m.group(1))) for m in _NUMBER.finditer(text)]


def with_numbers(text: str, values: list[float]) -> str:
    """``text`` with its numbers (``formula_numbers``) replaced by ``values`` in order."""
    out, last = [], 0
    for (a, b, _old), v in zip(formula_numbers(text), values):
        out.append(text[last:a])
        out.append(str(int(v)) if float(v).is_integer() else f"{v:g}")
        last = b
    out.append(text[last:])
    return "".join(out)


def parameter_names(text: str) -> list[str]:
    """Names for the numbers of a one-call formula of a built-in (``sma(close, 20)`` → ["n"]);
    "value 1", "value 2", … otherwise."""
    nums = formula_numbers(text)
    names = [f"value {i + 1}" for i in range(len(nums))]
    m = _CALL.match(text)
    if m:
        from engine.indicators import REGISTRY

        spec = REGISTRY.get(_ALIASES.get(m.group(1).lower(), m.group(1).lower()))
        if spec is not None:
            for i, (pname, _default) in enumerate(spec.params[:len(nums)]):
                names[i] = pname
    return names


class ColorButton(QPushButton):
    """A swatch; a click picks a colour."""

    def __init__(self, color: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedWidth(48)
        self.set_color(color)
        self.clicked.connect(self._pick)

    def set_color(self, color: str) -> None:
        self.color = QColor(color).name()
        self.setStyleSheet(f"background:{self.color}; border:1px solid #888; min-height:18px;")
        self.setToolTip(self.color)

    def _pick(self) -> None:
        c = QColorDialog.getColor(QColor(self.color), self, "Line colour")
        if c.isValid():
            self.set_color(c.name())


class StyleRow(QWidget):
    """Colour, width and solid/dash/dot of one line (colour only for a fill)."""

    def __init__(self, st: LineStyle, color_only: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.color = ColorButton(st.color)
        lay.addWidget(self.color)
        self.width_box = QDoubleSpinBox()
        self.width_box.setRange(0.5, MAX_WIDTH)
        self.width_box.setSingleStep(0.5)
        self.width_box.setValue(st.width)
        self.width_box.setSuffix(" px")
        self.dash = QComboBox()
        for d in DASHES:
            self.dash.addItem(d, d)
        self.dash.setCurrentIndex(max(0, self.dash.findData(st.dash)))
        if not color_only:
            lay.addWidget(self.width_box)
            lay.addWidget(self.dash)
        lay.addStretch(1)

    def value(self) -> LineStyle:
        return LineStyle(self.color.color, float(self.width_box.value()), str(self.dash.currentData()))


class StudyEditor(QDialog):
    """The editor of one legend entry (module docstring). ``link``: "overlay:<index>",
    "study:<id>" or "compare:<symbol>"."""

    def __init__(self, chart: Any, link: str) -> None:
        super().__init__(chart)
        self.setObjectName("studyEditor")
        self.chart = chart
        self.link = link
        self.kind, _, self.key = link.partition(":")
        self.removed = False
        self.params: dict[str, QSpinBox | QDoubleSpinBox] = {}
        self.styles: dict[str, StyleRow] = {}
        self.formula: QLineEdit | None = None
        self.numbers: list[QDoubleSpinBox] = []
        lay = QVBoxLayout(self)
        self.error = QLabel("")
        self.error.setStyleSheet("color:#ef5350;")
        self.error.setWordWrap(True)
        self.visible_box = QCheckBox("Visible")
        self.visible_box.setChecked(True)
        if self.kind == "overlay":
            self._build_overlay(lay)
        elif self.kind == "study":
            self._build_study(lay)
        elif self.kind == "compare":
            self._build_compare(lay)
        else:
            raise ValueError(f"no editor for legend entry {link!r}")
        lay.addWidget(self.visible_box)
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.remove_btn = buttons.addButton("Remove", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.remove_btn.clicked.connect(self.remove)
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(420, self.sizeHint().height())

    # ------------------------------------------------------------------ building
    def _build_overlay(self, lay: QVBoxLayout) -> None:
        names = self.chart.overlay_names()
        self.name = names[int(self.key)]
        layer = self.chart.studies
        self.setWindowTitle(f"{self.name} — settings")
        box = QGroupBox("Inputs")
        form = QFormLayout(box)
        self.formula = QLineEdit(self.name)
        self.formula.setObjectName("studyFormula")
        form.addRow("Formula", self.formula)
        for (_a, _b, v), pname in zip(formula_numbers(self.name), parameter_names(self.name)):
            sb = QDoubleSpinBox()
            sb.setRange(-1e6, 1e6)
            sb.setDecimals(0 if v.is_integer() else 3)
            sb.setValue(v)
            sb.valueChanged.connect(self._on_number_changed)
            self.numbers.append(sb)
            form.addRow(pname, sb)
        lay.addWidget(box)
        item = self.chart._overlays.get(self.name)
        default = item.color if item is not None else "#42a5f5"
        st = layer.overlay_style(self.name, default)
        sbox = QGroupBox("Style")
        sform = QFormLayout(sbox)
        self.styles["line"] = StyleRow(st)
        sform.addRow("Line", self.styles["line"])
        lay.addWidget(sbox)
        self.visible_box.setChecked(self.name not in layer.hidden_overlays)

    def _on_number_changed(self) -> None:
        assert self.formula is not None
        self.formula.setText(with_numbers(self.formula.text(), [sb.value() for sb in self.numbers]))

    def _build_study(self, lay: QVBoxLayout) -> None:
        st = self.chart.studies.studies[self.key]
        spec = KINDS[st.kind]
        self.setWindowTitle(f"{spec.title} — settings")
        box = QGroupBox("Inputs")
        form = QFormLayout(box)
        for p in spec.params:
            sb: QSpinBox | QDoubleSpinBox
            if p.integer:
                sb = QSpinBox()
                sb.setRange(int(p.low), int(p.high))
                sb.setValue(int(st.params[p.name]))
            else:
                sb = QDoubleSpinBox()
                sb.setRange(p.low, p.high)
                sb.setSingleStep(0.1)
                sb.setValue(float(st.params[p.name]))
            sb.setObjectName(f"param_{p.name}")
            self.params[p.name] = sb
            form.addRow(p.label, sb)
        lay.addWidget(box)
        sbox = QGroupBox("Style")
        sform = QFormLayout(sbox)
        for key, label, _color, is_fill in spec.lines:
            row = StyleRow(st.style(key), color_only=is_fill)
            self.styles[key] = row
            sform.addRow(label, row)
        lay.addWidget(sbox)
        self.visible_box.setChecked(st.visible)

    def _build_compare(self, lay: QVBoxLayout) -> None:
        layer = self.chart.compare
        self.setWindowTitle(f"Compare {self.key}")
        lay.addWidget(QLabel(f"{self.key}: % change from the first visible bar"))
        box = QGroupBox("Style")
        form = QFormLayout(box)
        self.styles["line"] = StyleRow(LineStyle(layer.colors[self.key]), color_only=True)
        form.addRow("Line", self.styles["line"])
        lay.addWidget(box)
        self.visible_box.hide()

    # ------------------------------------------------------------------ actions
    def apply(self) -> None:
        """Apply what the editor shows; a bad formula or parameter keeps it open with the reason."""
        try:
            apply_edit(self.chart, self.link, self.values())
        except (ValueError, RuntimeError) as exc:
            self.error.setText(str(exc))
            return
        self.accept()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {"visible": self.visible_box.isChecked(),
                               "styles": {k: r.value() for k, r in self.styles.items()}}
        if self.formula is not None:
            out["formula"] = self.formula.text()
        if self.params:
            out["params"] = {k: sb.value() for k, sb in self.params.items()}
        return out

    def remove(self) -> None:
        remove_entry(self.chart, self.link)
        self.removed = True
        self.accept()


def apply_edit(chart: Any, link: str, values: dict[str, Any]) -> str:
    """Apply an editor's ``values`` to the legend entry ``link``; returns the entry's link
    afterwards (a formula's changes when its text does). Raises ``ValueError`` for a formula
    that does not parse or a parameter out of bounds."""
    kind, _, key = link.partition(":")
    layer = chart.studies
    styles: dict[str, LineStyle] = values.get("styles") or {}
    if kind == "study":
        params = {k: (int(v) if float(v).is_integer() else float(v)) for k, v in (values.get("params") or {}).items()}
        layer.update(key, params=params or None, styles=styles, visible=values.get("visible", True))
        return link
    if kind == "compare":
        if "line" in styles:
            chart.compare.set_color(key, styles["line"].color)
        return link
    if kind != "overlay":
        raise ValueError(f"no such legend entry {link!r}")
    name = chart.overlay_names()[int(key)]
    text = " ".join(str(values.get("formula", name)).split())
    if text != name:
        name = chart.replace_formula_overlay(name, text)
    if "line" in styles:
        layer.overlay_styles[name] = styles["line"]
    if values.get("visible", True):
        layer.hidden_overlays.discard(name)
    else:
        layer.hidden_overlays.add(name)
    chart._draw_overlays()
    return f"overlay:{chart.overlay_names().index(name)}"


def remove_entry(chart: Any, link: str) -> None:
    kind, _, key = link.partition(":")
    if kind == "study":
        chart.studies.remove(key)
    elif kind == "compare":
        chart.compare.remove(key)
    elif kind == "overlay":
        chart.set_overlay(chart.overlay_names()[int(key)], None)


def toggle_visible(chart: Any, link: str) -> None:
    kind, _, key = link.partition(":")
    if kind == "study":
        st = chart.studies.studies[key]
        chart.studies.update(key, visible=not st.visible)
    elif kind == "overlay":
        name = chart.overlay_names()[int(key)]
        hidden = chart.studies.hidden_overlays
        hidden.symmetric_difference_update({name})
        chart._draw_overlays()


def open_editor(chart: Any, link: str) -> StudyEditor:
    """Open (not modal-blocking) the editor of legend entry ``link``; returns the dialog."""
    dlg = StudyEditor(chart, link)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.open()
    return dlg


def legend_menu(chart: Any, link: str) -> QMenu:
    """The right-click menu of a legend entry."""
    kind, _, key = link.partition(":")
    m = QMenu(chart)
    m.addAction("Settings…", lambda: open_editor(chart, link))
    if kind == "study":
        m.addAction("Show" if not chart.studies.studies[key].visible else "Hide", lambda: toggle_visible(chart, link))
    elif kind == "overlay":
        hidden = chart.overlay_names()[int(key)] in chart.studies.hidden_overlays
        m.addAction("Show" if hidden else "Hide", lambda: toggle_visible(chart, link))
    m.addAction("Remove", lambda: remove_entry(chart, link))
    return m
