"""Education: courses → sections → materials, enrollment, progress, quizzes scored here, the
glossary and the feature tours (``resources/education``, format in docs/architecture.md).

* Content is seeded into ``edu_content`` from the shipped files on the first education request
  of a process (idempotent: a row is written when missing or when the shipped ``version`` is
  newer than the stored one). Admins edit it (``PUT /admin/education/...``), validated with the
  same engine loader as the files; an edit bumps the row's version and time, so clients pull it.
* Quizzes are scored by the service from the submitted choice ids (``engine.education.quiz``);
  a body carrying a score is refused (422: unknown field), and ``PUT /education/progress``
  takes only ``read`` and ``exercise``. What a client sees of a quiz before submitting has no
  correct flags and no explanations; the submit answer has both.
* Progress writes are idempotent by nature (the same PUT twice is one row; a submit replayed
  with the same answers scores the same), so the app's outbox may retry them.
* ``GET /education/content`` pages every content row changed after a cursor (``updated_at``,
  ``id``), for the app's offline copy.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path as PathParam, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.education import content as ec
from engine.education.glossary import search as glossary_search
from engine.education.quiz import QuizError, score_quiz
from server.deps import MAX_ID, AdminUser, CurrentUser, Db, audit, client_ip
from server.errors import ERROR_RESPONSES, ApiError
from server.models import EduContent, EduEnrollment, EduProgress, User, aware, utcnow
from server.schemas import Strict

log = logging.getLogger("stockscanner.server.education")
router = APIRouter(tags=["education"], responses=ERROR_RESPONSES)

_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
CourseId = Annotated[str, PathParam(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]
MaterialId = Annotated[str, PathParam(pattern=_ID_PATTERN)]
TermId = Annotated[str, PathParam(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]
TourId = Annotated[str, PathParam(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]
MAX_PULL = 200


# ------------------------------------------------------------------------------ schemas

class CourseSummary(BaseModel):
    id: str
    version: int
    title: str
    level: str
    summary: str
    minutes: int
    sections: int
    materials: int
    enrolled: bool


class SectionOut(BaseModel):
    id: str
    title: str
    materials: list[dict[str, Any]]


class EnrollOut(BaseModel):
    course_id: str
    enrolled_at: dt.datetime


class ProgressIn(Strict):
    kind: Literal["read", "exercise"]


class ProgressOut(BaseModel):
    course_id: str
    material_id: str
    kind: str
    done: bool
    score: float | None
    passed: bool
    attempts: int
    updated_at: dt.datetime


class QuizIn(Strict):
    #: question id -> the chosen choice ids (the only thing a client sends: no score)
    answers: dict[Annotated[str, Field(pattern=_ID_PATTERN)],
                  Annotated[list[Annotated[str, Field(pattern=_ID_PATTERN)]], Field(max_length=50)]] = Field(
        max_length=500)


class QuestionResultOut(BaseModel):
    question_id: str
    correct: bool
    chosen: list[str]
    correct_choices: list[str]
    explanations: dict[str, str]


class QuizOut(BaseModel):
    course_id: str
    material_id: str
    score: float
    passed: bool
    pass_mark: float
    attempts: int
    questions: list[QuestionResultOut]


class TermOut(BaseModel):
    id: str
    term: str
    aliases: list[str]
    category: str
    definition: str
    formula: str | None
    related: list[str]


class TourStepOut(BaseModel):
    target: str
    title: str
    text: str


class TourOut(BaseModel):
    id: str
    title: str
    steps: list[TourStepOut]
    seen: bool


class ContentItem(BaseModel):
    id: int
    kind: str
    key: str
    version: int
    data: dict[str, Any]
    updated_at: dt.datetime


class ContentCursor(BaseModel):
    updated_after: dt.datetime | None
    after_id: int


class ContentPage(BaseModel):
    items: list[ContentItem]
    cursor: ContentCursor
    more: bool


# ------------------------------------------------------------------------------ seeding

_seed_lock = threading.Lock()


def content_root(request: Request) -> Path:
    """Where the shipped content is (``app.state.education_root`` overrides, for tests)."""
    root = getattr(request.app.state, "education_root", None)
    return Path(root) if root else ec.CONTENT_DIR


def _shipped(root: Path) -> list[tuple[str, str, int, dict[str, Any]]]:
    """(kind, key, version, data) of every shipped content row; a part that does not load is
    logged and left out (the rest is still served)."""
    rows: list[tuple[str, str, int, dict[str, Any]]] = []
    try:
        if (root / "glossary.json").is_file():
            g = ec.load_glossary(root, complete=False)
            rows += [("term", t.id, g.version, t.to_dict()) for t in g.terms]
    except ec.ContentError as exc:
        log.error("education glossary not seeded: %s", exc)
    try:
        rows += [("course", c.id, c.version, ec.course_to_dict(c)) for c in ec.load_courses(root)]
    except ec.ContentError as exc:
        log.error("education courses not seeded: %s", exc)
    try:
        version, tours = ec.load_tours(root)
        if tours:
            rows.append(("tours", "tours", version, ec.tours_to_dict(version, tours)))
    except ec.ContentError as exc:
        log.error("education tours not seeded: %s", exc)
    return rows


def seed(db: Session, root: Path) -> int:
    """Write the shipped content rows that are missing or older than shipped; returns how many."""
    have = {(r.kind, r.key): r for r in db.execute(select(EduContent)).scalars()}
    n = 0
    for kind, key, version, data in _shipped(root):
        row = have.get((kind, key))
        if row is None:
            db.add(EduContent(kind=kind, key=key, version=version, data=json.dumps(data, sort_keys=True),
                              updated_at=utcnow()))
            n += 1
        elif version > row.version:
            row.version, row.data, row.updated_at, row.edited_by = version, json.dumps(data, sort_keys=True), utcnow(), None
            n += 1
    try:
        db.commit()
    except IntegrityError:  # another worker seeded at the same moment: its rows are the same
        db.rollback()
    return n


def _ensure_seeded(request: Request, db: Session) -> None:
    state = request.app.state
    if getattr(state, "education_seeded", False):
        return
    with _seed_lock:
        if not getattr(state, "education_seeded", False):
            seed(db, content_root(request))
            state.education_seeded = True


# ------------------------------------------------------------------------------ reading

def _row(db: Session, kind: str, key: str) -> EduContent | None:
    return db.execute(select(EduContent).where(EduContent.kind == kind, EduContent.key == key)).scalar_one_or_none()


def _course(request: Request, db: Session, course_id: str) -> ec.Course:
    _ensure_seeded(request, db)
    row = _row(db, "course", course_id)
    if row is None:
        raise ApiError(404, "not_found", f"There is no course {course_id!r}.")
    return ec.course_from_dict(json.loads(row.data), f"course {course_id}")


def _material(course: ec.Course, material_id: str) -> ec.Material:
    m = course.material(material_id)
    if m is None:
        raise ApiError(404, "not_found", f"The course {course.id!r} has no material {material_id!r}.")
    return m


def _enrolled(db: Session, user: User) -> set[str]:
    return set(db.execute(select(EduEnrollment.course_id).where(EduEnrollment.user_id == user.id)).scalars())


def _progress_out(p: EduProgress) -> ProgressOut:
    return ProgressOut(course_id=p.course_id, material_id=p.material_id, kind=p.kind, done=p.done, score=p.score,
                       passed=p.passed, attempts=p.attempts, updated_at=aware(p.updated_at))


def _progress(db: Session, user: User, course_id: str, material_id: str, kind: str) -> EduProgress:
    p = db.get(EduProgress, (user.id, course_id, material_id, kind))
    if p is None:
        p = EduProgress(user_id=user.id, course_id=course_id, material_id=material_id, kind=kind, done=False,
                        score=None, passed=False, attempts=0, answers="{}", updated_at=utcnow())
        db.add(p)
    return p


@router.get("/education/courses", response_model=list[CourseSummary])
def list_courses(request: Request, user: CurrentUser, db: Db) -> list[CourseSummary]:
    _ensure_seeded(request, db)
    enrolled = _enrolled(db, user)
    out = []
    for row in db.execute(select(EduContent).where(EduContent.kind == "course").order_by(EduContent.key)).scalars():
        c = ec.course_from_dict(json.loads(row.data), f"course {row.key}")
        out.append(CourseSummary(id=c.id, version=row.version, title=c.title, level=c.level, summary=c.summary,
                                 minutes=c.minutes, sections=len(c.sections), materials=len(c.materials()),
                                 enrolled=c.id in enrolled))
    return out


@router.get("/education/courses/{course_id}", response_model=dict[str, Any])
def course_detail(course_id: CourseId, request: Request, user: CurrentUser, db: Db) -> dict[str, Any]:
    """The course with every material; quizzes without their answers."""
    return ec.course_to_dict(_course(request, db, course_id), answers=False)


@router.get("/education/courses/{course_id}/sections", response_model=list[SectionOut])
def course_sections(course_id: CourseId, request: Request, user: CurrentUser, db: Db) -> list[SectionOut]:
    c = _course(request, db, course_id)
    return [SectionOut(id=s.id, title=s.title, materials=[{"id": m.id, "kind": m.kind, "title": m.title,
                                                           "minutes": m.minutes} for m in s.materials])
            for s in c.sections]


@router.get("/education/courses/{course_id}/materials/{material_id}", response_model=dict[str, Any])
def material_detail(course_id: CourseId, material_id: MaterialId, request: Request, user: CurrentUser,
                    db: Db) -> dict[str, Any]:
    return ec.material_to_dict(_material(_course(request, db, course_id), material_id), answers=False)


@router.post("/education/courses/{course_id}/enroll", response_model=EnrollOut)
def enroll(course_id: CourseId, request: Request, user: CurrentUser, db: Db) -> EnrollOut:
    _course(request, db, course_id)
    row = db.get(EduEnrollment, (user.id, course_id))
    if row is None:
        row = EduEnrollment(user_id=user.id, course_id=course_id, created_at=utcnow())
        db.add(row)
        try:
            db.commit()
        except IntegrityError:  # the same enrollment arrived twice at once
            db.rollback()
            row = db.get(EduEnrollment, (user.id, course_id))
            assert row is not None
    return EnrollOut(course_id=course_id, enrolled_at=aware(row.created_at))


@router.get("/education/progress", response_model=list[ProgressOut])
def my_progress(user: CurrentUser, db: Db) -> list[ProgressOut]:
    """Everything the caller has read, passed, done or seen, oldest first."""
    rows = db.execute(select(EduProgress).where(EduProgress.user_id == user.id)
                      .order_by(EduProgress.updated_at, EduProgress.course_id, EduProgress.material_id)).scalars()
    return [_progress_out(p) for p in rows]


@router.put("/education/progress/{course_id}/{material_id}", response_model=ProgressOut)
def put_progress(course_id: CourseId, material_id: MaterialId, body: ProgressIn, request: Request,
                 user: CurrentUser, db: Db) -> ProgressOut:
    """Mark an article/video read or an exercise done (quiz results come only from submit)."""
    m = _material(_course(request, db, course_id), material_id)
    if body.kind == "read" and m.kind not in ("article", "video"):
        raise ApiError(422, "invalid_request", f"{material_id!r} is a {m.kind}, not something to read.")
    if body.kind == "exercise" and m.kind != "exercise":
        raise ApiError(422, "invalid_request", f"{material_id!r} is a {m.kind}, not an exercise.")
    p = _progress(db, user, course_id, material_id, body.kind)
    if not p.done:
        p.done, p.updated_at = True, utcnow()
    db.commit()
    return _progress_out(p)


@router.post("/education/courses/{course_id}/quizzes/{material_id}/submit", response_model=QuizOut)
def submit_quiz(course_id: CourseId, material_id: MaterialId, body: QuizIn, request: Request, user: CurrentUser,
                db: Db) -> QuizOut:
    """Score the chosen answers here and keep the result: the score of record."""
    m = _material(_course(request, db, course_id), material_id)
    if m.kind != "quiz":
        raise ApiError(422, "invalid_request", f"{material_id!r} is a {m.kind}, not a quiz.")
    try:
        result = score_quiz(m, body.answers)
    except QuizError as exc:
        raise ApiError(422, "invalid_request", f"{exc}.") from None
    p = _progress(db, user, course_id, material_id, "quiz")
    p.attempts = (p.attempts or 0) + 1
    p.score, p.passed, p.done = result.score, result.passed, result.passed or p.done
    p.answers = json.dumps({k: sorted(v) for k, v in body.answers.items()}, sort_keys=True)
    p.updated_at = utcnow()
    db.commit()
    d = result.to_dict()
    return QuizOut(course_id=course_id, material_id=material_id, score=result.score, passed=result.passed,
                   pass_mark=m.pass_mark, attempts=p.attempts,
                   questions=[QuestionResultOut(**q) for q in d["questions"]])


@router.get("/education/glossary", response_model=list[TermOut])
def glossary(request: Request, user: CurrentUser, db: Db,
             q: Annotated[str, Query(max_length=100)] = "",
             limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[TermOut]:
    """Terms matching ``q`` (letters in order, word starts first), best first; all by name for none."""
    _ensure_seeded(request, db)
    rows = db.execute(select(EduContent).where(EduContent.kind == "term")).scalars()
    terms = tuple(ec.term_from_dict(json.loads(r.data), f"term {r.key}") for r in rows)
    g = ec.Glossary(1, terms, {t.id: t for t in terms})
    return [TermOut(**t.to_dict()) for t in glossary_search(g, q, limit)]


@router.get("/education/glossary/{term_id}", response_model=TermOut)
def glossary_term(term_id: TermId, request: Request, user: CurrentUser, db: Db) -> TermOut:
    _ensure_seeded(request, db)
    row = _row(db, "term", term_id)
    if row is None:
        raise ApiError(404, "not_found", f"There is no glossary term {term_id!r}.")
    return TermOut(**ec.term_from_dict(json.loads(row.data), f"term {term_id}").to_dict())


def _tours(request: Request, db: Session) -> tuple[ec.Tour, ...]:
    _ensure_seeded(request, db)
    row = _row(db, "tours", "tours")
    return ec.tours_from_dict(json.loads(row.data))[1] if row is not None else ()


@router.get("/education/tutorials", response_model=list[TourOut])
def tutorials(request: Request, user: CurrentUser, db: Db) -> list[TourOut]:
    """The feature tours, each with whether the caller has seen it."""
    seen = set(db.execute(select(EduProgress.material_id).where(
        EduProgress.user_id == user.id, EduProgress.kind == "tour")).scalars())
    return [TourOut(id=t.id, title=t.title, seen=t.id in seen,
                    steps=[TourStepOut(target=s.target, title=s.title, text=s.text) for s in t.steps])
            for t in _tours(request, db)]


@router.put("/education/tutorials/{tour_id}/seen", response_model=ProgressOut)
def tour_seen(tour_id: TourId, request: Request, user: CurrentUser, db: Db) -> ProgressOut:
    if not any(t.id == tour_id for t in _tours(request, db)):
        raise ApiError(404, "not_found", f"There is no tour {tour_id!r}.")
    p = _progress(db, user, "", tour_id, "tour")
    if not p.done:
        p.done, p.updated_at = True, utcnow()
    db.commit()
    return _progress_out(p)


@router.get("/education/content", response_model=ContentPage)
def pull_content(request: Request, user: CurrentUser, db: Db,
                 updated_after: Annotated[dt.datetime | None, Query()] = None,
                 after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
                 limit: Annotated[int, Query(ge=1, le=MAX_PULL)] = 100) -> ContentPage:
    """Content rows changed after the cursor, oldest first (for the app's offline copy)."""
    _ensure_seeded(request, db)
    q = select(EduContent)
    after = None
    if updated_after is not None:
        after = (updated_after if updated_after.tzinfo else updated_after.replace(tzinfo=dt.timezone.utc)
                 ).astimezone(dt.timezone.utc)
        q = q.where(or_(EduContent.updated_at > after, and_(EduContent.updated_at == after, EduContent.id > after_id)))
    rows = list(db.execute(q.order_by(EduContent.updated_at, EduContent.id).limit(limit + 1)).scalars())
    items = [ContentItem(id=r.id, kind=r.kind, key=r.key, version=r.version, data=json.loads(r.data),
                         updated_at=aware(r.updated_at)) for r in rows[:limit]]
    cursor = (ContentCursor(updated_after=items[-1].updated_at, after_id=items[-1].id) if items
              else ContentCursor(updated_after=after, after_id=after_id if after is not None else 0))
    return ContentPage(items=items, cursor=cursor, more=len(rows) > limit)


# ------------------------------------------------------------------------------ admin

def _admin_put(db: Session, kind: str, key: str, data: dict[str, Any], admin: User, request: Request) -> ContentItem:
    row = _row(db, kind, key)
    if row is None:
        row = EduContent(kind=kind, key=key, version=1, data="{}", updated_at=utcnow())
        db.add(row)
    else:
        row.version += 1
    now = utcnow()
    last = aware(row.updated_at) if row.updated_at is not None else now
    row.data, row.edited_by = json.dumps(data, sort_keys=True), admin.id
    row.updated_at = now if now > last else last + dt.timedelta(microseconds=1)
    audit(db, "admin.education_edited", user_id=None, actor_id=admin.id, ip=client_ip(request), kind=kind, key=key)
    db.commit()
    return ContentItem(id=row.id, kind=kind, key=key, version=row.version, data=data, updated_at=aware(row.updated_at))


@router.get("/admin/education/courses/{course_id}", response_model=ContentItem, tags=["admin"])
def admin_get_course(course_id: CourseId, request: Request, admin: AdminUser, db: Db) -> ContentItem:
    """A course as stored, answers and explanations included (what the admin page edits)."""
    _ensure_seeded(request, db)
    row = _row(db, "course", course_id)
    if row is None:
        raise ApiError(404, "not_found", f"There is no course {course_id!r}.")
    return ContentItem(id=row.id, kind=row.kind, key=row.key, version=row.version, data=json.loads(row.data),
                       updated_at=aware(row.updated_at))


@router.put("/admin/education/courses/{course_id}", response_model=ContentItem, tags=["admin"])
def admin_put_course(course_id: CourseId, body: dict[str, Any], request: Request, admin: AdminUser,
                     db: Db) -> ContentItem:
    """Create or replace a course (the course.json shape, each article with its ``body``)."""
    _ensure_seeded(request, db)
    try:
        course = ec.course_from_dict(body, "course")
    except ec.ContentError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
    if course.id != course_id:
        raise ApiError(422, "invalid_request", f"The body's id {course.id!r} is not {course_id!r}.")
    terms = {r for r in db.execute(select(EduContent.key).where(EduContent.kind == "term")).scalars()}
    unknown = sorted({t for m in course.materials() for t in m.terms} - terms)
    if unknown:
        raise ApiError(422, "invalid_request", f"Unknown glossary terms: {', '.join(unknown)}.")
    return _admin_put(db, "course", course_id, ec.course_to_dict(course), admin, request)


@router.put("/admin/education/glossary/{term_id}", response_model=ContentItem, tags=["admin"])
def admin_put_term(term_id: TermId, body: dict[str, Any], request: Request, admin: AdminUser, db: Db) -> ContentItem:
    """Create or replace a glossary term (its related terms must exist)."""
    _ensure_seeded(request, db)
    try:
        term = ec.term_from_dict(body, "term")
    except ec.ContentError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
    if term.id != term_id:
        raise ApiError(422, "invalid_request", f"The body's id {term.id!r} is not {term_id!r}.")
    terms = {r for r in db.execute(select(EduContent.key).where(EduContent.kind == "term")).scalars()}
    unknown = sorted(set(term.related) - terms - {term_id})
    if unknown:
        raise ApiError(422, "invalid_request", f"Unknown related terms: {', '.join(unknown)}.")
    return _admin_put(db, "term", term_id, term.to_dict(), admin, request)
