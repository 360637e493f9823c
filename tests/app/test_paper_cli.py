"""``stockscanner paper`` run in-process on a temp data folder with imported bar files
(issue 10): the JSON contract, refusals with exit 1, --yes for confirmations."""
from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from app.cli import main


@pytest.fixture
def cli(home, shared_data, capsys):
    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        rc = main(["--data-dir", str(home), *args])
        out, err = capsys.readouterr()
        return rc, out, err

    rc, _, _ = run("import", str(shared_data / "FUT-2006-1min.csv"), "--symbol", "FUT")
    assert rc == 0
    rc, _, _ = run("import", str(shared_data / "ORCL-1995-2014.csv"))
    assert rc == 0
    return run


def test_quote_json_comes_from_the_symbols_own_data(cli):
    rc, out, _ = cli("paper", "quote", "FUT", "--json")
    q = json.loads(out)
    assert rc == 0 and set(q) == {"symbol", "bid", "ask", "last", "time", "source"}
    assert q["symbol"] == "FUT" and q["source"] == "demo quotes" and q["time"].endswith("Z")
    assert all(isinstance(q[k], str) for k in ("bid", "ask", "last"))  # exact decimals as text
    assert D("3597") <= D(q["bid"]) <= D(q["ask"]) <= D("3900")  # FUT traded 3597..3900, last 3838


def test_no_data_no_quote_no_order(cli):
    rc, out, err = cli("paper", "quote", "ZZZ", "--json")
    why = "ZZZ has no stored bars: import a CSV or switch the data source"
    assert rc == 1 and json.loads(out)["error"] == why and err.strip() == f"error: {why}"
    rc, out, err = cli("paper", "order", "ZZZ", "--side", "buy", "--qty", "1", "--json")
    assert rc == 1 and json.loads(out)["error"] == why
    rc, out, _ = cli("paper", "orders", "--all", "--json")
    assert rc == 0 and json.loads(out) == []


def test_a_market_order_fills_at_once_against_the_current_quote(cli):
    rc, out, _ = cli("paper", "order", "FUT", "--side", "buy", "--qty", "2", "--json")
    o = json.loads(out)
    assert rc == 0 and o["state"] == "filled" and o["id"]
    [f] = o["fills"]
    assert f["qty"] == "2" and D("3597") <= D(f["price"]) <= D("3900") and f["time"].endswith("Z")
    rc, out, _ = cli("paper", "positions", "--json")
    [p] = json.loads(out)
    assert (p["symbol"], p["qty"], p["avg_price"]) == ("FUT", "2", f["price"])
    rc, out, _ = cli("paper", "accounts", "--json")
    [a] = json.loads(out)
    assert a["name"] == "Paper" and a["commission"] == "per_share:0.005:1.00:1" and a["fees"] == "1"


def test_the_orcl_bracket_is_refused_with_the_reason(cli):
    rc, out, err = cli("paper", "order", "ORCL", "--side", "buy", "--qty", "100", "--type", "bracket",
                       "--take-profit", "77.00", "--stop-loss", "74.50", "--json")
    assert rc == 1 and "Traceback" not in err
    assert json.loads(out)["error"].startswith("Buy bracket stop loss 74.50 is above the ask 4")
    assert "it would trigger immediately" in err
    rc, out, _ = cli("paper", "orders", "--all", "--json")
    assert json.loads(out) == []  # nothing was sent


def test_a_price_far_from_the_market_needs_yes_then_the_order_works_and_cancels(cli):
    args = ("paper", "order", "ORCL", "--side", "buy", "--qty", "10", "--type", "limit", "--limit", "30",
            "--tif", "gtc", "--json")
    rc, out, err = cli(*args)
    assert rc == 1 and "Send it anyway?" in json.loads(out)["error"] and "--yes" in err
    rc, out, _ = cli(*args, "--yes")
    o = json.loads(out)
    assert rc == 0 and o["state"] == "accepted" and o["fills"] == [] and o["limit"] == "30"
    rc, out, _ = cli("paper", "orders", "--json")
    assert [x["id"] for x in json.loads(out)] == [o["id"]]
    rc, out, _ = cli("paper", "cancel", o["id"], "--json")
    assert rc == 0 and json.loads(out) == {"id": o["id"], "state": "cancelled"}
    rc, out, err = cli("paper", "cancel", o["id"])
    assert rc == 1 and err.startswith("error: ") and "Traceback" not in err


def test_bad_input_is_one_sentence(cli):
    rc, _, err = cli("paper", "order", "ORCL", "--side", "buy", "--qty", "1", "--type", "limit")
    assert rc == 1 and err.strip() == "error: limit price missing"
    rc, _, err = cli("paper", "order", "ORCL", "--side", "buy", "--qty", "1", "--stop", "40")
    assert rc == 1 and err.strip() == "error: a market order takes no --stop"
    rc, _, err = cli("paper", "accounts", "--account", "Nope")
    assert rc == 1 and "no paper account named 'Nope'" in err
    with pytest.raises(SystemExit) as e:
        cli("paper", "order", "ORCL", "--side", "buy", "--qty", "0")
    assert e.value.code == 2
