"""Features of one text for the finance sentiment model.

Dense features (``DENSE_NAMES``): VADER's four scores (with the finance lexicon), counts from
the finance rules (directional word × financial noun, numeric comparisons "to X from Y",
swings "turned to a loss", comparatives "beats estimates", negation, lexicon hits) and a
few shape features. Sparse features: word and word-bigram ids hashed into ``n_buckets``
slots (stable CRC-32, so the ids are the same in every process).
"""
from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from engine.sentiment.lexicon import (
    BAD_NOUNS,
    BEAT_WORDS,
    BOUNDARIES,
    DOWN_WORDS,
    EXPECTATIONS,
    FINANCE_CONTEXT,
    FINANCE_VALENCE,
    GOOD_NOUNS,
    MISS_WORDS,
    NEGATORS,
    NOT_DIRECTION_BEFORE_DOWN,
    NOT_DIRECTION_BEFORE_UP,
    SWING_WORDS,
    UP_WORDS,
)

_TOKEN = re.compile(r"[a-z]+(?:[-'][a-z]+)*|\d+(?:[.,]\d+)*|n't|[%$€£,;:.!?()]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SCALE: Final[dict[str, float]] = {"mn": 1e6, "million": 1e6, "m": 1e6, "mln": 1e6,
                                   "bn": 1e9, "billion": 1e9, "b": 1e9, "thousand": 1e3,
                                   "k": 1e3, "%": 1.0}
_CONNECTORS: Final[frozenset[str]] = frozenset("from compared against versus vs".split())
_STRONG_BOUNDARIES: Final[frozenset[str]] = frozenset("; . ! ? while whereas but although".split())

DENSE_NAMES: Final[tuple[str, ...]] = (
    "bias", "vader_compound", "vader_pos", "vader_neg", "vader_neu",
    "dir_pos", "dir_neg", "up_good", "down_good", "up_bad", "down_bad",
    "up_unattached", "down_unattached", "num_pos", "num_neg", "swing_pos", "swing_neg",
    "beat", "miss", "lex_pos", "lex_neg", "negations", "good_nouns", "bad_nouns",
    "has_number", "log_tokens",
)
N_DENSE: Final[int] = len(DENSE_NAMES)
_IX: Final[dict[str, int]] = {n: i for i, n in enumerate(DENSE_NAMES)}
#: the rule counts, capped at 3 (all but the VADER scores and the two shape features)
CLIPPED: Final[range] = range(5, N_DENSE - 2)

#: Every word some rule looks at (the others are skipped in one look-up).
_KIND: Final[frozenset[str]] = (UP_WORDS | DOWN_WORDS | _CONNECTORS | SWING_WORDS | BEAT_WORDS
                                | MISS_WORDS | frozenset(FINANCE_VALENCE) | GOOD_NOUNS | BAD_NOUNS
                                | NEGATORS)

_START: Final[int] = 0x5BD1E995
_MUL: Final[int] = 0x9E3779B1
_ADD: Final[int] = 0x7F4A7C15
_hash_cache: dict[str, int] = {}
_HASH_CACHE_MAX: Final[int] = 200_000


def tokenize(text: str) -> list[str]:
    """Lower-case word, number and punctuation tokens of ``text``."""
    return _TOKEN.findall(text.lower())


def is_financial(tokens: list[str]) -> bool:
    """True when any token is finance vocabulary (then the finance layer applies)."""
    return not FINANCE_CONTEXT.isdisjoint(tokens)


def _h(tok: str) -> int:
    h = _hash_cache.get(tok)
    if h is None:
        h = zlib.crc32(("<num>" if tok[0].isdigit() else tok).encode("utf-8"))
        if len(_hash_cache) < _HASH_CACHE_MAX:
            _hash_cache[tok] = h
    return h


def token_hashes(tokens: list[str]) -> list[int]:
    """32-bit CRC of each token (numbers folded to one token), cached."""
    cache = _hash_cache
    return [cache[t] if t in cache else _h(t) for t in tokens]


def rule_hashes(rule: Sequence[str]) -> list[int]:
    """32-bit CRC of each rule token (kept apart from words by a prefix)."""
    return [_h("#" + r) for r in rule]


def bucket_ids(word_h: npt.NDArray[np.uint64], first: npt.NDArray[np.bool_], n_buckets: int
               ) -> npt.NDArray[np.int64]:
    """Vectorised ``hashed_ids`` for many texts: unigram then bigram buckets of the
    concatenated word hashes; ``first`` marks the first word of each text."""
    mask = np.uint64(n_buckets - 1)
    prev = np.empty_like(word_h)
    if len(word_h):
        prev[1:] = word_h[:-1]
        prev[first] = np.uint64(_START)
    bi = ((prev * np.uint64(_MUL)) ^ (word_h + np.uint64(_ADD))) & np.uint64(0xFFFFFFFF) & mask
    out: npt.NDArray[np.int64] = np.concatenate([word_h & mask, bi]).astype(np.int64)
    return out


