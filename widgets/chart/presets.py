"""Chart presets: a named chart type + timeframe + studies + styles, applied to any symbol.

A preset holds what a trader sets up once and reuses: the chart type, the timeframe, the
formula studies in order (each lands in its pane as when added by hand), the multi-line
studies (Bollinger, MACD, Ichimoku: parameters and line styles, ``widgets/chart/studies.py``),
and the styles — the price scale (linear / log / percent), whether the volume pane shows, the
order of the panes under the price, and each formula line's colour, width, dash and
visibility as edited from the legend. The symbol and compared symbols are not part of a preset.

Where they live: the store's kv table through ``app/ui_state.py`` (key ``ui.chart_presets``),
with the rest of the UI state (dock layout, each chart's state) — not settings.ini, which
keeps typed preferences edited in the Settings dialog. Presets are what the app remembers
of how the user arranged charts, are backed up with the store and are written in one
transaction (a crash mid-save keeps the previous list). ``PresetStore`` takes any object
with ``get(name, default)`` / ``set(name, value)`` (a ``UiState``; a dict wrapper in tests).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QToolButton, QWidget

from engine.data.bars import timeframe_label

KEY = "chart_presets"  # {"presets": [preset dicts], "default": name | None}
MAX_NAME = 60
SCALES = ("linear", "log", "percent")


class Backend(Protocol):
    def get(self, name: str, default: Any = None) -> Any: ...
    def set(self, name: str, value: Any) -> None: ...


def _name(value: object) -> str:
    if not isinstance(value, str) or not " ".join(value.split()):
        raise ValueError("a preset needs a name")
    name = " ".join(value.split())
    if len(name) > MAX_NAME:
        raise ValueError(f"a preset name has at most {MAX_NAME} characters")
    return name


@dataclass(frozen=True)
class ChartPreset:
    """One preset (see the module docstring). Build with ``from_dict`` to validate."""

    name: str
    kind: str = "candles"
    timeframe: str = "1d"
    overlays: tuple[str, ...] = ()
    scale: str = "linear"
    volume: bool = True
    pane_order: tuple[str, ...] = field(default_factory=tuple)
    #: multi-line studies as ``Study.to_dict`` gives them
    studies: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    #: formula line -> ``LineStyle.to_dict``; formula lines hidden from the legend
    line_styles: tuple[tuple[str, dict[str, Any]], ...] = field(default_factory=tuple)
    hidden: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "timeframe": self.timeframe,
                "overlays": list(self.overlays), "studies": [dict(s) for s in self.studies],
                "styles": {"scale": self.scale, "volume": self.volume, "pane_order": list(self.pane_order),
                           "lines": dict(self.line_styles), "hidden": list(self.hidden)}}

    @classmethod
    def from_dict(cls, d: object) -> ChartPreset:
        """A preset from ``to_dict``'s shape; raises ``ValueError`` (one sentence) for a value
        of the wrong type or an unknown scale."""
        if not isinstance(d, dict):
            raise ValueError("a preset is a mapping of its fields")
        name = _name(d.get("name"))
        kind, tf = d.get("kind", "candles"), d.get("timeframe", "1d")
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"preset {name!r}: the chart type must be a name such as candles")
        if not isinstance(tf, str) or not tf:
            raise ValueError(f"preset {name!r}: the timeframe must be an id such as 1d or 5m")
        overlays = d.get("overlays", [])
        if not isinstance(overlays, list | tuple) or not all(isinstance(o, str) and o.strip() for o in overlays):
            raise ValueError(f"preset {name!r}: studies must be a list of formulas")
        styles = d.get("styles", {})
        if not isinstance(styles, dict):
            raise ValueError(f"preset {name!r}: styles must be a mapping")
        scale = styles.get("scale", "linear")
        if scale not in SCALES:
            raise ValueError(f"preset {name!r}: unknown price scale {scale!r}; use linear, log or percent")
        volume = styles.get("volume", True)
        if not isinstance(volume, bool):
            raise ValueError(f"preset {name!r}: volume must be true or false")
        order = styles.get("pane_order", [])
        if not isinstance(order, list | tuple) or not all(isinstance(p, str) for p in order):
            raise ValueError(f"preset {name!r}: the pane order must be a list of pane ids")
        from widgets.chart.studies import LineStyle, Study

        raw_studies = d.get("studies", [])
        if not isinstance(raw_studies, list | tuple):
            raise ValueError(f"preset {name!r}: the studies must be a list")
        try:
            studies = tuple(Study.from_dict(x).to_dict() for x in raw_studies)
            lines = styles.get("lines", {})
            if not isinstance(lines, dict):
                raise ValueError("line styles must be a mapping by formula")
            line_styles = tuple((str(k), LineStyle.from_dict(v).to_dict()) for k, v in lines.items())
        except ValueError as exc:
            raise ValueError(f"preset {name!r}: {exc}") from None
        hidden = styles.get("hidden", [])
        if not isinstance(hidden, list | tuple) or not all(isinstance(h, str) for h in hidden):
            raise ValueError(f"preset {name!r}: hidden lines must be a list of formulas")
        return cls(name, kind, tf, tuple(" ".join(o.split()) for o in overlays), scale, volume, tuple(order),
                   studies, line_styles, tuple(hidden))

    @classmethod
    def from_chart(cls, chart: Any, name: str) -> ChartPreset:
        """What ``chart`` shows now (``ChartWidget.state()``), without its symbol."""
        st = chart.state()
        studies = st.get("studies") or {}
        return cls.from_dict({"name": name, "kind": st["kind"], "timeframe": st["timeframe"],
                              "overlays": st["overlays"], "studies": studies.get("items", []),
                              "styles": {"scale": st["scale"], "volume": st["volume"],
                                         "pane_order": st["pane_order"],
                                         "lines": {k: v for k, v in (studies.get("overlay_styles") or {}).items()
                                                   if k in st["overlays"]},
                                         "hidden": [h for h in studies.get("hidden_overlays") or []
                                                    if h in st["overlays"]]}})

    def describe(self) -> str:
        from widgets.chart.studies import Study

        studies = ", ".join([*self.overlays, *(Study.from_dict(s).label() for s in self.studies)]) or "no studies"
        return f"{self.kind} · {timeframe_label(self.timeframe)} · {self.scale} · {studies}"


def apply_preset(chart: Any, preset: ChartPreset) -> None:
    """Show ``preset`` on ``chart``: its type, styles and studies replace the chart's (the
    studies not in the preset are removed), and the chart's symbol is reloaded at the
    preset's timeframe. A study that no longer parses is listed in ``overlay_errors``."""
    for name in list(chart.overlay_names()):
        if name not in preset.overlays:
            chart.set_overlay(name, None)
    state = {"kind": preset.kind, "scale": preset.scale, "volume": preset.volume,
             "overlays": [o for o in preset.overlays if o not in chart.overlay_names()],
             "pane_order": list(preset.pane_order), "timeframe": preset.timeframe,
             "symbol": chart.symbol,
             "studies": {"items": [dict(s) for s in preset.studies], "overlay_styles": dict(preset.line_styles),
                         "hidden_overlays": list(preset.hidden)}}
    chart.set_volume_visible(preset.volume)
    if not chart.symbol:
        chart.timeframe = preset.timeframe
        i = chart.tf_box.findData(preset.timeframe)
        if i >= 0:
            chart.tf_box.blockSignals(True)
            chart.tf_box.setCurrentIndex(i)
            chart.tf_box.blockSignals(False)
    chart.restore_state(state)


