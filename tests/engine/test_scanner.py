"""The scanner: filter model and presets, Scanner.run (progress, cancel, columns, sparkline,
diff with the previous run, CSV export), universes, scheduling, and the CLI verbs."""
import csv
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from engine.events import EventBus
import pytest
import talib

from engine.data.bars import Bars
from engine.formula import FormulaError, FormulaService
from engine.progress import Progress, run_to_end
from engine.scanner import (
    BUILTIN_PRESETS,
    Condition,
    Group,
    PresetError,
    ScanDefinition,
    Scanner,
    ScanStore,
    UniverseError,
    bundled_constituents,
    bundled_universe,
    compile_filter,
    imported_universe,
    next_run_time,
    symbols_universe,
    watchlist_universe,
)

REPO = Path(__file__).resolve().parents[2]
UTC = dt.timezone.utc
NY = ZoneInfo("America/New_York")


# --------------------------------------------------------------------------- builders

def _yahoo(path: Path, symbol: str) -> Bars:
    import pandas as pd

    df = pd.read_csv(path, parse_dates=["Date"]).set_index("Date")
    df.columns = [c.lower() for c in df.columns]
    return Bars.from_frame(symbol, "1d", df[["open", "high", "low", "close", "volume"]])


def _synthetic(symbol: str, seed: int, n: int = 400) -> Bars:
    rng = np.random.default_rng(seed)
    c = 40 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    spread = np.abs(rng.normal(0, 0.01, n))
    t = (np.datetime64("2020-01-01") + np.arange(n)).astype("datetime64[s]").astype(np.int64)
    return Bars.from_arrays(symbol, "1d", t, c, c * (1 + spread), c * (1 - spread), c,
                            rng.lognormal(12, 0.4, n).round())


@pytest.fixture
def universe_bars(shared_data) -> dict[str, Bars]:
    bars = {f"SYN{i}": _synthetic(f"SYN{i}", i) for i in range(12)}
    bars["ORCL"] = _yahoo(shared_data / "ORCL-1995-2014.csv", "ORCL")
    bars["NVDA"] = _yahoo(shared_data / "NVDA-1999-2014.csv", "NVDA")
    return bars


def _scanner(bars, store=None, **kw):
    def source(sym, tf):
        if sym not in bars:
            raise LookupError(f"no bars for {sym}")
        return bars[sym]

    return Scanner(source, store=store, **kw)


def _expected(bars: Bars, n_rsi=14) -> bool:
    return talib.RSI(bars.close, n_rsi)[-1] < 50


# --------------------------------------------------------------------------- filter model

def test_condition_rows_and_nested_groups_compile_to_one_formula():
    g = Group("and", (
        Condition("rsi(close, 14)", "<", 30),
        Group("or", (Condition("close", ">", "sma(close, 50)"),
                     Condition("sma(close, 50)", "crosses_above", "sma(close, 200)"))),
        Condition("volume", ">", 1.5e6),
    ))
    text = compile_filter(g)
    assert text == ("(((rsi(close, 14)) < (30)) and ((((close) > (sma(close, 50))) or "
                    "(crosses_above(sma(close, 50), sma(close, 200))))) and ((volume) > (1500000)))")
    d = ScanDefinition("mine", g, ("rsi(close, 14)",))
    f = d.compile()
    assert f.is_boolean
    again = ScanDefinition.from_json(d.to_json())
    assert again == d and compile_filter(again.filter) == text


def test_filter_model_refuses_bad_rows_and_numeric_filters():
    with pytest.raises(FormulaError, match="unknown operator"):
        Condition("close", "=>", 1).to_formula()
    with pytest.raises(FormulaError, match="empty group"):
        Group("and", ()).to_formula()
    with pytest.raises(FormulaError, match="must be a condition"):
        ScanDefinition("x", "rsi(close)").compile()
    with pytest.raises(FormulaError, match="did you mean 'rsi'"):
        ScanDefinition("x", Condition("rsii(close)", "<", 30)).compile()


