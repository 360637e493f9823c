"""The formula language: parsing, errors with columns, evaluation against TA-Lib,
NaN semantics, the sub-expression cache, last-bar evaluation, panels, custom indicators."""
import ast
import time
from pathlib import Path

import numpy as np
from engine.events import EventBus
import pytest
import talib

import engine.indicators as ind
from engine.data.bars import Bars
from engine.formula import FormulaError, FormulaService, Panel, evaluate, parse, parse_many
from engine.formula.functions import FUNCTIONS
from engine.formula.service import parse_definition

REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- builders

def _yahoo(path: Path, symbol: str) -> Bars:
    import pandas as pd

    df = pd.read_csv(path, parse_dates=["Date"]).set_index("Date")
    df.columns = [c.lower() for c in df.columns]
    return Bars.from_frame(symbol, "1d", df[["open", "high", "low", "close", "volume"]])


@pytest.fixture
def orcl(shared_data) -> Bars:
    return _yahoo(shared_data / "ORCL-1995-2014.csv", "ORCL")


def _random_panel(rows=60, cols=252, seed=7) -> Panel:
    rng = np.random.default_rng(seed)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, (rows, cols)), axis=1))
    h = c * (1 + np.abs(rng.normal(0, 0.01, (rows, cols))))
    lo = c * (1 - np.abs(rng.normal(0, 0.01, (rows, cols))))
    o = np.clip(c * (1 + rng.normal(0, 0.005, (rows, cols))), lo, h)
    v = rng.lognormal(12, 0.5, (rows, cols))
    c[3, :40] = np.nan  # a symbol with a shorter history
    h[3, :40] = lo[3, :40] = o[3, :40] = v[3, :40] = np.nan
    c[5, 150] = np.nan  # a gap inside a series
    c[6, :] = np.nan  # no data at all
    t = np.arange(cols, dtype=np.int64) * 86400
    return Panel.from_arrays([f"S{i}" for i in range(rows)], t, o, h, lo, c, v)


def close_enough(a, b):
    return np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True)


# --------------------------------------------------------------------------- values

def test_indicator_functions_match_talib_with_argument_order(orcl):
    h, lo, c, v = orcl.high, orcl.low, orcl.close, orcl.volume
    cases = {
        "sma(close, 20)": talib.SMA(c, 20),
        "ema(close, 12)": talib.EMA(c, 12),
        "wma(close, 9)": talib.WMA(c, 9),
        "dema(close, 10)": talib.DEMA(c, 10),
        "tema(close, 10)": talib.TEMA(c, 10),
        "rsi(close, 14)": talib.RSI(c, 14),
        "macd(close, 12, 26, 9)": talib.MACD(c, 12, 26, 9)[0],
        "macd_signal(close, 12, 26, 9)": talib.MACD(c, 12, 26, 9)[1],
        "macd_hist(close, 12, 26, 9)": talib.MACD(c, 12, 26, 9)[2],
        "bb_upper(close, 20, 2)": talib.BBANDS(c, 20, 2, 2)[0],
        "bb_mid(close, 20, 2)": talib.BBANDS(c, 20, 2, 2)[1],
        "bb_lower(close, 20, 2.5)": talib.BBANDS(c, 20, 2.5, 2.5)[2],
        "atr(14)": talib.ATR(h, lo, c, 14),
        "natr(10)": talib.NATR(h, lo, c, 10),
        "adx(14)": talib.ADX(h, lo, c, 14),
        "plus_di(14)": talib.PLUS_DI(h, lo, c, 14),
        "minus_di(14)": talib.MINUS_DI(h, lo, c, 14),
        "cci(20)": talib.CCI(h, lo, c, 20),
        "willr(14)": talib.WILLR(h, lo, c, 14),
        "mfi(14)": talib.MFI(h, lo, c, v, 14),
        "obv()": talib.OBV(c, v),
        "stoch_k(14, 3, 3)": talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)[0],
        "stoch_d(14, 3, 3)": talib.STOCH(h, lo, c, 14, 3, 0, 3, 0)[1],
        "roc(close, 10)": talib.ROC(c, 10),
        "mom(close, 10)": talib.MOM(c, 10),
        "highest(high, 20)": talib.MAX(h, 20),
        "lowest(low, 20)": talib.MIN(lo, 20),
    }
    for text, want in cases.items():
        got = evaluate(text, orcl)
        assert got.shape == c.shape, text
        assert np.array_equal(np.isnan(got), np.isnan(want)), f"{text}: warm-up differs from TA-Lib"
        assert np.allclose(got, want, rtol=1e-8, atol=1e-8, equal_nan=True), text