def hashed_ids(tokens: list[str], n_buckets: int, rule: Sequence[str] = ()) -> list[int]:
    """Bucket ids of the unigrams and bigrams (numbers folded to one token) and of the
    rule tokens (kept apart from the words by a prefix)."""
    mask = n_buckets - 1
    hs = token_hashes(tokens)
    ids = [h & mask for h in hs]
    prev = _START  # start-of-text marker, so the first word also forms a bigram
    for h in hs:
        ids.append(((prev * _MUL) ^ (h + _ADD)) & 0xFFFFFFFF & mask)
        prev = h
    return ids + [h & mask for h in rule_hashes(rule)]


def _noun_sign(tok: str) -> int:
    if tok in GOOD_NOUNS:
        return 1
    if tok in BAD_NOUNS:
        return -1
    return 0


def _left_noun(tokens: list[str], i: int, reach: int, strong_only: bool) -> tuple[int, int]:
    """(sign, distance) of the nearest financial noun left of ``i`` inside the clause
    (sign 0 when there is none)."""
    stops = _STRONG_BOUNDARIES if strong_only else BOUNDARIES
    for d in range(1, reach + 1):
        j = i - d
        if j < 0 or tokens[j] in stops:
            break
        s = _noun_sign(tokens[j])
        if s:
            return s, d
    return 0, 0


def _right_noun(tokens: list[str], i: int, reach: int) -> tuple[int, int]:
    n = len(tokens)
    for d in range(1, reach + 1):
        j = i + d
        if j >= n or tokens[j] in BOUNDARIES:
            break
        s = _noun_sign(tokens[j])
        if s:
            return s, d
    return 0, 0


def _negated(tokens: list[str], i: int) -> bool:
    for j in range(max(0, i - 3), i):
        if tokens[j] in NEGATORS:
            return True
    return False


def _number_at(tokens: list[str], j: int) -> float | None:
    t = tokens[j]
    if not _NUMBER.fullmatch(t):
        return None
    try:
        v = float(t.replace(",", ""))
    except ValueError:
        return None
    if j + 1 < len(tokens):
        v *= _SCALE.get(tokens[j + 1], 1.0)
    return v


def _near_number(tokens: list[str], start: int, stop: int, step: int) -> tuple[int, float] | None:
    for j in range(start, stop, step):
        if tokens[j] in _STRONG_BOUNDARIES:
            return None
        v = _number_at(tokens, j)
        if v is not None:
            return j, v
    return None


def _polarity(direction: int, left: int, right: int, prefer_left: bool) -> tuple[int, int]:
    """(polarity, noun sign used) of a movement given the noun classes found on each side.

    When the movement compares the current figure (left) with an earlier one of the other
    class ("a loss of 0.9 mn, down from a profit of 2.7 mn"), the current noun decides.
    """
    if left and right and prefer_left:
        if left != right:
            return left, left
        return direction * left, left
    noun = left or right
    return direction * noun, noun


