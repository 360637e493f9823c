"""sync/entitlements.py: the last answer is used offline for 7 days, per service and account;
then (or without one) the Free tier's defaults."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sync.billing import ledger_csv
from sync.entitlements import GRACE, EntitlementCache


class Kv:
    def __init__(self) -> None:
        self.d: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.d.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.d[key] = value


ANSWER = {"tier": "pro", "entitlements": {"copy_trading": True, "cloud_alerts": 500},
          "flags": {"new-chart": True, "old-thing": False}, "plans": [], "period_end": None}


def test_cached_for_seven_days_then_free() -> None:
    now = [dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)]
    cache = EntitlementCache(Kv(), clock=lambda: now[0])
    fresh = cache.store("https://svc", "Ann@Example.com", ANSWER)
    assert fresh.source == "service" and fresh.tier == "pro" and fresh.allows("copy_trading")
    now[0] += GRACE - dt.timedelta(minutes=1)
    cached = cache.current("https://svc", "ann@example.com")
    assert (cached.source, cached.tier) == ("cache", "pro")
    assert cached.valid_until == dt.datetime(2026, 3, 8, tzinfo=dt.timezone.utc)
    assert cached.flag("new-chart") and not cached.flag("old-thing", True)
    assert cached.flag("undefined", True) and not cached.flag("undefined")
    assert cache.current("https://other", "ann@example.com").source == "default"
    assert cache.current("https://svc", "bob@example.com").tier == "free"
    now[0] += dt.timedelta(minutes=2)
    stale = cache.current("https://svc", "ann@example.com")
    assert (stale.source, stale.tier, stale.allows("copy_trading")) == ("default", "free", False)
    assert stale.entitlements["cloud_alerts"] == 5 and stale.upgrade_for("copy_trading") == "pro"


def test_a_damaged_cache_falls_back_to_free() -> None:
    kv = Kv()
    cache = EntitlementCache(kv)
    cache.store("s", "a@b.c", {**ANSWER, "tier": "platinum"})
    assert cache.current("s", "a@b.c").tier == "free"
    cache.store("s", "a@b.c", {**ANSWER, "entitlements": {"copy_trading": "yes", "cloud_alerts": 7}})
    snap = cache.current("s", "a@b.c")
    assert snap.entitlements["copy_trading"] is True and snap.entitlements["cloud_alerts"] == 7


def test_ledger_csv_has_exact_cents() -> None:
    text = ledger_csv([{"created_at": "2026-03-01T10:00:00+00:00", "kind": "commission", "referred": "c***@x.io",
                        "bps": 5000, "amount_cents": 1249, "paid": True},
                       {"created_at": "2026-03-02T10:00:00+00:00", "kind": "reversal", "referred": "c***@x.io",
                        "bps": 5000, "amount_cents": -5, "paid": False}])
    assert text.splitlines() == ["date,kind,customer,share_percent,amount,status",
                                 "2026-03-01,commission,c***@x.io,50,12.49,paid",
                                 "2026-03-02,reversal,c***@x.io,50,-0.05,unpaid"]


def test_ledger_csv_cells_cannot_be_formulas() -> None:
    text = ledger_csv([{"created_at": "2026-03-01", "kind": "reward", "referred": "=***@evil.example",
                        "bps": 5000, "amount_cents": 100, "paid": False}])
    assert text.splitlines()[1] == "2026-03-01,reward,'=***@evil.example,50,1.00,unpaid"
