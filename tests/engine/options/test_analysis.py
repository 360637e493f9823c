"""Dock analysis: bid/ask IVs bracket the mid IV, templates on listed strikes around the money."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.demo import demo_symbols
from engine.options.analysis import analyse, template_strategy, with_chain_premiums
from engine.options.chain import demo_chain


@pytest.fixture(scope="module")
def chain():
    return demo_chain(demo_symbols()[0])


def test_bid_and_ask_ivs_bracket_the_mid_iv(chain):
    an = analyse(chain)
    ok = chain.usable & np.isfinite(an.iv_bid) & np.isfinite(an.iv_ask)
    assert ok.sum() > 100
    assert np.all(an.iv_bid[ok] <= chain.iv[ok] + 1e-9) and np.all(chain.iv[ok] <= an.iv_ask[ok] + 1e-9)
    assert np.isnan(an.iv_bid[chain.flags != 0]).all()
    assert an.surface is not None and len(an.quoted) == an.surface.years.size


@pytest.mark.parametrize("which", [0, -1])  # the narrowest (front weekly) and the widest expiry
def test_iron_condor_uses_four_listed_strikes_in_order(chain, which):
    e = chain.expiries()[which]
    s = template_strategy("iron_condor", chain, e)
    ks = [leg.strike for leg in s.legs]
    listed = set(chain.select(expiry=e).strike.tolist())
    assert ks == sorted(ks) and len(set(ks)) == 4 and set(ks) <= listed
    assert ks[1] < chain.spot < ks[2]


def test_premiums_are_the_listed_mids(chain):
    an = analyse(chain)
    e = chain.expiries()[3]
    s = with_chain_premiums(template_strategy("straddle", chain, e), chain, an.market(chain))
    part = chain.select(expiry=e)
    for leg in s.legs:
        row = (part.strike == leg.strike) & (part.is_call == (leg.kind == "call"))
        assert leg.premium == pytest.approx(float(part.mid[row][0]))


def test_unknown_template_is_refused(chain):
    with pytest.raises(ValueError, match="unknown strategy template"):
        template_strategy("jade_lizard", chain, chain.expiries()[0])
