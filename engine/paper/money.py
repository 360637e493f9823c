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

import operator
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation

from engine.paper.errors import InvalidValue

PRICE_QUANTUM = Decimal("0.000001")
CENT = Decimal("0.01")
ZERO = Decimal(0)

# Sane magnitudes. They also keep every ledger figure exact inside Decimal's default 28
# significant digits: a notional below 1e19 with 6 decimals is 25 digits, cash below 1e13
# with cents 15 — so qty × price, cash ± notional and fees never round and never overflow.
MAX_PRICE = Decimal(10**9)  # per share, exclusive
MAX_QTY = 10**10  # shares, exclusive
MAX_CASH = Decimal(10**13)  # dollars, exclusive

_cache: dict[float, Decimal] = {}


def show(x: object) -> str:
    """``repr(x)`` cut to 40 characters, for error messages (safe for any object)."""
    try:
        r = repr(x)
    except Exception:  # noqa: BLE001 - e.g. an int too long to print
        r = f"<{type(x).__name__}>"
    return r if len(r) <= 40 else r[:37] + "..."


def to_price(x: float | int | str | Decimal, what: str = "price") -> Decimal:
    """``x`` as an exact price quantized to 1e-6 (half-even: a data value, not derived).

    A float is taken at its exact binary value and then rounded to 1e-6 (so ``44.5`` is
    ``Decimal("44.500000")`` and ``0.1`` is ``Decimal("0.100000")``). Raises
    ``InvalidValue`` (a ``ValueError``) for anything that is not a number (bool, None, a
    non-numeric string), NaN or infinity, a non-positive price, or one of ``MAX_PRICE``
    or more; ``what`` names the value in the message.
    """
    if isinstance(x, float):
        d = _cache.get(x)
        if d is not None:
            return d
        if x != x or x in (float("inf"), float("-inf")):
            raise InvalidValue(f"{what} must be a finite number, not {show(x)}")
        if not (-1e15 < x < 1e15):
            raise InvalidValue(f"{what} {x:g} is too large (it must be below {MAX_PRICE:,})")
        d = Decimal(x).quantize(PRICE_QUANTUM, ROUND_HALF_EVEN)
        _check_price(d, x, what)
        if len(_cache) > 200_000:
            _cache.clear()
        _cache[x] = d
        return d
    d = _finite(x, what)
    if abs(d) >= MAX_PRICE:
        raise InvalidValue(f"{what} {show(x)} is too large (it must be below {MAX_PRICE:,})")
    d = d.quantize(PRICE_QUANTUM, ROUND_HALF_EVEN)
    _check_price(d, x, what)
    return d


def _check_price(d: Decimal, x: object, what: str) -> None:
    if d <= 0:
        raise InvalidValue(f"{what} must be positive, not {show(x)}")
    if d >= MAX_PRICE:
        raise InvalidValue(f"{what} {show(x)} is too large (it must be below {MAX_PRICE:,})")


def to_qty(x: object, what: str = "quantity") -> int:
    """``x`` as a whole number of shares, 0 < qty < ``MAX_QTY``.

    Accepts ``int`` (and numpy integers); refuses bools, floats (``5.0`` too: a fraction
    would be silently lost), strings and None with ``InvalidValue``.
    """
    if isinstance(x, bool) or isinstance(x, float) or isinstance(x, Decimal) or isinstance(x, str):
        raise InvalidValue(f"{what} must be a whole number of shares, not {show(x)}")
    try:
        q = operator.index(x)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidValue(f"{what} must be a whole number of shares, not {show(x)}") from None
    if q <= 0:
        raise InvalidValue(f"{what} must be a positive whole number of shares, not {show(x)}")
    if q >= MAX_QTY:
        raise InvalidValue(f"{what} {show(x)} is too large (it must be below {MAX_QTY:,} shares)")
    return q


def to_number(x: object, what: str, low: Decimal, high: Decimal) -> Decimal:
    """``x`` (Decimal, int, float or numeric string) as a Decimal with low < value < high.

    Floats are taken at their shortest decimal form (``2.5`` → ``Decimal("2.5")``).
    Raises ``InvalidValue``.
    """
    d = _finite(x, what)
    if not (low < d < high):
        raise InvalidValue(f"{what} must be between {low} and {high} (exclusive), not {show(x)}")
    return d


def _finite(x: object, what: str) -> Decimal:
    """``x`` as a finite Decimal (no range check); raises ``InvalidValue``."""
    if isinstance(x, Decimal):
        d = x
    elif isinstance(x, bool) or x is None:
        raise InvalidValue(f"{what} must be a number, not {show(x)}")
    elif isinstance(x, float):
        if x != x or x in (float("inf"), float("-inf")):
            raise InvalidValue(f"{what} must be a finite number, not {show(x)}")
        d = Decimal(repr(x))
    elif isinstance(x, int):
        if abs(x) >= 10**30:
            raise InvalidValue(f"{what} {show(x)} is far too large")
        d = Decimal(x)
    elif isinstance(x, str):
        if len(x) > 60:
            raise InvalidValue(f"{what} {show(x)} is not a number")
        d = _decimal(x, what)
    else:
        try:
            d = Decimal(operator.index(x))  # type: ignore[arg-type]  # numpy integers
        except TypeError:
            try:
                d = _decimal(float(x), what)  # type: ignore[arg-type]  # numpy floats
            except (TypeError, ValueError, OverflowError):
                raise InvalidValue(f"{what} must be a number, not {show(x)}") from None
    if not d.is_finite():
        raise InvalidValue(f"{what} must be a finite number, not {show(x)}")
    if d.adjusted() > 30:
        raise InvalidValue(f"{what} {show(x)} is far too large")
    return d


def price_against(x: Decimal, buy: bool) -> Decimal:
    """A derived price rounded against the trader: up for a buy, down for a sell."""
    return x.quantize(PRICE_QUANTUM, ROUND_CEILING if buy else ROUND_FLOOR)


def fee_cents(x: Decimal) -> Decimal:
    """A fee rounded up to the cent."""
    return x.quantize(CENT, ROUND_CEILING)


def to_money(x: float | int | str | Decimal, what: str = "amount") -> Decimal:
    """A cash amount given by the user (initial cash, deposit) as an exact Decimal in cents.

    Raises ``InvalidValue`` if it is not a finite number, has fractions of a cent, or its
    size is ``MAX_CASH`` or more.
    """
    d = _finite(x, what)
    if abs(d) >= MAX_CASH:
        raise InvalidValue(f"{what} {show(x)} is too large (it must be below {MAX_CASH:,})")
    if d != d.quantize(CENT):
        raise InvalidValue(f"{what} {show(x)} has fractions of a cent")
    return d.quantize(CENT)


def _decimal(x: object, what: str) -> Decimal:
    try:
        return Decimal(str(x).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise InvalidValue(f"{what} {show(x)} is not a number") from None
