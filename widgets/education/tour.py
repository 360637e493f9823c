"""The feature-tour overlay: dims the main window except the step's target widget (found by
its objectName), outlines it, and shows a bubble beside it with the step's text and Back /
Next / Skip. A step whose target is not on screen is skipped over (and named in ``missing``).
Finishing or skipping calls ``on_done(tour_id, finished)`` so the app remembers the tour."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.education.content import Tour, TourStep


def find_target(window: QWidget, name: str) -> QWidget | None:
    """The visible widget named ``name`` under ``window`` (the first visible one)."""
    for w in window.findChildren(QWidget, name):
        if w.isVisible() and w.width() > 0 and w.height() > 0:
            return w
    return None


class TourOverlay(QWidget):
    finished = Signal(str, bool)  # tour id, completed (False: skipped)

    def __init__(self, window: QWidget, tour: Tour, on_done: Callable[[str, bool], None] | None = None,
                 prepare: Callable[[TourStep], None] | None = None) -> None:
        super().__init__(window)
        self.setObjectName("tourOverlay")
        self.window_, self.tour, self.on_done, self.prepare = window, tour, on_done, prepare
        self.index = -1
        self.missing: list[str] = []
        self.target: QWidget | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, False)
        self.bubble = QFrame(self)
        self.bubble.setObjectName("tourBubble")
        self.bubble.setStyleSheet("#tourBubble { background: #1f2430; border: 1px solid #4c8bf5; border-radius: 6px; }"
                                  "#tourBubble QLabel { color: #e6e6e6; }")
        self.title = QLabel()
        self.title.setObjectName("tourTitle")
        self.title.setStyleSheet("font-weight: 600; font-size: 14px")
        self.text = QLabel()
        self.text.setObjectName("tourText")
        self.text.setWordWrap(True)
        self.counter = QLabel()
        self.counter.setObjectName("tourCounter")
        self.back = QPushButton("Back")
        self.back.setObjectName("tourBack")
        self.next = QPushButton("Next")
        self.next.setObjectName("tourNext")
        self.next.setDefault(True)
        self.skip = QPushButton("Skip tour")
        self.skip.setObjectName("tourSkip")
        row = QHBoxLayout()
        row.addWidget(self.counter)
        row.addStretch(1)
        row.addWidget(self.skip)
        row.addWidget(self.back)
        row.addWidget(self.next)
        lay = QVBoxLayout(self.bubble)
        lay.addWidget(self.title)
        lay.addWidget(self.text)
        lay.addLayout(row)
        self.bubble.setFixedWidth(340)
        self.back.clicked.connect(lambda: self.go(-1))
        self.next.clicked.connect(lambda: self.go(+1))
        self.skip.clicked.connect(lambda: self.end(False))
        window.installEventFilter(self)

    def start(self) -> None:
        self.setGeometry(self.window_.rect())
        self.show()
        self.raise_()
        self.go(+1)
        self.next.setFocus()

    def step_targets(self) -> list[tuple[TourStep, QWidget | None]]:
        return [(s, find_target(self.window_, s.target)) for s in self.tour.steps]

    def go(self, delta: int) -> None:
        i = self.index + delta
        while 0 <= i < len(self.tour.steps):
            step = self.tour.steps[i]
            if self.prepare is not None:
                self.prepare(step)
            target = find_target(self.window_, step.target)
            if target is not None:
                self.index, self.target = i, target
                self._layout(step)
                return
            if step.target not in self.missing:
                self.missing.append(step.target)
            i += 1 if delta >= 0 else -1
        if i >= len(self.tour.steps):
            self.end(True)

    def _target_rect(self) -> QRect:
        t = self.target
        if t is None:
            return QRect()
        top_left = t.mapTo(self.window_, QPoint(0, 0))
        return QRect(top_left, t.size()).adjusted(-4, -4, 4, 4)

    def _layout(self, step: TourStep) -> None:
        self.title.setText(step.title)
        self.text.setText(step.text)
        n = len(self.tour.steps)
        self.counter.setText(f"{self.index + 1} / {n}")
        self.back.setEnabled(self.index > 0)
        self.next.setText("Done" if self.index == n - 1 else "Next")
        # a word-wrapped label's size hint ignores the width it gets: size the bubble for its text
        lay = self.bubble.layout()
        if lay is not None:
            self.bubble.setFixedHeight(lay.totalHeightForWidth(self.bubble.width()))
        r, area = self._target_rect(), self.rect()
        bw, bh = self.bubble.width(), self.bubble.height()
        # beside the target where there is room: right, left, below, above, else centred
        for x, y in ((r.right() + 12, r.top()), (r.left() - bw - 12, r.top()), (r.left(), r.bottom() + 12),
                     (r.left(), r.top() - bh - 12)):
            if 0 <= x and x + bw <= area.width() and 0 <= y + 0 and y + bh <= area.height():
                break
        else:
            x, y = (area.width() - bw) // 2, (area.height() - bh) // 2
        x = max(8, min(x, area.width() - bw - 8))
        y = max(8, min(y, area.height() - bh - 8))
        self.bubble.move(x, y)
        self.update()

    def end(self, completed: bool) -> None:
        self.window_.removeEventFilter(self)
        self.hide()
        if self.on_done is not None:
            self.on_done(self.tour.id, completed)
        self.finished.emit(self.tour.id, completed)
        self.deleteLater()

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        path = QPainterPath()
        path.addRect(self.rect())
        hole = QPainterPath()
        r = self._target_rect()
        hole.addRoundedRect(r, 6, 6)
        p.fillPath(path.subtracted(hole), QColor(0, 0, 0, 150))
        p.setPen(QPen(QColor("#4c8bf5"), 2))
        p.drawRoundedRect(r, 6, 6)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Escape:
            self.end(False)
        elif event.key() in (Qt.Key.Key_Right, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.go(+1)
        elif event.key() == Qt.Key.Key_Left:
            self.go(-1)
        else:
            super().keyPressEvent(event)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - follow the window's size
        if obj is self.window_ and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.window_.rect())
            if 0 <= self.index < len(self.tour.steps):
                self._layout(self.tour.steps[self.index])
        return False
