"""engine/flags.py (one evaluation rule, deterministic percentage rollout) and engine/plans.py."""
from __future__ import annotations

import pytest

from engine import flags, plans
from engine.flags import Flag, evaluate

USERS = range(1, 10_001)


@pytest.mark.parametrize("name", ["new-chart", "options.v2"])
def test_rollout_of_10000_users_is_within_2_points_and_monotone(name: str) -> None:
    enabled_before: set[int] = set()
    for pct in (0, 1, 5, 10, 25, 33, 50, 75, 90, 100):
        flag = Flag(name, percentage_bps=pct * 100)
        on = {u for u in USERS if evaluate(flag, u, "free")}
        assert abs(len(on) / len(USERS) * 100 - pct) <= 2, (pct, len(on))
        assert enabled_before <= on  # raising the percentage only adds users
        enabled_before = on
    assert len(enabled_before) == len(USERS)


def test_same_answer_every_time_and_independent_flags() -> None:
    a, b = Flag("alpha", percentage_bps=5000), Flag("beta", percentage_bps=5000)
    first = [evaluate(a, u) for u in range(1, 2001)]
    assert first == [evaluate(a, u) for u in range(1, 2001)]
    both = sum(1 for u in range(1, 2001) if evaluate(a, u) and evaluate(b, u))
    assert 400 < both < 600  # ~25 %: the buckets of two flags are not the same


def test_strategies_whitelist_tiers_and_combinations() -> None:
    assert evaluate(Flag("x"), 7) and evaluate(Flag("x"), None)  # all
    assert not evaluate(Flag("x", enabled=False, users=frozenset({7})), 7)  # kill switch wins
    assert evaluate(Flag("x", percentage_bps=0, users=frozenset({7})), 7)  # whitelist
    assert not evaluate(Flag("x", percentage_bps=0, users=frozenset({7})), 8)
    pro = Flag("x", tiers=frozenset({"pro"}))
    assert evaluate(pro, 1, "pro") and not evaluate(pro, 1, "basic")
    combo = Flag("combo", percentage_bps=3000, tiers=frozenset({"pro"}))
    pro_on = {u for u in USERS if evaluate(combo, u, "pro")}
    assert not any(evaluate(combo, u, "basic") for u in range(1, 500))
    assert pro_on == {u for u in USERS if flags.bucket("combo", u) < 3000}
    assert not evaluate(Flag("x", percentage_bps=5000), None)  # signed out: only flags at 100 %
    with pytest.raises(ValueError):
        Flag("Bad Name")
    with pytest.raises(ValueError):
        Flag("x", percentage_bps=10001)
    assert Flag.from_dict(combo.to_dict()) == combo


def test_plans_table_prices_limits_and_overrides() -> None:
    assert [(p.tier, p.monthly_cents, p.yearly_cents) for p in plans.PLANS.values()] == [
        ("free", 0, 0), ("basic", 999, 9990), ("pro", 2499, 24990)]
    for p in plans.PLANS.values():
        assert set(p.entitlements) == set(plans.ENTITLEMENTS)
    assert plans.lowest_tier_with("copy_trading") == "pro"
    assert plans.lowest_tier_with("options_analytics") == "basic"
    assert plans.lowest_tier_with("cloud_alerts", 51) == "pro"
    assert plans.lowest_tier_with("scanner_rescan_s", 60) == "basic"  # lower is better
    assert plans.lowest_tier_with("cloud_alerts", 10**6) is None
    assert plans.allows(plans.UNLIMITED, "scanner_universe", 10**9)
    custom = plans.plan("basic", {"monthly_cents": 1099, "entitlements": {"cloud_alerts": 60}})
    assert (custom.monthly_cents, custom.yearly_cents, custom.entitlements["cloud_alerts"]) == (1099, 9990, 60)
    for bad in ({"entitlements": {"nope": 1}}, {"entitlements": {"copy_trading": 1}},
                {"entitlements": {"cloud_alerts": -5}}, {"monthly_cents": 9.99}):
        with pytest.raises(ValueError):
            plans.plan("basic", bad)
    assert plans.dollars(999) == "$9.99" and plans.dollars(-500) == "-$5.00" and plans.dollars(123456) == "$1,234.56"
    assert plans.describe("scanner_universe", plans.UNLIMITED) == "Unlimited"
