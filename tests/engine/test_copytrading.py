"""The copy-trading engine over a real broker and session (no service): proportional sizing
with the multiplier, reductions and closes, max open positions, the allocation cap, the copy
stop-loss (stops and closes), pause (mirrors nothing, no replay), the market checks of the
ticket, and the tracking difference."""
from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from engine.copytrading import PAUSED, STOPPED, CopyEngine, CopyError, CopySettings, LeaderTrade
from engine.events import EventBus
from engine.paper import PaperBroker
from engine.paper.orders import Quote
from engine.paper.session import PaperSession
from engine.store.db import open_database

T0 = 1_700_000_000_000
LEADER = 7


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> int:
        return self.t


@pytest.fixture
def rig(tmp_path: Any) -> Any:
    clock = Clock()
    bus = EventBus()
    path = tmp_path / "store.sqlite3"
    db = open_database(path)
    broker = PaperBroker.open(path, bus=bus, clock=clock)
    broker.create_account("Paper", 100_000)
    broker.create_account("Copy", 50_000)
    session = PaperSession(broker, bus)
    engine = CopyEngine(db, session, clock=clock)

    class Rig:
        pass

    r = Rig()
    r.clock, r.broker, r.session, r.engine, r.db = clock, broker, session, engine, db

    def quote(symbol: str, price: str) -> list[Any]:
        clock.t += 1000
        p = D(price)
        fills = session.apply_quotes([Quote(symbol, p - D("0.01"), p + D("0.01"), p, clock.t)])
        engine.on_quotes()
        return fills

    r.quote = quote
    yield r
    session.close()
    broker.close()
    db.dispose()


_ids = iter(range(1, 10_000))


def trade(symbol: str, side: str, qty: int, price: str, after: int, equity_cents: int | None = 10_000_000,
          user: int = LEADER, strategy: int | None = None) -> LeaderTrade:
    return LeaderTrade(next(_ids), user, symbol, side, qty, D(price), after, equity_cents, strategy, T0)


def test_settings_are_checked() -> None:
    assert CopySettings.of("1000.005", "1.5", "25", 3) == CopySettings(D("1000.00"), D("1.5"), D("25"), 3)
    for bad in (("0",), ("100", "0"), ("100", "1", "101"), ("100", "1", "10", 0), ("x",)):
        with pytest.raises(CopyError):
            CopySettings.of(*bad)


def test_proportional_copy_reduce_close_and_tracking(rig: Any) -> None:
    e = rig.engine
    rig.quote("ACME", "100")
    rel = e.start(account="Copy", settings=CopySettings.of(10_000, 2, 50, 5), leader_id=LEADER, leader_name="Ann")
    # leader equity $100,000, allocation $10,000: 0.1 × 100 shares × multiplier 2 = 20
    [link] = e.on_trades([trade("ACME", "buy", 100, "99.90", 100)])
    assert (link.status, link.side, link.qty) == ("sent", "buy", 20)
    fills = rig.quote("ACME", "100")
    assert [(f.account, f.qty) for f in fills] == [("Copy", 20)]
    assert e.held(e.relationship(rel.id)) == {"ACME": 20}
    # the same trade again (a poll after the push) changes nothing
    assert e.on_trades([link.original]) == []  # type: ignore[list-item]
    # leader sells 40 of 100 -> the copy keeps 60 % of 20 = 12: sells 8
    [red] = e.on_trades([trade("ACME", "sell", 40, "101", 60)])
    assert (red.side, red.qty) == ("sell", 8)
    rig.quote("ACME", "101")
    # another leader's trade or a strategy's is not this copy's; a close of what the copy never held is listed
    [none] = e.on_trades([trade("OTHER", "sell", 10, "5", 0)])
    assert (none.status, none.reason) == ("skipped", "nothing to close: the copy holds no shares of it")
    assert e.on_trades([trade("ACME", "buy", 100, "101", 100, user=99)]) == []
    # leader closes -> the copy closes everything it holds
    [close] = e.on_trades([trade("ACME", "sell", 60, "102", 0)])
    assert (close.side, close.qty) == ("sell", 12)
    rig.quote("ACME", "102")
    assert e.held(e.relationship(rel.id)) == {}
    tr = e.tracking(rel.id)
    links = [lk for lk in e.links(rel.id) if lk.order_id]
    assert [lk.filled_qty for lk in links] == [12, 8, 20] and all(lk.original for lk in links)
    # the copier filled at its own quotes (ask on buys, bid on sells), the leader at its prices
    fill = {lk.original.id: lk.fill_price for lk in links if lk.original}  # type: ignore[union-attr]
    cash = -20 * fill[links[2].original.id] + 8 * fill[links[1].original.id] + 12 * fill[links[0].original.id]  # type: ignore[union-attr]
    fees = sum(f.fee for f in rig.broker.fills("Copy"))
    assert tr.pnl == (cash - fees).quantize(D("0.01")) and tr.fills == 3 and tr.open_positions == {}
    leader = -20 * D("99.90") + 8 * D("101") + 12 * D("102")
    assert tr.leader_return_pct == (leader / 10_000 * 100).quantize(D("0.01"))
    assert tr.difference_pct == tr.copier_return_pct - tr.leader_return_pct
    assert tr.slippage_bps is not None


