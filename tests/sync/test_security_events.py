"""The client reports sign-ins, token refreshes, 2FA and password changes and sign-outs to
``on_security`` (the app's device security log), with no secret in the detail."""
from __future__ import annotations

import time
from typing import Any

from sync.client import ServiceClient, make_session
from sync.tokens import KeyringTokenStore, Tokens
from server.security import totp_code
from tests.sync.conftest import PASSWORD


def test_security_events_are_reported_without_secrets(loopback: Any, memory_keyring: Any) -> None:
    events: list[tuple[str, str]] = []
    c = ServiceClient(loopback.url, KeyringTokenStore(loopback.url), session=make_session(backoff_s=0.01))
    c.on_security = lambda kind, detail: events.append((kind, detail))
    c.register("sec@example.com", PASSWORD)
    assert events == []  # registering is not a sign-in
    c.login("sec@example.com", PASSWORD)
    assert events[-1][0] == "sign_in" and "sec@example.com" in events[-1][1] and "(password)" in events[-1][1]
    t = c.tokens.load()
    assert t is not None
    c.tokens.save(Tokens(t.email, "expired", t.refresh_token))
    c.me()
    assert events[-1][0] == "token_refresh"
    secret = c.totp_setup()["secret"]
    c.totp_enable(totp_code(secret, time.time()))
    assert events[-1][0] == "2fa_change"
    new_pw = PASSWORD + " changed"
    c.change_password(PASSWORD, new_pw)
    assert events[-1][0] == "password_change"
    c.logout()
    assert events[-1][0] == "sign_out"
    c.login("sec@example.com", new_pw, otp=totp_code(secret, time.time() + 30))
    assert events[-1][0] == "sign_in" and "2FA code" in events[-1][1]
    kinds = [k for k, _ in events]
    assert kinds == ["sign_in", "token_refresh", "2fa_change", "password_change", "sign_out", "sign_in"]
    stored = c.tokens.load()
    assert stored is not None
    for _kind, detail in events:
        for secret_text in (PASSWORD, new_pw, secret, stored.access_token, stored.refresh_token, t.refresh_token):
            assert secret_text not in detail


def test_a_failing_recorder_never_breaks_a_sign_in(loopback: Any, memory_keyring: Any) -> None:
    c = ServiceClient(loopback.url, KeyringTokenStore(loopback.url), session=make_session(backoff_s=0.01))

    def broken(kind: str, detail: str) -> None:
        raise OSError("disk full")

    c.on_security = broken
    c.register("sec2@example.com", PASSWORD)
    c.login("sec2@example.com", PASSWORD)
    assert c.me()["email"] == "sec2@example.com"
