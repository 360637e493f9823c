"""Quotes and Greeks for option contracts, from the options feature's chains.

``OptionQuotes`` wraps the session's quote source (``engine.paper.feed``): share symbols go to
it unchanged; an OCC symbol is quoted from its underlying's chain (``chain_of(root)``, e.g.
``ChainService.get(root).chain``):

* a **demo** chain (``source == "demo"``) is priced off the demo surface at the underlying's
  *live* demo quote: the contract's chain IV (the surface's vol at that strike) in the
  American model (``engine.options.american``) at the underlying's mid now and the time left
  now, with the chain's bid/ask width around it, rounded out to the tick (bid down, ask up);
* a **Yahoo** chain (cached in the store, delayed) gives its bid and ask as they are.

No price is invented: a far wing may be quoted with no bid (0: it can be bought at its ask,
not sold at market). A contract not in the chain, expired, without an ask, with a flagged
(crossed, missing) quote, without an IV to price from (demo), or whose underlying has
no quote, gets no quote — and ``no_quote_reason`` says which (the session refuses orders
with it). ``greeks(symbol)`` gives delta, gamma, theta (per calendar day) and vega (per vol
point) per share at the latest quote's spot and IV, for the Positions blotter.
"""
from __future__ import annotations

import datetime as _dt
import math
import threading
import time
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

from engine.paper.contracts import option_contract
from engine.paper.money import to_price
from engine.paper.orders import Quote

if TYPE_CHECKING:
    from engine.options.chain import OptionChain
    from engine.paper.feed import QuoteSource

_NEW_YORK_OFFSET_DAYS = 365.0
_PENNY = Decimal("0.01")
_NICKEL = Decimal("0.05")


def _tick(p: float) -> Decimal:
    return _PENNY if p < 3.0 else _NICKEL


def _round(x: float, tick: Decimal, up: bool) -> Decimal:
    d = Decimal(repr(x)) / tick
    return d.to_integral_value(ROUND_CEILING if up else ROUND_FLOOR) * tick


