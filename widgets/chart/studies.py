"""Multi-line studies on the chart, and the styles of every study line.

A *study* here is a built-in indicator drawn as one unit, as on TradingView:

* **Bollinger Bands** — upper, basis and lower over the price with the band between them
  filled (``bbands``);
* **MACD** — line, signal and the histogram as bars coloured by sign and by whether the bar
  grew or shrank, in its own pane with a zero line (``macd``);
* **Ichimoku** — tenkan, kijun, chikou (back 26 bars) and the senkou spans forward 26 bars
  with the cloud between them green where span A is on top, red where B is
  (``engine.charts.ichimoku``); the view keeps room for the projection past the last bar.

Each has parameters and a ``LineStyle`` (colour, width, solid/dash/dot) per line, edited from
its legend entry (``widgets/chart/legend_edit.py``), can be hidden or removed, and is saved
with the chart's state and in presets (``StudyLayer.state``). Formula overlays (one line
each, ``ChartWidget.add_formula_overlay``) get their style and visibility here too.

Values are computed in the chart's worker (``tasks``); the items draw only the visible range
(``widgets/chart/study_items.py`` and ``items.LineItem``).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from engine import formatting as fmt
from engine.data.bars import Bars
from widgets import style
from widgets.chart.items import LineItem
from widgets.chart.study_items import HIST_COLORS, BandFillItem, HistogramItem, pen_style

DASHES = ("solid", "dash", "dot")
MAX_WIDTH = 8.0


@dataclass(frozen=True)
class LineStyle:
    """How one study line is drawn."""

    color: str
    width: float = 1.2
    dash: str = "solid"

    def to_dict(self) -> dict[str, Any]:
        return {"color": self.color, "width": self.width, "dash": self.dash}

    @classmethod
    def from_dict(cls, d: object, default: LineStyle | None = None) -> LineStyle:
        """A style from ``to_dict``'s shape; raises ``ValueError`` for a bad colour, width or dash."""
        if not isinstance(d, dict):
            raise ValueError("a line style is a mapping of color, width and dash")
        base = default or cls("#42a5f5")
        color = d.get("color", base.color)
        width = d.get("width", base.width)
        dash = d.get("dash", base.dash)
        if not isinstance(color, str) or not _is_color(color):
            raise ValueError(f"{color!r} is not a colour such as #26a69a")
        if isinstance(width, bool) or not isinstance(width, int | float) or not (0.5 <= float(width) <= MAX_WIDTH):
            raise ValueError(f"a line width is between 0.5 and {MAX_WIDTH:g}")
        if dash not in DASHES:
            raise ValueError(f"unknown line style {dash!r}; use solid, dash or dot")
        return cls(color.lower(), float(width), str(dash))


def _is_color(text: str) -> bool:
    t = text.strip()
    return len(t) in (4, 7, 9) and t.startswith("#") and all(c in "0123456789abcdefABCDEF" for c in t[1:])


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    default: float
    low: float
    high: float
    integer: bool = True


@dataclass(frozen=True)
class StudyKind:
    """A multi-line study: its parameters, its lines (key, label, default colour, whether the
    entry is a fill whose colour alone is edited) and whether it draws in its own pane."""

    key: str
    title: str
    short: str
    params: tuple[Param, ...]
    lines: tuple[tuple[str, str, str, bool], ...]
    own_pane: bool
    compute: Callable[[Bars, dict[str, float]], dict[str, np.ndarray]]


def _bbands(bars: Bars, p: dict[str, float]) -> dict[str, np.ndarray]:
    from engine.indicators import bbands

    up, mid, lo = bbands(bars.close, int(p["n"]), float(p["k"]))
    return {"upper": up, "mid": mid, "lower": lo}


def _macd(bars: Bars, p: dict[str, float]) -> dict[str, np.ndarray]:
    from engine.indicators import macd

    line, sig, hist = macd(bars.close, int(p["fast"]), int(p["slow"]), int(p["signal"]))
    return {"macd": line, "signal": sig, "hist": hist}


def _ichimoku(bars: Bars, p: dict[str, float]) -> dict[str, np.ndarray]:
    from engine.charts.ichimoku import ichimoku_layout

    lay = ichimoku_layout(bars.high, bars.low, bars.close, int(p["tenkan"]), int(p["kijun"]), int(p["senkou_b"]))
    return {"tenkan": lay.tenkan, "kijun": lay.kijun, "chikou": lay.chikou,
            "senkou_a": lay.senkou_a, "senkou_b": lay.senkou_b}


