"""Named workspaces in the window: a "Workspace" toolbar menu (and menu-bar menu) to switch
(Ctrl+Alt+1…9), save, save as, rename, delete, export and import; the CLI verb
``stockscanner workspace list|export NAME --out F|import F``.

The workspace data and its schema are ``engine/workspaces.py`` (Qt-free); this module turns a
``Workspace`` into the window's layout and back (``capture``/``apply``).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from app.features import ActionSpec, CliVerb, Feature

if TYPE_CHECKING:
    from app.context import AppContext
    from app.mainwindow import MainWindow
    from engine.workspaces import Workspace, WorkspaceStore

MAX_SWITCH_SHORTCUTS = 9


# --------------------------------------------------------------------------- window <-> workspace


def capture(window: "MainWindow", name: str) -> "Workspace":
    """The window's arrangement and each dock's state as a workspace named ``name``."""
    from PySide6.QtCore import Qt

    from app.mainwindow import LAYOUT_VERSION
    from engine.workspaces import DockEntry, Workspace

    areas = {Qt.DockWidgetArea.LeftDockWidgetArea: "left", Qt.DockWidgetArea.RightDockWidgetArea: "right",
             Qt.DockWidgetArea.TopDockWidgetArea: "top", Qt.DockWidgetArea.BottomDockWidgetArea: "bottom"}
    W, H = max(1, window.width()), max(1, window.height())  # noqa: N806
    entries: list[DockEntry] = []
    seen: list[str] = []
    for iid, dock in window.docks.items():
        spec = window.instance_spec[iid]
        area = areas.get(window.dockWidgetArea(dock), spec.area.value)
        visible = not dock.isHidden()
        tab_with = None
        if visible:
            for other in window.tabifiedDockWidgets(dock):
                if other.objectName() in seen and not other.isHidden():
                    tab_with = other.objectName()
                    break
        horizontal = area in ("left", "right")
        size = (dock.width() / W) if horizontal else (dock.height() / H)
        size = min(1.0, max(0.01, round(size, 4))) if visible and tab_with is None else None
        entries.append(DockEntry(id=iid, spec=spec.id, area=area, visible=visible,  # type: ignore[arg-type]
                                 tab_with=tab_with, size=size))
        seen.append(iid)
    states = window.dock_states()
    ui = window.ctx.ui
    return Workspace(name=name, docks=entries, qt_state=ui.encode(window.saveState(LAYOUT_VERSION).data()),
                     state={k: v for k, v in (states.get("state") or {}).items() if isinstance(v, dict)},
                     links=dict(states.get("links") or {}))


def apply(window: "MainWindow", ws: "Workspace") -> None:
    """Make the window show ``ws``: its dock instances, their states and link groups, and its
    arrangement (the exact Qt state when it restores, else the portable one), then widen the
    docks a smaller window left below their contents' minimum."""
    from PySide6.QtCore import QByteArray, Qt

    from app.links import LinkGroup
    from app.mainwindow import _AREAS, LAYOUT_VERSION, StatefulDock
    from app.features import Area

    wanted = {d.id: d for d in ws.docks}
    before = window.size()
    for iid, spec in list(window.instance_spec.items()):
        if iid != spec.id and iid not in wanted:
            window._remove_instance(iid)
    for d in ws.docks:
        spec = window.specs.get(d.spec)
        if spec is None or d.id in window.docks:
            continue
        if spec.multi and d.id.startswith(spec.id + "-"):
            window._add_dock(spec, d.id)
    for iid, group in ws.links.items():
        if iid in window.docks:
            window.ctx.links.set_group(iid, LinkGroup.parse(group, window.ctx.links.group(iid)))
    for iid, state in ws.state.items():
        if iid not in window.docks:
            continue
        content = window.docks[iid].widget()
        if content is not None and content.objectName() and isinstance(content, StatefulDock):
            content.restore_state(state)
        else:
            window._pending_state[iid] = state
    ok = False
    raw = window.ctx.ui.decode(ws.qt_state) if ws.qt_state else None
    if raw is not None:
        ok = bool(window.restoreState(QByteArray(raw), LAYOUT_VERSION))
    if not ok:
        for iid, dock in window.docks.items():
            if iid not in wanted or not wanted[iid].visible:
                dock.hide()
        docks = window.docks
        for d in ws.docks:
            dock = docks.get(d.id)
            if dock is None or not d.visible:
                continue
            if dock.isFloating():
                dock.setFloating(False)
            if d.tab_with and d.tab_with in docks and d.tab_with != d.id:
                window.tabifyDockWidget(docks[d.tab_with], dock)
            elif d.split_with and d.split_with in docks and d.split_with != d.id:
                o = Qt.Orientation.Vertical if d.split == "vertical" else Qt.Orientation.Horizontal
                window.splitDockWidget(docks[d.split_with], dock, o)
            else:
                window.addDockWidget(_AREAS[Area(d.area)], dock)
            dock.show()
        for d in ws.docks:  # a tab group opens on its first dock
            if d.visible and not d.tab_with and d.id in docks and window.tabifiedDockWidgets(docks[d.id]):
                docks[d.id].raise_()
    for iid, dock in window.docks.items():
        if not dock.isHidden():
            window._ensure_content(iid)
    _fit(window, before)
    if not ok:  # the portable sizes are fractions of the window it opens in
        W, H = before.width(), before.height()  # noqa: N806
        docks = window.docks
        for orient, horizontal in ((Qt.Orientation.Horizontal, True), (Qt.Orientation.Vertical, False)):
            sized = [(docks[d.id], d.size) for d in ws.docks if d.visible and d.size and d.id in docks
                     and (d.area in ("left", "right")) == horizontal and not d.tab_with]
            if sized:
                window.resizeDocks([s[0] for s in sized], [int(f * (W if horizontal else H)) for _, f in sized], orient)
    window._save_timer.start()


