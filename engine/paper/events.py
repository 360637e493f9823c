"""Bus events of the paper broker (published on ``engine.events.bus`` after each commit).

Every payload is immutable (``OrderView``, ``Fill``, ``PositionView``, ``AccountSummary``),
so the Qt bridge can hand them to the GUI thread by reference.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.events import Event
from engine.paper.account import AccountSummary
from engine.paper.ledger import PositionView
from engine.paper.orders import Fill, OrderView


@dataclass(frozen=True, slots=True)
class PaperEvent(Event):
    """Base of paper broker events; ``account`` is the account's name."""

    account: str


@dataclass(frozen=True, slots=True)
class OrderUpdated(PaperEvent):
    """An order was created or changed state (accepted, filled, cancelled, ...)."""

    order: OrderView


@dataclass(frozen=True, slots=True)
class FillOccurred(PaperEvent):
    fill: Fill


@dataclass(frozen=True, slots=True)
class PositionChanged(PaperEvent):
    position: PositionView


@dataclass(frozen=True, slots=True)
class AccountChanged(PaperEvent):
    """Cash, equity or buying power changed (after fills), or the account was created."""

    summary: AccountSummary
