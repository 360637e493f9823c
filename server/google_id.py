"""Verification of Google ID tokens (OpenID Connect Core §3.1.3.7) against the provider's
published keys (JWKS), fetched over HTTPS and cached.

Checked: the algorithm (RS256 only), the signature with the key named by ``kid``, ``iss``
(one of the configured issuers), ``aud`` (our client id; ``azp`` too when several audiences),
``exp`` and ``iat`` (30 s of leeway), a ``sub`` and an ``email`` with ``email_verified``.
The ``nonce`` is returned for the caller to match against the ones it handed out.

The key set is cached for its ``Cache-Control: max-age`` (between 5 minutes and a day,
1 hour without one). A token naming an unknown ``kid`` (Google rotates its keys) makes one
refetch, at most every ``MIN_REFETCH_S`` seconds, so forged ``kid`` values cannot make the
service hammer the provider."""
from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

import jwt

ALGORITHMS = ["RS256"]
LEEWAY_S = 30
MIN_REFETCH_S = 30.0
DEFAULT_TTL_S = 3600.0
MAX_JWKS_BYTES = 1 << 20


class IdTokenError(ValueError):
    """The ID token was refused; the message says why in one sentence."""


class ProviderUnavailable(RuntimeError):
    """The provider's key set could not be fetched."""


Fetch = Callable[[str], tuple[bytes, float | None]]


def fetch_url(url: str) -> tuple[bytes, float | None]:
    """GET ``url`` (5 s timeout, at most 1 MiB): (body, max-age in seconds or None)."""
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - https in production (Settings.check)
        body = resp.read(MAX_JWKS_BYTES + 1)
        cache_control = resp.headers.get("Cache-Control", "")
    if len(body) > MAX_JWKS_BYTES:
        raise ProviderUnavailable("the provider's key set is larger than 1 MiB")
    m = re.search(r"max-age=(\d+)", cache_control)
    return body, float(m.group(1)) if m else None


class JwksCache:
    """The provider's signing keys by ``kid``, refreshed when stale or when a token names a
    key we have not seen (rate-limited)."""

    def __init__(self, url: str, fetch: Fetch = fetch_url,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url, self.fetch, self.clock = url, fetch, clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -1e18
        self._expires_at = -1e18
        self._lock = threading.Lock()
        self.fetches = 0

    def _refresh(self) -> None:
        try:
            body, max_age = self.fetch(self.url)
            data = json.loads(body)
        except ProviderUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - network, HTTP or JSON: one answer
            raise ProviderUnavailable(f"the provider's keys could not be fetched from {self.url}: {exc}") from None
        finally:
            self._fetched_at = self.clock()
            self.fetches += 1
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in data.get("keys", []) if isinstance(data, dict) else []:
            if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
                continue
            if jwk.get("kty") != "RSA" or jwk.get("alg", "RS256") != "RS256" or jwk.get("use", "sig") != "sig":
                continue
            try:
                keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="RS256")
            except jwt.PyJWTError:
                continue
        self._keys = keys
        ttl = DEFAULT_TTL_S if max_age is None else min(86400.0, max(300.0, max_age))
        self._expires_at = self._fetched_at + ttl

    def key(self, kid: str) -> jwt.PyJWK:
        """The key ``kid``; raises ``IdTokenError`` when the provider does not publish it and
        ``ProviderUnavailable`` when the key set cannot be fetched."""
        with self._lock:
            if self.clock() >= self._expires_at:
                self._refresh()
            if kid not in self._keys and self.clock() - self._fetched_at >= MIN_REFETCH_S:
                self._refresh()  # keys rotated since we fetched them
            found = self._keys.get(kid)
        if found is None:
            raise IdTokenError("The ID token is signed with a key the provider does not publish.")
        return found


def verify_id_token(token: str, client_id: str, issuers: Sequence[str], jwks: JwksCache) -> dict[str, Any]:
    """The claims of a Google ID token issued to ``client_id``; raises ``IdTokenError``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise IdTokenError("The ID token is malformed.") from None
    if header.get("alg") not in ALGORITHMS:
        raise IdTokenError("The ID token's algorithm is not accepted (RS256 only).")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise IdTokenError("The ID token names no signing key.")
    key = jwks.key(kid)
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key.key, algorithms=ALGORITHMS, audience=client_id, issuer=list(issuers),
            options={"require": ["iss", "aud", "sub", "exp", "iat"]}, leeway=LEEWAY_S)
    except jwt.ExpiredSignatureError:
        raise IdTokenError("The ID token has expired.") from None
    except jwt.InvalidAudienceError:
        raise IdTokenError("The ID token was issued to another client (audience).") from None
    except jwt.InvalidIssuerError:
        raise IdTokenError("The ID token is from another issuer.") from None
    except jwt.InvalidSignatureError:
        raise IdTokenError("The ID token's signature does not verify.") from None
    except jwt.PyJWTError as exc:
        raise IdTokenError(f"The ID token is not valid ({exc}).") from None
    aud = claims["aud"]
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != client_id:
        raise IdTokenError("The ID token was issued to another client (azp).")
    if not isinstance(claims.get("sub"), str) or not claims["sub"] or len(claims["sub"]) > 255:
        raise IdTokenError("The ID token has no valid subject.")
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        raise IdTokenError("The ID token carries no e-mail address (ask for the 'email' scope).")
    if claims.get("email_verified") not in (True, "true"):
        raise IdTokenError("The Google account's e-mail address is not verified.")
    return claims
