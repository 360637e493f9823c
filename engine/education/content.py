"""Education content, Qt-free: the glossary, courses (sections → materials) and feature tours,
loaded from ``resources/education/`` (the format is ``docs/architecture.md`` → *Education*)
and checked on the way in.

Every loader raises ``ContentError`` naming the file and the field (``courses/orders-and-risk/
course.json: sections[1].materials[2].questions[0]: a "single" question needs exactly one
correct choice``), so a content author sees what to fix; nothing half-valid is returned.

The same functions read content the service hands out (``from_dict`` forms): the service
validates an admin's edit with them before storing it, and the app validates what it pulls.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONTENT_DIR = Path(__file__).resolve().parent.parent.parent / "resources" / "education"

CATEGORIES: tuple[str, ...] = (
    "basics", "orders", "charting", "indicators", "performance", "risk", "options", "fundamentals",
    "market-structure", "psychology", "scanning", "sentiment",
)
MATERIAL_KINDS: tuple[str, ...] = ("article", "video", "quiz", "exercise")
QUESTION_KINDS: tuple[str, ...] = ("single", "multiple")
LEVELS: tuple[str, ...] = ("beginner", "intermediate", "advanced")
#: the exercise checkers ``engine.education.exercises`` implements, with their parameters
CHECKS: dict[str, tuple[str, ...]] = {
    "chart_timeframe": ("timeframe",),
    "chart_study": ("study", "period"),
    "chart_drawing": ("kind",),
    "bracket_order": ("symbol", "side", "stop_pct"),
    "order_type": ("symbol", "type", "side"),
    "risk_sized_order": ("risk_dollars",),
    "scan": ("universe", "reference"),
    "custom_indicator": (),
    "journal_emotion": (),
}
#: glossary ids the app links from metric and indicator names (they must exist)
REQUIRED_TERMS: tuple[str, ...] = tuple("""
sharpe-ratio sortino-ratio calmar-ratio cagr total-return volatility max-drawdown drawdown
profit-factor win-rate expectancy average-win average-loss r-multiple payoff-ratio equity cash
buying-power margin maintenance-margin realized-pnl unrealized-pnl day-pnl commission slippage
spread bid ask last-price volume market-order limit-order stop-order stop-limit-order
trailing-stop bracket-order oco-order time-in-force day-order gtc ioc fok short-selling
position-sizing risk-reward candlestick heikin-ashi renko timeframe support resistance trendline
sma ema wma rsi macd bollinger-bands stochastic-oscillator atr adx obv vwap ichimoku-cloud
parabolic-sar cci williams-r mfi momentum rate-of-change keltner-channel donchian-channel option
call-option put-option strike-price expiration premium implied-volatility delta gamma theta vega
rho black-scholes american-option european-option intrinsic-value time-value open-interest
covered-call cash-secured-put vertical-spread iron-condor straddle strangle assignment exercise
backtest walk-forward overfitting out-of-sample parameter-optimization scan universe watchlist
sentiment news-sentiment alert paper-trading journal beta alpha correlation
""".split())
MIN_TERMS = 200

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LOCAL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MAX_TEXT = 20_000


class ContentError(ValueError):
    """Content that does not follow the format; the message names the place and the rule."""


# ---------------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Term:
    id: str
    term: str
    aliases: tuple[str, ...]
    category: str
    definition: str
    formula: str | None
    related: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "term": self.term, "aliases": list(self.aliases), "category": self.category,
                "definition": self.definition, "formula": self.formula, "related": list(self.related)}


@dataclass(frozen=True, slots=True)
class Glossary:
    version: int
    terms: tuple[Term, ...]
    by_id: dict[str, Term] = field(compare=False, repr=False)

    def get(self, term_id: str) -> Term | None:
        return self.by_id.get(term_id)

    def __len__(self) -> int:
        return len(self.terms)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "terms": [t.to_dict() for t in self.terms]}


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    text: str
    correct: bool
    explanation: str


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    kind: str  # "single" | "multiple"
    text: str
    choices: tuple[Choice, ...]

    @property
    def correct_ids(self) -> frozenset[str]:
        return frozenset(c.id for c in self.choices if c.correct)


@dataclass(frozen=True, slots=True)
class Material:
    """One material. ``kind`` article (``body``: its markdown, read from ``file``), video
    (``url``), quiz (``questions``, ``pass_mark`` 0–1) or exercise (``instructions``,
    ``check`` and ``params``)."""

    id: str
    kind: str
    title: str
    minutes: int = 0
    terms: tuple[str, ...] = ()
    file: str = ""
    body: str = ""
    url: str = ""
    pass_mark: float = 0.0
    questions: tuple[Question, ...] = ()
    instructions: str = ""
    check: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: str
    materials: tuple[Material, ...]


@dataclass(frozen=True, slots=True)
class Course:
    id: str
    version: int
    title: str
    level: str
    summary: str
    minutes: int
    sections: tuple[Section, ...]

    def materials(self) -> list[Material]:
        return [m for s in self.sections for m in s.materials]

    def material(self, material_id: str) -> Material | None:
        return next((m for m in self.materials() if m.id == material_id), None)

    def section_of(self, material_id: str) -> Section | None:
        return next((s for s in self.sections if any(m.id == material_id for m in s.materials)), None)


@dataclass(frozen=True, slots=True)
class TourStep:
    target: str  # objectName of a widget of the main window
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class Tour:
    id: str
    title: str
    steps: tuple[TourStep, ...]


@dataclass(frozen=True, slots=True)
class Content:
    glossary: Glossary
    courses: tuple[Course, ...]
    tours: tuple[Tour, ...]

    def course(self, course_id: str) -> Course | None:
        return next((c for c in self.courses if c.id == course_id), None)

    def tour(self, tour_id: str) -> Tour | None:
        return next((t for t in self.tours if t.id == tour_id), None)


# ---------------------------------------------------------------------------------- checks


def _fail(where: str, message: str) -> ContentError:
    return ContentError(f"{where}: {message}")


def _obj(v: object, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _fail(where, "must be an object")
    return v


def _str(d: Mapping[str, Any], key: str, where: str, *, required: bool = True, limit: int = _MAX_TEXT) -> str:
    v = d.get(key)
    if v is None and not required:
        return ""
    if not isinstance(v, str) or (required and not v.strip()):
        raise _fail(f"{where}.{key}", "must be a non-empty text")
    if len(v) > limit:
        raise _fail(f"{where}.{key}", f"is longer than {limit} characters")
    return v.strip()


def _int(d: Mapping[str, Any], key: str, where: str, *, default: int | None = None, lo: int = 0,
         hi: int = 10_000) -> int:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise _fail(f"{where}.{key}", f"must be a whole number from {lo} to {hi}")
    return v


def _list(d: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> list[Any]:
    v = d.get(key)
    if v is None and not required:
        return []
    if not isinstance(v, list):
        raise _fail(f"{where}.{key}", "must be a list")
    return v


def _ident(v: object, where: str, pattern: re.Pattern[str] = _ID) -> str:
    if not isinstance(v, str) or not pattern.match(v):
        raise _fail(where, f"{v!r} is not a valid id (lowercase letters, digits and '-')"
                    if pattern is _ID else f"{v!r} is not a valid id (letters, digits, '-', '_')")
    return v


def _unique(ids: Iterable[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise _fail(where, f"{what} {i!r} appears twice")
        seen.add(i)


# ---------------------------------------------------------------------------------- glossary


def term_from_dict(d: object, where: str = "term") -> Term:
    o = _obj(d, where)
    tid = _ident(o.get("id"), f"{where}.id")
    category = _str(o, "category", where)
    if category not in CATEGORIES:
        raise _fail(f"{where}.category", f"{category!r} is not one of {', '.join(CATEGORIES)}")
    aliases = tuple(_str({"a": a}, "a", f"{where}.aliases[{i}]", limit=200)
                    for i, a in enumerate(_list(o, "aliases", where, required=False)))
    related = tuple(_ident(r, f"{where}.related[{i}]") for i, r in enumerate(_list(o, "related", where, required=False)))
    formula = o.get("formula")
    if formula is not None and (not isinstance(formula, str) or not formula.strip()):
        raise _fail(f"{where}.formula", "must be a non-empty text or null")
    if tid in related:
        raise _fail(f"{where}.related", "a term cannot be related to itself")
    return Term(tid, _str(o, "term", where, limit=200), aliases, category, _str(o, "definition", where, limit=4000),
                formula.strip() if isinstance(formula, str) else None, related)


def glossary_from_dict(d: object, where: str = "glossary.json", *, complete: bool = True) -> Glossary:
    """The glossary in ``d`` (``{"version", "terms"}``). ``complete``: the shipped glossary's
    rules too (at least ``MIN_TERMS`` terms and every id in ``REQUIRED_TERMS``)."""
    o = _obj(d, where)
    version = _int(o, "version", where, lo=1, hi=2**31 - 1)
    terms = tuple(term_from_dict(t, f"{where}: terms[{i}]") for i, t in enumerate(_list(o, "terms", where)))
    _unique((t.id for t in terms), where, "term id")
    by_id = {t.id: t for t in terms}
    for t in terms:
        for r in t.related:
            if r not in by_id:
                raise _fail(f"{where}: {t.id}.related", f"{r!r} is not a term of the glossary")
    if complete:
        if len(terms) < MIN_TERMS:
            raise _fail(where, f"has {len(terms)} terms; the glossary needs at least {MIN_TERMS}")
        missing = [r for r in REQUIRED_TERMS if r not in by_id]
        if missing:
            raise _fail(where, f"the app links these ids and they are missing: {', '.join(missing)}")
    return Glossary(version, terms, by_id)


# ---------------------------------------------------------------------------------- courses


def _question(d: object, where: str) -> Question:
    o = _obj(d, where)
    qid = _ident(o.get("id"), f"{where}.id", _LOCAL_ID)
    kind = _str(o, "kind", where)
    if kind not in QUESTION_KINDS:
        raise _fail(f"{where}.kind", f"{kind!r} is not one of {', '.join(QUESTION_KINDS)}")
    choices = []
    for i, c in enumerate(_list(o, "choices", where)):
        cw = f"{where}.choices[{i}]"
        co = _obj(c, cw)
        correct = co.get("correct")
        if not isinstance(correct, bool):
            raise _fail(f"{cw}.correct", "must be true or false")
        choices.append(Choice(_ident(co.get("id"), f"{cw}.id", _LOCAL_ID), _str(co, "text", cw, limit=2000), correct,
                              _str(co, "explanation", cw, limit=4000)))
    if len(choices) < 2:
        raise _fail(where, "a question needs at least two choices")
    _unique((c.id for c in choices), where, "choice id")
    n_correct = sum(c.correct for c in choices)
    if kind == "single" and n_correct != 1:
        raise _fail(where, f'a "single" question needs exactly one correct choice, not {n_correct}')
    if n_correct < 1:
        raise _fail(where, "a question needs at least one correct choice")
    return Question(qid, kind, _str(o, "text", where, limit=4000), tuple(choices))


def _params(check: str, d: object, where: str) -> dict[str, Any]:
    if d is None:
        d = {}
    o = _obj(d, where)
    for key in CHECKS[check]:
        if key not in o:
            raise _fail(where, f"the {check!r} check needs {key!r}")
    for k, v in o.items():
        if not isinstance(v, (str, int, float)) or isinstance(v, bool):
            raise _fail(f"{where}.{k}", "must be a text or a number")
    return dict(o)


def material_from_dict(d: object, where: str, folder: Path | None = None, *, body: str | None = None) -> Material:
    """One material; an article's markdown comes from ``folder / file`` (or ``body`` / the
    dict's own ``body`` when the content came from the service)."""
    o = _obj(d, where)
    mid = _ident(o.get("id"), f"{where}.id", _LOCAL_ID)
    kind = _str(o, "kind", where)
    if kind not in MATERIAL_KINDS:
        raise _fail(f"{where}.kind", f"{kind!r} is not one of {', '.join(MATERIAL_KINDS)}")
    title = _str(o, "title", where, limit=200)
    minutes = _int(o, "minutes", where, default=0, hi=600)
    terms = tuple(_ident(t, f"{where}.terms[{i}]") for i, t in enumerate(_list(o, "terms", where, required=False)))
    if kind == "article":
        file = _str(o, "file", where, limit=200)
        text = body if body is not None else o.get("body")
        if text is None:
            if folder is None:
                raise _fail(f"{where}.body", "an article from the service must carry its markdown")
            path = (folder / file).resolve()
            if folder.resolve() not in path.parents or path.suffix != ".md":
                raise _fail(f"{where}.file", f"{file!r} must be a .md file inside the course folder")
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise _fail(f"{where}.file", f"cannot read {file!r}: {exc.strerror or exc}") from None
        if not isinstance(text, str) or not text.strip():
            raise _fail(f"{where}.file", f"{file!r} is empty")
        if len(text) > 200_000:
            raise _fail(f"{where}.file", f"{file!r} is longer than 200,000 characters")
        return Material(mid, kind, title, minutes, terms, file=file, body=text)
    if kind == "video":
        url = _str(o, "url", where, limit=2000)
        if not url.startswith("https://"):
            raise _fail(f"{where}.url", "a video link must be an https:// address")
        return Material(mid, kind, title, minutes, terms, url=url)
    if kind == "quiz":
        pm = o.get("pass_mark")
        if isinstance(pm, bool) or not isinstance(pm, (int, float)) or not 0 < pm <= 1:
            raise _fail(f"{where}.pass_mark", "must be a number above 0 and at most 1 (0.7 = 70 %)")
        questions = tuple(_question(q, f"{where}.questions[{i}]") for i, q in enumerate(_list(o, "questions", where)))
        if not questions:
            raise _fail(where, "a quiz needs at least one question")
        _unique((q.id for q in questions), where, "question id")
        return Material(mid, kind, title, minutes, terms, pass_mark=float(pm), questions=questions)
    check = _str(o, "check", where)
    if check not in CHECKS:
        raise _fail(f"{where}.check", f"{check!r} is not one of {', '.join(CHECKS)}")
    return Material(mid, kind, title, minutes, terms, instructions=_str(o, "instructions", where),
                    check=check, params=_params(check, o.get("params"), f"{where}.params"))


