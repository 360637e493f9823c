"""Social rules on the service (both databases): follow (no self-follow, no duplicates),
followers/following lists, block and report, avatars, publishing trades, the feed and the
verified badge (a 90-day record of >= 30 trades by the service's clock)."""
from __future__ import annotations

import base64
import datetime as dt
import io
from typing import Any


def _me(service: Any, h: dict[str, str]) -> int:
    return int(service.client.get("/me", headers=h).json()["id"])


def _people(service: Any, n: int) -> list[tuple[dict[str, str], int]]:
    out = []
    for i in range(n):
        h = service.user(f"p{i}@example.com")
        service.client.put("/social/profile", headers=h, json={"display_name": f"Trader {i}", "bio": "hi"})
        out.append((h, _me(service, h)))
    return out


def _trade(key: str, **kw: Any) -> dict[str, Any]:
    return {"key": key, "symbol": "ACME", "side": "buy", "qty": 100, "price": "10.25", "position_after": 100,
            "equity_cents": 10_000_000, "time_ms": 1_700_000_000_000, **kw}


def test_follow_rules_lists_and_counts(service: Any) -> None:
    (ha, a), (hb, b), (hc, c) = _people(service, 3)
    c_ = service.client
    r = c_.post(f"/social/users/{a}/follow", headers=ha)
    assert r.status_code == 422 and r.json()["error"]["code"] == "self_follow"
    assert c_.post(f"/social/users/{a}/follow", headers=hb).json() == {"leader_id": a, "following": True, "followers": 1}
    # following again changes nothing: one row, one follower
    assert c_.post(f"/social/users/{a}/follow", headers=hb).json()["followers"] == 1
    assert c_.post(f"/social/users/{a}/follow", headers=hc).json()["followers"] == 2
    assert c_.post("/social/users/999999/follow", headers=hb).status_code == 404
    assert [p["id"] for p in c_.get(f"/social/users/{a}/followers", headers=hb).json()] == [c, b]
    assert [p["id"] for p in c_.get("/social/following", headers=hb).json()] == [a]
    assert [p["id"] for p in c_.get("/social/followers", headers=ha).json()] == [c, b]
    prof = c_.get(f"/social/users/{a}", headers=hb).json()
    assert prof["followers"] == 2 and prof["is_following"] is True and prof["display_name"] == "Trader 0"
    assert "email" not in prof and "p0@example.com" not in str(prof)
    assert c_.delete(f"/social/users/{a}/follow", headers=hb).json() == {"leader_id": a, "following": False, "followers": 1}
    assert c_.delete(f"/social/users/{a}/follow", headers=hb).json()["followers"] == 1  # again: still not following
    found = c_.get("/social/users", headers=hb, params={"q": "trader"}).json()
    assert {p["id"] for p in found} == {a, c}  # not the caller


def test_block_hides_both_ways_ends_follows_and_report_reaches_admins(service: Any) -> None:
    (ha, a), (hb, b) = _people(service, 2)
    c_ = service.client
    c_.post(f"/social/users/{a}/follow", headers=hb)
    c_.post(f"/social/users/{b}/follow", headers=ha)
    c_.post("/social/trades", headers=ha, json={"trades": [_trade("t1")]})
    assert c_.post(f"/social/users/{b}/block", headers=ha).json() == {"user_id": b, "blocked": True}
    # follows both ways are gone; B cannot see or follow A, A cannot follow B
    assert c_.get("/social/following", headers=hb).json() == []
    assert c_.get("/social/following", headers=ha).json() == []
    for method, path in (("get", f"/social/users/{a}"), ("post", f"/social/users/{a}/follow"),
                         ("get", f"/social/users/{a}/trades"), ("get", f"/social/users/{a}/followers")):
        assert c_.request(method, path, headers=hb).status_code == 404, path
    assert c_.post(f"/social/users/{b}/follow", headers=ha).status_code == 404
    assert c_.get("/social/users", headers=hb).json() == []
    assert c_.get("/social/feed", headers=hb).json() == []
    assert [p["id"] for p in c_.get("/social/blocks", headers=ha).json()] == [b]
    # B can still report A; twice in a day is one report
    r1 = c_.post(f"/social/users/{a}/report", headers=hb, json={"reason": "scam", "note": "fake returns"})
    r2 = c_.post(f"/social/users/{a}/report", headers=hb, json={"reason": "scam"})
    assert r1.status_code == 202 and r1.json()["id"] == r2.json()["id"]
    assert c_.post(f"/social/users/{b}/report", headers=hb, json={"reason": "spam"}).status_code == 422
    assert c_.post(f"/social/users/{a}/report", headers=hb, json={"reason": "nope"}).status_code == 422
    assert c_.get("/admin/social/reports", headers=hb).status_code == 403
    service.make_admin("p0@example.com")
    reports = c_.get("/admin/social/reports", headers=ha).json()
    assert [(r["user_id"], r["target_id"], r["reason"], r["note"]) for r in reports] == [(b, a, "scam", "fake returns")]
    # unblocking restores visibility (not the follows)
    assert c_.delete(f"/social/users/{b}/block", headers=ha).json()["blocked"] is False
    assert c_.delete(f"/social/users/{b}/block", headers=ha).status_code == 404
    assert c_.get(f"/social/users/{a}", headers=hb).json()["is_following"] is False


