"""Two users: B can neither read nor change A's objects, on every endpoint that takes an id.

The endpoints come from the published OpenAPI, so a new id-taking endpoint fails this test
until it is listed in ``OWNED_IDS`` (how to make an object of A's) and, when it takes a body,
in ``BODIES``."""
from __future__ import annotations

import re
import time
from typing import Any, Callable

from server.security import totp_code

PW = "correct horse battery staple 42"


def _a_session(service: Any, a: dict[str, Any]) -> int:
    sessions = service.client.get("/me/sessions", headers=a["headers"]).json()
    return int(sessions[0]["id"])


def _a_device(service: Any, a: dict[str, Any]) -> int:
    return int(service.client.get("/me/devices", headers=a["headers"]).json()[0]["id"])


def _a_user(service: Any, a: dict[str, Any]) -> int:
    return int(service.client.get("/me", headers=a["headers"]).json()["id"])


def _a_sync_kind(service: Any, a: dict[str, Any]) -> str:
    return "watchlist"


def _a_sync_key(service: Any, a: dict[str, Any]) -> str:
    return "a-watchlist"


def _a_workspace(service: Any, a: dict[str, Any]) -> int:
    return int(a["workspace_id"])


def _a_strategy(service: Any, a: dict[str, Any]) -> int:
    """A's private strategy (B may see public ones; a private one must stay A's alone)."""
    r = service.client.post("/strategies", headers=a["headers"], json={
        "name": "A's strategy", "category": "momentum", "rules": {"entry": "close > sma(close, 20)"}})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _a_trade(service: Any, a: dict[str, Any]) -> int:
    r = service.client.post("/social/trades", headers=a["headers"], json={"trades": [
        {"key": "a-fill-1", "symbol": "AAA", "side": "buy", "qty": 10, "price": "12.5",
         "position_after": 10, "time_ms": 1}]})
    assert r.status_code == 200, r.text
    return int(r.json()[0]["id"])


#: path parameter -> the id of one of A's objects
OWNED_IDS: dict[str, Callable[[Any, dict[str, Any]], int | str]] = {
    "session_id": _a_session, "device_id": _a_device, "user_id": _a_user,
    "kind": _a_sync_kind, "key": _a_sync_key, "workspace_id": _a_workspace, "strategy_id": _a_strategy,
    # billing (admin only: B gets 403)
    "name": lambda service, a: "a-flag", "tier": lambda service, a: "basic",
    "trade_id": _a_trade,
    # education content ids are public (the same course for everyone); progress is per caller
    "course_id": lambda _s, _a: "reading-a-chart", "material_id": lambda _s, _a: "candles-quiz",
    "term_id": lambda _s, _a: "sharpe-ratio", "tour_id": lambda _s, _a: "first-start",
}
#: paths about what A published on purpose (a social profile, published trades) or about B's
#: own relation to A (follow, block, report): B may get 200/202, or 404 (nothing there, or a
#: block), but never A's e-mail, and ``_a_state`` must stay the same
PUBLIC: set[str] = {"/social/users/{user_id}", "/social/users/{user_id}/avatar",
                    "/social/users/{user_id}/followers", "/social/users/{user_id}/following",
                    "/social/users/{user_id}/follow", "/social/users/{user_id}/block",
                    "/social/users/{user_id}/report", "/social/users/{user_id}/trades",
                    "/social/strategies/{strategy_id}/trades"}
#: paths that name an object in the caller's own namespace (sync keys are per user): B's PUT
#: there creates B's own object and B's GET/DELETE then reach that one (200) or none (404),
#: never A's -- the answer must not show A's data and ``_a_state`` must stay the same
OWN_NAMESPACE: set[str] = {"/sync/items/{kind}/{key}",
                             "/education/courses/{course_id}", "/education/courses/{course_id}/sections",
                             "/education/courses/{course_id}/materials/{material_id}",
                             "/education/courses/{course_id}/enroll", "/education/progress/{course_id}/{material_id}",
                             "/education/courses/{course_id}/quizzes/{material_id}/submit",
                             "/education/glossary/{term_id}", "/education/tutorials/{tour_id}/seen"}
#: a valid body per operation that takes one (so B's request reaches the object check)
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("put", "/admin/users/{user_id}/role"): {"role": "user"},
    ("put", "/sync/items/{kind}/{key}"): {"data": {"name": "B's list", "symbols": ["ZZZ"]}},
    ("patch", "/workspaces/{workspace_id}"): {"visibility": "public"},
    ("put", "/strategies/{strategy_id}"): {"name": "B's", "category": "swing", "rules": {"entry": "close > open"}},
    ("put", "/strategies/{strategy_id}/results"): {"backtest": {"points": [[0, 100], [86400, 101]], "trades": []}},
    ("post", "/strategies/{strategy_id}/share"): {"visibility": "public"},
    ("post", "/leaderboard/{strategy_id}/clone"): {},
    ("put", "/leaderboard/{strategy_id}/review"): {"rating": 1, "text": "B was here"},
    ("put", "/admin/partners/{user_id}"): {"commission_bps": 5000},
    ("put", "/admin/flags/{name}"): {"percentage_bps": 5000},
    ("put", "/admin/plans/{tier}"): {"monthly_cents": 1, "yearly_cents": 1},
    ("post", "/social/users/{user_id}/report"): {"reason": "spam"},
    ("put", "/education/progress/{course_id}/{material_id}"): {"kind": "read"},
    ("post", "/education/courses/{course_id}/quizzes/{material_id}/submit"): {"answers": {}},
    ("put", "/admin/education/courses/{course_id}"): {},
    ("put", "/admin/education/glossary/{term_id}"): {},
}