def course_from_dict(d: object, where: str = "course.json", folder: Path | None = None) -> Course:
    o = _obj(d, where)
    cid = _ident(o.get("id"), f"{where}.id")
    level = _str(o, "level", where)
    if level not in LEVELS:
        raise _fail(f"{where}.level", f"{level!r} is not one of {', '.join(LEVELS)}")
    sections = []
    for i, s in enumerate(_list(o, "sections", where)):
        sw = f"{where}: sections[{i}]"
        so = _obj(s, sw)
        mats = tuple(material_from_dict(m, f"{sw}.materials[{j}]", folder)
                     for j, m in enumerate(_list(so, "materials", sw)))
        if not mats:
            raise _fail(sw, "a section needs at least one material")
        sections.append(Section(_ident(so.get("id"), f"{sw}.id", _LOCAL_ID), _str(so, "title", sw, limit=200), mats))
    if not sections:
        raise _fail(where, "a course needs at least one section")
    _unique((s.id for s in sections), where, "section id")
    _unique((m.id for s in sections for m in s.materials), where, "material id")
    return Course(cid, _int(o, "version", where, lo=1, hi=2**31 - 1), _str(o, "title", where, limit=200), level,
                  _str(o, "summary", where, limit=2000), _int(o, "minutes", where, default=0), tuple(sections))


