"""Local learning progress (table ``education_progress``, migration ``0015_education``) and the
cache of content pulled from the service (``education_content``).

Progress is written here first, so it works offline; ``sync.education`` sends what changed to
the service through the outbox and merges the service's answers back (a quiz's score of
record is the service's: ``verified``). Kinds: ``read``, ``quiz``, ``exercise``, ``tour``.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.education.content import Course
from engine.education.quiz import QuizResult
from engine.events import Event, EventBus
from engine.store.db import Database

KINDS: tuple[str, ...] = ("read", "quiz", "exercise", "tour")


@dataclass(frozen=True, slots=True)
class EducationProgressChanged(Event):
    """A progress row changed (here or pulled from the service): (course, material, kind)."""

    course_id: str
    material_id: str
    kind: str


@dataclass(frozen=True, slots=True)
class ProgressItem:
    course_id: str  # "" for a tour
    material_id: str  # the tour id for a tour
    kind: str
    done: bool
    score: float | None = None
    passed: bool = False
    verified: bool = False
    detail: Mapping[str, Any] = field(default_factory=dict)
    updated_at: float = 0.0

    @property
    def key(self) -> tuple[str, str, str]:
        return self.course_id, self.material_id, self.kind


def _check(kind: str, *ids: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"progress kind must be one of {', '.join(KINDS)}, not {kind!r}")
    for i in ids:
        if not isinstance(i, str) or len(i) > 64:
            raise ValueError(f"{i!r} is not a valid course or material id")


class ProgressStore:
    """Reads and writes the user's progress; announces changes on ``bus``."""

    def __init__(self, db: Database, bus: EventBus | None = None) -> None:
        self.db, self.bus = db, bus

    def _put(self, item: ProgressItem) -> None:
        _check(item.kind, item.course_id, item.material_id)
        with self.db.connect() as c:
            c.execute(
                "INSERT INTO education_progress(course_id, material_id, kind, done, score, passed, verified, detail, "
                "updated_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(course_id, material_id, kind) DO UPDATE SET "
                "done=excluded.done, score=excluded.score, passed=excluded.passed, verified=excluded.verified, "
                "detail=excluded.detail, updated_at=excluded.updated_at",
                (item.course_id, item.material_id, item.kind, int(item.done), item.score, int(item.passed),
                 int(item.verified), json.dumps(dict(item.detail), sort_keys=True), item.updated_at or time.time()))
        if self.bus is not None:
            self.bus.publish(EducationProgressChanged(item.course_id, item.material_id, item.kind))

    def mark_read(self, course_id: str, material_id: str) -> None:
        if self.get(course_id, material_id, "read") is None:
            self._put(ProgressItem(course_id, material_id, "read", True))

    def mark_exercise(self, course_id: str, material_id: str) -> None:
        if self.get(course_id, material_id, "exercise") is None:
            self._put(ProgressItem(course_id, material_id, "exercise", True))

    def mark_tour(self, tour_id: str) -> None:
        if self.get("", tour_id, "tour") is None:
            self._put(ProgressItem("", tour_id, "tour", True))

    def record_quiz(self, course_id: str, answers: Mapping[str, Sequence[str]], result: QuizResult,
                    *, verified: bool = False) -> None:
        """A submission scored here (``verified`` False: shown at once, sent to the service
        for its score of record) or by the service (``verified`` True)."""
        self._put(ProgressItem(course_id, result.material_id, "quiz", result.passed, result.score, result.passed,
                               verified, {"answers": {k: list(v) for k, v in answers.items()}}))

    def merge(self, item: ProgressItem) -> None:
        """Take a row the service holds (pulled): done/read stay done; a quiz takes the
        service's score."""
        old = self.get(*item.key)
        if old is not None and old.kind != "quiz" and old.done:
            return
        if old is not None and old.kind == "quiz" and old.verified and old.score == item.score:
            return
        self._put(item)

    def get(self, course_id: str, material_id: str, kind: str) -> ProgressItem | None:
        with self.db.connect(write=False) as c:
            r = c.execute("SELECT course_id, material_id, kind, done, score, passed, verified, detail, updated_at "
                          "FROM education_progress WHERE course_id=? AND material_id=? AND kind=?",
                          (course_id, material_id, kind)).fetchone()
        return None if r is None else _row(r)

    def items(self) -> list[ProgressItem]:
        with self.db.connect(write=False) as c:
            rows = c.execute("SELECT course_id, material_id, kind, done, score, passed, verified, detail, updated_at "
                             "FROM education_progress ORDER BY updated_at, course_id, material_id, kind").fetchall()
        return [_row(r) for r in rows]

    def tours_seen(self) -> set[str]:
        return {i.material_id for i in self.items() if i.kind == "tour"}

    def completed(self, course: Course) -> set[str]:
        """The material ids of ``course`` that are done: articles/videos read, quizzes passed,
        exercises checked done."""
        done: set[str] = set()
        for i in self.items():
            if i.course_id == course.id and ((i.kind in ("read", "exercise") and i.done) or (i.kind == "quiz" and i.passed)):
                done.add(i.material_id)
        return done & {m.id for m in course.materials()}

    def course_fraction(self, course: Course) -> float:
        total = len(course.materials())
        return len(self.completed(course)) / total if total else 0.0

    # --- pulled content --------------------------------------------------------------------

    def cached_content(self, kind: str) -> dict[str, tuple[int, dict[str, Any]]]:
        """key -> (version, data) of the content pulled from the service."""
        with self.db.connect(write=False) as c:
            rows = c.execute("SELECT key, version, data FROM education_content WHERE kind=?", (kind,)).fetchall()
        return {r[0]: (int(r[1]), json.loads(r[2])) for r in rows}

    def put_content(self, items: Iterable[tuple[str, str, int, dict[str, Any], str]]) -> int:
        """Store pulled (kind, key, version, data, updated_at) rows; returns how many changed."""
        n = 0
        with self.db.connect() as c:
            for kind, key, version, data, updated_at in items:
                cur = c.execute(
                    "INSERT INTO education_content(kind, key, version, data, updated_at) VALUES (?,?,?,?,?) "
                    "ON CONFLICT(kind, key) DO UPDATE SET version=excluded.version, data=excluded.data, "
                    "updated_at=excluded.updated_at WHERE education_content.updated_at != excluded.updated_at",
                    (kind, key, int(version), json.dumps(data, sort_keys=True), updated_at))
                n += cur.rowcount
        return n


def _row(r: Sequence[Any]) -> ProgressItem:
    return ProgressItem(str(r[0]), str(r[1]), str(r[2]), bool(r[3]), None if r[4] is None else float(r[4]),
                        bool(r[5]), bool(r[6]), json.loads(r[7] or "{}"), float(r[8]))
