"""Universe portfolio backtests: slots, ranking, sizing, one cash pool, the broker's costs."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from engine.data.bars import Bars
from engine.paper.backtest import FixedQty, PercentEquity, RuleStrategy, run_backtest
from engine.paper.fills import FillConfig, parse_commission
from engine.research.portfolio import (
    EqualWeight, FixedDollars, PortfolioRules, parse_sizing, run_portfolio,
)
from tests.engine.research.stubs import DAY, T0, random_bars

N = 8


def _flat(symbol: str, price: float) -> Bars:
    t = T0 + DAY * np.arange(N, dtype=np.int64)
    p = np.full(N, price)
    return Bars(symbol, "1d", t, p, p, p, p, np.full(N, 1e6))


# Hand-checked scenario. A=$10, B=$20, C=$30 on every bar; $1,000 a position, so 100 A,
# 50 B, 33 C; limit 2 positions; commission $1 per fill.
#   bar 1 close: A, B, C all signal; 2 slots.
#   bar 2 open:  the two winners are bought.
#   bar 3 close: B's exit (if held) -> sold at bar 4's open.
#   bar 4 close: A and C signal again (whichever is flat); one slot is free -> bought bar 5.
ENTRY = {"A": {1, 4}, "B": {1}, "C": {1, 4}}
EXIT = {"A": set(), "B": {3}, "C": set()}


def _sig(table: dict[str, set[int]]):  # type: ignore[no-untyped-def]
    def f(b: Bars) -> np.ndarray:
        out = np.zeros(len(b), np.bool_)
        out[list(table[b.symbol])] = True
        return out
    return f


def _universe() -> list[Bars]:
    return [_flat("A", 10.0), _flat("B", 20.0), _flat("C", 30.0)]


def _cfg() -> FillConfig:
    return FillConfig(commission=parse_commission("flat:1"))


def test_limit_two_universe_order_wins_without_a_rank() -> None:
    res = run_portfolio(_universe(), _sig(ENTRY), _sig(EXIT), PortfolioRules(2, FixedDollars(1000)),
                        cash=10_000, config=_cfg())
    # bar 2: A (100 @ 10) and B (50 @ 20) bought; C skipped. Bar 4 open: B sold. Bar 4 close:
    # A is still held (its signal is ignored), C signals with one free slot -> 33 C at bar 5.
    per = {r.symbol: r for r in res.per_symbol}
    assert [(s, t.qty, t.entry_time, t.exit_time) for s, t in res.trades] == [("B", 50, T0 + 2 * DAY, T0 + 4 * DAY)]
    assert per["A"].open_qty == 100 and per["B"].open_qty == 0 and per["C"].open_qty == 33
    assert per["C"].skipped == 1 and per["C"].signals == 2 and res.skipped == 1
    # commissions are the broker's: 4 fills × $1; B's round trip pays 2 of them
    assert sum((f.fee for f in res.fills), Decimal(0)) == Decimal(4)
    assert res.trades[0][1].fees == Decimal(2) and res.trades[0][1].pnl == Decimal(-2)
    # cash: 10,000 − 1,000 − 1 (A) − 1,000 − 1 (B) + 1,000 − 1 (B out) − 990 − 1 (C)
    assert res.final_cash == Decimal("8006")
    assert res.final_equity == Decimal("8006") + 100 * 10 + 33 * 30
    assert int(res.open_positions.max()) == 2
    assert res.cash.min() >= 0


def test_limit_two_rank_formula_picks_the_highest() -> None:
    res = run_portfolio(_universe(), _sig(ENTRY), _sig(EXIT), PortfolioRules(2, FixedDollars(1000), rank="close"),
                        cash=10_000, config=_cfg())
    # rank by close, highest first: C (30) and B (20) win at bar 1; A skipped. B out at bar 4;
    # bar 4 close: A signals (C is held) -> 100 A at bar 5.
    per = {r.symbol: r for r in res.per_symbol}
    assert per["A"].skipped == 1 and per["A"].open_qty == 100
    assert per["C"].open_qty == 33 and per["C"].skipped == 0
    assert [s for s, _ in res.trades] == ["B"]
    assert res.final_cash == Decimal(10_000 - 990 - 1 - 1000 - 1 + 1000 - 1 - 1000 - 1)


def test_a_rejected_entry_does_not_use_a_slot() -> None:
    # 100 shares each, $1,500: A (1,000 + fee) fits; B's 2,000 does not -> the broker rejects it;
    # C is tried next (3,000, rejected too); bar 4: C again, rejected. Nothing else is bought.
    res = run_portfolio(_universe(), _sig(ENTRY), _sig(EXIT), PortfolioRules(2, FixedQty(100)),
                        cash=1_500, config=_cfg())
    per = {r.symbol: r for r in res.per_symbol}
    assert per["A"].open_qty == 100
    assert per["B"].rejected == 1 and per["C"].rejected == 2  # bar 1 and bar 4
    assert res.cash.min() >= 0 and res.final_cash == Decimal(499)


def test_dollar_sizing_is_capped_to_the_cash_left() -> None:
    # $1,000 a position but $1,500 of cash: A gets 100; B gets ⌊499 × 0.995 / 20⌋ = 24 shares
    res = run_portfolio(_universe(), _sig(ENTRY), _sig(EXIT), PortfolioRules(2, FixedDollars(1000)),
                        cash=1_500, config=_cfg())
    assert [t.qty for s, t in res.trades if s == "B"] == [24]
    assert not res.rejected and res.cash.min() >= 0


@pytest.mark.parametrize("sizing", [FixedQty(1500), PercentEquity(40.0)])
def test_one_symbol_universe_equals_the_single_symbol_backtest(sizing) -> None:  # type: ignore[no-untyped-def]
    b = random_bars(800, 5, symbol="ONE")
    e = "crosses_above(sma(close,10), sma(close,30))"
    x = "crosses_below(sma(close,10), sma(close,30))"
    cfg = FillConfig(commission=parse_commission("per_share:0.005:1.0"), participation=0.001)
    single = run_backtest(b, RuleStrategy(e, x, sizing), cash=100_000, config=cfg)
    port = run_portfolio([b], e, x, PortfolioRules(1, sizing), cash=100_000, config=cfg)
    assert len(single.trades) > 10
    assert [t for _, t in port.trades] == single.trades
    key = [(f.side, f.qty, f.price, f.fee, f.time_ms) for f in single.fills]
    assert [(f.side, f.qty, f.price, f.fee, f.time_ms) for f in port.fills] == key
    assert len(single.fills) > 2 * len(single.trades)  # 0.1 % of volume: partial fills happen
    assert port.final_equity == single.final_equity and port.final_cash == single.final_cash
    np.testing.assert_allclose(port.equity, single.equity, rtol=1e-12)
    for k, v in single.metrics.items():
        assert port.metrics[k] == pytest.approx(v, rel=1e-9), k


def test_cash_never_negative_and_limit_holds_on_a_random_universe() -> None:
    u = [random_bars(400, s, symbol=f"S{s}", vol=0.03) for s in range(8)]
    cfg = FillConfig(commission=parse_commission("per_share:0.005:1.0"))
    res = run_portfolio(u, "close > sma(close, 5)", "close < sma(close, 5)", PortfolioRules(3, EqualWeight()),
                        cash=20_000, config=cfg)
    assert res.cash.min() >= 0
    assert int(res.open_positions.max()) <= 3
    assert len(res.trades) > 30 and res.skipped > 0
    assert res.final_equity == res.final_cash + sum(
        r.open_qty * Decimal(str(b.close[-1])) for r, b in zip(res.per_symbol, u))


def test_union_calendar_when_symbols_trade_on_different_days() -> None:
    a = random_bars(50, 1, symbol="A")
    b = random_bars(40, 2, symbol="B")
    b = Bars("B", "1d", b.time + 10 * DAY, b.open, b.high, b.low, b.close, b.volume)
    res = run_portfolio([a, b], "close > 0", None, PortfolioRules(2, FixedQty(1)))
    assert len(res.time) == 50 and int(res.time[-1]) == int(b.time[-1])
    assert {r.symbol: r.open_qty for r in res.per_symbol} == {"A": 1, "B": 1}


def test_bad_input_is_refused() -> None:
    a = random_bars(50, 1, symbol="A")
    with pytest.raises(ValueError, match="no symbols"):
        run_portfolio([], "close > 0")
    with pytest.raises(ValueError, match="twice"):
        run_portfolio([a, a], "close > 0")
    with pytest.raises(ValueError, match="position limit"):
        PortfolioRules(0)
    with pytest.raises(ValueError, match="numbers"):
        run_portfolio([a], "close > 0", None, PortfolioRules(rank="close > 1"))
    assert parse_sizing("equal") == EqualWeight() and parse_sizing("qty:5") == FixedQty(5)
    assert parse_sizing("dollars:2500") == FixedDollars(2500.0) and parse_sizing("percent:10") == PercentEquity(10.0)
    for bad in ("qty:-1", "percent:150", "dollars:x", "half"):
        with pytest.raises(ValueError):
            parse_sizing(bad)