def material_to_dict(m: Material, *, answers: bool = True) -> dict[str, Any]:
    """JSON form of ``m``; an article carries its markdown as ``body``. ``answers=False``
    leaves out which choices are correct and the explanations (what the service shows
    before a quiz is submitted)."""
    d: dict[str, Any] = {"id": m.id, "kind": m.kind, "title": m.title, "minutes": m.minutes}
    if m.terms:
        d["terms"] = list(m.terms)
    if m.kind == "article":
        d.update(file=m.file, body=m.body)
    elif m.kind == "video":
        d["url"] = m.url
    elif m.kind == "quiz":
        d["pass_mark"] = m.pass_mark
        d["questions"] = [{"id": q.id, "kind": q.kind, "text": q.text, "choices": [
            ({"id": c.id, "text": c.text, "correct": c.correct, "explanation": c.explanation} if answers
             else {"id": c.id, "text": c.text}) for c in q.choices]} for q in m.questions]
    else:
        d.update(instructions=m.instructions, check=m.check, params=dict(m.params))
    return d


def course_to_dict(c: Course, *, answers: bool = True) -> dict[str, Any]:
    return {"id": c.id, "version": c.version, "title": c.title, "level": c.level, "summary": c.summary,
            "minutes": c.minutes, "sections": [
                {"id": s.id, "title": s.title, "materials": [material_to_dict(m, answers=answers) for m in s.materials]}
                for s in c.sections]}


