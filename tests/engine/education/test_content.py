"""Education content: the loader refuses what breaks the format (with the place named), the
quiz is scored on answers, the glossary searches (engine/education)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from engine.education import content as ec
from engine.education.glossary import lookup, search
from engine.education.quiz import QuizError, score_quiz

HERE = Path(__file__).parent / "content"


def _course() -> dict:
    return json.loads((HERE / "courses" / "mini-course" / "course.json").read_text())


def test_the_fixture_content_loads_with_bodies_and_terms():
    content = ec.load_content(HERE, complete=False)
    course = content.course("mini-course")
    assert course is not None and [s.id for s in course.sections] == ["candles", "practice"]
    article = course.material("candles-article")
    assert article is not None and "**candle**" in article.body and article.terms == ("candlestick",)
    quiz = course.material("candles-quiz")
    assert quiz is not None and quiz.questions[0].correct_ids == {"a"}
    assert course.material("bracket-exercise").params["stop_pct"] == 2.0


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["sections"][0]["materials"][2]["questions"][0]["choices"][1].update(correct=True),
     'a "single" question needs exactly one correct choice, not 2'),
    (lambda d: d["sections"][0]["materials"][2]["questions"][1]["choices"][0].pop("explanation"),
     "questions[1].choices[0].explanation: must be a non-empty text"),
    (lambda d: d["sections"][0]["materials"][2]["questions"][0]["choices"].pop(),
     "a question needs at least two choices"),
    (lambda d: d["sections"][1]["materials"][0].update(check="place_order"), "'place_order' is not one of"),
    (lambda d: d["sections"][1]["materials"][1]["params"].pop("stop_pct"), "the 'bracket_order' check needs 'stop_pct'"),
    (lambda d: d["sections"][1]["materials"][0].update(id="candles-quiz"), "material id 'candles-quiz' appears twice"),
    (lambda d: d["sections"][0]["materials"][1].update(url="http://example.com"), "must be an https:// address"),
    (lambda d: d["sections"][0]["materials"][0].update(file="../../glossary.json"), "must be a .md file inside"),
    (lambda d: d["sections"][0]["materials"][2].update(pass_mark=70), "pass_mark: must be a number above 0"),
])
def test_a_broken_course_is_refused_with_the_place_named(tmp_path, edit, message):
    d = copy.deepcopy(_course())
    edit(d)
    folder = tmp_path / "mini-course"
    folder.mkdir()
    (folder / "candles.md").write_text("# x\n")
    (folder / "course.json").write_text(json.dumps(d))
    with pytest.raises(ec.ContentError) as info:
        ec.load_course(folder)
    assert message in str(info.value)
    assert "courses/mini-course/course.json" in str(info.value)


def test_glossary_rules():
    g = json.loads((HERE / "glossary.json").read_text())
    ec.glossary_from_dict(g, complete=False)
    with pytest.raises(ec.ContentError, match="has 4 terms; the glossary needs at least 200"):
        ec.glossary_from_dict(g)
    bad = copy.deepcopy(g)
    bad["terms"][0]["related"] = ["no-such-term"]
    with pytest.raises(ec.ContentError, match="'no-such-term' is not a term of the glossary"):
        ec.glossary_from_dict(bad, complete=False)
    bad = copy.deepcopy(g)
    bad["terms"][2]["id"] = "sharpe-ratio"
    with pytest.raises(ec.ContentError, match="term id 'sharpe-ratio' appears twice"):
        ec.glossary_from_dict(bad, complete=False)
    bad = copy.deepcopy(g)
    bad["terms"][2]["definition"] = "  "
    with pytest.raises(ec.ContentError, match="definition: must be a non-empty text"):
        ec.glossary_from_dict(bad, complete=False)
    bad = copy.deepcopy(g)
    bad["terms"][2]["id"] = "Candle Stick"
    with pytest.raises(ec.ContentError, match="is not a valid id"):
        ec.glossary_from_dict(bad, complete=False)


def test_a_material_naming_an_unknown_term_is_refused(tmp_path):
    import shutil

    shutil.copytree(HERE, tmp_path / "c")
    path = tmp_path / "c" / "courses" / "mini-course" / "course.json"
    d = json.loads(path.read_text())
    d["sections"][0]["materials"][0]["terms"] = ["heikin-ashi"]
    path.write_text(json.dumps(d))
    with pytest.raises(ec.ContentError, match="'heikin-ashi' is not a glossary term"):
        ec.load_content(tmp_path / "c", complete=False)


def test_quiz_scoring_whole_questions_no_partial_credit():
    quiz = ec.load_content(HERE, complete=False).course("mini-course").material("candles-quiz")
    r = score_quiz(quiz, {"q1": ["a"], "q2": ["a", "b"]})
    assert (r.score, r.passed) == (1.0, True)
    r = score_quiz(quiz, {"q1": ["a"], "q2": ["a", "b", "c"]})  # ticking every box is wrong
    assert (r.score, r.passed) == (0.5, True) and not r.questions[1].correct
    assert r.questions[1].explanations["c"] == "Quotes are not part of a bar."
    r = score_quiz(quiz, {"q2": ["a"]})  # unanswered and partial: both wrong
    assert (r.score, r.passed) == (0.0, False)
    with pytest.raises(QuizError, match="takes one choice"):
        score_quiz(quiz, {"q1": ["a", "b"]})
    with pytest.raises(QuizError, match="no choice 'z'"):
        score_quiz(quiz, {"q1": ["z"]})
    with pytest.raises(QuizError, match="no question 'q9'"):
        score_quiz(quiz, {"q9": ["a"]})


def test_glossary_search_and_lookup():
    g = ec.load_glossary(HERE, complete=False)
    assert search(g, "sharpe")[0].id == "sharpe-ratio"
    assert search(g, "candle")[0].id == "candlestick"  # an alias, exactly
    assert [t.id for t in search(g, "vol")][:1] == ["volatility"]
    assert search(g, "qqqzz") == []
    assert lookup(g, "Sharpe").id == "sharpe-ratio" and lookup(g, "stop-order").id == "stop-order"
    assert lookup(g, "nothing") is None
