"""The Learn dock: courses → sections → materials on the left (a tick for what is done, each
course's share done), the selected material on the right — an article rendered from markdown
(``QTextBrowser.setMarkdown``) with its glossary terms as links, a video link, a quiz (the
explanations of every choice appear after submitting), or an exercise whose "done" check runs
against the app's state (live while the page is shown, and on "Check now")."""
from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractButton, QButtonGroup, QCheckBox, QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QRadioButton,
    QScrollArea, QSplitter, QStackedWidget, QTextBrowser, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from engine.education.content import Course, Material
from engine.education.exercises import CheckResult, EngineState
from engine.education.quiz import QuizResult
from engine.education.service import EducationService

_ROLE = 256
_KIND_ICON = {"article": "≡", "video": "▶", "quiz": "?", "exercise": "✎"}
LIVE_CHECK_MS = 3000


class QuizView(QWidget):
    """One quiz: a group of radio buttons (single) or check boxes (multiple) per question; after
    Submit each choice shows its explanation, right ones green and wrong picks red."""

    submitted = Signal(object)  # QuizResult

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("learnQuiz")
        self.material: Material | None = None
        self.buttons: dict[str, dict[str, QAbstractButton]] = {}
        self.notes: dict[str, dict[str, QLabel]] = {}
        self._groups: list[QButtonGroup] = []
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.title = QLabel()
        self.title.setObjectName("learnQuizTitle")
        self.title.setStyleSheet("font-size: 15px; font-weight: 600")
        self.submit = QPushButton("Submit answers")
        self.submit.setObjectName("learnQuizSubmit")
        self.retry = QPushButton("Try again")
        self.retry.setObjectName("learnQuizRetry")
        self.result = QLabel()
        self.result.setObjectName("learnQuizResult")
        row = QHBoxLayout()
        row.addWidget(self.submit)
        row.addWidget(self.retry)
        row.addWidget(self.result, 1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(scroll, 1)
        lay.addLayout(row)
        self.retry.clicked.connect(lambda: self.material is not None and self.show_quiz(self.material))

    def show_quiz(self, m: Material) -> None:
        self.material = m
        self.title.setText(f"{m.title}  ·  pass mark {m.pass_mark:.0%}")
        while self.body_layout.count():
            item = self.body_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.buttons, self.notes, self._groups = {}, {}, []
        for n, q in enumerate(m.questions, 1):
            text = QLabel(f"<b>{n}. {html.escape(q.text)}</b>")
            text.setWordWrap(True)
            self.body_layout.addWidget(text)
            group = QButtonGroup(self)
            group.setExclusive(q.kind == "single")
            self._groups.append(group)
            self.buttons[q.id], self.notes[q.id] = {}, {}
            for c in q.choices:
                b: QAbstractButton = QRadioButton(c.text) if q.kind == "single" else QCheckBox(c.text)
                b.setObjectName(f"quiz_{q.id}_{c.id}")
                group.addButton(b)
                note = QLabel()
                note.setWordWrap(True)
                note.setContentsMargins(24, 0, 0, 4)
                note.hide()
                self.body_layout.addWidget(b)
                self.body_layout.addWidget(note)
                self.buttons[q.id][c.id], self.notes[q.id][c.id] = b, note
        self.body_layout.addStretch(1)
        self.submit.setEnabled(True)
        self.retry.hide()
        self.result.setText("")

    def answers(self) -> dict[str, list[str]]:
        return {qid: [cid for cid, b in bs.items() if b.isChecked()] for qid, bs in self.buttons.items()}

    def choose(self, question_id: str, *choice_ids: str) -> None:
        for cid, b in self.buttons[question_id].items():
            b.setChecked(cid in choice_ids)

    def show_result(self, r: QuizResult) -> None:
        for q in r.questions:
            for cid, note in self.notes.get(q.question_id, {}).items():
                right = cid in q.correct_choices
                picked = cid in q.chosen
                mark = "✔" if right else ("✘" if picked else "·")
                colour = "#26a69a" if right else ("#ef5350" if picked else "#8a8f98")
                note.setText(f"<span style='color:{colour}'>{mark} {html.escape(q.explanations.get(cid, ''))}</span>")
                note.show()
            for b in self.buttons.get(q.question_id, {}).values():
                b.setEnabled(False)
        right = sum(q.correct for q in r.questions)
        verdict = "Passed" if r.passed else "Not passed yet"
        colour = "#26a69a" if r.passed else "#ef5350"
        self.result.setText(f"<b style='color:{colour}'>{verdict}</b>: {right} of {len(r.questions)} right "
                            f"({r.score:.0%}). The service records the score when you are online.")
        self.submit.setEnabled(False)
        self.retry.show()


class ExerciseView(QWidget):
    check_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("learnExercise")
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 15px; font-weight: 600")
        self.instructions = QTextBrowser()
        self.instructions.setObjectName("learnExerciseInstructions")
        self.status = QLabel()
        self.status.setObjectName("learnExerciseStatus")
        self.status.setWordWrap(True)
        self.check = QPushButton("Check now")
        self.check.setObjectName("learnExerciseCheck")
        row = QHBoxLayout()
        row.addWidget(self.check)
        row.addWidget(self.status, 1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.instructions, 1)
        lay.addLayout(row)
        self.check.clicked.connect(self.check_requested)

    def show_exercise(self, m: Material, done: bool) -> None:
        self.title.setText(m.title)
        self.instructions.setMarkdown(m.instructions + "\n\n*The app checks this for you: do it in the app, "
                                      "the status below turns to done.*")
        self.set_result(CheckResult(True, "Done earlier.") if done else CheckResult(False, "Not done yet."))

    def set_result(self, r: CheckResult) -> None:
        colour = "#26a69a" if r.done else "#8a8f98"
        self.status.setText(f"<b style='color:{colour}'>{'✔ Done' if r.done else 'Not done'}</b> — {html.escape(r.detail)}")
        self.status.setProperty("done", r.done)


class LearnWidget(QWidget):
    """``state()`` builds the ``EngineState`` exercises are checked against (the app's reads);
    ``run_check(fn, on_done)`` runs a check off the GUI thread when given; ``open_term(id)``
    opens the Glossary at a term."""

    material_shown = Signal(str, str)  # course id, material id

    def __init__(self, service: EducationService, engine_state: Callable[[], EngineState],
                 open_term: Callable[[str], None] | None = None,
                 run_check: Callable[[Callable[[], CheckResult], Callable[[CheckResult], None]], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("learnWidget")
        self.service, self.engine_state, self.open_term, self.run_check = service, engine_state, open_term, run_check
        self.current: tuple[str, str] | None = None
        self._checking = False
        self.tree = QTreeWidget()
        self.tree.setObjectName("learnTree")
        self.tree.setHeaderHidden(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("learnProgress")
        self.progress.setFormat("%p % of this course done")
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.tree, 1)
        ll.addWidget(self.progress)
        self.pages = QStackedWidget()
        self.welcome = QTextBrowser()
        self.welcome.setObjectName("learnWelcome")
        self.article = QTextBrowser()
        self.article.setObjectName("learnArticle")
        self.article.setOpenLinks(False)
        self.article.anchorClicked.connect(self._on_link)
        self.quiz = QuizView()
        self.exercise = ExerciseView()
        for w in (self.welcome, self.article, self.quiz, self.exercise):
            self.pages.addWidget(w)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.pages)
        split.setStretchFactor(1, 1)
        split.setSizes([260, 560])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(split)
        self.timer = QTimer(self)
        self.timer.setInterval(LIVE_CHECK_MS)
        self.timer.timeout.connect(self.check_exercise)
        self.tree.currentItemChanged.connect(self._on_item)
        self.quiz.submit.clicked.connect(self.submit_quiz)
        self.exercise.check_requested.connect(self.check_exercise)
        self.refresh()

    # --- tree -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Rebuild the tree (content or progress changed), keeping the selection."""
        keep = self.current
        self.tree.blockSignals(True)
        self.tree.clear()
        courses = self.service.courses()
        for c in courses:
            done = self.service.progress.completed(c)
            ci = QTreeWidgetItem([f"{c.title}  ({len(done)}/{len(c.materials())})"])
            ci.setData(0, _ROLE, ("course", c.id, ""))
            ci.setToolTip(0, f"{c.level} · about {c.minutes} min — {c.summary}")
            self.tree.addTopLevelItem(ci)
            for s in c.sections:
                si = QTreeWidgetItem([s.title])
                si.setData(0, _ROLE, ("section", c.id, s.id))
                ci.addChild(si)
                for m in s.materials:
                    mi = QTreeWidgetItem([f"{'✔' if m.id in done else _KIND_ICON.get(m.kind, '')}  {m.title}"])
                    mi.setData(0, _ROLE, ("material", c.id, m.id))
                    mi.setToolTip(0, f"{m.kind}" + (f", {m.minutes} min" if m.minutes else ""))
                    si.addChild(mi)
        self.tree.blockSignals(False)
        if not courses:
            self.welcome.setMarkdown("# Learn\n\nNo courses are installed." +
                                     ("\n\n" + "\n".join(f"- {p}" for p in self.service.problems) if self.service.problems else ""))
        else:
            self.welcome.setMarkdown("# Learn\n\nShort courses written for this app: articles, videos, quizzes with "
                                     "explanations, and exercises the app checks while you do them.\n\n" +
                                     "\n".join(f"- **{c.title}** ({c.level}, about {c.minutes} min): {c.summary}"
                                               for c in courses))
        if keep is not None:
            self.select(*keep)
        else:
            self.tree.expandToDepth(0)
            self.pages.setCurrentWidget(self.welcome)

    def _item(self, course_id: str, material_id: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            ci = self.tree.topLevelItem(i)
            for j in range(ci.childCount()):
                si = ci.child(j)
                for k in range(si.childCount()):
                    mi = si.child(k)
                    if mi.data(0, _ROLE) == ("material", course_id, material_id):
                        return mi
        return None

    def select(self, course_id: str, material_id: str) -> bool:
        item = self._item(course_id, material_id)
        if item is None:
            return False
        self.tree.setCurrentItem(item)
        self.show_material(course_id, material_id)
        return True

    def _on_item(self, cur: QTreeWidgetItem | None, _prev: Any) -> None:
        if cur is None:
            return
        kind, cid, mid = cur.data(0, _ROLE)
        course = self.service.course(cid)
        if course is not None:
            self._show_progress(course)
        if kind == "material":
            self.show_material(cid, mid)

    def _show_progress(self, course: Course) -> None:
        self.progress.setValue(round(self.service.progress.course_fraction(course) * 100))

    # --- pages ------------------------------------------------------------------------------

    def show_material(self, course_id: str, material_id: str) -> None:
        course = self.service.course(course_id)
        m = course.material(material_id) if course is not None else None
        if course is None or m is None:
            return
        if self.current == (course_id, material_id) and self.pages.currentWidget() is not self.welcome:
            return
        self.current = (course_id, material_id)
        self.timer.stop()
        if m.kind == "article":
            self.article.setMarkdown(m.body + self._terms_md(m))
            self.pages.setCurrentWidget(self.article)
            self.service.mark_read(course_id, material_id)
        elif m.kind == "video":
            self.article.setMarkdown(f"# {m.title}\n\n[Open the video]({m.url}) in your browser"
                                     + (f" (about {m.minutes} min)" if m.minutes else "") + "." + self._terms_md(m))
            self.pages.setCurrentWidget(self.article)
            self.service.mark_read(course_id, material_id)
        elif m.kind == "quiz":
            self.quiz.show_quiz(m)
            self.pages.setCurrentWidget(self.quiz)
        else:
            done = self.service.progress.get(course_id, material_id, "exercise") is not None
            self.exercise.show_exercise(m, done)
            self.pages.setCurrentWidget(self.exercise)
            if not done:
                self.timer.start()
                self.check_exercise()
        self._show_progress(course)
        self.material_shown.emit(course_id, material_id)

    def _terms_md(self, m: Material) -> str:
        terms = [t for t in (self.service.term(x) for x in m.terms) if t is not None]
        if not terms:
            return ""
        return "\n\n---\n\n**Glossary:** " + ", ".join(f"[{t.term}](term:{t.id})" for t in terms)

    def _on_link(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("term:"):
            if self.open_term is not None:
                self.open_term(text[5:])
        elif url.scheme() == "https":
            QDesktopServices.openUrl(url)

    def submit_quiz(self) -> QuizResult | None:
        if self.current is None or self.quiz.material is None:
            return None
        result = self.service.submit_quiz(self.current[0], self.quiz.material.id, self.quiz.answers())
        self.quiz.show_result(result)
        self._mark_tree()
        return result

    def check_exercise(self) -> None:
        """Check the shown exercise (off the GUI thread when ``run_check`` is set)."""
        if self.current is None or self.pages.currentWidget() is not self.exercise or self._checking:
            return
        cid, mid = self.current
        state = self.engine_state()

        def run() -> CheckResult:
            return self.service.check_exercise(cid, mid, state)

        def done(r: CheckResult) -> None:
            self._checking = False
            if self.current != (cid, mid):
                return
            self.exercise.set_result(r)
            if r.done:
                self.timer.stop()
                self._mark_tree()

        self._checking = True
        if self.run_check is None:
            done(run())
        else:
            self.run_check(run, done)

    def _mark_tree(self) -> None:
        if self.current is None:
            return
        course = self.service.course(self.current[0])
        item = self._item(*self.current)
        if course is None or item is None:
            return
        done = self.service.progress.completed(course)
        m = course.material(self.current[1])
        if m is not None:
            item.setText(0, f"{'✔' if m.id in done else _KIND_ICON.get(m.kind, '')}  {m.title}")
        top = item.parent().parent() if item.parent() is not None else None
        if top is not None:
            top.setText(0, f"{course.title}  ({len(done)}/{len(course.materials())})")
        self._show_progress(course)

    def update_marks(self) -> None:
        """Refresh every tick and count in place (progress changed here or was pulled from the
        service), keeping the tree's expansion and selection."""
        for i in range(self.tree.topLevelItemCount()):
            ci = self.tree.topLevelItem(i)
            if ci is None:
                continue
            course = self.service.course(ci.data(0, _ROLE)[1])
            if course is None:
                continue
            done = self.service.progress.completed(course)
            ci.setText(0, f"{course.title}  ({len(done)}/{len(course.materials())})")
            for j in range(ci.childCount()):
                si = ci.child(j)
                for k in range(si.childCount() if si is not None else 0):
                    mi = si.child(k) if si is not None else None
                    m = course.material(mi.data(0, _ROLE)[2]) if mi is not None else None
                    if mi is not None and m is not None:
                        mi.setText(0, f"{'✔' if m.id in done else _KIND_ICON.get(m.kind, '')}  {m.title}")
        if self.current is not None:
            course = self.service.course(self.current[0])
            if course is not None:
                self._show_progress(course)

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt override: no live checks while hidden
        self.timer.stop()
        super().hideEvent(event)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self.pages.currentWidget() is self.exercise and self.exercise.status.property("done") is False:
            self.timer.start()

    def state(self) -> dict[str, Any]:
        return {"course": self.current[0], "material": self.current[1]} if self.current else {}

    def restore_state(self, state: dict[str, Any]) -> None:
        c, m = state.get("course"), state.get("material")
        if isinstance(c, str) and isinstance(m, str):
            self.select(c, m)
