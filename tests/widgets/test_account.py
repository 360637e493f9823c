"""The Account dialog and the sync indicator against a real service on loopback: sign up ->
enrol 2FA (code from pyotp) -> sign out -> sign in with TOTP -> sign out everywhere."""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest

from tests.sync.conftest import PASSWORD, LoopbackService

GRABS = os.environ.get("ACCOUNT_GRABS", "")


@pytest.fixture
def hub(loopback: LoopbackService, tmp_path: Any, memory_keyring: Any) -> Iterator[Any]:
    from engine.events import EventBus
    from engine.store import open_database
    from engine.watchlists import WatchlistService
    from sync.hub import SyncHub

    db = open_database(tmp_path / "store.sqlite3")
    bus = EventBus()
    h = SyncHub(db, bus, WatchlistService(db, bus), tmp_path, loopback.url)
    yield h
    h.close()
    db.dispose()


@pytest.fixture
def tasks(qtbot: Any) -> Iterator[Any]:
    from app.workers import TaskRunner

    runner = TaskRunner()
    yield runner
    runner.wait_all(10000)


def _grab(dialog: Any, name: str) -> None:
    if GRABS:
        dialog.resize(1280, 800)
        dialog.grab().save(os.path.join(GRABS, f"{name}.png"))


def _wait_page(qtbot: Any, dialog: Any, page: int) -> None:
    qtbot.waitUntil(lambda: dialog.stack.currentIndex() == page and dialog.stack.isEnabled(), timeout=15000)


def test_sign_up_enrol_sign_out_sign_in_with_totp_sign_out_everywhere(
        qtbot: Any, hub: Any, tasks: Any, loopback: LoopbackService) -> None:
    from widgets.account.dialog import GOOGLE_NEEDS_ID, AccountDialog

    dialog = AccountDialog(hub, tasks)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.stack.currentIndex() == dialog.SIGN_IN
    assert not dialog.google_button.isEnabled() and dialog.google_reason.text() == GOOGLE_NEEDS_ID
    _grab(dialog, "sign_in")

    dialog.email.setText("trader@example.com")
    dialog.password.setText("short")
    dialog.sign_up_button.click()
    qtbot.waitUntil(lambda: dialog.stack.isEnabled() and "password" in dialog.message.text().lower(), timeout=15000)
    assert "#ef5350" in dialog.message.styleSheet()  # the service's reason, shown as an error

    dialog.password.setText(PASSWORD)
    dialog.sign_up_button.click()
    _wait_page(qtbot, dialog, dialog.ACCOUNT)
    qtbot.waitUntil(lambda: "trader@example.com" in dialog.who.text(), timeout=15000)
    assert "is <b>off</b>" in dialog.who.text() and dialog.sessions.count() == 1

    dialog.enrol_button.click()
    _wait_page(qtbot, dialog, dialog.ENROL)
    assert not dialog.qr.pixmap().isNull() and dialog.qr.pixmap().width() >= 150
    assert dialog.enrol_secret.replace(" ", "")[:4] in dialog.secret_label.text().replace(" ", "")
    _grab(dialog, "enrol")
    dialog.enrol_code.setText(pyotp.TOTP(dialog.enrol_secret).at(time.time() - 30))
    dialog.enable_button.click()
    _wait_page(qtbot, dialog, dialog.CODES)
    codes = dialog.codes_text.toPlainText().split()
    assert len(codes) == 10 and len(set(codes)) == 10
    _grab(dialog, "backup_codes")
    dialog.copy_codes()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text().split() == codes
    saved = loopback.settings  # any path in the test folder will do
    del saved
    path = os.path.join(str(hub.folder), "codes.txt")
    dialog.save_codes(path)
    assert open(path, encoding="utf-8").read().split()[-10:] == codes
    dialog.findChild(type(dialog.enable_button), "accountCodesDone").click()
    assert dialog.codes_text.toPlainText() == ""  # shown once
    _wait_page(qtbot, dialog, dialog.ACCOUNT)
    qtbot.waitUntil(lambda: "is <b>on</b>" in dialog.who.text(), timeout=15000)
    assert not dialog.enrol_button.isVisible()

    dialog.sign_out_button.click()
    _wait_page(qtbot, dialog, dialog.SIGN_IN)
    assert hub.client.signed_in_email is None

    dialog.email.setText("trader@example.com")
    dialog.password.setText(PASSWORD)
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: dialog.otp.isVisible() and dialog.stack.isEnabled(), timeout=15000)
    assert "authenticator" in dialog.message.text()
    _grab(dialog, "sign_in_totp")
    dialog.otp.setText(pyotp.TOTP(dialog.enrol_secret).now())
    dialog.remember.setChecked(True)
    dialog.sign_in_button.click()
    _wait_page(qtbot, dialog, dialog.ACCOUNT)
    qtbot.waitUntil(lambda: dialog.devices.count() == 1 and dialog.devices.item(0).data(256) is not None,
                    timeout=15000)
    _grab(dialog, "account")

    dialog.everywhere_button.click()
    _wait_page(qtbot, dialog, dialog.SIGN_IN)
    assert hub.client.signed_in_email is None and dialog.message.text() == "Signed out."
    from sqlalchemy import select

    from server.models import SessionFamily

    with loopback.db() as db:
        families = list(db.execute(select(SessionFamily)).scalars())
    assert len(families) == 2 and all(f.revoked_at is not None for f in families)


