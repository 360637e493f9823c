"""Sentiment benchmark.

* ``sentiment.throughput``: our finance-aware ``score`` (one batch call) against plain VADER
  (``polarity_scores`` per sentence) over the same sentences in the same run: the Financial
  PhraseBank development half when ../shared/data has it (not in the repository: CC BY-NC-SA
  3.0), else a seeded generated corpus of finance headlines. Times are per sentence; the goal
  is ours ≤ 2 × VADER (ratio ≥ 0.5). The note also gives both macro-F1 figures when labels
  are available.
"""
from __future__ import annotations

import csv
import random
import statistics
import time

from bench.core import SHARED_DATA, Result, benchmark

PHRASEBANK = SHARED_DATA / "financial-phrasebank-dev.csv"


def generated_corpus(n: int = 2000, seed: int = 7) -> list[str]:
    """Seeded finance headlines and general sentences (for a checkout without the data)."""
    rng = random.Random(seed)
    firms = ["Nokia", "Outokumpu", "Fortum", "Acme Corp", "Stora Enso", "Kone"]
    nouns = ["operating profit", "net sales", "net loss", "costs", "order intake", "net debt"]
    verbs = ["rose", "fell", "narrowed", "widened", "increased", "decreased", "was flat"]
    other = ["The company beats estimates.", "Analysts downgrade the stock.",
             "The group announced layoffs.", "The book was good.", "Today SUX!",
             "The new plant will be built in Finland ."]
    out = []
    for _ in range(n):
        if rng.random() < 0.2:
            out.append(rng.choice(other))
        else:
            out.append(f"{rng.choice(firms)} 's {rng.choice(nouns)} {rng.choice(verbs)} to EUR "
                       f"{rng.uniform(0.1, 300):.1f} mn from EUR {rng.uniform(0.1, 300):.1f} mn "
                       f"in the {rng.choice(['first', 'second', 'third'])} quarter .")
    return out


@benchmark("sentiment.throughput")
def bench_throughput() -> Result:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from engine.sentiment import FinanceSentiment, label_of

    labels: list[str] | None = None
    if PHRASEBANK.is_file():
        with PHRASEBANK.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        texts = [r["sentence"] for r in rows]
        labels = [r["label"] for r in rows]
        corpus = f"phrasebank dev, {len(texts)} sentences"
    else:
        texts = generated_corpus()
        corpus = f"generated corpus, {len(texts)} sentences (phrasebank absent)"
    ours = FinanceSentiment()
    vader = SentimentIntensityAnalyzer()
    holder: dict[str, list[str]] = {}

    def run_ours() -> None:
        holder["ours"] = [s.label for s in ours.score(texts)]

    def run_vader() -> None:
        holder["vader"] = [label_of(vader.polarity_scores(t)["compound"]) for t in texts]

    run_ours()
    run_vader()
    # Alternating rounds so both see the same minutes of a shared machine; CPU time (the
    # process's), since wall time there mostly measures waiting for a core. Best of 7 each.
    o_t, p_t = [], []
    for _ in range(7):
        for fn, acc in ((run_ours, o_t), (run_vader, p_t)):
            c = time.process_time()
            fn()
            acc.append(time.process_time() - c)
    ours_s, peer_s = min(o_t) / len(texts), min(p_t) / len(texts)
    med = statistics.median(o_t) / statistics.median(p_t)
    note = (f"{corpus}; {1 / ours_s:,.0f} vs {1 / peer_s:,.0f} sentences/s (CPU, best of 7 alternating); "
            f"ours/VADER time {ours_s / peer_s:.2f}, of the medians {med:.2f} (goal ≤ 2)")
    if labels is not None:
        from engine.sentiment.train import macro_f1

        classes = ["negative", "neutral", "positive"]
        import numpy as np

        y = np.array([classes.index(v) for v in labels])
        f_o = macro_f1(y, np.array([classes.index(v) for v in holder["ours"]]))
        f_v = macro_f1(y, np.array([classes.index(v) for v in holder["vader"]]))
        note += (f"; macro-F1 ours {f_o:.3f} (in-sample; cross-validated "
                 f"{ours.model.meta.get('cv_macro_f1', float('nan')):.3f}) vs VADER {f_v:.3f}")
    return Result("sentiment.throughput", ours_s, "vaderSentiment", peer_s, note)
