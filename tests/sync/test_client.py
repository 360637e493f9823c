"""sync.client against a real service on loopback, and against a misbehaving HTTP server."""
from __future__ import annotations

import http.server
import os
import stat
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sync.client import (
    BadResponse, Offline, SecondFactorRequired, ServiceClient, SignedOut, AuthError, make_session,
)
from sync.tokens import FileTokenStore, KeyringTokenStore, Tokens, keyring_available, open_token_store
from tests.sync.conftest import PASSWORD, free_port


def _client(loopback: Any) -> ServiceClient:
    return ServiceClient(loopback.url, KeyringTokenStore(loopback.url), session=make_session(backoff_s=0.01))


def _signed_in(loopback: Any, email: str = "a@example.com") -> ServiceClient:
    c = _client(loopback)
    c.register(email, PASSWORD)
    c.login(email, PASSWORD)
    return c


def test_login_keeps_tokens_in_the_keyring_and_calls_are_authenticated(loopback: Any, memory_keyring: Any) -> None:
    c = _signed_in(loopback)
    assert c.signed_in_email == "a@example.com"
    stored = [v for (svc, _acct), v in memory_keyring.store.items() if svc == "stockscanner-sync"]
    assert len(stored) == 1 and "refresh_token" in stored[0]
    assert c.me()["email"] == "a@example.com"
    with pytest.raises(AuthError) as err:
        _client(loopback).login("a@example.com", "wrong password 123")
    assert "wrong" in str(err.value)


def test_an_expired_access_token_is_refreshed_once_with_the_rotating_refresh_token(
        loopback: Any, memory_keyring: Any) -> None:
    c = _signed_in(loopback)
    t = c.tokens.load()
    assert t is not None
    c.tokens.save(Tokens(t.email, "not-a-valid-access-token", t.refresh_token))
    assert c.me()["email"] == "a@example.com"
    fresh = c.tokens.load()
    assert fresh is not None and fresh.refresh_token != t.refresh_token and fresh.access_token != t.access_token


def test_a_reused_refresh_token_signs_out_cleanly(loopback: Any, memory_keyring: Any) -> None:
    c = _signed_in(loopback)
    t = c.tokens.load()
    assert t is not None
    c.tokens.save(Tokens(t.email, "expired", t.refresh_token))
    c.me()  # rotates: t.refresh_token is now used
    c.tokens.save(Tokens(t.email, "expired", t.refresh_token))  # a stolen copy comes back
    with pytest.raises(SignedOut) as err:
        c.me()
    assert "somewhere else" in str(err.value)
    assert c.signed_in_email is None
    with pytest.raises(SignedOut):
        c.me()


def test_second_factor_is_asked_for_and_sign_out_everywhere_ends_every_session(
        loopback: Any, memory_keyring: Any) -> None:
    import time

    import pyotp

    c = _signed_in(loopback)
    setup = c.totp_setup()
    assert setup["qr_svg"].startswith("data:image/svg+xml")
    codes = c.totp_enable(pyotp.TOTP(setup["secret"]).at(time.time() - 30))
    assert len(codes) == 10
    other = _client(loopback)
    other.tokens = KeyringTokenStore(loopback.url + "/other")  # a second machine
    with pytest.raises(SecondFactorRequired):
        other.login("a@example.com", PASSWORD)
    other.login("a@example.com", PASSWORD, otp=pyotp.TOTP(setup["secret"]).now())
    assert len(c.sessions()) == 2
    c.sign_out_everywhere()
    assert c.signed_in_email is None
    with pytest.raises(SignedOut):
        other.me()  # the refresh is refused too: that machine is signed out


def test_no_service_listening_is_offline_with_a_sentence(memory_keyring: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    c = ServiceClient(url, KeyringTokenStore(url), session=make_session(retries=1, backoff_s=0.01))
    with pytest.raises(Offline) as err:
        c.register("a@example.com", PASSWORD)
    assert url in str(err.value) and "cannot be reached" in str(err.value)


class _Flaky(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first ``fails`` GETs, then JSON; HTML on /html; 422 on /bad."""

    hits: list[str] = []
    fails = 2

    def log_message(self, *_a: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).hits.append(self.path)
        if self.path == "/html":
            self._answer(200, b"<html>captive portal</html>", "text/html")
        elif self.path == "/bad":
            self._answer(422, b'{"error": {"code": "invalid_request", "message": "name: too long."}}',
                         "application/json")
        elif len([h for h in type(self).hits if h == self.path]) <= type(self).fails:
            self._answer(503, b'{"error": {"code": "busy", "message": "busy"}}', "application/json")
        else:
            self._answer(200, b'{"ok": true}', "application/json")

    def do_POST(self) -> None:  # noqa: N802
        type(self).hits.append("POST " + self.path)
        self._answer(503, b"{}", "application/json")


@pytest.fixture
def flaky() -> Iterator[str]:
    _Flaky.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_5xx_is_retried_with_backoff_4xx_and_posts_are_not(flaky: str, memory_keyring: Any) -> None:
    c = ServiceClient(flaky, KeyringTokenStore(flaky), session=make_session(retries=3, backoff_s=0.01))
    assert c.call("GET", "/ok", auth=False).body == {"ok": True}
    assert _Flaky.hits.count("/ok") == 3  # two 503s, then the answer
    from sync.client import ApiError

    with pytest.raises(ApiError) as err:
        c.call("GET", "/bad", auth=False)
    assert err.value.status == 422 and str(err.value) == "name: too long." and _Flaky.hits.count("/bad") == 1
    with pytest.raises(BadResponse):
        c.call("POST", "/auth/refresh", {}, auth=False)  # a 503 without the error shape
    assert _Flaky.hits.count("POST /auth/refresh") == 1  # never repeated: it could spend a refresh token


def test_an_answer_that_is_not_json_is_a_clear_error(flaky: str, memory_keyring: Any) -> None:
    c = ServiceClient(flaky, KeyringTokenStore(flaky), session=make_session(retries=0))
    with pytest.raises(BadResponse) as err:
        c.call("GET", "/html", auth=False)
    assert "not JSON" in str(err.value)


def test_file_fallback_is_encrypted_private_and_bound_to_its_key(tmp_path: Any, monkeypatch: Any) -> None:
    store = FileTokenStore(tmp_path, "http://127.0.0.1:9")
    assert store.load() is None
    store.save(Tokens("a@example.com", "access-secret-1", "refresh-secret-2"))
    assert store.load() == Tokens("a@example.com", "access-secret-1", "refresh-secret-2")
    blob = store.path.read_bytes()
    assert b"refresh-secret-2" not in blob and b"a@example.com" not in blob
    if os.name == "posix":
        assert stat.S_IMODE(store.key_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    other = FileTokenStore(tmp_path / "elsewhere", "http://127.0.0.1:9")
    other.path.parent.mkdir()
    other.path.write_bytes(blob)  # the token file copied without its key
    assert other.load() is None
    monkeypatch.setattr("sync.tokens._user_id", lambda: b"another-user")
    assert store.load() is None  # the same files read as another account
    monkeypatch.undo()
    store.clear()
    assert store.load() is None


def test_without_a_keyring_the_file_store_is_used_and_said(tmp_path: Any, monkeypatch: Any) -> None:
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    assert not keyring_available()
    store, note = open_token_store(tmp_path, "http://127.0.0.1:9")
    assert isinstance(store, FileTokenStore)
    assert "No system keyring" in note and str(store.path) in note
