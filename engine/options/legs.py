"""A strategy's option legs as orders: (side, contracts, OCC symbol), for the paper broker.

``occ_legs(strategy, chain)`` matches every option leg to the chain contract of its strike and
expiry (time to expiry matched to the chain's expiries) and names it by its OCC symbol in the
broker's compact form. Stock legs (covered call, protective put, collar) are not option
contracts: they raise ``ValueError`` (the shares go through the order ticket).
"""
from __future__ import annotations

import datetime as _dt

import numpy as np

from engine.options import strategy as st
from engine.options.chain import OptionChain, occ_symbol


def occ_legs(strategy: st.Strategy, chain: OptionChain) -> list[tuple[str, int, str]]:
    """(``"buy"``/``"sell"``, contracts > 0, compact OCC symbol) per option leg of
    ``strategy``. Raises ``ValueError`` for a stock leg or a leg not in ``chain``."""
    out: list[tuple[str, int, str]] = []
    for leg in strategy.legs:
        if leg.kind == "stock":
            raise ValueError(f"{strategy.name} has a stock leg ({leg.qty:+d} shares): place the shares from the "
                             "order ticket, then send the option legs")
        m = (np.abs(chain.years - leg.years) < 1e-9) & (np.abs(chain.strike - leg.strike) < 1e-9) \
            & (chain.is_call == (leg.kind == "call"))
        if not m.any():
            raise ValueError(f"the {leg.strike:g} {leg.kind} is not a listed contract of the {chain.symbol} chain")
        expiry = chain.expiry[m][0].astype(_dt.date)
        sym = occ_symbol(chain.symbol, expiry, leg.kind, float(leg.strike)).replace(" ", "")
        out.append(("buy" if leg.qty > 0 else "sell", abs(int(leg.qty)), sym))
    return out


__all__ = ["occ_legs"]
