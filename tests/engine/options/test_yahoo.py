"""Yahoo option chains against recorded yfinance-shaped answers (never the network):
frames → OptionChain with flags, the store cache, offline fallback with the age, demo mode."""
from __future__ import annotations

import datetime as _dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from engine.data.errors import DataError, NoNetworkError, UnknownSymbolError
from engine.options.chain import Flag
from engine.options.yahoo import ChainCache, ChainService, YahooChainSource, chain_from_frames, format_age

T0 = 1_760_000_000  # 2025-10-09 08:53 UTC (a Thursday) -- the "now" of the recorded answers
SPOT = 100.0
EXPIRIES = ("2025-10-17", "2025-11-21")


def yf_frame(symbol: str, expiry: str, cp: str, strikes, bid, ask, iv=None, volume=None, oi=None):
    """A calls/puts frame as ``Ticker.option_chain(expiry)`` returns it (yfinance 1.x columns)."""
    n = len(strikes)
    yymmdd = expiry[2:].replace("-", "")
    return pd.DataFrame({
        "contractSymbol": [f"{symbol}{yymmdd}{cp}{int(k * 1000):08d}" for k in strikes],
        "lastTradeDate": pd.to_datetime([T0 - 3600] * n, unit="s", utc=True),
        "strike": np.asarray(strikes, float),
        "lastPrice": np.asarray(bid, float) + 0.01,
        "bid": np.asarray(bid, float), "ask": np.asarray(ask, float),
        "change": np.zeros(n), "percentChange": np.zeros(n),
        "volume": np.asarray(volume if volume is not None else [10.0] * n, float),
        "openInterest": np.asarray(oi if oi is not None else [100] * n, float),
        "impliedVolatility": np.asarray(iv if iv is not None else [0.3] * n, float),
        "inTheMoney": np.asarray(strikes) < SPOT if cp == "C" else np.asarray(strikes) > SPOT,
        "contractSize": ["REGULAR"] * n, "currency": ["USD"] * n,
    })


UNDERLYING = {"symbol": "XYZ", "regularMarketPrice": SPOT, "regularMarketTime": T0,
              "trailingAnnualDividendYield": 0.01, "currency": "USD"}


def recorded_chain(expiry: str):
    strikes = [90.0, 95.0, 100.0, 105.0, 110.0]
    calls = yf_frame("XYZ", expiry, "C", strikes, bid=[10.2, 5.9, 2.5, 0.8, 0.0], ask=[10.6, 6.2, 2.7, 0.9, 0.05],
                     volume=[5, np.nan, 300, 120, 0])
    # put 95: crossed (bid > ask); put 110: no ask at all (NaN)
    puts = yf_frame("XYZ", expiry, "P", strikes, bid=[0.2, 1.3, 2.4, 5.3, 9.8], ask=[0.25, 1.1, 2.6, 5.6, np.nan],
                    iv=[0.3, 0.3, np.nan, 0.3, 0.3])
    return SimpleNamespace(calls=calls, puts=puts, underlying=dict(UNDERLYING))


class RecordedTicker:
    """A stand-in for ``yfinance.Ticker``: plays back recorded answers, or raises."""

    def __init__(self, fail: BaseException | None = None, expiries=EXPIRIES):
        self.fail = fail
        self._expiries = expiries
        self.calls: list[str] = []

    @property
    def options(self):
        if self.fail is not None:
            raise self.fail
        return self._expiries

    def option_chain(self, date):
        self.calls.append(date)
        if self.fail is not None:
            raise self.fail
        return recorded_chain(date)


def source(ticker, clock=lambda: T0 + 60):
    return YahooChainSource(lambda sym: ticker, min_interval=0.0, clock=clock, sleep=lambda s: None)