def _id_operations(spec: dict[str, Any]) -> list[tuple[str, str]]:
    ops = []
    for path, item in spec["paths"].items():
        if "{" in path:
            ops += [(method, path) for method in item if method in ("get", "put", "patch", "post", "delete")]
    return ops


def _set_up_a(service: Any) -> dict[str, Any]:
    headers = service.user("a@example.com")
    secret = service.client.post("/me/2fa/setup", headers=headers).json()["secret"]
    service.client.post("/me/2fa/enable", headers=headers, json={"code": totp_code(secret, time.time() - 30)})
    pair = service.login("a@example.com", otp=totp_code(secret, time.time()), remember_device=True,
                         device_name="A's laptop")
    h = {"Authorization": f"Bearer {pair['access_token']}"}
    r = service.client.put("/sync/items/watchlist/a-watchlist", headers=h,
                           json={"data": {"name": "A's list", "symbols": ["AAA"]}})
    assert r.status_code == 200, r.text
    r = service.client.post("/workspaces", headers=h, json={
        "workspace": {"format": "stockscanner-workspace", "version": 1, "name": "A desk"}})
    assert r.status_code == 200, r.text
    return {"headers": h, "pair": pair, "workspace_id": r.json()["id"]}


def _a_state(service: Any, a: dict[str, Any]) -> Any:
    h = a["headers"]
    return (service.client.get("/me", headers=h).json(),
            [s["id"] for s in service.client.get("/me/sessions", headers=h).json()],
            service.client.get("/me/devices", headers=h).json(),
            service.client.get("/sync/items", headers=h).json(),
            service.client.get("/workspaces", headers=h).json())


def test_user_b_cannot_read_or_change_user_a_objects(service: Any) -> None:
    a = _set_up_a(service)
    b_headers = service.user("b@example.com")
    spec = service.client.get("/openapi.json").json()
    ops = _id_operations(spec)
    assert len(ops) >= 5, ops  # sessions, devices, admin users...
    before = _a_state(service, a)
    for method, path in ops:
        params = re.findall(r"{(\w+)}", path)
        unknown = [p for p in params if p not in OWNED_IDS]
        assert not unknown, f"{method.upper()} {path}: add {unknown} to OWNED_IDS in this test"
        url = path
        for p in params:
            url = url.replace("{" + p + "}", str(OWNED_IDS[p](service, a)))
        op = spec["paths"][path][method]
        kwargs: dict[str, Any] = {}
        if "requestBody" in op:
            assert (method, path) in BODIES, f"{method.upper()} {path}: add a valid body to BODIES"
            kwargs["json"] = BODIES[(method, path)]
        r = service.client.request(method.upper(), url, headers=b_headers, **kwargs)
        if path in OWN_NAMESPACE:
            # 422: one material id serves every education path (a quiz is not "read", an article not submitted)
            ok = (200, 404, 422) if path.startswith("/education/") else (200, 404)
            assert r.status_code in ok, f"B got {r.status_code} on {method.upper()} {url}: {r.text}"
            assert "A's list" not in r.text and "AAA" not in r.text
            continue
        if path in PUBLIC:
            gated = r.status_code == 403 and r.json()["error"]["code"] == "entitlement_required"  # B's tier
            assert r.status_code in (200, 202, 404) or gated, f"B got {r.status_code} on {method.upper()} {url}: {r.text}"
            assert "a@example.com" not in r.text
            continue
        expected = 403 if path.startswith("/admin/") else 404
        assert r.status_code == expected, f"B got {r.status_code} on {method.upper()} {url}: {r.text}"
        assert "a@example.com" not in r.text
    assert _a_state(service, a) == before
    # the ids were real: A itself may end its own session and forget its device
    dev = _a_device(service, a)
    assert service.client.delete(f"/me/devices/{dev}", headers=a["headers"]).status_code == 200


def test_not_signed_in_is_refused_everywhere_but_the_public_endpoints(service: Any) -> None:
    public = {"/health", "/ready", "/auth/register", "/auth/verify-email", "/auth/password-reset",
              "/auth/password-reset/confirm", "/auth/login", "/auth/refresh", "/auth/2fa/reset",
              "/auth/google/start", "/auth/google",
              # billing: the plans are public; webhooks authenticate by the provider's signature
              # (tests/server/test_billing.py), the sandbox approval page by its signed token
              "/billing/plans", "/billing/webhooks/paypal", "/billing/webhooks/sandbox",
              "/billing/sandbox/approve", "/billing/return", "/signup"}
    spec = service.client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        for method in item:
            if path in public:
                continue
            url = re.sub(r"{\w+}", "1", path)
            r = service.client.request(method.upper(), url)
            assert r.status_code == 401, f"{method.upper()} {path} answered {r.status_code} without a token"


def test_every_request_body_forbids_unknown_fields(service: Any) -> None:
    spec = service.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    bodies = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
            if ref:
                bodies.append((method, path, ref.rsplit("/", 1)[1]))
    assert len(bodies) >= 14
    loose = [(m, p, name) for m, p, name in bodies if schemas[name].get("additionalProperties") is not False]
    assert not loose, f"request models without extra='forbid': {loose}"


def test_audit_log_shows_each_user_only_their_own_events(service: Any) -> None:
    a = service.user("a@example.com")
    b = service.user("b@example.com")
    service.client.post("/auth/login", json={"email": "a@example.com", "password": "wrong password 1"})
    me_b = service.client.get("/me", headers=b).json()["id"]
    events = service.client.get("/me/audit", headers=b).json()["items"]
    assert events and {e["user_id"] for e in events} == {me_b}
    events_a = service.client.get("/me/audit", headers=a).json()["items"]
    assert "login.failed" in [e["action"] for e in events_a]
    assert service.client.get("/admin/audit", headers=b).status_code == 403
