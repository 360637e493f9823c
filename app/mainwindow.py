"""The main window: docks, menus and settings keys from the feature modules
(``app/features``), symbol search, status bar.

Nothing here names a dock or a feature: the dock types, their default places, the menu
actions and the bus subscriptions come from ``FEATURES``. A multi-instance dock type (the
chart) may be opened several times ("New chart"); instances are ``chart``, ``chart-2``, ...
(the dock's objectName), closing an extra one removes it.

The layout is UI state and lives in the store (``app/ui_state.py``): window geometry,
``saveState(LAYOUT_VERSION)``, the list of open instances, each dock's own state
(``state()``/``restore_state()`` of its content) and link groups. Bump ``LAYOUT_VERSION``
only when the dock set changes in a way an old layout cannot express (vnpy resets layouts
on every upgrade because it keys them by the app version -- we don't).
"""
from __future__ import annotations

import logging
import platform
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from PySide6.QtCore import QByteArray, QSize, QStringListModel, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QCompleter,
    QDockWidget,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QToolBar,
    QToolButton,
    QWidget,
)

from app import theme
from app.context import AppContext
from app.features import Area, DockSpec
from app.links import NEW_INSTANCE_GROUP, LinkGroup
from app.notify import app_icon
from app.ui_state import DOCKS, LAYOUT
from app.workers import Worker
from engine import __version__, paths
from engine.events import Notification, SettingsChanged
from engine.progress import Progress

log = logging.getLogger(__name__)
LAYOUT_VERSION = 1
_AREAS = {
    Area.LEFT: Qt.DockWidgetArea.LeftDockWidgetArea,
    Area.RIGHT: Qt.DockWidgetArea.RightDockWidgetArea,
    Area.TOP: Qt.DockWidgetArea.TopDockWidgetArea,
    Area.BOTTOM: Qt.DockWidgetArea.BottomDockWidgetArea,
}
STATE_SAVE_DELAY_MS = 1500
#: Work the first frame does not need (``MainWindow.after_start_up``: the paper broker and
#: its session, the completer's symbol list -- only typing in the search box needs it) runs this long after the window has shown and the background tasks running
#: then (the chart's bars) have finished, so the chart paints first (drawing the bars takes
#: the GUI thread 50-150 ms after they arrive) ...
AFTER_START_UP_SETTLE_MS = 250
#: ... and at the latest this long after the event loop first ran with the window shown (a
#: hung download must not keep the ticket connecting for ever; a slow start on a busy machine
#: must not open the broker before the chart has drawn).
AFTER_START_UP_MAX_MS = 10_000


@runtime_checkable
class StatefulDock(Protocol):
    """Dock content whose setup is saved with the layout."""

    def state(self) -> dict[str, Any]: ...

    def restore_state(self, state: dict[str, Any]) -> None: ...


class DockWidget(QDockWidget):
    """A dock that says when the user closed it (hiding by tabbing does not count)."""

    closed = Signal()

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        super().closeEvent(event)
        self.closed.emit()


