"""The HTTP client of the Stock Scanner service (Qt-free; every call blocks, so the app runs it
in workers).

* One ``requests.Session`` with timeouts on every call and retries with exponential backoff
  (urllib3 ``Retry``) on connection errors for every method, and on read errors and 502/503/504
  only for methods that are safe to repeat: GET, PUT, DELETE (PUT and DELETE are idempotent,
  and our sync writes carry an ``Idempotency-Key`` besides). POSTs (login, refresh) are not
  repeated after the request may have arrived: a refresh sent twice would look like a stolen
  token and end the session. Never on 4xx.
* The access token is refreshed automatically on a 401 ``invalid_token`` with the rotating
  refresh token (under a lock, so two threads never spend the same refresh token); a refresh the
  service refuses (``token_reused``, revoked, expired) signs out cleanly: the stored tokens are
  dropped and ``SignedOut`` raised.
* The one error shape ``{"error": {"code", "message"}}`` becomes a typed exception carrying the
  service's sentence; an answer that is not JSON (a proxy's HTML page, say) is ``BadResponse``.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from sync.tokens import Tokens, TokenStore

log = logging.getLogger("stockscanner.sync")

#: (connect, read) seconds
DEFAULT_TIMEOUT = (3.05, 15.0)
USER_AGENT = "StockScanner-desktop/1"


class ServiceError(Exception):
    """Something went wrong talking to the service; ``str()`` is one sentence for the user."""


class Offline(ServiceError):
    """The service cannot be reached (connection refused, DNS, timeout, 5xx after retries)."""


class BadResponse(ServiceError):
    """The service answered something that is not the API's JSON."""


class ApiError(ServiceError):
    """The service refused the request: HTTP ``status``, its stable ``code`` and its message."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


class AuthError(ApiError):
    """401: wrong credentials, or a token the service does not take."""


class SecondFactorRequired(AuthError):
    """The password was right; the login needs a TOTP code or a backup code."""


class SignedOut(AuthError):
    """The session has ended (signed out elsewhere, refresh token reused or expired): sign in again."""


class RateLimited(ApiError):
    """429: too many attempts; ``retry_after`` seconds to wait (``Retry-After``)."""


class NotFound(ApiError):
    """404."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any
    replayed: bool


def check_base_url(url: str) -> str:
    """``url`` without a trailing slash; ``ValueError`` (one sentence) unless http(s)://host[:port]."""
    u = url.strip().rstrip("/")
    parts = urlsplit(u)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"The service URL {url!r} is not an http:// or https:// address.")
    return u


def make_session(retries: int = 3, backoff_s: float = 0.3) -> requests.Session:
    """A session that retries as the module docstring says."""
    retry = Retry(total=retries, connect=retries, read=retries, status=retries, other=0,
                  status_forcelist=(502, 503, 504), backoff_factor=backoff_s, backoff_max=5.0,
                  allowed_methods=frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}),
                  respect_retry_after_header=True, raise_on_status=False)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def _error(response: requests.Response, url: str) -> ServiceError:
    try:
        err = response.json()["error"]
        code, message = str(err["code"]), str(err["message"])
    except (ValueError, KeyError, TypeError):
        return BadResponse(f"The service at {url} failed with HTTP {response.status_code} "
                           "and an answer that is not the API's (is the URL right?).")
    status = response.status_code
    if status == 401:
        cls: type[ApiError] = SecondFactorRequired if code == "second_factor_required" else AuthError
        return cls(status, code, message)
    if status == 429:
        try:
            retry_after = float(response.headers.get("Retry-After", ""))
        except ValueError:
            retry_after = None
        return RateLimited(status, code, message, retry_after)
    if status == 404:
        return NotFound(status, code, message)
    if status >= 500:
        return Offline(f"The service at {url} failed ({message})")
    return ApiError(status, code, message)