def test_every_builtin_preset_compiles_and_runs_on_real_bars(universe_bars):
    names = [p.name for p in BUILTIN_PRESETS]
    for want in ("Oversold RSI", "New 52-week high", "Volume spike", "Golden cross", "Death cross", "Gap up",
                 "Gap down", "MACD cross (bullish)", "Bollinger squeeze", "Unusual range"):
        assert want in names
    scanner = _scanner(universe_bars)
    for preset in BUILTIN_PRESETS:
        f = preset.compile()
        assert f.is_boolean
        full = f.evaluate(universe_bars["ORCL"])
        assert full.dtype == bool and full.sum() > 0, f"{preset.name} never fires on 20 years of ORCL"
        result = run_to_end(scanner.run(preset, symbols_universe(["ORCL", "NVDA"])))
        assert len(result.columns) == len(preset.columns)


def test_golden_cross_preset_fires_exactly_on_the_cross_bar(universe_bars):
    orcl = universe_bars["ORCL"]
    c = orcl.close
    fast, slow = talib.SMA(c, 50), talib.SMA(c, 200)
    crosses = np.flatnonzero((fast[1:] > slow[1:]) & (fast[:-1] <= slow[:-1])) + 1
    assert crosses.size > 3
    golden = next(p for p in BUILTIN_PRESETS if p.name == "Golden cross")
    scanner = _scanner({"ORCL": orcl.slice(0, int(crosses[2]) + 1)})
    assert run_to_end(scanner.run(golden, symbols_universe(["ORCL"]))).symbols == ("ORCL",)
    scanner = _scanner({"ORCL": orcl.slice(0, int(crosses[2]) + 2)})
    assert run_to_end(scanner.run(golden, symbols_universe(["ORCL"]))).symbols == ()


# --------------------------------------------------------------------------- Scanner.run

def test_scan_matches_talib_and_reports_columns_change_and_sparkline(universe_bars):
    d = ScanDefinition("RSI under 50", "rsi(close, 14) < 50", ("rsi(close, 14)", "close > sma(close, 20)"),
                       lookback=10_000)
    gen = _scanner(universe_bars).run(d, symbols_universe(list(universe_bars) + ["MISSING"]))
    progress = []
    while True:
        try:
            progress.append(next(gen))
        except StopIteration as stop:
            result = stop.value
            break
    assert all(isinstance(p, Progress) for p in progress) and progress[-1].done == progress[-1].total
    want = sorted(s for s, b in universe_bars.items() if _expected(b))
    assert list(result.symbols) == want and 0 < len(want) < len(universe_bars)
    assert result.errors == (("MISSING", "no bars for MISSING"),)
    assert result.scanned == len(universe_bars)
    for row in result.rows:
        b = universe_bars[row.symbol]
        assert row.close == b.close[-1] and row.volume == b.volume[-1]
        assert row.change_pct == pytest.approx((b.close[-1] / b.close[-2] - 1) * 100)
        assert row.values[0] == pytest.approx(talib.RSI(b.close, 14)[-1], rel=1e-9)
        assert row.values[1] == float(b.close[-1] > talib.SMA(b.close, 20)[-1])
        assert row.sparkline == tuple(b.close[-60:])
        assert row.last_time == b.time[-1]


def test_scan_uses_enough_history_for_the_formula(universe_bars):
    orcl = {"ORCL": universe_bars["ORCL"]}
    d = ScanDefinition("", "sma(close, 400) > 0", lookback=50)  # lookback is raised to what sma(400) needs
    assert run_to_end(_scanner(orcl).run(d, symbols_universe(["ORCL"]))).symbols == ("ORCL",)


def test_closing_the_generator_cancels_and_records_nothing(db, universe_bars):
    store = ScanStore(db)
    gen = _scanner(universe_bars, store=store).run(BUILTIN_PRESETS[0], symbols_universe(list(universe_bars)))
    next(gen)
    next(gen)
    gen.close()
    assert store.runs(BUILTIN_PRESETS[0].key(), "Symbols") == []


