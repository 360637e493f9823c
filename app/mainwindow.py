"""The main window: docks from the registry, menus, symbol search, status bar.

Layout and geometry are saved with ``saveState(LAYOUT_VERSION)`` in the settings file and
restored on the next start; bump ``LAYOUT_VERSION`` only when the dock set changes in a
way an old layout cannot express (vnpy resets layouts on every upgrade because it keys
them by the app version — we don't).
"""
from __future__ import annotations

import logging
import platform

from PySide6.QtCore import QByteArray, QStringListModel, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QCompleter,
    QDockWidget,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QToolBar,
    QToolButton,
    QWidget,
)

from app.context import AppContext
from app.docks import DockSpec, dock_specs
from app.notify import app_icon
from app.workers import Worker
from engine import __version__, paths
from engine.events import Notification
from engine.progress import Progress

log = logging.getLogger(__name__)
LAYOUT_VERSION = 1


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
        self.docks: dict[str, QDockWidget] = {}
        self.specs: dict[str, DockSpec] = {}
        ctx.show_dock = self.show_dock
        ctx.notifier.window = self
        ctx.bridge.connect(Notification, lambda e: ctx.notifier.notify(e.title, e.text, e.level))

        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_statusbar()
        for spec in dock_specs():
            self._add_dock(spec)
        self._apply_default_sizes()
        self._default_state = self.saveState(LAYOUT_VERSION)
        ctx.tasks.task_started.connect(self._on_task_started)
        ctx.tasks.task_progress.connect(self._on_task_progress)
        ctx.tasks.task_finished.connect(self._on_task_finished)
        ctx.tasks.task_failed.connect(self._on_task_failed)
        ctx.notifier.install_tray(self, self.quit_action)
        self._update_demo_state()

    # ------------------------------------------------------------------ building
    def _build_actions(self) -> None:
        def act(text: str, slot, shortcut: str | QKeySequence.StandardKey | None = None) -> QAction:  # type: ignore[no-untyped-def]
            a = QAction(text, self)
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            a.triggered.connect(slot)
            self.addAction(a)
            return a

        self.import_action = act("&Import CSV…", self._on_import, "Ctrl+I")
        self.settings_action = act("&Settings…", self.open_settings, "Ctrl+,")
        self.quit_action = act("&Quit", self._on_quit, QKeySequence.StandardKey.Quit)
        self.reset_layout_action = act("&Reset layout", self.reset_layout, "Ctrl+Shift+R")
        self.search_action = act("Find &symbol", self._focus_search, "Ctrl+K")
        self.fullscreen_action = act("&Full screen", self._toggle_fullscreen, "F11")
        self.about_action = act("&About Stock Scanner", self.show_about)
        self.logs_action = act("Open &log folder", self._open_logs)
        self.indicators_action = act("&Custom indicators…", self.open_indicator_builder, "Ctrl+Shift+I")
        self.theme_actions: dict[str, QAction] = {}
        for name in ("dark", "light"):
            a = act(f"{name.title()} theme", lambda _=False, n=name: self.set_theme(n))
            a.setCheckable(True)
            self.theme_actions[name] = a

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        f.addAction(self.import_action)
        f.addSeparator()
        f.addAction(self.settings_action)
        f.addSeparator()
        f.addAction(self.quit_action)
        self.view_menu = mb.addMenu("&View")
        self._docks_anchor = self.view_menu.addSeparator()
        self.view_menu.addAction(self.reset_layout_action)
        self.view_menu.addAction(self.fullscreen_action)
        tm = self.view_menu.addMenu("&Theme")
        for a in self.theme_actions.values():
            tm.addAction(a)
        self.theme_actions.get(str(self.ctx.settings.get("ui/theme")), self.theme_actions["dark"]).setChecked(True)
        ind = mb.addMenu("&Indicators")
        ind.addAction(self.indicators_action)
        h = mb.addMenu("&Help")
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
        self.reload_completions()

    def _build_statusbar(self) -> None:
        sb = self.statusBar()
        self.demo_badge = QLabel("Demo data")
        self.demo_badge.setObjectName("demoBadge")
        self.demo_hint = QLabel('<a href="settings">Using generated demo prices — Settings → Data source</a>')
        self.demo_hint.setObjectName("hint")
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

    def _add_dock(self, spec: DockSpec) -> QDockWidget:
        dock = QDockWidget(spec.title, self)
        dock.setObjectName(spec.id)  # stable id: what saveState keys on
        dock.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
        self.addDockWidget(spec.area, dock)
        if spec.tabify_with and spec.tabify_with in self.docks:
            self.tabifyDockWidget(self.docks[spec.tabify_with], dock)
            root = spec.tabify_with  # a tab group opens on its first dock, not its last
            while self.specs[root].tabify_with in self.docks:
                root = self.specs[root].tabify_with  # type: ignore[assignment]
            self.docks[root].raise_()
        elif spec.split_with and spec.split_with in self.docks:
            self.splitDockWidget(self.docks[spec.split_with], dock, Qt.Orientation.Horizontal)
        toggle = dock.toggleViewAction()
        if spec.shortcut:
            toggle.setShortcut(QKeySequence(spec.shortcut))
        self.view_menu.insertAction(self._docks_anchor, toggle)
        dock.visibilityChanged.connect(lambda vis, d=dock, s=spec: vis and self._ensure_content(d, s))
        if not spec.visible:
            dock.hide()
        self.docks[spec.id] = dock
        self.specs[spec.id] = spec
        return dock

    def _apply_default_sizes(self) -> None:
        side = [d for s, d in ((self.specs[i], d) for i, d in self.docks.items())
                if s.area in (Qt.DockWidgetArea.LeftDockWidgetArea,) and s.visible]
        # One horizontal row: the left dock, the chart and the docks split beside it, sized in
        # one call (separate calls would take each other's space).
        beside = [s for s in self.specs.values() if s.split_with and s.size and s.visible]
        if side and "chart" in self.docks:
            left = min(330, int(self.width() * 0.22))
            rest = sum(s.size or 0 for s in beside)
            self.resizeDocks(side[:1] + [self.docks["chart"]] + [self.docks[s.id] for s in beside],
                             [left, max(400, self.width() - left - rest)] + [s.size or 0 for s in beside],
                             Qt.Orientation.Horizontal)
        for s in self.specs.values():
            if s.size and s.visible and not s.split_with and not (s.tabify_with and s.tabify_with in self.docks):
                vertical = s.area in (Qt.DockWidgetArea.TopDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea)
                self.resizeDocks([self.docks[s.id]], [s.size],
                                 Qt.Orientation.Vertical if vertical else Qt.Orientation.Horizontal)
        if "scanner" in self.docks and "chart" in self.docks and self.specs["scanner"].visible:
            self.resizeDocks([self.docks["chart"], self.docks["scanner"]], [620, 320], Qt.Orientation.Vertical)

    def _ensure_content(self, dock: QDockWidget, spec: DockSpec) -> QWidget:
        w = dock.widget()
        if w is None or w.objectName() == "":
            w = spec.factory(self.ctx)
            if not w.objectName():
                w.setObjectName(f"{spec.id}Content")
            dock.setWidget(w)
        return w

    # ------------------------------------------------------------------ public API
    def show_dock(self, dock_id: str) -> QWidget:
        """Show (building if needed) a dock and return its content widget."""
        dock = self.docks[dock_id]
        w = self._ensure_content(dock, self.specs[dock_id])
        dock.show()
        dock.raise_()
        return w

    def dock_content(self, dock_id: str) -> QWidget | None:
        return self.docks[dock_id].widget()

    def restore_layout(self) -> bool:
        s = self.ctx.settings
        geo = s.get("window/geometry")
        state = s.get("window/state")
        ok = False
        if isinstance(geo, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geo))
        else:
            self.resize(1400, 900)
        if isinstance(state, QByteArray | bytes):
            ok = self.restoreState(QByteArray(state), LAYOUT_VERSION)
        # Default dock sizes only stick once the window has its real size: apply them again
        # after the first show (a restored layout keeps the user's sizes).
        self._default_sizes_on_show = not ok
        for spec in self.specs.values():
            dock = self.docks[spec.id]
            if dock.isVisible() or (not dock.isHidden() and not ok):
                self._ensure_content(dock, spec)
        return ok

    def save_layout(self) -> None:
        s = self.ctx.settings
        s.set("window/geometry", self.saveGeometry())
        s.set("window/state", self.saveState(LAYOUT_VERSION))
        s.sync()

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for spec in self.specs.values():
            dock = self.docks[spec.id]
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
        self.ctx.settings.set("ui/theme", used)
        for n, a in self.theme_actions.items():
            a.setChecked(n == used)

    def open_settings(self, section: str = "") -> None:
        from app.settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.ctx.settings, self)
        if dlg.exec():
            self.apply_settings(dlg.changed)

    def apply_settings(self, changed: dict[str, object]) -> None:
        if "ui/theme" in changed:
            self.set_theme(str(changed["ui/theme"]))
        if "network/proxy" in changed:
            self.ctx.settings.apply_proxy()
        if "data/source" in changed:
            self.ctx.data.set_source(str(changed["data/source"]))
            self._update_demo_state()
            self.reload_completions()
            if self.ctx.active_chart is not None and self.ctx.active_chart.symbol:
                self.ctx.active_chart.open_symbol(self.ctx.active_chart.symbol)
            wl = self.dock_content("watchlist")
            if wl is not None and hasattr(wl, "refresh"):
                wl.refresh()
        if "data/folder" in changed:
            self.ctx.notifier.notify("Data folder", "The new data folder is used from the next start.")

    def open_indicator_builder(self) -> QWidget:
        from app.indicators import open_indicator_builder

        return open_indicator_builder(self.ctx, self)

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

    def _on_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import bars from CSV", "", "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.import_csv(path)

    def import_csv(self, path: str) -> Worker:
        def done(result) -> None:  # type: ignore[no-untyped-def]
            self.ctx.notifier.notify(
                "Import finished", f"{result.rows} bars of {result.symbol} ({result.timeframe}), {result.first} → {result.last}"
            )
            self.reload_completions()
            if self.ctx.active_chart is not None:
                self.ctx.active_chart.open_symbol(result.symbol, result.timeframe)

        return self.ctx.tasks.submit(self.ctx.data.import_csv, path, label=f"Importing {path}", on_result=done)

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
        if getattr(self, "_default_sizes_on_show", False):
            self._default_sizes_on_show = False
            QTimer.singleShot(0, self, self._size_default_layout)

    def _size_default_layout(self) -> None:
        self._apply_default_sizes()
        self._default_state = self.saveState(LAYOUT_VERSION)  # what Reset layout brings back

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        self.save_layout()
        for save in self.ctx.on_close:
            try:
                save()
            except Exception:  # noqa: BLE001 - one dock's state must not block closing
                log.exception("saving a dock's state failed")
        self.ctx.tasks.cancel_all()
        super().closeEvent(event)
