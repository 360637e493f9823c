"""Cash and positions, rebuilt from fills.

The ledger is a pure function of (initial cash, fills): ``Ledger.from_fills`` rebuilds it,
which is how a restart and a reconciliation check work. Cash is exact (``Decimal``):
cash = initial − Σ signed qty × price − Σ fees. Realized P&L uses FIFO lots, which keeps it
exact too (an average cost would need a rounded division). Shorts are negative quantities.

Option contracts (``engine.paper.contracts``) are booked like shares with their multiplier:
qty in contracts, prices per share, every money figure (cash, cost, realized and unrealized
P&L, market value) × 100.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.paper.contracts import multiplier
from engine.paper.money import PRICE_QUANTUM, ZERO
from engine.paper.orders import DuplicateFill, Fill, Side


@dataclass(frozen=True, slots=True)
class PositionView:
    """An immutable snapshot of one position. ``qty`` < 0 is short; prices per share."""

    symbol: str
    qty: int
    avg_price: Decimal | None
    cost: Decimal  # Σ open lots' qty × price × multiplier (negative for shorts)
    realized_pnl: Decimal  # before fees
    fees: Decimal
    #: shares per unit: 100 for an option contract
    multiplier: int = 1


class Position:
    """Open FIFO lots of one symbol plus its realized P&L."""

    __slots__ = ("symbol", "qty", "lots", "realized", "fees", "mult")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.mult = multiplier(symbol)
        self.qty = 0
        self.lots: deque[list[Any]] = deque()  # [signed qty: int, price: Decimal]
        self.realized = ZERO
        self.fees = ZERO

    def apply(self, signed: int, price: Decimal, fee: Decimal) -> Decimal:
        """Add a fill of ``signed`` shares at ``price``; returns the realized P&L of it."""
        self.fees += fee
        realized = ZERO
        lots = self.lots
        if self.qty == 0 or (self.qty > 0) == (signed > 0):
            lots.append([signed, price])
            self.qty += signed
            return realized
        left = signed
        while left and lots:
            lot = lots[0]
            lq = lot[0]
            take = min(abs(lq), abs(left))
            # closing a long (lq > 0) by selling: (price - lot price) * take; short mirrored
            realized += (price - lot[1]) * take if lq > 0 else (lot[1] - price) * take
            if take == abs(lq):
                lots.popleft()
            else:
                lot[0] = lq - take if lq > 0 else lq + take
            left = left + take if left < 0 else left - take
        if left:
            lots.append([left, price])
        self.qty += signed
        if self.mult != 1:
            realized *= self.mult
        self.realized += realized
        return realized

    def cost(self) -> Decimal:
        c = sum((q * p for q, p in self.lots), ZERO)
        return c * self.mult if self.mult != 1 else c

    def view(self) -> PositionView:
        c = self.cost()
        avg = (c / (self.qty * self.mult)).quantize(PRICE_QUANTUM) if self.qty else None
        return PositionView(self.symbol, self.qty, avg, c, self.realized, self.fees, self.mult)


class Ledger:
    """Cash, positions and the set of applied fill ids of one account."""

    __slots__ = ("initial_cash", "cash", "positions", "fill_ids", "fees", "realized")

    def __init__(self, initial_cash: Decimal) -> None:
        self.initial_cash = initial_cash
        self.cash = initial_cash
        self.positions: dict[str, Position] = {}
        self.fill_ids: set[str] = set()
        self.fees = ZERO
        self.realized = ZERO

    def apply(self, fill: Fill) -> Decimal:
        """Book ``fill``; returns its realized P&L (before fees).

        Raises ``DuplicateFill`` if its id was booked before (the ledger is unchanged).
        """
        if fill.fill_id in self.fill_ids:
            raise DuplicateFill(f"fill {fill.fill_id} is already in the ledger")
        self.fill_ids.add(fill.fill_id)
        signed = fill.qty if fill.side is Side.BUY else -fill.qty
        self.cash -= signed * fill.price + fill.fee
        self.fees += fill.fee
        pos = self.positions.get(fill.symbol)
        if pos is None:
            pos = self.positions[fill.symbol] = Position(fill.symbol)
        if pos.mult != 1:
            self.cash -= signed * fill.price * (pos.mult - 1)
        r = pos.apply(signed, fill.price, fill.fee)
        self.realized += r
        return r

    @classmethod
    def from_fills(cls, initial_cash: Decimal, fills: list[Fill]) -> Ledger:
        """Rebuild a ledger from its fills (in time order)."""
        led = cls(initial_cash)
        for f in fills:
            led.apply(f)
        return led

    def qty(self, symbol: str) -> int:
        p = self.positions.get(symbol)
        return p.qty if p is not None else 0

    def market_value(self, prices: dict[str, Decimal]) -> Decimal:
        """Σ qty × price (shorts negative); a symbol without a price is valued at cost."""
        total = ZERO
        for s, p in self.positions.items():
            if p.qty:
                px = prices.get(s)
                total += p.qty * px * p.mult if px is not None else p.cost()
        return total

    def gross_exposure(self, prices: dict[str, Decimal]) -> Decimal:
        total = ZERO
        for s, p in self.positions.items():
            if p.qty:
                px = prices.get(s)
                total += abs(p.qty * px * p.mult) if px is not None else abs(p.cost())
        return total

    def equity(self, prices: dict[str, Decimal]) -> Decimal:
        return self.cash + self.market_value(prices)

    def unrealized(self, prices: dict[str, Decimal]) -> Decimal:
        total = ZERO
        for s, p in self.positions.items():
            if p.qty and s in prices:
                total += p.qty * prices[s] * p.mult - p.cost()
        return total
