"""Option expiry in a paper account: exercise, assignment, cash settlement, worthless expiry.

At the close of an option's expiry day (the session close of that date on the market
calendar, ``engine.market.calendar``; a date that is no session closes with the session
before it) every open contract is settled against the underlying's **closing price** that day:

* in the money by $0.01 or more (call: close − strike ≥ 0.01; put: strike − close ≥ 0.01):
  - physically settled (shares, ETFs): a long contract is **exercised** (a call buys, a put
    sells 100 shares per contract at the strike), a short one is **assigned** (a call sells,
    a put buys 100 shares at the strike); the option closes at 0;
  - cash-settled (index roots, ``engine.paper.contracts.INDEX_ROOTS``): the option closes at
    its intrinsic value (close − strike for a call, strike − close for a put), in cash;
* otherwise (less than $0.01 in the money, at or out of the money) it **expires worthless**:
  closes at 0.

Early assignment is not simulated: a short American option is assigned only at expiry. No
commission is charged on exercise, assignment or expiry. Working orders in an expired
contract are cancelled.

Each settlement is an order of its own (tag ``expiry: …``, filled at once), so it is in the
order history, the fills and the ledger like any trade. One account's settlements are one
store transaction: a crash leaves all or none of them; settling is idempotent (a settled
contract has no position left, so a second run finds nothing) and runs on start-up for
expiries passed while the app was closed, and in the session after each close.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from engine.paper.contracts import MULTIPLIER, OptionContract, option_contract
from engine.paper.money import ZERO
from engine.paper.orders import (
    Fill,
    OrderAccepted,
    OrderFilled,
    OrderSubmitted,
    OrderType,
    Role,
    Side,
    TimeInForce,
)

if TYPE_CHECKING:
    from engine.paper.account import PaperAccount

#: a contract at least this far in the money is exercised / assigned
ITM_THRESHOLD = Decimal("0.01")

#: (underlying symbol, expiry date) → the underlying's close that day, or None when unknown
CloseOf = Callable[[str, _dt.date], "Decimal | None"]

_closes: dict[_dt.date, int] = {}


def expiry_close_ms(expiry: _dt.date) -> int:
    """Epoch ms of the close of ``expiry``'s session (the session before it when the date is no
    session, e.g. a Good Friday expiry moved to Thursday). Raises ``ValueError`` outside the
    calendar's range."""
    hit = _closes.get(expiry)
    if hit is not None:
        return hit
    from engine.market.calendar import get_calendar

    cal = get_calendar()
    d = expiry
    for _ in range(10):
        if cal.is_session(d):
            break
        d -= _dt.timedelta(days=1)
    ms = int(cal.open_close(d)[1]) * 1000
    _closes[expiry] = ms
    return ms


@dataclass(frozen=True, slots=True)
class Settlement:
    """What happened to one position at expiry: ``action`` is ``exercised``, ``assigned``,
    ``cash-settled`` or ``expired worthless``; ``close`` the underlying's close used."""

    symbol: str
    qty: int
    action: str
    close: Decimal
    fills: tuple[Fill, ...]


def due(acct: PaperAccount, now_ms: int) -> list[OptionContract]:
    """Open option positions of ``acct`` whose expiry close is at or before ``now_ms``."""
    out = []
    for s, p in acct.ledger.positions.items():
        if not p.qty or p.mult == 1:
            continue
        c = option_contract(s)
        if c is None:
            continue
        try:
            if expiry_close_ms(c.expiry) <= now_ms:
                out.append(c)
        except ValueError:
            continue
    return out


def settle(acct: PaperAccount, now_ms: int, close_of: CloseOf) -> tuple[list[Settlement], list[str]]:
    """Settle every due contract (see the module docstring); returns the settlements and the
    contracts left for later because ``close_of`` knows no close (one sentence each). Call
    inside the account's ``_call`` (``PaperAccount.settle_expiries``)."""
    out: list[Settlement] = []
    waiting: list[str] = []
    for c in sorted(due(acct, now_ms), key=lambda c: (c.expiry, c.symbol)):
        close = close_of(c.underlying, c.expiry)
        if close is None:
            waiting.append(f"{c.describe()}: no close of {c.underlying} on {c.expiry.isoformat()} yet, "
                           "settled when it is known")
            continue
        at = expiry_close_ms(c.expiry)
        t = max(at, 0)
        for o in list(acct._working.get(c.symbol, ())):
            if o.is_working:
                acct._cancel(o, t, f"{c.describe()} expired")
        qty = acct.ledger.qty(c.symbol)
        intrinsic = c.intrinsic(close)
        itm = intrinsic >= ITM_THRESHOLD
        fills: list[Fill] = []
        close_side = Side.SELL if qty > 0 else Side.BUY
        if itm and c.cash_settled:
            action = "cash-settled"
            fills.append(_book(acct, c.symbol, close_side, abs(qty), intrinsic, t, f"expiry: {action} at {close}"))
        elif itm:
            action = "exercised" if qty > 0 else "assigned"
            fills.append(_book(acct, c.symbol, close_side, abs(qty), ZERO, t, f"expiry: {action} at {close}"))
            # long call / short put take shares; long put / short call deliver them
            buys = (qty > 0) == c.is_call
            fills.append(_book(acct, c.underlying, Side.BUY if buys else Side.SELL, abs(qty) * MULTIPLIER, c.strike, t,
                               f"expiry: {c.symbol} {action}"))
        else:
            action = "expired worthless"
            fills.append(_book(acct, c.symbol, close_side, abs(qty), ZERO, t, f"expiry: {action} at {close}"))
        acct.prices.setdefault(c.underlying, close)
        acct.prices.pop(c.symbol, None)
        out.append(Settlement(c.symbol, qty, action, close, tuple(fills)))
    return out, waiting


def _book(acct: PaperAccount, symbol: str, side: Side, qty: int, price: Decimal, t: int, tag: str) -> Fill:
    oid = acct.ids.order_id()
    o = acct._new_order(OrderSubmitted(oid, t, acct.name, symbol, side, qty, OrderType.MARKET, TimeInForce.GTC,
                                       None, None, None, None, None, None, Role.SINGLE, t, tag))
    acct._emit(o, OrderAccepted(oid, t))
    fill = Fill(acct.ids.fill_id(), oid, acct.name, symbol, side, qty, price, ZERO, t)
    acct._emit(o, OrderFilled(oid, t, fill=fill, leaves_qty=0))
    acct.ledger.apply(fill)
    acct.fill_log.append(fill)
    if acct._record:
        acct._fills.append(fill)
    return fill


__all__ = ["CloseOf", "ITM_THRESHOLD", "Settlement", "due", "expiry_close_ms", "settle"]