class ServiceClient:
    """Calls the service at ``base_url`` as the user whose tokens ``tokens`` keeps.

    Every method blocks (network); raises the ``ServiceError`` subclasses above."""

    def __init__(self, base_url: str, tokens: TokenStore, *, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 session: requests.Session | None = None, device_name: str = "", identity: str = "") -> None:
        self.base_url = check_base_url(base_url)
        #: what the tokens and the outbox are kept under: the URL, or a stable name (the
        #: embedded service's port changes from run to run, its identity "embedded" does not)
        self.identity = identity or self.base_url
        self.tokens = tokens
        self.timeout = timeout
        self.session = session or make_session()
        self.device_name = device_name
        self._refresh_lock = threading.Lock()
        #: called with (kind, detail) after a sign-in, sign-out, token refresh, 2FA or password
        #: change (kinds of ``engine.health.metrics.SECURITY_KINDS``): the app records them in the
        #: device's security log. Never given a secret; an error in it is logged, not raised.
        self.on_security: Callable[[str, str], None] | None = None

    # --- plumbing ----------------------------------------------------------------------------

    def _send(self, method: str, path: str, body: Any = None, access: str | None = None,
              headers: dict[str, str] | None = None, params: dict[str, Any] | None = None) -> requests.Response:
        h = dict(headers or {})
        if access:
            h["Authorization"] = f"Bearer {access}"
        try:
            return self.session.request(method, self.base_url + path, json=body, headers=h, params=params,
                                        timeout=self.timeout)
        except requests.exceptions.RetryError:
            raise Offline(f"The service at {self.base_url} is not answering (it kept failing); "
                          "the change is kept and sent later.") from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Offline(f"The service at {self.base_url} cannot be reached ({type(exc).__name__}).") from None
        except requests.RequestException as exc:
            raise Offline(f"The request to {self.base_url} failed: {exc}") from None

    def _parse(self, response: requests.Response) -> Answer:
        if response.status_code >= 400:
            raise _error(response, self.base_url)
        replayed = response.headers.get("Idempotent-Replayed") == "true"
        if response.status_code == 204 or not response.content:
            return Answer(response.status_code, None, replayed)
        try:
            return Answer(response.status_code, response.json(), replayed)
        except ValueError:
            raise BadResponse(f"The service at {self.base_url} answered something that is not JSON "
                              f"(HTTP {response.status_code}); is the URL right?") from None

    def call(self, method: str, path: str, body: Any = None, *, auth: bool = True,
             idempotency_key: str | None = None, params: dict[str, Any] | None = None) -> Answer:
        """One API call; with ``auth`` as the signed-in user, refreshing the access token once
        when the service says it is no longer valid."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        if not auth:
            return self._parse(self._send(method, path, body, headers=headers, params=params))
        tokens = self.tokens.load()
        if tokens is None or not tokens.refresh_token:
            raise SignedOut(401, "signed_out", "You are not signed in.")
        response = self._send(method, path, body, tokens.access_token, headers, params)
        if response.status_code == 401 and self._code(response) == "invalid_token":
            fresh = self._refresh(tokens)
            response = self._send(method, path, body, fresh.access_token, headers, params)
            if response.status_code == 401:
                self._forget()
                raise SignedOut(401, self._code(response) or "invalid_token",
                                "Your session has ended; sign in again.")
        return self._parse(response)

    def _security(self, kind: str, detail: str) -> None:
        if self.on_security is None:
            return
        try:
            self.on_security(kind, detail)
        except Exception:  # noqa: BLE001 - the log must never break a sign-in
            log.exception("recording the security event %s failed", kind)

    @staticmethod
    def _code(response: requests.Response) -> str:
        try:
            return str(response.json()["error"]["code"])
        except (ValueError, KeyError, TypeError):
            return ""

    def _refresh(self, used: Tokens) -> Tokens:
        with self._refresh_lock:
            current = self.tokens.load()
            if current is None or not current.refresh_token:
                raise SignedOut(401, "signed_out", "You are not signed in.")
            if current.refresh_token != used.refresh_token:
                return current  # another thread refreshed meanwhile: spending ours again is reuse
            try:
                answer = self._parse(self._send("POST", "/auth/refresh", {"refresh_token": current.refresh_token}))
            except AuthError as exc:
                self._forget()
                reason = ("Your sign-in was used from somewhere else, so every copy of it was ended; sign in again."
                          if exc.code == "token_reused" else "Your session has ended; sign in again.")
                self._security("session_revoked", f"{self.identity}: {exc.code or 'refresh refused'}")
                raise SignedOut(401, exc.code, reason) from None
            fresh = Tokens(current.email, self._field(answer, "access_token"),
                           self._field(answer, "refresh_token"), current.device_token)
            self.tokens.save(fresh)
            self._security("token_refresh", f"{self.identity}: the access token was renewed")
            return fresh

    def _field(self, answer: Answer, name: str) -> str:
        value = answer.body.get(name) if isinstance(answer.body, dict) else None
        if not isinstance(value, str) or not value:
            raise BadResponse(f"The service at {self.base_url} answered without {name!r}.")
        return value

    def _list(self, answer: Answer) -> list[dict[str, Any]]:
        if not isinstance(answer.body, list) or not all(isinstance(x, dict) for x in answer.body):
            raise BadResponse(f"The service at {self.base_url} answered a list in an unknown shape.")
        return answer.body

    def _dict(self, answer: Answer) -> dict[str, Any]:
        if not isinstance(answer.body, dict):
            raise BadResponse(f"The service at {self.base_url} answered an object in an unknown shape.")
        return answer.body

    # --- accounts ----------------------------------------------------------------------------

    @property
    def signed_in_email(self) -> str | None:
        tokens = self.tokens.load()
        return tokens.email if tokens and tokens.refresh_token else None

    def register(self, email: str, password: str, display_name: str = "", referral_code: str = "") -> None:
        """Create an account (the service mails a verification link). ``referral_code``: the
        code of whoever referred the user (an unknown one is ignored by the service)."""
        body = {"email": email, "password": password, "display_name": display_name}
        if referral_code:
            body["referral_code"] = referral_code
        self.call("POST", "/auth/register", body, auth=False)

    def login(self, email: str, password: str, *, otp: str | None = None, backup_code: str | None = None,
              remember_device: bool = False) -> Tokens:
        """Sign in and keep the tokens; ``SecondFactorRequired`` when 2FA needs a code. A trusted
        device token from an earlier "remember this device" is sent by itself."""
        email = email.strip().lower()
        old = self.tokens.load()
        device = old.device_token if old and old.email == email else ""
        body: dict[str, Any] = {"email": email, "password": password}
        if otp:
            body["otp"] = otp.strip()
        if backup_code:
            body["backup_code"] = backup_code.strip()
        if device:
            body["device_token"] = device
        if remember_device:
            body.update(remember_device=True, device_name=self.device_name[:200])
        answer = self.call("POST", "/auth/login", body, auth=False)
        new_device = self._dict(answer).get("device_token") or device or ""
        tokens = Tokens(email, self._field(answer, "access_token"), self._field(answer, "refresh_token"),
                        str(new_device))
        self.tokens.save(tokens)
        how = "password and 2FA code" if otp else "password and backup code" if backup_code else (
            "password on a trusted device" if device else "password")
        self._security("sign_in", f"{email} at {self.identity} ({how})")
        return tokens

    def adopt(self, pair: dict[str, Any]) -> Tokens:
        """Keep a token pair the service issued outside ``login`` (Google sign-in,
        ``sync.google``): the access and refresh tokens, then the account's e-mail from /me."""
        access, refresh = pair.get("access_token"), pair.get("refresh_token")
        if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
            raise BadResponse(f"The service at {self.base_url} answered a sign-in without its tokens.")
        old = self.tokens.load()
        device = str(pair.get("device_token") or (old.device_token if old else "") or "")
        self.tokens.save(Tokens("", access, refresh, device))
        email = str(self.me().get("email") or "").strip().lower()
        tokens = Tokens(email, access, refresh, device)
        self.tokens.save(tokens)
        self._security("sign_in", f"{email} at {self.identity} (Google)")
        return tokens

    def logout(self) -> None:
        """End this session on the service (best effort) and forget the tokens."""
        email = self.signed_in_email or ""
        try:
            self.call("POST", "/auth/logout")
        except (SignedOut, Offline):
            pass
        finally:
            self._forget()
            self._security("sign_out", f"{email} at {self.identity}")

    def _forget(self) -> None:
        tokens = self.tokens.load()
        self.tokens.clear()
        if tokens and tokens.device_token:  # the device stays trusted for the next sign-in
            self.tokens.save(Tokens(tokens.email, "", "", tokens.device_token))

    def me(self) -> dict[str, Any]:
        return self._dict(self.call("GET", "/me"))

    def sessions(self) -> list[dict[str, Any]]:
        return self._list(self.call("GET", "/me/sessions"))

    def end_session(self, session_id: int) -> None:
        self.call("DELETE", f"/me/sessions/{int(session_id)}")

    def sign_out_everywhere(self) -> None:
        """End every session of the account, this one included."""
        email = self.signed_in_email or ""
        try:
            self.call("POST", "/me/sessions/revoke-all")
        finally:
            self._forget()
            self._security("sign_out", f"{email} at {self.identity} (every session)")

    def devices(self) -> list[dict[str, Any]]:
        return self._list(self.call("GET", "/me/devices"))

    def forget_device(self, device_id: int) -> None:
        self.call("DELETE", f"/me/devices/{int(device_id)}")

    def totp_setup(self) -> dict[str, Any]:
        """Start 2FA enrolment: ``secret``, ``otpauth_uri``, ``qr_svg``."""
        return self._dict(self.call("POST", "/me/2fa/setup"))

    def totp_enable(self, code: str) -> list[str]:
        """Turn 2FA on with a code from the app; the ten backup codes (shown once)."""
        codes = self._dict(self.call("POST", "/me/2fa/enable", {"code": code.strip()})).get("backup_codes")
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise BadResponse(f"The service at {self.base_url} answered no backup codes.")
        self._security("2fa_change", f"{self.signed_in_email or ''} at {self.identity}: two-factor sign-in turned on")
        return codes

    def change_password(self, current: str, new: str) -> None:
        """Change the password; every other session ends, this one gets a new pair."""
        answer = self.call("PUT", "/me/password", {"current_password": current, "new_password": new})
        old = self.tokens.load()
        email = old.email if old else ""
        self.tokens.save(Tokens(email, self._field(answer, "access_token"), self._field(answer, "refresh_token"),
                                old.device_token if old else ""))
        self._security("password_change", f"{email} at {self.identity}: other sessions ended")

    def delete_account(self, password: str) -> None:
        """Delete the account and everything it owns on the service; forgets the tokens."""
        self.call("DELETE", "/me", {"password": password})
        self.tokens.clear()

    # --- sync --------------------------------------------------------------------------------

    def pull(self, kind: str | None, updated_after: str | None, after_id: int, limit: int = 200) -> dict[str, Any]:
        params: dict[str, Any] = {"after_id": after_id, "limit": limit}
        if kind:
            params["kind"] = kind
        if updated_after:
            params["updated_after"] = updated_after
        page = self._dict(self.call("GET", "/sync/items", params=params))
        if not isinstance(page.get("items"), list) or not isinstance(page.get("cursor"), dict):
            raise BadResponse(f"The service at {self.base_url} answered a sync page in an unknown shape.")
        return page

    def item_path(self, kind: str, key: str) -> str:
        return f"/sync/items/{quote(kind, safe='')}/{quote(key, safe='')}"
