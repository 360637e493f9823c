"""Yahoo provider against recorded yfinance-shaped answers (never the network)."""
import logging

import numpy as np
import pandas as pd
import pytest

from engine.data.errors import (
    EmptyResponseError,
    NoNetworkError,
    RateLimitedError,
    UnknownSymbolError,
)
from engine.data.yahoo import YahooProvider, frame_to_arrays
from engine.data.events import BarsUpdated
from engine.events import EventBus

YF_LOG = logging.getLogger("yfinance")


def yf_like(frames: dict[str, pd.DataFrame], multi_level_index: bool = True) -> pd.DataFrame:
    """Combine per-ticker history frames exactly as yfinance 1.x ``download`` does
    (multi.py: concat with keys and names=['Ticker', 'Price'], swap to (Price, Ticker),
    sort; ``multi_level_index=False`` drops the Ticker level for one ticker)."""
    data = pd.concat(frames.values(), axis=1, sort=True, keys=frames.keys(), names=["Ticker", "Price"])
    data.columns = data.columns.swaplevel(0, 1)
    data = data.sort_index(level=0, axis=1)
    if not multi_level_index and len(frames) == 1:
        data = data.droplevel(1, axis=1).rename_axis(None, axis=1)
    return data


def daily_history(dates, closes, adj=False):
    """A per-ticker frame as ``Ticker.history`` gives it for daily bars (tz dropped by download)."""
    c = np.asarray(closes, float)
    df = pd.DataFrame(
        {"Open": c - 0.5, "High": c + 1.0, "Low": c - 1.0, "Close": c, "Volume": np.arange(len(c)) * 1000 + 5000},
        index=pd.DatetimeIndex(pd.to_datetime(dates), name="Date"),
    )
    if adj:
        df.insert(4, "Adj Close", c * 0.98)
    return df


