"""Education progress through the outbox against a real service on loopback: recorded offline,
delivered after reconnect, the quiz scored by the service (a forged local score is replaced),
and a second machine of the same account pulls the progress and the content."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from engine.education.progress import ProgressStore
from engine.education.quiz import QuizResult
from sync.education import EducationSync
from tests.sync.conftest import PASSWORD
from tests.sync.test_outbox import Machine, _due_now

CONTENT = Path(__file__).resolve().parent.parent / "engine" / "education" / "content"


def _edu(m: Machine) -> tuple[ProgressStore, EducationSync]:
    progress = ProgressStore(m.db, m.bus)
    edu = EducationSync(progress)
    m.sync.recorders.append(edu.record)
    m.sync.pullers.append(edu.pull)
    return progress, edu


def test_progress_offline_then_delivered_and_scored_by_the_service(loopback: Any, tmp_path: Any,
                                                                    memory_keyring: Any) -> None:
    shutil.copytree(CONTENT, tmp_path / "content")
    loopback.app.state.education_root = tmp_path / "content"
    a = Machine(tmp_path / "a.sqlite3", loopback.url)
    progress, _edu_a = _edu(a)
    a.client.register("a@example.com", PASSWORD)
    a.client.login("a@example.com", PASSWORD)
    assert a.sync.sync_once().state == "synced"
    loopback.stop()
    progress.mark_read("mini-course", "candles-article")
    progress.mark_tour("first-start")
    # a forged local result: wrong answers claiming full marks
    forged = QuizResult("candles-quiz", 1.0, True, ())
    progress.record_quiz("mini-course", {"q1": ["b"], "q2": ["c"]}, forged)
    status = a.sync.sync_once()
    assert status.state == "offline" and status.pending == 4  # read, tour, quiz answers, enrollment
    loopback.start()
    _due_now(a)
    status = a.sync.sync_once()
    assert status.state == "synced", status
    quiz = progress.get("mini-course", "candles-quiz", "quiz")
    assert quiz is not None and quiz.verified and quiz.score == 0.0 and not quiz.passed  # the service's score
    assert a.outbox() == []
    assert a.sync.sync_once().state == "synced" and a.outbox() == []  # nothing is sent twice
    with a.db.connect(write=False) as c:
        kinds = sorted({r[0] for r in c.execute("SELECT kind FROM education_content")})
    assert kinds == ["course", "term", "tours"]

    b = Machine(tmp_path / "b.sqlite3", loopback.url, keyring_account="#b")
    progress_b, _edu_b = _edu(b)
    b.client.login("a@example.com", PASSWORD)
    assert b.sync.sync_once().state == "synced"
    got = {(i.course_id, i.material_id, i.kind): (i.done, i.score) for i in progress_b.items()}
    assert got == {("mini-course", "candles-article", "read"): (True, None), ("", "first-start", "tour"): (True, None),
                   ("mini-course", "candles-quiz", "quiz"): (False, 0.0)}
    assert progress_b.tours_seen() == {"first-start"}
    courses = b.client.call("GET", "/education/courses").body
    assert [(c["id"], c["enrolled"]) for c in courses] == [("mini-course", True)]
    a.close()
    b.close()