def _plain(menu_title: str) -> str:
    return menu_title.replace("&", "")


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("mainWindow")
        self.setWindowTitle("Stock Scanner")
        self.setWindowIcon(app_icon())
        self.setDockNestingEnabled(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowNestedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
        )
        self.specs: dict[str, DockSpec] = {s.id: s for f in ctx.features for s in f.docks}
        self.docks: dict[str, QDockWidget] = {}  # instance id -> dock
        self._size_before_show: dict[int, QSize] = {}  # id(dock) -> the window's size (see _keep_size)
        self._size_guard: tuple[QDockWidget, QSize, float] | None = None  # (dock, size, until)
        self.instance_spec: dict[str, DockSpec] = {}  # instance id -> its dock type
        self.view_toggles: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {}
        self.feature_actions: dict[str, QAction] = {}
        self._pending_state: dict[str, dict[str, Any]] = {}  # restored when the content is built
        self._after_start_up: list[Callable[[], object]] = []
        self._started_up = False
        self._start_up_tasks: set[Worker] | None = None  # the tasks running when the window showed
        self._start_up_settle = QTimer(self)
        self._start_up_settle.setSingleShot(True)
        self._start_up_settle.setInterval(AFTER_START_UP_SETTLE_MS)
        self._start_up_settle.timeout.connect(self._start_up_over)
        self._start_up_deadline = QTimer(self)
        self._start_up_deadline.setSingleShot(True)
        self._start_up_deadline.setInterval(AFTER_START_UP_MAX_MS)
        self._start_up_deadline.timeout.connect(self._start_up_over)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(STATE_SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_dock_states)
        ctx.window = self
        ctx.notifier.window = self
        ctx.bridge.connect(Notification, lambda e: ctx.notifier.notify(e.title, e.text, e.level), owner=self)
        ctx.bridge.connect(SettingsChanged, self._on_settings_changed, owner=self)
        for feature in ctx.features:
            for sub in feature.subscriptions:
                # by name: the event's module is imported when it is first needed, not now
                ctx.bridge.connect(sub.event, lambda e, h=sub.handler: h(ctx, e), owner=self)

        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_statusbar()
        for spec in self.specs.values():
            self._add_dock(spec, spec.id)
        self._apply_default_sizes()
        self._default_state = self.saveState(LAYOUT_VERSION)
        ctx.chart_registry.symbol_changed.connect(lambda *_: self._save_timer.start())
        ctx.links.group_changed.connect(lambda *_: self._save_timer.start())
        ctx.tasks.task_started.connect(self._on_task_started)
        ctx.tasks.task_progress.connect(self._on_task_progress)
        ctx.tasks.task_finished.connect(self._on_task_finished)
        ctx.tasks.task_failed.connect(self._on_task_failed)
        # bound methods, not lambdas: Qt drops them when the window is destroyed
        ctx.tasks.task_finished.connect(self._check_start_up)
        ctx.tasks.task_failed.connect(self._check_start_up)
        ctx.notifier.install_tray(self, self.quit_action)
        self._update_demo_state()
        for feature in ctx.features:
            if feature.start is not None:
                feature.start(ctx)

    # ------------------------------------------------------------------ building
    def _act(self, text: str, slot, shortcut: str | QKeySequence.StandardKey | None = None) -> QAction:  # type: ignore[no-untyped-def]
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        act = self._act
        self.settings_action = act("&Settings…", self.open_settings, "Ctrl+,")
        self.quit_action = act("&Quit", self._on_quit, QKeySequence.StandardKey.Quit)
        self.reset_layout_action = act("&Reset layout", self.reset_layout, "Ctrl+Shift+R")
        self.search_action = act("Find &symbol", self._focus_search, "Ctrl+K")
        self.fullscreen_action = act("&Full screen", self._toggle_fullscreen, "F11")
        self.about_action = act("&About Stock Scanner", self.show_about)
        self.logs_action = act("Open &log folder", self._open_logs)
        self.theme_actions: dict[str, QAction] = {}
        for name in ("dark", "light"):
            a = act(f"{name.title()} theme", lambda _=False, n=name: self.set_theme(n))
            a.setCheckable(True)
            self.theme_actions[name] = a
        self.new_dock_actions: dict[str, QAction] = {}
        for spec in self.specs.values():
            if spec.multi:
                self.new_dock_actions[spec.id] = act(spec.new_text or f"New {spec.title}",
                                                     lambda _=False, i=spec.id: self.new_dock(i), spec.new_shortcut)
        for feature in self.ctx.features:
            for a in feature.actions:
                self.feature_actions[a.id] = act(a.text, lambda _=False, cb=a.callback: cb(self.ctx, self), a.shortcut)

    def _menu(self, title: str) -> QMenu:
        key = _plain(title)
        if key not in self.menus:
            self.menus[key] = self.menuBar().addMenu(title)
        return self.menus[key]

    def _feature_actions_for(self, menu: str) -> list[QAction]:
        return [self.feature_actions[a.id] for f in self.ctx.features for a in f.actions if _plain(a.menu) == menu]

    def _build_menus(self) -> None:
        f = self._menu("&File")
        for a in self.new_dock_actions.values():
            f.addAction(a)
        for a in self._feature_actions_for("File"):
            f.addAction(a)
        f.addSeparator()
        f.addAction(self.settings_action)
        f.addSeparator()
        f.addAction(self.quit_action)
        self.view_menu = self._menu("&View")
        self._docks_anchor = self.view_menu.addSeparator()
        for a in self._feature_actions_for("View"):
            self.view_menu.addAction(a)
        self.view_menu.addAction(self.reset_layout_action)
        self.view_menu.addAction(self.fullscreen_action)
        tm = self.view_menu.addMenu("&Theme")
        for a in self.theme_actions.values():
            tm.addAction(a)
        self.theme_actions.get(str(self.ctx.settings.get("ui/theme")), self.theme_actions["dark"]).setChecked(True)
        for feature in self.ctx.features:  # the features' own menus, in feature order
            for spec in feature.actions:
                if _plain(spec.menu) not in ("File", "View", "Help"):
                    self._menu(spec.menu).addAction(self.feature_actions[spec.id])
        h = self._menu("&Help")
        for a in self._feature_actions_for("Help"):
            h.addAction(a)
        h.addAction(self.logs_action)
        h.addAction(self.about_action)

    def _build_toolbar(self) -> None:
        tb = QToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.search = QLineEdit()
        self.search.setObjectName("symbolSearch")
        self.search.setPlaceholderText("Symbol…  (Ctrl+K)")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(320)
        self.completion_model = QStringListModel(self)
        self.completer = QCompleter(self.completion_model, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setMaxVisibleItems(15)
        self.search.setCompleter(self.completer)
        self.completer.activated.connect(self._on_search_entered)
        self.search.returnPressed.connect(lambda: self._on_search_entered(self.search.text()))
        tb.addWidget(QLabel(" Symbol "))
        tb.addWidget(self.search)
        # The symbol list for the completer is loaded once the window has been shown (see
        # showEvent): a worker doing it now would compete with building the first frame.
        self._completions_pending = True

    def _build_statusbar(self) -> None:
        sb = self.statusBar()
        self.demo_badge = QLabel("Demo data")
        self.demo_badge.setObjectName("demoBadge")
        self.demo_badge.setStyleSheet(theme.DEMO_BADGE_CSS)
        self.demo_hint = QLabel('<a href="settings">Using generated demo prices — Settings → Data source</a>')
        self.demo_hint.setObjectName(theme.HINT)
        theme.style_hint(self.demo_hint)
        self.demo_hint.linkActivated.connect(lambda _l: self.open_settings(section="data"))
        sb.addWidget(self.demo_badge)
        sb.addWidget(self.demo_hint)
        self.task_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setObjectName("taskProgress")
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(True)
        self.cancel_button = QToolButton(text="Cancel")
        self.cancel_button.setObjectName("taskCancel")
        self.cancel_button.setToolTip("Cancel the running background work")
        self.cancel_button.clicked.connect(self.ctx.tasks.cancel_all)
        for w in (self.task_label, self.progress, self.cancel_button):
            sb.addPermanentWidget(w)
            w.hide()
        from widgets.notifications import NotificationBell

        self.notification_bell = NotificationBell(self.ctx.notifier)  # the notification centre
        sb.addPermanentWidget(self.notification_bell)

    def _next_instance_id(self, spec: DockSpec) -> str:
        if spec.id not in self.docks:
            return spec.id
        n = 2
        while f"{spec.id}-{n}" in self.docks:
            n += 1
        return f"{spec.id}-{n}"

    def _add_dock(self, spec: DockSpec, instance_id: str) -> QDockWidget:
        extra = instance_id != spec.id
        title = spec.title if not extra else f"{spec.title} {instance_id.rsplit('-', 1)[-1]}"
        dock = DockWidget(title, self)
        dock.setObjectName(instance_id)  # stable id: what saveState keys on
        dock.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
        if spec.linkable:
            from app.dock_title import DockTitleBar

            dock.setTitleBarWidget(DockTitleBar(dock, self.ctx.links, instance_id))
        else:
            dock.setStyleSheet(theme.dock_title_css())
        siblings = [self.docks[i] for i, s in self.instance_spec.items() if s is spec and not self.docks[i].isHidden()]
        if extra and siblings:
            self.addDockWidget(self.dockWidgetArea(siblings[-1]), dock)
            # below the last one: beside it, two charts' tool rows would not fit 1280 px
            self.splitDockWidget(siblings[-1], dock, Qt.Orientation.Vertical)
            QTimer.singleShot(0, self, lambda a=siblings[-1], b=dock: self._share_height(a, b))
        else:
            self.addDockWidget(_AREAS[spec.area], dock)
        if not extra and spec.tabify_with and spec.tabify_with in self.docks:
            self.tabifyDockWidget(self.docks[spec.tabify_with], dock)
            root = spec.tabify_with  # a tab group opens on its first dock, not its last
            while self.specs[root].tabify_with in self.docks:
                root = self.specs[root].tabify_with  # type: ignore[assignment]
            self.docks[root].raise_()
        elif not extra and spec.split_with and spec.split_with in self.docks:
            self.splitDockWidget(self.docks[spec.split_with], dock, Qt.Orientation.Horizontal)
        toggle = dock.toggleViewAction()
        if spec.shortcut and not extra:
            toggle.setShortcut(QKeySequence(spec.shortcut))
        self.view_menu.insertAction(self._docks_anchor, toggle)
        self.view_toggles[instance_id] = toggle
        # shown from the View menu or its shortcut: keep the window's size (see _keep_size). The
        # action's ``toggled`` comes before the dock shows (its ``triggered`` shows it), so the
        # size before is taken there
        toggle.toggled.connect(lambda on, d=dock: self._size_before_show.__setitem__(id(d), self.size()) if on else None)
        toggle.triggered.connect(
            lambda on, d=dock: self._keep_size(d, self._size_before_show.pop(id(d), self.size())) if on else None)
        dock.visibilityChanged.connect(lambda vis, d=dock, i=instance_id: vis and self._ensure_content(i))
        if extra:
            dock.closed.connect(lambda i=instance_id: self._remove_instance(i))
        if not spec.visible and not extra:
            dock.hide()
        self.docks[instance_id] = dock
        self.instance_spec[instance_id] = spec
        return dock

    def _share_height(self, a: QDockWidget, b: QDockWidget) -> None:
        """Once laid out, a new instance gets half of the height of the one it split."""
        live = list(self.docks.values())
        if not (any(a is d for d in live) and any(b is d for d in live)):
            return  # one of them was closed before the layout settled
        h = a.height() + b.height()
        self.resizeDocks([a, b], [h // 2, h - h // 2], Qt.Orientation.Vertical)

    def _remove_instance(self, instance_id: str) -> None:
        """An extra instance the user closed is gone (not hidden): its content, state and link."""
        dock = self.docks.pop(instance_id, None)
        self.instance_spec.pop(instance_id, None)
        self._pending_state.pop(instance_id, None)
        self.ctx.links.forget(instance_id)
        toggle = self.view_toggles.pop(instance_id, None)
        if toggle is not None:
            self.view_menu.removeAction(toggle)
        if dock is not None:
            self.removeDockWidget(dock)
            content = dock.widget()
            if content is not None:
                content.deleteLater()
            dock.deleteLater()
        self._save_timer.start()

    def _apply_default_sizes(self) -> None:
        visible = [(i, self.instance_spec[i]) for i in self.docks if self.instance_spec[i].visible]
        left = [i for i, s in visible if s.area is Area.LEFT]
        column = [i for i, s in visible if s.area is Area.RIGHT and not s.split_with and not s.tabify_with
                  and i == s.id]
        beside = [s for _i, s in visible if s.split_with and s.size]
        # One horizontal row: the left dock, the main column and the docks split beside it,
        # sized in one call (separate calls would take each other's space).
        if left and column:
            lw = min(330, int(self.width() * 0.22))
            rest = sum(s.size or 0 for s in beside)
            self.resizeDocks([self.docks[left[0]], self.docks[column[0]]] + [self.docks[s.id] for s in beside],
                             [lw, max(400, self.width() - lw - rest)] + [s.size or 0 for s in beside],
                             Qt.Orientation.Horizontal)
        for i, s in visible:
            if s.size and not s.split_with and not (s.tabify_with and s.tabify_with in self.docks):
                vertical = s.area in (Area.TOP, Area.BOTTOM)
                self.resizeDocks([self.docks[i]], [s.size],
                                 Qt.Orientation.Vertical if vertical else Qt.Orientation.Horizontal)
        if len(column) > 1:  # the first of the main column (the chart) gets two thirds
            self.resizeDocks([self.docks[i] for i in column], [620] + [320] * (len(column) - 1),
                             Qt.Orientation.Vertical)

    def _ensure_content(self, instance_id: str) -> QWidget:
        dock = self.docks[instance_id]
        w = dock.widget()
        if w is None or w.objectName() == "":
            spec = self.instance_spec[instance_id]
            w = spec.factory(self.ctx, instance_id)
            if not w.objectName():
                w.setObjectName(f"{spec.id}Content")
            theme.polish(w)
            dock.setWidget(w)
            state = self._pending_state.pop(instance_id, None)
            if state is not None and isinstance(w, StatefulDock):
                try:
                    w.restore_state(state)
                except Exception:  # noqa: BLE001 - a damaged saved state must not stop the dock
                    log.exception("restoring the state of dock %s failed", instance_id)
        return w

    # ------------------------------------------------------------------ after start-up
    def after_start_up(self, fn: Callable[[], object]) -> None:
        """Run ``fn()`` on the GUI thread once the first frame is on screen: after the window
        has shown and the tasks running then have finished (plus ``AFTER_START_UP_SETTLE_MS``),
        at the latest ``AFTER_START_UP_MAX_MS`` after that; at the next turn of the event loop
        when that is over, or when the window is not being shown (nothing to wait for)."""
        if self._started_up or not self.isVisible():
            QTimer.singleShot(0, self, fn)
            return
        self._after_start_up.append(fn)

    def _check_start_up(self, *_: object) -> None:
        if self._started_up or self._start_up_tasks is None:
            return  # over, or the window has not shown yet
        if not self._start_up_tasks & set(self.ctx.tasks.active) and not self._start_up_settle.isActive():
            self._start_up_settle.start()

    def _first_turn_after_show(self) -> None:
        if self._start_up_tasks is None:
            self._start_up_tasks = set(self.ctx.tasks.active)  # e.g. "Loading ACME 1d"
            self._start_up_deadline.start()
            self._check_start_up()

    def _start_up_over(self) -> None:
        if self._started_up:
            return
        self._started_up = True
        self._start_up_settle.stop()
        self._start_up_deadline.stop()
        pending, self._after_start_up = self._after_start_up, []
        for fn in pending:
            try:
                fn()
            except Exception:  # noqa: BLE001 - one failed step must not stop the others
                log.exception("after start-up: %r failed", fn)

    # ------------------------------------------------------------------ public API
    def show_dock(self, instance_id: str) -> QWidget:
        """Show (building if needed) a dock instance and return its content widget."""
        dock = self.docks[instance_id]
        w = self._ensure_content(instance_id)
        was_hidden, size = dock.isHidden(), self.size()
        dock.show()
        dock.raise_()
        if was_hidden:
            self._keep_size(dock, size)
        return w

    #: how long after a dock is shown the window still refuses to grow past the size it had
    KEEP_SIZE_GUARD_S = 2.0

    def _keep_size(self, dock: QDockWidget, size: QSize, again: bool = True) -> None:
        """A dock just shown must not grow the window (past a 1280×800 screen, say). When the
        docks' minimum sizes no longer fit in ``size``, ``dock`` joins a tab group of its own area
        (a tab bar is there already); when there is none, or the window still does not fit, the
        dock floats over the window. The window keeps ``size``. For ``KEEP_SIZE_GUARD_S`` after,
        a growth of the window past ``size`` (a dock whose content arrives from a worker can
        need more room once it is filled) is answered the same way (``resizeEvent``)."""
        import time

        from shiboken6 import isValid

        if not isValid(self) or not isValid(dock):
            return
        if again:
            self._size_guard = (dock, QSize(size), time.monotonic() + self.KEEP_SIZE_GUARD_S)
        if not self.isVisible() or dock.isFloating() or dock.isHidden():
            return

        def fits() -> bool:
            layout = self.layout()
            if layout is not None:
                layout.invalidate()
            need = self.minimumSizeHint()
            return need.width() <= size.width() and need.height() <= size.height()

        if fits():
            return
        area = self.dockWidgetArea(dock)
        shown = [d for d in self.docks.values() if d is not dock and not d.isHidden() and not d.isFloating()]
        groups = [d for d in shown if self.dockWidgetArea(d) == area and self.tabifiedDockWidgets(d)]
        front: QDockWidget | None = None  # the tab the group showed before
        if groups:  # one place only: moving a dock from group to group reshuffles the others
            group = [groups[0], *self.tabifiedDockWidgets(groups[0])]
            front = next((d for d in group if not d.visibleRegion().isEmpty()), None)
            self.tabifyDockWidget(groups[0], dock)
            dock.show()
            dock.raise_()
        if not fits():
            if front is not None:
                front.raise_()  # the group as it was (its shown tab sets its minimum)
            dock.setFloating(True)
            dock.resize(min(dock.width(), size.width() * 2 // 3), min(dock.height(), size.height() * 2 // 3))
            dock.move(self.geometry().center() - dock.rect().center())
        layout = self.layout()
        if layout is not None:
            layout.activate()  # the new minimum, before resizing back
        self.resize(size)
        QTimer.singleShot(0, self, lambda: self.resize(size) if self.size() != size else None)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        guard = self._size_guard
        if guard is None:
            return
        import time

        dock, size, until = guard
        if time.monotonic() > until:
            self._size_guard = None
            return
        new = event.size()
        if new.width() > size.width() or new.height() > size.height():
            QTimer.singleShot(0, self, lambda: self._keep_size(dock, size, again=False))

    def new_dock(self, spec_id: str) -> QWidget:
        """Open another instance of multi-instance dock type ``spec_id``; returns its content."""
        spec = self.specs[spec_id]
        if not spec.multi and spec_id in self.docks:
            return self.show_dock(spec_id)
        iid = self._next_instance_id(spec)
        if spec.linkable and iid != spec.id:
            self.ctx.links.set_group(iid, NEW_INSTANCE_GROUP)
        self._add_dock(spec, iid)
        w = self.show_dock(iid)
        self._save_timer.start()
        return w

    def contents(self, spec_id: str) -> list[QWidget]:
        """The built content of every open instance of dock type ``spec_id``."""
        out = []
        for iid, spec in self.instance_spec.items():
            if spec.id == spec_id:
                w = self.docks[iid].widget()
                if w is not None and w.objectName():
                    out.append(w)
        return out

    def instances(self, spec_id: str) -> list[str]:
        return [i for i, s in self.instance_spec.items() if s.id == spec_id]

    def dock_content(self, instance_id: str) -> QWidget | None:
        return self.docks[instance_id].widget()

    def restore_layout(self) -> bool:
        ui = self.ctx.ui
        saved_docks = ui.get(DOCKS) or {}
        if not isinstance(saved_docks, dict):
            saved_docks = {}
        for item in saved_docks.get("instances") or []:
            spec = self.specs.get(item.get("spec", "")) if isinstance(item, dict) else None
            iid = item.get("id") if isinstance(item, dict) else None
            if spec is None or not spec.multi or not isinstance(iid, str) or iid in self.docks \
                    or not iid.startswith(spec.id + "-"):
                continue  # a dock type this version does not have, or a damaged entry
            self._add_dock(spec, iid)
        for iid, group in (saved_docks.get("links") or {}).items():
            if iid in self.docks:
                self.ctx.links.set_group(iid, LinkGroup.parse(group, self.ctx.links.group(iid)))
        for iid, state in (saved_docks.get("state") or {}).items():
            if iid in self.docks and isinstance(state, dict):
                self._pending_state[iid] = state
        layout = ui.get(LAYOUT) or {}
        geo = ui.decode(layout.get("geometry")) if isinstance(layout, dict) else None
        state = ui.decode(layout.get("state")) if isinstance(layout, dict) else None
        ok = False
        if geo is not None:
            self.restoreGeometry(QByteArray(geo))
        else:
            self.resize(1400, 900)
        self._fit_to_screen()
        if state is not None:
            ok = self.restoreState(QByteArray(state), LAYOUT_VERSION)
        self._restored_minimums_pending = ok
        # Default dock sizes only stick once the window has its real size: apply them again
        # after the first show (a restored layout keeps the user's sizes).
        self._default_sizes_on_show = not ok
        for iid in list(self.docks):
            dock = self.docks[iid]
            if dock.isVisible() or (not dock.isHidden() and not ok):
                self._ensure_content(iid)
        return ok

    def _fit_to_screen(self) -> None:
        """A geometry saved on a larger screen: fit the window into this screen's free area."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None or self.isMaximized() or self.isFullScreen():
            return
        avail = screen.availableGeometry()
        frame = self.frameGeometry()
        extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()
        w = min(self.width(), avail.width() - extra_w)
        h = min(self.height(), avail.height() - extra_h)
        if (w, h) != (self.width(), self.height()):
            self.resize(max(w, self.minimumSizeHint().width()), max(h, self.minimumSizeHint().height()))
        frame = self.frameGeometry()
        x = min(max(frame.x(), avail.x()), avail.right() + 1 - frame.width())
        y = min(max(frame.y(), avail.y()), avail.bottom() + 1 - frame.height())
        if (x, y) != (frame.x(), frame.y()):
            self.move(max(x, avail.x()), max(y, avail.y()))

    def _apply_dock_minimums(self) -> None:
        """After a restore, widen the docks a restored state left below their contents'
        minimum (the saved sizes came from a larger window)."""
        for orientation, size in ((Qt.Orientation.Horizontal, QSize.width), (Qt.Orientation.Vertical, QSize.height)):
            narrow, want = [], []
            for dock in self.docks.values():
                w = dock.widget()
                if w is None or not dock.isVisible() or dock.isFloating():
                    continue
                need = max(size(w.minimumSize()), size(w.minimumSizeHint()))
                have = dock.width() if orientation is Qt.Orientation.Horizontal else dock.height()
                if have < need:
                    narrow.append(dock)
                    want.append(need)
            if narrow:
                self.resizeDocks(narrow, want, orientation)

    def dock_states(self) -> dict[str, Any]:
        """What ``restore_layout`` reads back: extra instances, each dock's state, link groups."""
        states: dict[str, Any] = dict(self._pending_state)  # docks not built this session keep theirs
        for iid, dock in self.docks.items():
            w = dock.widget()
            if w is not None and w.objectName() and isinstance(w, StatefulDock):
                try:
                    states[iid] = w.state()
                except Exception:  # noqa: BLE001 - one dock's state must not block the others
                    log.exception("saving the state of dock %s failed", iid)
        return {
            "instances": [{"id": i, "spec": s.id} for i, s in self.instance_spec.items() if i != s.id],
            "state": states,
            "links": {i: self.ctx.links.group(i).value for i, s in self.instance_spec.items() if s.linkable},
        }

    def save_dock_states(self) -> None:
        self.ctx.ui.set(DOCKS, self.dock_states())

    def save_layout(self) -> None:
        ui = self.ctx.ui
        ui.set(LAYOUT, {"geometry": ui.encode(self.saveGeometry().data()),
                        "state": ui.encode(self.saveState(LAYOUT_VERSION).data()), "version": LAYOUT_VERSION})
        self.save_dock_states()

    def reset_layout(self) -> None:
        for iid in [i for i, s in self.instance_spec.items() if i != s.id]:
            self._remove_instance(iid)
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for iid, spec in self.instance_spec.items():
            dock = self.docks[iid]
            if spec.visible:
                if dock.isFloating():
                    dock.setFloating(False)
                dock.show()
            else:
                dock.hide()

    def set_theme(self, name: str) -> None:
        from PySide6.QtWidgets import QApplication

        from app.theme import apply_theme

        used = apply_theme(QApplication.instance(), name)  # type: ignore[arg-type]
        for dock in self.docks.values():
            if dock.titleBarWidget() is None:
                dock.setStyleSheet(theme.dock_title_css())
        for toast in self.findChildren(QLabel, "toast"):
            toast.setStyleSheet(theme.toast_css())
        self.ctx.settings.set("ui/theme", used)
        for n, a in self.theme_actions.items():
            a.setChecked(n == used)

    def open_settings(self, section: str = "") -> None:
        from app.settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.ctx.settings, self, self.ctx.features, section=section)
        if dlg.exec():
            self.apply_settings(dlg.changed)

    def apply_settings(self, changed: dict[str, object]) -> None:
        """Apply what the Settings dialog changed: each schema key's ``apply`` hook now (in
        schema order), then ``SettingsChanged`` on the bus for the features that react."""
        schema = self.ctx.settings.schema
        for key, value in changed.items():
            spec = schema.get(key)
            if spec is not None and spec.apply is not None:
                spec.apply(self.ctx, value)
        if "data/folder" in changed:
            self.ctx.notifier.notify("Data folder", "The new data folder is used from the next start.")
        for key, value in changed.items():
            self.ctx.bus.publish(SettingsChanged(key, value))

    def _on_settings_changed(self, _event: SettingsChanged) -> None:
        self._update_demo_state()
        self.reload_completions()

    def show_about(self) -> None:
        from PySide6 import __version__ as pyside_version

        QMessageBox.about(
            self,
            "About Stock Scanner",
            f"<h3>Stock Scanner {__version__}</h3>"
            f"<p>A desktop trading workstation: charts, scanner, paper trading, options analytics, "
            f"journal, news and alerts.</p>"
            f"<p>Python {platform.python_version()} · PySide6 {pyside_version} · {platform.system()}</p>"
            f"<p>Data folder: {paths.data_dir()}</p>",
        )

    def reload_completions(self) -> None:
        self.ctx.tasks.submit(self.ctx.data.symbols, label="Symbol list", on_result=self._on_symbols)

    # ------------------------------------------------------------------ slots
    def _on_symbols(self, infos: list) -> None:  # type: ignore[type-arg]
        items = [f"{i.symbol} — {i.name}" if getattr(i, "name", "") else i.symbol for i in infos]
        self.completion_model.setStringList(items)

    def _on_search_entered(self, text: str) -> None:
        symbol = text.split(" — ", 1)[0].strip().upper()
        if symbol:
            self.ctx.open_symbol(symbol)
            QTimer.singleShot(0, self.search.clear)

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def _open_logs(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.log_dir())))

    def import_csv(self, path: str) -> Worker:
        def done(result) -> None:  # type: ignore[no-untyped-def]
            self.ctx.notifier.notify(
                "Import finished", f"{result.rows} bars of {result.symbol} ({result.timeframe}), {result.first} → {result.last}"
            )
            self.reload_completions()
            chart = self.ctx.active_chart
            if chart is not None:
                chart.open_symbol(result.symbol, result.timeframe)
            if result.notes:
                show_import_report(self, path, result=result)

        from app.features.data import show_import_report

        return self.ctx.tasks.submit(self.ctx.data.import_csv, path, label=f"Importing {path}", on_result=done,
                                     on_error=lambda exc: show_import_report(self, path, exc=exc))

    def _on_quit(self) -> None:
        self._really_quit = True
        self.close()

    def _update_demo_state(self) -> None:
        demo = self.ctx.data.source == "demo"
        self.demo_badge.setVisible(demo)
        self.demo_hint.setVisible(demo)
        self.setWindowTitle("Stock Scanner" + (" — demo data" if demo else ""))

    def _on_task_started(self, w: Worker) -> None:
        self._sync_task_widgets()

    def _on_task_progress(self, w: Worker, p: Progress) -> None:
        self.progress.setRange(0, max(1, p.total))
        self.progress.setValue(p.done)
        self.task_label.setText(p.text or w.label)

    def _on_task_finished(self, w: Worker) -> None:
        self._sync_task_widgets()

    def _on_task_failed(self, w: Worker, exc: BaseException) -> None:
        self.ctx.notifier.notify(w.label or "Background task", str(exc), "error")

    def _sync_task_widgets(self) -> None:
        active = self.ctx.tasks.active
        busy = bool(active)
        self.task_label.setVisible(busy)
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy and any(w.is_generator for w in active))
        if busy:
            self.task_label.setText(active[-1].label)
            if not any(w.is_generator for w in active):
                self.progress.setRange(0, 0)  # busy indicator
        else:
            self.progress.setRange(0, 1)

    # ------------------------------------------------------------------ events
    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        super().showEvent(event)
        if self._start_up_tasks is None:
            # the tasks the first frame waits for are submitted right after show() (open_workspace)
            QTimer.singleShot(0, self, self._first_turn_after_show)
        if self._completions_pending:
            self._completions_pending = False
            self.after_start_up(self.reload_completions)
        if getattr(self, "_default_sizes_on_show", False):
            self._default_sizes_on_show = False
            QTimer.singleShot(0, self, self._size_default_layout)
        if getattr(self, "_restored_minimums_pending", False):
            self._restored_minimums_pending = False
            QTimer.singleShot(0, self, self._apply_dock_minimums)

    def _size_default_layout(self) -> None:
        self._apply_default_sizes()
        self._default_state = self.saveState(LAYOUT_VERSION)  # what Reset layout brings back

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        if (not getattr(self, "_really_quit", False) and self.ctx.notifier.has_tray
                and self.ctx.settings.get("app/close_to_tray", False)):
            # close to tray: keep running (alerts keep being evaluated); Quit in the tray menu ends it
            self.save_dock_states()
            event.ignore()
            self.hide()
            return
        self._save_timer.stop()
        try:
            self.save_layout()
        except Exception:  # noqa: BLE001 - a store error must not keep the window open
            log.exception("saving the layout failed")
        self.ctx.tasks.cancel_all()
        super().closeEvent(event)
