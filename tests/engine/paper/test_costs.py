"""Realistic default costs (issue 10): IBKR Pro fixed for new accounts, SEC/FINRA fees on
sells as a named option, a model per account that the store keeps."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from engine.events import EventBus
from engine.paper import OrderRequest, PaperBroker, Side
from engine.paper.fills import (
    FINRA_TAF_MAX,
    IBKR_PRO_FIXED,
    FillConfig,
    NoCommission,
    RegulatoryFees,
    WithRegulatoryFees,
    parse_commission,
)

T0 = 1_700_000_000_000


@pytest.mark.parametrize(("qty", "price", "fee"), [
    (100, "50.00", "1.00"),     # 100 × 0.005 = 0.50 → the $1.00 minimum
    (1, "150.00", "1.00"),      # one share still pays the minimum
    (1, "50.00", "0.50"),       # ...unless 1 % of the trade value is less (IBKR: the maximum then applies)
    (1000, "50.00", "5.00"),    # 1,000 × 0.005
    (1001, "50.00", "5.01"),    # 5.005 rounds up to the cent
    (1, "5.00", "0.05"),        # the 1 % cap (of the $5 trade value) is below the minimum: the cap wins
    (10_000, "0.30", "30.00"),  # 10,000 × 0.005 = 50 > 1 % of $3,000 = 30
])
def test_ibkr_pro_fixed(qty, price, fee):
    assert IBKR_PRO_FIXED.fee(qty, D(price)) == D(fee)
    assert IBKR_PRO_FIXED.fee(qty, D(price), is_sell=True) == D(fee)  # the same either way


def test_regulatory_fees_on_sells_only():
    reg = WithRegulatoryFees(IBKR_PRO_FIXED)
    assert reg.fee(100, D("50"), is_sell=False) == D("1.00")
    # sell 100 at $50: SEC 5,000 × 0.0000278 = 0.139 → 0.14; TAF 100 × 0.000166 = 0.0166 → 0.02
    assert reg.fee(100, D("50"), is_sell=True) == D("1.00") + D("0.14") + D("0.02")
    # the TAF is capped per trade
    assert RegulatoryFees(D(0)).fee(1_000_000, D("1"), is_sell=True) == FINRA_TAF_MAX
    # rates are settable, and the spec round-trips with them
    mine = parse_commission("per_share:0.005:1:1+reg:0.00002:0.0002:9")
    assert mine == WithRegulatoryFees(IBKR_PRO_FIXED, RegulatoryFees(D("0.00002"), D("0.0002"), D("9")))
    assert parse_commission(mine.spec()) == mine
    assert parse_commission("none+reg").fee(100, D("50"), True) == D("0.16")
    for bad in ("per_share:0.005+reg:1", "flat:1+reg+reg", "none+fees"):
        with pytest.raises(ValueError, match="not understood"):
            parse_commission(bad)


def test_new_accounts_get_ibkr_pro_fixed_and_keep_the_model_they_were_created_with(tmp_path):
    path = tmp_path / "p.sqlite3"
    b = PaperBroker.open(path, bus=EventBus(), clock=lambda: T0)
    b.create_account("Default", 10_000)
    b.create_account("Free", 10_000, config=FillConfig(commission=NoCommission()))
    b.create_account("Reg", 10_000, config=FillConfig(commission=WithRegulatoryFees(IBKR_PRO_FIXED)))
    b.on_quote("ACME", D("49.99"), D("50.00"), D("50.00"), T0)  # a price for the buying-power check
    for name in ("Default", "Free", "Reg"):
        b.submit(name, OrderRequest("ACME", Side.BUY, 100))
    fills = b.on_quote("ACME", D("49.99"), D("50.00"), D("50.00"), T0)
    assert {f.account: f.fee for f in fills} == {"Default": D("1.00"), "Free": D("0"), "Reg": D("1.00")}
    for name in ("Default", "Free", "Reg"):
        b.submit(name, OrderRequest("ACME", Side.SELL, 100))
    sells = b.on_quote("ACME", D("50.00"), D("50.01"), D("50.00"), T0)
    assert {f.account: f.fee for f in sells} == {"Default": D("1.00"), "Free": D("0"), "Reg": D("1.16")}
    b.close()
    again = PaperBroker.open(path, bus=EventBus(), clock=lambda: T0)  # the store keeps each spec
    try:
        assert again.account_config("Default").commission == IBKR_PRO_FIXED
        assert again.account_config("Free").commission == NoCommission()
        assert again.account_config("Reg").commission == WithRegulatoryFees(IBKR_PRO_FIXED)
        assert again.account_summary("Reg").fees == D("2.16")
    finally:
        again.close()


def test_ibkr_minimum_and_cap_are_per_order_not_per_fill(tmp_path):
    """Three partial fills of 10 shares pay the $1.00 minimum once, in all (IBKR charges per
    order: each execution pays fee(cumulative) minus what the order already paid)."""
    b = PaperBroker.open(tmp_path / "p.sqlite3", bus=EventBus(), clock=lambda: T0)
    b.create_account("Default", 100_000)
    b.on_quote("ACME", D("49.99"), D("50.00"), D("50.00"), T0)
    o = b.submit("Default", OrderRequest("ACME", Side.BUY, 30))
    fees = [f.fee for t in (1, 2, 3) for f in b.on_quote("ACME", D("49.99"), D("50.00"), D("50.00"), T0 + t, ask_size=10)]
    assert fees == [D("1.00"), D("0"), D("0")]
    assert b.account_summary("Default").fees == D("1.00")
    # 300 shares in 3 × 100: 1.00, then 0.00 (0.005 × 200 = 1.00), then 0.50 (0.005 × 300 = 1.50)
    b.submit("Default", OrderRequest("ACME", Side.BUY, 300))
    fees = [f.fee for t in (4, 5, 6) for f in b.on_quote("ACME", D("49.99"), D("50.00"), D("50.00"), T0 + t, ask_size=100)]
    assert fees == [D("1.00"), D("0.00"), D("0.50")] and sum(fees) == IBKR_PRO_FIXED.fee(300, D("50"))
    assert b.order(o.order_id).filled_qty == 30
    b.close()


@pytest.mark.parametrize(("fills", "total"), [
    ([(10, "50"), (10, "50"), (10, "50")], "1.00"),
    ([(1, "5"), (1, "5"), (1, "5")], "0.15"),          # the 1 % cap of the order's value ($15)
    ([(1, "5"), (100, "5")], "1.00"),                  # 1 % of $505 = 5.05 > 1.00 minimum
    ([(1000, "50"), (1, "50")], "5.01"),               # 5.005 rounds up once, not per fill
    ([(100, "60"), (100, "40")], "1.00"),              # a falling price never refunds
])
def test_per_order_fees_sum_to_the_fee_of_the_whole_order(fills, total):
    charged, qty, value = [], 0, D(0)
    for q, p in fills:
        charged.append(IBKR_PRO_FIXED.order_fee(qty, value, q, D(p)))
        qty, value = qty + q, value + q * D(p)
    assert all(c >= 0 for c in charged)
    assert sum(charged) == D(total) == IBKR_PRO_FIXED._fee(qty, value)
    # the regulatory fees stay per execution, on top of the per-order base
    reg = WithRegulatoryFees(IBKR_PRO_FIXED)
    assert reg.order_fee(10, D(500), 10, D("50"), is_sell=True) == D("0") + D("0.02") + D("0.01")  # base, SEC, TAF
