"""The command palette (Ctrl+Shift+P, after VS Code's): every action of the window, every
dock, symbol, workspace, setting and glossary term in one list, fuzzy-matched as you type
(``engine/fuzzy.py``), each with its shortcut; Enter runs the selected one.

``glossary_terms`` reads ``ctx.glossary`` (term → definition), which the education feature
sets; choosing a term opens the Glossary dock at it (``ctx.glossary_open``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout

from engine.fuzzy import rank

if TYPE_CHECKING:
    from app.mainwindow import MainWindow

MAX_ROWS = 200


@dataclass(frozen=True)
class Entry:
    kind: str  # Action, Dock, Symbol, Workspace, Setting, Glossary
    text: str
    shortcut: str
    run: Callable[[], object]
    action: QAction | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}: {self.text}"


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…").strip()


def describe(window: "MainWindow", a: QAction) -> str:
    """An action's name in lists: its text, with what it is for the ambiguous kinds."""
    name = a.objectName()
    if name.startswith("workspace.switch."):
        return f"Switch to workspace {name.rsplit('.', 1)[1]} ({_plain(a.text())})"
    if any(a is t for t in window.view_toggles.values()):
        return f"Show or hide dock {_plain(a.text())}"
    return _plain(a.text())


def window_actions(window: "MainWindow") -> list[QAction]:
    """Every action registered on the window (menu entries, shortcuts, dock toggles), once each."""
    seen: set[int] = set()
    out: list[QAction] = []
    candidates = list(window.actions()) + list(window.view_toggles.values())
    for menu in window.menus.values():
        candidates += [a for a in menu.actions() if a.menu() is None]
    for a in candidates:
        if id(a) in seen or a.isSeparator() or not a.isVisible() or not _plain(a.text()):
            continue
        seen.add(id(a))
        out.append(a)
    return out


def entries(window: "MainWindow") -> list[Entry]:
    ctx = window.ctx
    out: list[Entry] = []
    toggles = {id(a) for a in window.view_toggles.values()}
    for a in window_actions(window):
        if id(a) in toggles:
            continue
        out.append(Entry("Action", describe(window, a), a.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
                         a.trigger, a))
    for iid, toggle in window.view_toggles.items():
        out.append(Entry("Dock", _plain(toggle.text()), toggle.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
                         lambda i=iid: window.show_dock(i), toggle))
    c = getattr(window, "workspaces", None)
    if c is not None:
        for n, name in enumerate(c.store.names()):
            sc = f"Ctrl+Alt+{n + 1}" if n < 9 else ""
            out.append(Entry("Workspace", name, sc, lambda nm=name: c.switch(nm)))
    for f in ctx.features:
        for key in f.settings:
            out.append(Entry("Setting", f"{key.label or key.key} — {key.description}", "",
                             lambda fid=f.id: window.open_settings(section=fid)))
    opener = getattr(ctx, "glossary_open", None)  # the education feature: open the Glossary dock
    for term, _text in sorted(glossary_terms(ctx).items()):
        out.append(Entry("Glossary", term, "", (lambda t=term: opener(t)) if callable(opener)
                         else (lambda t=term: ctx.notifier.notify(t, glossary_terms(ctx)[t]))))
    for sym in symbols(window):
        out.append(Entry("Symbol", sym, "", lambda s=sym: ctx.open_symbol(s)))
    return out


def glossary_terms(ctx: Any) -> dict[str, str]:
    g = getattr(ctx, "glossary", None)
    return dict(g) if isinstance(g, dict) else {}


def symbols(window: "MainWindow") -> list[str]:
    """The symbols the search box completes (the store's), else the watchlists'."""
    seen: dict[str, None] = {}
    for s in window.completion_model.stringList():
        seen[s.split()[0] if s.split() else s] = None
    try:
        for name in window.ctx.watchlists.names():
            for s in window.ctx.watchlists.symbols(name):
                seen[str(s)] = None
    except Exception:  # noqa: BLE001 - a store problem must not stop the palette
        pass
    return [s for s in seen if s]


class CommandPalette(QDialog):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.setObjectName("commandPalette")
        self.setWindowTitle("Command palette")
        self.window_ = window
        self.all = entries(window)
        self.query = QLineEdit(objectName="paletteQuery")
        self.query.setPlaceholderText("Type a command, dock, symbol, workspace or setting…")
        self.list = QTreeWidget(objectName="paletteList")
        self.list.setColumnCount(3)
        self.list.setHeaderLabels(["", "Kind", "Shortcut"])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.header().setStretchLastSection(False)
        self.list.setColumnWidth(0, 520)
        self.list.setColumnWidth(1, 90)
        self.list.setColumnWidth(2, 130)
        self.count = QLabel(objectName="paletteCount")
        lay = QVBoxLayout(self)
        lay.addWidget(self.query)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.count)
        self.resize(780, 460)
        self.query.textChanged.connect(self.refilter)
        self.query.returnPressed.connect(self.run_selected)
        self.list.itemActivated.connect(lambda *_: self.run_selected())
        self.query.installEventFilter(self)
        self.refilter("")

    def matches(self, text: str) -> list[Entry]:
        return rank(text, self.all, text=lambda e: f"{e.text} {e.kind}" if text else e.text, limit=MAX_ROWS)

    def refilter(self, text: str) -> None:
        self.shown = self.matches(text)
        self.list.clear()
        for e in self.shown:
            item = QTreeWidgetItem([e.text, e.kind, e.shortcut])
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.list.addTopLevelItem(item)
        if self.shown:
            self.list.setCurrentItem(self.list.topLevelItem(0))
        self.count.setText(f"{len(self.shown)} of {len(self.all)}")

    def eventFilter(self, obj: Any, event: Any) -> bool:  # noqa: N802 - Up/Down move in the list
        from PySide6.QtCore import QEvent

        if obj is self.query and event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            row = self.list.indexOfTopLevelItem(self.list.currentItem()) if self.list.currentItem() else -1
            row += 1 if event.key() == Qt.Key.Key_Down else -1
            if 0 <= row < self.list.topLevelItemCount():
                self.list.setCurrentItem(self.list.topLevelItem(row))
            return True
        return super().eventFilter(obj, event)

    def run_selected(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        e = self.shown[self.list.indexOfTopLevelItem(item)]
        self.accept()
        e.run()


def open_palette(window: "MainWindow") -> CommandPalette:
    dlg = CommandPalette(window)
    dlg.open()
    dlg.query.setFocus()
    return dlg
