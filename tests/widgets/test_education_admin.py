"""The education admin page against a real service on loopback: an admin loads the list,
opens a term, a broken edit is refused locally, a good one is saved (version 2) and served;
a user who is not an admin gets the service's refusal."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import update

from server.models import User
from sync import education as se
from sync.client import ServiceClient, make_session
from sync.tokens import KeyringTokenStore
from tests.sync.conftest import PASSWORD, LoopbackService
from widgets.education.admin import EducationAdminDialog

CONTENT = Path(__file__).resolve().parent.parent / "engine" / "education" / "content"


def _now(fn: Any, ok: Any, err: Any) -> None:
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 - the dialog shows it
        err(exc)
    else:
        ok(result)


def _client(svc: LoopbackService, email: str, admin: bool) -> ServiceClient:
    c = ServiceClient(svc.url, KeyringTokenStore(svc.url + email), session=make_session(retries=1, backoff_s=0.01))
    c.register(email, PASSWORD)
    if admin:
        with svc.db() as db:
            db.execute(update(User).where(User.email == email).values(role="admin"))
            db.commit()
    c.login(email, PASSWORD)
    return c


def _dialog(c: ServiceClient) -> EducationAdminDialog:
    return EducationAdminDialog(_now, lambda: se.admin_list(c), lambda k, key: se.admin_get(c, k, key),
                                lambda k, key, d: se.admin_put(c, k, key, d))


def test_admin_page_edits_a_term_on_the_service(tmp_path: Any, qtbot: Any, memory_keyring: Any) -> None:
    shutil.copytree(CONTENT, tmp_path / "content")
    svc = LoopbackService(tmp_path)
    svc.app.state.education_root = tmp_path / "content"
    svc.start()
    try:
        admin = _client(svc, "admin@example.com", True)
        d = _dialog(admin)
        qtbot.addWidget(d)
        keys = [d.items.item(i).text() for i in range(d.items.count())]
        assert "Course: mini-course" in keys and "Term: volatility" in keys
        d.items.setCurrentRow(keys.index("Term: volatility"))
        assert '"category": "risk"' in d.editor.toPlainText()
        d.editor.setPlainText(d.editor.toPlainText().replace('"definition": "', '"definition": "  ').replace(
            '"risk"', '"no-such-category"'))
        assert not d.check() and "no-such-category" in d.status.text()
        d.items.setCurrentRow(keys.index("Term: volatility"))
        d.open_item("term", "volatility")
        d.editor.setPlainText(d.editor.toPlainText().replace("How widely returns swing", "How far returns swing"))
        d.save()
        assert "version 2" in d.status.text()
        assert se.admin_get(admin, "term", "volatility")["definition"].startswith("How far returns swing")
        d.open_item("course", "mini-course")
        assert '"correct": true' in d.editor.toPlainText()  # the admin sees the answers
        user = _client(svc, "user@example.com", False)
        d2 = _dialog(user)
        qtbot.addWidget(d2)
        d2.open_item("course", "mini-course")
        assert "admin role" in d2.status.text()
    finally:
        svc.stop()
        svc.app.state.engine.dispose()
