"""The formula language under hostile shapes: custom indicators that double the expanded
formula per level, long chains in messages, characters that are hard to quote."""
import time

import numpy as np
import pytest

from engine.events import EventBus
from engine.formula import FormulaError, FormulaService, Panel, parse


def _doubling(levels: int) -> dict[str, str]:
    """c0 = close, c1 = c0 + c0, ...: c<n> is 2**n × close, written out 2**n times."""
    return {"c0": "close"} | {f"c{i}": f"c{i - 1} + c{i - 1}" for i in range(1, levels + 1)}


def _panel(rows: int = 3, cols: int = 60) -> Panel:
    rng = np.random.default_rng(3)
    c = 100 + rng.random((rows, cols))
    t = np.arange(cols, dtype=np.int64) * 86400
    return Panel.from_arrays([f"S{i}" for i in range(rows)], t, c, c + 1, c - 1, c, c * 1000)


def test_canonical_of_a_short_doubling_chain_is_written_out():
    f = parse("c3", _doubling(3))
    assert f.canonical() == "(((close + close) + (close + close)) + ((close + close) + (close + close)))"


@pytest.mark.parametrize("text", [
    "c10", "-c2 * 3", "not (c1 > -2.5) or true", "macd(close) > macd_signal(close, 12, 26, 9)",
    "bb_upper(close, 20, 2.5) - 1e20", "crosses_above(sma(c2, 10), ema(close, 30))",
])
def test_the_size_check_counts_exactly_what_is_written(text):
    root = parse(text, _doubling(10)).root
    assert root.text_length() == len(root.to_text())


def test_canonical_of_31_doubling_levels_refuses_quickly_with_the_size():
    f = parse("c31", _doubling(31))  # parsing shares the repeated parts: fast
    t0 = time.perf_counter()
    with pytest.raises(FormulaError, match=r"cannot be written out in full.*21,474,836,475 characters"):
        f.canonical()
    assert time.perf_counter() - t0 < 0.2


def test_60_doubling_levels_are_refused_quickly_with_a_summarised_path():
    t0 = time.perf_counter()
    with pytest.raises(FormulaError) as info:
        parse("sma(c60, 5)", _doubling(60))
    assert time.perf_counter() - t0 < 0.2
    msg = str(info.value)
    assert "nested too deeply" in msg and "c60 → c59" in msg and "(27 more)" in msg
    assert len(msg) < 250  # not one "in custom indicator ..." per level (1,762 characters before)
    assert msg.count("in custom indicator") == 1


def test_last_bar_of_a_31_level_doubling_chain_is_fast_and_right():
    panel = _panel()
    warm = parse("sma(close, 5) > 0")  # compile the kernels outside the timing
    warm.evaluate_last(panel), warm.evaluate_panel(panel)
    f = parse("sma(c31, 5)", _doubling(31))
    t0 = time.perf_counter()
    last = f.evaluate_last(panel)  # the finite-rows check walked every path: 2**31 calls before
    full = f.evaluate_panel(panel)
    assert time.perf_counter() - t0 < 0.5
    want = 2.0 ** 31 * parse("sma(close, 5)").evaluate_panel(panel)
    assert np.allclose(last[:, -1], want[:, -1]) and np.allclose(full, want, equal_nan=True)


def test_a_long_cycle_is_named_once_and_shortened():
    custom = {f"n{i}": f"n{(i + 1) % 20} + 1" for i in range(20)}
    with pytest.raises(FormulaError) as info:
        parse("n0", custom)
    msg = info.value.message
    assert msg == "custom indicator 'n0' refers to itself (n0 → n1 → n2 → n3 → … (16 more) → n0)"


def test_a_short_cycle_is_named_in_full():
    with pytest.raises(FormulaError, match=r"\(a → b → a\)"):
        parse("a", {"a": "b * 2", "b": "a + 1"})


def test_deleting_an_indicator_used_by_many_names_a_few(db):
    svc = FormulaService(db, EventBus())
    svc.save("base", "close * 2")
    for i in range(50):
        svc.save(f"user{i:02d}", "base + 1")
    with pytest.raises(FormulaError) as info:
        svc.delete("base")
    msg = info.value.message
    assert msg == "'base' is used by 'user00', 'user01', 'user02', 'user03', … (45 more), 'user49'; change those first"


@pytest.mark.parametrize("text, shown", [
    ("close\xa0> 1", "unexpected character U+00A0 (no-break space) at column 6"),
    ("close > 'a'", "unexpected character \"'\" at column 9"),
    ("close @ 1", "unexpected character '@' at column 7"),
    ("close\x00", "unexpected character U+0000 at column 6"),
])
def test_unexpected_characters_are_quoted_once(text, shown):
    with pytest.raises(FormulaError) as info:
        parse(text)
    assert str(info.value) == shown
    assert "''" not in str(info.value)