def test_defaults_are_the_documented_ones(orcl):
    pairs = [
        ("rsi(close)", "rsi(close, 14)"),
        ("macd(close)", "macd(close, 12, 26, 9)"),
        ("macd_hist(close, 8)", "macd_hist(close, 8, 26, 9)"),
        ("bb_upper(close)", "bb_upper(close, 20, 2)"),
        ("atr()", "atr(14)"),
        ("stoch_d()", "stoch_d(5, 3, 3)"),
        ("roc(close)", "roc(close, 10)"),
        ("change_pct(close)", "change_pct(close, 1)"),
        ("shift(close)", "shift(close, 1)"),
    ]
    for short, full in pairs:
        assert close_enough(evaluate(short, orcl), evaluate(full, orcl)), short
        assert parse(short).canonical() == parse(full).canonical()


def test_series_helpers_and_arithmetic(orcl):
    c = orcl.close
    prev = np.r_[np.nan, c[:-1]]
    assert close_enough(evaluate("shift(close, 1)", orcl), prev)
    assert close_enough(evaluate("change_pct(close, 1)", orcl), (c / prev - 1) * 100)
    assert close_enough(evaluate("(high + low) / 2 - open * 2 ** 2", orcl), (orcl.high + orcl.low) / 2 - orcl.open * 4)
    fast, slow = ind.sma(c, 10), ind.sma(c, 30)
    d = fast - slow  # differences of rounding-noise size (≤ 1e-12 relative) are ties
    d[np.abs(d) <= 1e-12 * np.maximum(np.abs(fast), np.abs(slow))] = 0.0
    want = np.zeros(len(c), bool)
    want[1:] = (d[1:] > 0) & (d[:-1] <= 0)
    got = evaluate("crosses_above(sma(close, 10), sma(close, 30))", orcl)
    assert got.dtype == bool and np.array_equal(got, want) and got.sum() > 10


def test_precedence_and_associativity():
    b = Bars.from_arrays("X", "1d", np.arange(3), *([np.ones(3)] * 5))
    assert evaluate("2 + 3 * 4", b)[0] == 14
    assert evaluate("-2 ** 2", b)[0] == -4
    assert evaluate("2 ** 3 ** 2", b)[0] == 512
    assert evaluate("(2 + 3) * 4", b)[0] == 20
    assert evaluate("10 - 4 - 3", b)[0] == 3
    assert evaluate("1 < 2 and not 3 < 2 or false", b)[0]
    assert not evaluate("not (1 < 2) and 1 < 2 or false", b)[0]
    assert evaluate("RSI(Close, 2) >= 0 or TRUE", b).dtype == bool  # case-insensitive names


def test_nan_comparisons_are_false_and_division_by_zero_is_nan():
    n = np.array([np.nan, 1.0, 2.0])
    b = Bars.from_arrays("X", "1d", np.arange(3), n, n, n, n, np.array([0.0, 0.0, 5.0]))
    assert evaluate("close > 0", b).tolist() == [False, True, True]
    assert evaluate("close != 5", b).tolist() == [False, True, True]  # NaN != 5 is False here
    assert evaluate("close == close", b).tolist() == [False, True, True]
    assert evaluate("not (close > 0)", b).tolist() == [True, False, False]
    out = evaluate("close / volume", b)
    assert np.isnan(out[:2]).all() and out[2] == pytest.approx(0.4)
    assert evaluate("close and 1", b).tolist() == [False, True, True]  # NaN is not true


