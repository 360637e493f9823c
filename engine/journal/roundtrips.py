"""Fills → round trips (FIFO), with P&L, fees, R-multiple, holding time and MFE/MAE.

Matching rule, per symbol, fills in time order (ties keep their given order):

* **FIFO lots.** Each opening fill adds a lot; a closing fill consumes the oldest lots
  first. Gross P&L of a closed slice = (exit price − lot price) × qty for a long,
  (lot price − exit price) × qty for a short. Exact: prices, fees and P&L are ``Decimal``.
* **A round trip starts when the position leaves zero and ends when it returns to zero.**
  Fills in the same direction while it is open are scale-ins; fills against it are
  partial exits, until the position is flat.
* **A reversal through zero** (e.g. long 100, sell 150) closes the trip with the first part
  of the fill (100) and opens a new trip, in the other direction, with the rest (50). The
  fill's fee is split in proportion to quantity; the closing part gets
  ``fee × closing qty / qty`` rounded to the cent (half-even) and the new trip the rest, so
  the two add up to the fill's fee exactly.
* **Fees** of a trip = Σ fees of its entry and exit slices; net P&L = gross − fees.
* **R-multiple** (when a stop was set): risk = |average entry price − stop| × total entry
  quantity (= Σ |entry price − stop| × qty when the stop is beyond every entry);
  R = net P&L / risk. The stop is that of the first entry fill carrying a ``stop``
  attribute, or set afterwards with ``RoundTrip.with_stop``.
* **Holding time** = last exit time − first entry time.
* **MFE / MAE** (``excursions``): the best and worst price reached by the bars during the
  trade relative to the average entry price, per share and × entry quantity; both ≥ 0.

Fills are any objects with ``symbol``, ``side`` ("buy"/"sell", or the paper broker's
``Side``), ``qty`` (> 0), ``price`` (> 0), ``fee`` (≥ 0) and ``time_ms`` (epoch ms), such
as ``engine.paper.orders.Fill`` or ``Execution``; an optional ``stop`` attribute is read.
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

CENT = Decimal("0.01")
ZERO = Decimal(0)

Direction = Literal["long", "short"]


class FillLike(Protocol):
    """What ``match_round_trips`` reads from a fill."""

    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def qty(self) -> int | Decimal: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def fee(self) -> Decimal: ...
    @property
    def time_ms(self) -> int: ...


def to_decimal(x: object, what: str) -> Decimal:
    """``x`` (Decimal, int, str or finite float) as an exact ``Decimal``; floats via their
    shortest repr, so 0.1 is 0.1. Raises ``ValueError`` for anything else or non-finite."""
    if isinstance(x, bool):
        raise ValueError(f"{what} must be a number, not a bool")
    if isinstance(x, Decimal):
        d = x
    elif isinstance(x, int):
        d = Decimal(x)
    elif isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"{what} must be finite, not {x}")
        d = Decimal(repr(x))
    elif isinstance(x, str):
        try:
            d = Decimal(x.strip())
        except InvalidOperation:
            raise ValueError(f"{what} must be a number, not {x!r}") from None
    else:
        raise ValueError(f"{what} must be a number, not {type(x).__name__}")
    if not d.is_finite():
        raise ValueError(f"{what} must be finite, not {d}")
    return d


@dataclass(frozen=True, slots=True)
class Execution:
    """A fill as the journal sees it (manual entries, broker CSV imports).

    ``side`` "buy"/"sell"; ``qty`` shares (> 0); ``price`` per share and ``fee`` in money;
    ``time_ms`` epoch milliseconds; ``stop`` the protective stop in force, if any.
    Raises ``ValueError`` for invalid values.
    """

    symbol: str
    side: str
    qty: int | Decimal
    price: Decimal
    fee: Decimal = ZERO
    time_ms: int = 0
    stop: Decimal | None = None

    def __post_init__(self) -> None:
        leg = _check_fill(self, 0)
        object.__setattr__(self, "side", "buy" if leg[1] > 0 else "sell")
        object.__setattr__(self, "price", leg[2])
        object.__setattr__(self, "fee", leg[3])
        if self.stop is not None:
            object.__setattr__(self, "stop", _check_stop(self.stop))


@dataclass(frozen=True, slots=True)
class Leg:
    """The part of one fill that belongs to one round trip (entry or exit slice)."""

    time_ms: int
    qty: int | Decimal
    price: Decimal
    fee: Decimal


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One closed round trip (see the module docstring for the rules). Money is ``Decimal``;
    ``r_multiple``, ``mfe``/``mae`` (per share) and their money values are floats."""

    symbol: str
    direction: Direction
    entries: tuple[Leg, ...]
    exits: tuple[Leg, ...]
    gross_pnl: Decimal
    fees: Decimal
    stop: Decimal | None = None
    mfe: float | None = None
    mae: float | None = None
    #: net P&L and R as floats (NaN R without a stop), computed once: analytics over many
    #: trips read these instead of redoing Decimal arithmetic per trip.
    net_pnl_f: float = field(init=False, repr=False, compare=False)
    r_f: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.entries or not self.exits:
            raise ValueError("a round trip needs at least one entry and one exit")
        if self.exits[-1].time_ms < self.entries[0].time_ms:
            raise ValueError("a round trip cannot end before it starts")
        object.__setattr__(self, "net_pnl_f", float(self.gross_pnl - self.fees))
        r = self.r_multiple
        object.__setattr__(self, "r_f", math.nan if r is None else r)

    @property
    def qty(self) -> int | Decimal:
        """Total quantity entered (= total exited)."""
        return sum((leg.qty for leg in self.entries), 0)

    @property
    def max_position(self) -> int | Decimal:
        """Largest absolute position held during the trip."""
        events = sorted([(leg.time_ms, 0, leg.qty) for leg in self.entries]
                        + [(leg.time_ms, 1, -leg.qty) for leg in self.exits],
                        key=lambda e: (e[0], e[1]))
        pos: int | Decimal = 0
        best: int | Decimal = 0
        for _, _, q in events:
            pos += q
            best = max(best, pos)
        return best

    @property
    def net_pnl(self) -> Decimal:
        return self.gross_pnl - self.fees

    @property
    def entry_time_ms(self) -> int:
        return self.entries[0].time_ms

    @property
    def exit_time_ms(self) -> int:
        return self.exits[-1].time_ms

    @property
    def holding_ms(self) -> int:
        return self.exit_time_ms - self.entry_time_ms

    @property
    def avg_entry_price(self) -> Decimal:
        return sum((leg.price * leg.qty for leg in self.entries), ZERO) / Decimal(self.qty)

    @property
    def avg_exit_price(self) -> Decimal:
        return sum((leg.price * leg.qty for leg in self.exits), ZERO) / Decimal(self.qty)

    @property
    def risk(self) -> Decimal | None:
        """|average entry − stop| × quantity, or None without a stop (or at zero distance)."""
        if self.stop is None:
            return None
        risk = abs(sum((leg.price * leg.qty for leg in self.entries), ZERO)
                   - self.stop * Decimal(self.qty))
        return risk if risk > 0 else None

    @property
    def r_multiple(self) -> float | None:
        """Net P&L / risk, or None without a stop."""
        risk = self.risk
        return None if risk is None else float(self.net_pnl / risk)

    @property
    def mfe_value(self) -> float | None:
        return None if self.mfe is None else self.mfe * float(self.qty)

    @property
    def mae_value(self) -> float | None:
        return None if self.mae is None else self.mae * float(self.qty)

    def with_stop(self, stop: Decimal | int | float | str | None) -> RoundTrip:
        """This trip with its initial stop set (R follows). Raises ``ValueError`` for a
        non-positive stop."""
        return replace(self, stop=None if stop is None else _check_stop(stop))

    def with_excursions(self, high: npt.ArrayLike, low: npt.ArrayLike) -> RoundTrip:
        """This trip with MFE/MAE from the bars during it (see ``excursions``)."""
        mfe, mae = excursions(self.direction, float(self.avg_entry_price), high, low)
        return replace(self, mfe=mfe, mae=mae)