class PresetStore:
    """The saved presets and the default one (module docstring for where they live)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def _read(self) -> tuple[list[ChartPreset], str | None]:
        raw = self.backend.get(KEY, None)
        if not isinstance(raw, dict):
            return [], None
        out: list[ChartPreset] = []
        for d in raw.get("presets") or []:
            try:
                p = ChartPreset.from_dict(d)
            except ValueError:
                continue  # a damaged entry is skipped, the others stay usable
            if all(q.name != p.name for q in out):
                out.append(p)
        default = raw.get("default")
        return out, default if isinstance(default, str) and any(p.name == default for p in out) else None

    def _write(self, presets: Sequence[ChartPreset], default: str | None) -> None:
        self.backend.set(KEY, {"presets": [p.to_dict() for p in presets], "default": default})

    def presets(self) -> list[ChartPreset]:
        return self._read()[0]

    def names(self) -> list[str]:
        return [p.name for p in self.presets()]

    def get(self, name: str) -> ChartPreset:
        """The preset called ``name``; raises ``KeyError`` when there is none."""
        for p in self.presets():
            if p.name == name:
                return p
        raise KeyError(f"no chart preset called {name!r}")

    def save(self, preset: ChartPreset) -> None:
        """Add ``preset``, or replace the one with its name (keeping its place in the list)."""
        presets, default = self._read()
        for i, p in enumerate(presets):
            if p.name == preset.name:
                presets[i] = preset
                break
        else:
            presets.append(preset)
        self._write(presets, default)

    def clone(self, name: str, new_name: str) -> ChartPreset:
        """A copy of preset ``name`` called ``new_name`` (raises ``ValueError`` if taken)."""
        new = _name(new_name)
        if new in self.names():
            raise ValueError(f"a chart preset called {new!r} exists already")
        copy = replace(self.get(name), name=new)
        self.save(copy)
        return copy

    def rename(self, name: str, new_name: str) -> None:
        """Rename preset ``name`` (the default follows it)."""
        new = _name(new_name)
        presets, default = self._read()
        if new != name and any(p.name == new for p in presets):
            raise ValueError(f"a chart preset called {new!r} exists already")
        self.get(name)
        presets = [replace(p, name=new) if p.name == name else p for p in presets]
        self._write(presets, new if default == name else default)

    def delete(self, name: str) -> None:
        presets, default = self._read()
        self.get(name)
        self._write([p for p in presets if p.name != name], None if default == name else default)

    def set_default(self, name: str | None) -> None:
        """Make ``name`` the preset new charts open with (``None``: no default)."""
        presets, _default = self._read()
        if name is not None:
            self.get(name)
        self._write(presets, name)

    def default(self) -> ChartPreset | None:
        presets, default = self._read()
        return next((p for p in presets if p.name == default), None)


class PresetButton(QToolButton):
    """The chart toolbar's "Presets" menu: apply, save, clone, rename, delete, set as default."""

    def __init__(self, chart: Any, store: PresetStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartPresets")
        self.setText("☰")  # compact: the toolbar must leave room for the title at 1280×800
        self.setToolTip("Presets: chart type, timeframe, studies and styles, saved by name")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.chart = chart
        self.store = store
        self.menu_ = QMenu(self)
        self.menu_.aboutToShow.connect(self._fill)
        self.setMenu(self.menu_)

    def _fill(self) -> None:
        m = self.menu_
        m.clear()
        presets = self.store.presets()
        default = self.store.default()
        for p in presets:
            star = "★ " if default is not None and p.name == default.name else ""
            a = m.addAction(f"{star}{p.name}", lambda p=p: apply_preset(self.chart, p))
            a.setToolTip(p.describe())
        if presets:
            m.addSeparator()
        m.addAction("Save current as…", self._on_save)
        if presets:
            for title, fn in (("Clone", self._on_clone), ("Rename", self._on_rename), ("Delete", self._on_delete),
                              ("Set as default", self._on_default)):
                sub = m.addMenu(title)
                for p in presets:
                    sub.addAction(p.name, lambda n=p.name, fn=fn: fn(n))
            if default is not None:
                m.addAction("No default preset", lambda: self.store.set_default(None))

    def _ask(self, title: str, label: str, text: str = "") -> str | None:
        value, ok = QInputDialog.getText(self, title, label, text=text)
        return value if ok else None

    def _guard(self, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except (ValueError, KeyError) as exc:
            QMessageBox.warning(self, "Chart presets", str(exc).strip("'\""))

    def _on_save(self) -> None:
        name = self._ask("Save chart preset", "Name:")
        if name is not None:
            self._guard(lambda: self.store.save(ChartPreset.from_chart(self.chart, name)))

    def _on_clone(self, name: str) -> None:
        new = self._ask("Clone chart preset", "Name of the copy:", f"{name} copy")
        if new is not None:
            self._guard(self.store.clone, name, new)

    def _on_rename(self, name: str) -> None:
        new = self._ask("Rename chart preset", "New name:", name)
        if new is not None:
            self._guard(self.store.rename, name, new)

    def _on_delete(self, name: str) -> None:
        self._guard(self.store.delete, name)

    def _on_default(self, name: str) -> None:
        self._guard(self.store.set_default, name)


__all__ = ["ChartPreset", "PresetButton", "PresetStore", "apply_preset"]