def test_delete_needs_the_email_typed_and_deletes_the_account(qtbot: Any, hub: Any, tasks: Any) -> None:
    from widgets.account.dialog import AccountDialog

    hub.client.register("gone@example.com", PASSWORD)
    hub.client.login("gone@example.com", PASSWORD)
    dialog = AccountDialog(hub, tasks)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "gone@example.com" in dialog.who.text(), timeout=15000)
    dialog.delete_button.click()
    assert dialog.stack.currentIndex() == dialog.DELETE and not dialog.do_delete.isEnabled()
    dialog.confirm_email.setText("other@example.com")
    assert not dialog.do_delete.isEnabled()
    dialog.confirm_email.setText("Gone@example.com ")
    assert dialog.do_delete.isEnabled()
    _grab(dialog, "delete")
    dialog.delete_password.setText("wrong password 99")
    dialog.do_delete.click()
    qtbot.waitUntil(lambda: dialog.stack.isEnabled() and "password is wrong" in dialog.message.text(), timeout=15000)
    dialog.delete_password.setText(PASSWORD)
    dialog.do_delete.click()
    _wait_page(qtbot, dialog, dialog.SIGN_IN)
    assert dialog.message.text() == "Your account was deleted." and hub.client.signed_in_email is None


def test_the_indicator_shows_each_state_with_its_reason_and_last_sync(qtbot: Any) -> None:
    from sync.service import SyncStatusChanged
    from widgets.account.status import SyncStatusWidget

    w = SyncStatusWidget()
    qtbot.addWidget(w)
    w.set_status(SyncStatusChanged("pending", 3, "", 0.0))
    assert w.text() == "● Pending 3" and "never" in w.toolTip()
    w.set_status(SyncStatusChanged("offline", 2, "The service at http://x cannot be reached.", time.time()))
    assert w.text() == "● Offline · 2 pending" and "cannot be reached" in w.toolTip()
    assert "Last sync: " in w.toolTip() and "never" not in w.toolTip()
    w.set_status(SyncStatusChanged("error", 0, "The service refused a change: name: too long.", 0.0))
    assert w.text() == "● Sync error" and "too long" in w.toolTip()
    w.set_status(SyncStatusChanged("synced", 0, "", time.time()))
    assert w.text() == "● Synced"
    with qtbot.waitSignal(w.account_requested, timeout=1000):
        w.click()


def test_a_dialog_without_a_service_says_why(qtbot: Any, tmp_path: Any, memory_keyring: Any, tasks: Any) -> None:
    from engine.events import EventBus
    from engine.store import open_database
    from engine.watchlists import WatchlistService
    from sync.hub import SyncHub
    from widgets.account.dialog import AccountDialog

    db = open_database(tmp_path / "s.sqlite3")
    bus = EventBus()
    h = SyncHub(db, bus, WatchlistService(db, bus), tmp_path, "")
    dialog = AccountDialog(h, tasks)
    qtbot.addWidget(dialog)
    assert "Service URL" in dialog.message.text() and not dialog.sign_in_box.isEnabled()
    h.close()
    db.dispose()


