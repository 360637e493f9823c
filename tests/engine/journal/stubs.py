"""Shared builders for journal tests."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from engine.journal.review import JournalEntry
from engine.journal.roundtrips import Leg, RoundTrip


def ms(y: int, mo: int, d: int, h: int = 15, mi: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=UTC).timestamp() * 1000)


def trip(pnl: float | str, exit_ms: int, symbol: str = "AAPL", entry_ms: int | None = None,
         stop: str | None = None) -> RoundTrip:
    """A 100-share long bought at 100 whose gross P&L is ``pnl`` (no fees)."""
    entry = exit_ms - 3_600_000 if entry_ms is None else entry_ms
    p = Decimal(str(pnl))
    return RoundTrip(symbol, "long", (Leg(entry, 100, Decimal(100), Decimal(0)),),
                     (Leg(exit_ms, 100, Decimal(100) + p / 100, Decimal(0)),), p, Decimal(0),
                     None if stop is None else Decimal(stop))


def entry(pnl: float | str, exit_ms: int, **user: object) -> JournalEntry:
    symbol = str(user.pop("symbol", "AAPL"))
    entry_ms = user.pop("entry_ms", None)
    return JournalEntry(trip(pnl, exit_ms, symbol, entry_ms), **user)  # type: ignore[arg-type]
