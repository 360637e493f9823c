"""Entitlements on the service: the caller's tier (from their subscriptions), the plans with
the admins' overrides, feature flags, and the FastAPI dependency other areas gate endpoints
with::

    @router.post("/copy/follow", dependencies=[RequireEntitlement("copy_trading")])

or, for a quota, with a function counting what the caller would have *after* the request::

    @router.put("/alerts/{key}", dependencies=[RequireEntitlement("cloud_alerts", count=_alerts_after)])

A caller whose tier lacks it gets 403 ``entitlement_required`` naming the cheapest tier that has
it. Every gate made is listed in ``GATES`` and ``gated_routes(app)`` finds the routes that use
one, so ``tests/server/test_entitlements.py`` checks each gated endpoint for every tier."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import flags as flag_rules
from engine.plans import ENTITLEMENTS, TIERS, Plan, allows, describe, lowest_tier_with, plan
from server.billing.models import FeatureFlag, PlanOverride, Subscription
from server.deps import CurrentUser, Db
from server.errors import ApiError
from server.models import User, aware, utcnow

RANK = {t: i for i, t in enumerate(TIERS)}


def plans(db: Session) -> dict[str, Plan]:
    """Every tier's plan with the admins' overrides merged in."""
    overrides = {o.tier: json.loads(o.data) for o in db.execute(select(PlanOverride)).scalars()}
    return {tier: plan(tier, overrides.get(tier)) for tier in TIERS}


def entitled(sub: Subscription, now: dt.datetime) -> bool:
    """Whether a subscription gives its tier now: ACTIVE, or CANCELLED before the end of the
    period already paid for (cancel at period end). SUSPENDED (a failed payment) does not."""
    if sub.status == "ACTIVE":
        return True
    return sub.status == "CANCELLED" and sub.period_end is not None and aware(sub.period_end) > now


def current_subscription(db: Session, user_id: int, now: dt.datetime | None = None) -> Subscription | None:
    """The subscription that gives the user's tier now (the highest), else None."""
    now = now or utcnow()
    subs = [s for s in db.execute(select(Subscription).where(Subscription.user_id == user_id)).scalars()
            if entitled(s, now)]
    return max(subs, key=lambda s: (RANK.get(s.tier, 0), s.id)) if subs else None


def tier_of(db: Session, user_id: int, now: dt.datetime | None = None) -> str:
    sub = current_subscription(db, user_id, now)
    return sub.tier if sub is not None else "free"


def flags(db: Session) -> list[flag_rules.Flag]:
    return [flag_of(f) for f in db.execute(select(FeatureFlag).order_by(FeatureFlag.name)).scalars()]


def flag_of(row: FeatureFlag) -> flag_rules.Flag:
    return flag_rules.Flag(name=row.name, enabled=row.enabled, percentage_bps=row.percentage_bps,
                           tiers=frozenset(json.loads(row.tiers)), users=frozenset(json.loads(row.users)),
                           description=row.description)


@dataclass(frozen=True)
class Gate:
    key: str
    count: Callable[[Session, User, Request], int] | None = None


#: every gate made (by ``RequireEntitlement``), in order
GATES: list[Gate] = []


def denial(key: str, tier: str, table: dict[str, Plan], amount: int = 1) -> ApiError:
    ent = ENTITLEMENTS[key]
    better = lowest_tier_with(key, amount, table)
    where = f"available on {table[better].name}" if better else "not available on any plan"
    have = describe(key, table[tier].entitlements[key])
    return ApiError(403, "entitlement_required",
                    f"{ent.label} ({have} on your {table[tier].name} plan) is {where}.")


def check(db: Session, user: User, key: str, amount: int = 1) -> None:
    """Raise the 403 when the user's tier does not cover ``amount`` of ``key``."""
    table = plans(db)
    tier = tier_of(db, user.id)
    if not allows(table[tier].entitlements[key], key, amount):
        raise denial(key, tier, table, amount)


def RequireEntitlement(key: str, *, count: Callable[[Session, User, Request], int] | None = None) -> Any:  # noqa: N802
    """A dependency (``dependencies=[RequireEntitlement(...)]``) refusing callers whose tier
    lacks entitlement ``key`` (for a quota: lacks room for ``count(db, user, request)``)."""
    if key not in ENTITLEMENTS:
        raise ValueError(f"unknown entitlement {key!r}")
    gate = Gate(key, count)
    GATES.append(gate)

    def _require(request: Request, user: CurrentUser, db: Db) -> None:
        check(db, user, key, count(db, user, request) if count is not None else 1)

    _require.__entitlement_gate__ = gate  # type: ignore[attr-defined]
    return Depends(_require)


def require_entitlement(key: str) -> Any:
    """``RequireEntitlement(key)`` for a capability (the short form)."""
    return RequireEntitlement(key)


def gated_routes(app: FastAPI) -> list[tuple[str, str, Gate]]:
    """(method, path, gate) of every route of ``app`` behind an entitlement gate."""
    found: list[tuple[str, str, Gate]] = []

    def walk(dependant: Any) -> list[Gate]:
        gates = []
        for dep in dependant.dependencies:
            gate = getattr(dep.call, "__entitlement_gate__", None)
            if gate is not None:
                gates.append(gate)
            gates += walk(dep)
        return gates

    def api_routes(routes: Any) -> Any:
        for r in routes:
            if isinstance(r, APIRoute):
                yield r
            elif getattr(r, "original_router", None) is not None:  # FastAPI's included routers
                yield from api_routes(r.original_router.routes)
            elif getattr(r, "routes", None):
                yield from api_routes(r.routes)

    for route in api_routes(app.routes):
        if isinstance(route, APIRoute):
            for gate in walk(route.dependant):
                found += [(m.lower(), route.path, gate) for m in sorted(route.methods or ())]
    return found


def snapshot(db: Session, user: User) -> dict[str, Any]:
    """What ``GET /entitlements/me`` answers (and the app caches for offline use)."""
    table = plans(db)
    sub = current_subscription(db, user.id)
    tier = sub.tier if sub is not None else "free"
    return {"tier": tier, "entitlements": dict(table[tier].entitlements),
            "flags": flag_rules.evaluate_all(flags(db), user.id, tier),
            "plans": [plan_out(p) for p in table.values()],
            "period_end": aware(sub.period_end).isoformat() if sub is not None and sub.period_end else None,
            "fetched_at": utcnow().isoformat()}


def plan_out(p: Plan) -> dict[str, Any]:
    return {"tier": p.tier, "name": p.name, "monthly_cents": p.monthly_cents, "yearly_cents": p.yearly_cents,
            "entitlements": dict(p.entitlements)}
