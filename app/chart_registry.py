"""The open charts, which one is active, and where a symbol goes (the chart feature's
service, ``ctx.chart_registry``).

The **active chart** is the one the user last focused or clicked (not the one last
created). A symbol from a watchlist, the scanner or the search box opens in the charts the
link-group rules choose (``app/links.py``); the registry re-emits each chart's symbol
changes and price clicks with the chart's instance id so tickets can follow their group.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
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
        for w in (chart, *chart.viewports()):  # every pane's canvas: a click there activates the chart
            w.installEventFilter(self)
        chart.destroyed.connect(lambda *_a, i=instance_id: self.remove(i))
        if self.active_id is None:
            self.active_id = instance_id
        self.chart_added.emit(instance_id, chart)

    def remove(self, instance_id: str) -> None:
        if self.charts.pop(instance_id, None) is None or not shiboken6.isValid(self):
            return  # unknown, or the app is shutting down (the registry went first)
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


class ChartFollower(QObject):
    """Passes the symbol changes and price clicks of the charts that dock ``instance_id``
    follows (link-group rules, ``Links.follows``) to ``on_symbol``/``on_price``. A child of
    ``owner`` (the following widget), so it stops when the widget is destroyed. Starts with
    the symbol of the first followed chart that shows one."""

    def __init__(self, registry: ChartRegistry, instance_id: str, owner: QObject,
                 on_symbol: Callable[[str], object], on_price: Callable[[float], object]) -> None:
        super().__init__(owner)
        self.registry = registry
        self.instance_id = instance_id
        self._on_symbol = on_symbol
        self._on_price = on_price
        registry.symbol_changed.connect(self.chart_symbol_changed)
        registry.price_clicked.connect(self.chart_price_clicked)
        for chart_id, chart in registry.charts.items():
            if chart.symbol and self.follows(chart_id):
                on_symbol(chart.symbol)
                break

    def follows(self, chart_id: str) -> bool:
        return self.registry.ctx.links.follows(self.instance_id, chart_id, self.registry.active_id)

    def chart_symbol_changed(self, chart_id: str, symbol: str) -> None:
        if self.follows(chart_id):
            self._on_symbol(symbol)

    def chart_price_clicked(self, chart_id: str, price: float) -> None:
        if self.follows(chart_id):
            self._on_price(price)