def finance_features(tokens: list[str], vader: dict[str, float], clip: bool = True
                     ) -> tuple[list[float], list[str], list[str]]:
    """The dense feature vector (order of ``DENSE_NAMES``) of one tokenised text, its rule
    tokens ("sales|up", "loss|down", "beat": the movements found, so that "sales rose",
    "sales grew" and "higher sales" share a feature) and the tokens to hash.

    (Replacing the matched words by their classes, "<down> its <bad>", was tried: 5-fold
    macro-F1 fell from 0.728 to 0.718, so the words are hashed as they are.)

    The rule counts (``CLIPPED``) are capped at 3; ``clip=False`` leaves that to the caller
    (``FinanceSentiment.features`` caps a whole batch in one numpy call)."""
    f = [0.0] * N_DENSE
    rule: list[str] = []
    f[0] = 1.0
    f[1] = vader["compound"]
    f[2] = vader["pos"]
    f[3] = vader["neg"]
    f[4] = vader["neu"]
    n = len(tokens)
    ix = _IX
    kinds = _KIND
    for i, t in enumerate(tokens):
        if t not in kinds:  # most words play no part in any rule
            if t[0].isdigit():
                f[ix["has_number"]] = 1.0
            continue
        up = t in UP_WORDS
        down = (not up) and t in DOWN_WORDS
        if up or down:
            prev = tokens[i - 1] if i else ""
            if (up and t == "up" and prev in NOT_DIRECTION_BEFORE_UP) or (
                    down and t == "down" and prev in NOT_DIRECTION_BEFORE_DOWN):
                continue
            direction = 1 if up else -1
            if _negated(tokens, i):
                direction = -direction
                f[ix["negations"]] += 1.0
            followed_by_from = i + 1 < n and tokens[i + 1] in _CONNECTORS
            if followed_by_from:
                ls, dl = _left_noun(tokens, i, 10, strong_only=True)
                rs, dr = _right_noun(tokens, i + 1, 4)
                pol, noun = _polarity(direction, ls, rs, prefer_left=True)
                wj = i - dl if ls else (i + 1 + dr if rs else -1)
            else:
                ls, dl = _left_noun(tokens, i, 6, strong_only=False)
                rs, dr = _right_noun(tokens, i, 4)
                if ls and (not rs or dl <= dr):
                    pol, noun, wj = direction * ls, ls, i - dl
                else:
                    pol, noun = direction * rs, rs
                    wj = i + dr if rs else -1
            if noun == 0:
                f[ix["up_unattached" if up else "down_unattached"]] += 1.0
                continue
            word = tokens[wj] if wj >= 0 else ""
            rule.append(f"{word}|{'up' if direction > 0 else 'down'}")
            rule.append("rule+" if pol > 0 else "rule-")
            f[ix["dir_pos" if pol > 0 else "dir_neg"]] += 1.0
            key = ("up_" if direction > 0 else "down_") + ("good" if noun > 0 else "bad")
            f[ix[key]] += 1.0
        elif t in _CONNECTORS:
            _numeric_comparison(tokens, i, f)
        elif t in SWING_WORDS:
            for j in range(i + 1, min(n, i + 3)):
                if tokens[j] in ("to", "into"):
                    s, _ = _right_noun(tokens, j, 3)
                    if s:
                        f[ix["swing_pos" if s > 0 else "swing_neg"]] += 1.0
                    break
        if t in BEAT_WORDS or t in MISS_WORDS:
            for j in range(i + 1, min(n, i + 4)):
                if tokens[j] in EXPECTATIONS:
                    beat = t in BEAT_WORDS
                    if _negated(tokens, i):
                        beat = not beat
                    f[ix["beat" if beat else "miss"]] += 1.0
                    rule.append("beat" if beat else "miss")
                    break
        v = FINANCE_VALENCE.get(t)
        if v:
            f[ix["lex_pos" if v > 0 else "lex_neg"]] += 1.0
        s = _noun_sign(t)
        if s:
            f[ix["good_nouns" if s > 0 else "bad_nouns"]] += 1.0
        elif t in NEGATORS:
            f[ix["negations"]] += 0.5
        if t[0].isdigit():
            f[ix["has_number"]] = 1.0
    f[ix["log_tokens"]] = math.log1p(n) / 4.0
    if clip:
        for k in CLIPPED:
            f[k] = min(f[k], 3.0)
    return f, rule, tokens


def _numeric_comparison(tokens: list[str], i: int, f: list[float]) -> None:
    """"X … from Y", "from Y to X", "X compared to/with Y": the sign of X − Y on the noun
    that X measures (flipped for cost-like nouns)."""
    n = len(tokens)
    after = _near_number(tokens, i + 1, min(n, i + 6), 1)
    if after is None:
        return
    j_after, v_after = after
    current: tuple[int, float] | None = None
    previous = v_after
    j_current_noun = -1
    if tokens[i] == "from":
        for k in range(j_after + 1, min(n, j_after + 5)):
            if tokens[k] == "to":
                nxt = _near_number(tokens, k + 1, min(n, k + 4), 1)
                if nxt is not None:
                    current = nxt
                    j_current_noun = i  # "sales rose from X to Y": the noun is left of "from"
                break
    if current is None:
        before = _near_number(tokens, i - 1, max(-1, i - 9), -1)
        if before is None:
            return
        current = before
        j_current_noun = before[0]
    if previous <= 0 or abs(current[1] - previous) <= 0.005 * previous:
        return
    direction = 1 if current[1] > previous else -1
    ls, _ = _left_noun(tokens, j_current_noun, 15, strong_only=True)
    rs, _ = _right_noun(tokens, i, max(1, j_after - i))
    pol, noun = _polarity(direction, ls, rs, prefer_left=True)
    if noun == 0:
        return
    f[_IX["num_pos" if pol > 0 else "num_neg"]] += 1.0
