"""Entitlements enforced on every gated endpoint, for every tier. The gated endpoints come from
the app itself (``server.entitlements.gated_routes``): a new ``RequireEntitlement`` endpoint
fails this test until it has a probe in ``PROBES``."""
from __future__ import annotations

from typing import Any, Callable

from engine.plans import ENTITLEMENTS, TIERS
from server.entitlements import gated_routes
from tests.server.billing_helpers import subscribe

#: the limits the test gives each tier (so a quota is reached in a few requests)
LIMITS = {"free": 1, "basic": 2, "pro": 3}


def _sync_probe(service: Any, headers: dict[str, str], allowed: int, tag: str) -> list[int]:
    """PUT new items until refused: the statuses."""
    statuses = []
    for n in range(allowed + 1):
        r = service.client.put(f"/sync/items/watchlist/{tag}-{n}", headers=headers,
                               json={"data": {"name": f"list {n}", "symbols": ["AAA"]}})
        statuses.append(r.status_code)
    # rewriting an item already there needs no room
    r = service.client.put(f"/sync/items/watchlist/{tag}-0", headers=headers,
                           json={"data": {"name": "renamed", "symbols": ["AAA"]}})
    statuses.append(r.status_code)
    return statuses


#: (method, path) -> probe(service, headers, allowed, tag): the statuses of requests that use up
#: the tier's allowance (``allowed`` requests) and then one more
PROBES: dict[tuple[str, str], Callable[[Any, dict[str, str], int, str], list[int]]] = {
    ("put", "/sync/items/{kind}/{key}"): _sync_probe,
}


def test_every_gated_endpoint_enforces_each_tier(service: Any) -> None:
    gated = gated_routes(service.app)
    assert gated, "no endpoint is gated by an entitlement"
    missing = [(m, p) for m, p, _ in gated if (m, p) not in PROBES]
    assert not missing, f"add a probe to PROBES for {missing}"
    admin = service.user("admin@example.com")
    service.make_admin("admin@example.com")
    keys = {g.key for _, _, g in gated}
    for tier in TIERS:
        ents = {k: LIMITS[tier] for k in keys if ENTITLEMENTS[k].kind == "limit"}
        prices = {"monthly_cents": 0, "yearly_cents": 0} if tier == "free" else \
            {"monthly_cents": 999, "yearly_cents": 9990}
        r = service.client.put(f"/admin/plans/{tier}", headers=admin, json={**prices, "entitlements": ents})
        assert r.status_code == 200, r.text
    users = {tier: service.user(f"{tier}@example.com") for tier in TIERS}
    for tier in ("basic", "pro"):
        subscribe(service, users[tier], tier)
    for method, path, gate in gated:
        for tier in TIERS:
            allowed = LIMITS[tier]
            statuses = PROBES[(method, path)](service, users[tier], allowed, f"{tier}-{gate.key}")
            assert statuses == [200] * allowed + [403, 200], (tier, method, path, statuses)
            r = service.client.put(f"/sync/items/watchlist/{tier}-{gate.key}-extra", headers=users[tier],
                                   json={"data": {"name": "x", "symbols": []}})
            body = r.json()["error"]
            assert body["code"] == "entitlement_required"
            nxt = {"free": "Basic", "basic": "Pro", "pro": None}[tier]
            assert (f"available on {nxt}" if nxt else "not available on any plan") in body["message"], body