# ---------------------------------------------------------------------------------- tours


def tours_from_dict(d: object, where: str = "tours.json") -> tuple[int, tuple[Tour, ...]]:
    o = _obj(d, where)
    version = _int(o, "version", where, lo=1, hi=2**31 - 1)
    tours = []
    for i, t in enumerate(_list(o, "tours", where)):
        tw = f"{where}: tours[{i}]"
        to = _obj(t, tw)
        steps = tuple(TourStep(_ident(_obj(s, f"{tw}.steps[{j}]").get("target"), f"{tw}.steps[{j}].target",
                                      re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,80}$")),
                               _str(s, "title", f"{tw}.steps[{j}]", limit=200),
                               _str(s, "text", f"{tw}.steps[{j}]", limit=2000))
                      for j, s in enumerate(_list(to, "steps", tw)))
        if not steps:
            raise _fail(tw, "a tour needs at least one step")
        tours.append(Tour(_ident(to.get("id"), f"{tw}.id"), _str(to, "title", tw, limit=200), steps))
    _unique((t.id for t in tours), where, "tour id")
    return version, tuple(tours)


def tours_to_dict(version: int, tours: Sequence[Tour]) -> dict[str, Any]:
    return {"version": version, "tours": [{"id": t.id, "title": t.title, "steps": [
        {"target": s.target, "title": s.title, "text": s.text} for s in t.steps]} for t in tours]}


