"""The last entitlements and flags the service gave, kept for offline use (Qt-free).

``GET /entitlements/me`` is cached in the store's key-value table per service identity and
account. While the service cannot be reached the app keeps using that answer for
``GRACE`` (7 days from when it was fetched); after that, or with no answer at all, it falls back
to the Free tier of ``engine.plans`` and every flag at its default. Nothing local depends on
this: charts, the scanner, paper trading and the journal work the same on every tier."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine import plans as plan_table

GRACE = dt.timedelta(days=7)
KV_PREFIX = "billing/entitlements/"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Snapshot:
    tier: str
    entitlements: Mapping[str, bool | int]
    flags: Mapping[str, bool]
    plans: tuple[Mapping[str, Any], ...]
    #: when the service answered it (None: never; the Free defaults)
    fetched_at: dt.datetime | None
    #: "service" (just fetched), "cache" (within the grace period), "default" (Free)
    source: str
    period_end: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def valid_until(self) -> dt.datetime | None:
        return self.fetched_at + GRACE if self.fetched_at else None

    def flag(self, name: str, default: bool = False) -> bool:
        """Whether flag ``name`` is on; ``default`` for a flag the service does not define
        (or when there is no answer to go by)."""
        return bool(self.flags.get(name, default))

    def allows(self, key: str, amount: int = 1) -> bool:
        return plan_table.allows(self.entitlements[key], key, amount)

    def plan_table(self) -> dict[str, plan_table.Plan]:
        """The plans as the service last described them (the built-in table without an answer)."""
        out = dict(plan_table.PLANS)
        for p in self.plans:
            tier = str(p.get("tier"))
            if tier in out:
                try:
                    out[tier] = plan_table.plan(tier, {"monthly_cents": p.get("monthly_cents", 0),
                                                       "yearly_cents": p.get("yearly_cents", 0),
                                                       "entitlements": p.get("entitlements", {})})
                except ValueError:
                    pass
        return out

    def upgrade_for(self, key: str, amount: int = 1) -> str | None:
        """The cheapest tier that covers ``key`` (what "available on Pro" names)."""
        return plan_table.lowest_tier_with(key, amount, self.plan_table())


def free_snapshot() -> Snapshot:
    return Snapshot("free", dict(plan_table.PLANS["free"].entitlements), {}, (), None, "default")


class EntitlementCache:
    """Keeps the last answer in ``kv`` (``engine.store.kv.KeyValueStore``-like: get/set)."""

    def __init__(self, kv: Any, clock: Callable[[], dt.datetime] = _now) -> None:
        self.kv, self.clock = kv, clock

    @staticmethod
    def _key(identity: str, email: str) -> str:
        return f"{KV_PREFIX}{identity}|{email.lower()}"

    def store(self, identity: str, email: str, answer: Mapping[str, Any]) -> Snapshot:
        record = {"answer": dict(answer), "fetched_at": self.clock().isoformat()}
        self.kv.set(self._key(identity, email), record)
        return self._snapshot(record, "service")

    def current(self, identity: str, email: str | None) -> Snapshot:
        """The cached answer while it is within the grace period, else the Free defaults."""
        if not email:
            return free_snapshot()
        record = self.kv.get(self._key(identity, email))
        if not isinstance(record, dict):
            return free_snapshot()
        snap = self._snapshot(record, "cache")
        if snap.fetched_at is None or self.clock() - snap.fetched_at > GRACE:
            return free_snapshot()
        return snap

    @staticmethod
    def _snapshot(record: Mapping[str, Any], source: str) -> Snapshot:
        answer = record.get("answer") or {}
        try:
            fetched = dt.datetime.fromisoformat(str(record.get("fetched_at")))
        except ValueError:
            return free_snapshot()
        tier = str(answer.get("tier", "free"))
        if tier not in plan_table.TIERS:
            return free_snapshot()
        ents = dict(plan_table.PLANS[tier].entitlements)
        for key, value in dict(answer.get("entitlements") or {}).items():
            if key in ents:
                try:
                    ents[key] = plan_table.check_value(key, value)
                except ValueError:
                    pass
        flags = {str(k): bool(v) for k, v in dict(answer.get("flags") or {}).items()}
        return Snapshot(tier, ents, flags, tuple(answer.get("plans") or ()), fetched, source,
                        answer.get("period_end"))
