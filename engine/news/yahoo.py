"""Yahoo Finance news per symbol (``yfinance.Ticker(symbol).news``).

Yahoo has served two payload shapes: the current one (yfinance ≥ 0.2.50), a list of
``{"id", "content": {"title", "pubDate", "provider": {"displayName"}, "canonicalUrl":
{"url"}, "clickThroughUrl": {"url"}, "summary"}}``, and the older flat one (``"title"``,
``"link"``, ``"publisher"``, ``"providerPublishTime"``, ``"relatedTickers"``). Both are read;
an entry that is neither is skipped, never fatal.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from engine.news.model import Headline, NewsError


def _epoch(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value:
        try:
            t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.timezone.utc)
        return t.timestamp()
    return None


def _url(obj: object) -> str:
    if isinstance(obj, dict):
        u = obj.get("url")
        return u if isinstance(u, str) else ""
    return obj if isinstance(obj, str) else ""


def _one(entry: object, symbol: str) -> Headline:
    if not isinstance(entry, dict):
        raise NewsError("not an object")
    c = entry.get("content")
    if isinstance(c, dict):
        provider = c.get("provider")
        source = provider.get("displayName", "") if isinstance(provider, dict) else ""
        url = _url(c.get("canonicalUrl")) or _url(c.get("clickThroughUrl"))
        when = _epoch(c.get("pubDate") or c.get("displayTime"))
        related: list[str] = []
        fin = c.get("finance")
        if isinstance(fin, dict) and isinstance(fin.get("stockTickers"), list):
            related = [t.get("symbol", "") for t in fin["stockTickers"] if isinstance(t, dict)]
        return Headline.make(c.get("title"), url, source or "Yahoo Finance", when, "yahoo",
                             [symbol, *related], c.get("summary") or c.get("description") or "")
    rel = entry.get("relatedTickers")
    related = [t for t in rel if isinstance(t, str)] if isinstance(rel, list) else []
    return Headline.make(entry.get("title"), entry.get("link"), entry.get("publisher") or "Yahoo Finance",
                         _epoch(entry.get("providerPublishTime")), "yahoo", [symbol, *related],
                         entry.get("summary", ""))


def parse_yahoo_news(payload: object, symbol: str) -> list[Headline]:
    """The headlines of a ``Ticker.news`` payload for ``symbol`` (which every headline is
    about, besides the tickers Yahoo relates it to). Entries without a title, link or time
    are skipped. Raises ``NewsError`` if the payload is not a list."""
    if isinstance(payload, dict) and isinstance(payload.get("news"), list):
        payload = payload["news"]
    if not isinstance(payload, list):
        raise NewsError(f"Yahoo Finance sent news for {symbol} in a form this version cannot read.")
    out = []
    for e in payload:
        try:
            out.append(_one(e, symbol))
        except NewsError:
            continue
    return out


def fetch_yahoo_news(symbol: str, ticker: Callable[[str], Any] | None = None) -> list[Headline]:
    """Yahoo Finance's recent headlines for ``symbol`` (network). ``ticker`` builds the
    yfinance object (tests pass a stub). Raises ``NewsError`` (one sentence) when Yahoo
    cannot be reached or answers with something unreadable."""
    if ticker is None:
        import yfinance as yf

        ticker = yf.Ticker
    try:
        payload = ticker(symbol).news
    except Exception as exc:  # noqa: BLE001 - yfinance raises anything from curl to JSON errors
        raise NewsError(f"Yahoo Finance news for {symbol} cannot be fetched ({type(exc).__name__}); "
                        "check the network.") from exc
    return parse_yahoo_news(payload, symbol)
