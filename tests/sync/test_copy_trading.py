"""Copy trading end to end on loopback: a real service (uvicorn on 127.0.0.1), two users, each
with their own local store and paper broker. The leader publishes paper fills; the follower's
paper account gets the scaled trade (push: < 1 s; poll: within one sync interval); the copy
stop-loss stops copying and closes the copied position; paused copying mirrors nothing."""
from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest

from engine.copytrading import PAUSED, STOPPED, CopyEngine, CopySettings
from engine.events import EventBus
from engine.paper import OrderRequest, PaperBroker
from engine.paper.orders import Quote
from engine.paper.session import PaperSession
from engine.store.db import open_database
from sync.client import ServiceClient, make_session
from sync.copy import CopySync
from sync.social import SocialClient, TradePublisher
from sync.tokens import KeyringTokenStore
from tests.sync.conftest import PASSWORD


class Desk:
    """One user's machine: a signed-in client, a local store, a broker, a session."""

    def __init__(self, loopback: Any, tmp_path: Any, name: str, account: str, cash: int) -> None:
        self.client = ServiceClient(loopback.url, KeyringTokenStore(name), session=make_session(backoff_s=0.01))
        email = f"{name}@example.com"
        self.client.register(email, PASSWORD)
        self.client.login(email, PASSWORD)
        self.social = SocialClient(self.client)
        self.social.update_profile(name.title(), f"{name}'s paper trades")
        self.id = int(self.social.my_profile()["id"])
        path = tmp_path / f"{name}.sqlite3"
        self.db = open_database(path)
        self.bus = EventBus()
        self.broker = PaperBroker.open(path, bus=self.bus)
        self.broker.create_account(account, cash)
        self.account = account
        self.session = PaperSession(self.broker, self.bus, account=account)

    def quote(self, symbol: str, price: str) -> list[Any]:
        p = D(price)
        return self.session.apply_quotes([Quote(symbol, p - D("0.01"), p + D("0.01"), p, int(time.time() * 1000))])

    def close(self) -> None:
        self.session.close()
        self.broker.close()
        self.db.dispose()


@pytest.fixture
def desks(loopback: Any, tmp_path: Any, memory_keyring: Any) -> Any:
    leader = Desk(loopback, tmp_path, "leader", "Paper", 100_000)
    follower = Desk(loopback, tmp_path, "follower", "Copy", 50_000)
    yield leader, follower
    leader.close()
    follower.close()


def wait_for(cond: Callable[[], bool], timeout_s: float) -> float:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"not within {timeout_s} s")
        time.sleep(0.002)
    return time.monotonic() - t0


def leader_trades(leader: Desk, publisher: TradePublisher, side: str, qty: int, price: str) -> float:
    """The leader's market order fills and the leader's app publishes it; the time it was
    published (monotonic, just before the publishing request)."""
    leader.quote("ACME", price)
    assert leader.session.submit(OrderRequest("ACME", side, qty)).ok
    assert leader.quote("ACME", price), "the leader's market order filled"
    published = time.monotonic()
    status = publisher.publish_once()
    assert status.error == "" and status.published == 1, status
    return published


