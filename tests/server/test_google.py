"""POST /auth/google/start and POST /auth/google against a local fake of Google's keys, on
SQLite and PostgreSQL: what is verified (signature, issuer, audience, expiry, nonce, verified
e-mail), how accounts are linked or created, and that 2FA still applies."""
from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from server.security import totp_code
from tests.server.conftest import PASSWORD, Service
from tests.server.google_fake import CLIENT_ID, FakeGoogle, Key, mint


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, google: FakeGoogle) -> Any:
    from server.config import Settings

    google.claims, google.sign_with = {}, None
    return Settings(database_url=db_url, secret_key=secrets.token_urlsafe(32), google_client_id=CLIENT_ID,
                    google_issuers=(google.issuer,), google_jwks_url=google.base + "/jwks")


def _nonce(service: Service) -> str:
    r = service.client.post("/auth/google/start")
    assert r.status_code == 200, r.text
    assert r.json()["client_id"] == CLIENT_ID and r.json()["expires_in"] == 600
    return str(r.json()["nonce"])


def _sign_in(service: Service, token: str, **extra: Any) -> Any:
    return service.client.post("/auth/google", json={"id_token": token, **extra})


def test_a_new_google_account_is_created_verified(service: Service, google: FakeGoogle) -> None:
    r = _sign_in(service, mint(google.keys[0], google.issuer, _nonce(service)))
    assert r.status_code == 200, r.text
    me = service.client.get("/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
    assert me["email"] == "ann@gmail.example" and me["email_verified"] is True and me["display_name"] == "Ann Example"
    again = _sign_in(service, mint(google.keys[0], google.issuer, _nonce(service), email="renamed@gmail.example"))
    me2 = service.client.get("/me", headers={"Authorization": f"Bearer {again.json()['access_token']}"}).json()
    assert me2["id"] == me["id"]  # linked by Google's subject, not by the address
    # no usable password: password login fails the same way as a wrong one
    r = service.client.post("/auth/login", json={"email": "ann@gmail.example", "password": "!google:x" * 3})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"


def test_links_an_existing_verified_account(service: Service, google: FakeGoogle) -> None:
    head = service.user("ann@gmail.example")
    uid = service.client.get("/me", headers=head).json()["id"]
    r = _sign_in(service, mint(google.keys[0], google.issuer, _nonce(service), email="Ann@Gmail.example"))
    assert r.status_code == 200, r.text
    me = service.client.get("/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
    assert me["id"] == uid
    assert service.client.get("/me", headers=head).status_code == 200  # other sessions live on
    service.login("ann@gmail.example")  # the password still works


def test_an_unverified_account_loses_its_password_when_linked(service: Service, google: FakeGoogle) -> None:
    service.register("ann@gmail.example", verify=False)  # someone registered the address, unproven
    squatter = service.login("ann@gmail.example")
    r = _sign_in(service, mint(google.keys[0], google.issuer, _nonce(service)))
    assert r.status_code == 200, r.text
    assert service.client.get("/me", headers={"Authorization": f"Bearer {squatter['access_token']}"}).status_code == 401
    r = service.client.post("/auth/login", json={"email": "ann@gmail.example", "password": PASSWORD})
    assert r.status_code == 401
    actions = [e["action"] for e in service.client.get(
        "/me/audit", headers={"Authorization": f"Bearer {_sign_in(service, mint(google.keys[0], google.issuer, _nonce(service))).json()['access_token']}"}
    ).json()["items"]]
    assert "account.google_link_cleared_password" in actions and "account.google_linked" in actions


@pytest.mark.parametrize("case, claims, message", [
    ("wrong audience", {"aud": "someone-else.apps.example", "azp": "someone-else.apps.example"}, "another client"),
    ("expired", {"exp": int(time.time()) - 120, "iat": int(time.time()) - 3720}, "expired"),
    ("wrong issuer", {"iss": "https://accounts.evil.example"}, "another issuer"),
    ("unverified e-mail", {"email_verified": False}, "not verified"),
    ("no e-mail", {"email": None}, "no e-mail"),
])
def test_bad_id_tokens_are_refused(service: Service, google: FakeGoogle, case: str, claims: dict[str, Any],
                                   message: str) -> None:
    r = _sign_in(service, mint(google.keys[0], google.issuer, _nonce(service), **claims))
    assert r.status_code == 401, case
    assert r.json()["error"]["code"] == "invalid_id_token" and message in r.json()["error"]["message"], r.text


def test_bad_signatures_and_algorithms_are_refused(service: Service, google: FakeGoogle) -> None:
    rogue = Key.new(google.keys[0].kid)  # same kid, another private key
    r = _sign_in(service, mint(google.keys[0], google.issuer, _nonce(service), sign_with=rogue))
    assert r.status_code == 401 and "signature" in r.json()["error"]["message"]
    import jwt

    hs = jwt.encode({"iss": google.issuer, "aud": CLIENT_ID, "sub": "1", "email": "a@b.example",
                     "email_verified": True, "iat": int(time.time()), "exp": int(time.time()) + 60,
                     "nonce": _nonce(service)}, "a-shared-secret-of-thirty-two-bytes!!", algorithm="HS256",
                    headers={"kid": google.keys[0].kid})
    r = _sign_in(service, hs)
    assert r.status_code == 401 and "RS256" in r.json()["error"]["message"]
    unknown = Key.new("never-published")
    r = _sign_in(service, mint(unknown, google.issuer, _nonce(service)))
    assert r.status_code == 401 and "does not publish" in r.json()["error"]["message"]


def test_the_nonce_must_be_ours_unused_and_fresh(service: Service, google: FakeGoogle) -> None:
    r = _sign_in(service, mint(google.keys[0], google.issuer, secrets.token_urlsafe(32)))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_nonce"
    r = _sign_in(service, mint(google.keys[0], google.issuer, None))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_nonce"
    token = mint(google.keys[0], google.issuer, _nonce(service))
    assert _sign_in(service, token).status_code == 200
    replay = _sign_in(service, token)  # a captured ID token cannot be used again
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "invalid_nonce"


def test_two_factor_still_applies(service: Service, google: FakeGoogle) -> None:
    head = service.user("ann@gmail.example")
    secret = service.client.post("/me/2fa/setup", headers=head).json()["secret"]
    now = time.time()
    assert service.client.post("/me/2fa/enable", headers=head,
                               json={"code": totp_code(secret, now - 30)}).status_code == 200
    token = mint(google.keys[0], google.issuer, _nonce(service))
    r = _sign_in(service, token)
    assert r.status_code == 401 and r.json()["error"]["code"] == "second_factor_required"
    r = _sign_in(service, token, otp="000000" if totp_code(secret, now) != "000000" else "111111")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_second_factor"
    r = _sign_in(service, token, otp=totp_code(secret, now))
    assert r.status_code == 200, r.text


def test_keys_rotated_by_kid_are_fetched_once(service: Service, google: FakeGoogle) -> None:
    assert _sign_in(service, mint(google.keys[0], google.issuer, _nonce(service))).status_code == 200
    fetched = google.jwks_requests
    assert _sign_in(service, mint(google.keys[0], google.issuer, _nonce(service))).status_code == 200
    assert google.jwks_requests == fetched  # cached
    google.keys.insert(0, Key.new("key-2"))  # Google publishes a new key and signs with it
    try:
        jwks = service.app.state.service.google_jwks
        jwks._fetched_at -= 60  # the last fetch is older than the refetch guard
        assert _sign_in(service, mint(google.keys[0], google.issuer, _nonce(service))).status_code == 200
        assert google.jwks_requests == fetched + 1
        # a forged kid right after makes no further fetch (guarded for MIN_REFETCH_S)
        r = _sign_in(service, mint(Key.new("forged"), google.issuer, _nonce(service)))
        assert r.status_code == 401 and google.jwks_requests == fetched + 1
    finally:
        google.keys.pop(0)


def test_off_when_not_configured(db_url: str) -> None:
    from fastapi.testclient import TestClient

    from server.app import create_app
    from server.config import Settings
    from server.db import migrate

    app = create_app(Settings(database_url=db_url, secret_key=secrets.token_urlsafe(32)))
    migrate(app.state.engine)
    with TestClient(app) as client:
        for path, body in (("/auth/google/start", None), ("/auth/google", {"id_token": "x.y.z"})):
            r = client.post(path, json=body)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_configured"
            assert "GOOGLE_CLIENT_ID" in r.json()["error"]["message"]
    app.state.engine.dispose()


def test_provider_keys_unreachable_is_a_503(service: Service, google: FakeGoogle) -> None:
    from server.google_id import JwksCache

    service.app.state.service.google_jwks = JwksCache("http://127.0.0.1:9/jwks")  # nothing listens
    r = _sign_in(service, mint(google.keys[0], google.issuer, _nonce(service)))
    assert r.status_code == 503 and r.json()["error"]["code"] == "provider_unavailable"
