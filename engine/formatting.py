"""How numbers are written for people (tables, dialogs, axes, messages, the CLI) and for
files. Qt-free; every function takes ``Decimal``, ``int`` or ``float`` (numpy scalars too).

The conventions, one per kind of number:

* **missing** — ``None``, NaN and ±infinity are ``—`` in every function except ``money``
  (a message must never fail to format, and has always said ``nan`` there) and ``plain``
  (an empty CSV field).
* **money** — the sign before the currency symbol: ``-$2,371.14``, never ``$-2,371.14``;
  thousands separated, two decimals, rounded to the cent (half to even) so a value that
  rounds to zero is ``$0.00`` without a sign; ``signed=True`` adds ``+``.
* **price** — thousands separated, two decimals: ``1,234.50``. More only where they carry
  information: a price below $1 shows up to four (``0.1235``, ``0.50``), and an exact
  ``Decimal`` price (an order's limit) shows its sub-cent digits up to four (``101.2345``).
  A float price of $1 or more is rounded to the cent (bar data has no meaningful sub-cents).
  ``grouping=False`` drops the separators for text a user edits (``100.00``, never ``1E+2``).
* **quantity** — whole shares with separators (``1,500``); fractional quantities keep up
  to four decimals (``0.5``, ``12.3457``).
* **percent** — the value is in percent already (``1.5`` means 1.5 %); signed, two
  decimals: ``+1.50%``, ``-0.25%``; a value that rounds to zero is ``0.00%``.
* **volume** — below 10,000 whole with separators (``9,999``); from 10,000 up always compact
  with two decimals, rounded half up: ``396.47K``, ``1.53M``, ``2.10B``, ``1.00T`` (so one column
  never mixes ``1.53M`` and ``396,465``); 999,999 is ``1.00M``, never ``1000.00K``.
* **number** — any other value (a formula column): like a price (two decimals, four below 1),
  compact like volume from one million up (``12.35M``), ``0`` for zero.
* **axis ticks** — ``tick(value, spacing)``: thousands separated with as many decimals as the
  tick spacing needs (``100,150``, ``1,234.5``, ``0.025``); ``compact_tick`` for a volume axis
  (``1.5M``, ``250K``, no padding zeros).
* **files** — ``plain(value)``: full precision, no separators, no exponent
  (``0.00001``, ``15000000000000000``, ``123.456789``), ``Decimal`` exactly as stored; the CSV
  export of every table writes numbers this way.
* **times** — ``timestamp(epoch_seconds)`` is local ``YYYY-MM-DD HH:MM:SS``; ``date_text`` the day.
"""
from __future__ import annotations

import datetime as _dt
import math
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

MISSING = "—"
_CENT = Decimal("0.01")
_UNITS = (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3))

Number = Decimal | int | float


