"""Exact money for the paper ledger.

Rounding rule (one place, used everywhere in ``engine/paper``):

* **Prices** are ``Decimal`` quantized to ``PRICE_QUANTUM`` (1e-6, the precision of
  Yahoo's CSVs, so a bar's open is used exactly as the data gives it). A price we *derive*
  (slippage, a percent trailing stop, an impact model) is rounded **against the trader**:
  up for what a buyer pays, down for what a seller receives. Paper fills may be harder than
  live, never easier.
* **Quantities** are whole shares (``int``).
* **Notional** (price × quantity) is exact: both factors are exact, so cash never drifts.
* **Fees** (commissions) are rounded **up** to the cent (``CENT``): a broker never
  charges a fraction of a cent in your favour.
* Floats appear only inside vectorised signal computation and in analytics (metrics,
  equity curves for charts), never in the ledger.
"""
from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation

PRICE_QUANTUM = Decimal("0.000001")
CENT = Decimal("0.01")
ZERO = Decimal(0)

_cache: dict[float, Decimal] = {}


def to_price(x: float | int | str | Decimal) -> Decimal:
    """``x`` as an exact price quantized to 1e-6 (half-even: a data value, not derived).

    Raises ``ValueError`` for NaN, infinity or a non-positive price.
    """
    if isinstance(x, float):
        d = _cache.get(x)
        if d is not None:
            return d
        if x != x or x in (float("inf"), float("-inf")):
            raise ValueError(f"price must be a finite number, not {x!r}")
        d = Decimal(x).quantize(PRICE_QUANTUM, ROUND_HALF_EVEN)
        if len(_cache) > 200_000:
            _cache.clear()
        _cache[x] = d
    else:
        d = x if isinstance(x, Decimal) else _decimal(x, "price")
        if not d.is_finite():
            raise ValueError(f"price must be a finite number, not {x!r}")
        d = d.quantize(PRICE_QUANTUM, ROUND_HALF_EVEN)
    if d <= 0:
        raise ValueError(f"price must be positive, not {x!r}")
    return d


def price_against(x: Decimal, buy: bool) -> Decimal:
    """A derived price rounded against the trader: up for a buy, down for a sell."""
    return x.quantize(PRICE_QUANTUM, ROUND_CEILING if buy else ROUND_FLOOR)


def fee_cents(x: Decimal) -> Decimal:
    """A fee rounded up to the cent."""
    return x.quantize(CENT, ROUND_CEILING)


def to_money(x: float | int | str | Decimal) -> Decimal:
    """A cash amount given by the user (initial cash, deposit) as an exact Decimal in cents.

    Raises ``ValueError`` if it is not a finite number or has fractions of a cent.
    """
    d = x if isinstance(x, Decimal) else _decimal(x, "amount")
    if not d.is_finite():
        raise ValueError(f"amount must be a finite number, not {x!r}")
    if d != d.quantize(CENT):
        raise ValueError(f"amount {x} has fractions of a cent")
    return d.quantize(CENT)


def _decimal(x: object, what: str) -> Decimal:
    try:
        return Decimal(str(x).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{what} {x!r} is not a number") from None