def test_frames_become_a_delayed_chain_with_bad_quotes_flagged():
    frames = {_dt.date.fromisoformat(e): (lambda r: (r.calls, r.puts))(recorded_chain(e)) for e in EXPIRIES}
    chain = chain_from_frames("xyz", frames, UNDERLYING, rate=0.04)
    assert (chain.symbol, chain.source, chain.delayed, chain.spot, chain.dividend) == ("XYZ", "yahoo", True, SPOT, 0.01)
    assert chain.as_of == _dt.date(2025, 10, 9)  # New York date of regularMarketTime
    assert len(chain) == 20 and chain.expiries() == [_dt.date(2025, 10, 17), _dt.date(2025, 11, 21)]
    front = chain.select(expiry=_dt.date(2025, 10, 17))
    put = front.select(kind="put")
    call = front.select(kind="call")
    by_k = {float(k): int(f) for k, f in zip(put.strike, put.flags)}
    assert by_k[95.0] & Flag.CROSSED and by_k[110.0] & Flag.MISSING
    assert call.flags[call.strike == 110.0][0] & Flag.ZERO_BID
    # flagged rows are never valued: no IV, no Greeks, no mid
    bad = front.flags != 0
    assert np.isnan(front.iv[bad]).all() and np.isnan(front.delta[bad]).all() and np.isnan(front.mid[bad]).all()
    # the good rows get our own IV from the mid (Yahoo's NaN IV on the 100 put is not used)
    p100 = put.strike == 100.0
    assert put.flags[p100][0] == 0 and 0.05 < put.iv[p100][0] < 2.0
    # NaN volume counts as 0, not a crash
    assert int(call.volume[call.strike == 95.0][0]) == 0 and int(call.volume[call.strike == 100.0][0]) == 300


def test_no_underlying_price_is_refused_in_one_sentence():
    r = recorded_chain(EXPIRIES[0])
    with pytest.raises(DataError, match="no price"):
        chain_from_frames("XYZ", {_dt.date(2025, 10, 17): (r.calls, r.puts)}, {"symbol": "XYZ"})


def test_service_fetches_caches_then_serves_the_cache_while_fresh(db):
    ticker = RecordedTicker()
    svc = ChainService(db, lambda: "yahoo", source(ticker))
    first = svc.get("XYZ")
    assert not first.from_cache and first.fetched_at == T0 + 60 and ticker.calls == list(EXPIRIES)
    again = svc.get("xyz")
    assert again.from_cache and ticker.calls == list(EXPIRIES)  # no second request
    # the cached chain is the same chain: same quotes, same recomputed IVs and flags
    np.testing.assert_array_equal(again.chain.flags, first.chain.flags)
    np.testing.assert_allclose(again.chain.iv, first.chain.iv, equal_nan=True)
    np.testing.assert_allclose(again.chain.bid, first.chain.bid, equal_nan=True)
    assert again.chain.source == "yahoo" and again.chain.delayed


def test_offline_shows_the_cached_chain_with_its_age_and_the_reason(db):
    ChainService(db, lambda: "yahoo", source(RecordedTicker())).get("XYZ")
    later = T0 + 60 + 3 * 3600
    offline = ChainService(db, lambda: "yahoo",
                           source(RecordedTicker(fail=OSError("Could not resolve host: query2.finance.yahoo.com")),
                                  clock=lambda: later))
    res = offline.get("XYZ")
    assert res.from_cache and res.fetched_at == T0 + 60 and "network" in res.error.lower()
    assert res.age_seconds(later) == 3 * 3600
    assert "3 h old" in res.label(later) and "cached" in res.label(later)


def test_offline_without_a_cache_raises_a_clear_error(db):
    svc = ChainService(db, lambda: "yahoo", source(RecordedTicker(fail=OSError("Failed to connect"))))
    with pytest.raises(NoNetworkError):
        svc.get("XYZ")


def test_a_symbol_without_options_is_unknown(db):
    svc = ChainService(db, lambda: "yahoo", source(RecordedTicker(expiries=())))
    with pytest.raises(UnknownSymbolError):
        svc.get("NOPE")


def test_demo_mode_uses_the_demo_chain_and_refuses_other_symbols(db):
    from engine.data.demo import demo_symbols

    ticker = RecordedTicker()
    svc = ChainService(db, lambda: "demo", source(ticker))
    sym = demo_symbols()[0]
    res = svc.get(sym)
    assert res.chain.source == "demo" and res.fetched_at is None and "demo" in res.label()
    assert ticker.calls == []
    with pytest.raises(DataError, match="demo symbols"):
        svc.get("XYZQ")


def test_a_damaged_cache_row_is_ignored(db):
    ChainService(db, lambda: "yahoo", source(RecordedTicker())).get("XYZ")
    with db.connect() as c:
        c.execute("UPDATE option_chains SET quotes='{not json' WHERE symbol='XYZ'")
    assert ChainCache(db).load("XYZ") is None


def test_age_text():
    assert [format_age(s) for s in (40, 12 * 60, 3 * 3600, 2 * 86400)] == ["40 s", "12 min", "3 h", "2 days"]
