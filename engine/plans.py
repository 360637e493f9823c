"""The one table of subscription tiers and what each tier entitles (pure, Qt-free; the service
enforces it, the app shows it).

Decision (issue 17): everything the app does locally -- charts, the scanner, paper trading, the
journal, local alerts -- keeps working without an account and without limits, exactly as
before. Entitlements gate what the *service* provides (server-side alerts, hosted scans, synced
items, copy trading, published strategies, options analytics served by the service) and the
"more of" quotas. The Free tier takes nothing away from the offline app.

Prices are integer cents (USD). A limit of ``UNLIMITED`` (-1) means no cap; booleans gate a
capability. Admins can override a tier's prices and entitlements in the service
(``/admin/plans``); the override is merged over this table (unknown keys refused)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

UNLIMITED = -1
TIERS: tuple[str, ...] = ("free", "basic", "pro")
PERIODS: tuple[str, ...] = ("monthly", "yearly")

Value = bool | int


@dataclass(frozen=True, slots=True)
class Entitlement:
    key: str
    label: str
    #: "bool" (a capability) or "limit" (a quota; higher is more, UNLIMITED is no cap)
    kind: str
    description: str
    #: shown after a number ("symbols", "seconds"...); for "interval" limits lower is better
    unit: str = ""
    lower_is_better: bool = False


#: every entitlement, in the order the app lists them
ENTITLEMENTS: Mapping[str, Entitlement] = MappingProxyType({e.key: e for e in (
    Entitlement("cloud_alerts", "Server-side alerts", "limit",
                "alert rules the service watches while the app is closed (local alerts are unlimited)",
                "rules"),
    Entitlement("scanner_universe", "Hosted scanner universe", "limit",
                "symbols one hosted scan may cover (the local scanner is unlimited)", "symbols"),
    Entitlement("scanner_rescan_s", "Hosted rescan interval", "limit",
                "the shortest interval between hosted rescans", "s", lower_is_better=True),
    Entitlement("chart_docks", "Synced chart docks", "limit",
                "chart docks saved to the account per workspace (local layouts are unlimited)", "docks"),
    Entitlement("synced_items", "Synced items", "limit",
                "watchlists and other objects kept in sync across machines", "items"),
    Entitlement("options_analytics", "Options analytics (service)", "bool",
                "greeks surfaces and scans computed by the service (the local options dock stays)"),
    Entitlement("copy_trading", "Copy trading", "bool", "follow a published strategy's trades"),
    Entitlement("published_strategies", "Published strategies", "limit",
                "strategies you may publish for others to follow", "strategies"),
)})


@dataclass(frozen=True, slots=True)
class Plan:
    tier: str
    name: str
    monthly_cents: int
    yearly_cents: int
    entitlements: Mapping[str, Value] = field(default_factory=dict)

    def price_cents(self, period: str) -> int:
        if period not in PERIODS:
            raise ValueError(f"period must be one of {PERIODS}, not {period!r}")
        return self.monthly_cents if period == "monthly" else self.yearly_cents


#: the tiers; yearly = 10 months' price (two months free)
PLANS: Mapping[str, Plan] = MappingProxyType({
    "free": Plan("free", "Free", 0, 0, MappingProxyType({
        "cloud_alerts": 5, "scanner_universe": 500, "scanner_rescan_s": 300, "chart_docks": 4,
        "synced_items": 100, "options_analytics": False, "copy_trading": False,
        "published_strategies": 1})),
    "basic": Plan("basic", "Basic", 999, 9990, MappingProxyType({
        "cloud_alerts": 50, "scanner_universe": 3000, "scanner_rescan_s": 60, "chart_docks": 8,
        "synced_items": 1000, "options_analytics": True, "copy_trading": False,
        "published_strategies": 3})),
    "pro": Plan("pro", "Pro", 2499, 24990, MappingProxyType({
        "cloud_alerts": 500, "scanner_universe": UNLIMITED, "scanner_rescan_s": 15,
        "chart_docks": 16, "synced_items": 10000, "options_analytics": True, "copy_trading": True,
        "published_strategies": 25})),
})


def check_value(key: str, value: object) -> Value:
    """``value`` for entitlement ``key`` when it has the right type (ValueError otherwise)."""
    ent = ENTITLEMENTS.get(key)
    if ent is None:
        raise ValueError(f"unknown entitlement {key!r} (known: {', '.join(ENTITLEMENTS)})")
    if ent.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{key} is true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, int) or (value < 0 and value != UNLIMITED):
        raise ValueError(f"{key} is a whole number >= 0 or {UNLIMITED} (unlimited)")
    return value


def plan(tier: str, override: Mapping[str, object] | None = None) -> Plan:
    """The plan of ``tier`` with an admin ``override`` merged in: ``{"monthly_cents",
    "yearly_cents", "entitlements": {...}}`` (each part optional, checked)."""
    base = PLANS.get(tier)
    if base is None:
        raise ValueError(f"unknown tier {tier!r} (known: {', '.join(TIERS)})")
    if not override:
        return base
    ents = dict(base.entitlements)
    raw = override.get("entitlements") or {}
    if not isinstance(raw, Mapping):
        raise ValueError("entitlements is an object")
    for key, value in raw.items():
        ents[str(key)] = check_value(str(key), value)
    prices = {}
    for name in ("monthly_cents", "yearly_cents"):
        value = override.get(name, getattr(base, name))
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} is a whole number of cents >= 0")
        prices[name] = value
    return Plan(tier, base.name, prices["monthly_cents"], prices["yearly_cents"], MappingProxyType(ents))


def allows(value: Value, key: str, amount: int = 1) -> bool:
    """Whether entitlement ``value`` of ``key`` covers ``amount`` (a count for limits: the
    count *after* the action; for ``lower_is_better`` limits: the requested interval)."""
    ent = ENTITLEMENTS[key]
    if ent.kind == "bool":
        return bool(value)
    limit = int(value)
    if limit == UNLIMITED:
        return True
    return amount >= limit if ent.lower_is_better else amount <= limit


def lowest_tier_with(key: str, amount: int = 1, plans: Mapping[str, Plan] = PLANS) -> str | None:
    """The cheapest tier whose ``key`` covers ``amount`` (None: no tier does) -- what the app
    names when a tier lacks something ("available on Pro")."""
    for tier in TIERS:
        if tier in plans and allows(plans[tier].entitlements[key], key, amount):
            return tier
    return None


def describe(key: str, value: Value) -> str:
    """``value`` of ``key`` in words: "Included", "Not included", "Unlimited", "50 rules"."""
    ent = ENTITLEMENTS[key]
    if ent.kind == "bool":
        return "Included" if value else "Not included"
    if int(value) == UNLIMITED:
        return "Unlimited" if not ent.lower_is_better else "Any"
    return f"{int(value)} {ent.unit}".strip()


def dollars(cents: int) -> str:
    """``999`` -> ``"$9.99"`` (exact integer arithmetic)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"
