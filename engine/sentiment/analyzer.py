"""Finance-aware sentiment: VADER plus a finance layer (lexicon, directional verbs ×
financial nouns, negation, comparatives) feeding a small linear model.

Texts with no finance vocabulary (``features.is_financial``) are scored exactly as plain
VADER scores them, so VADER's behaviour on general text is kept.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from engine.sentiment.features import (
    CLIPPED,
    N_DENSE,
    bucket_ids,
    finance_features,
    is_financial,
    rule_hashes,
    token_hashes,
    tokenize,
)
from engine.sentiment.lexicon import FINANCE_VADER_LEXICON
from engine.sentiment.model import (
    CLASSES,
    FloatArray,
    IntArray,
    LinearModel,
    compound_from_probabilities,
)

Label = Literal["positive", "neutral", "negative"]
#: VADER's published thresholds (README "About the Scoring").
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
#: Longest text accepted, in characters (a news article body is far shorter).
MAX_TEXT_CHARS = 100_000


def label_of(compound: float) -> Label:
    """VADER's reading of a compound score: ≥ 0.05 positive, ≤ −0.05 negative, else neutral."""
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"


@dataclass(frozen=True, slots=True)
class SentimentScore:
    """One text's sentiment: ``compound`` in −1…1 and its ``label`` (VADER thresholds);
    ``financial`` says whether the finance layer applied (else the score is plain VADER's)."""

    compound: float
    label: Label
    financial: bool


def default_weights_path() -> Path:
    """The shipped weights, ``resources/sentiment/model.json``."""
    return Path(str(resources.files("resources").joinpath("sentiment", "model.json")))


def _check_texts(texts: Sequence[str]) -> None:
    if isinstance(texts, (str, bytes)):
        raise TypeError("texts must be a sequence of strings, not a single string")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"text {i} is {type(t).__name__}, not str")
        if len(t) > MAX_TEXT_CHARS:
            raise ValueError(f"text {i} has {len(t):,} characters; at most {MAX_TEXT_CHARS:,} "
                             "are scored")


@dataclass(frozen=True, slots=True)
class Batch:
    """Features of a batch of texts: ``financial`` mask, plain-VADER compounds of the others,
    and the model inputs of the financial ones (in order)."""

    financial: list[bool]
    vader_compound: list[float]
    dense: FloatArray
    rows: IntArray
    ids: IntArray


class FinanceSentiment:
    """Scores texts; one instance is safe to share between threads (nothing is mutated)."""

    def __init__(self, model: LinearModel | None = None) -> None:
        self.model = model if model is not None else LinearModel.load(default_weights_path())
        self._plain = SentimentIntensityAnalyzer()
        self._finance = SentimentIntensityAnalyzer()
        self._finance.lexicon.update(FINANCE_VADER_LEXICON)

    def vader(self, text: str) -> dict[str, float]:
        """Plain VADER's scores of ``text`` (no finance layer)."""
        scores: dict[str, float] = self._plain.polarity_scores(text)
        return scores

    def features(self, texts: Sequence[str]) -> Batch:
        """Model inputs of ``texts`` (validated as in ``score``)."""
        _check_texts(texts)
        nb = self.model.n_buckets
        fin: list[bool] = []
        vc: list[float] = []
        dense: list[list[float]] = []
        word_h: list[int] = []
        word_rows: list[int] = []
        rule_h: list[int] = []
        rule_rows: list[int] = []
        for text in texts:
            toks = tokenize(text)
            if is_financial(toks):
                fin.append(True)
                vc.append(0.0)
                vs = self._finance.polarity_scores(text)
                r = len(dense)
                fv, rule, htoks = finance_features(toks, vs, clip=False)
                dense.append(fv)
                word_h.extend(token_hashes(htoks))
                word_rows.extend([r] * len(htoks))
                if rule:
                    rule_h.extend(rule_hashes(rule))
                    rule_rows.extend([r] * len(rule))
            else:
                fin.append(False)
                vc.append(float(self._plain.polarity_scores(text)["compound"]))
        d = np.asarray(dense, dtype=np.float64).reshape(len(dense), N_DENSE)
        np.minimum(d[:, CLIPPED.start:CLIPPED.stop], 3.0, out=d[:, CLIPPED.start:CLIPPED.stop])
        wh = np.asarray(word_h, dtype=np.uint64)
        wr = np.asarray(word_rows, dtype=np.int64)
        first = np.ones(len(wr), dtype=bool)
        first[1:] = wr[1:] != wr[:-1]
        ids = np.concatenate([bucket_ids(wh, first, nb),
                              (np.asarray(rule_h, dtype=np.uint64) & np.uint64(nb - 1))
                              .astype(np.int64)])
        rows = np.concatenate([wr, wr, np.asarray(rule_rows, dtype=np.int64)])
        return Batch(fin, vc, d, rows, ids)

    def score(self, texts: Sequence[str]) -> list[SentimentScore]:
        """Sentiment of each text, in input order (one vectorised model pass for the batch).

        Raises TypeError when ``texts`` is not a sequence of str, ValueError for a text longer
        than MAX_TEXT_CHARS.
        """
        b = self.features(texts)
        comp: list[float] = []
        if len(b.dense):
            p = self.model.probabilities(b.dense, b.rows, b.ids)
            comp = [float(c) for c in compound_from_probabilities(p)]
        out: list[SentimentScore] = []
        k = 0
        for is_fin, v in zip(b.financial, b.vader_compound):
            if is_fin:
                c = comp[k]
                k += 1
                out.append(SentimentScore(c, label_of(c), True))
            else:
                out.append(SentimentScore(v, label_of(v), False))
        return out

    def labels(self, texts: Sequence[str]) -> list[Label]:
        """Just the labels of ``score(texts)``."""
        return [s.label for s in self.score(texts)]


_default: FinanceSentiment | None = None
_default_lock = threading.Lock()


def default_analyzer() -> FinanceSentiment:
    """The shared analyzer with the shipped weights (loaded on first use, ~0.1 s)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = FinanceSentiment()
        return _default


def score(texts: Sequence[str]) -> list[SentimentScore]:
    """Finance-aware sentiment of each text, in input order, with the shipped model.

    ``compound`` is in −1…1 and ``label`` is its VADER reading (≥ 0.05 positive, ≤ −0.05
    negative). Texts without finance vocabulary score exactly as plain VADER.
    Raises TypeError when ``texts`` is not a sequence of str, ValueError for a text longer
    than MAX_TEXT_CHARS characters.
    """
    return default_analyzer().score(texts)


__all__ = ["CLASSES", "Batch", "FinanceSentiment", "SentimentScore", "default_analyzer",
           "label_of", "score"]