def _png(w: int, h: int, fmt: str = "PNG") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (w, h), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def test_avatar_is_validated_size_limited_and_re_encoded(service: Any) -> None:
    from PIL import Image

    (ha, a), (hb, _b) = _people(service, 2)
    c_ = service.client

    def put(raw: bytes) -> Any:
        return c_.put("/social/profile/avatar", headers=ha, json={"image_base64": base64.b64encode(raw).decode()})

    assert put(b"GIF89a" + b"\0" * 64).json()["error"]["code"] == "invalid_image"
    assert put(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20).json()["error"]["code"] == "invalid_image"
    assert put(_png(3000, 10)).json()["error"]["message"].endswith("2048x2048 pixels.")
    assert put(_png(600, 400, "JPEG")).json()["has_avatar"] is True
    got = c_.get(f"/social/users/{a}/avatar", headers=hb)
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(got.content)) as img:
        assert img.format == "PNG" and img.size == (256, 171)
    assert put(b"\xff\xd8\xff" + b"\0" * 45_000).status_code == 422  # over 40 KiB
    huge = c_.put("/social/profile/avatar", headers=ha, json={"image_base64": "A" * 400_000})
    assert huge.status_code == 413  # the service's body limit stops it before it is read
    assert c_.delete("/social/profile/avatar", headers=ha).json()["has_avatar"] is False
    assert c_.get(f"/social/users/{a}/avatar", headers=hb).status_code == 404


def test_publish_is_idempotent_by_key_feeds_followers_and_only_the_owner_deletes(service: Any) -> None:
    (ha, a), (hb, b) = _people(service, 2)
    c_ = service.client
    assert c_.get("/social/users/%d/trades" % a, headers=hb).json() == {"items": [], "last_id": 0}
    first = c_.post("/social/trades", headers=ha, json={"trades": [_trade("f1"), _trade("f2", side="sell", qty=40,
                                                                                          position_after=60)]}).json()
    again = c_.post("/social/trades", headers=ha, json={"trades": [_trade("f1", qty=999)]}).json()
    assert again[0]["id"] == first[0]["id"] and again[0]["qty"] == 100
    assert c_.post("/social/trades", headers=ha, json={"trades": [_trade("x"), _trade("x")]}).status_code == 422
    assert c_.post("/social/trades", headers=ha, json={"trades": [_trade("y", price="-1")]}).status_code == 422
    page = c_.get(f"/social/users/{a}/trades", headers=hb, params={"after_id": first[0]["id"]}).json()
    assert [t["key"] for t in page["items"]] == ["f2"] and page["last_id"] == first[1]["id"]
    assert c_.get("/social/feed", headers=hb).json() == []  # B does not follow A yet
    c_.post(f"/social/users/{a}/follow", headers=hb)
    items = c_.get("/social/feed", headers=hb).json()
    assert [(i["kind"], i["summary"], i["display_name"]) for i in items] == [
        ("trade", "Sell 40 ACME at 10.25", "Trader 0"), ("trade", "Buy 100 ACME at 10.25", "Trader 0")]
    assert items[0]["trade"]["position_after"] == 60
    assert c_.get("/social/feed", headers=hb, params={"before_id": items[0]["id"]}).json()[0]["id"] == items[1]["id"]
    assert c_.delete(f"/social/trades/{first[0]['id']}", headers=hb).status_code == 404
    assert c_.delete(f"/social/trades/{first[0]['id']}", headers=ha).json() == {"id": first[0]["id"], "deleted": True}
    assert len(c_.get("/social/feed", headers=hb).json()) == 1
    c_.post("/social/trades", headers=ha, json={"trades": [_trade("s1", strategy_id=77)]})
    refused = c_.get("/social/strategies/77/trades", headers=hb)  # copying a strategy is Pro's
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "entitlement_required"
    from tests.server.billing_helpers import subscribe

    subscribe(service, hb, "pro")
    assert [t["key"] for t in c_.get("/social/strategies/77/trades", headers=hb).json()["items"]] == ["s1"]
    assert b != a


