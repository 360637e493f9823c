"""The Account dialog: sign up, sign in (password, then the TOTP step when 2FA is on; Google
when configured), 2FA enrolment with the QR code and the ten backup codes shown once, the
account page (sessions and trusted devices, each revocable), sign out everywhere, change
password, delete account (type your e-mail to confirm).

Thin view: every call goes through ``backend.client`` (the service client the app gives it) in
a worker of ``tasks``; errors come back as the service's sentence and are shown on the page.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QCheckBox, QDialog, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QPlainTextEdit, QPushButton, QStackedWidget, QVBoxLayout, QWidget,
)

log = logging.getLogger(__name__)
GOOGLE_NEEDS_ID = "Google sign-in needs a client id (Settings → Account)"


class AccountBackend(Protocol):
    """What the dialog needs from the app (``sync.hub.SyncHub``)."""

    client: Any  # sync.client.ServiceClient or None
    problem: str
    keyring_note: str

    def session_changed(self) -> None: ...


def _is_service_error(exc: BaseException) -> bool:
    return any(c.__name__ == "ServiceError" for c in type(exc).__mro__)


def qr_pixmap(uri: str, scale: int = 6) -> QPixmap:
    """The QR code of ``uri`` (segno, PNG) as a pixmap."""
    import io

    import segno

    buf = io.BytesIO()
    segno.make(uri, error="m").save(buf, kind="png", scale=scale, border=2)
    pm = QPixmap()
    pm.loadFromData(buf.getvalue(), "PNG")
    return pm


def local_time(iso: object, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO time from the service (UTC) in this machine's zone; "?" when unreadable."""
    import datetime as dt

    try:
        value = dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return "?"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone().strftime(fmt)


def _line(name: str, placeholder: str = "", password: bool = False) -> QLineEdit:
    e = QLineEdit(objectName=name)
    e.setPlaceholderText(placeholder)
    if password:
        e.setEchoMode(QLineEdit.EchoMode.Password)
    return e


def _button(text: str, name: str) -> QPushButton:
    return QPushButton(text, objectName=name)


