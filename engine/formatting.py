"""How amounts are written for people (messages, tables, the CLI). Qt-free.

One rule for money everywhere: the sign goes before the currency symbol
(``-$2,371.14``, never ``$-2,371.14``), thousands are separated, two decimals.
"""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal

_CENT = Decimal("0.01")


def money(value: Decimal | int | float | None, signed: bool = False) -> str:
    """``value`` in dollars: ``$1,234.56``, ``-$2,371.14``; with ``signed`` also ``+$1,234.56``.

    Rounds to the cent (half to even, as ``format`` does), so a value that rounds to zero
    is ``$0.00`` without a sign. ``None`` is ``—``; a non-finite float or Decimal is
    written as ``nan``, ``inf`` or ``-inf`` (a message must never fail to format).
    """
    if value is None:
        return "—"
    d = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    if not d.is_finite():
        return "nan" if d.is_nan() else ("-inf" if d < 0 else "inf")
    # enough digits for any magnitude (the default 28 would fail on 1e30)
    cents = d.quantize(_CENT, context=Context(prec=max(28, d.adjusted() + 4), rounding=ROUND_HALF_EVEN))
    sign = "-" if cents < 0 else ("+" if signed and cents > 0 else "")
    return f"{sign}${abs(cents):,.2f}"
