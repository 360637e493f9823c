"""Drawings on the chart: the "✎ Draw" menu, placing, selecting, moving, editing, deleting.

The model is Qt-free (``engine.charts.drawings``): anchors are (time, price), so this layer
maps them to the price pane's coordinates at paint time — time → bar index through the drawn
bars' times (a time between two bars interpolates), price → the drawn scale (linear, log,
percent) — and the same drawings show on every timeframe and chart type of the symbol.

Mouse, on the price pane: with a tool picked, each click places the next anchor (a preview
follows the cursor); without one, a press on a drawing selects it and a drag moves it (drag a
square handle to move one anchor); a double-click opens its editor (style, text, levels,
lock). Keys while the chart has focus: Del deletes the selected drawing, Esc drops the tool,
Ctrl+Z undoes, Ctrl+Shift+Z (or Ctrl+Y) redoes. The magnet snaps anchors to the nearest open,
high, low or close of the bar under the cursor.

One ``DrawingsItem`` (added with ``Pane.add_extra``, so it survives reloads and never widens
the fit) paints every drawing; hit testing is done in pixels by the layer.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QCursor, QFontMetricsF, QKeyEvent, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import (QCheckBox, QColorDialog, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFormLayout, QLabel, QLineEdit, QMenu, QPushButton, QToolButton, QToolTip, QWidget)

from engine.charts.drawings import (DASHES, FIB_KINDS, KIND_LABELS, KINDS, POINTS, Drawing, DrawingError,
                                    DrawingSet, DrawingStore, Point, Style, fib_prices, measure, measure_text,
                                    time_to_x, x_to_time)
from engine.store.db import StoreError

if TYPE_CHECKING:
    from widgets.chart.widget import ChartWidget

log = logging.getLogger(__name__)

HIT_PX = 6.0  # how close (pixels) a press must be to a line to pick it
HANDLE_PX = 8.0
_DASH = {"solid": Qt.PenStyle.SolidLine, "dash": Qt.PenStyle.DashLine, "dot": Qt.PenStyle.DotLine,
         "dashdot": Qt.PenStyle.DashDotLine}
_FILL_ALPHA = 0.12


@dataclass
class Shapes:
    """What one drawing looks like in the price pane's view coordinates (x bar index, y drawn)."""

    lines: list[tuple[float, float, float, float, bool]] = field(default_factory=list)  # ..., dashed guide
    rects: list[tuple[float, float, float, float]] = field(default_factory=list)  # filled, hit inside
    polys: list[list[tuple[float, float]]] = field(default_factory=list)  # filled only
    texts: list[tuple[float, float, str]] = field(default_factory=list)  # anchored at the point's left/bottom


class DrawingsItem(pg.GraphicsObject):
    """Paints every drawing of a ``DrawingLayer`` (and the one being placed or dragged)."""

    def __init__(self, layer: DrawingLayer) -> None:
        super().__init__()
        self.layer = layer
        self.setZValue(45)  # over the bars and studies, under the crosshair

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        vb = self.getViewBox()
        return QRectF(vb.viewRect()) if vb is not None else QRectF()

    def viewRangeChanged(self) -> None:  # noqa: N802 - pyqtgraph hook
        self.prepareGeometryChange()
        self.update()

    def paint(self, p: QPainter, *_args: Any) -> None:
        vr = self.boundingRect()
        for d in self.layer.drawn():
            self.layer.paint_drawing(p, d, vr)


def _dist_to_segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy
    t = 0.0 if ll == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / ll))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


