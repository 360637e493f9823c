"""News over the real store: Yahoo payloads as recorded, deduplication by URL and title,
read state that persists, offline refresh that keeps what is stored, demo headlines, and
the daily sentiment series aligned to bars."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.events import EventBus
from engine.news.demo import DEMO_SOURCE, demo_headlines
from engine.news.events import NewsUpdated
from engine.news.fetch import FeedError
from engine.news.model import Headline, NewsError, normalise_title, normalise_url
from engine.news.series import daily_sentiment
from engine.news.service import NewsService
from engine.news.store import NewsStore
from engine.news.yahoo import fetch_yahoo_news, parse_yahoo_news
from engine.store import open_database
from tests.engine.news.stubs import DAY, RSS, T0, daily_bars, headline

DATA = Path(__file__).with_name("data")


def _payload(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def service(db, yahoo=None, fetch=None):
    bus = EventBus()
    seen: list = []
    bus.subscribe(NewsUpdated, seen.append)

    def no_network(_x):
        raise AssertionError("this test must not fetch")

    svc = NewsService(db, bus, yahoo=yahoo or no_network, fetch=fetch or no_network,
                      known_symbols=lambda: ["ACME"])
    return svc, seen


# ---------------------------------------------------------------- Yahoo payloads
def test_current_yahoo_payload_is_read():
    hs = parse_yahoo_news(_payload("yahoo_news_current.json"), "AAPL")
    assert [h.title for h in hs] == ["Apple beats estimates as iPhone sales rise",
                                     "Apple cuts guidance after supply problems"]  # no link / no title skipped
    a, b = hs
    assert a.url == "https://finance.yahoo.com/news/apple-beats-estimates-204100123.html"
    assert a.published == 1_714_768_860  # 2024-05-03T20:41:00Z
    assert (a.source, a.symbols, a.origin) == ("Reuters", ("AAPL", "MSFT"), "yahoo")
    assert b.url.startswith("https://www.bloomberg.com/") and b.source == "Bloomberg"


def test_legacy_yahoo_payload_is_read_and_a_bad_payload_is_one_sentence():
    (h,) = parse_yahoo_news(_payload("yahoo_news_legacy.json"), "MSFT")
    assert (h.published, h.source, h.symbols) == (1_714_752_000, "Motley Fool", ("MSFT", "AMZN"))
    with pytest.raises(NewsError, match="cannot read"):
        parse_yahoo_news("<html>", "MSFT")

    class Broken:
        @property
        def news(self):
            raise ConnectionError("no route")

    with pytest.raises(NewsError, match="cannot be fetched .*ConnectionError"):
        fetch_yahoo_news("MSFT", ticker=lambda s: Broken())


# ---------------------------------------------------------------- dedupe
def test_normalised_keys():
    assert normalise_url("http://www.Example.com/a/b/?utm_source=x&id=2#top") == "https://example.com/a/b?id=2"
    assert normalise_title("  ACME Beats   Estimates! ") == normalise_title("acme beats estimates")
    assert normalise_title("Café résumé") == "cafe resume"


def test_duplicates_by_url_or_title_are_stored_once_with_all_symbols(db):
    store = NewsStore(db)
    batch = [
        (headline("Acme beats estimates", "https://wire.example/a?utm_source=rss", ["ACME"]), 0.8, "positive"),
        (headline("Acme beats estimates (update)", "http://www.wire.example/a", ["ACME", "GLOBX"]), 0.8, "positive"),
        (headline("ACME BEATS ESTIMATES!", "https://other.example/syndicated", ["INITK"]), 0.7, "positive"),
        (headline("Globex cuts guidance", "https://wire.example/b", ["GLOBX"]), -0.6, "negative"),
    ]
    assert store.add(batch) == 2
    assert store.add(batch) == 0  # fetched again: nothing new
    items = store.items()
    assert [i.title for i in items] == ["Globex cuts guidance", "Acme beats estimates"]
    assert items[1].symbols == ("ACME", "GLOBX", "INITK")
    assert [i.title for i in store.items(symbols=["INITK"])] == ["Acme beats estimates"]


def test_bad_scores_are_refused_before_anything_is_written(db):
    store = NewsStore(db)
    good = (headline("fine", "https://x.example/1"), 0.1, "positive")
    for bad in [(headline("nan", "https://x.example/2"), float("nan"), "neutral"),
                (headline("big", "https://x.example/3"), 1.5, "positive"),
                (headline("lbl", "https://x.example/4"), 0.0, "meh")]:
        with pytest.raises(NewsError):
            store.add([good, bad])
    assert store.count() == 0
    with pytest.raises(NewsError, match="no http"):
        Headline.make("t", "javascript:alert(1)", "s", T0, "rss")
    with pytest.raises(NewsError, match="no valid time"):
        Headline.make("t", "https://x.example", "s", float("inf"), "rss")


# ---------------------------------------------------------------- service
def test_refresh_scores_stores_and_announces(db):
    calls = []

    def yahoo(sym):
        calls.append(sym)
        return parse_yahoo_news(_payload("yahoo_news_current.json"), sym)

    svc, seen = service(db, yahoo=yahoo, fetch=lambda url: RSS)
    svc.add_feed("http://127.0.0.1:1/rss", "Local")
    report = svc.refresh(["aapl", "ACME", "AAPL"])  # ACME is a demo symbol: never asked of Yahoo
    assert calls == ["AAPL"]
    assert (report.fetched, report.new, report.errors) == (4, 4, ())
    assert [e.new for e in seen] == [4]
    by_title = {i.title: i for i in svc.items()}
    assert by_title["Apple beats estimates as iPhone sales rise"].label == "positive"
    assert by_title["Apple cuts guidance after supply problems"].label == "negative"
    assert by_title["ACME beats estimates, raises guidance"].symbols == ("ACME",)
    assert svc.feeds()[0].last_ok_at is not None
    assert svc.items(search="iphone")[0].title.startswith("Apple beats")
    assert [i.title for i in svc.items(symbols=["MSFT"])] == ["Apple beats estimates as iPhone sales rise"]


def test_offline_refresh_reports_errors_and_stored_news_stays_readable(db):
    svc, _ = service(db, yahoo=lambda s: parse_yahoo_news(_payload("yahoo_news_current.json"), s))
    svc.refresh(["AAPL"], feeds=False)
    stored = svc.items()

    def offline_yahoo(sym):
        raise NewsError(f"Yahoo Finance news for {sym} cannot be fetched (ConnectionError); check the network.")

    def offline_fetch(url):
        raise FeedError(f"The feed {url} cannot be reached (ConnectionError).")

    offline, seen = service(db, yahoo=offline_yahoo, fetch=offline_fetch)
    offline.add_feed("https://feeds.example/rss")
    report = offline.refresh(["AAPL"])
    assert report.new == 0 and seen == []
    assert report.errors == ("Yahoo Finance news for AAPL cannot be fetched (ConnectionError); check the network.",
                             "The feed https://feeds.example/rss cannot be reached (ConnectionError).")
    assert offline.items() == stored and len(stored) == 2
    assert offline.feeds()[0].last_error.startswith("The feed https://feeds.example/rss cannot be reached")


def test_read_state_persists_across_a_restart(home):
    db = open_database()
    svc, seen = service(db)
    svc.ensure_demo()
    first = svc.items(symbols=["ACME"])[0]
    assert not first.read
    assert svc.mark_read([first.id]) == 1 and svc.mark_read([first.id]) == 0
    assert seen[-1] == NewsUpdated(0)
    db.dispose()
    again, _ = service(open_database())
    assert again.items(symbols=["ACME"])[0].read
    assert again.unread_count() == len(demo_headlines()) - 1
    assert [i.id for i in again.items(unread_only=True)].count(first.id) == 0
    again.mark_read([first.id], read=False)
    assert not again.items(symbols=["ACME"])[0].read


def test_feed_list_refuses_bad_and_duplicate_addresses(db):
    svc, _ = service(db)
    svc.add_feed("https://feeds.example/rss", "Example")
    with pytest.raises(NewsError, match="already in the list"):
        svc.add_feed("https://feeds.example/rss")
    with pytest.raises(FeedError, match="not an http"):
        svc.add_feed("file:///etc/passwd")
    svc.remove_feed(svc.feeds()[0].id)
    assert svc.feeds() == []


# ---------------------------------------------------------------- demo
def test_demo_headlines_are_deterministic_labelled_and_cover_every_demo_symbol(db):
    from engine.data.demo import demo_symbols

    hs = demo_headlines()
    assert {s for h in hs for s in h.symbols} == set(demo_symbols())
    assert all(h.origin == "demo" and h.source == DEMO_SOURCE and ".invalid/" in h.url for h in hs)
    svc, _ = service(db)
    assert svc.ensure_demo() == len(hs)
    assert svc.ensure_demo() == 0
    labels = {i.label for i in svc.items(symbols=["ACME"])}
    assert labels == {"positive", "negative", "neutral"}
    again = demo_headlines.__wrapped__()
    assert again == hs


def test_demo_sentiment_follows_the_demo_prices(db):
    """Good news sits on the demo chart's up days, bad news on its down days."""
    from engine.data.demo import DemoProvider

    svc, _ = service(db)
    svc.ensure_demo()
    bars = DemoProvider().fetch("ACME", "1d")
    s = svc.daily_sentiment("ACME", bars)
    ret = np.r_[np.nan, np.diff(bars.close) / bars.close[:-1]]
    pos, neg = s.mean > 0.3, s.mean < -0.3
    assert pos.sum() >= 2 and neg.sum() >= 2
    assert np.all(ret[pos] > 0) and np.all(ret[neg] < 0)


