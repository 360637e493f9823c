"""Finance-aware sentiment over VADER: ``score(texts) -> list[SentimentScore]``.

See ``analyzer`` for the scoring path, ``features`` and ``lexicon`` for the finance rules,
``train`` for how the shipped weights (resources/sentiment/) are made.
"""
from engine.sentiment.analyzer import (
    FinanceSentiment,
    SentimentScore,
    default_analyzer,
    label_of,
    score,
)

__all__ = ["FinanceSentiment", "SentimentScore", "default_analyzer", "label_of", "score"]
