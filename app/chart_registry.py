"""The open charts, which one is active, and where a symbol goes (the chart feature's
service, ``ctx.chart_registry``).

The **active chart** is the one the user last focused or clicked (not the one last
created). A symbol from a watchlist, the scanner or the search box opens in the charts the
link-group rules choose (``app/links.py``); the registry re-emits each chart's symbol
changes and price clicks with the chart's instance id so tickets can follow their group.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QApplication, QWidget

if TYPE_CHECKING:
    from app.context import AppContext
    from widgets.chart import ChartWidget

log = logging.getLogger(__name__)


class ChartRegistry(QObject):
    chart_added = Signal(str, object)  # instance id, ChartWidget
    chart_removed = Signal(str)
    active_changed = Signal(str)
    symbol_changed = Signal(str, str)  # instance id, symbol
    price_clicked = Signal(str, float)  # instance id, price

    def __init__(self, ctx: "AppContext", dock_id: str) -> None:
        super().__init__()
        self.ctx = ctx
        self.dock_id = dock_id  # the chart dock type (its first instance has this id)
        self.charts: dict[str, ChartWidget] = {}
        self.active_id: str | None = None
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    @property
    def active(self) -> "ChartWidget | None":
        return self.charts.get(self.active_id) if self.active_id else None

    def add(self, instance_id: str, chart: "ChartWidget") -> None:
        self.charts[instance_id] = chart
        chart.setProperty("instanceId", instance_id)
        chart.symbol_changed.connect(lambda s, i=instance_id: self.symbol_changed.emit(i, s))
        chart.price_clicked.connect(lambda p, i=instance_id: self.price_clicked.emit(i, p))
        for w in (chart, chart.glw.viewport()):
            w.installEventFilter(self)
        chart.destroyed.connect(lambda *_a, i=instance_id: self.remove(i))
        if self.active_id is None:
            self.active_id = instance_id
        self.chart_added.emit(instance_id, chart)

    def remove(self, instance_id: str) -> None:
        if self.charts.pop(instance_id, None) is None:
            return
        if self.active_id == instance_id:
            self.active_id = next(iter(self.charts), None)
        self.chart_removed.emit(instance_id)

    def activate(self, instance_id: str) -> None:
        if instance_id in self.charts and instance_id != self.active_id:
            self.active_id = instance_id
            self.active_changed.emit(instance_id)

    def open_symbol(self, symbol: str, source: str | None = None) -> list[str]:
        """Open ``symbol`` in the charts that ``source`` drives; returns their ids. With no
        chart open at all, the first chart dock is shown (as before several charts existed)."""
        if not self.charts and self.ctx.window is not None:
            self.ctx.window.show_dock(self.dock_id)
        targets = self.ctx.links.targets(source, list(self.charts), self.active_id)
        for cid in targets:
            self.charts[cid].open_symbol(symbol)
        return targets

    def reload_all(self) -> None:
        """Reload every open chart's symbol (after a data-source change)."""
        for chart in self.charts.values():
            if chart.symbol:
                chart.open_symbol(chart.symbol)

    # ------------------------------------------------------------------ focus
    def _owner(self, w: QWidget | None) -> str | None:
        while w is not None:
            iid = w.property("instanceId")
            if isinstance(iid, str) and iid in self.charts and self.charts[iid] is w:
                return iid
            w = w.parentWidget()
        return None

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        iid = self._owner(new)
        if iid is not None:
            self.activate(iid)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.FocusIn) and isinstance(obj, QWidget):
            iid = self._owner(obj)
            if iid is not None:
                self.activate(iid)
        return False
