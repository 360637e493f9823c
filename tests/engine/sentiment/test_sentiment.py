"""Finance-aware sentiment: VADER kept on general text, finance rules, shipped weights."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from engine.sentiment import FinanceSentiment, label_of, score
from engine.sentiment.analyzer import default_weights_path
from engine.sentiment.features import finance_features, is_financial, tokenize
from engine.sentiment.model import LinearModel, ModelFileError, compound_from_probabilities
from engine.sentiment.train import accuracy, macro_f1

# The examples of the vaderSentiment README with the compound scores it publishes.
VADER_README = {
    "VADER is smart, handsome, and funny.": 0.8316,
    "VADER is smart, handsome, and funny!": 0.8439,
    "VADER is very smart, handsome, and funny.": 0.8545,
    "VADER is VERY SMART, handsome, and FUNNY.": 0.9227,
    "VADER is VERY SMART, handsome, and FUNNY!!!": 0.9342,
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!": 0.9469,
    "VADER is not smart, handsome, nor funny.": -0.7424,
    "The book was good.": 0.4404,
    "At least it isn't a horrible book.": 0.431,
    "The book was only kind of good.": 0.3832,
    "The plot was good, but the characters are uncompelling and the dialog is not great.": -0.7042,
    "Today SUX!": -0.5461,
    "Today only kinda sux! But I'll get by, lol": 0.5249,
    "Make sure you :) or :D today!": 0.8633,
    "Not bad at all": 0.431,
}
# Published as 0.7003 by an older lexicon; vaderSentiment 3.3.2's emoji lexicon gives 0.875.
EMOJI = "Catch utf-8 emoji such as 💘 and 💋 and 😁"


def test_vader_readme_examples_score_as_published():
    got = score(list(VADER_README))
    for (text, published), s in zip(VADER_README.items(), got):
        assert not s.financial, text
        assert s.compound == pytest.approx(published, abs=1e-9), text
        assert s.label == label_of(published)


def test_emoji_example_scores_as_installed_vader():
    expected = SentimentIntensityAnalyzer().polarity_scores(EMOJI)["compound"]
    [s] = score([EMOJI])
    assert not s.financial and s.compound == expected


@pytest.mark.parametrize("text, label", [
    ("Operating profit fell to EUR 1.2 mn", "negative"),
    ("Net loss narrowed to EUR 0.3 mn", "positive"),
    pytest.param("The company cut its debt", "positive", marks=pytest.mark.xfail(
        strict=True, reason="known limit: the rule fires (see test_direction_times_noun_rules) "
        "but the learned weights of 'cut' and 'debt' outweigh it; debt falling is rare in "
        "the training data")),
    ("Costs rose 20 %", "negative"),
    ("The company beats estimates", "positive"),
    ("The company cuts guidance", "negative"),
    ("Analysts downgrade the stock", "negative"),
    ("The group announced layoffs", "negative"),
    ("Net sales increased by 12 % to EUR 50.1 mn", "positive"),
    ("Operating loss widened to EUR 4.0 mn", "negative"),
    ("Operating profit totalled EUR 9.0 mn , down from EUR 10.6 mn", "negative"),
    ("Operating profit rose to EUR 13.1 mn from EUR 8.7 mn", "positive"),
])
def test_finance_sentences(text, label):
    [s] = score([text])
    assert s.financial
    assert s.label == label, (text, s)


def test_plain_vader_misreads_the_constructed_sentences():
    # The sentences above are ones VADER gets wrong: the finance layer is what fixes them.
    vader = SentimentIntensityAnalyzer()
    wrong = [t for t, want in [("Net loss narrowed to EUR 0.3 mn", "positive"),
                               ("The company cut its debt", "positive"),
                               ("Operating profit fell to EUR 1.2 mn", "negative"),
                               ("Costs rose 20 %", "negative")]
             if label_of(vader.polarity_scores(t)["compound"]) != want]
    assert len(wrong) >= 3


@pytest.mark.parametrize("text, key", [
    ("Operating profit fell", "down_good"),
    ("Net loss narrowed", "down_bad"),
    ("The company cut its debt", "down_bad"),
    ("Costs rose 20 %", "up_bad"),
    ("Sales did not increase", "down_good"),       # negation flips the movement
    ("Higher sales lifted the result", "up_good"),  # comparative before the noun
])
def test_direction_times_noun_rules(text, key):
    from engine.sentiment.features import DENSE_NAMES

    toks = tokenize(text)
    dense, rule, _ = finance_features(toks, {"compound": 0.0, "pos": 0.0, "neg": 0.0, "neu": 1.0})
    assert dense[DENSE_NAMES.index(key)] >= 1.0, (text, dict(zip(DENSE_NAMES, dense)))
    assert rule


def test_numeric_comparison_and_swing():
    from engine.sentiment.features import DENSE_NAMES

    neutral = {"compound": 0.0, "pos": 0.0, "neg": 0.0, "neu": 1.0}
    f, _, _ = finance_features(tokenize("Operating profit was EUR 12.3 mn compared to EUR 8.9 mn"),
                            neutral)
    assert f[DENSE_NAMES.index("num_pos")] == 1.0
    f, _, _ = finance_features(tokenize("Operating loss totalled EUR 0.9 mn , down from a profit "
                                     "of EUR 2.7 mn"), neutral)
    assert f[DENSE_NAMES.index("dir_neg")] == 1.0 and f[DENSE_NAMES.index("dir_pos")] == 0.0
    f, _, _ = finance_features(tokenize("The unit turned to a loss"), neutral)
    assert f[DENSE_NAMES.index("swing_neg")] == 1.0


def test_general_text_is_not_financial():
    assert not is_financial(tokenize("The book was good."))
    assert is_financial(tokenize("Net sales rose."))


def test_compound_band_matches_label():
    p = np.array([[0.1, 0.2, 0.7], [0.3, 0.4, 0.3], [0.45, 0.1, 0.45], [0.6, 0.39, 0.01],
                  [0.34, 0.33, 0.33], [0.0, 1.0, 0.0]])
    c = compound_from_probabilities(p)
    assert [label_of(float(x)) for x in c] == ["positive", "neutral", "negative", "negative",
                                              "negative", "neutral"]
    assert np.all(np.abs(c) <= 1.0)


def test_bad_input_is_refused_with_a_sentence():
    with pytest.raises(TypeError, match="not a single string"):
        score("profit rose")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="text 1 is float"):
        score(["ok", math.nan])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="characters"):
        score(["x" * 100_001])
    assert score([]) == []


def test_empty_and_whitespace_text_is_neutral():
    assert [s.label for s in score(["", "   "])] == ["neutral", "neutral"]


def test_batch_equals_one_by_one():
    texts = ["Operating profit fell to EUR 1.2 mn", "The book was good.",
             "Net sales rose 5 %", "", "Costs rose 20 %"]
    batch = score(texts)
    for b, t in zip(batch, texts):
        [one] = score([t])
        assert (b.label, b.financial) == (one.label, one.financial)
        assert b.compound == pytest.approx(one.compound, abs=1e-12)


def test_shipped_weights_load_and_document_their_figures():
    model = LinearModel.load(default_weights_path())
    meta = model.meta
    assert meta["cv_macro_f1"] > meta["vader_macro_f1"] + 0.1
    assert meta["cv_accuracy"] > meta["vader_accuracy"]
    card = (default_weights_path().parent / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert f"{meta['cv_macro_f1']:.3f}" in card and f"{meta['vader_macro_f1']:.3f}" in card
    assert "CC BY-NC-SA 3.0" in card


def test_weights_file_errors_are_one_sentence(tmp_path):
    bad = tmp_path / "model.json"
    bad.write_text("{not json")
    with pytest.raises(ModelFileError, match="cannot read"):
        LinearModel.load(bad)
    doc = json.loads(default_weights_path().read_text(encoding="utf-8"))
    doc["dense_names"] = ["bias"]
    bad.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="other features"):
        LinearModel.load(bad)
    doc = json.loads(default_weights_path().read_text(encoding="utf-8"))
    doc["dense"][0][0] = float("nan")
    bad.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="finite"):
        LinearModel.load(bad)


def test_phrasebank_dev_figures(phrasebank, capsys):
    """Figures on the development half (the shipped model was fit on it, so these are
    in-sample; the honest cross-validated ones are in the model card)."""
    with phrasebank.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    classes = ["negative", "neutral", "positive"]
    y = np.array([classes.index(r["label"]) for r in rows])
    fs = FinanceSentiment()
    ours = np.array([classes.index(s.label) for s in fs.score([r["sentence"] for r in rows])])
    vader = np.array([classes.index(label_of(fs.vader(r["sentence"])["compound"])) for r in rows])
    f_ours, f_vader = macro_f1(y, ours), macro_f1(y, vader)
    with capsys.disabled():
        print(f"\nphrasebank dev ({len(rows)} sentences): ours macro-F1 {f_ours:.3f} "
              f"accuracy {accuracy(y, ours):.3f}; plain VADER macro-F1 {f_vader:.3f} "
              f"accuracy {accuracy(y, vader):.3f} (cross-validated: "
              f"{fs.model.meta['cv_macro_f1']:.3f})")
    assert 0.45 < f_vader < 0.55          # the "≈ 0.50"
    assert f_ours > fs.model.meta["cv_macro_f1"]  # in-sample is above the honest figure


def test_vectorised_hashing_equals_per_text_hashing():
    from engine.sentiment.features import hashed_ids

    texts = ["Operating profit fell to EUR 1.2 mn", "Net sales rose 5 %", "Costs rose 20 %"]
    fs = FinanceSentiment()
    b = fs.features(texts)
    for r, t in enumerate(texts):
        toks = tokenize(t)
        _, rule, htoks = finance_features(toks, fs._finance.polarity_scores(t))
        want = sorted(hashed_ids(htoks, fs.model.n_buckets, rule))
        assert sorted(b.ids[b.rows == r].tolist()) == want
