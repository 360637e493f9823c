"""The Social dock: my profile (display name, bio, avatar, the verified badge and what I
publish), people (search, follow/unfollow, block, report, copy) and the activity feed of the
people I follow. Works with a desk object (``app.social.SocialDesk``) in the task runner."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView, QInputDialog, QLabel,
    QLineEdit, QListWidget, QPlainTextEdit, QPushButton, QScrollArea, QSizePolicy, QTableWidget, QTableWidgetItem,
    QTabWidget, QVBoxLayout, QWidget,
)

REPORT_REASONS = ("spam", "abuse", "impersonation", "scam", "other")
NOT_PUBLISHING = "Nothing (publishing off)"


def _item(text: str) -> QTableWidgetItem:
    it = QTableWidgetItem(text)
    it.setFlags(it.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return it


def badge(profile: dict[str, Any]) -> str:
    if profile.get("verified"):
        return "✔ Verified: a live paper record of 90+ days with 30+ trades"
    return (f"Not verified yet: {profile.get('trades_90d', 0)} of 30 trades in the last 90 days, "
            f"record {profile.get('record_days', 0)} of 90 days")


def _followers(profile: dict[str, Any]) -> str:
    n = int(profile.get("followers", 0))
    return f"{n:,} follower" + ("" if n == 1 else "s")


class SocialWidget(QWidget):
    #: (user id, display name): the user chose "Copy…" on someone
    copy_requested = Signal(int, str)

    def __init__(self, desk: Any, tasks: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk, self.tasks = desk, tasks
        self._people: list[dict[str, Any]] = []
        self.tabs = QTabWidget()

        # --- profile
        prof = QWidget()
        prof_l = QVBoxLayout(prof)
        form = QFormLayout()
        prof_l.addLayout(form)
        prof_l.addStretch(1)  # the rows keep their height; the space goes below them
        self.name = QLineEdit()
        self.name.setMaxLength(80)
        self.bio = QPlainTextEdit()
        self.bio.setPlaceholderText("What you trade and how (at most 500 characters)")
        self.bio.setMaximumHeight(90)
        self.avatar_label = QLabel("no avatar")
        self.avatar_button = QPushButton("Choose image…")
        self.avatar_button.setToolTip("PNG or JPEG, at most 40 KiB; shown at up to 256×256")
        self.avatar_button.clicked.connect(self._choose_avatar)
        avatar_row = QHBoxLayout()
        avatar_row.addWidget(self.avatar_label, 1)
        avatar_row.addWidget(self.avatar_button)
        self.verified = QLabel()
        self.verified.setWordWrap(True)
        self.counts = QLabel()
        self.publish = QComboBox()
        self.publish.setToolTip("Only the fills of this paper account made after you choose it are published; "
                                "nothing else of your accounts leaves this machine.")
        self.publish.activated.connect(self._publish_changed)
        self.save_button = QPushButton("Save profile")
        self.save_button.clicked.connect(self._save)
        form.addRow("Display name", self.name)
        form.addRow("Bio", self.bio)
        form.addRow("Avatar", avatar_row)
        form.addRow("Badge", self.verified)
        form.addRow("", self.counts)
        form.addRow("Publish fills of", self.publish)
        form.addRow(self.save_button)

        # --- people
        people = QWidget()
        pl = QVBoxLayout(people)
        search_row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search people by display name")
        self.search.returnPressed.connect(self.find)
        find = QPushButton("Search")
        find.clicked.connect(self.find)
        search_row.addWidget(self.search, 1)
        search_row.addWidget(find)
        self.people = QTableWidget(0, 3)
        self.people.setHorizontalHeaderLabels(("Name", "User id", "Following"))
        self.people.verticalHeader().setVisible(False)
        self.people.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.people.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.people.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.person = QLabel()
        self.person.setWordWrap(True)
        self.people.itemSelectionChanged.connect(self._person_selected)
        buttons = QHBoxLayout()
        self.follow_button = QPushButton("Follow")
        self.unfollow_button = QPushButton("Unfollow")
        self.copy_button = QPushButton("Copy…")
        self.block_button = QPushButton("Block")
        self.report_button = QPushButton("Report…")
        self.follow_button.clicked.connect(lambda: self._on_person(lambda p: self.desk.follow(p["id"], True)))
        self.unfollow_button.clicked.connect(lambda: self._on_person(lambda p: self.desk.follow(p["id"], False)))
        self.block_button.clicked.connect(lambda: self._on_person(lambda p: self.desk.block(p["id"])))
        self.report_button.clicked.connect(self._report)
        self.copy_button.clicked.connect(self._copy)
        for b in (self.follow_button, self.unfollow_button, self.copy_button, self.block_button, self.report_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        pl.addLayout(search_row)
        pl.addWidget(self.people, 1)
        pl.addWidget(self.person)
        pl.addLayout(buttons)

        # --- feed
        feed = QWidget()
        fl = QVBoxLayout(feed)
        self.feed = QListWidget()
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.load_feed)
        fl.addWidget(self.feed, 1)
        fl.addWidget(refresh, 0, Qt.AlignmentFlag.AlignRight)

        prof_scroll = QScrollArea()
        prof_scroll.setWidget(prof)
        prof_scroll.setWidgetResizable(True)
        prof_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.tabs.addTab(prof_scroll, "Profile")
        self.tabs.addTab(people, "People")
        self.tabs.addTab(feed, "Feed")
        # the tabs take the height they are given (the profile scrolls), so opening the dock at
        # 1280×800 does not grow the window
        self.tabs.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.tabs.setMinimumHeight(80)
        self.people.setMinimumHeight(40)
        self.feed.setMinimumHeight(40)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        self.tabs.currentChanged.connect(self._tab_changed)
        self._update_buttons()
        self.load_profile()

    # ------------------------------------------------------------------ helpers
    def _run(self, fn: Callable[[], Any], done: Callable[[Any], None], label: str = "") -> None:
        self.tasks.submit(fn, label=label, on_result=done, on_error=lambda e: self.message.setText(str(e)))

    def _tab_changed(self, index: int) -> None:
        if index == 1 and not self._people:
            self.find()
        elif index == 2:
            self.load_feed()

    # ------------------------------------------------------------------ profile
    def load_profile(self) -> None:
        self._run(lambda: (self.desk.my_profile(), self.desk.accounts(), self.desk.publishing), self._show_profile)

    def _show_profile(self, result: tuple[dict[str, Any], list[str], str]) -> None:
        p, accounts, publishing = result
        self.name.setText(p.get("display_name", ""))
        self.bio.setPlainText(p.get("bio", ""))
        self.avatar_label.setText("avatar set" if p.get("has_avatar") else "no avatar")
        if p.get("has_avatar"):
            self._run(lambda: self.desk.avatar(int(p["id"])), self._show_avatar)
        self.verified.setText(badge(p))
        self.counts.setText(f"{_followers(p)} · following {p.get('following', 0)} · user id {p.get('id')}")
        self.publish.clear()
        self.publish.addItems([NOT_PUBLISHING, *accounts])
        self.publish.setCurrentText(publishing or NOT_PUBLISHING)
        self.message.setText("")

    def _show_avatar(self, data: bytes | None) -> None:
        from PySide6.QtGui import QPixmap

        pix = QPixmap()
        if data and pix.loadFromData(data, "PNG"):
            self.avatar_label.setPixmap(pix.scaled(64, 64, Qt.AspectRatioMode.KeepAspectRatio,
                                                   Qt.TransformationMode.SmoothTransformation))

    def _save(self) -> None:
        name, bio = self.name.text().strip(), self.bio.toPlainText().strip()
        self._run(lambda: self.desk.save_profile(name, bio),
                  lambda p: (self.message.setText("Profile saved."), self.verified.setText(badge(p))), "Save profile")

    def _choose_avatar(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Avatar", "", "Images (*.png *.jpg *.jpeg)")
        if path:
            self._run(lambda: self.desk.set_avatar(path),
                      lambda p: (self.message.setText("Avatar saved."), self._show_profile_avatar(p)),
                      "Upload avatar")

    def _show_profile_avatar(self, p: dict[str, Any]) -> None:
        self.avatar_label.setText("avatar set")
        self._run(lambda: self.desk.avatar(int(p["id"])), self._show_avatar)

    def _publish_changed(self, _index: int) -> None:
        text = self.publish.currentText()
        account = "" if text == NOT_PUBLISHING else text
        self.desk.set_publishing(account)
        self.message.setText(f"Publishing the fills of {account} from now on." if account
                             else "Publishing is off: nothing of your accounts is sent.")

    # ------------------------------------------------------------------ people
    def find(self) -> None:
        text = self.search.text().strip()
        self._run(lambda: self.desk.search(text), self._show_people)

    def _show_people(self, people: list[dict[str, Any]]) -> None:
        self._people = people
        self.people.setRowCount(len(people))
        for row, p in enumerate(people):
            self.people.setItem(row, 0, _item(p["display_name"]))
            self.people.setItem(row, 1, _item(str(p["id"])))
            self.people.setItem(row, 2, _item("yes" if p.get("is_following") else ""))
        self.message.setText("" if people else "Nobody found.")
        self._update_buttons()

    def selected_person(self) -> dict[str, Any] | None:
        rows = self.people.selectionModel().selectedRows() if self.people.selectionModel() else []
        if not rows or rows[0].row() >= len(self._people):
            return None
        return self._people[rows[0].row()]

    def _update_buttons(self) -> None:
        p = self.selected_person()
        for b in (self.follow_button, self.unfollow_button, self.copy_button, self.block_button, self.report_button):
            b.setEnabled(p is not None)
        if p is not None:
            self.follow_button.setEnabled(not p.get("is_following"))
            self.unfollow_button.setEnabled(bool(p.get("is_following")))

    def _person_selected(self) -> None:
        self._update_buttons()
        p = self.selected_person()
        if p is None:
            self.person.setText("")
            return
        self._run(lambda: self.desk.profile(p["id"]), lambda prof: self.person.setText(
            f"<b>{prof['display_name']}</b> — {badge(prof)}<br>{prof.get('bio', '')}<br>"
            f"{_followers(prof)} · following {prof['following']}"))

    def _on_person(self, fn: Callable[[dict[str, Any]], Any]) -> None:
        p = self.selected_person()
        if p is not None:
            self._run(lambda: fn(p), lambda _r: self.find())

    def _report(self) -> None:
        p = self.selected_person()
        if p is None:
            return
        reason, ok = QInputDialog.getItem(self, "Report", f"Why report {p['display_name']}?", REPORT_REASONS, 0, False)
        if ok:
            self._run(lambda: self.desk.report(p["id"], reason),
                      lambda _r: self.message.setText("Reported; the admins will look at it."))

    def _copy(self) -> None:
        p = self.selected_person()
        if p is not None:
            self.copy_requested.emit(int(p["id"]), str(p["display_name"]))

    # ------------------------------------------------------------------ feed
    def load_feed(self) -> None:
        self._run(self.desk.feed, self._show_feed)

    def _show_feed(self, items: list[dict[str, Any]]) -> None:
        self.feed.clear()
        for i in items:
            when = str(i.get("created_at", ""))[:16].replace("T", " ") + " UTC"
            self.feed.addItem(f"{when}  {i['display_name']}: {i['summary']}")
        if not items:
            self.feed.addItem("Nothing yet: follow people (People tab) to see their published trades here.")