def test_second_run_reports_new_and_dropped_symbols(db, universe_bars):
    store = ScanStore(db)
    d = ScanDefinition("RSI under 50", "rsi(close, 14) < 50")
    uni = symbols_universe(list(universe_bars), name="My list")
    first = run_to_end(_scanner(universe_bars, store=store).run(d, uni))
    assert first.previous_run is None and first.new == () and first.dropped == ()
    # the next day: every symbol's last bar is dropped, so some move in or out of the filter
    shorter = {s: b.slice(0, len(b) - 3) for s, b in universe_bars.items()}
    second = run_to_end(_scanner(shorter, store=store).run(d, uni))
    before, after = set(first.symbols), set(second.symbols)
    assert second.previous_run is not None
    assert set(second.new) == after - before and set(second.dropped) == before - after
    assert second.new or second.dropped, "the test data should move at least one symbol"
    runs = store.runs(d.key(), "My list")
    assert [r.symbols for r in runs] == [second.symbols, first.symbols]


def test_custom_indicators_can_be_used_in_scans(db, universe_bars):
    formulas = FormulaService(db, EventBus())
    formulas.save("stretch", "(close - sma(close, 20)) / atr(14)")
    scanner = _scanner(universe_bars, custom=formulas.custom_map)
    d = ScanDefinition("", "stretch > 0", ("stretch",), lookback=10_000)
    result = run_to_end(scanner.run(d, symbols_universe(list(universe_bars))))
    for sym, b in universe_bars.items():
        c = b.close
        val = ((c - talib.SMA(c, 20)) / talib.ATR(b.high, b.low, c, 14))[-1]
        assert (sym in result.symbols) == (val > 0)
    assert all(r.values[0] > 0 for r in result.rows)


def test_bad_filter_fails_before_loading_any_bars():
    loaded = []
    scanner = Scanner(lambda s, tf: loaded.append(s))
    with pytest.raises(FormulaError) as info:
        run_to_end(scanner.run(ScanDefinition("", "rsi(close) < 30 and volume > smaa(volume, 20)"),
                               symbols_universe(["A", "B"])))
    assert info.value.column == 30 and info.value.suggestion == "sma"
    assert loaded == []


def test_result_exports_to_csv(tmp_path, universe_bars):
    d = ScanDefinition("", "close > 0", ("rsi(close, 14)",))
    result = run_to_end(_scanner(universe_bars).run(d, symbols_universe(["ORCL", "NVDA"])))
    out = result.to_csv(tmp_path / "scan.csv")
    rows = list(csv.DictReader(out.open()))
    assert [r["symbol"] for r in rows] == ["NVDA", "ORCL"]
    assert list(rows[0]) == ["symbol", "close", "change_pct", "volume", "rsi(close, 14)", "new"]
    assert float(rows[1]["close"]) == universe_bars["ORCL"].close[-1]
    assert float(rows[1]["rsi(close, 14)"]) == pytest.approx(talib.RSI(universe_bars["ORCL"].close, 14)[-1],
                                                             rel=1e-6)


def test_last_bar_scan_equals_talib_on_the_benchmark_panel():
    from bench.bench_scan import make_panel, our_hits, talib_hits

    panel = make_panel()
    ours, peer = our_hits(panel), talib_hits(panel)
    assert 20 <= len(peer) <= 60  # the built candidates hit (about 1% of 5,000)
    assert ours == peer


# --------------------------------------------------------------------------- presets store

