"""What a paper symbol is: a share or an option contract (OCC symbol), and its multiplier.

The paper broker trades two kinds of instrument under one ``symbol`` field: shares (``AAPL``)
and US listed option contracts named by their OCC symbol. An OCC symbol is the root (1-6
letters/digits), the expiry ``YYMMDD``, ``C`` or ``P`` and the strike × 1000 in 8 digits; it may
be written padded (``"AAPL  261218C00200000"``, the 21-character OCC form) or compact
(``"AAPL261218C00200000"``, Yahoo's ``contractSymbol``). The broker keeps the **compact** form
(a ticker has no blanks: ``engine.paper.orders.to_symbol`` turns a padded one into it).

One contract is ``MULTIPLIER`` (100) shares of the underlying: quantities of options are
contracts, prices are per share (the quoted premium), and cash moves by qty × price × 100.

Index options are **cash-settled** (European, settled in cash at expiry for the intrinsic
value); everything else is physically settled into shares. An underlying is taken for an
index when its root is in ``INDEX_ROOTS`` (the listed index option roots of Cboe: SPX/SPXW,
NDX/NDXP, RUT/MRUT, VIX/VIXW, XSP, DJX, OEX/XEO) — a small fixed list, stated in the README.
This module imports only the standard library (the broker loads it on every order).
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from decimal import Decimal

MULTIPLIER = 100

#: Roots of cash-settled index options (Cboe). Anything else settles into shares.
INDEX_ROOTS = frozenset({"SPX", "SPXW", "NDX", "NDXP", "RUT", "MRUT", "VIX", "VIXW", "XSP", "DJX", "OEX", "XEO"})

#: Where an index option's underlying price comes from (the index itself: ``^SPX`` on Yahoo).
INDEX_UNDERLYING = {"SPXW": "SPX", "NDXP": "NDX", "MRUT": "RUT", "VIXW": "VIX", "XEO": "OEX"}

_OCC = re.compile(r"^([A-Z0-9.]{1,6})\s*(\d{2})(\d{2})(\d{2})([CP])(\d{8})$")


@dataclass(frozen=True, slots=True)
class OptionContract:
    """A parsed option symbol: ``symbol`` (compact OCC), root, expiry, kind ("call"/"put"),
    exact ``strike`` (dollars)."""

    symbol: str
    root: str
    expiry: _dt.date
    kind: str
    strike: Decimal

    @property
    def is_call(self) -> bool:
        return self.kind == "call"

    @property
    def underlying(self) -> str:
        """The symbol whose price decides the option (the root; an index weekly's index)."""
        return INDEX_UNDERLYING.get(self.root, self.root)

    @property
    def cash_settled(self) -> bool:
        return self.root in INDEX_ROOTS

    def intrinsic(self, spot: Decimal) -> Decimal:
        """Intrinsic value per share at underlying price ``spot`` (≥ 0)."""
        v = spot - self.strike if self.is_call else self.strike - spot
        return v if v > 0 else Decimal(0)

    def describe(self) -> str:
        """``AAPL 2026-12-18 200 call``."""
        k = format(self.strike.normalize(), "f")
        return f"{self.root} {self.expiry.isoformat()} {k} {self.kind}"


_cache: dict[str, OptionContract | None] = {}


def option_contract(symbol: object) -> OptionContract | None:
    """The contract named by ``symbol`` (padded or compact OCC, any case), or None when it is
    not an OCC option symbol (a share's ticker)."""
    if not isinstance(symbol, str):
        return None
    hit = _cache.get(symbol, False)
    if hit is not False:
        return hit  # type: ignore[return-value]
    m = _OCC.match(symbol.strip().upper())
    out: OptionContract | None = None
    if m is not None:
        root, yy, mm, dd, cp, strike = m.groups()
        try:
            expiry = _dt.date(2000 + int(yy), int(mm), int(dd))
        except ValueError:
            expiry = None
        if expiry is not None and int(strike) > 0:
            compact = f"{root}{yy}{mm}{dd}{cp}{strike}"
            out = OptionContract(compact, root, expiry, "call" if cp == "C" else "put",
                                 Decimal(int(strike)) / 1000)
    if len(_cache) > 50_000:
        _cache.clear()
    _cache[symbol] = out
    return out


def is_option(symbol: object) -> bool:
    """True when ``symbol`` is an OCC option symbol."""
    return option_contract(symbol) is not None


def multiplier(symbol: str) -> int:
    """Shares per unit of ``symbol``: 100 for an option contract, 1 for a share."""
    return MULTIPLIER if option_contract(symbol) is not None else 1


def compact_symbol(symbol: str) -> str:
    """An OCC symbol in the broker's compact form (other symbols unchanged)."""
    c = option_contract(symbol)
    return c.symbol if c is not None else symbol


__all__ = ["INDEX_ROOTS", "INDEX_UNDERLYING", "MULTIPLIER", "OptionContract", "compact_symbol", "is_option",
           "multiplier", "option_contract"]
