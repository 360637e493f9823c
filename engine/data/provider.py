"""The provider interface every bar source implements (Yahoo, CSV, demo)."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from engine.data.bars import Bars


@runtime_checkable
class Provider(Protocol):
    """A source of bars.

    ``name`` is what the user sees ("Yahoo Finance", "Demo data"); ``source`` is the
    short tag stored with bars (``Bars.source``); ``is_demo`` says whether the bars are
    made up (always labelled in the UI).
    """

    name: str
    source: str
    is_demo: bool

    def fetch(
        self, symbol: str, timeframe: str = "1d", start: int | None = None, end: int | None = None
    ) -> Bars:
        """Bars of ``symbol`` at ``timeframe`` with ``start <= time < end``.

        ``start``/``end`` are UTC epoch seconds (None: as far as the provider goes).
        Raises a ``DataError`` subclass (``UnknownSymbolError``, ``NoNetworkError``,
        ``EmptyResponseError``, ``RateLimitedError``) when it cannot deliver.
        """
        ...