def test_builtin_presets_cannot_be_deleted_but_save_as_works(db):
    store = ScanStore(db)
    names = [p.name for p in store.presets()]
    assert names[: len(BUILTIN_PRESETS)] == [p.name for p in BUILTIN_PRESETS]
    with pytest.raises(PresetError, match="cannot be deleted"):
        store.delete_preset("Oversold RSI")
    builtin = store.get_preset("Oversold RSI")
    assert builtin.builtin
    edited = ScanDefinition("Oversold RSI", "rsi(close, 14) < 25", builtin.columns)
    with pytest.raises(PresetError, match="save it under another name"):
        store.save_preset(edited)
    store.save_preset(ScanDefinition("Deeply oversold", "rsi(close, 14) < 25", builtin.columns))
    mine = store.get_preset("Deeply oversold")
    assert not mine.builtin and mine.formula_text == "rsi(close, 14) < 25"
    assert store.get_preset("Oversold RSI").formula_text == "rsi(close, 14) < 30"
    with pytest.raises(FormulaError):
        store.save_preset(ScanDefinition("Broken", "rsi(close, 14) <"))
    store.delete_preset("Deeply oversold")
    with pytest.raises(PresetError):
        store.get_preset("Deeply oversold")


# --------------------------------------------------------------------------- universes

def test_bundled_lists_state_their_date_and_hold_the_index_members():
    sp = bundled_universe("sp500")
    assert sp.as_of == "2024-11-01" and "as of 2024-11-01" in sp.name
    assert len(sp) == 503 and len(set(sp.symbols)) == 503
    for sym in ("AAPL", "MSFT", "NVDA", "BRK.B", "JPM", "XOM", "GOOGL", "GOOG", "KKR", "CRWD", "PLTR"):
        assert sym in sp.symbols
    rows = {c.symbol: c for c in bundled_constituents("sp500")}
    assert rows["AAPL"].sector == "Information Technology" and rows["XOM"].sector == "Energy"
    assert {c.sector for c in rows.values()} == {
        "Communication Services", "Consumer Discretionary", "Consumer Staples", "Energy", "Financials",
        "Health Care", "Industrials", "Information Technology", "Materials", "Real Estate", "Utilities"}
    ndx = bundled_universe("nasdaq100")
    assert ndx.as_of == "2024-11-01" and len(ndx) == 101
    assert {"AAPL", "ASML", "AZN", "PDD", "ARM", "SMCI"} <= set(ndx.symbols)
    assert "PLTR" not in ndx.symbols  # joined the Nasdaq-100 in December 2024
    assert "as of" in (REPO / "resources" / "universes" / "README.md").read_text()
    with pytest.raises(UniverseError, match="unknown bundled list"):
        bundled_universe("dow")


def test_watchlist_universe_reads_the_users_order(db):
    from engine.watchlists import WatchlistService

    WatchlistService(db, EventBus()).create("Tech", ["msft", "AAPL", "nvda"])
    u = watchlist_universe(db, "Tech")
    assert u.symbols == ("MSFT", "AAPL", "NVDA") and u.kind == "watchlist"
    with pytest.raises(UniverseError, match="no watchlist named"):
        watchlist_universe(db, "Nope")


def test_imported_universe_leaves_out_demo_symbols():
    class Info:
        def __init__(self, symbol, source):
            self.symbol, self.source = symbol, source

    class Service:
        def symbols(self):
            return [Info("AAA", "demo"), Info("orcl", "csv"), Info("NVDA", "yahoo")]

    assert imported_universe(Service()).symbols == ("ORCL", "NVDA")


# --------------------------------------------------------------------------- schedule

