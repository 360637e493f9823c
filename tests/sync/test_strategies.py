"""sync.strategies: the docks' service against a real service on loopback."""
from __future__ import annotations

from typing import Any

import pytest

from engine.community.strategies import StrategyDef, StrategyError, StrategyStore
from engine.research.service import ResearchService
from sync.client import NotFound, ServiceClient, make_session
from sync.strategies import CommunityService, NotConfigured
from sync.tokens import KeyringTokenStore
from tests.sync.conftest import PASSWORD

UP_DAYS = StrategyDef("Up days", "swing", "close > open", "close < open", "percent_equity", 20.0,
                      universe="symbol:ACME")


def _client(loopback: Any, email: str) -> ServiceClient:
    c = ServiceClient(loopback.url, KeyringTokenStore(f"{loopback.url}/{email}"), session=make_session(backoff_s=0.01))
    c.register(email, PASSWORD)
    c.login(email, PASSWORD)
    return c


def test_backtest_publish_share_clone_review_and_revoke(loopback: Any, memory_keyring: Any, db: Any) -> None:
    store = StrategyStore(db)
    research = ResearchService(db)
    a = CommunityService(store, research, lambda: _a)
    _a = _client(loopback, "a@example.com")
    b = CommunityService(store, research, lambda: _b)
    _b = _client(loopback, "b@example.com")

    s = a.save(UP_DAYS)
    with pytest.raises(StrategyError, match="backtest"):
        a.publish(s)
    bt = a.backtest(s)
    assert bt.symbols == ("ACME",) and len(bt.trades) >= 30
    s = store.get(s.id or 0)
    assert s is not None and s.results["backtest"]["points"]
    detail = a.publish(s)
    assert detail["ranked"] and detail["trades"] == len(bt.trades)
    s = store.get(s.id or 0)
    assert s is not None and s.remote_id == detail["id"]
    # not on the board until public
    assert b.leaderboard()["items"] == []
    a.share(s, "public")
    board = b.leaderboard(category="swing")
    assert [r["name"] for r in board["items"]] == ["Up days"]
    rid = board["items"][0]["id"]
    assert [c["count"] for c in b.categories() if c["key"] == "swing"] == [1]
    # B clones into the local strategies (lineage kept) and rates it
    mine = b.clone(rid)
    assert mine.parent_remote_id == rid and mine.remote_id not in (None, rid) and mine.name == "Up days (clone)"
    assert mine.rules() == {**UP_DAYS.rules(), "sizing": {**UP_DAYS.rules()["sizing"]}}
    got = b.review(rid, 4, "steady")
    assert got["rating"] == 4.0 and got["clone_count"] == 1
    # renaming a published strategy updates the service's copy
    from dataclasses import replace

    a.save(replace(store.get(s.id or 0), name="Up days v2"))  # type: ignore[arg-type]
    assert b.detail(rid)["name"] == "Up days v2"
    # unlisted link, then revoke
    s = store.get(s.id or 0)
    assert s is not None
    token = a.share(s, "unlisted", 3)["token"]
    assert b.leaderboard()["items"] == []
    assert b.open_shared(token)["id"] == rid
    a.revoke(store.get(s.id or 0))  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        b.open_shared(token)
    with pytest.raises(NotFound):
        b.detail(rid)
    # delete removes the service copy too
    a.delete(store.get(s.id or 0))  # type: ignore[arg-type]
    assert store.get(s.id or 0) is None
    with pytest.raises(NotFound):
        a.api().get(rid)


def test_without_a_service_the_calls_say_so(db: Any) -> None:
    svc = CommunityService(StrategyStore(db), ResearchService(db), lambda: None)
    saved = svc.save(UP_DAYS)  # local work needs no service
    assert saved.id is not None
    with pytest.raises(NotConfigured, match="Service URL"):
        svc.leaderboard()