def test_leader_trade_reaches_the_follower_by_push_scaled_then_the_copy_stop_loss_closes(
        loopback: Any, desks: Any) -> None:
    leader, follower = desks
    publisher = TradePublisher(leader.social, leader.broker, "Paper", since_ms=0)
    [found] = follower.social.search("lead")
    assert found["id"] == leader.id
    engine = CopyEngine(follower.db, follower.session)
    rel = engine.start(account="Copy", settings=CopySettings.of(10_000, 2, 10, 5), leader_id=leader.id,
                       leader_name=found["display_name"], cursor=follower.social.last_trade_id(user_id=leader.id))
    follower.quote("ACME", "100")
    sync = CopySync(follower.social, engine, interval_s=30.0, push=True)  # the poll stays out of the way
    sync.start()
    try:
        wait_for(lambda: bool(loopback.app.state.__dict__.get("_state", {}).get("social_hub")
                              and loopback.app.state.social_hub._subs), 10)
        t0 = leader_trades(leader, publisher, "buy", 100, "100")
        wait_for(lambda: bool(follower.broker.orders("Copy")), 5)
        latency = time.monotonic() - t0
        print(f"leader fill -> follower order by push: {latency * 1000:.0f} ms")
        assert latency < 1.0
        wait_for(lambda: bool(engine.links(rel.id)), 2)  # the link is written just after the order
        assert sync.pushed == 1 and sync.polled == 0
        # leader equity $100,000 and allocation $10,000, multiplier 2: 100 × 0.1 × 2 = 20 shares
        fills = follower.quote("ACME", "100")
        assert [(f.account, f.side.value, f.qty) for f in fills] == [("Copy", "buy", 20)]
        [link] = engine.links(rel.id)
        assert link.original is not None and link.original.user_id == leader.id and link.original.qty == 100
        assert link.fill_price == fills[0].price and link.original.price == leader.broker.fills("Paper")[0].price
        assert engine.tracking(rel.id).slippage_bps is not None
        # the price falls: -$250 is within the $1,000 stop; -$1,050 is not
        follower.quote("ACME", "87.5")
        engine.on_quotes()
        assert engine.relationship(rel.id).status == "active"
        follower.quote("ACME", "47.5")
        engine.on_quotes()
        stopped = engine.relationship(rel.id)
        assert stopped.status == STOPPED and "copy stop-loss hit" in stopped.reason
        follower.quote("ACME", "47.5")
        assert follower.broker.positions("Copy") == []
        assert [lk.original is None for lk in engine.links(rel.id)] == [True, False]
        # copying has stopped: the leader's next trade is not mirrored
        orders = len(follower.broker.orders("Copy"))
        leader_trades(leader, publisher, "buy", 50, "48")
        time.sleep(0.3)
        assert len(follower.broker.orders("Copy")) == orders
    finally:
        sync.stop()


def test_poll_fallback_within_one_sync_interval_and_paused_copying_mirrors_nothing(
        loopback: Any, desks: Any) -> None:
    leader, follower = desks
    publisher = TradePublisher(leader.social, leader.broker, "Paper", since_ms=0)
    follower.social.follow(leader.id)
    engine = CopyEngine(follower.db, follower.session)
    rel = engine.start(account="Copy", settings=CopySettings.of(5_000), leader_id=leader.id, cursor=0)
    follower.quote("ACME", "100")
    interval = 1.0
    sync = CopySync(follower.social, engine, interval_s=interval, push=False)
    sync.start()
    try:
        t0 = leader_trades(leader, publisher, "buy", 100, "100")
        wait_for(lambda: bool(follower.broker.orders("Copy")), interval + 2)
        latency = time.monotonic() - t0
        print(f"leader fill -> follower order by polling every {interval:g} s: {latency * 1000:.0f} ms")
        assert latency <= interval + 0.5 and sync.polled == 1
        assert follower.broker.orders("Copy")[0].qty == 5  # 100 × $5,000 / $100,000
        engine.pause(rel.id)
        assert engine.relationship(rel.id).status == PAUSED
        leader_trades(leader, publisher, "buy", 100, "101")
        wait_for(lambda: len(engine.links(rel.id)) == 2, interval + 2)
        assert engine.links(rel.id)[0].status == "skipped" and len(follower.broker.orders("Copy")) == 1
        engine.resume(rel.id)
        sync.wake()
        leader_trades(leader, publisher, "sell", 200, "102")  # the leader closes: the copy closes its 5
        wait_for(lambda: len(follower.broker.orders("Copy")) == 2, interval + 2)
        last = follower.broker.orders("Copy")[-1]
        assert (last.side.value, last.qty) == ("sell", 5)
        # the feed shows the leader's published trades to the follower
        feed = follower.social.feed()
        assert [(i["kind"], i["trade"]["side"], i["trade"]["qty"]) for i in feed] == [
            ("trade", "sell", 200), ("trade", "buy", 100), ("trade", "buy", 100)]
    finally:
        sync.stop()