@pytest.mark.parametrize("schedule, now, want", [
    ("1min", dt.datetime(2024, 6, 3, 10, 0, 30, tzinfo=UTC), dt.datetime(2024, 6, 3, 10, 1, tzinfo=UTC)),
    ("1min", dt.datetime(2024, 6, 3, 10, 1, 0, tzinfo=UTC), dt.datetime(2024, 6, 3, 10, 2, tzinfo=UTC)),
    ("10min", dt.datetime(2024, 6, 3, 10, 7, 5, tzinfo=UTC), dt.datetime(2024, 6, 3, 10, 10, tzinfo=UTC)),
    ("10min", dt.datetime(2024, 6, 3, 10, 10, 0, tzinfo=UTC), dt.datetime(2024, 6, 3, 10, 20, tzinfo=UTC)),
    ("10min", dt.datetime(2024, 6, 3, 23, 55, tzinfo=UTC), dt.datetime(2024, 6, 4, 0, 0, tzinfo=UTC)),
    # Tuesday 15:00 New York → the same day 16:10
    ("after_close", dt.datetime(2024, 6, 4, 15, 0, tzinfo=NY), dt.datetime(2024, 6, 4, 16, 10, tzinfo=NY)),
    # Friday 17:00 New York → Monday 16:10
    ("after_close", dt.datetime(2024, 6, 7, 17, 0, tzinfo=NY), dt.datetime(2024, 6, 10, 16, 10, tzinfo=NY)),
    # Saturday, given in UTC → Monday 16:10 New York (20:10 UTC in summer)
    ("after_close", dt.datetime(2024, 6, 8, 12, 0, tzinfo=UTC), dt.datetime(2024, 6, 10, 20, 10, tzinfo=UTC)),
    # winter time: 16:10 New York is 21:10 UTC
    ("after_close", dt.datetime(2024, 1, 10, 21, 9, tzinfo=UTC), dt.datetime(2024, 1, 10, 21, 10, tzinfo=UTC)),
    # exactly at 16:10 → the next weekday
    ("after_close", dt.datetime(2024, 6, 4, 16, 10, tzinfo=NY), dt.datetime(2024, 6, 5, 16, 10, tzinfo=NY)),
    # Thanksgiving week 2024: Wednesday evening skips the closed Thursday, and Friday closes
    # early at 13:00 New York, so its scan runs at 13:10
    ("after_close", dt.datetime(2024, 11, 27, 17, 0, tzinfo=NY), dt.datetime(2024, 11, 29, 13, 10, tzinfo=NY)),
    ("after_close", dt.datetime(2024, 11, 28, 12, 0, tzinfo=NY), dt.datetime(2024, 11, 29, 13, 10, tzinfo=NY)),
    ("after_close", dt.datetime(2024, 11, 29, 13, 10, tzinfo=NY), dt.datetime(2024, 12, 2, 16, 10, tzinfo=NY)),
    # Christmas Eve closes at 13:00, Christmas Day is closed
    ("after_close", dt.datetime(2024, 12, 24, 12, 0, tzinfo=UTC), dt.datetime(2024, 12, 24, 18, 10, tzinfo=UTC)),
    ("after_close", dt.datetime(2024, 12, 24, 14, 0, tzinfo=NY), dt.datetime(2024, 12, 26, 16, 10, tzinfo=NY)),
    # New Year's Day and Good Friday 2025 are skipped
    ("after_close", dt.datetime(2024, 12, 31, 16, 30, tzinfo=NY), dt.datetime(2025, 1, 2, 16, 10, tzinfo=NY)),
    ("after_close", dt.datetime(2025, 4, 17, 16, 30, tzinfo=NY), dt.datetime(2025, 4, 21, 16, 10, tzinfo=NY)),
    # the DST change week: Friday 2024-03-08 closes 21:00 UTC, Monday 03-11 at 20:00 UTC
    ("after_close", dt.datetime(2024, 3, 8, 21, 0, tzinfo=UTC), dt.datetime(2024, 3, 8, 21, 10, tzinfo=UTC)),
    ("after_close", dt.datetime(2024, 3, 8, 21, 10, tzinfo=UTC), dt.datetime(2024, 3, 11, 20, 10, tzinfo=UTC)),
    # and back in November: Friday 11-01 20:10 UTC, Monday 11-04 21:10 UTC
    ("after_close", dt.datetime(2024, 11, 1, 20, 10, tzinfo=UTC), dt.datetime(2024, 11, 4, 21, 10, tzinfo=UTC)),
])
def test_next_run_time(schedule, now, want):
    got = next_run_time(schedule, now)
    assert got == want and got > now and got.tzinfo is not None


