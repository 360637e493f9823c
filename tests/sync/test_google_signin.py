"""sync/google.py end to end: the app's side of RFC 8252 + PKCE against a local fake of
Google's authorization server and a real service (uvicorn on loopback, SQLite). The "system
browser" is a function that follows the authorization URL's redirect to the loopback listener."""
from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from sync.google import (
    GoogleSignInError, LoopbackRedirect, SecondFactorRequired, finish_google_sign_in, pkce_pair,
    s256_challenge, sign_in_with_google,
)
from tests.server.google_fake import CLIENT_ID, FakeGoogle, Key, mint


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle()
    yield fake
    fake.close()


@contextlib.contextmanager
def running(settings: Any) -> Iterator[str]:
    """The service for ``settings`` under uvicorn on 127.0.0.1 (an ephemeral port)."""
    import uvicorn

    from server.app import create_app
    from server.db import migrate

    app = create_app(settings)
    migrate(app.state.engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()


@pytest.fixture
def service_url(tmp_path: Any, google: FakeGoogle) -> Iterator[str]:
    from server.config import Settings

    google.claims, google.sign_with, google.state_override, google.error = {}, None, None, None
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'service.sqlite3'}", secret_key=secrets.token_urlsafe(32),
                        google_client_id=CLIENT_ID, google_issuers=(google.issuer,),
                        google_jwks_url=google.base + "/jwks")
    with running(settings) as url:
        yield url


def browser(tamper: Callable[[dict[str, str]], None] | None = None) -> Callable[[str], None]:
    """The system browser: opens the URL and follows the redirect to the loopback listener."""

    def open_url(url: str) -> None:
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if tamper:
            tamper(query)
        r = requests.get(f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}", timeout=10)
        assert r.status_code in (200, 404), r.text

    return open_url


def _sign_in(google: FakeGoogle, url: str, open_browser: Callable[[str], None] | None = None, **kw: Any) -> Any:
    return sign_in_with_google(url, authorization_endpoint=google.base + "/authorize",
                               token_endpoint=google.base + "/token", open_browser=open_browser or browser(),
                               timeout_s=10, **kw)


def test_rfc7636_appendix_b_vector() -> None:
    assert s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128 and set(verifier) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    assert challenge == s256_challenge(verifier) and "=" not in challenge


def test_happy_path(google: FakeGoogle, service_url: str) -> None:
    seen: dict[str, str] = {}
    pair = _sign_in(google, service_url, browser(lambda q: seen.update(q)))
    me = requests.get(service_url + "/me", headers={"Authorization": f"Bearer {pair['access_token']}"}, timeout=10).json()
    assert me["email"] == "ann@gmail.example" and me["email_verified"] is True
    # what the app sent: loopback redirect with an ephemeral port, S256, state and nonce
    assert seen["redirect_uri"].startswith("http://127.0.0.1:") and seen["redirect_uri"] != "http://127.0.0.1:80/"
    assert seen["code_challenge_method"] == "S256" and len(seen["state"]) >= 32 and seen["nonce"]
    assert seen["client_id"] == CLIENT_ID and seen["scope"] == "openid email profile"
    form = google.token_requests[-1]
    assert s256_challenge(form["code_verifier"]) == seen["code_challenge"]
    assert "client_secret" not in form
    assert requests.post(service_url + "/auth/refresh", json={"refresh_token": pair["refresh_token"]},
                         timeout=10).status_code == 200


def test_wrong_state_is_refused(google: FakeGoogle, service_url: str) -> None:
    google.state_override = "an-attacker-state"
    before = len(google.token_requests)
    with pytest.raises(GoogleSignInError) as err:
        _sign_in(google, service_url)
    assert err.value.code == "state_mismatch" and "state" in err.value.message
    assert len(google.token_requests) == before  # the code was never exchanged


def test_wrong_verifier_is_refused(google: FakeGoogle, service_url: str) -> None:
    def swap_challenge(q: dict[str, str]) -> None:  # an interceptor injects its own challenge
        q["code_challenge"] = s256_challenge("an attacker's verifier that is long enough to be valid")

    with pytest.raises(GoogleSignInError) as err:
        _sign_in(google, service_url, browser(swap_challenge))
    assert err.value.code == "token_exchange_failed" and "PKCE" in err.value.message


def test_wrong_nonce_is_refused(google: FakeGoogle, service_url: str) -> None:
    google.claims = {"nonce": "a nonce from another sign-in"}
    with pytest.raises(GoogleSignInError) as err:
        _sign_in(google, service_url)
    assert err.value.code == "nonce_mismatch"


