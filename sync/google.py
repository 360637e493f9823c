"""Google sign-in the way native apps must do it: RFC 8252 (OAuth 2.0 for Native Apps) with
PKCE (RFC 7636). Qt-free; the desktop UI calls ``sign_in_with_google`` from a worker.

1. ``POST {service}/auth/google/start``: the service's single-use ``nonce`` and client id.
2. A loopback listener on ``127.0.0.1`` with an ephemeral port is the redirect URI
   (RFC 8252 §7.3); a random ``state`` and a PKCE verifier with its S256 challenge are made.
3. The system browser opens the authorization URL (``webbrowser.open``): the user signs in at
   Google, never in our window, and Google redirects to the listener with ``code`` and
   ``state``. A wrong ``state`` or an ``error`` is refused.
4. The code is exchanged at the token endpoint with the PKCE verifier; the ID token's
   ``nonce`` must be the one from step 1.
5. ``POST {service}/auth/google`` with the ID token: the service verifies it (signature against
   Google's keys, issuer, audience, expiry, nonce, verified e-mail) and answers our token pair.

Errors are ``GoogleSignInError`` with a ``code`` and a one-sentence message;
``SecondFactorRequired`` when the account has 2FA: call ``finish_google_sign_in`` with the
code the user typed."""
from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

GOOGLE_AUTHORIZATION_ENDPOINT = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN_ENDPOINT = "https://oauth2.googleapis.com/token"
SCOPES = "openid email profile"
HTTP_TIMEOUT_S = 15.0


