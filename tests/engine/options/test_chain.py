"""OCC symbols, bad-data flags and the offline demo chain."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engine.data.demo import DemoProvider, demo_symbols
from engine.data.errors import UnknownSymbolError
from engine.market.calendar import monthly_expiries
from engine.options import bsm
from engine.options.chain import Flag, build_chain, demo_chain, demo_expiries, occ_symbol, parse_occ
from engine.options.surface import VolSurface


def test_occ_symbol_round_trip() -> None:
    assert occ_symbol("AAPL", dt.date(2024, 1, 19), "call", 190) == "AAPL  240119C00190000"
    assert occ_symbol("spy", dt.date(2025, 3, 21), "put", 512.5) == "SPY   250321P00512500"
    c = parse_occ("AAPL  240119C00190000")
    assert (c.root, c.expiry, c.kind, c.strike) == ("AAPL", dt.date(2024, 1, 19), "call", 190.0)
    assert parse_occ("BRKB240119P00000500").strike == 0.5
    for bad in ("AAPL 240119X00190000", "AAPL  241340C00190000", "TOOLONGX240119C00190000", ""):
        with pytest.raises(ValueError, match="OCC"):
            parse_occ(bad)
    with pytest.raises(ValueError, match="strike"):
        occ_symbol("AAPL", dt.date(2024, 1, 19), "call", 190.0001)


def test_bad_quotes_are_flagged_and_never_used() -> None:
    as_of = dt.date(2026, 1, 2)
    exp = np.array(["2026-02-20"] * 5, dtype="datetime64[D]")
    ch = build_chain("TEST", 100.0, as_of, 0.04, 0.0, expiry=exp, strike=[100.0] * 5,
                     is_call=[True] * 5, bid=[4.0, 5.0, 0.0, np.nan, 0.01], ask=[4.2, 4.5, 0.3, 4.0, 0.02],
                     style="european")
    assert list(ch.flags) == [0, Flag.CROSSED, Flag.ZERO_BID, Flag.MISSING, Flag.NO_IV]
    assert np.isfinite(ch.iv[0]) and np.isnan(ch.iv[1:]).all() and np.isnan(ch.delta[1:]).all()
    assert list(ch.usable) == [True, False, False, False, False]
    assert ch.to_rows()[1]["flags"] == ["CROSSED"]
    assert ch.to_rows()[4]["iv_reason"] == "below intrinsic"


def test_iv_from_mid_reprices() -> None:
    exp = np.array(["2026-03-20"], dtype="datetime64[D]")
    ch = build_chain("TEST", 100.0, dt.date(2026, 1, 2), 0.04, 0.01, expiry=exp, strike=[95.0],
                     is_call=[False], bid=[2.0], ask=[2.2], style="european")
    assert bsm.price("put", 100.0, 95.0, ch.years[0], 0.04, ch.iv[0], 0.01) == pytest.approx(2.1, abs=1e-9)


def test_demo_expiries_follow_the_nyse_calendar() -> None:
    as_of = dt.date(2026, 3, 27)
    exps = demo_expiries(as_of)
    months = [d for y in (2026, 2027) for d in monthly_expiries(y) if d > as_of][:8]
    assert set(months) <= set(exps)
    assert dt.date(2026, 4, 2) in exps  # Good Friday 2026-04-03: the weekly moves to Thursday
    assert exps == sorted(exps) and all(d > as_of for d in exps)


def test_demo_chain_is_deterministic_realistic_and_consistent() -> None:
    ch = demo_chain("ACME")
    again = demo_chain("ACME")
    np.testing.assert_array_equal(ch.bid, again.bid)
    last_close = float(DemoProvider().fetch("ACME", "1d").close[-1])
    assert ch.spot == last_close and ch.source == "demo"
    assert len(ch.expiries()) >= 12 and len(ch) > 300
    ok = ch.quote_ok
    assert np.all(ch.ask[ok] > ch.bid[ok]) and np.all(ch.bid[ok] > 0)
    spread = (ch.ask - ch.bid)[ok] / (0.5 * (ch.ask + ch.bid))[ok]
    assert np.median(spread) < 0.2
    # The smile is skewed: OTM puts carry more vol than OTM calls at the same distance.
    e = ch.expiries()[6]
    sel = ch.select(e)
    put_wing = sel.iv[(~sel.is_call) & (sel.strike < 0.9 * ch.spot) & sel.usable]
    call_wing = sel.iv[sel.is_call & (sel.strike > 1.1 * ch.spot) & sel.usable]
    assert put_wing.size and call_wing.size and np.nanmean(put_wing) > np.nanmean(call_wing)
    # The chain's IVs fit a surface without arbitrage worth mentioning.
    u = ch.usable & (np.abs(ch.delta) < 0.95)
    surf = VolSurface.fit(ch.spot, ch.rate, ch.dividend, ch.years[u], ch.strike[u], ch.iv[u])
    assert len(surf.slices) >= 10


@pytest.mark.parametrize("symbol", demo_symbols()[::11])
def test_every_demo_symbol_has_a_chain(symbol: str) -> None:
    ch = demo_chain(symbol)
    assert len(ch) > 100 and ch.usable.mean() > 0.5


def test_non_demo_symbol() -> None:
    with pytest.raises(UnknownSymbolError):
        demo_chain("NOPE_NOT_DEMO")
