"""The education endpoints on both databases: content seeded from files (idempotent by version),
quizzes scored by the service (a client's score is refused), progress, glossary, tours, the
content pull cursor and admin edits."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

CONTENT = Path(__file__).resolve().parent.parent / "engine" / "education" / "content"
QUIZ = "/education/courses/mini-course/quizzes/candles-quiz/submit"


@pytest.fixture
def edu(service: Any, tmp_path: Path) -> Any:
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    service.app.state.education_root = root
    service.root = root
    return service


def test_courses_detail_hides_answers_until_submitted(edu: Any) -> None:
    h = edu.user("learner@example.com")
    courses = edu.client.get("/education/courses", headers=h).json()
    assert [(c["id"], c["sections"], c["materials"], c["enrolled"]) for c in courses] == [("mini-course", 2, 5, False)]
    detail = edu.client.get("/education/courses/mini-course", headers=h).json()
    quiz = detail["sections"][0]["materials"][2]
    assert quiz["kind"] == "quiz" and "correct" not in json.dumps(quiz) and "explanation" not in json.dumps(quiz)
    assert "**candle**" in detail["sections"][0]["materials"][0]["body"]
    sections = edu.client.get("/education/courses/mini-course/sections", headers=h).json()
    assert [m["id"] for m in sections[1]["materials"]] == ["tf-exercise", "bracket-exercise"]
    m = edu.client.get("/education/courses/mini-course/materials/bracket-exercise", headers=h).json()
    assert m["check"] == "bracket_order" and m["params"]["stop_pct"] == 2.0
    assert edu.client.get("/education/courses/nope", headers=h).status_code == 404
    assert edu.client.get("/education/courses/mini-course/materials/nope", headers=h).status_code == 404
    r = edu.client.post("/education/courses/mini-course/enroll", headers=h)
    assert r.status_code == 200 and edu.client.post("/education/courses/mini-course/enroll", headers=h).json() == r.json()
    assert edu.client.get("/education/courses", headers=h).json()[0]["enrolled"] is True


def test_the_quiz_is_scored_by_the_service_and_a_posted_score_is_refused(edu: Any) -> None:
    h = edu.user("learner@example.com")
    r = edu.client.post(QUIZ, headers=h, json={"answers": {"q1": ["b"]}, "score": 1.0, "passed": True})
    assert r.status_code == 422  # a client cannot send its own score
    r = edu.client.put("/education/progress/mini-course/candles-quiz", headers=h, json={"kind": "quiz"})
    assert r.status_code == 422  # nor mark a quiz done through progress
    r = edu.client.post(QUIZ, headers=h, json={"answers": {"q1": ["b"], "q2": ["a", "b", "c"]}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["score"], body["passed"], body["attempts"]) == (0.0, False, 1)
    assert body["questions"][0]["correct_choices"] == ["a"]
    assert body["questions"][0]["explanations"]["b"] == "That is the whole candle, wicks included."
    r = edu.client.post(QUIZ, headers=h, json={"answers": {"q1": ["a"], "q2": ["a", "b"]}})
    assert (r.json()["score"], r.json()["passed"], r.json()["attempts"]) == (1.0, True, 2)
    progress = edu.client.get("/education/progress", headers=h).json()
    assert [(p["material_id"], p["kind"], p["score"], p["passed"]) for p in progress] == \
        [("candles-quiz", "quiz", 1.0, True)]
    assert edu.client.post(QUIZ, headers=h, json={"answers": {"q1": ["a", "b"]}}).status_code == 422
    assert edu.client.post(QUIZ, headers=h, json={"answers": {"q7": ["a"]}}).status_code == 422
    r = edu.client.post("/education/courses/mini-course/quizzes/candles-article/submit", headers=h, json={"answers": {}})
    assert r.status_code == 422


def test_progress_read_and_exercise(edu: Any) -> None:
    h = edu.user("learner@example.com")
    ok = edu.client.put("/education/progress/mini-course/candles-article", headers=h, json={"kind": "read"})
    assert ok.status_code == 200 and ok.json()["done"] is True
    again = edu.client.put("/education/progress/mini-course/candles-article", headers=h, json={"kind": "read"})
    assert again.json() == ok.json()  # idempotent: a retry from the outbox changes nothing
    assert edu.client.put("/education/progress/mini-course/candles-article", headers=h,
                          json={"kind": "exercise"}).status_code == 422
    assert edu.client.put("/education/progress/mini-course/tf-exercise", headers=h,
                          json={"kind": "exercise"}).status_code == 200
    other = edu.user("other@example.com")
    assert edu.client.get("/education/progress", headers=other).json() == []


def test_glossary_and_tours(edu: Any) -> None:
    h = edu.user("learner@example.com")
    assert edu.client.get("/education/glossary", headers=h, params={"q": "sharpe"}).json()[0]["id"] == "sharpe-ratio"
    assert len(edu.client.get("/education/glossary", headers=h).json()) == 4
    assert edu.client.get("/education/glossary/volatility", headers=h).json()["category"] == "risk"
    assert edu.client.get("/education/glossary/nope", headers=h).status_code == 404
    tours = edu.client.get("/education/tutorials", headers=h).json()
    assert [(t["id"], t["seen"]) for t in tours] == [("first-start", False)]
    assert edu.client.put("/education/tutorials/first-start/seen", headers=h).status_code == 200
    assert edu.client.get("/education/tutorials", headers=h).json()[0]["seen"] is True
    assert edu.client.put("/education/tutorials/nope/seen", headers=h).status_code == 404


def test_content_pull_cursor_admin_edits_and_seeding_by_version(edu: Any) -> None:
    from server.routers.education import seed

    h = edu.user("learner@example.com")
    page = edu.client.get("/education/content", headers=h).json()
    assert sorted((i["kind"], i["key"]) for i in page["items"])[:2] == [("course", "mini-course"), ("term", "candlestick")]
    assert len(page["items"]) == 6 and page["more"] is False
    cursor = page["cursor"]
    assert edu.client.get("/education/content", headers=h, params=cursor).json()["items"] == []
    with edu.db() as db:
        assert seed(db, edu.root) == 0  # idempotent: nothing newer shipped
    # an admin edits a term: refused for a user, validated, then pulled after the cursor
    term = edu.client.get("/education/glossary/volatility", headers=h).json()
    term["definition"] = "How much returns swing: the standard deviation of returns, annualised."
    assert edu.client.put("/admin/education/glossary/volatility", headers=h, json=term).status_code == 403
    edu.register("admin@example.com")
    edu.make_admin("admin@example.com")
    admin = {"Authorization": f"Bearer {edu.login('admin@example.com')['access_token']}"}
    bad = dict(term, related=["no-such-term"])
    assert edu.client.put("/admin/education/glossary/volatility", headers=admin, json=bad).status_code == 422
    r = edu.client.put("/admin/education/glossary/volatility", headers=admin, json=term)
    assert r.status_code == 200 and r.json()["version"] == 2
    new = edu.client.get("/education/content", headers=h, params=cursor).json()["items"]
    assert [(i["key"], i["version"], i["data"]["definition"]) for i in new] == [("volatility", 2, term["definition"])]
    course = json.loads((edu.root / "courses" / "mini-course" / "course.json").read_text())
    course["sections"][0]["materials"][0]["body"] = "# Edited\n"
    course["sections"][0]["materials"][2]["questions"][0]["choices"][1]["correct"] = True  # two correct: refused
    assert edu.client.put("/admin/education/courses/mini-course", headers=admin, json=course).status_code == 422
    course["sections"][0]["materials"][2]["questions"][0]["choices"][1]["correct"] = False
    assert edu.client.put("/admin/education/courses/mini-course", headers=admin, json=course).status_code == 200
    full = edu.client.get("/admin/education/courses/mini-course", headers=admin).json()
    assert full["version"] == 2 and full["data"]["sections"][0]["materials"][2]["questions"][0]["choices"][0]["correct"]
    assert edu.client.get("/admin/education/courses/mini-course", headers=h).status_code == 403
    assert edu.client.get("/education/courses/mini-course", headers=h).json()["sections"][0]["materials"][0]["body"] == "# Edited\n"
    # a newer shipped version replaces the row at the next seed
    path = edu.root / "courses" / "mini-course" / "course.json"
    shipped = json.loads(path.read_text())
    shipped["version"] = 5
    path.write_text(json.dumps(shipped))
    with edu.db() as db:
        assert seed(db, edu.root) == 1
    assert "**candle**" in edu.client.get("/education/courses/mini-course", headers=h).json()["sections"][0]["materials"][0]["body"]