class GoogleSignInError(RuntimeError):
    """Google sign-in failed; ``code`` is stable (``state_mismatch``, ``nonce_mismatch``,
    ``access_denied``, ``token_exchange_failed``, ``timeout``, ``no_browser``,
    ``invalid_id_token``, ``invalid_nonce``, ``not_configured``, ``service_unreachable``, …),
    the message is one sentence for the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class SecondFactorRequired(GoogleSignInError):
    """The account has 2FA: ask for a TOTP or backup code and call ``finish_google_sign_in``
    with ``id_token`` (valid for the nonce's 10 minutes)."""

    def __init__(self, id_token: str, message: str) -> None:
        super().__init__("second_factor_required", message)
        self.id_token = id_token


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def s256_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(ASCII(code_verifier))) without padding (RFC 7636 §4.2)."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) per RFC 7636 §4.1–4.2: 64 random bytes give an
    86-character verifier from the unreserved alphabet."""
    verifier = _b64url(secrets.token_bytes(64))
    return verifier, s256_challenge(verifier)


@dataclass
class _Redirect:
    params: dict[str, str] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)


class LoopbackRedirect:
    """An HTTP listener on 127.0.0.1 with an ephemeral port that takes one redirect (RFC 8252
    §7.3) and answers the browser with a page saying it can be closed."""

    def __init__(self, path: str = "/") -> None:
        self.path = path
        self.result = _Redirect()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                if parts.path != outer.path or outer.result.done.is_set():
                    self.send_error(404)
                    return
                outer.result.params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                ok = "code" in outer.result.params
                body = ("<!doctype html><title>Stock Scanner</title><p>"
                        + html.escape("Signed in: you can close this window and return to Stock Scanner."
                                      if ok else "Sign-in did not finish: return to Stock Scanner.")
                        + "</p>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)
                outer.result.done.set()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="google-redirect",
                                        daemon=True)
        self._thread.start()

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def wait(self, timeout_s: float) -> dict[str, str]:
        if not self.result.done.wait(timeout_s):
            raise GoogleSignInError("timeout", f"No answer from the browser within {timeout_s:.0f} seconds; "
                                               "try signing in again.")
        return self.result.params

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _unverified_claims(id_token: str) -> dict[str, Any]:
    """The ID token's payload without checking the signature: the client only compares the
    nonce (the service verifies the token)."""
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        raise GoogleSignInError("invalid_id_token", "Google answered a malformed ID token.") from None
    if not isinstance(claims, dict):
        raise GoogleSignInError("invalid_id_token", "Google answered a malformed ID token.")
    return claims


def _service_error(r: requests.Response) -> GoogleSignInError:
    try:
        err = r.json()["error"]
        return GoogleSignInError(str(err["code"]), str(err["message"]))
    except (ValueError, KeyError, TypeError):
        return GoogleSignInError("service_error", f"The service answered HTTP {r.status_code}.")


def finish_google_sign_in(service_url: str, id_token: str, *, otp: str | None = None,
                          backup_code: str | None = None, device_token: str | None = None,
                          remember_device: bool = False, device_name: str = "",
                          session: requests.Session | None = None) -> dict[str, Any]:
    """Send a Google ID token (and, for an account with 2FA, a code) to the service; returns
    its token pair ``{"access_token", "refresh_token", "token_type", "expires_in",
    "device_token"}``. Raises ``SecondFactorRequired`` or ``GoogleSignInError``."""
    http = session or requests.Session()
    body: dict[str, Any] = {"id_token": id_token, "remember_device": remember_device}
    for key, value in (("otp", otp), ("backup_code", backup_code), ("device_token", device_token)):
        if value:
            body[key] = value
    if device_name:
        body["device_name"] = device_name
    try:
        r = http.post(service_url.rstrip("/") + "/auth/google", json=body, timeout=HTTP_TIMEOUT_S)
    except requests.RequestException as exc:
        raise GoogleSignInError("service_unreachable", f"The service cannot be reached: {exc}") from None
    if r.status_code == 200:
        pair: dict[str, Any] = r.json()
        return pair
    err = _service_error(r)
    if err.code == "second_factor_required":
        raise SecondFactorRequired(id_token, err.message)
    raise err


def sign_in_with_google(service_url: str, *, client_id: str | None = None,
                        client_secret: str | None = None,
                        authorization_endpoint: str = GOOGLE_AUTHORIZATION_ENDPOINT,
                        token_endpoint: str = GOOGLE_TOKEN_ENDPOINT,
                        open_browser: Callable[[str], object] = webbrowser.open,
                        timeout_s: float = 300.0, otp: str | None = None,
                        device_token: str | None = None,
                        session: requests.Session | None = None) -> dict[str, Any]:
    """Sign in to the service at ``service_url`` with a Google account and return the
    service's token pair (as ``/auth/login`` answers it).

    ``client_id`` defaults to the one the service is configured with (``GOOGLE_CLIENT_ID``);
    ``client_secret`` is the "desktop app" client's secret when Google issued one (for
    installed apps it is not confidential; PKCE is what protects the code). The user signs in
    in the system browser (``open_browser``, default ``webbrowser.open``); the redirect comes
    back to a listener on 127.0.0.1 within ``timeout_s`` seconds. Blocks: run it in a worker.
    Pass ``otp``/``device_token`` when known; otherwise an account with 2FA raises
    ``SecondFactorRequired`` (finish with ``finish_google_sign_in``). Every failure raises
    ``GoogleSignInError`` with a ``code`` and a one-sentence message."""
    http = session or requests.Session()
    base = service_url.rstrip("/")
    try:
        r = http.post(base + "/auth/google/start", timeout=HTTP_TIMEOUT_S)
    except requests.RequestException as exc:
        raise GoogleSignInError("service_unreachable", f"The service cannot be reached: {exc}") from None
    if r.status_code != 200:
        raise _service_error(r)
    start = r.json()
    nonce, cid = str(start["nonce"]), client_id or str(start["client_id"])
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    listener = LoopbackRedirect()
    try:
        query = urlencode({"response_type": "code", "client_id": cid, "redirect_uri": listener.redirect_uri,
                           "scope": SCOPES, "state": state, "nonce": nonce, "code_challenge": challenge,
                           "code_challenge_method": "S256", "prompt": "select_account"})
        sep = "&" if "?" in authorization_endpoint else "?"
        url = f"{authorization_endpoint}{sep}{query}"
        if open_browser(url) is False:  # webbrowser.open found no browser to start
            raise GoogleSignInError("no_browser", "No web browser could be opened for the Google sign-in; "
                                                  "set a default browser and try again.")
        params = listener.wait(timeout_s)
        redirect_uri = listener.redirect_uri
    finally:
        listener.close()
    if not hmac.compare_digest(params.get("state", ""), state):
        raise GoogleSignInError("state_mismatch", "The browser's answer does not belong to this sign-in "
                                                  "(state mismatch); try again.")
    if "error" in params:
        code = params["error"]
        reason = "you declined" if code == "access_denied" else params.get("error_description", code)
        raise GoogleSignInError(code, f"Google did not sign you in: {reason}.")
    if not params.get("code"):
        raise GoogleSignInError("no_code", "Google's answer carried no authorization code; try again.")
    form = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": redirect_uri,
            "client_id": cid, "code_verifier": verifier}
    if client_secret:
        form["client_secret"] = client_secret
    try:
        t = http.post(token_endpoint, data=form, timeout=HTTP_TIMEOUT_S,
                      headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise GoogleSignInError("token_exchange_failed", f"Google's token endpoint cannot be reached: {exc}") from None
    try:
        answer = t.json()
    except ValueError:
        answer = {}
    if t.status_code != 200 or not isinstance(answer, dict) or not answer.get("id_token"):
        detail = answer.get("error_description") or answer.get("error") if isinstance(answer, dict) else None
        raise GoogleSignInError("token_exchange_failed",
                                f"Google refused the code exchange ({detail or f'HTTP {t.status_code}'}).")
    id_token = str(answer["id_token"])
    if not hmac.compare_digest(str(_unverified_claims(id_token).get("nonce", "")), nonce):
        raise GoogleSignInError("nonce_mismatch", "The ID token does not belong to this sign-in "
                                                  "(nonce mismatch); try again.")
    return finish_google_sign_in(base, id_token, otp=otp, device_token=device_token, session=http)


__all__ = ["GoogleSignInError", "SecondFactorRequired", "finish_google_sign_in", "pkce_pair", "s256_challenge",
           "sign_in_with_google", "LoopbackRedirect"]
