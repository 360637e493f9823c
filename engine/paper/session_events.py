"""Bus events of a ``PaperSession`` (``engine/paper/session.py``).

The broker's own events (``engine.paper.events``: orders, fills, positions, accounts) say
what changed in the ledger of *any* account; these say what changed in the *session*: the
account the user is looking at, the list of accounts, the quotes and the positions'
marks, the chosen account's summary. Each carries ``session`` (the publishing session) so
a listener can ignore another session on the same bus. Payloads are immutable, so the Qt
bridge hands them to the GUI thread by reference. Published after the session's lock is
released.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.events import Event
from engine.paper.account import AccountSummary
from engine.paper.orders import Quote

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PositionMark:
    """One open position marked at the latest quote: ``last`` (None: no quote yet),
    ``market_value`` = qty × last, ``unrealized`` = market value − cost, to the cent."""

    symbol: str
    qty: int
    last: Decimal | None
    market_value: Decimal | None
    unrealized: Decimal | None


@dataclass(frozen=True, slots=True)
class Marks:
    """The chosen account's open positions marked to market, computed once per quote batch
    (or position change) and shared by every view. ``unrealized`` sums the positions that
    have a quote; ``complete`` is False when some have none yet."""

    account: str
    by_symbol: Mapping[str, PositionMark] = field(default_factory=dict)
    unrealized: Decimal = ZERO
    complete: bool = True

    def get(self, symbol: str) -> PositionMark | None:
        return self.by_symbol.get(symbol)


@dataclass(frozen=True, slots=True)
class SessionEvent(Event):
    """Base of the session's events; ``session`` is the ``PaperSession`` that published it
    (compared by identity)."""

    session: Any = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class AccountSelected(SessionEvent):
    """The session now shows ``account`` (chosen by the user, created, or the first one)."""

    account: str


@dataclass(frozen=True, slots=True)
class AccountsListed(SessionEvent):
    """The list of paper accounts changed (one was created); ``accounts`` in broker order."""

    accounts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QuotesApplied(SessionEvent):
    """A quote batch went to the broker: ``quotes`` the new quotes, ``marks`` the chosen
    account's positions marked at them."""

    quotes: tuple[Quote, ...]
    marks: Marks


@dataclass(frozen=True, slots=True)
class MarksChanged(SessionEvent):
    """The chosen account's marks changed without new quotes (a position opened or closed)."""

    marks: Marks


@dataclass(frozen=True, slots=True)
class SummaryChanged(SessionEvent):
    """The chosen account's money changed (fills, marks, or buying power held by orders)."""

    summary: AccountSummary


__all__ = [
    "AccountSelected", "AccountsListed", "Marks", "MarksChanged", "PositionMark", "QuotesApplied",
    "SessionEvent", "SummaryChanged",
]