def _decimal(value: Any) -> Decimal | None:
    """``value`` as a finite Decimal, or None when it is missing (None, NaN, ±inf, not a number)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(f):
        return None
    return Decimal(repr(f))  # the shortest text that round-trips: 0.1 + 0.2 is 0.30000000000000004


def _float(value: Any) -> float | None:
    d = _decimal(value)
    return None if d is None else float(d)


def _quantize(d: Decimal, places: int) -> Decimal:
    # enough digits for any magnitude (the default 28 would fail on 1e30)
    return d.quantize(Decimal(1).scaleb(-places), context=Context(prec=max(28, d.adjusted() + places + 2),
                                                                    rounding=ROUND_HALF_EVEN))


def _fixed(d: Decimal, places: int, grouping: bool = True) -> str:
    q = _quantize(d, places)
    if q == 0:
        q = abs(q)  # never "-0.00"
    return f"{q:,.{places}f}" if grouping else f"{q:.{places}f}"


def money(value: Decimal | int | float | None, signed: bool = False) -> str:
    """``value`` in dollars: ``$1,234.56``, ``-$2,371.14``; with ``signed`` also ``+$1,234.56``.

    Rounds to the cent (half to even, as ``format`` does), so a value that rounds to zero
    is ``$0.00`` without a sign. ``None`` is ``—``; a non-finite float or Decimal is
    written as ``nan``, ``inf`` or ``-inf`` (a message must never fail to format).
    """
    if value is None:
        return MISSING
    d = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    if not d.is_finite():
        return "nan" if d.is_nan() else ("-inf" if d < 0 else "inf")
    cents = _quantize(d, 2)
    sign = "-" if cents < 0 else ("+" if signed and cents > 0 else "")
    return f"{sign}${abs(cents):,.2f}"


def price(value: Number | None, *, grouping: bool = True) -> str:
    """A price: ``1,234.50``; up to 4 decimals below $1 (``0.1235``) or for an exact Decimal
    with sub-cent digits (``101.2345``); ``—`` when missing. ``grouping=False`` for text a user
    edits (``1234.50``). Never scientific notation (``Decimal("1E+2")`` is ``100.00``)."""
    d = _decimal(value)
    if d is None:
        return MISSING
    exact_subcent = isinstance(value, Decimal) and d != _quantize(d, 2)
    if abs(d) >= 1 and not exact_subcent:
        return _fixed(d, 2, grouping)
    text = _fixed(d, 4, grouping)
    head, _, tail = text.partition(".")
    tail = tail.rstrip("0").ljust(2, "0")
    return f"{head}.{tail}"


def quantity(value: Number | None) -> str:
    """Shares or contracts: ``1,500``; a fractional quantity keeps up to 4 decimals (``0.5``)."""
    d = _decimal(value)
    if d is None:
        return MISSING
    q = _quantize(d, 4)
    if q == q.to_integral_value():
        return f"{abs(q) if q == 0 else q:,.0f}"
    head, _, tail = f"{q:,.4f}".partition(".")
    return f"{head}.{tail.rstrip('0')}"


def percent(value: Number | None, *, signed: bool = True, places: int = 2) -> str:
    """A value already in percent: ``+1.50%``, ``-0.25%`` (``signed=False``: ``1.50%``);
    ``0.00%`` when it rounds to zero; ``—`` when missing."""
    d = _decimal(value)
    if d is None:
        return MISSING
    q = _quantize(d, places)
    sign = "-" if q < 0 else ("+" if signed and q > 0 else "")
    return f"{sign}{abs(q):,.{places}f}%"


def _compact(f: float, places: int) -> str | None:
    """``f`` with the largest unit it reaches after rounding half up (999,999 is ``1.00M``,
    396,465 is ``396.47K``), or None below 1,000."""
    d = Decimal(repr(float(f)))
    a = abs(d)
    step = Decimal(1).scaleb(-places)
    for i, (unit, div) in enumerate(_UNITS):
        if a >= int(div):
            scaled = (a / Decimal(int(div))).quantize(step, rounding=ROUND_HALF_UP)
            if scaled >= 1000 and i > 0:  # 999,995 rounds to 1000.00K: say 1.00M
                unit, div = _UNITS[i - 1]
                scaled = (a / Decimal(int(div))).quantize(step, rounding=ROUND_HALF_UP)
            sign = "-" if d < 0 else ""
            return f"{sign}{scaled:,.{places}f}{unit}"
    return None


def volume(value: Number | None) -> str:
    """Traded volume: ``9,999`` below 10,000, then ``396.47K``, ``1.53M``, ``2.10B``; ``—`` when missing."""
    f = _float(value)
    if f is None:
        return MISSING
    if abs(f) < 10_000:
        return f"{round(f) or 0:,.0f}"
    return _compact(f, 2) or f"{f:,.0f}"


def number(value: Number | None) -> str:
    """Any other value (a formula column): ``1,234.57``, ``0.1235`` below 1, ``0`` for zero,
    ``12.35M`` from a million up; ``—`` when missing."""
    d = _decimal(value)
    if d is None:
        return MISSING
    if d == 0:
        return "0"
    if abs(d) >= 1_000_000:
        return _compact(float(d), 2) or _fixed(d, 2)
    return _fixed(d, 2 if abs(d) >= 1 else 4)


def tick(value: float, spacing: float) -> str:
    """An axis label: thousands separated with the decimals ``spacing`` needs
    (``tick(100150, 50)`` is ``100,150``; ``tick(12.5, 0.5)`` is ``12.5``); ``""`` when not finite."""
    if not math.isfinite(value):
        return ""
    places = 0
    if math.isfinite(spacing) and 0 < spacing < 1:
        places = min(8, max(0, -math.floor(math.log10(spacing) + 1e-9)))
    text = f"{value:,.{places}f}"
    return "0" if text.lstrip("-").strip("0.,") == "" else text


def compact_tick(value: float) -> str:
    """A volume-axis label without padding zeros: ``250K``, ``1.5M``, ``3B``, ``900``."""
    if not math.isfinite(value):
        return ""
    a = abs(value)
    for unit, div in _UNITS:
        if a >= div:
            return f"{value / div:.3g}{unit}"
    return f"{value:.3g}"


def plain(value: Any) -> str:
    """A number for a file: full precision, no separators, no exponent (``0.00001``,
    ``15000000000000000``); a Decimal exactly as stored; ``""`` when missing; booleans as
    ``true``/``false``; anything else as ``str(value)``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (Decimal, int, float)) or hasattr(value, "__float__"):
        d = _decimal(value)
        if d is None:
            return ""
        try:
            text = f"{d:f}"
        except (InvalidOperation, ValueError):
            return str(value)
        if "." in text and not isinstance(value, Decimal):
            text = text.rstrip("0").rstrip(".")
        return text
    return str(value)


def timestamp(seconds: float | None) -> str:
    """Epoch seconds as local ``YYYY-MM-DD HH:MM:SS``; ``—`` when missing."""
    f = _float(seconds)
    if f is None:
        return MISSING
    return _dt.datetime.fromtimestamp(f).strftime("%Y-%m-%d %H:%M:%S")


def date_text(seconds: float | None) -> str:
    """Epoch seconds as the UTC day ``YYYY-MM-DD`` (daily bars are stamped at midnight UTC); ``—`` when missing."""
    f = _float(seconds)
    if f is None:
        return MISSING
    return _dt.datetime.fromtimestamp(f, _dt.timezone.utc).strftime("%Y-%m-%d")
