"""``EducationService``: what the Learn and Glossary docks work with (Qt-free).

The content is the bundled files (``resources/education``) overlaid with what the sync pulled
from the service (``education_content``): per course, term and the tours, the higher version
wins, so an admin's edit reaches the app while the bundled copy keeps it usable offline. A
pulled item that does not validate is skipped and named in ``problems``.

Quizzes are scored here too, for the explanations the user sees at once; the score of record
is the service's (the sync sends the answers, never the score, and merges the service's back).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from engine.education import content as ec
from engine.education.exercises import CheckResult, EngineState, check
from engine.education.glossary import lookup, search
from engine.education.progress import ProgressStore
from engine.education.quiz import QuizResult, score_quiz
from engine.events import EventBus
from engine.store.db import Database

log = logging.getLogger(__name__)


class EducationService:
    def __init__(self, db: Database, bus: EventBus, root: Path = ec.CONTENT_DIR) -> None:
        self.db, self.bus, self.root = db, bus, Path(root)
        self.progress = ProgressStore(db, bus)
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._content: ec.Content | None = None

    # --- content ---------------------------------------------------------------------------

    def reload(self) -> ec.Content:
        """Read the bundled content and the pulled copy again (after a sync pulled content)."""
        problems: list[str] = []
        terms: dict[str, tuple[int, ec.Term]] = {}
        courses: dict[str, tuple[int, ec.Course]] = {}
        tours: tuple[int, tuple[ec.Tour, ...]] = (0, ())
        try:
            if (self.root / "glossary.json").is_file():
                g = ec.load_glossary(self.root, complete=False)
                terms = {t.id: (g.version, t) for t in g.terms}
        except ec.ContentError as exc:
            problems.append(str(exc))
        try:
            courses = {c.id: (c.version, c) for c in ec.load_courses(self.root)}
        except ec.ContentError as exc:
            problems.append(str(exc))
        try:
            tours = ec.load_tours(self.root)
        except ec.ContentError as exc:
            problems.append(str(exc))
        try:
            cached = {k: self.progress.cached_content(k) for k in ("term", "course", "tours")}
        except Exception as exc:  # noqa: BLE001 - a store problem leaves the bundled content
            problems.append(f"the content pulled from the service cannot be read: {exc}")
            cached = {"term": {}, "course": {}, "tours": {}}
        for key, (version, data) in cached["term"].items():
            if version > terms.get(key, (0, None))[0]:
                try:
                    terms[key] = (version, ec.term_from_dict(data, f"term {key}"))
                except ec.ContentError as exc:
                    problems.append(str(exc))
        for key, (version, data) in cached["course"].items():
            if version > courses.get(key, (0, None))[0]:
                try:
                    courses[key] = (version, ec.course_from_dict(data, f"course {key}"))
                except ec.ContentError as exc:
                    problems.append(str(exc))
        pulled_tours = cached["tours"].get("tours")
        if pulled_tours is not None and pulled_tours[0] > tours[0]:
            try:
                tours = ec.tours_from_dict(pulled_tours[1])
            except ec.ContentError as exc:
                problems.append(str(exc))
        term_list = tuple(sorted((t for _v, t in terms.values()), key=lambda t: t.term.lower()))
        glossary = ec.Glossary(1, term_list, {t.id: t for t in term_list})
        content = ec.Content(glossary, ec.learning_order(c for _v, c in courses.values()), tours[1])
        for p in problems:
            log.warning("education content: %s", p)
        with self._lock:
            self._content, self.problems = content, problems
        return content

    @property
    def content(self) -> ec.Content:
        c = self._content
        return c if c is not None else self.reload()

    @property
    def glossary(self) -> ec.Glossary:
        return self.content.glossary

    def term(self, term_id_or_name: str) -> ec.Term | None:
        return lookup(self.glossary, term_id_or_name)

    def search(self, query: str, limit: int = 50) -> list[ec.Term]:
        return search(self.glossary, query, limit)

    def courses(self) -> tuple[ec.Course, ...]:
        return self.content.courses

    def course(self, course_id: str) -> ec.Course | None:
        return self.content.course(course_id)

    def tours(self) -> tuple[ec.Tour, ...]:
        return self.content.tours

    # --- progress --------------------------------------------------------------------------

    def mark_read(self, course_id: str, material_id: str) -> None:
        self.progress.mark_read(course_id, material_id)

    def submit_quiz(self, course_id: str, material_id: str, answers: Mapping[str, Sequence[str]]) -> QuizResult:
        """Score ``answers`` (for the explanations now) and keep them for the service to score.
        Raises ``LookupError`` for an unknown quiz and ``QuizError`` for answers that do not fit."""
        course = self.course(course_id)
        quiz = course.material(material_id) if course is not None else None
        if quiz is None or quiz.kind != "quiz":
            raise LookupError(f"there is no quiz {material_id!r} in {course_id!r}")
        result = score_quiz(quiz, answers)
        self.progress.record_quiz(course_id, answers, result)
        return result

    def check_exercise(self, course_id: str, material_id: str, state: EngineState) -> CheckResult:
        """Check the exercise against ``state``; done is remembered (and synced)."""
        course = self.course(course_id)
        m = course.material(material_id) if course is not None else None
        if m is None:
            return CheckResult(False, f"There is no exercise {material_id!r} in {course_id!r}.")
        result = check(m, state)
        if result.done:
            self.progress.mark_exercise(course_id, material_id)
        return result

    def tour_seen(self, tour_id: str) -> None:
        self.progress.mark_tour(tour_id)

    def tours_seen(self) -> set[str]:
        return self.progress.tours_seen()