def test_max_open_positions_and_allocation_cap(rig: Any) -> None:
    e = rig.engine
    for s in ("AAA", "BBB", "CCC"):
        rig.quote(s, "50")
    rel = e.start(account="Copy", settings=CopySettings.of(6_000, 1, 50, 2), leader_id=LEADER)
    # equity $60,000 -> scale 0.1: 500 shares -> 50 ($2,500 each)
    a, b, c = e.on_trades([trade("AAA", "buy", 500, "50", 500, 6_000_000), trade("BBB", "buy", 500, "50", 500, 6_000_000),
                           trade("CCC", "buy", 500, "50", 500, 6_000_000)])
    assert (a.qty, b.qty) == (50, 50)
    assert (c.status, c.reason) == ("skipped", "the copy already has its maximum of 2 open positions")
    # adding to AAA: 50 more would pass the $6,000 allocation ($5,000 open): cut to 20
    [more] = e.on_trades([trade("AAA", "buy", 500, "50", 1000, 6_000_000)])
    assert (more.status, more.qty) == ("sent", 20) and "within the allocation" in more.reason
    [none] = e.on_trades([trade("BBB", "buy", 500, "50", 1000, 6_000_000)])
    assert (none.status, none.reason) == ("skipped", "the allocation is used up")
    assert e.held(e.relationship(rel.id)) == {"AAA": 70, "BBB": 50}


def test_copy_stop_loss_stops_copying_and_closes_positions(rig: Any) -> None:
    e = rig.engine
    rig.quote("ACME", "100")
    rel = e.start(account="Copy", settings=CopySettings.of(10_000, 1, 10, 5), leader_id=LEADER)
    e.on_trades([trade("ACME", "buy", 50, "100", 50, 1_000_000)])  # equity $10,000: 50 shares
    rig.quote("ACME", "100")
    rig.quote("ACME", "85")  # -$750: within the $1,000 stop
    assert e.relationship(rel.id).status == "active"
    # after a restart, before ACME's first quote, the open shares have no mark: no false stop
    fresh = PaperSession(rig.broker, EventBus())
    assert CopyEngine(rig.db, fresh).check_stops() == [] and CopyEngine(rig.db, fresh).tracking(rel.id).complete is False
    fresh.close()
    rig.quote("ACME", "79")  # about -$1,050: stopped, and a market sell of the 50 shares placed
    rel = e.relationship(rel.id)
    assert rel.status == STOPPED and rel.reason.startswith("copy stop-loss hit")
    closing = e.links(rel.id)[0]
    assert (closing.original, closing.side, closing.qty, closing.status) == (None, "sell", 50, "sent")
    rig.quote("ACME", "79")
    assert e.held(rel) == {} and rig.broker.positions("Copy") == []
    # stopped: a new leader trade is not copied; pause/resume refuse
    assert e.on_trades([trade("ACME", "buy", 50, "79", 100, 1_000_000)]) == []
    with pytest.raises(CopyError):
        e.resume(rel.id)


def test_paused_copy_mirrors_nothing_and_does_not_replay(rig: Any) -> None:
    e = rig.engine
    rig.quote("ACME", "100")
    rel = e.start(account="Copy", settings=CopySettings.of(10_000), leader_id=LEADER)
    assert e.pause(rel.id).status == PAUSED
    [skipped] = e.on_trades([trade("ACME", "buy", 100, "100", 100)])
    assert (skipped.status, skipped.order_id, skipped.reason) == ("skipped", None, "copying was paused")
    assert rig.broker.orders("Copy") == []
    e.resume(rel.id)
    assert e.on_trades([skipped.original]) == []  # type: ignore[list-item]
    [sent] = e.on_trades([trade("ACME", "buy", 100, "100", 200)])
    assert (sent.status, sent.qty) == ("sent", 10)
    assert len(rig.broker.orders("Copy")) == 1


def test_copied_orders_meet_the_tickets_market_checks_and_wait_for_a_quote(rig: Any) -> None:
    e = rig.engine
    rel = e.start(account="Copy", settings=CopySettings.of(10_000), strategy_id=42)
    [waiting] = e.on_trades([trade("NEWCO", "buy", 100, "20", 100, strategy=42)])
    assert waiting.status == "waiting" and "NEWCO" in rig.session.watched_symbols()
    rig.quote("NEWCO", "20")  # the quote arrives: sent, then filled on the next one
    [link] = e.links(rel.id)
    assert (link.status, link.qty) == ("sent", 10) and link.order_id
    rig.quote("NEWCO", "20")
    assert e.links(rel.id)[0].filled_qty == 10
    # more than the account's cash (the allocation is bigger than the account): the broker's refusal
    e2 = e.start(account="Copy", settings=CopySettings.of(1_000_000), leader_id=LEADER)
    [big] = e.on_trades([trade("NEWCO", "buy", 10_000, "20", 10_000, equity_cents=None)])
    assert big.relationship_id == e2.id and big.status == "refused", big
    assert big.reason.startswith("order rejected:"), big.reason