def _fit(window: "MainWindow", size: Any) -> None:
    """Keep the window at ``size``: when the docks' minimum sizes side by side need more room
    (a workspace made on a larger screen), the docks sharing an area become tabs of one group
    instead of the window growing past the screen."""
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    need = window.minimumSizeHint()
    if need.width() > size.width() or need.height() > size.height():
        by_area: dict[Any, list[Any]] = {}
        for dock in window.docks.values():
            if not dock.isHidden() and not dock.isFloating():
                by_area.setdefault(window.dockWidgetArea(dock), []).append(dock)
        for docks in by_area.values():
            first = docks[0]
            grouped = {id(first), *(id(d) for d in window.tabifiedDockWidgets(first))}
            for d in docks[1:]:
                if id(d) not in grouped:
                    window.tabifyDockWidget(first, d)
                    grouped.add(id(d))
            first.raise_()
        QApplication.processEvents()
    window.resize(size)


# --------------------------------------------------------------------------- the controller


class WorkspaceController:
    """The window's workspace menu and the switch shortcuts; one per window."""

    def __init__(self, ctx: "AppContext", window: "MainWindow") -> None:
        from PySide6.QtGui import QAction, QKeySequence
        from PySide6.QtWidgets import QMenu, QToolButton

        from engine.workspaces import WorkspaceStore

        self.ctx, self.window = ctx, window
        self.store: WorkspaceStore = WorkspaceStore(ctx.kv)
        self.menu = QMenu("Workspace", window)
        self.menu.setObjectName("workspaceMenu")
        self.switch_actions: list[QAction] = []
        for n in range(1, MAX_SWITCH_SHORTCUTS + 1):  # fixed actions, so the shortcuts are stable
            a = QAction(f"Workspace {n}", window)
            a.setObjectName(f"workspace.switch.{n}")
            a.setShortcut(QKeySequence(f"Ctrl+Alt+{n}"))
            a.triggered.connect(lambda _=False, i=n - 1: self.switch_index(i))
            window.addAction(a)
            self.switch_actions.append(a)
        self.button = QToolButton(window)
        self.button.setObjectName("workspaceButton")
        self.button.setText("Workspace")
        self.button.setToolTip("Switch, save or manage workspaces (Ctrl+Alt+1…9)")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setMenu(self.menu)
        self.menu.aboutToShow.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        """The menu: each workspace (checked = current), then the management entries."""
        self.menu.clear()
        current = self.store.current
        names = self.store.names()
        for i, a in enumerate(self.switch_actions):
            a.setEnabled(i < len(names))
            a.setVisible(i < len(names))  # an unused slot is in no list (palette, shortcuts)
            a.setText(names[i] if i < len(names) else f"Workspace {i + 1}")
        for i, name in enumerate(names):
            if i < len(self.switch_actions):
                a = self.switch_actions[i]
                a.setCheckable(True)
                a.setChecked(name == current)
                self.menu.addAction(a)
            else:
                a = self.menu.addAction(name)
                a.setCheckable(True)
                a.setChecked(name == current)
                a.triggered.connect(lambda _=False, n=name: self.switch(n))
        self.menu.addSeparator()
        for aid in ("workspaces.save", "workspaces.save_as", "workspaces.rename", "workspaces.delete",
                    "workspaces.export", "workspaces.import", "workspaces.publish", "workspaces.load_remote"):
            act = self.window.feature_actions.get(aid)
            if act is not None:
                self.menu.addAction(act)
        self.button.setText(f"Workspace: {current}" if current else "Workspace")

    # -- operations (the dialogs call these; tests call them directly)
    def switch(self, name: str) -> None:
        ws = self.store.get(name)
        apply(self.window, ws)
        self.store.set_current(name)
        self.rebuild()

    def switch_index(self, i: int) -> None:
        names = self.store.names()
        if 0 <= i < len(names):
            self.switch(names[i])

    def save(self, name: str | None = None) -> str:
        name = name or self.store.current
        if not name:
            raise ValueError("no workspace is open: use Save workspace as…")
        self.store.put(capture(self.window, name))
        self.store.set_current(name)
        self.rebuild()
        return name

    def save_as(self, name: str) -> str:
        from engine.workspaces import check_name

        return self.save(check_name(name))

    def rename(self, old: str, new: str) -> None:
        self.store.rename(old, new)
        self.rebuild()

    def delete(self, name: str) -> None:
        self.store.delete(name)
        self.rebuild()

    def export(self, name: str, path: str) -> None:
        self.store.export(name, path)

    def import_file(self, path: str) -> str:
        ws = self.store.import_file(path)
        self.rebuild()
        return ws.name


