"""``stockscanner options price|iv|chain`` through the real CLI (a child process), as a script would."""
import json
import subprocess
import sys

import pytest

from tests.app.test_cli import REPO, run_cli

HULL = ("--spot", "42", "--strike", "40", "--rate", "0.10", "--years", "0.5")


def _json(*args, home):
    return json.loads(run_cli("options", *args, "--json", home=home).stdout)


def test_price_matches_hull_call_and_put(tmp_path):
    # Hull, Options, Futures and Other Derivatives, example 15.6: call 4.76, put 0.81.
    call = _json("price", "--type", "call", *HULL, "--vol", "0.20", home=tmp_path)
    put = _json("price", "--type", "put", *HULL, "--vol", "0.20", home=tmp_path)
    assert set(call) == {"price", "delta", "gamma", "vega", "theta", "rho"}
    assert round(call["price"], 2) == 4.76 and round(put["price"], 2) == 0.81
    # units: vega per vol point, rho per rate point, theta per calendar day
    from engine.options import bsm

    g = bsm.greeks("call", 42, 40, 0.5, 0.10, 0.20)
    assert call["vega"] == pytest.approx(g.vega, rel=1e-12) and 0.05 < call["vega"] < 0.2
    assert call["theta"] == pytest.approx(g.theta, rel=1e-12) and -0.05 < call["theta"] < 0
    assert call["rho"] == pytest.approx(g.rho, rel=1e-12)
    assert call["delta"] - put["delta"] == pytest.approx(1.0)  # no dividend


def test_american_put_is_worth_more_than_the_european(tmp_path):
    args = ("price", "--type", "put", *HULL, "--vol", "0.20")
    euro = _json(*args, home=tmp_path)["price"]
    amer = _json(*args, "--style", "american", home=tmp_path)["price"]
    assert amer > euro + 0.01


def test_iv_round_trips_the_price(tmp_path):
    for style in ("european", "american"):
        price = _json("price", "--type", "put", *HULL, "--vol", "0.27", "--dividend", "0.02",
                      "--style", style, home=tmp_path)["price"]
        out = _json("iv", "--type", "put", *HULL, "--dividend", "0.02", "--price", repr(price),
                    "--style", style, home=tmp_path)
        assert out["iv"] == pytest.approx(0.27, abs=1e-8)


def test_iv_outside_the_bounds_is_null_with_a_reason_and_exit_0(tmp_path):
    # a call below its intrinsic value (42 - 40 e^{-0.05} = 3.95): no vol exists
    r = run_cli("options", "iv", "--type", "call", *HULL, "--price", "1.0", "--json", home=tmp_path)
    assert json.loads(r.stdout) == {"iv": None, "reason": "below intrinsic"}
    r = run_cli("options", "iv", "--type", "call", *HULL, "--price", "50", "--json", home=tmp_path)
    assert json.loads(r.stdout) == {"iv": None, "reason": "above upper bound"}
    text = run_cli("options", "iv", "--type", "call", *HULL, "--price", "1.0", home=tmp_path).stdout
    assert "no implied vol" in text and "below intrinsic" in text


@pytest.mark.parametrize("args, words", [
    (("price", "--type", "call", *HULL[:4], "--rate", "10", "--years", "0.5", "--vol", "0.2"),
     ["--rate is a decimal", "0.1"]),
    (("price", "--type", "call", *HULL, "--vol", "20"), ["--vol is a decimal", "0.2"]),
    (("price", "--type", "call", *HULL, "--vol", "0.2", "--dividend", "3"), ["--dividend is a decimal"]),
    (("price", "--type", "call", "--spot", "-42", *HULL[2:], "--vol", "0.2"), ["--spot must be positive"]),
    (("iv", "--type", "call", *HULL[:6], "--years", "0", "--price", "3"), ["--years must be positive"]),
    (("iv", "--type", "call", *HULL, "--price", "0"), ["--price must be positive"]),
    (("chain", "NOTADEMO"), ["no option chain for NOTADEMO in demo mode", "ACME", "set the data source to Yahoo"]),
    (("chain", "ACME", "--expiry", "2026-13-40"), ["--expiry must be a date"]),
    (("chain", "ACME", "--expiry", "2001-01-19"), ["has no expiry 2001-01-19"]),
])
def test_bad_input_is_one_sentence_and_exit_1(tmp_path, args, words):
    r = run_cli("options", *args, home=tmp_path, check=False)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.stderr
    for w in words:
        assert w in lines[0]


@pytest.mark.parametrize("args", [
    ("price", "--type", "straddle", *HULL, "--vol", "0.2"),
    ("price", "--type", "call", *HULL, "--vol", "abc"),
    ("price", "--type", "call", *HULL, "--vol", "nan"),
    ("price", "--type", "call", *HULL),  # no --vol
    (),  # no sub-command
])
def test_usage_errors_exit_2(tmp_path, args):
    r = run_cli("options", *args, home=tmp_path, check=False)
    assert r.returncode == 2 and "usage:" in r.stderr and "Traceback" not in r.stderr


