"""Bus events of market data (published by ``engine.data.service.DataService``)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.events import Event


@dataclass(frozen=True, slots=True)
class BarsUpdated(Event):
    """Bars of (``symbol``, ``timeframe``) were stored: an import, a download or a demo
    series written to the cache; ``rows`` is how many bars the stored series has now.
    Published after the write committed, on the thread that wrote (often a worker)."""

    symbol: str
    timeframe: str
    rows: int