KINDS: dict[str, StudyKind] = {k.key: k for k in (
    StudyKind("bbands", "Bollinger Bands", "BB",
              (Param("n", "Length", 20, 2, 500), Param("k", "StdDev", 2.0, 0.1, 10.0, integer=False)),
              (("upper", "Upper", "#2962ff", False), ("mid", "Basis", "#ff6d00", False),
               ("lower", "Lower", "#2962ff", False), ("fill", "Background", "#2962ff", True)),
              False, _bbands),
    StudyKind("macd", "MACD", "MACD",
              (Param("fast", "Fast length", 12, 1, 500), Param("slow", "Slow length", 26, 1, 500),
               Param("signal", "Signal smoothing", 9, 1, 500)),
              (("macd", "MACD", "#2962ff", False), ("signal", "Signal", "#ff6d00", False)),
              True, _macd),
    StudyKind("ichimoku", "Ichimoku Cloud", "Ichimoku",
              (Param("tenkan", "Conversion line", 9, 1, 500), Param("kijun", "Base line / displacement", 26, 1, 500),
               Param("senkou_b", "Leading span B", 52, 1, 500)),
              (("tenkan", "Conversion line", "#2962ff", False), ("kijun", "Base line", "#b71c1c", False),
               ("chikou", "Lagging span", "#43a047", False), ("senkou_a", "Leading span A", "#a5d6a7", False),
               ("senkou_b", "Leading span B", "#ef9a9a", False), ("cloud_up", "Cloud (A above)", "#26a69a", True),
               ("cloud_down", "Cloud (B above)", "#ef5350", True)),
              False, _ichimoku),
)}


@dataclass
class Study:
    """One study on a chart: kind, parameters, a style per line, shown or hidden."""

    id: str
    kind: str
    params: dict[str, float]
    styles: dict[str, LineStyle] = field(default_factory=dict)
    visible: bool = True

    @property
    def spec(self) -> StudyKind:
        return KINDS[self.kind]

    def label(self) -> str:
        vals = ", ".join(f"{float(v):g}" if not p.integer else str(int(v))
                         for p, v in ((p, self.params[p.name]) for p in self.spec.params))
        return f"{self.spec.short} ({vals})"

    def style(self, line: str) -> LineStyle:
        st = self.styles.get(line)
        if st is not None:
            return st
        for key, _label, color, is_fill in self.spec.lines:
            if key == line:
                return LineStyle(color, 1.0 if is_fill else 1.2)
        return LineStyle("#42a5f5")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "params": dict(self.params),
                "styles": {k: v.to_dict() for k, v in self.styles.items()}, "visible": self.visible}

    @classmethod
    def from_dict(cls, d: object) -> Study:
        """A study from ``to_dict``'s shape (parameters checked against the kind's bounds);
        raises ``ValueError`` with one sentence."""
        if not isinstance(d, dict):
            raise ValueError("a study is a mapping of its fields")
        kind = d.get("kind")
        if kind not in KINDS:
            raise ValueError(f"unknown study {kind!r}; use one of {', '.join(KINDS)}")
        sid = d.get("id")
        if not isinstance(sid, str) or not sid:
            raise ValueError("a study needs an id")
        params = check_params(str(kind), d.get("params") or {})
        raw_styles = d.get("styles") or {}
        if not isinstance(raw_styles, dict):
            raise ValueError("a study's styles are a mapping by line")
        known = {k for k, *_ in KINDS[str(kind)].lines}
        styles = {k: LineStyle.from_dict(v) for k, v in raw_styles.items() if k in known}
        visible = d.get("visible", True)
        return cls(sid, str(kind), params, styles, bool(visible))