class DrawingLayer(QObject):
    """The drawings of the chart's symbol: model (``DrawingSet``), store, mouse and keys."""

    changed = Signal()  # a drawing was added, moved, edited, deleted, or undone/redone
    selection_changed = Signal(object)  # the selected drawing's id, or None

    def __init__(self, chart: ChartWidget) -> None:
        super().__init__(chart)
        self.chart = chart
        self.pane = chart.price_pane
        self.store: DrawingStore | None = None
        self.symbol: str | None = None
        self.set = DrawingSet()
        self.set.listeners.append(self._on_set_changed)
        self.warnings: list[str] = []
        self.tool: str | None = None
        self.magnet = False
        self.selected: str | None = None
        self._pending: list[Point] = []
        self._preview: Drawing | None = None
        self._drag: tuple[Drawing, int | None, QPointF] | None = None  # original, handle, press (view)
        self._moved = False
        self.editor: DrawingEditor | None = None
        self.item = DrawingsItem(self)
        self.pane.add_extra(self.item)
        self.button = self._make_button()
        self._viewport = self.pane.view.viewport()  # kept: compared during teardown, when the view may be gone
        for w in (chart, self.pane.view, self._viewport):
            w.installEventFilter(self)
        chart.bars_loaded.connect(self._on_chart_bars_loaded)

    # ------------------------------------------------------------------ toolbar
    def _make_button(self) -> QToolButton:
        b = QToolButton(text="✎")  # compact, like Presets (☰) and Export (⤓)
        b.setObjectName("chartDraw")
        b.setToolTip("Drawings: pick a tool, then click on the price pane to place it "
                     "(Del deletes, Ctrl+Z / Ctrl+Shift+Z undo and redo)")
        b.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        m = QMenu(b)
        self.tool_actions: dict[str, QAction] = {}
        group = QActionGroup(m)
        group.setExclusive(True)
        cursor = m.addAction("Cursor (select and move)")
        cursor.setCheckable(True)
        cursor.setChecked(True)
        group.addAction(cursor)
        cursor.triggered.connect(lambda: self.set_tool(None))
        self.tool_actions[""] = cursor
        for k in KINDS:
            a = m.addAction(KIND_LABELS[k])
            a.setCheckable(True)
            group.addAction(a)
            a.triggered.connect(lambda _=False, k=k: self.set_tool(k))
            self.tool_actions[k] = a
        m.addSeparator()
        self.magnet_action = m.addAction("Magnet: snap to open/high/low/close")
        self.magnet_action.setCheckable(True)
        self.magnet_action.toggled.connect(self.set_magnet)
        m.addSeparator()
        self.lock_action = m.addAction("Lock / unlock selected", self.toggle_lock)
        self.edit_action = m.addAction("Edit selected…", lambda: self.open_editor(self.selected))
        self.delete_action = m.addAction("Delete selected\tDel", self.delete_selected)
        m.addSeparator()
        self.undo_action = m.addAction("Undo\tCtrl+Z", self.undo)
        self.redo_action = m.addAction("Redo\tCtrl+Shift+Z", self.redo)
        m.aboutToShow.connect(self._update_menu)
        b.setMenu(m)
        return b

    def _update_menu(self) -> None:
        has = self.selected is not None and self.selected in self.set
        for a in (self.lock_action, self.edit_action, self.delete_action):
            a.setEnabled(has)
        self.undo_action.setEnabled(self.set.can_undo)
        self.redo_action.setEnabled(self.set.can_redo)

    def set_tool(self, kind: str | None) -> None:
        """Pick the tool the next clicks place (``None``: select and move)."""
        if kind is not None and kind not in POINTS:
            raise ValueError(f"unknown drawing tool {kind!r}; use one of {', '.join(KINDS)}")
        self.tool = kind
        self._pending = []
        self._preview = None
        self.tool_actions[kind or ""].setChecked(True)
        vp = self.pane.view.viewport()
        if kind is None:
            vp.unsetCursor()
        else:
            vp.setCursor(Qt.CursorShape.CrossCursor)
        self.item.update()

    def set_magnet(self, on: bool) -> None:
        """Snap anchors to the nearest O/H/L/C of the bar under the cursor."""
        self.magnet = bool(on)
        if self.magnet_action.isChecked() != self.magnet:
            self.magnet_action.setChecked(self.magnet)

    # ------------------------------------------------------------------ symbol and store
    def set_store(self, store: DrawingStore | None) -> None:
        """Keep drawings in ``store`` (per symbol); the current symbol's are loaded from it."""
        self.store = store
        sym, self.symbol = self.symbol, None
        if sym:
            self.load(sym)

    def load(self, symbol: str) -> None:
        """Show ``symbol``'s drawings (from the store, if any); the undo history starts afresh."""
        self.symbol = symbol
        drawings: list[Drawing] = []
        self.warnings = []
        if self.store is not None:
            try:
                drawings, self.warnings = self.store.load(symbol)
            except (StoreError, DrawingError) as exc:
                self.warnings = [str(exc)]
                log.warning("drawings of %s could not be loaded: %s", symbol, exc)
        listeners = self.set.listeners
        self.set = DrawingSet(drawings)
        self.set.listeners = listeners
        self.selected = None
        self.set_tool(None)
        self.item.update()

    def _on_chart_bars_loaded(self, bars: Any) -> None:
        if bars.symbol != self.symbol:
            self.load(bars.symbol)
        self.refresh()

    def _on_set_changed(self) -> None:
        if self.selected is not None and self.selected not in self.set:
            self.select(None)
        if self.store is not None and self.symbol:
            try:
                self.store.save(self.symbol, list(self.set))
            except (StoreError, DrawingError) as exc:  # shown, not fatal: the drawing stays on screen
                log.warning("drawings of %s could not be saved: %s", self.symbol, exc)
                self._tell(f"Drawings could not be saved: {exc}")
        self.item.update()
        self.changed.emit()

    def refresh(self) -> None:
        """Redraw after the bars, the chart type or the price scale changed."""
        self.item.prepareGeometryChange()
        self.item.update()

    # ------------------------------------------------------------------ coordinates
    def _times(self) -> np.ndarray:
        s = self.chart.shown
        return s.time if s is not None else np.empty(0, dtype=np.int64)

    def _y(self, price: float) -> float:
        return float(self.chart._fwd(np.array([price], dtype=float))[0])

    def xy(self, p: Point) -> tuple[float, float]:
        """Where anchor ``p`` is in the price pane's view coordinates (bar index, drawn y)."""
        return time_to_x(self._times(), p.time), self._y(p.price)

    def point_at(self, x: float, y: float, snap: bool | None = None) -> Point:
        """The anchor at view position (``x``, ``y``): with the magnet, the nearest of the
        O/H/L/C of the bar under ``x``, at that bar's time."""
        s = self.chart.shown
        times = self._times()
        if s is None or not len(times):
            raise DrawingError("There are no bars to place a drawing on.")
        if self.magnet if snap is None else snap:
            i = int(min(max(round(x), 0), len(s) - 1))
            prices = [float(a[i]) for a in (s.open, s.high, s.low, s.close) if math.isfinite(float(a[i]))]
            if prices:
                best = min(prices, key=lambda v: abs(self._y(v) - y))
                return Point(int(times[i]), best)
        return Point(x_to_time(times, x), self.chart._inv(y))

    def _scene(self, x: float, y: float) -> QPointF:
        return QPointF(self.pane.vb.mapViewToScene(QPointF(x, y)))

    # ------------------------------------------------------------------ geometry
    def drawn(self) -> list[Drawing]:
        """What is painted: the stored drawings (the dragged one as it is being moved) and
        the one being placed."""
        if self.chart.shown is None or not len(self.chart.shown):
            return []
        out = list(self.set)
        if self._drag is not None and self._preview is not None:
            out = [self._preview if d.id == self._preview.id else d for d in out]
        elif self._preview is not None:
            out.append(self._preview)
        return out

    def shapes(self, d: Drawing, vr: QRectF) -> Shapes:
        """``d``'s lines, rectangles and labels in view coordinates, lines that run on to the
        edge (rays, extended and horizontal/vertical lines) clipped to the view ``vr``."""
        sh = Shapes()
        pts = [self.xy(p) for p in d.points]
        if not all(math.isfinite(a) and math.isfinite(b) for a, b in pts):
            return sh
        left, right, top, bottom = vr.left(), vr.right(), min(vr.top(), vr.bottom()), max(vr.top(), vr.bottom())
        k = d.kind
        if k in ("trend", "ray", "extended"):
            (x0, y0), (x1, y1) = pts
            if k == "trend" or x0 == x1:
                sh.lines.append((x0, y0, x1, y1, False))
            else:
                slope = (y1 - y0) / (x1 - x0)
                far = right if x1 > x0 else left
                start = (left if x1 > x0 else right) if k == "extended" else x0
                sh.lines.append((start, y0 + slope * (start - x0), far, y0 + slope * (far - x0), False))
        elif k == "hline":
            sh.lines.append((left, pts[0][1], right, pts[0][1], False))
        elif k == "hray":
            sh.lines.append((pts[0][0], pts[0][1], max(right, pts[0][0]), pts[0][1], False))
        elif k == "vline":
            sh.lines.append((pts[0][0], top, pts[0][0], bottom, False))
        elif k == "rectangle":
            (x0, y0), (x1, y1) = pts
            sh.rects.append((x0, y0, x1, y1))
        elif k == "channel":
            (x0, y0), (x1, y1), (x2, y2) = pts
            slope = (y1 - y0) / (x1 - x0) if x1 != x0 else 0.0
            off = y2 - (y0 + slope * (x2 - x0))
            sh.lines += [(x0, y0, x1, y1, False), (x0, y0 + off, x1, y1 + off, False),
                         (x0, y0 + off / 2, x1, y1 + off / 2, True)]
            sh.polys.append([(x0, y0), (x1, y1), (x1, y1 + off), (x0, y0 + off)])
        elif k in FIB_KINDS:
            xs = [x for x, _ in pts]
            xa, xb = min(xs), max(xs)
            if xb - xa < 1:
                xb = xa + 1
            for i in range(len(pts) - 1):
                sh.lines.append((*pts[i], *pts[i + 1], True))
            for level, price in fib_prices(d):
                y = self._y(price)
                if math.isfinite(y):
                    sh.lines.append((xa, y, xb, y, False))
                    sh.texts.append((xa, y, f"{level:g} ({price:,.2f})"))
        elif k == "text":
            sh.texts.append((pts[0][0], pts[0][1], d.text or "Text"))
        elif k in ("price_range", "date_range"):
            (x0, y0), (x1, y1) = pts
            sh.rects.append((x0, y0, x1, y1))
            if k == "price_range":
                xm = (x0 + x1) / 2
                sh.lines.append((xm, y0, xm, y1, False))
            else:
                ym = (y0 + y1) / 2
                sh.lines.append((x0, ym, x1, ym, False))
            sh.texts.append(((x0 + x1) / 2, max(y0, y1), measure_text(measure(d, self._times()))))
        return sh

    def paint_drawing(self, p: QPainter, d: Drawing, vr: QRectF) -> None:
        sh = self.shapes(d, vr)
        color = QColor(d.style.color)
        selected = d.id == self.selected
        pen = pg.mkPen(color, width=d.style.width + (1.0 if selected else 0.0), style=_DASH[d.style.dash])
        guide = pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine)
        fill = QColor(color)
        fill.setAlphaF(_FILL_ALPHA)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setBrush(fill)
        p.setPen(pen)
        for x0, y0, x1, y1 in sh.rects:
            p.drawRect(QRectF(QPointF(x0, y0), QPointF(x1, y1)).normalized())
        p.setPen(Qt.PenStyle.NoPen)
        for poly in sh.polys:
            p.drawPolygon([QPointF(x, y) for x, y in poly])
        p.setBrush(Qt.BrushStyle.NoBrush)
        for x0, y0, x1, y1, dashed in sh.lines:
            p.setPen(guide if dashed else pen)
            p.drawLine(QPointF(x0, y0), QPointF(x1, y1))
        # labels and handles in pixels, not in the (anisotropic) view coordinates
        tr = p.transform()
        p.save()
        p.resetTransform()
        fm = QFontMetricsF(p.font())
        for x, y, text in sh.texts:
            if not text:
                continue
            at = tr.map(QPointF(x, y))
            w = fm.horizontalAdvance(text)
            if d.kind in ("price_range", "date_range"):
                box = QRectF(at.x() - w / 2 - 4, at.y() - fm.height() - 6, w + 8, fm.height() + 2)
                p.fillRect(box, color)
                p.setPen(QColor("#ffffff"))
                p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
            elif d.kind in FIB_KINDS:  # left of the levels, as TradingView: the bars stay readable
                p.setPen(color)
                p.drawText(QPointF(at.x() - w - 4, at.y() + fm.ascent() / 2 - 1), text)
            else:
                p.setPen(color)
                p.drawText(QPointF(at.x() + 2, at.y() - 3), text)
        if selected:
            p.setPen(QPen(color, 1))
            p.setBrush(QColor("#ffffff") if not d.locked else color)
            for pt in d.points:
                at = tr.map(QPointF(*self.xy(pt)))
                p.drawRect(QRectF(at.x() - 4, at.y() - 4, 8, 8))
        p.restore()

    # ------------------------------------------------------------------ hit testing
    def hit(self, scene: QPointF) -> tuple[str, int | None] | None:
        """The drawing under scene position ``scene`` and the handle (anchor index) pressed,
        if any: handles of the selected drawing first, then the topmost drawing."""
        vb = self.pane.vb
        vr = vb.viewRect()
        sx, sy = scene.x(), scene.y()
        sel = self.selected
        if sel is not None and sel in self.set:
            d = self.set.get(sel)
            for i, pt in enumerate(d.points):
                s = self._scene(*self.xy(pt))
                if abs(s.x() - sx) <= HANDLE_PX and abs(s.y() - sy) <= HANDLE_PX:
                    return d.id, i
        fm = QFontMetricsF(self.pane.view.font())
        for d in reversed(list(self.set)):
            sh = self.shapes(d, vr)
            for x0, y0, x1, y1, _ in sh.lines:
                a, b = self._scene(x0, y0), self._scene(x1, y1)
                if _dist_to_segment(sx, sy, a.x(), a.y(), b.x(), b.y()) <= HIT_PX:
                    return d.id, None
            for x0, y0, x1, y1 in sh.rects:
                r = QRectF(self._scene(x0, y0), self._scene(x1, y1)).normalized().adjusted(-HIT_PX, -HIT_PX,
                                                                                           HIT_PX, HIT_PX)
                if r.contains(scene):
                    return d.id, None
            if d.kind == "text":
                for x, y, text in sh.texts:
                    at = self._scene(x, y)
                    r = QRectF(at.x(), at.y() - fm.height() - 3, fm.horizontalAdvance(text) + 6, fm.height() + 6)
                    if r.contains(scene):
                        return d.id, None
        return None

    # ------------------------------------------------------------------ commands
    def select(self, drawing_id: str | None) -> None:
        if drawing_id != self.selected:
            self.selected = drawing_id
            self.item.update()
            self.selection_changed.emit(drawing_id)

    def _tell(self, text: str) -> None:
        log.info("%s", text)
        QToolTip.showText(QCursor.pos(), text, self.pane.view)

    def _guard(self, fn: Callable[[], Any]) -> bool:
        try:
            fn()
        except DrawingError as exc:
            self._tell(str(exc))
            return False
        return True

    def add(self, drawing: Drawing) -> Drawing:
        """Add ``drawing`` to the symbol (undoable)."""
        d = self.set.add(drawing)
        self.select(d.id)
        return d

    def delete_selected(self) -> None:
        if self.selected is not None and self.selected in self.set:
            self._guard(lambda: self.set.delete(str(self.selected)))

    def toggle_lock(self) -> None:
        sel = self.selected
        if sel is not None and sel in self.set:
            d = self.set.get(sel)
            self.set.update("lock", replace(d, locked=not d.locked))

    def undo(self) -> None:
        self.set.undo()

    def redo(self) -> None:
        self.set.redo()

    def apply_edit(self, new: Drawing) -> None:
        """Replace the drawing with ``new.id`` by ``new``, recorded as "restyle" (only the style
        changed), "lock" (only the lock) or "edit"."""
        old = self.set.get(new.id)
        if replace(old, style=new.style) == new:
            action = "restyle"
        elif replace(old, locked=new.locked) == new:
            action = "lock"
        else:
            action = "edit"
        self.set.update(action, new)

    def open_editor(self, drawing_id: str | None) -> DrawingEditor | None:
        """Open the editor of a drawing (non-blocking; ``self.editor`` while open)."""
        if drawing_id is None or drawing_id not in self.set:
            return None
        self.editor = DrawingEditor(self.set.get(drawing_id), self.apply_edit, self.pane)
        self.editor.finished.connect(lambda _r: setattr(self, "editor", None))
        self.editor.open()
        return self.editor

    # ------------------------------------------------------------------ mouse and keys
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        t = event.type()
        if t in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) and isinstance(event, QKeyEvent):
            return self._on_key(event, override=t == QEvent.Type.ShortcutOverride)
        if obj is not self._viewport or not isinstance(event, QMouseEvent):
            return False
        if self.chart.shown is None or not len(self.chart.shown):
            return False
        scene = self.pane.view.mapToScene(event.position().toPoint())
        if t == QEvent.Type.MouseButtonPress or (t == QEvent.Type.MouseButtonDblClick and self.tool):
            if event.button() == Qt.MouseButton.LeftButton:
                return self._on_press(scene)
            if event.button() == Qt.MouseButton.RightButton and self.tool:
                self.set_tool(None)
                return True
        elif t == QEvent.Type.MouseButtonDblClick and event.button() == Qt.MouseButton.LeftButton:
            h = self.hit(scene)
            if h is not None:
                self.select(h[0])
                self.open_editor(h[0])
                return True
        elif t == QEvent.Type.MouseMove:
            return self._on_move(scene)
        elif t == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            return self._on_release()
        return False

    def _view(self, scene: QPointF) -> QPointF:
        return QPointF(self.pane.vb.mapSceneToView(scene))

    def _on_press(self, scene: QPointF) -> bool:
        if not self.pane.vb.sceneBoundingRect().contains(scene):
            return False
        v = self._view(scene)
        if self.tool is not None:
            try:
                pt = self.point_at(v.x(), v.y())
            except DrawingError as exc:
                self._tell(str(exc))
                return True
            self._pending.append(pt)
            need = POINTS[self.tool]
            if len(self._pending) >= need:
                kind, pts = self.tool, self._pending[:need]
                self._pending, self._preview = [], None
                ok = self._guard(lambda: self.add(Drawing.create(kind, pts)))
                self.set_tool(None)
                if ok and kind == "text":
                    self.open_editor(self.selected)
            else:
                self._set_preview(pt)
            return True
        h = self.hit(scene)
        if h is None:
            self.select(None)
            return False  # a press on empty chart pans as before
        self.select(h[0])
        d = self.set.get(h[0])
        if not d.locked:
            self._drag = (d, h[1], v)
            self._moved = False
        return True

    def _set_preview(self, pt: Point) -> None:
        assert self.tool is not None
        need = POINTS[self.tool]
        pts = (self._pending + [pt] * need)[:need]
        try:
            self._preview = Drawing.create(self.tool, pts, text="Text")
        except DrawingError:
            self._preview = None
        self.item.update()

    def _on_move(self, scene: QPointF) -> bool:
        v = self._view(scene)
        if self.tool is not None and self._pending:
            try:
                self._set_preview(self.point_at(v.x(), v.y()))
            except DrawingError:
                pass
            return True
        if self._drag is None:
            return False
        d, handle, start = self._drag
        try:
            if handle is not None:
                pts = list(d.points)
                pts[handle] = self.point_at(v.x(), v.y())
            else:
                dx, dy = v.x() - start.x(), v.y() - start.y()
                times = self._times()
                pts = [Point(x_to_time(times, time_to_x(times, p.time) + dx), self.chart._inv(self._y(p.price) + dy))
                       for p in d.points]
            self._preview = d.with_points(pts)
            self._moved = True
        except DrawingError:
            pass
        self.item.update()
        return True

    def _on_release(self) -> bool:
        if self._drag is None:
            return self.tool is not None
        preview, moved = self._preview, self._moved
        self._drag, self._preview, self._moved = None, None, False
        if moved and preview is not None:
            self._guard(lambda: self.set.update("move", preview))
        self.item.update()
        return True

    def _escape(self) -> None:
        self.set_tool(None)
        self.select(None)

    def _on_key(self, event: QKeyEvent, override: bool) -> bool:
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        act: Callable[[], None] | None = None
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not ctrl and self.selected in self.set:
            act = self.delete_selected
        elif key == Qt.Key.Key_Escape and (self.tool is not None or self.selected is not None):
            act = self._escape
        elif ctrl and key == Qt.Key.Key_Z and not shift and self.set.can_undo:
            act = self.undo
        elif ctrl and ((key == Qt.Key.Key_Z and shift) or key == Qt.Key.Key_Y) and self.set.can_redo:
            act = self.redo
        if act is None:
            return False
        if override:  # the chart keeps its keys from the window's shortcuts while it has focus
            event.accept()
            return True
        act()
        return True