@dataclass(frozen=True, slots=True)
class OpenTrip:
    """A position still open after the last fill: its entries so far (FIFO lots left)."""

    symbol: str
    direction: Direction
    qty: int | Decimal
    entries: tuple[Leg, ...]
    exits: tuple[Leg, ...]
    realized_gross: Decimal
    fees: Decimal


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Closed round trips in exit-time order, and the positions left open."""

    trips: tuple[RoundTrip, ...]
    open: tuple[OpenTrip, ...]


def _check_stop(stop: object) -> Decimal:
    d = to_decimal(stop, "stop")
    if d <= 0:
        raise ValueError(f"stop must be a positive price, not {d}")
    return d


def _check_fill(f: Any, i: int) -> tuple[str, int | Decimal, Decimal, Decimal, int]:
    """(symbol, signed qty, price, fee, time) of fill ``i``, validated."""
    where = f"fill {i}"
    symbol = getattr(f, "symbol", None)
    if not isinstance(symbol, str) or not symbol.strip():
        raise ValueError(f"{where}: symbol must be a non-empty string")
    side = str(getattr(f, "side", "")).lower()
    if side not in ("buy", "sell"):
        raise ValueError(f"{where}: side must be 'buy' or 'sell', not {getattr(f, 'side', None)!r}")
    qty = getattr(f, "qty", None)
    if isinstance(qty, bool) or not isinstance(qty, (int, Decimal)):
        raise ValueError(f"{where}: quantity must be an int or Decimal, not {type(qty).__name__}")
    if (isinstance(qty, Decimal) and not qty.is_finite()) or qty <= 0:
        raise ValueError(f"{where}: quantity must be positive, not {qty}")
    price = to_decimal(getattr(f, "price", None), f"{where}: price")
    if price <= 0:
        raise ValueError(f"{where}: price must be positive, not {price}")
    fee = to_decimal(getattr(f, "fee", 0), f"{where}: fee")
    if fee < 0:
        raise ValueError(f"{where}: fee must be ≥ 0, not {fee}")
    t = getattr(f, "time_ms", None)
    if isinstance(t, bool) or not isinstance(t, int):
        raise ValueError(f"{where}: time_ms must be an int (epoch milliseconds)")
    return symbol, (qty if side == "buy" else -qty), price, fee, t


class _Book:
    """The open trip of one symbol while matching."""

    __slots__ = ("symbol", "pos", "lots", "entries", "exits", "gross", "fees", "stop")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.pos: int | Decimal = 0
        self.lots: deque[list[Any]] = deque()  # [remaining qty > 0, price]
        self.entries: list[Leg] = []
        self.exits: list[Leg] = []
        self.gross = ZERO
        self.fees = ZERO
        self.stop: Decimal | None = None

    def open_(self, qty: int | Decimal, price: Decimal, fee: Decimal, t: int, stop: Decimal | None) -> None:
        self.lots.append([qty, price])
        self.entries.append(Leg(t, qty, price, fee))
        self.fees += fee
        if self.stop is None and stop is not None:
            self.stop = stop

    def close(self, qty: int | Decimal, price: Decimal, fee: Decimal, t: int) -> None:
        long = self.pos > 0
        left = qty
        while left:
            lot = self.lots[0]
            take = min(lot[0], left)
            self.gross += ((price - lot[1]) if long else (lot[1] - price)) * take
            lot[0] -= take
            left -= take
            if not lot[0]:
                self.lots.popleft()
        self.exits.append(Leg(t, qty, price, fee))
        self.fees += fee
        self.pos = self.pos - qty if long else self.pos + qty

    def finish(self, long: bool) -> RoundTrip:
        """The closed trip; the book is flat and empty afterwards."""
        trip = RoundTrip(self.symbol, "long" if long else "short", tuple(self.entries),
                         tuple(self.exits), self.gross, self.fees, self.stop)
        self.lots.clear()
        self.entries, self.exits = [], []
        self.gross = self.fees = ZERO
        self.stop = None
        return trip


def match_round_trips(fills: Iterable[FillLike]) -> MatchResult:
    """FIFO round trips of ``fills`` (rules in the module docstring).

    Raises ``ValueError`` naming the first invalid fill.
    """
    rows: list[tuple[int, int, str, int | Decimal, Decimal, Decimal, Decimal | None]] = []
    for i, f in enumerate(fills):
        symbol, signed, price, fee, t = _check_fill(f, i)
        stop = getattr(f, "stop", None)
        rows.append((t, i, symbol, signed, price, fee, None if stop is None else _check_stop(stop)))
    rows.sort(key=lambda row: (row[0], row[1]))
    books: dict[str, _Book] = {}
    longs: dict[str, bool] = {}
    done: list[RoundTrip] = []
    for t, _, symbol, signed, price, fee, stop in rows:
        b = books.get(symbol)
        if b is None:
            b = books[symbol] = _Book(symbol)
        qty: int | Decimal = -signed if signed < 0 else signed
        if b.pos == 0 or (b.pos > 0) == (signed > 0):
            if b.pos == 0:
                longs[symbol] = signed > 0
            b.open_(qty, price, fee, t, stop)
            b.pos += signed
            continue
        held: int | Decimal = -b.pos if b.pos < 0 else b.pos
        closing: int | Decimal = qty if qty < held else held
        rest: int | Decimal = qty - closing
        close_fee = fee if not rest else (fee * Decimal(closing) / Decimal(qty)).quantize(CENT, ROUND_HALF_EVEN)
        b.close(closing, price, close_fee, t)
        if b.pos == 0:
            done.append(b.finish(longs[symbol]))
            if rest:
                longs[symbol] = signed > 0
                b.open_(rest, price, fee - close_fee, t, stop)
                b.pos = rest if signed > 0 else -rest
    done.sort(key=lambda trip: trip.exit_time_ms)  # stable: same-time exits keep fill order
    still = tuple(OpenTrip(b.symbol, "long" if b.pos > 0 else "short", -b.pos if b.pos < 0 else b.pos,
                           tuple(b.entries),
                           tuple(b.exits), b.gross, b.fees)
                  for b in books.values() if b.pos)
    return MatchResult(tuple(done), still)


def excursions(direction: Direction, entry_price: float, high: npt.ArrayLike,
               low: npt.ArrayLike) -> tuple[float, float]:
    """(MFE, MAE) per share of a trade from the highs and lows of the bars during it.

    Long: MFE = max(high) − entry, MAE = entry − min(low); short mirrored. Both clipped at
    0 (a trade that never went against you has MAE 0). Raises ``ValueError`` for empty,
    unequal or non-finite arrays, or a high below its low.
    """
    h = np.asarray(high, dtype=np.float64)
    lo = np.asarray(low, dtype=np.float64)
    if h.ndim != 1 or h.shape != lo.shape or h.size == 0:
        raise ValueError("high and low must be non-empty one-dimensional arrays of equal length")
    if not (np.isfinite(h).all() and np.isfinite(lo).all()):
        raise ValueError("high and low must be finite")
    if (h < lo).any():
        raise ValueError(f"bar {int(np.flatnonzero(h < lo)[0])} has its high below its low")
    if not (math.isfinite(entry_price) and entry_price > 0):
        raise ValueError(f"entry price must be a positive number, not {entry_price}")
    if direction == "long":
        fav, adv = float(h.max()) - entry_price, entry_price - float(lo.min())
    elif direction == "short":
        fav, adv = entry_price - float(lo.min()), float(h.max()) - entry_price
    else:
        raise ValueError(f"direction must be 'long' or 'short', not {direction!r}")
    return max(fav, 0.0), max(adv, 0.0)


def round_trips(fills: Sequence[FillLike]) -> tuple[RoundTrip, ...]:
    """Only the closed round trips of ``match_round_trips``."""
    return match_round_trips(fills).trips