def check_params(kind: str, raw: object) -> dict[str, float]:
    """The kind's parameters from ``raw`` (defaults for missing ones); raises ``ValueError``
    for a value that is not a number or out of its bounds."""
    if not isinstance(raw, dict):
        raise ValueError("a study's parameters are a mapping")
    out: dict[str, float] = {}
    for p in KINDS[kind].params:
        v = raw.get(p.name, p.default)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(float(v)):
            raise ValueError(f"{p.label} must be a number")
        if p.integer and float(v) != int(v):
            raise ValueError(f"{p.label} must be a whole number")
        if not p.low <= float(v) <= p.high:
            raise ValueError(f"{p.label} must be between {p.low:g} and {p.high:g}")
        out[p.name] = int(v) if p.integer else float(v)
    if kind == "macd" and out["fast"] >= out["slow"]:
        raise ValueError("MACD's fast length must be shorter than its slow length")
    return out


def _compute_all(bars: Bars, specs: list[tuple[str, str, dict[str, float]]]) -> dict[str, dict[str, np.ndarray] | str]:
    """Worker side: each study's arrays, or the error message where it failed."""
    out: dict[str, dict[str, np.ndarray] | str] = {}
    for sid, kind, params in specs:
        try:
            out[sid] = {k: np.asarray(v, dtype=float) for k, v in KINDS[kind].compute(bars, params).items()}
        except Exception as exc:  # noqa: BLE001 - shown in the legend, not fatal
            out[sid] = str(exc)
    return out


