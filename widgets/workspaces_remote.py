"""The "Workspaces on the service" dialog: publish a local workspace (private or public), list
mine or everyone's public ones, load one into this machine (and open it), make one of mine
public or private, delete one of mine.

A thin view: ``backend`` does the work (``sync.workspaces.WorkspacePublisher`` behind
``app/features/workspaces.py``); every call runs in ``tasks`` (the app's worker pool) because
it goes over the network."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QTreeWidget,
    QTreeWidgetItem, QVBoxLayout, QWidget,
)


class Backend(Protocol):
    """What the dialog needs; ``problem()`` is why it cannot work now ("" when it can)."""

    def problem(self) -> str: ...
    def local_names(self) -> list[str]: ...
    def current(self) -> str | None: ...
    def mine(self) -> list[Any]: ...
    def public(self, query: str) -> list[Any]: ...
    def before_publish(self, name: str) -> None: ...
    def publish(self, name: str, visibility: str, description: str) -> Any: ...
    def load(self, workspace_id: int) -> Any: ...
    def set_visibility(self, workspace_id: int, visibility: str) -> Any: ...
    def delete(self, workspace_id: int) -> None: ...


class RemoteWorkspacesDialog(QDialog):
    COLUMNS = ("Name", "Owner", "Visibility", "Docks", "Updated", "Description")

    def __init__(self, backend: Backend, tasks: Any, *, on_loaded: Callable[[str, bool], None],
                 sign_in: Callable[[], None] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("remoteWorkspacesDialog")
        self.setWindowTitle("Workspaces on the service")
        self.backend, self.tasks, self.on_loaded, self.sign_in = backend, tasks, on_loaded, sign_in
        self._rows: list[Any] = []
        self._busy = 0
        layout = QVBoxLayout(self)

        self.problem_label = QLabel()
        self.problem_label.setObjectName("remoteWorkspacesProblem")
        self.problem_label.setWordWrap(True)
        self.sign_in_button = QPushButton("Sign in…")
        self.sign_in_button.clicked.connect(self._sign_in)
        prow = QHBoxLayout()
        prow.addWidget(self.problem_label, 1)
        prow.addWidget(self.sign_in_button)
        layout.addLayout(prow)

        pub = QHBoxLayout()
        pub.addWidget(QLabel("Publish"))
        self.local = QComboBox()
        self.local.setObjectName("publishWorkspaceName")
        self.local.setMinimumContentsLength(14)
        pub.addWidget(self.local)
        self.visibility = QComboBox()
        self.visibility.setObjectName("publishVisibility")
        self.visibility.addItem("Private (only my machines)", "private")
        self.visibility.addItem("Public (anyone signed in)", "public")
        pub.addWidget(self.visibility)
        self.description = QLineEdit()
        self.description.setObjectName("publishDescription")
        self.description.setPlaceholderText("description (optional)")
        self.description.setMaxLength(500)
        pub.addWidget(self.description, 1)
        self.publish_button = QPushButton("Publish")
        self.publish_button.setObjectName("publishWorkspace")
        self.publish_button.clicked.connect(self.publish)
        pub.addWidget(self.publish_button)
        layout.addLayout(pub)

        top = QHBoxLayout()
        self.scope = QComboBox()
        self.scope.setObjectName("remoteWorkspacesScope")
        self.scope.addItem("My workspaces", "mine")
        self.scope.addItem("Public workspaces", "public")
        self.scope.currentIndexChanged.connect(lambda _i: self._scope_changed())
        top.addWidget(self.scope)
        self.search = QLineEdit()
        self.search.setObjectName("remoteWorkspacesSearch")
        self.search.setPlaceholderText("search public workspaces by name")
        self.search.returnPressed.connect(self.refresh)
        top.addWidget(self.search, 1)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        top.addWidget(refresh)
        layout.addLayout(top)

        self.table = QTreeWidget()
        self.table.setObjectName("remoteWorkspacesTable")
        self.table.setRootIsDecorated(False)
        self.table.setHeaderLabels(list(self.COLUMNS))
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda *_: self.load(open_now=True))
        layout.addWidget(self.table, 1)

        acts = QHBoxLayout()
        self.load_button = QPushButton("Load")
        self.load_button.setToolTip("Keep a copy on this machine (Workspace menu)")
        self.load_button.clicked.connect(lambda: self.load(open_now=False))
        self.open_button = QPushButton("Load and open")
        self.open_button.setObjectName("loadAndOpenWorkspace")
        self.open_button.clicked.connect(lambda: self.load(open_now=True))
        self.toggle_button = QPushButton("Make public")
        self.toggle_button.clicked.connect(self.toggle_visibility)
        self.delete_button = QPushButton("Delete from service")
        self.delete_button.clicked.connect(self.delete)
        for b in (self.load_button, self.open_button, self.toggle_button, self.delete_button):
            acts.addWidget(b)
        acts.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        acts.addWidget(close)
        layout.addLayout(acts)

        self.message = QLabel()
        self.message.setObjectName("remoteWorkspacesMessage")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.resize(820, 420)
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Local names, the sign-in state, then the list."""
        self.local.clear()
        self.local.addItems(self.backend.local_names())
        current = self.backend.current()
        if current:
            self.local.setCurrentText(current)
        problem = self.backend.problem()
        self.problem_label.setText(problem)
        self.problem_label.setVisible(bool(problem))
        self.sign_in_button.setVisible(bool(problem) and self.sign_in is not None)
        for w in (self.publish_button, self.scope, self.table):
            w.setEnabled(not problem)
        self.search.setEnabled(not problem and self.scope.currentData() == "public")
        self._selection_changed()
        if not problem:
            self.refresh()

    def _scope_changed(self) -> None:
        self.search.setEnabled(self.scope.currentData() == "public" and not self.backend.problem())
        self.refresh()

    def say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #ef5350;" if error else "")

    def selected(self) -> Any | None:
        items = self.table.selectedItems()
        if not items:
            return None
        i = int(items[0].data(0, Qt.ItemDataRole.UserRole))
        return self._rows[i] if 0 <= i < len(self._rows) else None

    def _selection_changed(self) -> None:
        row = self.selected()
        ok = row is not None and not self.backend.problem()
        self.load_button.setEnabled(ok)
        self.open_button.setEnabled(ok)
        mine = ok and bool(getattr(row, "mine", False))
        self.toggle_button.setEnabled(mine)
        self.delete_button.setEnabled(mine)
        if row is not None:
            self.toggle_button.setText("Make private" if row.visibility == "public" else "Make public")

    def _run(self, fn: Callable[[], Any], done: Callable[[Any], None], label: str) -> None:
        from shiboken6 import isValid

        def finished(value: Any) -> None:
            if not isValid(self):
                return
            self._busy -= 1
            self.setCursor(Qt.CursorShape.ArrowCursor)
            done(value)

        def failed(exc: BaseException) -> None:
            if not isValid(self):
                return
            self._busy -= 1
            self.setCursor(Qt.CursorShape.ArrowCursor)
            self.say(f"{label} failed: {exc}", error=True)

        self._busy += 1
        self.setCursor(Qt.CursorShape.BusyCursor)
        self.say(f"{label}…")
        self.tasks.submit(fn, label=label, on_result=finished, on_error=failed)

    # ------------------------------------------------------------------ commands

    def refresh(self) -> None:
        if self.backend.problem():
            return
        scope = self.scope.currentData()
        query = self.search.text().strip()
        fn = self.backend.mine if scope == "mine" else (lambda: self.backend.public(query))
        self._run(fn, self._show_rows, "Listing workspaces")

    def _show_rows(self, rows: list[Any]) -> None:
        self._rows = list(rows)
        self.table.clear()
        for i, r in enumerate(self._rows):
            item = QTreeWidgetItem([r.name, r.owner, r.visibility, str(r.docks), r.updated_at[:16].replace("T", " "),
                                    r.description])
            item.setData(0, Qt.ItemDataRole.UserRole, i)
            self.table.addTopLevelItem(item)
        for c in range(len(self.COLUMNS) - 1):
            self.table.resizeColumnToContents(c)
        self.say(f"{len(self._rows)} workspace{'s' if len(self._rows) != 1 else ''}"
                 if self._rows else "No workspaces here yet.")
        self._selection_changed()

    def publish(self) -> None:
        name = self.local.currentText()
        if not name:
            self.say("There is no local workspace to publish.", error=True)
            return
        vis = str(self.visibility.currentData())
        desc = self.description.text().strip()
        self.backend.before_publish(name)  # GUI thread: it reads the window

        def done(p: Any) -> None:
            self.say(f"Published {p.name!r} ({p.visibility}).")
            self.scope.setCurrentIndex(0)
            self.refresh()

        self._run(lambda: self.backend.publish(name, vis, desc), done, f"Publishing {name!r}")

    def load(self, open_now: bool) -> None:
        row = self.selected()
        if row is None:
            return

        def done(ws: Any) -> None:
            self.say(f"Loaded {ws.name!r} into this machine's workspaces.")
            self.local.clear()
            self.local.addItems(self.backend.local_names())
            self.local.setCurrentText(ws.name)
            self.on_loaded(ws.name, open_now)

        self._run(lambda: self.backend.load(row.id), done, f"Loading {row.name!r}")

    def toggle_visibility(self) -> None:
        row = self.selected()
        if row is None or not row.mine:
            return
        new = "private" if row.visibility == "public" else "public"
        self._run(lambda: self.backend.set_visibility(row.id, new), lambda _p: self.refresh(),
                  f"Making {row.name!r} {new}")

    def delete(self) -> None:
        row = self.selected()
        if row is None or not row.mine:
            return
        self._run(lambda: self.backend.delete(row.id), lambda _r: self.refresh(), f"Deleting {row.name!r}")

    def _sign_in(self) -> None:
        if self.sign_in is not None:
            self.sign_in()