def test_chain_json_of_a_demo_symbol_has_iv_and_greeks(tmp_path):
    from engine.data.demo import demo_symbols

    sym = demo_symbols()[0]
    out = _json("chain", sym.lower(), home=tmp_path)
    assert out["symbol"] == sym and out["source"] == "demo" and out["spot"] > 0
    assert out["fetched_at"] is None and out["age_seconds"] is None and out["from_cache"] is False
    rows = out["contracts"]
    assert len(rows) > 100 and {r["expiry"] for r in rows} == set(out["expiries"])
    good = [r for r in rows if not r["flags"]]
    assert len(good) > len(rows) / 2
    for r in good:
        assert 0.01 < r["iv"] < 3 and r["iv_reason"] is None
        assert (0 <= r["delta"] <= 1) if r["type"] == "call" else (-1 <= r["delta"] <= 0)
        assert r["gamma"] >= 0 and r["vega"] >= 0 and r["bid"] <= r["ask"]
    # flagged quotes never get an IV
    assert all(r["iv"] is None for r in rows if "ZERO_BID" in r["flags"])

    one = _json("chain", sym, "--expiry", out["expiries"][1], home=tmp_path)
    assert one["expiries"] == [out["expiries"][1]]
    assert len(one["contracts"]) == sum(r["expiry"] == out["expiries"][1] for r in rows)


def test_chain_table_shows_calls_strike_puts(tmp_path):
    text = run_cli("options", "chain", "ACME", home=tmp_path).stdout
    assert "CALLS" in text and "PUTS" in text and "strike" in text and "demo chain" in text


def test_the_feature_module_imports_nothing_heavy():
    code = ("import sys; import app.features, app.features.options; "
            "heavy = [m for m in ('numpy', 'scipy', 'numba', 'pandas', 'PySide6', 'engine.options') "
            "if m in sys.modules]; print(heavy)")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


# --------------------------------------------------------------------- Yahoo source, recorded chain

def _yahoo_home(home, fetched_ago: float):
    """A data folder in Yahoo mode whose store holds the recorded XYZ chain, fetched
    ``fetched_ago`` seconds ago (the recorded yfinance answers of the engine tests)."""
    import time

    from engine.data.service import DataService
    from engine.events import EventBus
    from engine.options.yahoo import ChainCache
    from engine.store import open_database
    from tests.engine.options.test_yahoo import RecordedTicker, source

    db = open_database()
    try:
        DataService.open_default_on(db, bus=EventBus()).set_source("yahoo")
        fetched = int(time.time() - fetched_ago)
        chain = source(RecordedTicker(), clock=lambda: fetched).chain("XYZ")
        ChainCache(db).save(chain, fetched)
        return chain
    finally:
        db.dispose()


@pytest.fixture
def offline(monkeypatch):
    """Yahoo cannot be reached: every ticker call fails as without a network."""
    from engine.options import yahoo
    from tests.engine.options.test_yahoo import RecordedTicker

    asked: list[str] = []

    def ticker(sym):
        asked.append(sym)
        return RecordedTicker(fail=OSError("Could not resolve host: query2.finance.yahoo.com"))

    monkeypatch.setattr(yahoo, "_default_ticker", ticker)
    return asked


def _main_json(home, capsys, *args):
    from app.cli import main

    capsys.readouterr()
    rc = main(["--data-dir", str(home), "options", "chain", *args, "--json"])
    out, err = capsys.readouterr()
    return rc, (json.loads(out) if rc == 0 else None), err


def test_chain_serves_the_fresh_yahoo_cache_without_asking_yahoo(home, capsys, offline):
    recorded = _yahoo_home(home, fetched_ago=120)
    rc, out, err = _main_json(home, capsys, "xyz")
    assert rc == 0, err
    assert offline == []  # served from the store: Yahoo was not asked
    assert out["source"] == "yahoo" and out["delayed"] is True and out["from_cache"] is True
    assert out["refresh_error"] is None and 110 <= out["age_seconds"] <= 300
    assert out["as_of"] == recorded.as_of.isoformat() and out["spot"] == 100.0
    assert out["expiries"] == ["2025-10-17", "2025-11-21"]
    # the README's keys, as for a demo chain
    assert {"symbol", "spot", "as_of", "rate", "dividend", "source", "delayed", "style", "expiries",
            "contracts"} <= set(out)
    rows = out["contracts"]
    assert len(rows) == 20 and rows[0]["symbol"] == "XYZ   251017C00090000"  # OCC, padded
    crossed = [r for r in rows if r["type"] == "put" and r["strike"] == 95.0]
    assert all("CROSSED" in r["flags"] and r["iv"] is None for r in crossed)
    good = [r for r in rows if not r["flags"]]
    assert good and all(0.01 < r["iv"] < 3 for r in good)


def test_chain_offline_shows_the_stale_cache_with_its_age_and_why(home, capsys, offline):
    _yahoo_home(home, fetched_ago=3 * 3600)
    rc, out, err = _main_json(home, capsys, "XYZ", "--expiry", "2025-11-21")
    assert rc == 0, err
    assert offline == ["XYZ"]  # the cache was 3 h old: Yahoo was asked, and failed
    assert out["from_cache"] is True and "network" in out["refresh_error"].lower()
    assert 3 * 3600 - 5 <= out["age_seconds"] <= 3 * 3600 + 300
    assert out["expiries"] == ["2025-11-21"] and {r["expiry"] for r in out["contracts"]} == {"2025-11-21"}


def test_chain_offline_without_a_cache_is_one_sentence(home, capsys, offline):
    _yahoo_home(home, fetched_ago=60)
    rc, _, err = _main_json(home, capsys, "OTHER")
    lines = err.strip().splitlines()
    assert rc == 1 and len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err
    assert "OTHER" in lines[0] or "network" in lines[0].lower()


def test_chain_table_says_yahoo_delayed_and_the_age(home, capsys, offline):
    from app.cli import main

    _yahoo_home(home, fetched_ago=120)
    capsys.readouterr()
    assert main(["--data-dir", str(home), "options", "chain", "XYZ"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith("Yahoo Finance, delayed, 2 min old") and "CALLS" in text
