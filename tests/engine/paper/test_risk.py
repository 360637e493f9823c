"""Risk before sending (engine.paper.risk): hand-computed examples, fees included and not."""
from decimal import Decimal as D

import pytest

from engine.paper.fills import PerShare
from engine.paper.orders import Side
from engine.paper.risk import risk_budget, risk_reward, size_for_risk

IBKR_FIXED = PerShare(D("0.005"), D("1.00"), D("1")).fee  # $0.005/share, $1 min, 1 % max


def test_long_bracket_without_fees():
    # 100 × (100 − 98) = 200; 100 × (104 − 100) = 400; 400 / 200 = 2; 200 / 100,000 = 0.20 %
    r = risk_reward(Side.BUY, 100, D("100.00"), stop=D("98.00"), target=D("104.00"), equity=D("100000"))
    assert (r.risk, r.reward, r.reward_risk, r.risk_pct, r.fees) == (D("200.00"), D("400.00"), D("2.00"), D("0.20"), 0)
    assert r.per_share_risk == D("2.00")


def test_fees_make_risk_larger_and_reward_smaller():
    # IBKR fixed on 100 shares: max(0.005 × 100, 1.00) = $1.00 a side, $2.00 the round trip
    r = risk_reward(Side.BUY, 100, D("100.00"), stop=D("98.00"), target=D("104.00"), equity=D("100000"),
                    fee=IBKR_FIXED)
    assert r.fees == D("2.00")
    assert r.risk == D("202.00") and r.reward == D("398.00")
    assert r.reward_risk == D("1.97")  # 398 / 202 = 1.9703
    assert r.risk_pct == D("0.20")  # 0.202 %


def test_short_mirrored():
    # sell 50 at 44.90, stop 45.80 (0.90 above), target 43.10 (1.80 below)
    r = risk_reward("sell", 50, D("44.90"), stop=D("45.80"), target=D("43.10"))
    assert (r.risk, r.reward, r.reward_risk, r.risk_pct) == (D("45.00"), D("90.00"), D("2.00"), None)


def test_stop_only_has_no_ratio():
    r = risk_reward(Side.BUY, 10, D("50"), stop=D("49.5"), equity=D("1000"))
    assert (r.risk, r.reward, r.reward_risk, r.risk_pct) == (D("5.00"), None, None, D("0.50"))


@pytest.mark.parametrize("kw, msg", [
    ({"stop": D("101")}, "must be below the entry"),
    ({"target": D("99")}, "must be above the entry"),
    ({"stop": 1.5}, "exact number"),
    ({"stop": D("NaN")}, "positive number"),
])
def test_bad_inputs_are_one_sentence(kw, msg):
    with pytest.raises(ValueError, match=msg):
        risk_reward(Side.BUY, 100, D("100"), **kw)
    with pytest.raises(ValueError, match="whole number"):
        risk_reward(Side.BUY, 0, D("100"), stop=D("99"))


def test_size_by_dollar_risk():
    # $200 at a stop 2 % below an entry of 100.05: stop 98.05, 2.00 a share → 100 shares
    assert size_for_risk(Side.BUY, D("100.05"), D("98.05"), D("200")) == 100
    # with the round trip's $2.00: 100 shares would risk $202, 99 risk 198 + 2 = $200
    assert size_for_risk(Side.BUY, D("100.05"), D("98.05"), D("200"), fee=IBKR_FIXED) == 99
    # a short: stop above; 150 / 0.70 = 214.28 → 214
    assert size_for_risk(Side.SELL, D("20.00"), D("20.70"), D("150")) == 214
    # less than one share's risk → 0
    assert size_for_risk(Side.BUY, D("100"), D("90"), D("5")) == 0


def test_size_by_percent_of_equity():
    budget = risk_budget(D("0.5"), percent=True, equity=D("100000"))  # 0.5 % of 100,000
    assert budget == D("500.00")
    assert size_for_risk(Side.BUY, D("50.00"), D("48.50"), budget) == 333  # 500 / 1.50 = 333.3
    with pytest.raises(ValueError, match="no account equity"):
        risk_budget(D("1"), percent=True)
    with pytest.raises(ValueError, match="not below 100"):
        risk_budget(D("100"), percent=True, equity=D("1000"))
