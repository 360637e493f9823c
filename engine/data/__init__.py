"""Market data: the Bars series, providers (Yahoo, CSV, demo) and the bar cache."""
from engine.data.bars import INTRADAY, TIMEFRAMES, Bars  # noqa: F401
