"""``stockscanner optimize``: the JSON contract and one-sentence errors."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.engine.research.stubs import random_bars

ENTRY = "crosses_above(sma(close,{fast}), sma(close,{slow}))"
EXIT = "crosses_below(sma(close,{fast}), sma(close,{slow}))"


def _csv(tmp_path: Path) -> Path:
    b = random_bars(900, 4, symbol="RND")
    p = tmp_path / "RND.csv"
    pd.DataFrame({"Date": [dt.datetime.fromtimestamp(int(t), dt.UTC).date().isoformat() for t in b.time],
                  "Open": b.open, "High": b.high, "Low": b.low, "Close": b.close, "Volume": b.volume}).to_csv(p, index=False)
    return p


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "optimize", *args], capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).resolve().parents[2])


def test_optimize_json_with_walk_forward(tmp_path: Path) -> None:
    p = _csv(tmp_path)
    r = _run(str(p), "--entry", ENTRY, "--exit", EXIT, "--param", "fast=5:15:5", "--param", "slow=20:40:10",
             "--constraint", "fast < slow", "--walk-forward", "2", "--workers", "2", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["evaluated"] == 9 and out["grid_size"] == 9
    ranks = [x["rank"] for x in out["results"]]
    assert ranks == list(range(1, 10))
    assert all(x["flagged"] == (x["metrics"]["trades"] < 30) for x in out["results"])
    wf = out["walk_forward"]
    assert len(wf["windows"]) == 2 and 0 <= wf["deflated_sharpe"]["dsr"] <= 1
    assert wf["deflated_sharpe"]["trials"] == 9 and 0 <= wf["pbo"]["pbo"] <= 1


def test_optimize_errors_are_one_sentence(tmp_path: Path) -> None:
    p = _csv(tmp_path)
    r = _run(str(p), "--entry", ENTRY, "--exit", EXIT, "--param", "fast=5:15:5", "--json")
    assert r.returncode == 1 and "not a declared parameter" in r.stderr and "Traceback" not in r.stderr
    r = _run(str(p), "--entry", ENTRY, "--exit", EXIT, "--param", "fast=5:15:5", "--param", "slow=20:30:10",
             "--constraint", "__import__('os')", "--json")
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr.startswith("error:")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).resolve().parents[2])


def test_universe_backtest_and_optimize_run_one_portfolio(tmp_path: Path) -> None:
    data = tmp_path / "data"
    a = _csv(tmp_path)
    b = random_bars(900, 9, symbol="TWO")
    q = tmp_path / "TWO.csv"
    pd.DataFrame({"Date": [dt.datetime.fromtimestamp(int(t), dt.UTC).date().isoformat() for t in b.time],
                  "Open": b.open, "High": b.high, "Low": b.low, "Close": b.close, "Volume": b.volume}).to_csv(q, index=False)
    for p in (a, q):
        r = _cli("--data-dir", str(data), "import", str(p))
        assert r.returncode == 0, r.stderr
    e, x = "crosses_above(sma(close,10), sma(close,30))", "crosses_below(sma(close,10), sma(close,30))"
    # a one-symbol universe is the single-symbol backtest
    one = _cli("--data-dir", str(data), "backtest", "--universe", "symbol:RND", "--entry", e, "--exit", x,
               "--qty", "100", "--max-positions", "1", "--json")
    single = _cli("backtest", str(a), "--entry", e, "--exit", x, "--qty", "100", "--json")
    assert one.returncode == 0 and single.returncode == 0, one.stderr + single.stderr
    po, so = json.loads(one.stdout), json.loads(single.stdout)
    assert po["final_equity"] == so["final_equity"] and len(po["trades"]) == len(so["trades"]) > 5
    both = _cli("--data-dir", str(data), "backtest", "--universe", "imported", "--entry", e, "--exit", x,
                "--qty", "100", "--max-positions", "1", "--sizing", "equal", "--json")
    out = json.loads(both.stdout)
    assert out["symbols"] == ["RND", "TWO"] and out["max_open_positions"] == 1
    assert {r["symbol"] for r in out["per_symbol"]} == {"RND", "TWO"} and out["skipped_signals"] > 0
    r = _cli("--data-dir", str(data), "optimize", "--universe", "imported", "--entry", ENTRY, "--exit", EXIT,
             "--param", "fast=5:10:5", "--param", "slow=20:30:10", "--max-positions", "1", "--workers", "1", "--json")
    assert r.returncode == 0, r.stderr
    opt = json.loads(r.stdout)
    assert opt["portfolio"]["max_positions"] == 1 and opt["symbols"] == ["RND", "TWO"] and opt["evaluated"] == 4
    r = _cli("--data-dir", str(data), "optimize", "--universe", "no such list", "--entry", ENTRY, "--exit", EXIT,
             "--param", "fast=5", "--param", "slow=20", "--json")
    assert r.returncode == 1 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
