"""The Updates feature in a running workstation: Help → Check for updates, the worker check
against a repository on 127.0.0.1, the dialog with the release notes, staging, the install at
the next start and the security log entry; a refused update is logged and nothing staged."""
from __future__ import annotations

import json
import tarfile

import pytest
from PySide6.QtWidgets import QApplication

from engine.updates import repository as R
from tests.engine.updates.conftest import Repo, make_bundle, serve  # noqa: F401  (the fixture)


@pytest.fixture
def update_repo(tmp_path, serve, monkeypatch):  # noqa: F811
    monkeypatch.setenv(R.PASSPHRASE_ENV, "a test passphrase, not a real one")
    monkeypatch.setenv("STOCKSCANNER_INSTALL_ROOT", str(tmp_path / "install"))
    url, handler = serve(tmp_path / "published")
    r = Repo(tmp_path, url, handler)
    R.init(r.ws, r.keys)
    r.release("1.1.0", notes="Faster charts\nOption chains for ETFs")
    monkeypatch.setattr("app.features.updates.bundled_root", lambda: r.root_v1)
    monkeypatch.setattr("app.features.updates.running_version", lambda: "1.0.0")
    from engine.updates.install import Installation

    src = tmp_path / "v100"
    with tarfile.open(make_bundle(tmp_path / "b0", "1.0.0")) as t:
        t.extractall(src, filter="data")
    Installation(tmp_path / "install").adopt("1.0.0", src)
    return r


def _dialog():
    from widgets.updates import UpdateDialog

    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, UpdateDialog) and w.isVisible()), None)


def test_check_asks_with_notes_then_installs_at_next_start(update_repo, ws, qtbot, tmp_path):
    from app.features.updates import URL_KEY, UpdateService

    from PySide6.QtGui import QAction

    assert any(a.text() == "Check for &updates…" for a in ws.window.findChildren(QAction))
    ws.ctx.settings.set(URL_KEY, update_repo.url)
    svc = ws.ctx.service(UpdateService)
    assert svc.check(interactive=False)
    qtbot.waitUntil(lambda: _dialog() is not None, timeout=20000)
    dlg = _dialog()
    from PySide6.QtWidgets import QLabel

    heading = dlg.findChild(QLabel, "updateHeading")
    assert heading.text() == "Stock Scanner 1.1.0 is available. You have 1.0.0."
    assert "Option chains for ETFs" in dlg.notes.toPlainText()
    dlg.grab().save(str(tmp_path / "update-dialog.png"))
    dlg.install_button.click()
    pending = svc.installation.pending()
    assert pending and pending["version"] == "1.1.0"
    # the next start installs it in a worker, beside 1.0.0, and logs it
    done = []
    assert svc.apply_pending(on_done=done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=20000)
    assert done[0].ok and svc.installation.current() == "1.1.0"
    assert svc.installation.previous() == "1.0.0"
    from engine.health.metrics import SecurityLog

    log = SecurityLog(ws.ctx.kv).entries()
    assert log[-1]["kind"] == "update_install" and "installed 1.1.0" in log[-1]["detail"]


def test_refused_update_is_logged_and_nothing_staged(update_repo, ws, qtbot):
    from app.features.updates import URL_KEY, UpdateService

    ts = json.loads((update_repo.out / "metadata" / "timestamp.json").read_bytes())
    ts["signed"]["version"] += 50  # not re-signed
    update_repo.override("/metadata/timestamp.json", json.dumps(ts).encode())
    ws.ctx.settings.set(URL_KEY, update_repo.url)
    svc = ws.ctx.service(UpdateService)
    done = []
    assert svc.check(on_done=done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=20000)
    assert _dialog() is None and svc.installation.pending() is None
    from engine.health.metrics import SecurityLog

    last = SecurityLog(ws.ctx.kv).entries()[-1]
    assert last["kind"] == "update_install" and last["detail"].startswith("refused: ")
    assert svc.installation.current() == "1.0.0"


def test_no_repository_configured_checks_nothing(ws):
    from app.features.updates import UpdateService

    svc = ws.ctx.service(UpdateService)
    assert not svc.check(interactive=False)
    assert "No update repository" in svc.last_message


def test_automatic_check_follows_the_setting(update_repo, ws, qtbot):
    from app.features.updates import AUTO_KEY, URL_KEY, UpdateService

    svc = ws.ctx.service(UpdateService)
    assert svc.timer.isActive() and svc.timer.interval() == 24 * 3600 * 1000
    ws.ctx.settings.set(URL_KEY, update_repo.url)
    ws.ctx.settings.set(AUTO_KEY, False)
    svc._auto_check()
    assert not svc.checking
    ws.ctx.settings.set(AUTO_KEY, True)
    svc._auto_check()
    assert svc.checking
    qtbot.waitUntil(lambda: _dialog() is not None, timeout=20000)
    _dialog().later_button.click()
    assert svc.installation.pending() is None  # "Later" stages nothing
