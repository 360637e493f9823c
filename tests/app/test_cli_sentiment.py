"""``stockscanner sentiment (--text | --csv --column) [--json]``: the contract, in input order,
the same scores as ``engine.sentiment``, and one-sentence errors with exit status 1."""
from __future__ import annotations

import json

import pytest

from app.cli import main
from engine.sentiment import score
from tests.app.test_cli import run_cli

TEXTS = ["Operating profit fell to EUR 3.1 mn from EUR 5.2 mn", "The company will hold its AGM in May",
         "Net loss narrowed and the company beat estimates", ""]


def _run(capsys, *argv):
    rc = main(["sentiment", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_text_json_through_the_installed_entry_point(tmp_path):
    r = run_cli("sentiment", "--text", "Profit rose 20% and the company raised guidance", "--json", home=tmp_path)
    (row,) = json.loads(r.stdout)
    assert set(row) == {"compound", "label"}
    assert row["label"] == "positive" and 0.05 <= row["compound"] <= 1


def test_csv_json_is_in_input_order_and_matches_the_engine(home, tmp_path, capsys):
    p = tmp_path / "h.csv"
    p.write_text("id;headline\n" + "".join(f'{i};"{t}"\n' for i, t in enumerate(TEXTS)), encoding="utf-8")
    rc, out, err = _run(capsys, "--csv", str(p), "--column", "headline", "--json")
    assert rc == 0 and err == ""
    got = json.loads(out)
    want = score(TEXTS)
    assert [g["label"] for g in got] == [w.label for w in want] == ["negative", "neutral", "positive", "neutral"]
    assert [g["compound"] for g in got] == [round(w.compound, 4) for w in want]


def test_table_without_json(home, capsys):
    rc, out, _ = _run(capsys, "--text", "Shares slump after the company cuts guidance")
    assert rc == 0
    header, row = out.splitlines()
    assert header.split() == ["#", "compound", "label", "text"]
    assert row.split()[2] == "negative" and row.rstrip().endswith("Shares slump after the company cuts guidance")


@pytest.mark.parametrize("content, column, message", [
    ("id,headline\n1,x\n", "text", "has no column 'text'; its columns are 'id', 'headline'."),
    (b"headline\n\xff\xfe bad\n", "headline", "is not UTF-8 text"),
    ("", "headline", "is empty"),
])
def test_bad_csv_is_one_sentence_and_exit_1(home, tmp_path, capsys, content, column, message):
    p = tmp_path / "bad.csv"
    (p.write_bytes if isinstance(content, bytes) else p.write_text)(content)
    rc, out, err = _run(capsys, "--csv", str(p), "--column", column)
    assert rc == 1 and out == ""
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_file_missing_column_option_and_json_error(home, tmp_path, capsys):
    rc, out, err = _run(capsys, "--csv", str(tmp_path / "none.csv"), "--column", "h", "--json")
    assert rc == 1 and json.loads(out)["error"].endswith("none.csv does not exist.")
    rc, _, err = _run(capsys, "--csv", str(tmp_path / "none.csv"))
    assert rc == 1 and "--csv needs --column NAME" in err
    rc, _, err = _run(capsys, "--text", "x", "--column", "h")
    assert rc == 1 and "--column goes with --csv" in err


def test_text_and_csv_together_is_a_usage_error(home, capsys):
    with pytest.raises(SystemExit) as e:
        main(["sentiment", "--text", "a", "--csv", "b.csv"])
    assert e.value.code == 2