def test_next_run_time_refuses_naive_times_and_unknown_schedules():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_run_time("1min", dt.datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="unknown schedule"):
        next_run_time("hourly", dt.datetime(2024, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="unknown exchange"):
        next_run_time("after_close", dt.datetime(2024, 1, 1, tzinfo=UTC), exchange="XXXX")


def test_after_close_runs_once_per_session_through_a_holiday_month():
    """Walking the schedule from run to run visits every session once, 10 minutes after its
    close, and no holiday or weekend (December 2024: Christmas closed, the 24th closes early)."""
    now = dt.datetime(2024, 11, 30, 12, 0, tzinfo=NY)
    runs = []
    while now < dt.datetime(2025, 1, 1, tzinfo=NY):
        now = next_run_time("after_close", now)
        runs.append(now)
    days = [r.date() for r in runs[:-1]]
    assert dt.date(2024, 12, 25) not in days and len(days) == len(set(days)) == 21
    assert all(d.weekday() < 5 for d in days)
    times = {r.date(): r.time() for r in runs}
    assert times[dt.date(2024, 12, 24)] == dt.time(13, 10) and times[dt.date(2024, 12, 23)] == dt.time(16, 10)


# --------------------------------------------------------------------------- CLI

def _cli(*args, home):
    env = {"STOCKSCANNER_HOME": str(home), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=REPO, capture_output=True, text=True,
                          env=env, timeout=120)


def test_cli_compute_writes_date_then_one_column_per_expression(tmp_path, shared_data):
    src = shared_data / "ORCL-1995-2014.csv"
    out = tmp_path / "out.csv"
    r = _cli("compute", str(src), "--expr", "rsi(close,14)", "--expr", "close > sma(close, 50)",
             "--out", str(out), home=tmp_path / "home")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["date", "rsi(close,14)", "close > sma(close, 50)"]
    bars = _yahoo(src, "ORCL")
    assert len(rows) == len(bars) + 1 and rows[1][0] == "1995-01-03"
    rsi = talib.RSI(bars.close, 14)
    sma = talib.SMA(bars.close, 50)
    assert rows[14][1] == "" and rows[15][1] != ""  # NaN warm-up is empty
    got = np.array([float(r[1]) for r in rows[15:]])
    assert np.allclose(got, rsi[14:], rtol=1e-9)
    assert rows[49][2] == "0"  # warm-up: a comparison with NaN is false
    flags = np.array([r[2] for r in rows[50:]])
    assert set(flags) == {"0", "1"}
    assert np.array_equal(flags == "1", bars.close[49:] > sma[49:])


def test_cli_scan_prints_matching_symbols_with_their_last_close(tmp_path, shared_data):
    data = tmp_path / "data"
    data.mkdir()
    (data / "ORCL.csv").write_bytes((shared_data / "ORCL-1995-2014.csv").read_bytes())
    (data / "NVDA.csv").write_bytes((shared_data / "NVDA-1999-2014.csv").read_bytes())
    orcl, nvda = _yahoo(data / "ORCL.csv", "ORCL"), _yahoo(data / "NVDA.csv", "NVDA")
    r = _cli("scan", "--data", str(data), "--where", "close > 0", "--json", home=tmp_path / "home")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [{"symbol": "NVDA", "close": nvda.close[-1]},
                                    {"symbol": "ORCL", "close": orcl.close[-1]}]
    where = "rsi(close, 14) > 50"
    r = _cli("scan", "--data", str(data), "--where", where, "--json", home=tmp_path / "home")
    want = sorted(s for s, b in (("ORCL", orcl), ("NVDA", nvda)) if talib.RSI(b.close, 14)[-1] > 50)
    assert [d["symbol"] for d in json.loads(r.stdout)] == want
    r = _cli("scan", "--data", str(data), "--where", "close > 0", home=tmp_path / "home")
    assert r.stdout.splitlines() == [f"NVDA\t{nvda.close[-1]:g}", f"ORCL\t{orcl.close[-1]:g}"]


def test_cli_bad_formula_exits_1_with_column_and_suggestion(tmp_path, shared_data):
    r = _cli("scan", "--data", str(tmp_path), "--where", "rsii(close) < 30", home=tmp_path / "home")
    assert r.returncode == 1
    assert "unknown function 'rsii' at column 1 — did you mean 'rsi'?" in r.stderr
    r = _cli("compute", str(shared_data / "ORCL-1995-2014.csv"), "--expr", "close", "--expr", "sma(close, 2.5)",
             "--out", str(tmp_path / "x.csv"), home=tmp_path / "home")
    assert r.returncode == 1 and "at column 12" in r.stderr and "whole number" in r.stderr
    assert not (tmp_path / "x.csv").exists()


def test_scanner_over_the_demo_data_service_refreshes_then_scans(db):
    from engine.data.service import DataService
    from engine.scanner import demo_universe

    svc = DataService(db, source="demo", bus=EventBus())
    formulas = FormulaService(db, EventBus())
    formulas.save("range_pct", "(high - low) / close * 100")
    scanner = Scanner.from_service(svc, ScanStore(db), formulas)
    universe = demo_universe(svc)
    assert len(universe) > 10 and universe.kind == "demo"
    d = ScanDefinition("wide", "range_pct > 0", ("range_pct",))
    gen = scanner.run(d, universe, refresh=True)
    texts = []
    while True:
        try:
            texts.append(next(gen).text)
        except StopIteration as stop:
            result = stop.value
            break
    assert any(t.startswith("Refreshing") for t in texts) and any(t.startswith("Loading") for t in texts)
    assert result.scanned == len(universe) and result.errors == ()
    assert set(result.symbols) == set(universe.symbols)  # every bar has a positive range
    assert all(r.is_demo for r in result.rows)
    for r in result.rows[:5]:
        b = svc.load(r.symbol, "1d")
        assert r.values[0] == pytest.approx((b.high[-1] - b.low[-1]) / b.close[-1] * 100)


# --------------------------------------------------------------------------- the app's job and diff

def _result(symbols, universe="U", ran_at=None, new=(), dropped=(), previous_run=None, formula="close > 0"):
    from engine.scanner import ScanResult, ScanRow

    rows = tuple(ScanRow(s, 1.0, 0.0, 1.0, 0, (), ()) for s in symbols)
    return ScanResult("", formula, universe, ran_at or dt.datetime(2026, 1, 5, 15, tzinfo=UTC), (), rows,
                      tuple(new), tuple(dropped), len(symbols), previous_run=previous_run)


def test_scan_job_resolves_the_universe_in_the_job_and_reports_progress(universe_bars):
    from engine.scanner import scan_job

    resolved = []

    def resolve():
        resolved.append(True)
        return symbols_universe(["ORCL", "NVDA"])

    gen = scan_job(_scanner(universe_bars), ScanDefinition("", "close > 0"), resolve)
    assert resolved == []  # nothing runs until the worker starts the generator
    first = next(gen)
    assert first.text == "Resolving the universe…" and resolved == []
    steps = [first]
    try:
        while True:
            steps.append(next(gen))
    except StopIteration as stop:
        result = stop.value
    assert resolved == [True] and result.symbols == ("NVDA", "ORCL")
    assert any(p.text == "Loading ORCL" for p in steps)


def test_scan_job_cancel_records_nothing(db, universe_bars):
    from engine.scanner import scan_job

    store = ScanStore(db)
    gen = scan_job(_scanner(universe_bars, store=store), BUILTIN_PRESETS[0],
                   lambda: symbols_universe(list(universe_bars)))
    for _ in range(3):
        next(gen)
    gen.close()
    assert store.runs(BUILTIN_PRESETS[0].key(), "Symbols") == []


def test_diff_against_the_result_shown_before_on_the_same_universe():
    from engine.scanner import diff_results

    before = _result(["A", "B", "C"], ran_at=dt.datetime(2026, 1, 5, 14, tzinfo=UTC))
    after = _result(["B", "D", "A0"], new=["ZZ"], dropped=["YY"])  # the store's diff is not used
    d = diff_results(before, after)
    assert d.new == ("D", "A0") and d.dropped == ("A", "C") and d.since == before.ran_at
    text = d.describe()
    assert "New since" in text and "D, A0" in text and "Dropped: A, C" in text


def test_diff_on_another_universe_or_first_run_uses_the_stored_run():
    from engine.scanner import diff_results

    stored = "2026-01-04T21:10:00.000000+00:00"
    after = _result(["B"], universe="Other", new=["B"], dropped=["Q"], previous_run=stored)
    d = diff_results(_result(["A"]), after)
    assert d.new == ("B",) and d.dropped == ("Q",) and d.since == dt.datetime(2026, 1, 4, 21, 10, tzinfo=UTC)
    first = diff_results(None, _result(["A"]))
    assert first.since is None and first.describe() == ""
    same = diff_results(_result(["A"]), _result(["A"]))
    assert same.new == () and same.dropped == () and same.describe().startswith("Same symbols as the run at")


def test_scan_session_compares_each_run_with_the_one_before():
    from engine.scanner import ScanSession

    s = ScanSession()
    assert s.accept(_result(["A", "B"])).since is None
    assert s.accept(_result(["B", "C"])).new == ("C",)
    d = s.accept(_result(["A", "B", "C"]))
    assert d.new == ("A",) and d.dropped == () and s.result.symbols == ("A", "B", "C")


def test_summarize_counts_matches_and_failures():
    from engine.scanner import ScanResult, summarize

    ok = _result(["A", "B"])
    assert summarize(ok, 0.42) == ("2 of 2 match · U · 0.4 s", "")
    none = ScanResult("", "x", "Nasdaq-100", ok.ran_at, (), (), (), (), 0, (("AAPL", "no data"), ("MSFT", "no data")))
    text, tip = summarize(none, 1.0)
    assert text == "None of the 2 symbols of Nasdaq-100 could be loaded: no data" and "AAPL: no data" in tip


def test_result_csv_writes_plain_numbers(tmp_path):
    from engine.scanner import ScanResult, ScanRow

    row = ScanRow("A", 0.00001, float("nan"), 1.5e16, 0, (2.0,), ())
    r = ScanResult("", "x", "U", dt.datetime(2026, 1, 5, tzinfo=UTC), ("c",), (row,), (), (), 1)
    lines = r.to_csv(tmp_path / "o.csv").read_text().splitlines()
    assert lines[1] == "A,0.00001,,15000000000000000,2,false"  # was 1e-05,,1.5e+16,2.0,False


def test_diff_with_another_filter_uses_the_stored_run_of_the_same_filter():
    from engine.scanner import diff_results

    stored = "2026-01-04T21:10:00.000000+00:00"
    looser = _result(["A", "B", "C"], formula="rsi(close, 14) < 55")
    after = _result(["A"], formula="rsi(close, 14) < 45", new=[], dropped=[], previous_run=stored)
    d = diff_results(looser, after)  # the result shown before ran another filter: not compared
    assert d.new == () and d.dropped == () and d.since == dt.datetime(2026, 1, 4, 21, 10, tzinfo=UTC)


def test_a_preset_saved_with_another_filter_is_not_compared_with_its_old_runs(db, universe_bars):
    store = ScanStore(db)
    uni = symbols_universe(list(universe_bars), name="My list")
    loose = run_to_end(_scanner(universe_bars, store=store).run(ScanDefinition("Mine", "rsi(close, 14) < 90"), uni))
    strict = run_to_end(_scanner(universe_bars, store=store).run(ScanDefinition("Mine", "rsi(close, 14) < 0"), uni))
    assert loose.symbols and strict.symbols == ()
    assert strict.previous_run is None and strict.dropped == ()  # the same name, another filter
    again = run_to_end(_scanner(universe_bars, store=store).run(ScanDefinition("Mine", "rsi(close, 14) < 90"), uni))
    assert again.previous_run is not None and again.new == () and again.dropped == ()
    assert store.last_run("Mine", "My list", "rsi(close, 14) < 0").symbols == ()
