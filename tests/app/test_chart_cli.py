"""``stockscanner chart-transform``: JSON of every type, and one-line errors with exit 1."""
import json

import pytest

from app.cli import main


def run(capsys, *args):  # type: ignore[no-untyped-def]
    code = main(["chart-transform", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_renko_json_is_a_list_of_ohlc_bricks(capsys, shared_data) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, shared_data / "NVDA-1999-2014.csv", "--type", "renko", "--box", "5", "--json")
    bricks = json.loads(out)
    assert code == 0 and bricks[0] == {"time": "1999-01-22", "open": 1.640625, "high": 6.640625,
                                       "low": 1.640625, "close": 6.640625}
    assert all(round(b["high"] - b["low"], 9) == 5 for b in bricks)


@pytest.mark.parametrize("args", [["--type", "kagi", "--reversal", "4%"], ["--type", "linebreak", "--lines", "3"],
                                  ["--type", "range", "--atr", "14"], ["--type", "heikin-ashi"],
                                  ["--type", "renko", "--atr", "14"]])
def test_every_type_prints_ohlc_records(capsys, shared_data, args) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, shared_data / "ORCL-1995-2014.csv", *args, "--json")
    rows = json.loads(out)
    assert code == 0 and rows and set(rows[0]) == {"time", "open", "high", "low", "close"}


def test_pnf_json_has_kind_low_high(capsys, shared_data) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, shared_data / "FUT-2006-1min.csv", "--type", "pnf", "--box", "5", "--json")
    cols = json.loads(out)
    assert code == 0 and cols[0]["time"] == "2006-01-02T09:01:00"
    assert {c["kind"] for c in cols} == {"X", "O"} and all(c["high"] - c["low"] >= 10 for c in cols)
    assert all(a["kind"] != b["kind"] for a, b in zip(cols, cols[1:]))


@pytest.mark.parametrize("args,message", [
    (["--type", "renko"], "renko charts need --box B or --atr N"),
    (["--type", "renko", "--box", "0"], "box must be a positive number"),
    (["--type", "renko", "--box", "nan"], "box must be a positive number"),
    (["--type", "renko", "--box", "1", "--atr", "14"], "give --box or --atr, not both"),
    (["--type", "pnf", "--box", "1", "--reversal", "2.5"], "whole number of boxes"),
    (["--type", "kagi", "--reversal", "lots"], "price amount or a percentage"),
    (["--type", "linebreak", "--box", "1"], "--box does not apply to linebreak"),
    (["--type", "renko", "--box", "1e-9"], "too small"),
])
def test_bad_values_are_one_line_errors(capsys, shared_data, args, message) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, shared_data / "NVDA-1999-2014.csv", *args)
    assert code == 1 and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_unreadable_file(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(capsys, tmp_path / "missing.csv", "--type", "heikin-ashi")
    assert code == 1 and err.startswith("error:") and "does not exist" in err
