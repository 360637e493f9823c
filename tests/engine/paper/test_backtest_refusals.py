"""Issue 7, backtest: refusals with one sentence and exit code 1, rejection reasons counted."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.data.bars import Bars
from engine.formula import FormulaError
from engine.paper import InvalidValue
from engine.paper.backtest import FixedQty, RuleStrategy, run_backtest

ENTRY = "crosses_above(sma(close,10), sma(close,30))"
EXIT = "crosses_below(sma(close,10), sma(close,30))"


def bars(closes, highs=None, lows=None) -> Bars:
    c = np.asarray(closes, float)
    hi = np.asarray(highs if highs is not None else c, float)
    lo = np.asarray(lows if lows is not None else c, float)
    t = (np.datetime64("2020-01-01") + np.arange(len(c))).astype("datetime64[s]").astype(np.int64)
    return Bars.from_arrays("T", "1d", t, c, hi, lo, c, np.full(len(c), 1e9))


def test_negative_or_zero_cash_is_refused():
    b = bars([10, 11, 12])
    for cash in (-1000, 0):
        with pytest.raises(InvalidValue, match="starting cash must be positive"):
            run_backtest(b, RuleStrategy("close > 0", "close < 0", FixedQty(1)), cash=cash)


def test_a_number_is_not_a_rule():
    with pytest.raises(FormulaError, match="must be a condition"):
        run_backtest(bars([10, 11, 12]), RuleStrategy("5", "close < 0", FixedQty(1)))


@pytest.mark.parametrize("highs, lows, msg", [
    ([10, 9, 12], [10, 11, 12], "bar 2"),  # high < low
    ([10, 1e22, 12], [10, 11, 12], "bar 2"),  # too large
    ([10, np.nan, 12], [10, 11, 12], "bar 2"),
])
def test_bars_that_cannot_be_traded_are_refused(highs, lows, msg):
    with pytest.raises(InvalidValue, match=msg):
        run_backtest(bars([10, 11, 12], highs, lows), RuleStrategy("close > 0", "close < 0", FixedQty(1)))


def test_rejections_are_counted_by_reason():
    r = run_backtest(bars([10, 11, 12, 13, 14]), RuleStrategy("close > 0", None, FixedQty(1000)), cash=100)
    assert r.trades == [] and r.rejections == {"insufficient cash": 5}
    assert r.to_dict()["rejections"] == {"insufficient cash": 5}


@pytest.mark.parametrize("extra, msg", [
    (["--cash=-1000"], "--cash must be a positive amount"),
    (["--cash", "1e26"], "too large"),
    (["--commission", "percent:1e400"], "commission 'percent:1e400' not understood"),
    (["--qty", str(10**30)], "too large"),
    (["--entry", "5"], "must be a condition"),
    (["--participation", "nan"], "participation"),
])
def test_cli_refusals_are_one_message_and_exit_code_1(shared_data, capsys, home, extra, msg):
    from app.cli import main

    args = ["backtest", str(shared_data / "ORCL-1995-2014.csv"), "--entry", ENTRY, "--exit", EXIT, "--qty", "100"]
    rc = main(args + extra)
    err = capsys.readouterr().err
    assert rc == 1 and msg in err and "Traceback" not in err
    assert err.startswith("error: ")


def test_cli_says_why_nothing_traded(shared_data, capsys, home):
    from app.cli import main

    args = ["backtest", str(shared_data / "ORCL-1995-2014.csv"), "--entry", ENTRY, "--exit", EXIT,
            "--qty", "100", "--cash", "100"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "0 trades" in out and "orders were rejected: insufficient cash (" in out
    assert main(args + ["--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["trades"] == [] and list(d["rejections"]) == ["insufficient cash"] and d["rejections"]["insufficient cash"] > 10
    assert {"symbol", "trades", "final_equity", "final_cash", "open_qty", "metrics"} <= set(d)
