"""Market data: the Bars series, providers (Yahoo, CSV, demo) and the bar cache.

``engine.data.service.DataService`` is the entry point for the app, widgets and CLI;
providers live in ``yahoo``, ``csv_import`` and ``demo``; the cache in ``bar_store``.
"""
from engine.data.bars import INTRADAY, TIMEFRAMES, Bars  # noqa: F401
from engine.data.errors import (  # noqa: F401
    CsvFormatError,
    DataError,
    EmptyResponseError,
    NoNetworkError,
    RateLimitedError,
    UnknownSymbolError,
)
