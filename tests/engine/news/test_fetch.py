"""Feeds from a real local HTTP server: a good RSS and Atom feed read; hostile ones (XXE,
billion laughs, oversize, a slow drip, a redirect loop) refused with one sentence each."""
from __future__ import annotations

import time

import pytest

from engine.news.fetch import FeedError, check_feed_url, fetch_bytes, mentioned_symbols, parse_feed
from tests.engine.news.stubs import (
    ATOM,
    BROKEN_WITH_ENTITY,
    LAUGHS,
    RSS,
    XXE,
    body,
    drip,
    feed_server,
    huge_length,
    lying_length,
    redirect,
)


def test_rss_feed_is_fetched_and_read():
    with feed_server({"/rss": body(RSS), "/moved": redirect("/rss")}) as (base, hits):
        data = fetch_bytes(f"{base}/moved", timeout_s=5)
        parsed = parse_feed(data, f"{base}/rss", known=["ACME", "GLOBX"])
    assert hits == ["/moved", "/rss"]
    assert parsed.title == "Local Wire"
    assert parsed.skipped == 1  # the entry without a title
    first, second = parsed.headlines
    assert first.title == "ACME beats estimates, raises guidance"
    assert first.symbols == ("ACME",)  # named in the title
    assert first.summary == "Strong quarter"  # tags stripped
    assert first.published == 1_715_004_000  # Mon, 06 May 2024 14:00:00 GMT
    assert first.source == "Local Wire" and first.origin == "rss"
    assert second.symbols == ()


def test_atom_feed_relative_links_are_resolved():
    parsed = parse_feed(ATOM, "http://127.0.0.1:1/feeds/atom.xml", symbols=["GLOBX"])
    (h,) = parsed.headlines
    assert (h.title, h.url, h.symbols) == ("Globex loss narrowed", "http://127.0.0.1:1/atom/1", ("GLOBX",))


@pytest.mark.parametrize("doc", [XXE, LAUGHS, BROKEN_WITH_ENTITY], ids=["xxe", "billion-laughs", "broken+entity"])
def test_entity_declarations_are_refused(doc):
    with feed_server({"/f": body(doc)}) as (base, hits):
        data = fetch_bytes(f"{base}/f", timeout_s=5)
        with pytest.raises(FeedError, match="declares XML entities"):
            parse_feed(data, f"{base}/f")
    assert hits == ["/f"]  # the external entity was never fetched


def test_oversize_feed_is_refused_by_its_length_and_while_streaming():
    with feed_server({"/huge": huge_length, "/stream": lying_length(3_000_000)}) as (base, _):
        with pytest.raises(FeedError, match="larger than 1,000,000 bytes"):
            fetch_bytes(f"{base}/huge", max_bytes=1_000_000, timeout_s=5)
        with pytest.raises(FeedError, match="larger than 1,000,000 bytes"):
            fetch_bytes(f"{base}/stream", max_bytes=1_000_000, timeout_s=5)


def test_slow_server_is_timed_out_as_a_whole():
    with feed_server({"/drip": drip}) as (base, _):
        t0 = time.monotonic()
        with pytest.raises(FeedError, match="did not answer within 1 s"):
            fetch_bytes(f"{base}/drip", timeout_s=1.0)
        elapsed = time.monotonic() - t0
    assert elapsed < 3.0  # each byte came in 0.2 s (under any read timeout); the total is capped


def test_redirect_loop_is_capped():
    with feed_server({"/loop": redirect("/loop")}) as (base, hits):
        with pytest.raises(FeedError, match="redirects more than 3 times"):
            fetch_bytes(f"{base}/loop", timeout_s=5, max_redirects=3)
    assert len(hits) == 4  # the first request and three redirects, then it stops


def test_redirect_to_another_scheme_and_bad_urls_are_refused():
    with feed_server({"/file": redirect("file:///etc/passwd")}) as (base, _):
        with pytest.raises(FeedError, match="non-http"):
            fetch_bytes(f"{base}/file", timeout_s=5)
    for bad in ("", "ftp://x.example/feed", "file:///etc/passwd", "not a url"):
        with pytest.raises(FeedError):
            check_feed_url(bad)


def test_http_error_and_non_feed_are_one_sentence():
    with feed_server({"/html": body(b"<html><body>hello</body></html>", "text/html")}) as (base, _):
        with pytest.raises(FeedError, match="answered HTTP 404"):
            fetch_bytes(f"{base}/missing", timeout_s=5)
        data = fetch_bytes(f"{base}/html", timeout_s=5)
    with pytest.raises(FeedError, match="does not hold an RSS or Atom feed"):
        parse_feed(data, f"{base}/html")


def test_mentioned_symbols_needs_whole_words_or_cashtags():
    known = ["ACME", "AI", "GE"]
    assert mentioned_symbols("$ACME and GE rally; AIR and age do not count", known) == ("ACME", "GE")