def controller(window: "MainWindow") -> WorkspaceController:
    c = getattr(window, "workspaces", None)
    if not isinstance(c, WorkspaceController):
        raise RuntimeError("the workspace feature is not started on this window")
    return c


def _start(ctx: "AppContext") -> None:
    window = ctx.window
    if window is None:
        return
    c = WorkspaceController(ctx, window)
    window.workspaces = c  # type: ignore[attr-defined]
    from PySide6.QtWidgets import QToolBar

    tb = window.findChild(QToolBar, "mainToolbar")
    if tb is not None:
        tb.addSeparator()
        tb.addWidget(c.button)
    bar_menu = window.menus.get("Workspace")
    if bar_menu is not None:  # the menu-bar menu shows the same list
        bar_menu.aboutToShow.connect(lambda: _fill_bar_menu(c, bar_menu))


def _fill_bar_menu(c: WorkspaceController, menu: Any) -> None:
    c.rebuild()
    menu.clear()
    for a in c.menu.actions():
        menu.addAction(a)


# --------------------------------------------------------------------------- dialogs


def _ask_name(window: "MainWindow", title: str, label: str, text: str = "") -> str | None:
    from PySide6.QtWidgets import QInputDialog

    name, ok = QInputDialog.getText(window, title, label, text=text)
    return name.strip() if ok and name.strip() else None


def _report(window: "MainWindow", exc: Exception) -> None:
    window.ctx.notifier.notify("Workspace", str(exc), "warning")


def _act_save(ctx: "AppContext", window: "MainWindow") -> None:
    c = controller(window)
    if not c.store.current:
        _act_save_as(ctx, window)
        return
    c.save()
    ctx.notifier.notify("Workspace", f"Saved workspace {c.store.current}.", "info")


