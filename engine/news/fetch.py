"""Fetching a feed over HTTP with limits, and reading it without trusting it.

A feed is a URL the user typed; whatever answers there is hostile until proven otherwise.
``fetch_bytes`` (``requests``, streamed) caps the body size (``Content-Length`` checked up
front, the decoded bytes counted as they arrive, so a gzip bomb is cut off too), the whole
request time (a watchdog closes the connection at the deadline, so a server dripping one
byte at a time cannot hold a worker), and redirects (followed by hand, http(s) only).
``parse_feed`` refuses XML with entity declarations (billion laughs, external entities:
XXE) via ``defusedxml`` before ``feedparser`` sees the bytes; feedparser never fetches
anything itself here.
"""
from __future__ import annotations

import calendar
import html
import re
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from engine.news.model import Headline, NewsError

MAX_FEED_BYTES = 2_000_000
TIMEOUT_S = 15.0
MAX_REDIRECTS = 3
USER_AGENT = "StockScanner/0.1 (news reader)"
_TAG = re.compile(r"<[^>]{0,2000}>")
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_CASHTAG = re.compile(r"\$([A-Z][A-Z0-9.]{0,9})\b")
_WORD = re.compile(r"\b[A-Z][A-Z0-9.]{0,9}\b")


class FeedError(NewsError):
    """A feed that could not be fetched or read, with a one-sentence reason."""


def check_feed_url(url: str) -> str:
    """``url`` stripped, if it is an http(s) address with a host; else ``FeedError``."""
    if not isinstance(url, str) or not url.strip():
        raise FeedError("A feed needs a URL.")
    u = url.strip()
    parts = urlsplit(u)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FeedError(f"The feed address {u[:200]!r} is not an http(s) URL.")
    return u


def fetch_bytes(url: str, *, max_bytes: int = MAX_FEED_BYTES, timeout_s: float = TIMEOUT_S,
                max_redirects: int = MAX_REDIRECTS, proxies: dict[str, str] | None = None) -> bytes:
    """The body at ``url`` (http or https), at most ``max_bytes`` bytes, within ``timeout_s``
    seconds in all (connect, redirects and body), following at most ``max_redirects``
    redirects. Raises ``FeedError`` (one sentence) for a bad URL, a refused, slow, oversize
    or failing answer, a redirect loop or a redirect to another scheme."""
    import requests

    u = check_feed_url(url)
    if max_bytes <= 0 or not timeout_s > 0 or max_redirects < 0:
        raise ValueError("max_bytes and timeout_s must be positive and max_redirects not negative")
    deadline = time.monotonic() + timeout_s
    with requests.Session() as session:
        session.headers["User-Agent"] = USER_AGENT
        session.headers["Accept"] = "application/rss+xml, application/atom+xml, application/xml, text/xml;q=0.9"
        session.trust_env = proxies is None
        for hop in range(max_redirects + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                raise FeedError(f"The feed {url} did not answer within {timeout_s:g} s.")
            try:
                resp = session.get(u, stream=True, allow_redirects=False, timeout=(left, left), proxies=proxies)
            except requests.Timeout as exc:
                raise FeedError(f"The feed {url} did not answer within {timeout_s:g} s.") from exc
            except requests.RequestException as exc:
                raise FeedError(f"The feed {url} cannot be reached ({type(exc).__name__}).") from exc
            with resp:
                if resp.is_redirect:
                    loc = resp.headers.get("Location", "")
                    if hop == max_redirects:
                        raise FeedError(f"The feed {url} redirects more than {max_redirects} times.")
                    nxt = urljoin(u, loc)
                    if urlsplit(nxt).scheme.lower() not in ("http", "https"):
                        raise FeedError(f"The feed {url} redirects to a non-http address.")
                    u = nxt
                    continue
                if resp.status_code != 200:
                    raise FeedError(f"The feed {url} answered HTTP {resp.status_code}.")
                return _read_body(resp, url, max_bytes, deadline, timeout_s)
    raise FeedError(f"The feed {url} redirects more than {max_redirects} times.")  # pragma: no cover


def _read_body(resp: Any, url: str, max_bytes: int, deadline: float, timeout_s: float) -> bytes:
    import requests

    length = resp.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise FeedError(f"The feed {url} is larger than {max_bytes:,} bytes.")
    expired = threading.Event()

    def _cut() -> None:
        # closing a file does not wake a recv() blocked in another thread; shutting the
        # socket down does
        expired.set()
        sock = getattr(getattr(resp.raw, "connection", None), "sock", None)
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        resp.close()

    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _cut)
    watchdog.daemon = True
    watchdog.start()
    out = bytearray()
    raw = resp.raw
    try:
        while True:
            # read1: what one recv() brought (decoded), so the deadline is checked even while
            # a server drips a byte at a time (read(n) would wait for all n bytes)
            chunk = raw.read1(65_536, decode_content=True)
            if not chunk:
                break
            out += chunk
            if len(out) > max_bytes:
                raise FeedError(f"The feed {url} is larger than {max_bytes:,} bytes.")
            if time.monotonic() > deadline:
                raise FeedError(f"The feed {url} did not answer within {timeout_s:g} s.")
    except FeedError:
        raise
    except (requests.RequestException, OSError, AttributeError, ValueError) as exc:
        if expired.is_set() or time.monotonic() > deadline:
            raise FeedError(f"The feed {url} did not answer within {timeout_s:g} s.") from exc
        raise FeedError(f"The feed {url} broke off ({type(exc).__name__}).") from exc
    except Exception as exc:  # noqa: BLE001 - urllib3's own errors (protocol, decoding)
        if expired.is_set():
            raise FeedError(f"The feed {url} did not answer within {timeout_s:g} s.") from exc
        raise FeedError(f"The feed {url} broke off ({type(exc).__name__}).") from exc
    finally:
        watchdog.cancel()
    if expired.is_set():
        raise FeedError(f"The feed {url} did not answer within {timeout_s:g} s.")
    return bytes(out)


