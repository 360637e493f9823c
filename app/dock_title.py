"""The title bar of a linkable dock: its title, the link-group colour button, float, close.

A ``QDockWidget`` with a custom title bar still drags by it (mouse events the bar does not
handle go to the dock), so only the buttons are ours.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QDockWidget, QHBoxLayout, QLabel, QMenu, QStyle, QToolButton, QWidget

from app.links import COLORS, LinkGroup, Links


def link_icon(group: LinkGroup, size: int = 12) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = QColor(COLORS[group])
    p.setPen(color.darker(140))
    p.setBrush(color if group is not LinkGroup.UNLINKED else Qt.GlobalColor.transparent)
    p.drawEllipse(1, 1, size - 2, size - 2)
    p.end()
    return QIcon(pm)


class DockTitleBar(QWidget):
    def __init__(self, dock: QDockWidget, links: Links, instance_id: str) -> None:
        super().__init__(dock)
        self.setObjectName("dockTitleBar")
        self.dock = dock
        self.links = links
        self.instance_id = instance_id
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 2, 2)
        lay.setSpacing(4)
        self.link_button = QToolButton(self)
        self.link_button.setObjectName("linkGroup")
        self.link_button.setAutoRaise(True)
        self.link_button.setIconSize(QSize(12, 12))
        self.link_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.link_button)
        self.group_actions: dict[LinkGroup, QAction] = {}
        for g in LinkGroup:
            a = menu.addAction(link_icon(g), g.label)
            a.setCheckable(True)
            a.triggered.connect(lambda _=False, g=g: self.links.set_group(self.instance_id, g))
            self.group_actions[g] = a
        self.link_button.setMenu(menu)
        self.title = QLabel(dock.windowTitle(), self)
        self.title.setObjectName("dockTitle")
        dock.windowTitleChanged.connect(self.title.setText)
        style = self.style()
        self.float_button = QToolButton(self, autoRaise=True, objectName="dockFloat")
        self.float_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TitleBarNormalButton))
        self.float_button.setToolTip("Float / dock")
        self.float_button.clicked.connect(lambda: dock.setFloating(not dock.isFloating()))
        self.close_button = QToolButton(self, autoRaise=True, objectName="dockClose")
        self.close_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        self.close_button.setToolTip("Close")
        self.close_button.clicked.connect(dock.close)
        for b in (self.float_button, self.close_button):
            b.setIconSize(QSize(10, 10))
        lay.addWidget(self.link_button)
        lay.addWidget(self.title, 1)
        lay.addWidget(self.float_button)
        lay.addWidget(self.close_button)
        links.group_changed.connect(self._on_group_changed)
        self._show(links.group(instance_id))

    def _on_group_changed(self, instance_id: str, group: LinkGroup) -> None:
        if instance_id == self.instance_id:
            self._show(group)

    def _show(self, group: LinkGroup) -> None:
        self.link_button.setIcon(link_icon(group))
        self.link_button.setToolTip(f"Link group: {group.label} (docks of one colour share the symbol)")
        for g, a in self.group_actions.items():
            a.setChecked(g is group)

    def mouseDoubleClickEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        self.dock.setFloating(not self.dock.isFloating())