def _act_save_as(ctx: "AppContext", window: "MainWindow") -> None:
    c = controller(window)
    name = _ask_name(window, "Save workspace as", "Name:", c.store.current or "")
    if name:
        try:
            c.save_as(name)
        except ValueError as exc:
            _report(window, exc)


def _act_rename(ctx: "AppContext", window: "MainWindow") -> None:
    c = controller(window)
    old = _pick(window, c, "Rename workspace")
    if old:
        new = _ask_name(window, "Rename workspace", f"New name for {old}:", old)
        if new:
            try:
                c.rename(old, new)
            except ValueError as exc:
                _report(window, exc)


def _act_delete(ctx: "AppContext", window: "MainWindow") -> None:
    from PySide6.QtWidgets import QMessageBox

    c = controller(window)
    name = _pick(window, c, "Delete workspace")
    if name and QMessageBox.question(window, "Delete workspace", f"Delete the workspace {name}?") \
            == QMessageBox.StandardButton.Yes:
        c.delete(name)


def _pick(window: "MainWindow", c: WorkspaceController, title: str) -> str | None:
    from PySide6.QtWidgets import QInputDialog

    names = c.store.names()
    if not names:
        return None
    cur = names.index(c.store.current) if c.store.current in names else 0
    name, ok = QInputDialog.getItem(window, title, "Workspace:", names, cur, False)
    return name if ok else None


def _act_export(ctx: "AppContext", window: "MainWindow") -> None:
    from PySide6.QtWidgets import QFileDialog

    c = controller(window)
    name = _pick(window, c, "Export workspace")
    if not name:
        return
    path, _ = QFileDialog.getSaveFileName(window, "Export workspace", f"{name}.json", "Workspace (*.json)")
    if path:
        try:
            c.export(name, path)
        except (ValueError, OSError) as exc:
            _report(window, exc)


def _act_import(ctx: "AppContext", window: "MainWindow") -> None:
    from PySide6.QtWidgets import QFileDialog

    c = controller(window)
    path, _ = QFileDialog.getOpenFileName(window, "Import workspace", "", "Workspace (*.json)")
    if path:
        try:
            name = c.import_file(path)
        except ValueError as exc:
            _report(window, exc)
            return
        ctx.notifier.notify("Workspace", f"Imported workspace {name}.", "info")


# --------------------------------------------------------------------------- CLI


class _RemoteBackend:
    """The dialog's backend: ``sync.workspaces.WorkspacePublisher`` over the account's client."""

    def __init__(self, ctx: "AppContext", c: WorkspaceController) -> None:
        self.ctx, self.c = ctx, c

    def _client(self) -> Any:
        from app.features.account import hub

        return hub(self.ctx).client

    def problem(self) -> str:
        from app.features.account import hub

        h = hub(self.ctx)
        if h.client is None:
            return h.problem or "No service is configured (Settings → Service)."
        if not h.client.signed_in_email:
            return "Sign in (Account → Sign in) to publish workspaces or load them from the service."
        return ""

    def _publisher(self) -> Any:
        from sync.workspaces import WorkspacePublisher

        client = self._client()
        if client is None:
            raise RuntimeError(self.problem())
        return WorkspacePublisher(client, self.c.store)

    def local_names(self) -> list[str]:
        return self.c.store.names()

    def current(self) -> str | None:
        return self.c.store.current

    def mine(self) -> list[Any]:
        return list(self._publisher().mine())

    def public(self, query: str) -> list[Any]:
        return list(self._publisher().public(query))

    def before_publish(self, name: str) -> None:
        """On the GUI thread, before ``publish`` runs in a worker: the current workspace is
        saved as it is on screen now (not as at its last save)."""
        if name == self.c.store.current:
            self.c.store.put(capture(self.c.window, name))

    def publish(self, name: str, visibility: str, description: str) -> Any:
        return self._publisher().publish(name, visibility, description)

    def load(self, workspace_id: int) -> Any:
        return self._publisher().load(workspace_id)

    def set_visibility(self, workspace_id: int, visibility: str) -> Any:
        return self._publisher().set_visibility(workspace_id, visibility)

    def delete(self, workspace_id: int) -> None:
        self._publisher().delete(workspace_id)


