"""Strategies, the leaderboard and sharing on the service (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update

DAY = 86_400
T0 = 1_600_000_000 - 1_600_000_000 % DAY


def _body(name: str = "SMA cross", category: str = "trend_following") -> dict[str, Any]:
    return {"name": name, "category": category, "description": "buys strength",
            "rules": {"entry": "crosses_above(sma(close, 10), sma(close, 30))",
                      "exit": "crosses_below(sma(close, 10), sma(close, 30))",
                      "sizing": {"kind": "percent_equity", "value": 10}, "stop_loss_pct": 5}}


def _run(n_trades: int, days: int = 200, growth: float = 0.001, start: int = T0) -> dict[str, Any]:
    """Equity rising by ``growth`` a day (cents), one winning trade every few days."""
    eq = 10_000_000
    points = []
    for k in range(days):
        points.append([start + k * DAY, int(eq)])
        eq *= 1 + growth
    step = max(1, days // max(1, n_trades))
    trades = [[start + (k + 1) * step * DAY - 1, 1000] for k in range(n_trades)]
    return {"points": points, "trades": trades}


def _create(service: Any, h: dict[str, str], **kw: Any) -> dict[str, Any]:
    r = service.client.post("/strategies", headers=h, json=_body(**kw))
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def test_crud_publish_score_and_the_30_trade_rule(service: Any) -> None:
    a = service.user("a@example.com")
    s = _create(service, a)
    assert s["visibility"] == "private" and s["mine"] and s["rules"]["sizing"]["kind"] == "percent_equity"
    sid = s["id"]
    # 29 trades: scored, not ranked
    r = service.client.put(f"/strategies/{sid}/results", headers=a, json={"backtest": _run(29)})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["trades"] == 29 and not got["ranked"] and got["rank_score"] is None
    assert "at least 30" in got["scorecard"]["reason"]
    assert got["score_is"] is not None and got["score_oos"] is not None  # holdout split
    service.client.post(f"/strategies/{sid}/share", headers=a, json={"visibility": "public"})
    board = service.client.get("/leaderboard", headers=a).json()
    assert board["items"] == []
    # 30 trades: ranked by the out-of-sample (holdout) score
    got = service.client.put(f"/strategies/{sid}/results", headers=a, json={"backtest": _run(30)}).json()
    assert got["ranked"] and got["rank_score"] == got["score_oos"]
    assert got["scorecard"]["oos_source"] == "holdout"
    assert set(got["scorecard"]["weights"]) == {"performance", "risk", "consistency", "efficiency", "community"}
    assert len(got["backtest_curve"]) == 200
    board = service.client.get("/leaderboard", headers=a, params={"category": "trend_following"}).json()
    assert [row["id"] for row in board["items"]] == [sid]
    assert service.client.get("/leaderboard", headers=a, params={"category": "swing"}).json()["items"] == []
    # update and delete
    r = service.client.put(f"/strategies/{sid}", headers=a, json=_body("Renamed", "swing"))
    assert r.status_code == 200 and r.json()["name"] == "Renamed"
    board = service.client.get("/leaderboard", headers=a, params={"category": "swing"}).json()
    assert [row["name"] for row in board["items"]] == ["Renamed"]
    bad = _body()
    bad["rules"]["entry"] = "sma(close, 10)"  # numbers, not a condition
    assert service.client.put(f"/strategies/{sid}", headers=a, json=bad).status_code == 422
    assert [x["id"] for x in service.client.get("/strategies", headers=a).json()] == [sid]
    assert service.client.delete(f"/strategies/{sid}", headers=a).status_code == 200
    assert service.client.get(f"/strategies/{sid}", headers=a).status_code == 404
    assert service.client.get("/leaderboard", headers=a).json()["items"] == []


def test_leaderboard_timeframes_ranks_live_results_and_pages(service: Any) -> None:
    from tests.server.billing_helpers import subscribe

    a = service.user("a@example.com")
    subscribe(service, a, "basic")  # three published strategies: Free publishes one
    now = int(dt.datetime.now(dt.timezone.utc).timestamp())
    ids = []
    for k, growth in enumerate((0.0001, 0.0003, 0.0002)):  # CAGR 4 %, 12 %, 8 %: performance unsaturated
        sid = _create(service, a, name=f"S{k}")["id"]
        live = _run(10, days=40, growth=growth, start=now - 39 * DAY + 3600)  # two points in the last day
        r = service.client.put(f"/strategies/{sid}/results", headers=a,
                               json={"backtest": _run(30, growth=0.001), "live": live})
        assert r.status_code == 200, r.text
        assert r.json()["scorecard"]["oos_source"] == "live"
        assert set(r.json()["scorecard"]["timeframes"]) == {"all", "month", "week", "day"}
        service.client.post(f"/strategies/{sid}/share", headers=a, json={"visibility": "public"})
        ids.append(sid)
    # same backtest, so the live (out-of-sample) growth decides the order
    for tf in ("all", "month", "week"):
        board = service.client.get("/leaderboard", headers=a, params={"timeframe": tf}).json()
        assert [row["id"] for row in board["items"]] == [ids[1], ids[2], ids[0]], tf
    p1 = service.client.get("/leaderboard", headers=a, params={"per_page": 2}).json()
    p2 = service.client.get("/leaderboard", headers=a, params={"per_page": 2, "page": 2}).json()
    assert p1["more"] and not p2["more"]
    assert [r["rank"] for r in p1["items"] + p2["items"]] == [1, 2, 3]
    assert [r["id"] for r in p2["items"]] == [ids[0]]
    found = service.client.get("/leaderboard", headers=a, params={"q": "s1"}).json()["items"]
    assert [r["id"] for r in found] == [ids[1]]
    assert service.client.get("/leaderboard", headers=a, params={"q": "%"}).json()["items"] == []
    cats = {c["key"]: c["count"] for c in service.client.get("/leaderboard/categories", headers=a).json()}
    assert cats["trend_following"] == 3 and cats["options_income"] == 0 and len(cats) == 8


def test_clone_keeps_lineage_and_counts_and_reviews_are_one_per_user(service: Any) -> None:
    a = service.user("a@example.com")
    b = service.user("b@example.com")
    c = service.user("c@example.com")
    src = _create(service, a)["id"]
    service.client.put(f"/strategies/{src}/results", headers=a, json={"backtest": _run(30)})
    assert service.client.post(f"/leaderboard/{src}/clone", headers=b, json={}).status_code == 404  # private
    service.client.post(f"/strategies/{src}/share", headers=a, json={"visibility": "public"})
    r = service.client.post(f"/leaderboard/{src}/clone", headers=b, json={"name": "B's copy"})
    assert r.status_code == 201, r.text
    b_copy = r.json()
    assert b_copy["parent_id"] == src and b_copy["lineage"] == [{"id": src, "name": "SMA cross"}]
    assert b_copy["rules"] == service.client.get(f"/leaderboard/{src}", headers=b).json()["rules"]
    assert b_copy["visibility"] == "private" and b_copy["mine"]
    # a clone of the clone: the lineage goes back to the source
    service.client.post(f"/strategies/{b_copy['id']}/share", headers=b, json={"visibility": "public"})
    cc = service.client.post(f"/leaderboard/{b_copy['id']}/clone", headers=c, json={}).json()
    assert [x["id"] for x in cc["lineage"]] == [b_copy["id"], src]
    service.client.post(f"/leaderboard/{src}/clone", headers=a, json={})  # the owner's own clone: not counted
    detail = service.client.get(f"/leaderboard/{src}", headers=c).json()
    assert detail["clone_count"] == 1
    community0 = detail["scorecard"]["in_sample"]["community"]
    # reviews: one per user, editable, not one's own
    assert service.client.put(f"/leaderboard/{src}/review", headers=a, json={"rating": 5}).status_code == 409
    service.client.put(f"/leaderboard/{src}/review", headers=b, json={"rating": 2, "text": "meh"})
    r = service.client.put(f"/leaderboard/{src}/review", headers=b, json={"rating": 5, "text": "great"})
    service.client.put(f"/leaderboard/{src}/review", headers=c, json={"rating": 5})
    got = r.json()
    detail = service.client.get(f"/leaderboard/{src}", headers=c).json()
    assert detail["rating_count"] == 2 and detail["rating"] == 5.0
    assert sorted((x["rating"], x["text"]) for x in detail["reviews"]) == [(5, ""), (5, "great")]
    assert [x["mine"] for x in got["reviews"]] == [True]
    # two 5-star ratings, shrunk to (5·3 + 10) / 7 stars: 0.6 × 25 × (25/7 − 1) points added
    assert abs(detail["scorecard"]["in_sample"]["community"] - (community0 + 0.6 * 25 * (25 / 7 - 3))) < 1e-9
    # a private strategy's detail and its lineage entry are hidden from others
    service.client.delete(f"/strategies/{src}/share", headers=a)
    assert service.client.get(f"/leaderboard/{src}", headers=b).status_code == 404
    lineage = service.client.get(f"/leaderboard/{cc['id']}", headers=c).json()["lineage"]
    assert lineage == [{"id": b_copy["id"], "name": "B's copy"}, {"id": None, "name": "(a private strategy)"}]


def test_unlisted_links_expire_and_revoke_at_once(service: Any) -> None:
    from server.models import Strategy

    a = service.user("a@example.com")
    b = service.user("b@example.com")
    sid = _create(service, a)["id"]
    service.client.put(f"/strategies/{sid}/results", headers=a, json={"backtest": _run(30)})
    r = service.client.post(f"/strategies/{sid}/share", headers=a, json={"visibility": "unlisted", "expires_in_days": 7})
    share = r.json()
    token = share["token"]
    assert share["visibility"] == "unlisted" and len(token) >= 32
    assert service.client.get(f"/strategies/{sid}", headers=a).json()["share_expires_at"] is not None
    assert service.client.get("/leaderboard", headers=b).json()["items"] == []  # not listed
    assert service.client.get(f"/leaderboard/{sid}", headers=b).status_code == 404  # not without the token
    opened = service.client.post("/strategies/shared", headers=b, json={"token": token})
    assert opened.status_code == 200 and opened.json()["id"] == sid and not opened.json()["mine"]
    assert opened.json()["share_expires_at"] is None  # the owner's settings stay the owner's
    # the link lets B clone and rate it
    assert service.client.post(f"/leaderboard/{sid}/clone", headers=b, json={"share_token": token}).status_code == 201
    assert service.client.post(f"/leaderboard/{sid}/clone", headers=b,
                               json={"share_token": token[:-2] + "xx"}).status_code == 404
    # a new link replaces the old one
    token2 = service.client.post(f"/strategies/{sid}/share", headers=a, json={"visibility": "unlisted"}).json()["token"]
    assert service.client.post("/strategies/shared", headers=b, json={"token": token}).status_code == 404
    assert service.client.post("/strategies/shared", headers=b, json={"token": token2}).status_code == 200
    # expiry
    with service.db() as db:
        db.execute(update(Strategy).where(Strategy.id == sid).values(
            share_expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
        db.commit()
    assert service.client.post("/strategies/shared", headers=b, json={"token": token2}).status_code == 404
    # revoke: the next request with the token is refused
    token3 = service.client.post(f"/strategies/{sid}/share", headers=a, json={"visibility": "unlisted"}).json()["token"]
    assert service.client.post("/strategies/shared", headers=b, json={"token": token3}).status_code == 200
    assert service.client.delete(f"/strategies/{sid}/share", headers=a).json()["visibility"] == "private"
    assert service.client.post("/strategies/shared", headers=b, json={"token": token3}).status_code == 404
    assert service.client.put(f"/leaderboard/{sid}/review", headers=b,
                              json={"rating": 4, "share_token": token3}).status_code == 404


def test_recalculate_is_for_the_owner_or_an_admin(service: Any) -> None:
    from server.models import Strategy

    a = service.user("a@example.com")
    admin = service.user("admin@example.com")
    service.make_admin("admin@example.com")
    sid = _create(service, a)["id"]
    service.client.put(f"/strategies/{sid}/results", headers=a, json={"backtest": _run(30)})
    service.client.post(f"/strategies/{sid}/share", headers=a, json={"visibility": "public"})
    with service.db() as db:  # clones counted elsewhere: the stored score is stale until rescored
        db.execute(update(Strategy).where(Strategy.id == sid).values(clone_count=999))
        db.commit()
    before = service.client.get(f"/leaderboard/{sid}", headers=a).json()["rank_score"]
    r = service.client.post(f"/strategies/{sid}/recalculate", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["rank_score"] > before and not r.json()["mine"]
    actions = [e["action"] for e in service.client.get("/admin/audit", headers=admin).json()["items"]]
    assert "admin.strategy_recalculate" in actions
    assert service.client.post(f"/strategies/{sid}/recalculate", headers=a).status_code == 200
    bad = {"backtest": {"points": [[T0 + DAY, 100], [T0, 100]], "trades": []}}
    assert service.client.put(f"/strategies/{sid}/results", headers=a, json=bad).status_code == 422
    assert service.client.put(f"/strategies/{sid}/results", headers=a, json={}).status_code == 422
    # a live run alone keeps the stored backtest
    live = service.client.put(f"/strategies/{sid}/results", headers=a, json={"live": _run(5, days=20)}).json()
    assert live["scorecard"]["oos_source"] == "live" and len(live["backtest_curve"]) == 200


def test_publishing_a_strategy_reaches_followers_feeds_and_leaves_them_when_it_stops_being_public(
        service: Any) -> None:
    a, b = service.user("pub@example.com"), service.user("fan@example.com")
    c_ = service.client
    a_id = c_.get("/me", headers=a).json()["id"]
    assert c_.post(f"/social/users/{a_id}/follow", headers=b).status_code in (200, 201)
    s = _create(service, a, name="Gap fill")

    def feed() -> list[tuple[str, int, str]]:
        return [(i["kind"], i["ref_id"], i["summary"]) for i in c_.get("/social/feed", headers=b).json()]

    assert c_.post(f"/strategies/{s['id']}/share", headers=a, json={"visibility": "unlisted"}).status_code == 200
    assert feed() == []  # an unlisted link is not announced
    assert c_.post(f"/strategies/{s['id']}/share", headers=a, json={"visibility": "public"}).status_code == 200
    assert feed() == [("strategy", s["id"], "published the strategy Gap fill")]
    c_.post(f"/strategies/{s['id']}/share", headers=a, json={"visibility": "public"})  # again: one line
    assert len(feed()) == 1
    assert c_.delete(f"/strategies/{s['id']}/share", headers=a).status_code == 200
    assert feed() == []
    c_.post(f"/strategies/{s['id']}/share", headers=a, json={"visibility": "public"})
    assert len(feed()) == 1
    assert c_.delete(f"/strategies/{s['id']}", headers=a).status_code == 200
    assert feed() == []