class DrawingEditor(QDialog):
    """Edit one drawing: colour, width, dash, text, Fibonacci levels, lock. ``on_apply(new)``
    is called with the edited drawing; a value it refuses is shown here and the dialog stays."""

    def __init__(self, drawing: Drawing, on_apply: Callable[[Drawing], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawingEditor")
        self.setWindowTitle(f"Edit {KIND_LABELS[drawing.kind].lower()}")
        self.drawing = drawing
        self.on_apply = on_apply
        form = QFormLayout(self)
        self.color = QLineEdit(drawing.style.color)
        self.color.setObjectName("drawingColor")
        pick = QPushButton("Pick…")
        pick.clicked.connect(self._pick_color)
        form.addRow("Colour", self.color)
        form.addRow("", pick)
        self.width_box = QDoubleSpinBox()
        self.width_box.setRange(0.5, 10.0)
        self.width_box.setSingleStep(0.5)
        self.width_box.setValue(drawing.style.width)
        form.addRow("Width (px)", self.width_box)
        self.dash = QComboBox()
        for dsh in DASHES:
            self.dash.addItem(dsh, dsh)
        self.dash.setCurrentIndex(DASHES.index(drawing.style.dash))
        form.addRow("Line", self.dash)
        self.text = QLineEdit(drawing.text)
        self.text.setObjectName("drawingText")
        self.text.setMaxLength(500)
        form.addRow("Text", self.text)
        self.levels = QLineEdit(", ".join(f"{v:g}" for v in drawing.levels))
        self.levels.setObjectName("drawingLevels")
        self.levels.setToolTip("Fibonacci levels as fractions, comma separated (0.618 is 61.8 %)")
        if drawing.kind in FIB_KINDS:
            form.addRow("Levels", self.levels)
        else:
            self.levels.hide()
        self.locked = QCheckBox("Locked (cannot be moved or deleted)")
        self.locked.setChecked(drawing.locked)
        form.addRow("", self.locked)
        self.error = QLabel("")
        self.error.setObjectName("drawingError")
        self.error.setStyleSheet("color:#d32f2f;")
        self.error.setWordWrap(True)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _pick_color(self) -> None:
        c = QColorDialog.getColor(QColor(self.color.text()), self, "Drawing colour")
        if c.isValid():
            self.color.setText(c.name())

    def edited(self) -> Drawing:
        """The drawing with the dialog's values; raises ``DrawingError`` for a bad one."""
        levels: tuple[float, ...] = self.drawing.levels
        if self.drawing.kind in FIB_KINDS:
            try:
                levels = tuple(float(v) for v in self.levels.text().replace(";", ",").split(",") if v.strip())
            except ValueError:
                raise DrawingError("Levels must be numbers separated by commas, e.g. 0, 0.5, 0.618, 1.") from None
        style = Style(self.color.text().strip(), self.width_box.value(), str(self.dash.currentData()))
        return replace(self.drawing, style=style, text=self.text.text(), levels=levels,
                       locked=self.locked.isChecked()).checked()

    def accept(self) -> None:
        try:
            self.on_apply(self.edited())
        except DrawingError as exc:
            self.error.setText(str(exc))
            return
        super().accept()
