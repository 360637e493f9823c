"""The fast path gives the event engine's trades, bar for bar (property test), and the SMA
sweep kernel gives the formula language's signals and the fast path's trades."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.formula import parse
from engine.indicators import helpers
from engine.paper.backtest import FixedQty, RuleStrategy, run_backtest
from engine.paper.fills import FillConfig
from engine.research import _sim, fast
from tests.engine.research.stubs import random_bars

ENTRY = "crosses_above(sma(close, {f}), sma(close, {s}))"
EXIT = "crosses_below(sma(close, {f}), sma(close, {s}))"


def _event(bars, f, s, qty, cash, cfg):  # type: ignore[no-untyped-def]
    st_ = RuleStrategy(ENTRY.format(f=f, s=s), EXIT.format(f=f, s=s), FixedQty(qty))
    return run_backtest(bars, st_, cash=cash, config=cfg)


def _signals(bars, f, s):  # type: ignore[no-untyped-def]
    return (parse(ENTRY.format(f=f, s=s)).evaluate(bars), parse(EXIT.format(f=f, s=s)).evaluate(bars))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(30, 260), seed=st.integers(0, 10_000), f=st.integers(1, 12), s=st.integers(2, 30),
       qty=st.sampled_from([1, 10, 100, 1000, 5000]), cash=st.sampled_from([1000, 20000, 100000]),
       thin=st.booleans(), decimals=st.sampled_from([2, 4, None]))
def test_fast_trades_equal_event_engine(n, seed, f, s, qty, cash, thin, decimals):  # type: ignore[no-untyped-def]
    # Arrange: random bars; thin volume makes some fills partial (the fast path must step aside)
    bars = random_bars(n, seed, volume=(500, 20000) if thin else (1e5, 1e6), decimals=decimals)
    cfg = FillConfig()
    entry, exit_ = _signals(bars, f, s)
    # Act
    ref = _event(bars, f, s, qty, cash, cfg)
    got = fast.backtest(bars, entry, exit_, qty=qty, cash=cash, config=cfg)
    direct = fast.run_fast(bars, entry, exit_, qty, cash, cfg.participation)
    # Assert: identical trades, equity and metrics, whichever engine ran
    assert got.trades == ref.trades
    np.testing.assert_array_equal(got.equity, ref.equity)
    assert got.metrics == ref.metrics
    if direct is not None:
        assert direct.trades == ref.trades
        assert direct.final_equity == ref.final_equity
    else:  # the kernel declined: a fill was partial or unaffordable in the event engine too
        assert got.engine == "event"


def test_fast_path_is_used_and_declines_partials() -> None:
    bars = random_bars(400, 3)
    entry, exit_ = _signals(bars, 5, 20)
    assert fast.backtest(bars, entry, exit_, qty=100).engine == "fast"
    # 100k shares is above 10 % of every bar's volume (≤ 1e6): partial fills → event engine
    assert fast.run_fast(bars, entry, exit_, 200_000, 10**9) is None
    assert fast.backtest(bars, entry, exit_, qty=200_000, cash=10**9).engine == "event"


def test_cross_tolerance_matches_the_formula_language() -> None:
    assert _sim.CROSS_RTOL == helpers.CROSS_RTOL


def test_to_micro_rounds_like_the_broker() -> None:
    from engine.paper.money import to_price

    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(0.01, 5000, 2000), [0.0000005, 1.0000005, 2.5e-7 * 3, 44.5, 0.1]])
    x = x[x > 0]
    got = fast.to_micro(x)
    want = [int(to_price(float(v)).scaleb(6)) if float(v) >= 1e-6 else None for v in x]
    for g, w in zip(got.tolist(), want):
        if w is not None:
            assert g == w


def test_sweep_sma_matches_fast_path_per_pair() -> None:
    # Arrange: 3 symbols, 6 pairs
    panel = [random_bars(300, 10 + k, start=20 + 30 * k) for k in range(3)]
    o = np.stack([b.open for b in panel])
    c = np.stack([b.close for b in panel])
    v = np.stack([b.volume for b in panel])
    pairs = [(2, 5), (3, 10), (5, 20), (8, 21), (10, 30), (4, 40)]
    # Act
    out = fast.sweep_sma(o, c, v, pairs, qty=100, cash=100000)
    # Assert: trade counts, final equity and drawdown equal the fast path on formula signals
    for p, (f, s) in enumerate(pairs):
        for k, b in enumerate(panel):
            entry, exit_ = _signals(b, f, s)
            run = fast.run_fast(b, entry, exit_, 100, 100000)
            assert run is not None
            assert out[p, k, 0] == 0
            assert out[p, k, 1] == run.metrics["trades"]
            assert abs(out[p, k, 2] - float(run.final_equity)) < 1e-6
            assert abs(out[p, k, 5] - run.metrics["max_drawdown"]) < 1e-9
            sharpe = out[p, k, 3] / out[p, k, 4] * np.sqrt(252)
            assert run.metrics["sharpe"] is None or abs(sharpe - run.metrics["sharpe"]) < 1e-9