def test_publishing_is_capped_per_day(service: Any, monkeypatch: Any) -> None:
    from server.routers import social

    monkeypatch.setattr(social, "MAX_TRADES_PER_DAY", 3)
    (ha, _a), = _people(service, 1)
    c_ = service.client
    assert c_.post("/social/trades", headers=ha, json={"trades": [_trade("a"), _trade("b")]}).status_code == 200
    r = c_.post("/social/trades", headers=ha, json={"trades": [_trade("c"), _trade("d")]})
    assert r.status_code == 429 and r.headers["retry-after"] == "3600"
    # a retry of what was published already is not new
    assert c_.post("/social/trades", headers=ha, json={"trades": [_trade("a"), _trade("c")]}).status_code == 200


def test_verified_badge_needs_30_trades_over_a_90_day_record_by_service_time(service: Any) -> None:
    from sqlalchemy import update

    from server.social_models import PublishedTrade

    (ha, a), (hb, _b) = _people(service, 2)
    c_ = service.client
    # 30 trades today, client times 200 days back: the record is still 0 days old
    old_ms = int((dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=200)).timestamp() * 1000)
    c_.post("/social/trades", headers=ha, json={"trades": [_trade(f"k{i}", time_ms=old_ms) for i in range(30)]})
    prof = c_.get(f"/social/users/{a}", headers=hb).json()
    assert (prof["verified"], prof["trades_90d"], prof["record_days"]) == (False, 30, 0)
    now = dt.datetime.now(dt.timezone.utc)
    with service.db() as db:
        ids = [t.id for t in db.query(PublishedTrade).order_by(PublishedTrade.id)]
        # the first trade published 91 days ago, so 29 are in the window: not enough
        db.execute(update(PublishedTrade).where(PublishedTrade.id == ids[0]).values(created_at=now - dt.timedelta(days=91)))
        db.commit()
    prof = c_.get(f"/social/users/{a}", headers=hb).json()
    assert (prof["verified"], prof["trades_90d"], prof["record_days"]) == (False, 29, 91)
    c_.post("/social/trades", headers=ha, json={"trades": [_trade("k30")]})
    prof = c_.get(f"/social/users/{a}", headers=hb).json()
    assert (prof["verified"], prof["trades_90d"]) == (True, 30)


def test_the_event_stream_ends_when_the_session_does(service: Any) -> None:
    """An open ``/social/stream`` sends ``event: end`` within a poll of "sign out everywhere"
    (it used to stay open to its ``max_s``, up to 60 s)."""
    import threading
    import time

    h = service.user("streamer@example.com")
    lines: list[str] = []
    opened = threading.Event()

    def listen() -> None:
        with service.client.stream("GET", "/social/stream", headers=h, params={"max_s": 30}) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                lines.append(line)
                opened.set()

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    assert opened.wait(10)
    t0 = time.monotonic()
    assert service.client.post("/me/sessions/revoke-all", headers=h).status_code == 200
    t.join(15)
    assert not t.is_alive()
    assert time.monotonic() - t0 < 5
    assert "event: end" in lines and 'data: {"reason": "session_ended"}' in lines
