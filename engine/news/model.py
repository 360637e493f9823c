"""News items and the keys they are deduplicated on.

A ``Headline`` is what a source returns (not yet scored or stored); a ``NewsItem`` is a
stored, scored headline with its read state. Two headlines are the same story when their
normalised URLs (``url_key``) or their normalised titles (``title_key``) are equal: outlets
syndicate one wire story under several URLs, and one URL is often fetched for several symbols.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Where a headline came from.
ORIGINS = ("yahoo", "rss", "demo")
MAX_TITLE_CHARS = 500
MAX_SUMMARY_CHARS = 2_000
MAX_URL_CHARS = 2_000
#: Query parameters that only track the reader; dropped from the dedupe key.
_TRACKING = re.compile(r"^(utm_|fbclid$|gclid$|mc_cid$|mc_eid$|guccounter$|guce_|ncid$|soc_)", re.I)
_NOT_WORD = re.compile(r"[^\w]+")


class NewsError(ValueError):
    """A news value or request refused, with a one-sentence reason."""


def normalise_title(title: str) -> str:
    """The dedupe form of a headline: accents folded, case folded, punctuation and runs of
    spaces made one space ("Acme beats estimates!" == "ACME beats  estimates")."""
    t = unicodedata.normalize("NFKD", title)
    t = "".join(ch for ch in t if not unicodedata.combining(ch)).casefold()
    return _NOT_WORD.sub(" ", t).strip()


def normalise_url(url: str) -> str:
    """The dedupe form of an article URL: scheme and host lower-cased, ``www.``, the fragment,
    tracking parameters (utm_*, fbclid, ...) and a trailing slash dropped, the remaining query
    parameters sorted."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k))
    path = parts.path.rstrip("/") or ""
    scheme = parts.scheme.lower()
    if scheme == "http":
        scheme = "https"  # the same article behind http and https
    return urlunsplit((scheme, host, path, urlencode(query), ""))


def _clean(text: object, limit: int) -> str:
    if not isinstance(text, str):
        return ""
    t = " ".join(text.split())
    return t[:limit]


@dataclass(frozen=True, slots=True)
class Headline:
    """One headline from a source. ``published`` is UTC epoch seconds; ``symbols`` are the
    tickers it is about (upper case, may be empty for a general feed)."""

    title: str
    url: str
    source: str
    published: int
    origin: str
    symbols: tuple[str, ...] = ()
    summary: str = ""

    @classmethod
    def make(cls, title: object, url: object, source: object, published: object, origin: str,
             symbols: tuple[str, ...] | list[str] = (), summary: object = "") -> Headline:
        """A checked headline: text trimmed to its limits, symbols upper-cased, the time a
        finite epoch in 1970-2100. Raises ``NewsError`` when the title or URL is missing, the
        URL is not http(s), or the time is not a number."""
        t = _clean(title, MAX_TITLE_CHARS)
        if not t:
            raise NewsError("A headline needs a title.")
        u = url.strip() if isinstance(url, str) else ""
        if not u or len(u) > MAX_URL_CHARS or urlsplit(u).scheme.lower() not in ("http", "https"):
            raise NewsError(f"The headline {t[:60]!r} has no http(s) link.")
        if isinstance(published, bool) or not isinstance(published, (int, float)) or not math.isfinite(published):
            raise NewsError(f"The headline {t[:60]!r} has no valid time.")
        p = int(published)
        if not 0 <= p <= 4_102_444_800:
            raise NewsError(f"The headline {t[:60]!r} has a time outside 1970-2100.")
        if origin not in ORIGINS:
            raise NewsError(f"Unknown news origin {origin!r}.")
        syms = tuple(dict.fromkeys(s.strip().upper() for s in symbols if isinstance(s, str) and s.strip()))
        return cls(t, u, _clean(source, 200) or "unknown", p, origin, syms, _clean(summary, MAX_SUMMARY_CHARS))

    @property
    def url_key(self) -> str:
        return normalise_url(self.url)

    @property
    def title_key(self) -> str:
        return normalise_title(self.title)


@dataclass(frozen=True, slots=True)
class NewsItem:
    """A stored headline: its sentiment (``compound`` in −1…1, ``label``), the symbols it is
    about, and whether it was read. ``demo`` items are generated (see ``engine.news.demo``)."""

    id: int
    title: str
    url: str
    source: str
    published: int
    origin: str
    symbols: tuple[str, ...]
    summary: str
    compound: float
    label: str
    read: bool

    @property
    def demo(self) -> bool:
        return self.origin == "demo"
