"""RFC 4226 (HOTP) and RFC 6238 (TOTP) test vectors through server.security's code path."""
from __future__ import annotations

import base64

import pytest

from server.security import hotp_code, match_totp, totp_code, totp_step

SHA1_KEY = b"12345678901234567890"
KEYS = {"sha1": SHA1_KEY, "sha256": b"12345678901234567890123456789012",
        "sha512": b"1234567890123456789012345678901234567890123456789012345678901234"}


def b32(key: bytes) -> str:
    return base64.b32encode(key).decode()


@pytest.mark.parametrize("counter,expected", list(enumerate(
    ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"])))
def test_rfc4226_hotp(counter: int, expected: str) -> None:
    assert hotp_code(b32(SHA1_KEY), counter) == expected


RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize("t,sha1,sha256,sha512", RFC6238)
def test_rfc6238_totp(t: int, sha1: str, sha256: str, sha512: str) -> None:
    for digest, expected in (("sha1", sha1), ("sha256", sha256), ("sha512", sha512)):
        assert totp_code(b32(KEYS[digest]), t, digits=8, digest=digest) == expected


def test_totp_code_accepted_once_with_one_step_of_drift() -> None:
    secret = b32(SHA1_KEY)
    now = 1_700_000_000.0
    step = totp_step(now)
    code = totp_code(secret, now)
    assert match_totp(secret, code, now, last_step=0) == step
    assert match_totp(secret, code, now, last_step=step) is None  # replay of the same step
    assert match_totp(secret, totp_code(secret, now - 30), now, 0) == step - 1
    assert match_totp(secret, totp_code(secret, now + 30), now, 0) == step + 1
    assert match_totp(secret, totp_code(secret, now - 60), now, 0) is None  # two steps off
    # after step s was used, the previous step's code is refused too (never go back)
    assert match_totp(secret, totp_code(secret, now - 30), now, last_step=step) is None
    assert match_totp(secret, "12345", now, 0) is None and match_totp(secret, "abcdef", now, 0) is None