class OptionQuotes:
    """A ``QuoteSource`` for shares (``base``) and option contracts (chains; see the module
    docstring). ``chain_of(root)`` returns the root's chain or raises ``ValueError``/
    ``LookupError``-like errors with a sentence; chains are kept ``ttl_s`` seconds."""

    def __init__(self, base: QuoteSource, chain_of: Callable[[str], OptionChain], *, ttl_s: float = 60.0,
                 clock: Callable[[], float] | None = None) -> None:
        self.base = base
        self.chain_of = chain_of
        self.ttl_s = ttl_s
        self.clock = clock or time.time
        self._chains: dict[str, tuple[float, OptionChain | None, str]] = {}
        self._why: dict[str, str] = {}
        self._greeks: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    # -- the QuoteSource protocol (label, description delegate to the base) --------------
    @property
    def label(self) -> str:
        return str(getattr(self.base, "label", "quotes"))

    @property
    def description(self) -> str:
        return str(getattr(self.base, "description", self.label)) + (
            " Option contracts are quoted from their underlying's chain (demo: priced off the demo "
            "surface at the underlying's live quote; Yahoo: the cached delayed bid/ask).")

    def stale_reason(self, symbol: str) -> str:
        fn = getattr(self.base, "stale_reason", None)
        c = option_contract(symbol)
        sym = c.underlying if c is not None else symbol
        return str(fn(sym)) if fn is not None else ""

    def no_quote_reason(self, symbol: str) -> str:
        c = option_contract(symbol)
        if c is None:
            fn = getattr(self.base, "no_quote_reason", None)
            return str(fn(symbol)) if fn is not None else ""
        with self._lock:
            return self._why.get(c.symbol, "")

    def quote(self, symbol: str, now_ms: int) -> Quote | None:
        c = option_contract(symbol)
        if c is None:
            return self.base.quote(symbol, now_ms)
        q, why = self._option_quote(c.symbol, now_ms)
        with self._lock:
            if q is None:
                self._why[c.symbol] = why
            else:
                self._why.pop(c.symbol, None)
        return q

    def greeks(self, symbol: str) -> dict[str, float] | None:
        """delta, gamma, theta (per day), vega (per vol point), iv of ``symbol`` per share at its
        latest quote (None before one)."""
        c = option_contract(symbol)
        with self._lock:
            return self._greeks.get(c.symbol) if c is not None else None

    # -- internals ----------------------------------------------------------------------
    def _chain(self, root: str) -> tuple[OptionChain | None, str]:
        now = self.clock()
        with self._lock:
            hit = self._chains.get(root)
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1], hit[2]
        try:
            chain: OptionChain | None = self.chain_of(root)
            why = ""
        except Exception as exc:  # noqa: BLE001 - the chain service's one sentence is the reason
            chain, why = None, f"no option chain for {root}: {str(exc).strip() or type(exc).__name__}"
        with self._lock:
            self._chains[root] = (now, chain, why)
        return chain, why

    def _option_quote(self, symbol: str, now_ms: int) -> tuple[Quote | None, str]:
        import numpy as np

        c = option_contract(symbol)
        assert c is not None
        today = _dt.datetime.fromtimestamp(now_ms / 1000, tz=_dt.timezone.utc).date()
        if c.expiry < today:
            return None, f"{c.describe()} has expired: it has no quote"
        chain, why = self._chain(c.underlying)
        if chain is None:
            return None, why
        exp = np.datetime64(c.expiry, "D")
        hit = np.flatnonzero((chain.expiry == exp) & (np.abs(chain.strike - float(c.strike)) < 1e-6)
                             & (chain.is_call == c.is_call))
        if hit.size == 0:
            return None, f"{c.describe()} is not in the {c.underlying} chain ({chain.source}): pick a listed contract"
        i = int(hit[0])
        bid, ask, iv = float(chain.bid[i]), float(chain.ask[i]), float(chain.iv[i])
        if chain.source != "demo":
            if not (math.isfinite(bid) and math.isfinite(ask)) or bid < 0 or ask <= 0 or bid > ask:
                return None, f"{c.describe()} has no usable quote in the {chain.source} chain (bid {bid}, ask {ask})"
            self._remember_greeks(symbol, chain.spot, c, iv, chain, today)
            return Quote(symbol, to_price(bid) if bid > 0 else Decimal(0), to_price(ask), None, now_ms), ""
        # demo: reprice off the surface at the underlying's live quote
        if not math.isfinite(iv) or iv <= 0:
            return None, f"{c.describe()} has no implied vol in the demo chain (a far wing without a bid)"
        uq = self.base.quote(c.underlying, now_ms)
        if uq is None:
            return None, f"no quote for the underlying {c.underlying}, so none for {c.describe()}"
        spot = float((uq.bid + uq.ask) / 2)
        from engine.options import american

        years = max((c.expiry - today).days, 0) / _NEW_YORK_OFFSET_DAYS
        if years <= 0:
            theo = max(spot - float(c.strike), 0.0) if c.is_call else max(float(c.strike) - spot, 0.0)
        else:
            theo = float(american.price(c.kind, spot, float(c.strike), years, chain.rate, iv, chain.dividend))
        width = max(ask - bid, 0.01) if math.isfinite(ask) and math.isfinite(bid) else 0.05
        tick = _tick(theo)
        b = max(_round(theo - width / 2, tick, up=False), Decimal(0))  # 0: no bid (a far wing)
        a = max(_round(theo + width / 2, tick, up=True), b + tick)
        self._remember_greeks(symbol, spot, c, iv, chain, today)
        return Quote(symbol, b, a, None, now_ms), ""

    def _remember_greeks(self, symbol: str, spot: float, c: Any, iv: float, chain: OptionChain,
                         today: _dt.date) -> None:
        if not math.isfinite(iv) or iv <= 0:
            return
        from engine.options import bsm

        years = max((c.expiry - today).days, 0.5) / _NEW_YORK_OFFSET_DAYS
        g = bsm.greeks(c.kind, spot, float(c.strike), years, chain.rate, iv, chain.dividend)
        with self._lock:
            self._greeks[symbol] = {"delta": float(g.delta), "gamma": float(g.gamma), "theta": float(g.theta),
                                    "vega": float(g.vega), "iv": iv, "spot": spot}


__all__ = ["OptionQuotes"]
