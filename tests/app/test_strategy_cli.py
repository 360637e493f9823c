"""``stockscanner strategy``: save, list (JSON), backtest (JSON with the score), one-sentence errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "strategy", *args], capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).resolve().parents[2])


def test_save_list_and_backtest(home: Any) -> None:
    r = _run("save", "--name", "Up days", "--category", "swing", "--entry", "close > open", "--exit", "close < open",
             "--sizing", "risk_per_trade:1:5", "--take-profit", "10", "--universe", "symbol:ACME")
    assert r.returncode == 0, r.stderr
    listed = json.loads(_run("list", "--json").stdout)
    assert [s["name"] for s in listed] == ["Up days"]
    assert listed[0]["rules"]["sizing"] == {"kind": "risk_per_trade", "value": 1.0, "stop_pct": 5.0}
    r = _run("backtest", "Up days", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["symbols"] == ["ACME"] and out["metrics"]["trades"] >= 30
    assert out["score"]["ranked"] and out["score"]["oos_source"] == "holdout"
    assert set(out["score"]["weights"]) == {"performance", "risk", "consistency", "efficiency", "community"}


def test_errors_are_one_sentence(home: Any) -> None:
    r = _run("save", "--name", "Bad", "--category", "swing", "--entry", "sma(close, 5)")
    assert r.returncode == 2 and "condition" in r.stderr and "Traceback" not in r.stderr
    r = _run("save", "--name", "Bad", "--category", "astrology", "--entry", "close > open")
    assert r.returncode == 2 and "unknown category" in r.stderr
    r = _run("backtest", "Nope")
    assert r.returncode == 2 and "no strategy named 'Nope'" in r.stderr