class StudyLayer:
    """The chart's multi-line studies and the styles of its formula lines (module docstring)."""

    def __init__(self, chart: Any) -> None:
        self.chart = chart
        self.studies: dict[str, Study] = {}
        self.values: dict[str, dict[str, np.ndarray]] = {}
        self.errors: dict[str, str] = {}
        self.items: dict[str, dict[str, Any]] = {}
        self.overlay_styles: dict[str, LineStyle] = {}
        self.hidden_overlays: set[str] = set()
        self._seq = 0
        self._counter = 0

    # ------------------------------------------------------------------ studies
    def add(self, kind: str, params: dict[str, float] | None = None,
            styles: dict[str, LineStyle] | None = None, visible: bool = True, sid: str | None = None,
            compute: bool = True) -> str:
        """Add a study of ``kind`` ("bbands", "macd", "ichimoku"); returns its id. Raises
        ``ValueError`` for an unknown kind or a bad parameter."""
        if kind not in KINDS:
            raise ValueError(f"unknown study {kind!r}; use one of {', '.join(KINDS)}")
        p = check_params(kind, params or {})
        if sid is None or sid in self.studies:
            self._counter += 1
            while f"{kind}-{self._counter}" in self.studies:
                self._counter += 1
            sid = f"{kind}-{self._counter}"
        was_margin = self.right_margin()
        self.studies[sid] = Study(sid, kind, p, dict(styles or {}), visible)
        if compute:
            self.compute()
        if kind == "ichimoku":
            self._make_room(was_margin)
        return sid

    def update(self, sid: str, params: dict[str, float] | None = None,
               styles: dict[str, LineStyle] | None = None, visible: bool | None = None) -> None:
        """Change a study's parameters (recomputed in the worker), styles or visibility."""
        st = self.studies[sid]
        new = replace(st, params=check_params(st.kind, params) if params is not None else st.params,
                      styles={**st.styles, **(styles or {})},
                      visible=st.visible if visible is None else bool(visible))
        was_margin = self.right_margin()
        self.studies[sid] = new
        if new.kind == "ichimoku":
            self._make_room(was_margin)
        if new.params != st.params:
            self.values.pop(sid, None)
            self.compute()
        else:
            self.draw()

    def remove(self, sid: str) -> None:
        if self.studies.pop(sid, None) is None:
            return
        self.values.pop(sid, None)
        self.errors.pop(sid, None)
        self._drop_items(sid)
        self.chart._update_legends()
        self.chart.fit_panes()

    def clear(self) -> None:
        for sid in list(self.studies):
            self.remove(sid)

    def pane_id(self, sid: str) -> str:
        """The pane a study draws in: "price", or its own (the study's id)."""
        return sid if self.studies[sid].spec.own_pane else "price"

    def right_margin(self) -> int:
        """Bars of room the view keeps after the last bar: the cloud's displacement while an
        Ichimoku study shows, else none."""
        return max([int(s.params["kijun"]) for s in self.studies.values() if s.kind == "ichimoku" and s.visible],
                   default=0)

    def _make_room(self, was: int) -> None:
        """After adding the cloud, move the right edge out so its projection is in view (when
        the last bar was)."""
        c = self.chart
        s = c.shown
        if s is None:
            return
        n = len(s)
        x0, x1 = c.price_pane.vb.viewRange()[0]
        if x1 >= n - 1 and self.right_margin() > was:
            c.price.setXRange(x0, n + 2 + self.right_margin(), padding=0)

    # ------------------------------------------------------------------ compute and draw
    def compute(self) -> None:
        """Compute every study of the drawn bars in the worker; drawn when back."""
        c = self.chart
        b = c.bars
        if b is None or not self.studies:
            return
        self._seq += 1
        seq = self._seq
        specs = [(s.id, s.kind, dict(s.params)) for s in self.studies.values()]
        c.tasks.submit(_compute_all, c._study_input(b), specs, label=f"Computing studies of {b.symbol}",
                       on_result=lambda r, seq=seq, bars=b: self._on_values(seq, bars, r))

    def _on_values(self, seq: int, bars: Bars, result: dict[str, dict[str, np.ndarray] | str]) -> None:
        if seq != self._seq or bars is not self.chart.bars:
            return
        for sid, v in result.items():
            if sid not in self.studies:
                continue
            if isinstance(v, str):
                self.errors[sid] = v
                self.values.pop(sid, None)
            else:
                self.errors.pop(sid, None)
                self.values[sid] = v
        self.draw()
        self.chart.studies_drawn.emit()

    def _pane(self, sid: str) -> Any:
        c = self.chart
        if not self.studies[sid].spec.own_pane:
            return c.price_pane
        pane = c.panes.get(sid)
        if pane is None:
            from widgets.chart.axes import PriceAxis

            pane = c._add_pane(sid, "study", PriceAxis("right"))
            pane.set_levels((0.0,))
            pane.apply_colors(style.CHART)
            c._apply_pending_order()
            c._sync_date_axes()
        return pane

    def _drop_items(self, sid: str) -> None:
        items = self.items.pop(sid, {})
        c = self.chart
        for pane in list(c.panes.values()):
            for it in items.values():
                pane.remove_fit_item(it)
            if pane.id == sid and pane.kind == "study":
                c._drop_pane(pane)

    def _ensure_items(self, sid: str) -> dict[str, Any]:
        items = self.items.get(sid)
        if items is not None:
            return items
        st = self.studies[sid]
        pane = self._pane(sid)
        items = {}
        if st.kind == "bbands":
            items["fill"] = BandFillItem()
        elif st.kind == "ichimoku":
            items["cloud"] = BandFillItem(alpha=55)
        elif st.kind == "macd":
            items["hist"] = HistogramItem()
        for key, _label, _color, is_fill in st.spec.lines:
            if not is_fill:
                items[key] = LineItem(f"{st.id}:{key}")
        for it in items.values():
            pane.add_fit_item(it)
        self.items[sid] = items
        return items

    def draw(self, finish: bool = True) -> None:
        """Put every study's values into its items, in the chart's current price scale
        (``finish``: then refresh the legends and fit the panes)."""
        c = self.chart
        s = c.shown
        if s is None:
            return
        for sid, st in self.studies.items():
            vals = self.values.get(sid)
            if vals is None:
                continue
            if len(vals[st.spec.lines[0][0]]) != len(s):
                continue  # values of other bars (a reload is on its way)
            items = self._ensure_items(sid)
            fwd = (lambda a: a) if st.spec.own_pane else c._fwd
            for key, it in items.items():
                if isinstance(it, LineItem):
                    ls = st.style(key)
                    it.width, it.dash = ls.width, pen_style(ls.dash)
                    it.set_data(fwd(vals[key]), color=ls.color)
                it.setVisible(st.visible)
            if "fill" in items:
                items["fill"].set_data(fwd(vals["upper"]), fwd(vals["lower"]), st.style("fill").color,
                                       st.style("fill").color)
            if "cloud" in items:
                items["cloud"].set_data(fwd(vals["senkou_a"]), fwd(vals["senkou_b"]),
                                        st.style("cloud_up").color, st.style("cloud_down").color)
            if "hist" in items:
                items["hist"].set_data(vals["hist"])
        if finish:
            self.chart._update_legends()
            self.chart.fit_panes()

    # ------------------------------------------------------------------ formula lines
    def overlay_style(self, name: str, default_color: str) -> LineStyle:
        return self.overlay_styles.get(name) or LineStyle(default_color)

    def style_overlay(self, name: str, item: LineItem) -> None:
        """Apply the saved width, dash and visibility to formula line ``name`` (its colour is
        given to ``set_data`` by the chart)."""
        st = self.overlay_styles.get(name)
        if st is not None:
            item.width, item.dash = st.width, pen_style(st.dash)
        item.setVisible(name not in self.hidden_overlays)

    def rename_overlay(self, old: str, new: str) -> None:
        if old in self.overlay_styles:
            self.overlay_styles[new] = self.overlay_styles.pop(old)
        if old in self.hidden_overlays:
            self.hidden_overlays.discard(old)
            self.hidden_overlays.add(new)

    def forget_overlay(self, name: str) -> None:
        self.overlay_styles.pop(name, None)
        self.hidden_overlays.discard(name)

    # ------------------------------------------------------------------ legend
    def legend_parts(self, pane: Any, i: int) -> list[str]:
        """Legend entries of the studies drawn in ``pane`` with their values at bar ``i``."""
        parts = []
        for sid, st in self.studies.items():
            if self.pane_id(sid) != pane.id:
                continue
            vals = self.values.get(sid, {})
            shown = []
            for key, _label, _c, is_fill in st.spec.lines:
                if is_fill:
                    continue
                y = vals.get(key)
                v = y[i] if y is not None and 0 <= i < len(y) else math.nan
                shown.append(f"<span style='color:{st.style(key).color}'>"
                             f"{fmt.number(float(v)) if np.isfinite(v) else '–'}</span>")
            if st.kind == "macd":
                h = vals.get("hist")
                v = h[i] if h is not None and 0 <= i < len(h) else math.nan
                col = HIST_COLORS["grow_above" if np.isfinite(v) and v >= 0 else "grow_below"]
                shown.append(f"<span style='color:{col}'>{fmt.number(float(v)) if np.isfinite(v) else '–'}</span>")
            err = " ⚠" if sid in self.errors else ""
            head_col = st.style(st.spec.lines[0][0]).color
            dim = "" if st.visible else "; text-decoration:line-through; opacity:0.5"
            parts.append(f"<a href='study:{sid}' style='color:{head_col}; text-decoration:none{dim}'>"
                         f"{st.label()}{err}</a> " + " ".join(shown))
        return parts

    def columns(self) -> dict[str, np.ndarray]:
        """Each study line's values by bar, named "<study> <line>" (the CSV export): the value
        drawn at that bar (Ichimoku's spans as shifted, chikou as shifted back)."""
        out: dict[str, np.ndarray] = {}
        for sid, st in self.studies.items():
            vals = self.values.get(sid, {})
            keys = [k for k, _l, _c, is_fill in st.spec.lines if not is_fill] + (["hist"] if st.kind == "macd" else [])
            for key in keys:
                if key in vals:
                    out[f"{st.label()} {key}"] = vals[key]
        return out

    # ------------------------------------------------------------------ state
    def state(self) -> dict[str, Any]:
        """JSON-ready: the studies in order and the formula lines' styles and visibility."""
        return {"items": [s.to_dict() for s in self.studies.values()],
                "overlay_styles": {k: v.to_dict() for k, v in self.overlay_styles.items()},
                "hidden_overlays": sorted(self.hidden_overlays)}

    def restore(self, state: object) -> list[str]:
        """Put back a ``state()`` (replacing the studies there are); returns one message per
        entry that was skipped as damaged."""
        problems: list[str] = []
        if not isinstance(state, dict):
            return problems
        styles = state.get("overlay_styles") or {}
        if isinstance(styles, dict):
            for name, d in styles.items():
                try:
                    self.overlay_styles[str(name)] = LineStyle.from_dict(d)
                except ValueError as exc:
                    problems.append(f"{name}: {exc}")
        hidden = state.get("hidden_overlays") or []
        if isinstance(hidden, list):
            self.hidden_overlays = {str(h) for h in hidden}
        items = state.get("items")
        if isinstance(items, list):
            self.clear()
            for d in items:
                try:
                    st = Study.from_dict(d)
                except ValueError as exc:
                    problems.append(str(exc))
                    continue
                self.add(st.kind, st.params, st.styles, st.visible, sid=st.id, compute=False)
            self.compute()
        return problems
