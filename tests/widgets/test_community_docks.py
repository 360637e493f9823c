"""My strategies and Leaderboard docks against a real service on loopback: edit → backtest in
a worker → publish → share; another user finds it on the board, opens the detail, rates and
clones it; an unlisted link opens it and a revoke closes it."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.sync.conftest import PASSWORD, LoopbackService

GRABS = os.environ.get("COMMUNITY_GRABS", "")


@pytest.fixture
def tasks(qtbot: Any) -> Iterator[Any]:
    from app.workers import TaskRunner

    runner = TaskRunner()
    yield runner
    runner.wait_all(20000)


def _client(loopback: LoopbackService, email: str) -> Any:
    from sync.client import ServiceClient, make_session
    from sync.tokens import KeyringTokenStore

    c = ServiceClient(loopback.url, KeyringTokenStore(f"{loopback.url}/{email}"), session=make_session(backoff_s=0.01))
    c.register(email, PASSWORD)
    c.login(email, PASSWORD)
    return c


def _services(loopback: LoopbackService, tmp_path: Any) -> tuple[Any, Any, Any]:
    from engine.community.strategies import StrategyStore
    from engine.research.service import ResearchService
    from engine.store import open_database
    from sync.strategies import CommunityService

    db_a, db_b = open_database(tmp_path / "a.sqlite3"), open_database(tmp_path / "b.sqlite3")
    ca, cb = _client(loopback, "a@example.com"), _client(loopback, "b@example.com")
    a = CommunityService(StrategyStore(db_a), ResearchService(db_a), lambda: ca)
    b = CommunityService(StrategyStore(db_b), ResearchService(db_b), lambda: cb)
    return a, b, (db_a, db_b)


def _grab(w: Any, name: str) -> None:
    if GRABS:
        w.resize(1280, 800)
        w.grab().save(os.path.join(GRABS, f"{name}.png"))


def test_publish_rank_detail_rate_clone_and_revoke(qtbot: Any, tasks: Any, loopback: LoopbackService,
                                                   tmp_path: Any, memory_keyring: Any) -> None:
    from widgets.community import LeaderboardWidget, MyStrategiesWidget

    a, b, dbs = _services(loopback, tmp_path)
    try:
        mine = MyStrategiesWidget(a, tasks)
        qtbot.addWidget(mine)
        mine.resize(1280, 800)
        mine.show()
        assert mine.name.text() == "New strategy" and not mine.share_btn.isEnabled()  # nothing published yet
        mine.name.setText("Up days")
        mine.category.setCurrentIndex(mine.category.findData("swing"))
        mine.entry.setPlainText("close > open")
        mine.exit.setPlainText("close < open")
        mine.universe.setEditText("symbol:ACME")
        mine.entry.setPlainText("sma(close, 5)")  # numbers, not a condition: refused with the reason
        mine.save_btn.click()
        assert "condition" in mine.status.text() and "#e57373" in mine.status.styleSheet()
        mine.entry.setPlainText("close > open")
        with qtbot.waitSignal(mine.backtest_finished, timeout=30000) as got:
            mine.backtest_btn.click()
        bt = got.args[0]
        assert len(bt.trades) >= 30 and mine.list.count() == 1
        x, y = mine.plot.backtest.getData()
        assert x is not None and len(x) == len(bt.time)
        assert mine.score.bars[("performance", "in_sample")].isEnabled()
        qtbot.waitUntil(lambda: mine.publish_btn.isEnabled(), timeout=10000)
        with qtbot.waitSignal(mine.published, timeout=20000) as pub:
            mine.publish_btn.click()
        assert pub.args[0]["ranked"]
        qtbot.waitUntil(lambda: mine.share_btn.isEnabled(), timeout=10000)
        with qtbot.waitSignal(mine.shared, timeout=20000):
            mine.share("public")
        assert "Public" in mine.status.text() and mine.revoke_btn.isEnabled()
        _grab(mine, "my_strategies")

        board = LeaderboardWidget(b, tasks)
        qtbot.addWidget(board)
        board.resize(1280, 800)
        with qtbot.waitSignal(board.page_loaded, timeout=20000):
            board.show()  # the first show fetches page 1
        assert board.model.rowCount() == 1 and not board.next_btn.isEnabled() and not board.prev_btn.isEnabled()
        with qtbot.waitSignal(board.detail_loaded, timeout=20000) as det:
            board.table.selectRow(0)
        d = det.args[0]
        assert d["name"] == "Up days" and "close > open" in board.rules.text()
        assert board.score.bars[("community", "in_sample")].value() == 30  # no ratings: 0.6 × 50
        assert "30 %" in board.score.total.text() or "live" in board.score.total.text()
        board.rating.setValue(4)
        board.review_text.setPlainText("steady")
        with qtbot.waitSignal(board.reviewed, timeout=20000):
            board.rate_btn.click()
        assert "steady" in board.reviews.text() and board.rate_btn.text() == "Edit my review"
        with qtbot.waitSignal(board.cloned, timeout=20000) as cl:
            board.clone_btn.click()
        assert cl.args[0].parent_remote_id == d["id"] and b.strategies()[0].name == "Up days (clone)"
        _grab(board, "leaderboard")
        board.category.setCurrentIndex(board.category.findData("momentum"))  # reloads page 1 of that category
        qtbot.waitUntil(lambda: board.model.rowCount() == 0, timeout=20000)

        # unlisted link, then revoke
        with qtbot.waitSignal(mine.shared, timeout=20000):
            mine.share("unlisted")
        token = mine.last_token
        assert token and token in mine.status.text()
        with qtbot.waitSignal(board.detail_loaded, timeout=20000):
            board.open_link(token)
        with qtbot.waitSignal(mine.shared, timeout=20000):
            mine.revoke()
        board.open_link(token)
        qtbot.waitUntil(lambda: "Cannot open the link" in board.status.text(), timeout=20000)
    finally:
        tasks.wait_all(20000)
        for db in dbs:
            db.dispose()


def test_run_live_in_a_paper_account_and_publish_its_results(qtbot: Any, tasks: Any, loopback: LoopbackService,
                                                              tmp_path: Any, memory_keyring: Any) -> None:
    from decimal import Decimal as D

    from engine.community.strategies import StrategyDef, StrategyStore
    from engine.events import EventBus
    from engine.paper import PaperBroker
    from engine.paper.orders import Quote
    from engine.paper.session import PaperSession
    from engine.research.service import ResearchService
    from engine.store import open_database
    from sync.strategies import CommunityService
    from widgets.community import MyStrategiesWidget

    now = [1_700_000_000_000]
    bus = EventBus()
    broker = PaperBroker.open(tmp_path / "paper.sqlite3", bus=bus, clock=lambda: now[0])
    broker.create_account("Paper", 50_000)
    main = PaperSession(broker, bus, clock=lambda: now[0])  # the app's session (its feed: the test)
    db = open_database(tmp_path / "a.sqlite3")
    client = _client(loopback, "a@example.com")
    svc = CommunityService(StrategyStore(db), ResearchService(db), lambda: client, lambda: (broker, bus, main))
    try:
        svc.save(StrategyDef("Always in", "long_term", "close > 0", None, "fixed_qty", 10, universe="symbol:ACME"))
        w = MyStrategiesWidget(svc, tasks)
        qtbot.addWidget(w)
        w.show()
        main.apply_quotes([Quote("ACME", D("99.95"), D("100.05"), None, now[0])])
        with qtbot.waitSignal(w.live_stepped, timeout=20000) as got:
            w.live_btn.click()
        assert [a.what for a in got.args[0]] == ["entry"], got.args[0]
        assert "strategy: Always in" in broker.accounts() and "Live in" in w.status.text()
        assert "ACME" in main.watched_symbols()  # the app's feed is asked for the universe's quotes
        now[0] += 60_000
        main.apply_quotes([Quote("ACME", D("100.95"), D("101.05"), None, now[0])])  # the app's feed fills it
        assert [p.qty for p in broker.positions("strategy: Always in")] == [10]
        assert broker.positions("Paper") == []  # the user's own account is untouched
        live = w.live.results()
        assert len(live["points"]) >= 2
        with qtbot.waitSignal(w.backtest_finished, timeout=30000):
            w.backtest_btn.click()
        qtbot.waitUntil(lambda: w.publish_btn.isEnabled(), timeout=10000)
        with qtbot.waitSignal(w.published, timeout=20000) as pub:
            w.publish_btn.click()
        assert pub.args[0]["scorecard"]["oos_source"] == "live" and len(pub.args[0]["live_curve"]) >= 2
        w.live_btn.click()
        assert w.live is None and "stopped" in w.status.text() and not w.live_timer.isActive()
        assert [p.qty for p in broker.positions("strategy: Always in")] == [10]  # the account keeps it
    finally:
        tasks.wait_all(20000)
        main.close()
        broker.close()
        db.dispose()
