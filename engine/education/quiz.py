"""Quiz scoring: one pure function, used by the service (the score of record) and by the app
to show explanations. A submission is the chosen choice ids per question; the score is the
share of questions answered exactly right (a "multiple" question counts only when the chosen
set equals the correct set: no partial credit, so ticking every box never scores)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.education.content import Material


class QuizError(ValueError):
    """A submission that does not fit the quiz (unknown question or choice, two choices for a
    single-choice question); the message says which."""


@dataclass(frozen=True, slots=True)
class QuestionResult:
    question_id: str
    correct: bool
    chosen: tuple[str, ...]
    correct_choices: tuple[str, ...]
    #: choice id -> its explanation, for every choice (shown after submission)
    explanations: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class QuizResult:
    material_id: str
    score: float  # 0..1
    passed: bool
    questions: tuple[QuestionResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"material_id": self.material_id, "score": self.score, "passed": self.passed,
                "questions": [{"question_id": q.question_id, "correct": q.correct, "chosen": list(q.chosen),
                               "correct_choices": list(q.correct_choices), "explanations": dict(q.explanations)}
                              for q in self.questions]}


def score_quiz(quiz: Material, answers: Mapping[str, Sequence[str]]) -> QuizResult:
    """Score ``answers`` (question id -> chosen choice ids) against ``quiz``. An unanswered
    question counts as wrong. Raises ``QuizError`` for a material that is not a quiz, an
    unknown question or choice id, or more than one choice on a "single" question."""
    if quiz.kind != "quiz":
        raise QuizError(f"{quiz.id!r} is not a quiz")
    known = {q.id: q for q in quiz.questions}
    for qid, chosen in answers.items():
        q = known.get(qid)
        if q is None:
            raise QuizError(f"the quiz has no question {qid!r}")
        if isinstance(chosen, (str, bytes)) or not all(isinstance(c, str) for c in chosen):
            raise QuizError(f"question {qid!r}: the answer must be a list of choice ids")
        ids = {c.id for c in q.choices}
        bad = [c for c in chosen if c not in ids]
        if bad:
            raise QuizError(f"question {qid!r} has no choice {bad[0]!r}")
        if q.kind == "single" and len(set(chosen)) > 1:
            raise QuizError(f"question {qid!r} takes one choice")
    results = []
    for q in quiz.questions:
        chosen = tuple(sorted(set(answers.get(q.id, ()))))
        correct = tuple(sorted(q.correct_ids))
        results.append(QuestionResult(q.id, bool(chosen) and chosen == correct, chosen, correct,
                                      {c.id: c.explanation for c in q.choices}))
    right = sum(r.correct for r in results)
    score = right / len(results) if results else 0.0
    # compare in whole questions so 7/10 passes a 0.7 mark despite float rounding
    passed = right >= quiz.pass_mark * len(results) - 1e-9
    return QuizResult(quiz.id, round(score, 6), passed, tuple(results))
