"""JWT refusals and refresh-token rotation, through the API on both databases."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from server.security import TokenConfig, TokenError, decode_token, encode_token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(cfg: TokenConfig, **over: Any) -> dict[str, Any]:
    now = int(dt.datetime.now(dt.timezone.utc).timestamp())
    base = {"iss": cfg.issuer, "aud": cfg.audience, "sub": "1", "sid": 1, "typ": "access",
            "iat": now, "exp": now + 600}
    base.update(over)
    return base


def _raw(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    sig = _b64(hmac.new(key, signing.encode(), hashlib.sha256).digest()) if key else ""
    return f"{signing}.{sig}"


CFG = TokenConfig(secrets.token_urlsafe(32), "stockscanner", "stockscanner-api")


def test_round_trip() -> None:
    token = encode_token(CFG, "access", 7, 3, 60)
    claims = decode_token(CFG, token, "access")
    assert claims["sub"] == "7" and claims["sid"] == 3 and claims["typ"] == "access"


def test_rfc7519_unsecured_token_refused() -> None:
    # RFC 7519 §6.1's example shape: {"alg":"none"} and an empty signature
    token = _raw({"alg": "none"}, _claims(CFG), None)
    with pytest.raises(TokenError, match="algorithm"):
        decode_token(CFG, token, "access")


def test_hs256_signed_with_public_key_refused() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    forged = _raw({"alg": "HS256", "typ": "JWT"}, _claims(CFG), public_pem)
    with pytest.raises(TokenError):
        decode_token(CFG, forged, "access")
    rs256 = jwt.encode(_claims(CFG), key, algorithm="RS256")
    with pytest.raises(TokenError, match="algorithm"):
        decode_token(CFG, rs256, "access")


@pytest.mark.parametrize("over,reason", [
    ({"exp": 1_000_000_000, "iat": 999_999_000}, "expired"),
    ({"aud": "someone-else"}, "audience"),
    ({"iss": "evil"}, "issuer"),
])
def test_expired_wrong_audience_wrong_issuer_refused(over: dict[str, Any], reason: str) -> None:
    token = jwt.encode(_claims(CFG, **over), CFG.secret, algorithm="HS256")
    with pytest.raises(TokenError, match=reason):
        decode_token(CFG, token, "access")


def test_token_without_type_or_wrong_type_refused() -> None:
    claims = _claims(CFG)
    del claims["typ"]
    with pytest.raises(TokenError):
        decode_token(CFG, jwt.encode(claims, CFG.secret, algorithm="HS256"), "access")
    with pytest.raises(TokenError, match="refresh"):
        decode_token(CFG, encode_token(CFG, "access", 1, 1, 60), "refresh")


def test_forged_tokens_refused_by_the_api(service: Any) -> None:
    headers = service.user("a@example.com")
    assert service.client.get("/me", headers=headers).status_code == 200
    cfg = service.app.state.service.tokens
    for token in (_raw({"alg": "none"}, _claims(cfg), None),
                  jwt.encode(_claims(cfg, aud="x"), cfg.secret, algorithm="HS256"),
                  jwt.encode(_claims(cfg), "a" * 43, algorithm="HS256")):
        r = service.client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"


def test_access_token_as_refresh_token_refused(service: Any) -> None:
    service.register("a@example.com")
    pair = service.login("a@example.com")
    r = service.client.post("/auth/refresh", json={"refresh_token": pair["access_token"]})
    assert r.status_code == 401 and "refresh" in r.json()["error"]["message"]
    r = service.client.get("/me", headers={"Authorization": f"Bearer {pair['refresh_token']}"})
    assert r.status_code == 401


def test_refresh_rotates_and_reuse_revokes_the_family(service: Any) -> None:
    service.register("a@example.com")
    first = service.login("a@example.com")
    other = service.login("a@example.com")  # a second session, which must survive
    second = service.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    assert second["refresh_token"] != first["refresh_token"]
    third = service.client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200
    # the first token is presented again: a copy was stolen -> the whole family ends
    r = service.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_reused"
    newest = third.json()
    assert service.client.post("/auth/refresh", json={"refresh_token": newest["refresh_token"]}).status_code == 401
    assert service.client.get("/me", headers={"Authorization": f"Bearer {newest['access_token']}"}).status_code == 401
    # the other sign-in is untouched
    assert service.client.get("/me", headers={"Authorization": f"Bearer {other['access_token']}"}).status_code == 200
    events = service.client.get("/me/audit", headers={"Authorization": f"Bearer {other['access_token']}"}).json()
    assert "token.reuse_detected" in [e["action"] for e in events["items"]]


def test_logout_password_change_and_sign_out_everywhere_revoke(service: Any) -> None:
    service.register("a@example.com")
    a, b = service.login("a@example.com"), service.login("a@example.com")
    auth = {"Authorization": f"Bearer {a['access_token']}"}
    assert service.client.post("/auth/logout", headers=auth).status_code == 200
    assert service.client.get("/me", headers=auth).status_code == 401
    assert service.client.post("/auth/refresh", json={"refresh_token": a["refresh_token"]}).status_code == 401
    assert service.client.get("/me", headers={"Authorization": f"Bearer {b['access_token']}"}).status_code == 200

    c = service.login("a@example.com")
    r = service.client.put("/me/password", headers={"Authorization": f"Bearer {c['access_token']}"},
                           json={"current_password": "correct horse battery staple 42",
                                 "new_password": "another long passphrase 7"})
    assert r.status_code == 200
    for old in (b, c):
        assert service.client.get("/me", headers={"Authorization": f"Bearer {old['access_token']}"}).status_code == 401
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert service.client.get("/me", headers=fresh).status_code == 200

    d = service.login("a@example.com", "another long passphrase 7")
    assert service.client.post("/me/sessions/revoke-all", headers=fresh).status_code == 200
    for old in (fresh, {"Authorization": f"Bearer {d['access_token']}"}):
        assert service.client.get("/me", headers=old).status_code == 401
    assert service.client.post("/auth/refresh", json={"refresh_token": d["refresh_token"]}).status_code == 401
