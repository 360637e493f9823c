"""A small fuzzy scorer for the command palette (VS Code's "quick open" style): every query
character must appear in order; matches at word starts and runs of adjacent characters score
higher, and a shorter candidate wins a tie.

Written here rather than taking rapidfuzz: rapidfuzz's scorers are edit-distance ratios, which
do not require the typed letters in order (so "ws" matches "Swing"); the palette needs
subsequence matching with word-start bonuses, a few dozen lines.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

_WORD_START = 8
_ADJACENT = 5
_FIRST_CHAR = 10
_BASE = 1


def _is_boundary(text: str, i: int) -> bool:
    if i == 0:
        return True
    prev, ch = text[i - 1], text[i]
    return not prev.isalnum() or (prev.islower() and ch.isupper())


def score(query: str, text: str) -> int | None:
    """The score of ``text`` for ``query`` (higher is better), or None when it does not match.
    Case-insensitive; spaces in the query are ignored."""
    q = "".join(query.lower().split())
    if not q:
        return 0
    low = text.lower()
    # dynamic programme over (query index, text index): best score with q[i] matched at j
    n, m = len(q), len(low)
    if n > m:
        return None
    neg = -(10**9)
    prev = [neg] * m
    for j in range(m):
        if low[j] == q[0]:
            prev[j] = _BASE + (_WORD_START if _is_boundary(text, j) else 0) + (_FIRST_CHAR if j == 0 else 0)
    for i in range(1, n):
        cur = [neg] * m
        best_before = neg  # max of prev[k] for k < j - 1
        for j in range(i, m):
            if j - 2 >= 0:
                best_before = max(best_before, prev[j - 2])
            if low[j] != q[i]:
                continue
            bonus = _BASE + (_WORD_START if _is_boundary(text, j) else 0)
            cand = max(prev[j - 1] + _ADJACENT if prev[j - 1] > neg else neg,
                       best_before if best_before > neg else neg)
            if cand > neg:
                cur[j] = cand + bonus
        prev = cur
    best = max(prev)
    if best <= neg:
        return None
    return best * 4 - len(text) // 4  # a shorter candidate wins a tie


def rank(query: str, items: Iterable[T], text: Callable[[T], str] = str, limit: int = 200) -> list[T]:
    """``items`` matching ``query``, best first (stable for equal scores)."""
    scored: list[tuple[int, int, T]] = []
    for n, item in enumerate(items):
        s = score(query, text(item))
        if s is not None:
            scored.append((-s, n, item))
    scored.sort(key=lambda t: (t[0], t[1]))
    return [t[2] for t in scored[:limit]]
