"""What the options dock computes from a chain, off the GUI thread (Qt-free).

``analyse(chain)``: implied vols of the bid and the ask (American, as the mids in
``build_chain``) for the smile's bid/ask bars, the SVI surface fitted to the usable mid IVs
with bid/ask-spread weights (``VolSurface.fit``), its butterfly/calendar violations and the
term structure. ``template_strategy`` builds a strategy template on a chain's listed strikes
around the money; ``with_chain_premiums`` sets each option leg's premium to the listed mid.
"""
from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field, replace

import numpy as np

from engine.options import strategy as st
from engine.options._inputs import FloatArray
from engine.options.chain import OptionChain
from engine.options.iv import implied_vol
from engine.options.surface import Violation, VolSurface


@dataclass(frozen=True)
class ChainAnalysis:
    """Per-row bid/ask IVs (NaN where the quote is flagged or has no vol), the fitted
    surface (None with ``surface_error`` when it cannot be fitted), its violations and the
    term structure (years, ATM-forward IV per fitted expiry)."""

    iv_bid: FloatArray
    iv_ask: FloatArray
    surface: VolSurface | None
    surface_error: str = ""
    violations: tuple[Violation, ...] = ()
    term: tuple[FloatArray, FloatArray] = field(default_factory=lambda: (np.empty(0), np.empty(0)))
    #: per fitted expiry (years order): the (min, max) log-moneyness ln(K/F) of its fitted quotes
    quoted: tuple[tuple[float, float], ...] = ()

    def market(self, chain: OptionChain) -> st.Market | None:
        """The strategy builder's market (chain spot, rate, yield and this surface)."""
        if self.surface is None:
            return None
        return st.Market(chain.spot, chain.rate, chain.dividend, self.surface)


def analyse(chain: OptionChain, style: str = "american") -> ChainAnalysis:
    """Bid/ask IVs, the SVI surface, its violations and term structure of ``chain``."""
    ok = chain.quote_ok
    kinds = np.where(chain.is_call, "call", "put")
    iv_side = []
    for px in (chain.bid, chain.ask):
        price = np.where(ok & (px > 0), px, np.nan)
        iv_side.append(np.asarray(implied_vol(kinds, price, chain.spot, chain.strike, np.maximum(chain.years, 1e-9),
                                              chain.rate, chain.dividend, style=style).vol, dtype=np.float64))
    # Fit on the out-of-the-money side of each strike (the liquid one, as OptionMetrics does).
    otm = np.where(chain.is_call, chain.strike >= chain.spot, chain.strike < chain.spot)
    use = chain.usable & otm
    try:
        surface = VolSurface.fit(chain.spot, chain.rate, chain.dividend, chain.years[use], chain.strike[use],
                                 chain.iv[use], iv_side[0][use], iv_side[1][use])
    except ValueError as exc:
        return ChainAnalysis(iv_side[0], iv_side[1], None, str(exc))
    k_all = np.log(chain.strike[use] / surface.forward(chain.years[use]))
    quoted = tuple((float(k_all[chain.years[use] == t].min()), float(k_all[chain.years[use] == t].max()))
                   for t in surface.years)
    # Arbitrage is checked where there are quotes (each expiry's own strikes; for calendar
    # the strikes two neighbouring expiries share): SVI wings beyond the last strike are
    # extrapolation, and a weekly's quotes span a far narrower k range than a LEAPS's.
    return ChainAnalysis(iv_side[0], iv_side[1], surface, "", tuple(surface.check_arbitrage(within_quotes=True)),
                         surface.term_structure(), quoted)


def _around(strikes: FloatArray, spot: float) -> tuple[FloatArray, int]:
    ks = np.unique(strikes)
    return ks, int(np.argmin(np.abs(ks - spot)))


def template_strategy(name: str, chain: OptionChain, expiry: _dt.date, qty: int = 1) -> st.Strategy:
    """Template ``name`` (one of ``strategy.TEMPLATES``) on ``chain``'s listed strikes of
    ``expiry`` around the money: verticals and strangles 2 strikes apart, condors 2 and 4
    out, butterflies 2 either side; calendars and diagonals use the next listed expiry.
    Raises ``ValueError`` for an unknown template, an expiry not in the chain, or too few
    strikes / expiries."""
    if name not in st.TEMPLATES:
        raise ValueError(f"unknown strategy template {name!r}; use one of {', '.join(st.TEMPLATES)}")
    part = chain.select(expiry=expiry)
    if len(part) == 0:
        raise ValueError(f"{chain.symbol} has no expiry {expiry.isoformat()}")
    ks, a = _around(part.strike, chain.spot)
    if ks.size < 5:
        raise ValueError(f"the {expiry.isoformat()} expiry lists too few strikes ({ks.size}) for templates")
    # Offsets are in listed strikes (up to ±4); a narrow chain (5-8 strikes) halves them.
    wide = ks.size >= 9
    reach = 4 if wide else 2
    a = min(max(a, reach), ks.size - 1 - reach)

    def k(off: int) -> float:
        j = off if wide else int(math.copysign(math.ceil(abs(off) / 2), off))
        return float(ks[a + j])

    t = float(part.years[0])
    if name in ("calendar", "diagonal"):
        later = [e for e in chain.expiries() if e > expiry]
        if not later:
            raise ValueError(f"a {name} needs an expiry after {expiry.isoformat()}")
        far = float(chain.select(expiry=later[0]).years[0])
        if name == "calendar":
            return st.calendar("call", k(0), t, far, qty)
        return st.diagonal("call", k(2), k(0), t, far, qty)
    builders = {
        "vertical": lambda: st.vertical("call", k(0), k(2), t, qty),
        "straddle": lambda: st.straddle(k(0), t, qty),
        "strangle": lambda: st.strangle(k(-2), k(2), t, qty),
        "iron_condor": lambda: st.iron_condor(k(-4), k(-2), k(2), k(4), t, qty),
        "iron_butterfly": lambda: st.iron_butterfly(k(-3), k(0), k(3), t, qty),
        "butterfly": lambda: st.butterfly("call", k(-2), k(0), k(2), t, qty),
        "covered_call": lambda: st.covered_call(k(2), t, qty),
        "protective_put": lambda: st.protective_put(k(-2), t, qty),
        "collar": lambda: st.collar(k(-2), k(2), t, qty),
    }
    return builders[name]()


def with_chain_premiums(strategy: st.Strategy, chain: OptionChain, market: st.Market) -> st.Strategy:
    """``strategy`` with each option leg's premium = the chain's mid of that contract
    (strike and time to expiry matched), stock at spot; legs without a usable listed quote
    are priced off the surface (``Strategy.priced``)."""
    mids = chain.mid
    legs = []
    for leg in strategy.legs:
        if not math.isnan(leg.premium):
            legs.append(leg)
        elif leg.kind == "stock":
            legs.append(replace(leg, premium=float(chain.spot)))
        else:
            m = (np.abs(chain.strike - leg.strike) < 1e-9) & (np.abs(chain.years - leg.years) < 1e-9) \
                & (chain.is_call == (leg.kind == "call")) & np.isfinite(mids)
            legs.append(replace(leg, premium=float(mids[m][0])) if m.any() else leg)
    return st.Strategy(strategy.name, tuple(legs)).priced(market)