def test_boolean_and_numeric_results_have_clear_dtypes(orcl):
    f = parse("close > open")
    assert f.is_boolean and f.evaluate(orcl).dtype == bool
    g = parse("(close > open) * 100")
    assert not g.is_boolean and g.evaluate(orcl).dtype == np.float64
    assert set(np.unique(g.evaluate(orcl))) <= {0.0, 100.0}


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("text, column, message, suggestion", [
    ("rsii(close)", 1, "unknown function 'rsii'", "rsi"),
    ("close > smaa(close, 5)", 9, "unknown function 'smaa'", "sma"),
    ("clsoe > 1", 1, "unknown name 'clsoe'", "close"),
    ("sma(close)", 10, "sma takes 2 arguments", None),
    ("rsi(close, 14, 3)", 16, "rsi takes 1 to 2 arguments", None),
    ("sma(close, 2.5)", 12, "must be a whole number", None),
    ("sma(close, 0)", 12, "must be at least 1", None),
    ("rsi(close, 1)", 12, "must be at least 2", None),
    ("sma(close, -3)", 12, "must be at least 1", None),
    ("sma(close, high)", 12, "must be a constant number", None),
    ("(close > 1", 1, "'(' is never closed", None),
    ("close > 1)", 10, "')' has no matching '('", None),
    ("sma(close, 5", 4, "is never closed", None),
    ("close > 1 close", 11, "after the end of the formula", None),
    ("close >", 8, "ends too early", None),
    ("close = 1", 7, "'=' is not a comparison", "=="),
    ("close > 1 && open > 1", 11, "'&&' is not an operator", "and"),
    ("close.__class__", 6, "no attributes or methods", None),
    ("close(1)", 6, "is a field, not a function", None),
    ("rsi > 50", 1, "is a function", None),
    ("1 < close < 2", 11, "cannot be chained", None),
    ("", 1, "empty", None),
    ("close > 1$", 10, "unexpected character '$'", None),
    ("sma(close,,5)", 11, "argument of sma is missing", None),
])
def test_errors_point_at_the_column_and_suggest(text, column, message, suggestion):
    with pytest.raises(FormulaError) as info:
        parse(text)
    e = info.value
    assert isinstance(e, ValueError)
    assert e.column == column, (text, e.column, str(e))
    assert message in e.message
    assert e.suggestion == suggestion
    assert f"at column {column}" in str(e)


def test_error_message_reads_like_the_issue():
    with pytest.raises(FormulaError) as info:
        parse("rsii(close)")
    assert str(info.value) == "unknown function 'rsii' at column 1 — did you mean 'rsi'?"
    assert info.value.caret().splitlines()[1] == "^"


