"""FIFO round-trip matching, worked by hand (the arithmetic is in the comments)."""
from __future__ import annotations

from decimal import Decimal as D

import numpy as np
import pytest

from engine.journal.roundtrips import Execution as X
from engine.journal.roundtrips import excursions, match_round_trips


def test_scale_in_then_partial_exits() -> None:
    fills = [
        X("AAPL", "buy", 100, D("10.00"), D("1.00"), 1_000, stop=D("9.00")),
        X("AAPL", "buy", 100, D("12.00"), D("1.00"), 2_000),    # scale-in
        X("AAPL", "sell", 150, D("13.00"), D("1.50"), 3_000),   # partial exit
        X("AAPL", "sell", 50, D("11.00"), D("0.50"), 4_000),    # flat: trip ends
    ]
    res = match_round_trips(fills)
    assert len(res.trips) == 1 and res.open == ()
    t = res.trips[0]
    # FIFO: the 150 sold at 13 take lot 1 (100 @ 10) and 50 of lot 2 (@ 12):
    #   100 × (13 − 10) + 50 × (13 − 12) = 300 + 50 = 350
    # the last 50 @ 11 close the rest of lot 2: 50 × (11 − 12) = −50  → gross 300
    assert t.gross_pnl == D("300.00")
    assert t.fees == D("4.00")                        # 1 + 1 + 1.5 + 0.5
    assert t.net_pnl == D("296.00")
    assert t.direction == "long" and t.qty == 200 and t.max_position == 200
    assert t.avg_entry_price == D("11")               # (1000 + 1200) / 200
    assert t.avg_exit_price == D("12.5")              # (1950 + 550) / 200
    # risk = |11 − 9| × 200 = 400 ; R = 296 / 400 = 0.74
    assert t.risk == D("400") and t.r_multiple == pytest.approx(0.74)
    assert (t.entry_time_ms, t.exit_time_ms, t.holding_ms) == (1_000, 4_000, 3_000)


def test_reversal_through_zero_closes_one_and_opens_another() -> None:
    fills = [
        X("MSFT", "buy", 100, D("50.00"), D("1.00"), 1),
        X("MSFT", "sell", 150, D("55.00"), D("1.00"), 2),   # 100 close the long, 50 open a short
        X("MSFT", "buy", 50, D("52.00"), D("0.40"), 3),     # the short is flat
    ]
    trips = match_round_trips(fills).trips
    assert [t.direction for t in trips] == ["long", "short"]
    long_, short = trips
    # long: 100 × (55 − 50) = 500; the reversal fee 1.00 splits 100/150 → 0.67, 50/150 → 0.33
    assert long_.gross_pnl == D("500.00") and long_.fees == D("1.67")
    assert long_.net_pnl == D("498.33")
    # short: 50 × (55 − 52) = 150; fees 0.33 + 0.40 = 0.73
    assert short.gross_pnl == D("150.00") and short.fees == D("0.73")
    assert short.qty == 50 and short.entries[0].price == D("55.00")
    assert long_.fees + short.fees == D("2.40")  # the fills' fees 1 + 1 + 0.40, exactly
    assert short.r_multiple is None  # no stop


def test_short_scale_in_with_open_remainder_and_two_symbols() -> None:
    fills = [
        X("TSLA", "sell", 10, D("200"), D("0"), 1, stop=D("210")),
        X("NVDA", "buy", 5, D("100"), D("0"), 2),
        X("TSLA", "sell", 10, D("190"), D("0"), 3),
        X("TSLA", "buy", 20, D("180"), D("0"), 4),
        X("NVDA", "sell", 2, D("110"), D("0"), 5),
    ]
    res = match_round_trips(fills)
    (t,) = res.trips
    # short 10 @ 200 and 10 @ 190, bought back 20 @ 180: 10 × 20 + 10 × 10 = 300
    assert t.symbol == "TSLA" and t.direction == "short" and t.gross_pnl == D("300")
    # risk = |avg 195 − 210| × 20 = 300 → R = 1.0
    assert t.risk == D("300") and t.r_multiple == pytest.approx(1.0)
    (o,) = res.open
    assert (o.symbol, o.direction, o.qty, o.realized_gross) == ("NVDA", "long", 3, D("20"))


def test_fills_out_of_order_are_matched_in_time_order() -> None:
    a = [X("A", "buy", 1, D("10"), D("0"), 1), X("A", "sell", 1, D("12"), D("0"), 2)]
    assert match_round_trips(list(reversed(a))).trips[0].gross_pnl == D("2")


def test_paper_broker_fills_are_accepted() -> None:
    from engine.paper.orders import Fill, Side

    fills = [Fill("f1", "o1", "acct", "AAPL", Side.BUY, 10, D("100.00"), D("1.00"), 1),
             Fill("f2", "o2", "acct", "AAPL", Side.SELL, 10, D("101.00"), D("1.00"), 2)]
    (t,) = match_round_trips(fills).trips
    assert t.net_pnl == D("8.00")  # 10 × 1 − 2 fees


@pytest.mark.parametrize("kwargs, msg", [
    (dict(qty=0), "quantity must be positive"),
    (dict(price=D("-1")), "price must be positive"),
    (dict(fee=D("-0.01")), "fee must be"),
    (dict(side="hold"), "side must be"),
    (dict(price=float("nan")), "finite"),
])
def test_invalid_fills_raise(kwargs: dict[str, object], msg: str) -> None:
    base: dict[str, object] = dict(symbol="A", side="buy", qty=1, price=D("1"), fee=D("0"), time_ms=0)
    base.update(kwargs)
    with pytest.raises(ValueError, match=msg):
        X(**base)  # type: ignore[arg-type]


def test_mfe_mae_from_bars() -> None:
    # long from 100: bars reach 108 high and 97 low → MFE 8, MAE 3 per share
    assert excursions("long", 100.0, [101, 108, 104], [99, 97, 100]) == (8.0, 3.0)
    # short from 100: favourable is down (100 − 97 = 3), adverse up (108 − 100 = 8)
    assert excursions("short", 100.0, np.array([101, 108]), np.array([99, 97])) == (3.0, 8.0)
    # never went against: MAE clipped at 0
    assert excursions("long", 100.0, [105], [100.5]) == (5.0, 0.0)
    t = match_round_trips([X("A", "buy", 200, D("10"), D("0"), 1),
                           X("A", "sell", 200, D("11"), D("0"), 2)]).trips[0]
    t2 = t.with_excursions([11.5, 11.2], [9.75, 10.5])
    assert (t2.mfe, t2.mae) == (1.5, 0.25) and (t2.mfe_value, t2.mae_value) == (300.0, 50.0)
    assert t.with_stop("9.50").r_multiple == pytest.approx(2.0)  # 200 / (0.5 × 200)
    with pytest.raises(ValueError, match="high below its low"):
        excursions("long", 100.0, [99], [101])