def _refuse_hostile_xml(data: bytes, url: str) -> None:
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        DET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise FeedError(f"The feed {url} declares XML entities (a known attack) and was refused.") from exc
    except Exception:  # noqa: BLE001 - not well-formed XML: feedparser's lenient parser may still read it
        if _ENTITY_DECL.search(data):
            raise FeedError(f"The feed {url} declares XML entities (a known attack) and was refused.") from None


def _plain(text: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def mentioned_symbols(text: str, known: Iterable[str]) -> tuple[str, ...]:
    """The symbols of ``known`` that ``text`` names: as a cashtag ($ACME) or as a whole
    upper-case word of at least two letters (ACME). Order of first mention."""
    k = {s.upper() for s in known}
    found = [m for m in _CASHTAG.findall(text) if m in k]
    found += [w for w in _WORD.findall(text) if len(w) >= 2 and w in k]
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    headlines: tuple[Headline, ...]
    skipped: int  # entries without a title or link


def parse_feed(data: bytes, url: str, *, symbols: Iterable[str] = (), known: Iterable[str] = (),
               now: int | None = None) -> ParsedFeed:
    """The headlines of an RSS or Atom document. Each is about ``symbols`` (the feed's own,
    e.g. a per-company feed) plus the ``known`` symbols its title names. Entries without a
    date get ``now``. Raises ``FeedError`` for XML with entity declarations or a document
    that is not a feed."""
    import feedparser

    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("parse_feed reads bytes")
    _refuse_hostile_xml(bytes(data), url)
    parsed = feedparser.parse(bytes(data), sanitize_html=True, resolve_relative_uris=False)
    if not parsed.get("version") and not parsed.entries:
        raise FeedError(f"The address {url} does not hold an RSS or Atom feed.")
    feed_title = _plain(str(parsed.feed.get("title", ""))) or (urlsplit(url).hostname or url)
    t_now = int(time.time()) if now is None else int(now)
    known = tuple(known)
    own = tuple(symbols)
    out: list[Headline] = []
    skipped = 0
    for e in parsed.entries:
        when = e.get("published_parsed") or e.get("updated_parsed")
        published = calendar.timegm(when) if when else t_now
        title = _plain(str(e.get("title", "")))
        link = str(e.get("link", "")).strip()
        try:
            out.append(Headline.make(title, urljoin(url, link) if link else "", feed_title, published, "rss",
                                     own + mentioned_symbols(title, known), _plain(str(e.get("summary", "")))))
        except NewsError:
            skipped += 1
    return ParsedFeed(feed_title, tuple(out), skipped)
