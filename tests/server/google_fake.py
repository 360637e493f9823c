"""A local fake of Google's authorization server on loopback, for the Google sign-in tests:
an authorize endpoint that redirects to the app's loopback redirect URI with ``code`` and
``state``, a token endpoint that checks the PKCE verifier (S256) and answers an RS256-signed
ID token, and a JWKS endpoint. Knobs make it misbehave the ways the tests need."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "desktop-client.apps.example"


@dataclass
class Key:
    kid: str
    private: Any

    @classmethod
    def new(cls, kid: str) -> "Key":
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwk(self) -> dict[str, Any]:
        d: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        d.update(kid=self.kid, alg="RS256", use="sig")
        return d


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def mint(key: Key, issuer: str, nonce: str | None, *, sign_with: Key | None = None, **overrides: Any) -> str:
    """An ID token as Google signs it; ``overrides`` replace claims (``None`` removes one)."""
    now = int(time.time())
    claims: dict[str, Any] = {"iss": issuer, "aud": CLIENT_ID, "azp": CLIENT_ID, "sub": "1098765432101234567890",
                              "email": "ann@gmail.example", "email_verified": True, "name": "Ann Example",
                              "iat": now, "exp": now + 3600, "nonce": nonce}
    for k, v in overrides.items():
        if v is None:
            claims.pop(k, None)
        else:
            claims[k] = v
    return jwt.encode(claims, (sign_with or key).private, algorithm="RS256", headers={"kid": key.kid})


@dataclass
class FakeGoogle:
    """Knobs: ``claims`` (ID token overrides), ``state_override``, ``sign_with`` (another key,
    same kid: a bad signature), ``error`` (the authorize endpoint answers ``error=``)."""

    keys: list[Key] = field(default_factory=lambda: [Key.new("key-1")])
    claims: dict[str, Any] = field(default_factory=dict)
    state_override: str | None = None
    sign_with: Key | None = None
    error: str | None = None
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    jwks_requests: int = 0

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/jwks":
                    fake.jwks_requests += 1
                    self._json(200, {"keys": [k.jwk() for k in fake.keys]}, {"Cache-Control": "public, max-age=3600"})
                    return
                if parts.path != "/authorize":
                    self._json(404, {"error": "not_found"})
                    return
                ok = (q.get("response_type") == "code" and q.get("client_id") == CLIENT_ID
                      and q.get("code_challenge_method") == "S256" and q.get("code_challenge")
                      and q.get("redirect_uri", "").startswith("http://127.0.0.1:") and "openid" in q.get("scope", ""))
                if not ok:
                    self._json(400, {"error": "invalid_request", "query": q})
                    return
                back: dict[str, str] = {"state": fake.state_override or q.get("state", "")}
                if fake.error:
                    back["error"] = fake.error
                else:
                    code = secrets.token_urlsafe(16)
                    fake.codes[code] = q
                    back["code"] = code
                self.send_response(302)
                self.send_header("Location", q["redirect_uri"] + "?" + urlencode(back))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:  # noqa: N802
                if urlsplit(self.path).path != "/token":
                    self._json(404, {"error": "not_found"})
                    return
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                fake.token_requests.append(form)
                grant = fake.codes.pop(form.get("code", ""), None)
                if grant is None or form.get("grant_type") != "authorization_code":
                    self._json(400, {"error": "invalid_grant", "error_description": "unknown or used code"})
                    return
                if form.get("redirect_uri") != grant["redirect_uri"] or form.get("client_id") != CLIENT_ID:
                    self._json(400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
                    return
                verifier = form.get("code_verifier", "")
                if b64url(hashlib.sha256(verifier.encode()).digest()) != grant["code_challenge"]:
                    self._json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
                    return
                claims = {"nonce": grant.get("nonce"), **fake.claims}
                token = mint(fake.keys[0], fake.issuer, claims.pop("nonce"), sign_with=fake.sign_with, **claims)
                self._json(200, {"access_token": "ya29.fake", "token_type": "Bearer", "expires_in": 3599,
                                 "scope": grant["scope"], "id_token": token})

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def issuer(self) -> str:
        return self.base

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