# ---------------------------------------------------------------------------------- files


def _read_json(path: Path, where: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ContentError(f"{where}: cannot be read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContentError(f"{where}: is not valid JSON: {exc}") from None


def load_glossary(root: Path = CONTENT_DIR, *, complete: bool = True) -> Glossary:
    return glossary_from_dict(_read_json(root / "glossary.json", "glossary.json"), complete=complete)


def load_course(folder: Path) -> Course:
    where = f"courses/{folder.name}/course.json"
    course = course_from_dict(_read_json(folder / "course.json", where), where, folder)
    if course.id != folder.name:
        raise ContentError(f"{where}.id: {course.id!r} must be the folder's name {folder.name!r}")
    return course


def learning_order(courses: Iterable[Course]) -> tuple[Course, ...]:
    """Courses in the order a learner takes them: beginner first, then by title."""
    return tuple(sorted(courses, key=lambda c: (LEVELS.index(c.level), c.title.lower(), c.id)))


def load_courses(root: Path = CONTENT_DIR) -> tuple[Course, ...]:
    folder = root / "courses"
    if not folder.is_dir():
        return ()
    return learning_order(load_course(p) for p in sorted(folder.iterdir()) if (p / "course.json").is_file())


def load_tours(root: Path = CONTENT_DIR) -> tuple[int, tuple[Tour, ...]]:
    path = root / "tours.json"
    if not path.is_file():
        return 1, ()
    return tours_from_dict(_read_json(path, "tours.json"))


def load_content(root: Path = CONTENT_DIR, *, complete: bool = True) -> Content:
    """Glossary, courses and tours under ``root``; every term a material names must exist.
    Raises ``ContentError``."""
    glossary = load_glossary(root, complete=complete)
    courses = load_courses(root)
    _unique((c.id for c in courses), "courses", "course id")
    for c in courses:
        for m in c.materials():
            for t in m.terms:
                if glossary.get(t) is None:
                    raise ContentError(f"courses/{c.id}/course.json: {m.id}.terms: {t!r} is not a glossary term")
    return Content(glossary, courses, load_tours(root)[1])