class Recorder:
    """A stand-in for ``yfinance.download``: records calls, plays back answers in order."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        a = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if callable(a):
            return a(**kwargs)
        if isinstance(a, BaseException):
            raise a
        return a


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, s):
        self.sleeps.append(s)
        self.now += s


def provider(download, clock=None, **kw):
    clock = clock or FakeClock()
    return YahooProvider(download, clock=clock.clock, sleep=clock.sleep,
                         now=lambda: 1_767_225_600.0, **kw)  # 2026-01-01


def empty_answer(*log_lines):
    """What download returns when it fails: it logs and hands back an empty frame."""
    def answer(**kwargs):
        for line in log_lines:
            YF_LOG.error(line)
        import yfinance.utils as yu

        return yf_like({kwargs["tickers"]: yu.empty_df()})
    return answer


# ----------------------------------------------------------------- shapes

def test_daily_multiindex_answer_becomes_bars_at_midnight_utc():
    answer = yf_like({"AAPL": daily_history(["2024-01-02", "2024-01-03", "2024-01-04"], [185.6, 184.2, 181.9])})
    assert list(answer.columns.names) == ["Price", "Ticker"]
    rec = Recorder(answer)
    bars = provider(rec).fetch("aapl")
    assert bars.symbol == "AAPL" and bars.source == "yahoo" and bars.timeframe == "1d"
    assert bars.close.tolist() == [185.6, 184.2, 181.9]
    assert bars.high.tolist() == [186.6, 185.2, 182.9]
    assert bars.volume.tolist() == [5000, 6000, 7000]
    assert bars.time[0] == int(pd.Timestamp("2024-01-02", tz="UTC").timestamp())
    call = rec.calls[0]
    assert call["tickers"] == "AAPL" and call["period"] == "max" and call["auto_adjust"] is True
    assert call["progress"] is False and "start" not in call


def test_flat_columns_with_adj_close_use_close():
    hist = daily_history(["2024-01-02", "2024-01-03"], [10.0, 11.0], adj=True)
    answer = yf_like({"IBM": hist}, multi_level_index=False)
    assert "Adj Close" in answer.columns and not isinstance(answer.columns, pd.MultiIndex)
    bars = provider(Recorder(answer)).fetch("IBM")
    assert bars.close.tolist() == [10.0, 11.0]


def test_intraday_tz_aware_index_is_converted_to_utc():
    idx = pd.date_range("2024-01-02 09:30", periods=3, freq="5min", tz="America/New_York", name="Datetime")
    hist = pd.DataFrame({"Open": [1.0, 2, 3], "High": [2.0, 3, 4], "Low": [0.5, 1, 2], "Close": [1.5, 2.5, 3.5],
                         "Volume": [10, 20, 30]}, index=idx)
    bars = provider(Recorder(yf_like({"SPY": hist}))).fetch("SPY", "5m")
    assert bars.time[0] == int(pd.Timestamp("2024-01-02 14:30", tz="UTC").timestamp())
    assert np.diff(bars.time).tolist() == [300, 300]


def test_intraday_request_stays_inside_yahoo_lookback():
    idx = pd.date_range("2025-12-30 14:30", periods=2, freq="1min", tz="UTC", name="Datetime")
    hist = pd.DataFrame({"Open": [1.0, 1], "High": [1.0, 1], "Low": [1.0, 1], "Close": [1.0, 1], "Volume": [1, 1]},
                        index=idx)
    rec = Recorder(yf_like({"SPY": hist}))
    provider(rec).fetch("SPY", "1m", start=0)
    start = pd.Timestamp(rec.calls[0]["start"])
    assert start == pd.Timestamp("2025-12-25", tz="UTC")  # 7 days before "now"
    assert rec.calls[0]["interval"] == "1m"


def test_rows_without_prices_are_dropped():
    hist = daily_history(["2024-01-02", "2024-01-03", "2024-01-04"], [1.0, 2.0, 3.0])
    hist.iloc[1, :4] = np.nan
    t, o, h, lo, c, v = frame_to_arrays(yf_like({"X": hist}), "X")
    assert c.tolist() == [1.0, 3.0]


# ----------------------------------------------------------------- failures

def test_empty_frame_without_reason_is_an_empty_response_error():
    with pytest.raises(EmptyResponseError, match="returned no bars for ZZZ"):
        provider(Recorder(empty_answer())).fetch("ZZZ")


def test_delisted_message_means_unknown_symbol():
    rec = Recorder(empty_answer("$NOSUCH: possibly delisted; no price data found  (period=max)"))
    with pytest.raises(UnknownSymbolError, match="no data for symbol 'NOSUCH'"):
        provider(rec).fetch("NOSUCH")
    assert len(rec.calls) == 1


def test_no_network_is_reported_at_once_without_retries():
    clock = FakeClock()
    rec = Recorder(empty_answer(
        "Failed to get ticker 'AAPL' reason: Failed to perform, curl: (6) Could not resolve host: "
        "query2.finance.yahoo.com."))
    yf_quiet = YF_LOG.level
    YF_LOG.setLevel(logging.CRITICAL)  # the app may silence yfinance; we must still hear it
    try:
        with pytest.raises(NoNetworkError, match="no network connection"):
            provider(rec, clock).fetch("AAPL")
    finally:
        YF_LOG.setLevel(yf_quiet)
    assert len(rec.calls) == 1 and clock.sleeps == []


def test_exceptions_from_curl_cffi_and_requests_become_no_network():
    from curl_cffi.requests.errors import RequestsError
    from requests.exceptions import ConnectionError as RequestsConnectionError

    with pytest.raises(NoNetworkError):
        provider(Recorder(RequestsError("Failed to perform, curl: (6) Could not resolve host: x"))).fetch("A")
    with pytest.raises(NoNetworkError):
        provider(Recorder(RequestsConnectionError("Max retries exceeded: Failed to establish a new connection")),
                 max_retries=0).fetch("A")


def test_rate_limit_is_retried_with_backoff_without_sleeping():
    from yfinance.exceptions import YFRateLimitError

    good = yf_like({"MSFT": daily_history(["2024-01-02"], [370.0])})
    clock = FakeClock()
    # first as yfinance really reports it (a log line and an empty frame), then as an exception
    logged = empty_answer("\n1 Failed download:", "['MSFT']: YFRateLimitError('Too Many Requests. "
                          "Rate limited. Try after a while.')")
    rec = Recorder(logged, YFRateLimitError(), good)
    import random

    bars = provider(rec, clock, base_delay=2.0, min_interval=0.0, rng=random.Random(7)).fetch("MSFT")
    assert bars.close.tolist() == [370.0]
    assert len(rec.calls) == 3
    assert len(clock.sleeps) == 2
    assert 0 <= clock.sleeps[0] <= 2.0 and 0 <= clock.sleeps[1] <= 4.0  # full jitter under the cap


def test_rate_limit_gives_up_after_max_retries():
    from yfinance.exceptions import YFRateLimitError

    clock = FakeClock()
    rec = Recorder(YFRateLimitError())
    with pytest.raises(RateLimitedError, match="after 3 attempts"):
        provider(rec, clock, max_retries=2, min_interval=0.0).fetch("MSFT")
    assert len(rec.calls) == 3 and len(clock.sleeps) == 2


def test_requests_are_paced_by_the_rate_limiter():
    clock = FakeClock()
    good = yf_like({"A": daily_history(["2024-01-02"], [1.0])})
    p = provider(Recorder(good), clock, min_interval=0.5)
    p.fetch("A")
    p.fetch("A")
    p.fetch("A")
    assert clock.sleeps == [0.5, 0.5]


# ----------------------------------------------------------------- incremental refresh

def test_incremental_refresh_asks_only_from_the_last_cached_bar(db):
    from engine.data.service import DataService

    first = yf_like({"AAPL": daily_history(["2024-01-02", "2024-01-03", "2024-01-04"], [1.0, 2.0, 3.0])})
    # Yahoo answers from the requested start on; the last cached bar comes back completed.
    later = yf_like({"AAPL": daily_history(["2024-01-04", "2024-01-05", "2024-01-08"], [3.5, 4.0, 5.0])})
    rec = Recorder(first, later)
    bus = EventBus()
    seen = []
    bus.subscribe(BarsUpdated, seen.append)
    svc = DataService(db, source="yahoo", bus=bus, yahoo=provider(rec))
    assert len(svc.get_bars("AAPL")) == 3
    assert len(svc.get_bars("AAPL")) == 3 and len(rec.calls) == 1  # cache hit, no request
    bars = svc.get_bars("AAPL", refresh=True)
    assert rec.calls[1]["start"] == "2024-01-04" and "period" not in rec.calls[1]
    assert bars.close.tolist() == [1.0, 2.0, 3.5, 4.0, 5.0]
    assert [e.rows for e in seen] == [3, 3]
    # nothing new (a weekend): the cache stays as it is, no error
    rec.answers = [empty_answer("$AAPL: possibly delisted; no price data found (1d 2024-01-08 -> now)")]
    assert svc.get_bars("AAPL", refresh=True).close.tolist() == [1.0, 2.0, 3.5, 4.0, 5.0]


def test_refresh_many_reports_progress_and_errors(db):
    from engine.data.service import DataService
    from engine.data.errors import DataError

    def answer(**kw):
        if kw["tickers"] == "BAD":
            return empty_answer("$BAD: possibly delisted; no price data found")(**kw)
        return yf_like({kw["tickers"]: daily_history(["2024-01-02"], [1.0])})

    svc = DataService(db, source="yahoo", bus=EventBus(), yahoo=provider(Recorder(answer)))
    gen = svc.refresh_many(["A", "BAD", "C"])
    progress = []
    while True:
        try:
            progress.append(next(gen))
        except StopIteration as stop:
            result = stop.value
            break
    assert [(p.done, p.total) for p in progress] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert "1 failed" in progress[-1].text
    assert isinstance(result["BAD"], DataError) and len(result["A"]) == 1 and len(result["C"]) == 1


def test_yahoo_mode_replaces_cached_demo_bars_instead_of_mixing(db):
    from engine.data.service import DataService

    svc = DataService(db, bus=EventBus())
    assert svc.get_bars("ACME").source == "demo"
    rec = Recorder(yf_like({"ACME": daily_history(["2024-01-02", "2024-01-03"], [7.0, 8.0])}))
    svc = DataService(db, source="yahoo", bus=EventBus(), yahoo=provider(rec))
    bars = svc.get_bars("ACME")
    assert rec.calls[0]["period"] == "max"  # a full download, not an increment on demo data
    assert bars.source == "yahoo" and bars.close.tolist() == [7.0, 8.0]


def test_stale_cache_is_topped_up_when_opened_and_kept_when_offline(db):
    from engine.data.service import RECHECK_S, DataService

    first = yf_like({"AAPL": daily_history(["2024-01-02", "2024-01-03", "2024-01-04"], [1.0, 2.0, 3.0])})
    later = yf_like({"AAPL": daily_history(["2024-01-04", "2024-01-05"], [3.5, 4.0])})
    rec = Recorder(first, later)
    svc = DataService(db, source="yahoo", bus=EventBus(), yahoo=provider(rec))
    now = [1_767_225_600.0]  # 2026-01-01: the cached bars are two years old
    svc.clock = lambda: now[0]
    assert len(svc.get_bars("AAPL")) == 3
    assert len(svc.get_bars("AAPL")) == 3 and len(rec.calls) == 1  # checked a moment ago: cache
    now[0] += RECHECK_S + 1
    assert svc.get_bars("AAPL").close.tolist() == [1.0, 2.0, 3.5, 4.0]  # stale: topped up
    assert rec.calls[1]["start"] == "2024-01-04"
    # offline later: opening the chart still shows the cached bars; an explicit refresh says why
    rec.answers = [empty_answer(
        "Failed to get ticker 'AAPL' reason: Failed to perform, curl: (6) Could not resolve host: x")]
    now[0] += RECHECK_S + 1
    yf_quiet = YF_LOG.level
    YF_LOG.setLevel(logging.CRITICAL)
    try:
        assert svc.get_bars("AAPL").close.tolist() == [1.0, 2.0, 3.5, 4.0]
        with pytest.raises(NoNetworkError):
            svc.get_bars("AAPL", refresh=True)
    finally:
        YF_LOG.setLevel(yf_quiet)


def test_fresh_cache_is_not_fetched_again(db):
    from engine.data.service import RECHECK_S, DataService

    rec = Recorder(yf_like({"AAPL": daily_history(["2024-01-02", "2024-01-03"], [1.0, 2.0])}))
    svc = DataService(db, source="yahoo", bus=EventBus(), yahoo=provider(rec))
    now = [1_704_240_000.0 + 3600]  # 2024-01-03 01:00 UTC: the last bar is an hour old
    svc.clock = lambda: now[0]
    svc.get_bars("AAPL")
    now[0] += RECHECK_S + 1
    svc.get_bars("AAPL")
    assert len(rec.calls) == 1
