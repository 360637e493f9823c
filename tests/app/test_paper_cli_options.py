"""``stockscanner paper`` with option contracts on the demo data: an OCC symbol as a single
order (contracts, premium per share, $0.65/contract with a $1.00 minimum), ``--leg`` packages
filled all-or-none at a net price, and refusals with exit 1."""
from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from app.cli import main

# LEAPS of the demo chain (expiry 2028-01-21), strikes around ACME's ~115
CALL = "ACME  280121C00120000"
CONDOR = ["buy 1 ACME  280121P00100000", "sell 1 ACME  280121P00110000",
          "sell 1 ACME  280121C00120000", "buy 1 ACME  280121C00130000"]


@pytest.fixture
def cli(home, capsys):
    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        rc = main(["--data-dir", str(home), *args])
        out, err = capsys.readouterr()
        return rc, out, err

    return run


def test_an_occ_symbol_is_quoted_from_the_chain_and_bought_at_the_ask(cli):
    rc, out, _ = cli("paper", "quote", CALL, "--json")
    q = json.loads(out)
    assert rc == 0 and q["symbol"] == "ACME280121C00120000" and D("0") < D(q["bid"]) < D(q["ask"])
    rc, out, _ = cli("paper", "order", CALL, "--side", "buy", "--qty", "3", "--json")
    o = json.loads(out)
    assert rc == 0 and o["state"] == "filled" and o["symbol"] == "ACME280121C00120000"
    [f] = o["fills"]
    assert f["qty"] == "3" and D(f["fee"]) == D("1.95")  # 3 × $0.65
    rc, out, _ = cli("paper", "positions", "--json")
    [p] = json.loads(out)
    assert p["multiplier"] == "100" and D(p["cost"]) == D(f["price"]) * 300
    rc, out, _ = cli("paper", "accounts", "--json")
    [a] = json.loads(out)
    assert D(a["cash"]) == D(100_000) - D(f["price"]) * 300 - D("1.95")


def test_a_leg_package_fills_every_leg_at_once_at_its_net_credit(cli):
    args = [x for leg in CONDOR for x in ("--leg", leg)]
    rc, out, err = cli("paper", "order", *args, "--limit", "50", "--credit", "--json")
    assert rc == 0, err
    pkg = json.loads(out)
    assert pkg["state"] == "accepted" and pkg["net_price"] is None  # a credit of 50 is not there
    assert {leg["state"] for leg in pkg["legs"]} == {"accepted"}
    rc, out, err = cli("paper", "order", *args, "--limit", "0.05", "--credit", "--json")
    assert rc == 0, err
    pkg = json.loads(out)
    assert pkg["state"] == "filled" and set(pkg) == {"package", "state", "net_price", "limit", "legs"}
    legs = pkg["legs"]
    assert {x["state"] for x in legs} == {"filled"} and len(legs) == 4
    net = sum((D(x["fills"][0]["price"]) * (1 if x["side"] == "buy" else -1) for x in legs), D(0))
    assert D(pkg["net_price"]) == net and net <= D("-0.05") and D(pkg["limit"]) == D("-0.05")
    rc, out, _ = cli("paper", "positions", "--json")
    assert {p["symbol"] for p in json.loads(out)} == {leg.split(None, 2)[2].replace(" ", "") for leg in CONDOR}


def test_bad_legs_and_a_naked_call_in_the_cash_account_are_refused(cli):
    rc, out, err = cli("paper", "order", "--leg", "buy 1 ACME", "--leg", "sell 1 " + CALL)
    assert rc == 1 and "is not an OCC option symbol" in err
    rc, out, err = cli("paper", "order", "--leg", "hold 1 " + CALL, "--leg", "sell 1 " + CALL)
    assert rc == 1 and "buy|sell N OCC-SYMBOL" in err
    rc, out, err = cli("paper", "order", "--leg", "buy 1 " + CALL)
    assert rc == 1 and "two or more --leg" in err
    rc, out, err = cli("paper", "order", CALL, "--side", "sell", "--qty", "1", "--json")
    assert rc == 1 and "cannot sell uncovered calls" in json.loads(out)["error"]
