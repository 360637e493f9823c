"""News with sentiment: Yahoo Finance headlines per symbol and the user's RSS/Atom feeds,
deduplicated, scored with ``engine.sentiment``, stored with read state; generated demo
headlines; a per-symbol daily sentiment series aligned to bars.

``service.NewsService`` is what the app and widgets use; ``fetch`` holds the hostile-feed
limits, ``store`` the tables of migration ``0009_news``.
"""
from engine.news.model import Headline, NewsError, NewsItem, normalise_title, normalise_url

__all__ = ["Headline", "NewsError", "NewsItem", "normalise_title", "normalise_url"]