def test_no_eval_exec_or_python_ast_in_the_formula_package():
    banned_calls = {"eval", "exec", "compile", "__import__"}
    for path in sorted((REPO / "engine" / "formula").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in banned_calls, f"{path.name}:{node.lineno} calls {node.func.id}"
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert "ast" not in names, f"{path.name} imports ast"


# --------------------------------------------------------------------------- cache

def test_common_subexpressions_are_computed_once(orcl, monkeypatch):
    calls = []
    real = ind.sma

    def counting(x, n):
        calls.append(n)
        return real(x, n)

    monkeypatch.setattr(ind, "sma", counting)
    f = parse("sma(close, 50) > 10 and close > sma(close, 50) or sma(close,50) < sma(close, 20)")
    f.evaluate(orcl)
    assert sorted(calls) == [20, 50]
    calls.clear()
    a, b = parse_many(["sma(close, 50) > 1", "close / sma(close, 50)"])
    from engine.formula import Evaluator

    ev = Evaluator(Panel.from_single(orcl))
    a.evaluate_panel(ev.panel, evaluator=ev)
    b.evaluate_panel(ev.panel, evaluator=ev)
    assert calls == [50]  # shared between the two formulas


# --------------------------------------------------------------------------- last bar

LAST_BAR_FORMULAS = [
    "rsi(close,14) < 30 and close > sma(close,50) and volume > 2*sma(volume,20)",
    "rsi(close)", "rsi(close / open, 5)", "sma(close, 50)", "sma(close / open, 5)",
    "highest(high, 20) - lowest(low, 10)", "shift(close, 3)", "change_pct(close, 5)",
    "crosses_above(sma(close, 5), sma(close, 20))", "crosses_below(close, 100)",
    "macd_hist(close)", "bb_upper(close) - bb_lower(close)", "atr(14) / close", "stoch_k()", "adx()",
    "obv()", "vwap()", "mfi()", "ema(close, 10) > dema(close, 10)", "sma(rsi(close), 3)",
    "highest(sma(close, 3), 4)", "not (close > open)", "1 + 2", "true",
]


@pytest.mark.parametrize("text", LAST_BAR_FORMULAS)
def test_last_bar_mode_equals_the_full_evaluations_last_columns(text):
    panel = _random_panel()
    f = parse(text)
    full = f.evaluate_panel(panel)
    for k in (1, 5):
        last = f.evaluate_last(panel, k)
        assert last.shape == (len(panel), k)
        if full.dtype == bool:
            assert np.array_equal(last, full[:, -k:]), text
        else:
            assert close_enough(last, full[:, -k:]), text


def test_last_bar_handles_short_histories_and_gaps_like_the_indicators():
    panel = _random_panel()
    f = parse("rsi(close, 14)")
    last = f.evaluate_last(panel)[:, 0]
    assert np.isnan(last[5]) and np.isnan(last[6])  # gap → NaN from there on; no data → NaN
    assert last[3] == pytest.approx(talib.RSI(panel.close[3, 40:], 14)[-1], rel=1e-9)


# --------------------------------------------------------------------------- panel

def _bars(sym, times, closes):
    c = np.asarray(closes, float)
    return Bars.from_arrays(sym, "1d", np.asarray(times) * 86400, c, c + 1, c - 1, c, c * 10)


def test_panel_right_alignment_keeps_each_symbols_last_bars():
    a = _bars("A", [1, 2, 3, 4, 5], [10, 11, 12, 13, 14])
    b = _bars("B", [3, 4, 6], [20, 21, 22])
    p = Panel.from_bars([a, b], length=4)
    assert p.symbols == ("A", "B") and p.shape == (2, 4)
    assert p.close[0].tolist() == [11, 12, 13, 14]
    assert np.isnan(p.close[1, 0]) and p.close[1, 1:].tolist() == [20, 21, 22]
    assert p.last_time.tolist() == [5 * 86400, 6 * 86400]
    assert p.clean.tolist() == [True, False]


def test_panel_union_alignment_puts_bars_at_their_times():
    a = _bars("A", [1, 2, 4], [10, 11, 13])
    b = _bars("B", [2, 3], [20, 21])
    p = Panel.from_bars([a, b], align="union")
    assert (p.time // 86400).tolist() == [1, 2, 3, 4]
    assert np.array_equal(p.close, np.array([[10, 11, np.nan, 13], [np.nan, 20, 21, np.nan]]), equal_nan=True)
    with pytest.raises(ValueError, match="alignment"):
        Panel.from_bars([a], align="left")


def test_evaluate_panel_equals_per_symbol_evaluation(orcl):
    other = orcl.slice(1000)
    p = Panel.from_bars([orcl, Bars("X", "1d", other.time, other.open, other.high, other.low, other.close,
                                    other.volume)], align="right")
    f = parse("close > sma(close, 50) and rsi(close) < 60")
    grid = f.evaluate_panel(p)
    assert np.array_equal(grid[0], f.evaluate(orcl))
    assert np.array_equal(grid[1, -len(other):], f.evaluate(other))


# --------------------------------------------------------------------------- custom indicators

def test_custom_indicators_expand_reference_each_other_and_detect_cycles(orcl):
    custom = {"my_osc": "(close - sma(close,20)) / atr(14)", "osc2": "my_osc * 2"}
    c = orcl.close
    want = (c - talib.SMA(c, 20)) / talib.ATR(orcl.high, orcl.low, c, 14)
    assert close_enough(evaluate("my_osc", orcl, custom), want)
    assert np.array_equal(evaluate("my_osc > 1", orcl, custom), np.nan_to_num(want, nan=-1) > 1)
    assert close_enough(evaluate("osc2", orcl, custom), want * 2)
    assert parse("osc2 > my_osc", custom).custom == {"my_osc", "osc2"}
    with pytest.raises(FormulaError, match=r"refers to itself \(a → b → a\)"):
        parse("a > 1", {"a": "b + 1", "b": "a * 2"})
    with pytest.raises(FormulaError) as info:
        parse("close + bad", {"bad": "rsii(close)"})
    assert info.value.column == 9 and "in custom indicator 'bad'" in info.value.message
    assert info.value.suggestion == "rsi"


def test_formula_service_saves_validates_and_refuses_bad_names(db):
    svc = FormulaService(db, EventBus())
    saved = svc.save("My_Osc", "(close - sma(close,20)) / atr(14)", "distance in ATRs")
    assert saved.name == "my_osc" and saved.description == "distance in ATRs"
    assert [c.name for c in svc.list()] == ["my_osc"]
    assert svc.validate("my_osc > 1") == []
    errs = svc.validate("my_os > 1")
    assert len(errs) == 1 and errs[0].suggestion == "my_osc"
    svc.save("fast_osc", "my_osc * 2")
    assert svc.parse("fast_osc > 1").custom == {"fast_osc", "my_osc"}
    for bad in ("rsi", "close", "and", "2x", "my-osc"):
        with pytest.raises(FormulaError):
            svc.save(bad, "close")
    with pytest.raises(FormulaError, match="refers to itself"):
        svc.save("my_osc", "fast_osc + 1")  # would make a cycle
    with pytest.raises(FormulaError, match="unknown function"):
        svc.save("broken", "rsii(close)")
    with pytest.raises(FormulaError, match="used by 'fast_osc'"):
        svc.delete("my_osc")
    assert svc.validate("fast_osc + 1", name="my_osc")[0].message.startswith("custom indicator")
    svc.delete("fast_osc")
    svc.delete("my_osc")
    assert svc.list() == []
    with pytest.raises(KeyError):
        svc.get("my_osc")


def test_custom_indicators_survive_reopening_the_store(db):
    from engine.store import open_database

    FormulaService(db, EventBus()).save_definition("spread = high - low", "bar range")
    again = open_database(db.path)
    try:
        got = FormulaService(again, EventBus()).get("spread")
        assert (got.expression, got.description) == ("high - low", "bar range")
    finally:
        again.dispose()


def test_parse_definition_splits_name_and_formula():
    assert parse_definition("my_osc = (close - sma(close,20)) / atr(14)") == (
        "my_osc", "(close - sma(close,20)) / atr(14)")
    with pytest.raises(FormulaError):
        parse_definition("close == 1")


def test_validate_is_fast_enough_for_every_keystroke(db):
    svc = FormulaService(db, EventBus())
    svc.save("my_osc", "(close - sma(close,20)) / atr(14)")
    text = "rsi(close,14) < 30 and close > sma(close,50) and volume > 2*sma(volume,20) and my_osc > 1"
    svc.validate(text)
    t0 = time.perf_counter()
    for i in range(1, len(text) + 1):
        svc.validate(text[:i])
    per_call = (time.perf_counter() - t0) / len(text)
    assert per_call < 0.005, f"{per_call * 1e3:.2f} ms per keystroke"


def test_every_whitelisted_function_is_documented_and_evaluates(orcl):
    short = orcl.slice(-300)
    for name, spec in FUNCTIONS.items():
        args = []
        for p in spec.params:
            if p.kind == "series":
                args.append("close")
            elif p.default is None:
                args.append("5")
        text = f"{name}({', '.join(args)})"
        out = evaluate(text, short)
        assert out.shape == (len(short),), text
        assert spec.doc and np.isfinite(out[-1].astype(float)), text


def test_rsi_of_a_flat_series_is_zero_in_both_modes():
    c = np.full((2, 60), 25.0)
    c[1, :30] = np.nan
    p = Panel.from_arrays(["FLAT", "SHORT"], np.arange(60), c, c, c, c, np.ones((2, 60)))
    f = parse("rsi(close, 14)")
    assert f.evaluate_panel(p)[:, -1].tolist() == [0.0, 0.0]
    assert f.evaluate_last(p)[:, 0].tolist() == [0.0, 0.0]