def open_remote(ctx: "AppContext", window: "MainWindow") -> Any:
    """The "Workspaces on the service" dialog (one per window, raised when open)."""
    from widgets.workspaces_remote import RemoteWorkspacesDialog

    from app.dialogs import raise_open

    existing = raise_open(window, "_remote_workspaces", lambda d: d.reset())
    if existing is not None:
        return existing
    c = controller(window)

    def loaded(name: str, open_now: bool) -> None:
        c.rebuild()
        if open_now:
            c.switch(name)

    def sign_in() -> None:
        from app.features.account import open_account

        open_account(ctx, window)

    dialog = RemoteWorkspacesDialog(_RemoteBackend(ctx, c), ctx.tasks, on_loaded=loaded, sign_in=sign_in,
                                    parent=window)
    window._remote_workspaces = dialog  # type: ignore[attr-defined]
    dialog.show()
    return dialog


def _act_remote(ctx: "AppContext", window: "MainWindow") -> None:
    open_remote(ctx, window)


def _configure_cli(p: argparse.ArgumentParser) -> None:
    p.description = ("List, export or import the named workspaces of the local store (a dock arrangement "
                     "plus each dock's state, as JSON checked against the workspace schema).")
    sub = p.add_subparsers(dest="workspace_cmd", required=True, metavar="list|export|import")
    ls = sub.add_parser("list", help="the workspaces, in Ctrl+Alt+1…9 order (* = current)")
    ls.add_argument("--json", action="store_true", help='print {"workspaces":[{"name","current"}…]}')
    ex = sub.add_parser("export", help="write one workspace to a JSON file")
    ex.add_argument("name", metavar="NAME")
    ex.add_argument("--out", required=True, metavar="F", help="the JSON file to write")
    im = sub.add_parser("import", help="read a workspace JSON file into the store")
    im.add_argument("file", metavar="F")
    im.add_argument("--name", metavar="NAME", help="store it under this name (default: the file's name field)")


def _run_cli(args: argparse.Namespace) -> int:
    from engine.store import open_database
    from engine.store.kv import KeyValueStore
    from engine.workspaces import WorkspaceError, WorkspaceStore

    db = open_database()
    try:
        store = WorkspaceStore(KeyValueStore(db))
        if args.workspace_cmd == "list":
            cur = store.current
            names = store.names()
            if args.json:
                print(json.dumps({"workspaces": [{"name": n, "current": n == cur} for n in names]}))
            else:
                for n in names:
                    print(("* " if n == cur else "  ") + n)
        elif args.workspace_cmd == "export":
            path = store.export(args.name, args.out)
            print(path)
        else:
            ws = store.import_file(args.file, args.name)
            print(f"imported workspace {ws.name}")
        return 0
    except (WorkspaceError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()


FEATURE = Feature(
    id="workspaces",
    title="Workspaces",
    actions=(
        ActionSpec("workspaces.save", "&Save workspace", _act_save, "Ctrl+Alt+S", menu="&Workspace"),
        ActionSpec("workspaces.save_as", "Save workspace &as…", _act_save_as, None, menu="&Workspace"),
        ActionSpec("workspaces.rename", "&Rename workspace…", _act_rename, None, menu="&Workspace"),
        ActionSpec("workspaces.delete", "&Delete workspace…", _act_delete, None, menu="&Workspace"),
        ActionSpec("workspaces.export", "&Export workspace…", _act_export, None, menu="&Workspace"),
        ActionSpec("workspaces.import", "&Import workspace…", _act_import, None, menu="&Workspace"),
        ActionSpec("workspaces.publish", "&Publish workspace…", _act_remote, None, menu="&Workspace"),
        ActionSpec("workspaces.load_remote", "Workspaces on the &service…", _act_remote, None, menu="&Workspace"),
    ),
    cli_verbs=(
        CliVerb("workspace", "list, export or import named workspaces (JSON)", _configure_cli, _run_cli),
    ),
    start=_start,
)
