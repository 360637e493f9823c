"""Market structure shared by the engine: exchange sessions, holidays, early closes, expiries.

Import from ``engine.market.calendar`` (or here); exchange_calendars itself is only imported on
the first calendar built, never at start-up.
"""
from engine.market.calendar import (
    DEFAULT_EXCHANGE,
    EXCHANGES,
    MarketCalendar,
    calendar_for,
    exchange_for,
    get_calendar,
    monthly_expiries,
    session_close_after,
)

__all__ = [
    "DEFAULT_EXCHANGE",
    "EXCHANGES",
    "MarketCalendar",
    "calendar_for",
    "exchange_for",
    "get_calendar",
    "monthly_expiries",
    "session_close_after",
]