class AccountDialog(QDialog):
    SIGN_IN, ACCOUNT, ENROL, CODES, PASSWORD, DELETE = range(6)

    def __init__(self, backend: AccountBackend, tasks: Any, google_client_id: str = "",
                 google_sign_in: Callable[..., object] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountDialog")
        self.setWindowTitle("Account")
        self.setMinimumWidth(520)
        self.backend, self.tasks = backend, tasks
        self.google_sign_in = google_sign_in if google_client_id else None
        self._google_token = ""  # a verified Google ID token waiting for the second factor
        self.me: dict[str, Any] = {}
        self.backup_codes: list[str] = []
        self.enrol_secret = ""
        self._busy_count = 0

        self.stack = QStackedWidget()
        for build in (self._build_sign_in, self._build_account, self._build_enrol, self._build_codes,
                      self._build_password, self._build_delete):
            self.stack.addWidget(build())
        self.message = QLabel("", objectName="accountMessage")
        self.message.setWordWrap(True)
        self.note = QLabel(backend.keyring_note, objectName="accountKeyringNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #9e9e9e;")
        self.note.setVisible(bool(backend.keyring_note))
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        layout.addWidget(self.message)
        layout.addWidget(self.note)
        close = _button("Close", "accountClose")
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        self.refresh()

    # --- plumbing ----------------------------------------------------------------------------

    def say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #ef5350;" if error else "")

    def _show(self, page: int) -> None:
        self.stack.setCurrentIndex(page)
        self.say("")

    def run(self, fn: Callable[[], object], done: Callable[[Any], None], label: str,
            on_error: Callable[[BaseException], bool] | None = None) -> None:
        """``fn()`` in a worker; ``done(result)`` on the GUI thread, or the error as a sentence
        (``on_error`` may take it first by returning True)."""
        def call() -> tuple[bool, object]:
            try:
                return True, fn()
            except Exception as exc:  # noqa: BLE001 - shown on the page as a sentence
                if not _is_service_error(exc):
                    log.exception("%s failed", label)
                return False, exc

        def finished(result: tuple[bool, object]) -> None:
            from shiboken6 import isValid

            if not isValid(self) or not isValid(self.stack):
                return  # the dialog was closed and deleted while the call ran
            self._set_busy(-1)
            ok, value = result
            if ok:
                if self.message.text() == progress:
                    self.say("")
                done(value)
                return
            exc = value if isinstance(value, BaseException) else RuntimeError(str(value))
            if on_error is not None and on_error(exc):
                return
            self.say(str(exc) if _is_service_error(exc) else f"{label} failed: {exc}", error=True)
            if type(exc).__name__ == "SignedOut":
                self.backend.session_changed()
                self.refresh()

        progress = f"{label}…"
        self._set_busy(+1)
        self.say(progress)
        self.tasks.submit(call, label=label, on_result=finished)

    def _set_busy(self, delta: int) -> None:
        self._busy_count = max(0, self._busy_count + delta)
        self.stack.setEnabled(self._busy_count == 0)

    @property
    def client(self) -> Any:
        return self.backend.client

    def refresh(self) -> None:
        """The sign-in page, or the account page loaded from the service."""
        client = self.client
        if client is None:
            self._show(self.SIGN_IN)
            self.sign_in_box.setEnabled(False)
            self.say(self.backend.problem or "No service is configured.", error=True)
            return
        self.sign_in_box.setEnabled(True)
        if client.signed_in_email:
            self._show(self.ACCOUNT)
            self.load_account()
        else:
            self._show(self.SIGN_IN)

    # --- sign in / sign up -------------------------------------------------------------------

    def _build_sign_in(self) -> QWidget:
        page = QWidget()
        self.sign_in_box = box = QGroupBox("Sign in to sync your watchlists across machines")
        form = QFormLayout(box)
        self.email = _line("accountEmail", "you@example.com")
        self.password = _line("accountPassword", "8 characters or more", password=True)
        self.otp = _line("accountOtp", "123456, or a backup code")
        self.otp_label = QLabel("Code")
        self.remember = QCheckBox("Trust this computer for 30 days", objectName="accountRemember")
        self.referral = _line("accountReferral", "optional: the code of whoever referred you")
        self.referral.setMaxLength(16)
        self.referral.setToolTip("Used by Create account only. Someone's referral code (Subscription → "
                                 "Referrals); it can also be applied within 30 days of signing up.")
        form.addRow("E-mail", self.email)
        form.addRow("Password", self.password)
        form.addRow(self.otp_label, self.otp)
        form.addRow("", self.remember)
        form.addRow("Referral code", self.referral)
        self.otp.hide()
        self.otp_label.hide()
        self.remember.hide()
        self.sign_in_button = _button("Sign in", "accountSignIn")
        self.sign_up_button = _button("Create account", "accountSignUp")
        self.google_button = _button("Sign in with Google", "accountGoogle")
        self.google_button.setEnabled(self.google_sign_in is not None)
        self.google_reason = QLabel("" if self.google_sign_in else GOOGLE_NEEDS_ID, objectName="accountGoogleReason")
        self.google_reason.setStyleSheet("color: #9e9e9e;")
        if self.google_sign_in is None:
            self.google_button.setToolTip(GOOGLE_NEEDS_ID)
        self.sign_in_button.clicked.connect(self.sign_in)
        self.sign_up_button.clicked.connect(self.sign_up)
        self.google_button.clicked.connect(self.sign_in_google)
        self.password.returnPressed.connect(self.sign_in)
        self.otp.returnPressed.connect(self.sign_in)
        row = QHBoxLayout()
        row.addWidget(self.sign_in_button)
        row.addWidget(self.sign_up_button)
        row.addStretch(1)
        g = QHBoxLayout()
        g.addWidget(self.google_button)
        g.addWidget(self.google_reason, 1)
        form.addRow(row)
        form.addRow(g)
        v = QVBoxLayout(page)
        v.addWidget(box)
        v.addStretch(1)
        return page

    def _credentials(self) -> tuple[str, str] | None:
        email, password = self.email.text().strip(), self.password.text()
        if "@" not in email or not password:
            self.say("Enter your e-mail and password.", error=True)
            return None
        return email, password

    def sign_in(self) -> None:
        creds = self._credentials()
        if creds is None or self.client is None:
            return
        otp, backup = self._code()
        remember = self.remember.isChecked() and self.remember.isVisible()
        client = self.client

        def second_factor(exc: BaseException) -> bool:
            if getattr(exc, "code", "") != "second_factor_required":
                return False
            for w in (self.otp, self.otp_label, self.remember):
                w.show()
            self.otp.setFocus()
            self.say("Enter the 6-digit code from your authenticator app, or one of your backup codes.")
            return True

        self.run(lambda: client.login(creds[0], creds[1], otp=otp, backup_code=backup, remember_device=remember),
                 self._signed_in, "Signing in", second_factor)

    def sign_up(self) -> None:
        creds = self._credentials()
        if creds is None or self.client is None:
            return
        client = self.client
        referral = self.referral.text().strip()
        if referral and not (referral.isascii() and referral.isalnum()):
            self.say("A referral code is letters and digits only (up to 16).", error=True)
            return

        def register_then_sign_in() -> object:
            client.register(creds[0], creds[1], referral_code=referral)
            return client.login(creds[0], creds[1])

        self.run(register_then_sign_in, self._signed_in, "Creating the account")

    def _code(self) -> tuple[str | None, str | None]:
        """(TOTP, backup code) from the code field while it is shown."""
        code = self.otp.text().strip().replace(" ", "") if self.otp.isVisible() else ""
        otp = code if code.isdigit() and len(code) == 6 else None
        return otp, (code if code and otp is None else None)

    def sign_in_google(self) -> None:
        """The browser flow; for an account with 2FA the service asks for the code, and the
        next press sends it with the ID token already obtained (no second browser trip)."""
        google = self.google_sign_in
        if google is None:
            return
        otp, backup = self._code()
        token = self._google_token
        if token and (otp or backup):
            remember = self.remember.isChecked() and self.remember.isVisible()
            call: Callable[[], object] = lambda: google(id_token=token, otp=otp, backup_code=backup,
                                                        remember_device=remember)
        else:
            call = google

        def second_factor(exc: BaseException) -> bool:
            if getattr(exc, "code", "") != "second_factor_required":
                return False
            self._google_token = str(getattr(exc, "id_token", "") or self._google_token)
            self.google_button.setDefault(True)  # Enter in the code field continues with Google
            for w in (self.otp, self.otp_label, self.remember):
                w.show()
            self.otp.setFocus()
            self.say("This account has two-factor sign-in: enter the 6-digit code from your "
                     "authenticator app (or a backup code), then press Sign in with Google again.")
            return True

        self.run(call, self._signed_in, "Signing in with Google", second_factor)

    def _signed_in(self, _tokens: object) -> None:
        self._google_token = ""
        self.google_button.setDefault(False)
        self.password.clear()
        self.otp.clear()
        self.referral.clear()
        for w in (self.otp, self.otp_label, self.remember):
            w.hide()
        self.backend.session_changed()
        self.refresh()

    # --- account page ------------------------------------------------------------------------

    def _build_account(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        self.who = QLabel("", objectName="accountWho")
        self.who.setTextFormat(Qt.TextFormat.RichText)
        v.addWidget(self.who)
        row = QHBoxLayout()
        self.enrol_button = _button("Turn on two-factor sign-in…", "accountEnrol")
        self.password_button = _button("Change password…", "accountChangePassword")
        self.sign_out_button = _button("Sign out", "accountSignOut")
        self.everywhere_button = _button("Sign out everywhere", "accountSignOutEverywhere")
        self.delete_button = _button("Delete account…", "accountDelete")
        for b in (self.enrol_button, self.password_button, self.sign_out_button, self.everywhere_button,
                  self.delete_button):
            row.addWidget(b)
        row.addStretch(1)
        v.addLayout(row)
        self.enrol_button.clicked.connect(self.start_enrolment)
        self.password_button.clicked.connect(lambda: self._show(self.PASSWORD))
        self.sign_out_button.clicked.connect(self.sign_out)
        self.everywhere_button.clicked.connect(self.sign_out_everywhere)
        self.delete_button.clicked.connect(lambda: self._show(self.DELETE))

        sessions = QGroupBox("Signed-in sessions")
        sv = QVBoxLayout(sessions)
        self.sessions = QListWidget(objectName="accountSessions")
        self.end_session_button = _button("End selected session", "accountEndSession")
        self.end_session_button.clicked.connect(self.end_selected_session)
        sv.addWidget(self.sessions)
        sv.addWidget(self.end_session_button, 0, Qt.AlignmentFlag.AlignLeft)
        devices = QGroupBox("Trusted devices (skip the code for 30 days)")
        dv = QVBoxLayout(devices)
        self.devices = QListWidget(objectName="accountDevices")
        self.forget_device_button = _button("Forget selected device", "accountForgetDevice")
        self.forget_device_button.clicked.connect(self.forget_selected_device)
        dv.addWidget(self.devices)
        dv.addWidget(self.forget_device_button, 0, Qt.AlignmentFlag.AlignLeft)
        v.addWidget(sessions)
        v.addWidget(devices)
        return page

    def load_account(self) -> None:
        client = self.client

        def load() -> object:
            return client.me(), client.sessions(), client.devices()

        self.run(load, self._account_loaded, "Loading your account")

    def _account_loaded(self, result: Any) -> None:
        me, sessions, devices = result
        self.me = me
        two = "on" if me.get("two_factor") else "off"
        self.who.setText(f"Signed in as <b>{me.get('email', '')}</b> · two-factor sign-in is <b>{two}</b>")
        self.enrol_button.setVisible(not me.get("two_factor"))
        self.sessions.clear()
        for s in sessions:
            text = (f"{'This session · ' if s.get('current') else ''}{s.get('user_agent') or 'unknown client'}"
                    f" · {s.get('ip') or '?'} · since {local_time(s.get('created_at'))}"
                    f" · last used {local_time(s.get('last_used_at'))}")
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, int(s["id"]))
            self.sessions.addItem(item)
        self.devices.clear()
        for d in devices:
            item = QListWidgetItem(f"{d.get('name') or 'unnamed device'} · trusted until "
                                   f"{local_time(d.get('expires_at'), '%Y-%m-%d')}")
            item.setData(Qt.ItemDataRole.UserRole, int(d["id"]))
            self.devices.addItem(item)
        if not devices:
            self.devices.addItem("No trusted devices.")

    def _selected_id(self, lst: QListWidget) -> int | None:
        item = lst.currentItem()
        value = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if value is None:
            self.say("Select one in the list first.", error=True)
        return int(value) if value is not None else None

    def end_selected_session(self) -> None:
        sid = self._selected_id(self.sessions)
        if sid is not None:
            client = self.client
            self.run(lambda: client.end_session(sid), lambda _r: self.refresh(), "Ending the session")

    def forget_selected_device(self) -> None:
        did = self._selected_id(self.devices)
        if did is not None:
            client = self.client
            self.run(lambda: client.forget_device(did), lambda _r: self.load_account(), "Forgetting the device")

    def sign_out(self) -> None:
        client = self.client
        self.run(client.logout, self._signed_out, "Signing out")

    def sign_out_everywhere(self) -> None:
        client = self.client
        self.run(client.sign_out_everywhere, self._signed_out, "Signing out everywhere")

    def _signed_out(self, _r: object) -> None:
        self.backend.session_changed()
        self.refresh()
        self.say("Signed out.")

    # --- 2FA enrolment -----------------------------------------------------------------------

    def _build_enrol(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        v.addWidget(QLabel("1. Scan this code with an authenticator app (Google Authenticator, Aegis, "
                           "1Password, …).", wordWrap=True))
        self.qr = QLabel(objectName="accountQr")
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setMinimumSize(220, 220)
        v.addWidget(self.qr)
        self.secret_label = QLabel("", objectName="accountSecret")
        self.secret_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v.addWidget(self.secret_label)
        v.addWidget(QLabel("2. Enter the 6-digit code it shows:"))
        row = QHBoxLayout()
        self.enrol_code = _line("accountEnrolCode", "123456")
        self.enable_button = _button("Turn on", "accountEnable")
        back = _button("Cancel", "accountEnrolCancel")
        self.enable_button.clicked.connect(self.enable_two_factor)
        self.enrol_code.returnPressed.connect(self.enable_two_factor)
        back.clicked.connect(self.refresh)
        row.addWidget(self.enrol_code)
        row.addWidget(self.enable_button)
        row.addWidget(back)
        row.addStretch(1)
        v.addLayout(row)
        v.addStretch(1)
        return page

    def start_enrolment(self) -> None:
        client = self.client
        self.run(client.totp_setup, self._enrolment_started, "Starting two-factor enrolment")

    def _enrolment_started(self, setup: Any) -> None:
        self.enrol_secret = str(setup["secret"])
        self.qr.setPixmap(qr_pixmap(str(setup["otpauth_uri"])))
        spaced = " ".join(self.enrol_secret[i:i + 4] for i in range(0, len(self.enrol_secret), 4))
        self.secret_label.setText(f"Can't scan it? Enter this key instead: {spaced}")
        self.enrol_code.clear()
        self._show(self.ENROL)
        self.enrol_code.setFocus()

    def enable_two_factor(self) -> None:
        code = self.enrol_code.text().strip().replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            self.say("Enter the 6-digit code from the app.", error=True)
            return
        client = self.client
        self.run(lambda: client.totp_enable(code), self._codes_received, "Turning on two-factor sign-in")

    def _codes_received(self, codes: Any) -> None:
        self.backup_codes = [str(c) for c in codes]
        self.codes_text.setPlainText("\n".join(self.backup_codes))
        self._show(self.CODES)

    # --- backup codes (shown once) -----------------------------------------------------------

    def _build_codes(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        v.addWidget(QLabel("<b>Two-factor sign-in is on.</b> These ten backup codes are shown only now. "
                           "Each works once, instead of a code from the app (a lost phone). "
                           "Copy or save them somewhere safe.", wordWrap=True))
        self.codes_text = QPlainTextEdit(objectName="accountBackupCodes")
        self.codes_text.setReadOnly(True)
        self.codes_text.setStyleSheet("font-family: monospace; font-size: 14px;")
        v.addWidget(self.codes_text)
        row = QHBoxLayout()
        copy = _button("Copy", "accountCopyCodes")
        save = _button("Save…", "accountSaveCodes")
        done = _button("I have saved them", "accountCodesDone")
        copy.clicked.connect(self.copy_codes)
        save.clicked.connect(self.save_codes)
        done.clicked.connect(self._codes_done)
        for b in (copy, save, done):
            row.addWidget(b)
        row.addStretch(1)
        v.addLayout(row)
        return page

    def copy_codes(self) -> None:
        QGuiApplication.clipboard().setText("\n".join(self.backup_codes))
        self.say("Copied the backup codes.")

    def save_codes(self, path: str | None = None) -> None:
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Save backup codes", "stockscanner-backup-codes.txt",
                                                  "Text (*.txt)")
        if not path:
            return
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write("Stock Scanner backup codes (each works once)\n" + "\n".join(self.backup_codes) + "\n")
        except OSError as exc:
            self.say(f"The codes could not be saved to {path}: {exc.strerror or exc}.", error=True)
            return
        self.say(f"Saved the backup codes to {path}.")

    def _codes_done(self) -> None:
        self.backup_codes = []
        self.codes_text.clear()  # shown once
        self.refresh()

    # --- change password ---------------------------------------------------------------------

    def _build_password(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.current_password = _line("accountCurrentPassword", password=True)
        self.new_password = _line("accountNewPassword", "8 characters or more", password=True)
        self.repeat_password = _line("accountRepeatPassword", password=True)
        form.addRow("Current password", self.current_password)
        form.addRow("New password", self.new_password)
        form.addRow("New password again", self.repeat_password)
        form.addRow(QLabel("Every other session is signed out.", wordWrap=True))
        row = QHBoxLayout()
        change = _button("Change password", "accountDoChangePassword")
        back = _button("Cancel", "accountPasswordCancel")
        change.clicked.connect(self.change_password)
        back.clicked.connect(self.refresh)
        row.addWidget(change)
        row.addWidget(back)
        row.addStretch(1)
        form.addRow(row)
        return page

    def change_password(self) -> None:
        cur, new, again = self.current_password.text(), self.new_password.text(), self.repeat_password.text()
        if not cur or not new:
            self.say("Enter the current and the new password.", error=True)
            return
        if new != again:
            self.say("The two new passwords differ.", error=True)
            return
        client = self.client

        def done(_r: object) -> None:
            for e in (self.current_password, self.new_password, self.repeat_password):
                e.clear()
            self.refresh()
            self.say("Password changed; your other sessions were signed out.")

        self.run(lambda: client.change_password(cur, new), done, "Changing the password")

    # --- delete account ----------------------------------------------------------------------

    def _build_delete(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.addRow(QLabel("<b>Delete the account and everything it keeps on the service</b> (synced "
                           "watchlists, sessions, devices). This cannot be undone; your local data stays.",
                           wordWrap=True))
        self.confirm_email = _line("accountConfirmEmail", "type your e-mail to confirm")
        self.delete_password = _line("accountDeletePassword", password=True)
        form.addRow("Your e-mail", self.confirm_email)
        form.addRow("Password", self.delete_password)
        row = QHBoxLayout()
        self.do_delete = _button("Delete my account", "accountDoDelete")
        self.do_delete.setEnabled(False)
        self.do_delete.setStyleSheet("QPushButton:enabled { color: #ef5350; }")
        back = _button("Cancel", "accountDeleteCancel")
        self.confirm_email.textChanged.connect(self._check_delete)
        self.do_delete.clicked.connect(self.delete_account)
        back.clicked.connect(self.refresh)
        row.addWidget(self.do_delete)
        row.addWidget(back)
        row.addStretch(1)
        form.addRow(row)
        return page

    def _check_delete(self) -> None:
        email = str(self.me.get("email", "")).lower()
        self.do_delete.setEnabled(bool(email) and self.confirm_email.text().strip().lower() == email)

    def delete_account(self) -> None:
        password = self.delete_password.text()
        if not password:
            self.say("Enter your password.", error=True)
            return
        client = self.client

        def done(_r: object) -> None:
            self.confirm_email.clear()
            self.delete_password.clear()
            self.backend.session_changed()
            self.refresh()
            self.say("Your account was deleted.")

        self.run(lambda: client.delete_account(password), done, "Deleting the account")