# ---------------------------------------------------------------- series
def test_daily_series_aligns_to_sessions_in_new_york_days():
    bars = daily_bars(["2024-05-03", "2024-05-06", "2024-05-07"])  # Fri, Mon, Tue
    fri_noon = T0 - 3 * DAY + 16 * 3600
    sat = T0 - 2 * DAY + 15 * 3600
    mon_evening_ny = T0 + DAY + 2 * 3600  # Tue 02:00 UTC = Mon 22:00 in New York
    tue = T0 + DAY + 14 * 3600
    after = T0 + 5 * DAY
    s = daily_sentiment([(fri_noon, 0.5), (sat, -1.0), (mon_evening_ny, 0.2), (tue, 0.4), (after, 0.9)], bars)
    assert s.count.tolist() == [1, 2, 1]
    assert np.allclose(s.mean, [0.5, -0.4, 0.4])
    quiet = daily_sentiment([(tue, 0.4)], bars)
    assert np.isnan(quiet.mean[:2]).all() and quiet.mean[2] == 0.4
    with pytest.raises(ValueError, match="-1..1"):
        daily_sentiment([(tue, 2.0)], bars)


def test_daily_series_on_intraday_and_weekly_bars():
    mon_open = T0 + 13 * 3600 + 30 * 60  # 09:30 New York (EDT)
    t = np.array([mon_open, mon_open + 3600, mon_open + DAY, mon_open + DAY + 60], dtype=np.int64)
    c = np.ones(4)
    from engine.data.bars import Bars

    minutes = Bars("AAA", "1m", t, c, c, c, c, c, "demo")
    s = daily_sentiment([(T0 + 12 * 3600, 0.6), (T0 + 20 * 3600, 0.2)], minutes)  # both on Monday
    assert s.count.tolist() == [2, 2, 0, 0]
    assert np.allclose(s.mean[:2], 0.4) and np.isnan(s.mean[2:]).all()
    weeks = daily_bars(["2024-04-29", "2024-05-06"], timeframe="1wk")
    w = daily_sentiment([(T0 - 2 * DAY, 0.3), (T0 + 3 * DAY, -0.3), (T0 + 30 * DAY, 1.0)], weeks)
    assert w.count.tolist() == [1, 1] and np.allclose(w.mean, [0.3, -0.3])
