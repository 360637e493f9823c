"""Today's figures of an account, from its fills: realized P&L and fees per symbol for the day.

"Today" is the calendar day in New York (the exchange's day; a fill at 21:00 UTC on a
winter Friday is Friday's) that contains ``now_ms``. Realized P&L is FIFO, as the
ledger's (``engine.paper.ledger``): a close today of shares bought yesterday realizes
today, against yesterday's price. Realized figures are before fees; fees are listed apart.

``DayBook`` follows an account's fill log incrementally (each new fill is booked once on a
shadow FIFO ledger), so asking for the day's figures after every quote batch costs only
the fills since the last question; ``day_figures`` is the same over a plain list.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from engine.paper.ledger import Position
from engine.paper.money import ZERO
from engine.paper.orders import Fill

NEW_YORK = ZoneInfo("America/New_York")


def day_start_ms(now_ms: int) -> int:
    """Epoch ms of midnight New York at the start of the day holding ``now_ms`` (epoch ms)."""
    d = dt.datetime.fromtimestamp(now_ms / 1000, NEW_YORK).date()
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=NEW_YORK).timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class DayFigures:
    """The day starting at ``start_ms`` (epoch ms): ``realized`` (dollars, before fees) and
    ``fees`` in total and per symbol traded that day (``symbols``: symbol → (realized,
    fees)), and ``fills`` the number of fills."""

    start_ms: int
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    fills: int = 0
    symbols: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)


class DayBook:
    """Books an account's fills once each and answers for any day (see module docstring)."""

    __slots__ = ("_positions", "_booked", "_log_id", "_entries")

    def __init__(self) -> None:
        self._positions: dict[str, Position] = {}
        self._booked = 0
        self._log_id = 0
        self._entries: list[tuple[int, str, Decimal, Decimal]] = []  # time ms, symbol, realized, fee

    def update(self, fills: list[Fill]) -> None:
        """Book the fills of ``fills`` (an account's growing fill log) not booked yet; a
        different list (the account was rebuilt) is booked from its start."""
        if id(fills) != self._log_id or len(fills) < self._booked:
            self.__init__()  # type: ignore[misc]
            self._log_id = id(fills)
        for f in fills[self._booked:]:
            pos = self._positions.get(f.symbol)
            if pos is None:
                pos = self._positions[f.symbol] = Position(f.symbol)
            r = pos.apply(f.signed_qty, f.price, f.fee)
            self._entries.append((f.time_ms, f.symbol, r, f.fee))
        self._booked = len(fills)

    def figures(self, now_ms: int) -> DayFigures:
        """Today's figures (the New York day holding ``now_ms``)."""
        start = day_start_ms(now_ms)
        end = day_start_ms(start + 30 * 3_600_000)  # the next midnight (days are 23-25 h)
        realized = fees = ZERO
        n = 0
        per: dict[str, tuple[Decimal, Decimal]] = {}
        for t, sym, r, fee in reversed(self._entries):  # fills are in time order: stop at yesterday
            if t < start:
                break
            if t >= end:
                continue
            realized += r
            fees += fee
            n += 1
            pr, pf = per.get(sym, (ZERO, ZERO))
            per[sym] = (pr + r, pf + fee)
        return DayFigures(start, realized, fees, n, per)


def day_figures(fills: list[Fill], now_ms: int) -> DayFigures:
    """Today's realized P&L and fees of ``fills`` (in booking order), see module docstring."""
    book = DayBook()
    book.update(fills)
    return book.figures(now_ms)


__all__ = ["DayBook", "DayFigures", "NEW_YORK", "day_figures", "day_start_ms"]
