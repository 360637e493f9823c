"""The content the app ships (resources/education, written on h-content): it loads under the
format's every rule, the glossary has ≥ 200 unique terms with definitions, every term the app
links resolves, every exercise names a checker, and the tours are the four the app offers."""
from __future__ import annotations

from engine.education import content as ec
from engine.education.exercises import CHECKERS


def test_the_shipped_content_loads_completely():
    c = ec.load_content()  # complete=True: ≥ 200 terms, every REQUIRED_TERMS id
    assert len(c.glossary) >= ec.MIN_TERMS
    ids = [t.id for t in c.glossary.terms]
    assert len(ids) == len(set(ids))
    assert all(t.definition.strip() for t in c.glossary.terms)
    assert {"reading-a-chart", "orders-and-risk", "indicators-and-scanning"} <= {x.id for x in c.courses}
    levels = [ec.LEVELS.index(x.level) for x in c.courses]
    assert levels == sorted(levels) and c.courses[0].id == "reading-a-chart"  # learning order
    for course in c.courses:
        assert len(course.sections) >= 3, course.id
        kinds = [m.kind for m in course.materials()]
        assert kinds.count("exercise") >= 2 and "quiz" in kinds, course.id
        for m in course.materials():
            if m.kind == "exercise":
                assert m.check in CHECKERS
    assert {t.id for t in c.tours} == {"first-start", "order-ticket", "scanner", "chart-drawing"}


def test_every_term_the_app_links_resolves():
    from engine.education.glossary import METRIC_TERMS

    g = ec.load_glossary()
    assert [t for t in sorted(set(METRIC_TERMS.values()) | set(ec.REQUIRED_TERMS)) if g.get(t) is None] == []
