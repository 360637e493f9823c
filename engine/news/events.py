"""Bus events of news (published by ``engine.news.service.NewsService``)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.events import Event


@dataclass(frozen=True, slots=True)
class NewsUpdated(Event):
    """Stored news changed: ``new`` headlines were added (0 when only read states changed).
    Published after the write committed, on the writing thread (often a worker)."""

    new: int = 0