def test_change_password_signs_out_the_other_sessions_and_keeps_this_one(qtbot: Any, hub: Any, tasks: Any,
                                                                         loopback: LoopbackService) -> None:
    from sync.client import AuthError, ServiceClient, make_session
    from sync.tokens import KeyringTokenStore
    from widgets.account.dialog import AccountDialog

    hub.client.register("pw@example.com", PASSWORD)
    hub.client.login("pw@example.com", PASSWORD)
    other = ServiceClient(loopback.url, KeyringTokenStore(loopback.url + "#other"), session=make_session(retries=0))
    other.login("pw@example.com", PASSWORD)
    dialog = AccountDialog(hub, tasks)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.sessions.count() == 2, timeout=15000)
    dialog.password_button.click()
    dialog.current_password.setText(PASSWORD)
    dialog.new_password.setText("a brand new passphrase 77")
    dialog.repeat_password.setText("a brand new passphrase 78")
    dialog.findChild(type(dialog.password_button), "accountDoChangePassword").click()
    assert dialog.message.text() == "The two new passwords differ."
    dialog.repeat_password.setText("a brand new passphrase 77")
    dialog.findChild(type(dialog.password_button), "accountDoChangePassword").click()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Password changed"), timeout=15000)
    qtbot.waitUntil(lambda: dialog.sessions.count() == 1 and dialog.stack.isEnabled(), timeout=15000)
    assert dialog.message.text().startswith("Password changed")  # still shown once the page loaded
    assert hub.client.me()["email"] == "pw@example.com"  # this machine stays signed in
    with pytest.raises(AuthError):
        other.me()  # the other one is signed out
    with pytest.raises(AuthError):
        other.login("pw@example.com", PASSWORD)


def test_google_sign_in_for_an_account_with_2fa_asks_for_the_code_and_sends_it_with_the_id_token(
        qtbot: Any, hub: Any, tasks: Any) -> None:
    """The service answers second_factor_required to a Google sign-in of a 2FA account: the
    dialog shows the code field, and the next press finishes with the ID token it already
    has and the code (no second trip to the browser)."""
    from sync.google import SecondFactorRequired
    from widgets.account.dialog import AccountDialog

    calls: list[dict[str, Any]] = []

    def google(**kw: Any) -> object:
        calls.append(kw)
        if not kw:
            raise SecondFactorRequired("verified-id-token", "This account needs its second factor.")
        return {"access_token": "a", "refresh_token": "r"}

    dialog = AccountDialog(hub, tasks, "client.apps.googleusercontent.com", google)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.google_button.isEnabled() and not dialog.otp.isVisible()
    dialog.google_button.click()
    qtbot.waitUntil(lambda: dialog.otp.isVisible() and dialog.stack.isEnabled(), timeout=15000)
    assert "two-factor" in dialog.message.text() and calls == [{}]
    _grab(dialog, "google_second_factor")
    dialog.otp.setText("123 456")
    dialog.google_button.click()
    qtbot.waitUntil(lambda: len(calls) == 2 and dialog.stack.isEnabled(), timeout=15000)
    assert calls[1] == {"id_token": "verified-id-token", "otp": "123456", "backup_code": None,
                        "remember_device": False}
    qtbot.waitUntil(lambda: not dialog.otp.isVisible(), timeout=15000)
    assert dialog._google_token == ""
    # a backup code goes as a backup code
    dialog.google_button.click()
    qtbot.waitUntil(lambda: len(calls) == 3 and dialog.otp.isVisible() and dialog.stack.isEnabled(), timeout=15000)
    dialog.otp.setText("ab12-cd34")
    dialog.google_button.click()
    qtbot.waitUntil(lambda: len(calls) == 4, timeout=15000)
    assert calls[3]["backup_code"] == "ab12-cd34" and calls[3]["otp"] is None


def test_create_account_with_a_referral_code(qtbot: Any, hub: Any, tasks: Any,
                                             loopback: LoopbackService) -> None:
    """The sign-in page's optional referral code goes with Create account; a code that is not
    letters and digits is refused in the dialog before anything is sent."""
    import requests
    from sqlalchemy import select

    from server.billing.models import Referral
    from server.models import User
    from widgets.account.dialog import AccountDialog

    requests.post(loopback.url + "/auth/register", json={"email": "ref@example.com", "password": PASSWORD},
                  timeout=10).raise_for_status()
    tok = requests.post(loopback.url + "/auth/login", json={"email": "ref@example.com", "password": PASSWORD},
                        timeout=10).json()["access_token"]
    code = requests.get(loopback.url + "/referrals/me", headers={"Authorization": f"Bearer {tok}"},
                        timeout=10).json()["code"]
    dialog = AccountDialog(hub, tasks)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.email.setText("new@example.com")
    dialog.password.setText(PASSWORD)
    dialog.referral.setText("no-such code")
    dialog.sign_up_button.click()
    assert "letters and digits" in dialog.message.text()
    dialog.referral.setText(code)
    dialog.sign_up_button.click()
    _wait_page(qtbot, dialog, dialog.ACCOUNT)
    with loopback.db() as db:
        ref_id = db.execute(select(User.id).where(User.email == "ref@example.com")).scalar_one()
        new_id = db.execute(select(User.id).where(User.email == "new@example.com")).scalar_one()
        assert [(r.referrer_id, r.referred_id) for r in db.execute(select(Referral)).scalars()] == [(ref_id, new_id)]
    assert dialog.referral.text() == ""
