"""Entitlements enforced on every gated endpoint, for every tier. The gated endpoints come from
the app itself (``server.entitlements.gated_routes``): a new ``RequireEntitlement`` endpoint
fails this test until it has a probe in ``PROBES``. A capability gate (``copy_trading``) is
mounted on the app here too, so both kinds of gate are exercised on every tier."""
from __future__ import annotations

from typing import Any, Callable

from engine.plans import ENTITLEMENTS, TIERS
from server.entitlements import gated_routes, require_entitlement
from tests.server.billing_helpers import subscribe

#: the limits the test gives each tier (so a quota is reached in a few requests)
LIMITS = {"free": 1, "basic": 2, "pro": 3}
NEXT = {"free": "Basic", "basic": "Pro", "pro": None}


def _refused_naming(r: Any, tier_name: str | None) -> None:
    assert r.status_code == 403, r.text
    body = r.json()["error"]
    assert body["code"] == "entitlement_required"
    assert (f"available on {tier_name}" if tier_name else "not available on any plan") in body["message"], body


def _sync_probe(service: Any, headers: dict[str, str], tier: str, value: Any) -> None:
    """New items until the quota, the next is refused naming the next tier; rewriting an item
    already there needs no room."""
    tag = f"{tier}-sync"
    for n in range(int(value)):
        r = service.client.put(f"/sync/items/watchlist/{tag}-{n}", headers=headers,
                               json={"data": {"name": f"list {n}", "symbols": ["AAA"]}})
        assert r.status_code == 200, (tier, n, r.text)
    r = service.client.put(f"/sync/items/watchlist/{tag}-extra", headers=headers,
                           json={"data": {"name": "one more", "symbols": []}})
    _refused_naming(r, NEXT[tier])
    r = service.client.put(f"/sync/items/watchlist/{tag}-0", headers=headers,
                           json={"data": {"name": "renamed", "symbols": ["AAA"]}})
    assert r.status_code == 200


def _publish_probe(service: Any, headers: dict[str, str], tier: str, value: Any) -> None:
    """Share strategies until the quota; one more is refused naming the next tier; sharing one
    already published needs no room; making one private (DELETE, ungated) frees a place."""
    ids = []
    for n in range(int(value) + 1):
        r = service.client.post("/strategies", headers=headers, json={
            "name": f"{tier} {n}", "category": "momentum", "rules": {"entry": "close > open"}})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    for sid in ids[:-1]:
        r = service.client.post(f"/strategies/{sid}/share", headers=headers, json={"visibility": "public"})
        assert r.status_code == 200, (tier, r.text)
    r = service.client.post(f"/strategies/{ids[-1]}/share", headers=headers, json={"visibility": "public"})
    _refused_naming(r, NEXT[tier])
    r = service.client.post(f"/strategies/{ids[0]}/share", headers=headers, json={"visibility": "unlisted"})
    assert r.status_code == 200, r.text
    assert service.client.delete(f"/strategies/{ids[0]}/share", headers=headers).status_code == 200
    r = service.client.post(f"/strategies/{ids[-1]}/share", headers=headers, json={"visibility": "public"})
    assert r.status_code == 200, r.text


def _copy_probe(service: Any, headers: dict[str, str], tier: str, value: Any) -> None:
    r = service.client.get("/test-only/copy-trading", headers=headers)
    if value:
        assert r.status_code == 200 and r.json() == {"ok": True}
    else:
        _refused_naming(r, "Pro")


def _strategy_trades_probe(service: Any, headers: dict[str, str], tier: str, value: Any) -> None:
    r = service.client.get("/social/strategies/77/trades", headers=headers)
    if value:
        assert r.status_code == 200 and r.json()["items"] == []
    else:
        _refused_naming(r, "Pro")


#: (method, path) -> probe(service, headers, tier, the tier's value of the gate's entitlement)
PROBES: dict[tuple[str, str], Callable[[Any, dict[str, str], str, Any], None]] = {
    ("put", "/sync/items/{kind}/{key}"): _sync_probe,
    ("get", "/test-only/copy-trading"): _copy_probe,
    ("post", "/strategies/{strategy_id}/share"): _publish_probe,
    ("get", "/social/strategies/{strategy_id}/trades"): _strategy_trades_probe,
}


def test_every_gated_endpoint_enforces_each_tier(service: Any) -> None:
    @service.app.get("/test-only/copy-trading", dependencies=[require_entitlement("copy_trading")])
    def _copy() -> dict[str, bool]:
        return {"ok": True}

    gated = gated_routes(service.app)
    assert {(m, p) for m, p, _ in gated} >= {("put", "/sync/items/{kind}/{key}"), ("get", "/test-only/copy-trading")}
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
    plans = {p["tier"]: p for p in service.client.get("/billing/plans").json()["plans"]}
    users = {tier: service.user(f"{tier}@example.com") for tier in TIERS}
    for tier in ("basic", "pro"):
        subscribe(service, users[tier], tier)
    for method, path, gate in gated:
        for tier in TIERS:
            PROBES[(method, path)](service, users[tier], tier, plans[tier]["entitlements"][gate.key])
