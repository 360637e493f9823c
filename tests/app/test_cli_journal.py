"""``stockscanner analyze``, ``journal export|import`` and ``review`` through the real CLI."""
from __future__ import annotations

import json
import random
from decimal import Decimal

import pandas as pd
import pytest

from engine.journal.roundtrips import Execution, round_trips
from engine.journal.store import JournalStore
from tests.app.test_cli import run_cli
from tests.engine.journal.stubs import ms

ep = pytest.importorskip("empyrical")


@pytest.mark.parametrize("name", ["ORCL-1995-2014.csv", "NVDA-1999-2014.csv"])
def test_analyze_a_bar_csv_uses_its_close_and_matches_empyrical(shared_data, tmp_path, name):
    out = json.loads(run_cli("analyze", str(shared_data / name), "--json", home=tmp_path).stdout)
    close = pd.read_csv(shared_data / name)["Close"].to_numpy(float)
    r = close[1:] / close[:-1] - 1
    assert out["column"] == "Close" and out["n"] == r.size
    assert out["sharpe"] == pytest.approx(ep.sharpe_ratio(r), rel=1e-12)
    assert out["sortino"] == pytest.approx(ep.sortino_ratio(r), rel=1e-12)
    assert out["calmar"] == pytest.approx(ep.calmar_ratio(r), rel=1e-12)
    assert out["cagr"] == pytest.approx(ep.cagr(r), rel=1e-12)
    assert out["volatility"] == pytest.approx(ep.annual_volatility(r), rel=1e-12)
    assert out["max_drawdown"] == pytest.approx(ep.max_drawdown(r), rel=1e-12) and out["max_drawdown"] < 0


def test_analyze_a_returns_column_and_bad_input(shared_data, tmp_path):
    close = pd.read_csv(shared_data / "ORCL-1995-2014.csv")["Adj Close"].to_numpy(float)
    r = close[1:] / close[:-1] - 1
    pd.DataFrame({"day": range(r.size), "ret": r}).to_csv(tmp_path / "r.csv", index=False)
    out = json.loads(run_cli("analyze", str(tmp_path / "r.csv"), "--column", "ret", "--kind", "returns", "--json",
                             home=tmp_path).stdout)
    assert out["sharpe"] == pytest.approx(ep.sharpe_ratio(r), rel=1e-12)
    bad = run_cli("analyze", str(tmp_path / "r.csv"), "--column", "nope", home=tmp_path, check=False)
    assert bad.returncode == 1 and bad.stderr.strip().startswith("error: r.csv has no column 'nope'")
    assert "Traceback" not in bad.stderr
    (tmp_path / "x.csv").write_text("a,b\n1,x\n2,3\n")
    bad = run_cli("analyze", str(tmp_path / "x.csv"), "--column", "b", home=tmp_path, check=False)
    assert bad.returncode == 1 and "line 2" in bad.stderr and "Traceback" not in bad.stderr


def _month_journal(path, n: int = 40) -> None:
    """``n`` trades in March 2024: 'breakout' trades entered 'anxious' lose, the rest win more often."""
    store = JournalStore.open(path)
    rnd = random.Random(7)
    for i in range(n):
        day = 1 + i % 28
        anxious = i % 3 == 0
        pnl = Decimal(rnd.choice([-60, -40, 25]) if anxious else rnd.choice([-30, 40, 55, 70]))
        t0 = ms(2024, 3, day, 14 + i % 5, 10)
        fills = [Execution("AAA" if i % 2 else "BBB", "buy", 10, Decimal(100), Decimal(1), t0, stop=Decimal(98)),
                 Execution("AAA" if i % 2 else "BBB", "sell", 10, Decimal(100) + pnl / 10, Decimal(1), t0 + 3_600_000)]
        e = store.add(round_trips(fills)[0]).entry
        store.edit(e.id, setups=["breakout"] if i % 2 else ["pullback"], emotion_before="anxious" if anxious else "calm",
                   followed_plan=not anxious, mistakes=["chased"] if anxious else [], confidence=1 + i % 5)
    store.close()


def test_journal_export_import_and_review_reports(home, tmp_path):
    from engine import paths

    _month_journal(paths.database_path())
    out = json.loads(run_cli("journal", "export", "--format", "xlsx", "--out", str(tmp_path / "j.xlsx"), "--json",
                             home=home).stdout)
    assert out["rows"] == 40
    other = tmp_path / "other"
    res = json.loads(run_cli("journal", "import", str(tmp_path / "j.xlsx"), "--json", home=other).stdout)
    assert res["added"] == 40
    a = JournalStore.open(paths.database_path()).entries()
    b = JournalStore.open(other / "stockscanner.sqlite3").entries()
    assert [(e.key, e.trip, e.fields) for e in a] == [(e.key, e.trip, e.fields) for e in b]
    r = run_cli("review", "--period", "month", "--date", "2024-03-15", "--out", str(tmp_path / "r.html"), home=home)
    assert "month 2024-03: 40 trades" in r.stdout
    html = (tmp_path / "r.html").read_text()
    assert "<svg" not in html and "data:image/svg+xml;base64," in html  # self-contained
    assert "chased" in html and "Plan adherence" in html and "Pause before entering while" in html
    r = run_cli("review", "--period", "month", "--date", "2024-03-15", "--out", str(tmp_path / "r.pdf"), home=home)
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    bad = run_cli("review", "--period", "month", "--out", str(tmp_path / "r.doc"), home=home, check=False)
    assert bad.returncode == 1 and "must end in .pdf or .html" in bad.stderr


def test_review_min_trades_setting_is_read_by_the_review_verb(home, tmp_path):
    from engine import paths

    _month_journal(paths.database_path())
    settings = paths.database_path().parent / "settings.ini"
    settings.write_text("[journal]\nreview_min_trades=1000\n")
    run_cli("review", "--period", "month", "--date", "2024-03-15", "--out", str(tmp_path / "r.html"), home=home)
    assert "Pause before entering while" not in (tmp_path / "r.html").read_text()  # no rule has 1000 trades
    run_cli("review", "--period", "month", "--date", "2024-03-15", "--min-trades", "0", "--out",
            str(tmp_path / "r0.html"), home=home)
    assert "Pause before entering while" in (tmp_path / "r0.html").read_text()  # each rule's own minimum
    settings.write_text("[journal]\nreview_min_trades=-3\n")  # refused: the default (0) is used
    run_cli("review", "--period", "month", "--date", "2024-03-15", "--out", str(tmp_path / "r1.html"), home=home)
    assert "Pause before entering while" in (tmp_path / "r1.html").read_text()
    bad = run_cli("review", "--period", "month", "--min-trades", "-1", "--out", str(tmp_path / "r2.html"),
                  home=home, check=False)
    assert bad.returncode == 1 and "--min-trades" in bad.stderr and "Traceback" not in bad.stderr


def test_review_min_trades_key_is_validated_and_sets_every_rule(tmp_path):
    from app.features.journal import MIN_TRADES_KEY, review_rules
    from app.settings import AppSettings

    s = AppSettings(tmp_path / "settings.ini")
    assert s.get(MIN_TRADES_KEY) == 0 and review_rules(s)[0].min_trades == 10  # the rule's own
    with pytest.raises(ValueError, match="whole number of trades"):
        s.set(MIN_TRADES_KEY, 10_001)
    s.set(MIN_TRADES_KEY, 25)
    assert {r.min_trades for r in review_rules(s)} == {25}