@pytest.mark.parametrize("claims, message", [
    ({"aud": "another.apps.example", "azp": "another.apps.example"}, "another client"),
    ({"exp": int(time.time()) - 120, "iat": int(time.time()) - 3720}, "expired"),
    ({"email_verified": False}, "not verified"),
])
def test_tokens_the_service_refuses(google: FakeGoogle, service_url: str, claims: dict[str, Any], message: str) -> None:
    google.claims = claims
    with pytest.raises(GoogleSignInError) as err:
        _sign_in(google, service_url)
    assert err.value.code == "invalid_id_token" and message in err.value.message


def test_bad_signature_is_refused(google: FakeGoogle, service_url: str) -> None:
    google.sign_with = Key.new(google.keys[0].kid)
    with pytest.raises(GoogleSignInError) as err:
        _sign_in(google, service_url)
    assert err.value.code == "invalid_id_token" and "signature" in err.value.message


def test_denied_consent_and_timeout(google: FakeGoogle, service_url: str) -> None:
    google.error = "access_denied"
    with pytest.raises(GoogleSignInError) as err:
        _sign_in(google, service_url)
    assert err.value.code == "access_denied" and "declined" in err.value.message
    google.error = None
    with pytest.raises(GoogleSignInError) as err:
        sign_in_with_google(service_url, authorization_endpoint=google.base + "/authorize",
                            token_endpoint=google.base + "/token", open_browser=lambda _url: None, timeout_s=0.3)
    assert err.value.code == "timeout"
    with pytest.raises(GoogleSignInError) as err:
        _sign_in(google, service_url, open_browser=lambda _url: False)
    assert err.value.code == "no_browser"


def test_second_factor(google: FakeGoogle, service_url: str) -> None:
    from server.security import totp_code

    pw = "correct horse battery staple 42"
    requests.post(service_url + "/auth/register", json={"email": "ann@gmail.example", "password": pw}, timeout=10)
    pair = requests.post(service_url + "/auth/login", json={"email": "ann@gmail.example", "password": pw},
                         timeout=10).json()
    head = {"Authorization": f"Bearer {pair['access_token']}"}
    secret = requests.post(service_url + "/me/2fa/setup", headers=head, timeout=10).json()["secret"]
    now = time.time()
    assert requests.post(service_url + "/me/2fa/enable", headers=head, json={"code": totp_code(secret, now - 30)},
                         timeout=10).status_code == 200
    with pytest.raises(SecondFactorRequired) as err:
        _sign_in(google, service_url)
    done = finish_google_sign_in(service_url, err.value.id_token, otp=totp_code(secret, now))
    assert done["access_token"]


def test_not_configured_says_so(tmp_path: Any) -> None:
    from server.config import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 's.db'}", secret_key=secrets.token_urlsafe(32))
    opened: list[str] = []
    with running(settings) as url:
        with pytest.raises(GoogleSignInError) as err:
            sign_in_with_google(url, open_browser=opened.append)
    assert err.value.code == "not_configured" and "GOOGLE_CLIENT_ID" in err.value.message
    assert opened == []  # no browser opened for a service that cannot take the answer


def test_the_listener_takes_one_redirect_on_its_path() -> None:
    listener = LoopbackRedirect()
    try:
        assert requests.get(f"http://127.0.0.1:{listener.port}/other?code=x", timeout=5).status_code == 404
        r = requests.get(listener.redirect_uri + "?code=abc&state=s", timeout=5)
        assert r.status_code == 200 and "close this window" in r.text
        assert listener.wait(1) == {"code": "abc", "state": "s"}
        assert requests.get(listener.redirect_uri + "?code=again&state=s", timeout=5).status_code == 404
    finally:
        listener.close()


def test_the_desktop_client_adopts_the_google_pair(google: FakeGoogle, service_url: str, tmp_path: Any) -> None:
    """What the Account dialog's "Sign in with Google" does (app/features/account.py): the pair
    from sign_in_with_google is kept by the ServiceClient, which then works as after a login."""
    from sync.client import ServiceClient
    from sync.tokens import FileTokenStore

    client = ServiceClient(service_url, FileTokenStore(tmp_path / "tokens", service_url))
    pair = _sign_in(google, service_url)
    tokens = client.adopt(pair)
    assert tokens.email == "ann@gmail.example" and client.tokens.load() == tokens
    assert client.me()["email"] == "ann@gmail.example"
