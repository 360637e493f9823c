"""The social feature in the workstation: the Copy trading dock lists a copy with its
settings, status and tracking figures and the copied trades next to their originals (a real
engine over the app's paper session); pause/resume/stop from the buttons; the Social dock
says to sign in when nobody is (the tests run without a service)."""
from __future__ import annotations

import os
import time
from decimal import Decimal as D
from pathlib import Path

from tests.sync.conftest import loopback  # noqa: F401 - the loopback service fixture


def _shot(widget, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("STOCKSCANNER_SHOTS") or tmp_path)
    widget.grab().save(str(folder / name))


def test_copy_trading_dock_shows_copies_trades_and_commands(ws, qtbot, tmp_path):
    from app.social import SocialDesk
    from engine.copytrading import CopySettings, LeaderTrade
    from engine.paper.orders import Quote
    from engine.paper.session import PaperSession

    desk = ws.ctx.service(SocialDesk)
    session = ws.ctx.service(PaperSession)
    account = session.accounts()[0]
    now = int(time.time() * 1000)
    session.apply_quotes([Quote("ACME", D("99.99"), D("100.01"), D("100"), now)])
    rel = desk.engine.start(account=account, settings=CopySettings.of(10_000, 2, 15, 4), leader_id=7,
                            leader_name="Ann Leader")
    desk.engine.on_trades([LeaderTrade(1, 7, "ACME", "buy", 100, D("99.95"), 100, 10_000_000, None, now),
                           LeaderTrade(2, 7, "ZZZ", "buy", 10, D("5"), 10, 10_000_000, None, now)])
    session.apply_quotes([Quote("ACME", D("100.09"), D("100.11"), D("100.10"), now + 1000)])
    widget = ws.window.show_dock("copytrading")
    qtbot.waitUntil(lambda: widget.table.rowCount() == 1 and widget.links.rowCount() == 2, timeout=20000)
    row = [widget.table.item(0, c).text() for c in range(widget.table.columnCount())]
    assert row[:7] == ["Ann Leader", account, "$10,000.00", "2 ×", "15 %", "4", "active"]
    assert row[10].endswith("%") and row[11].endswith("bps")
    links = {widget.links.item(r, 0).text(): [widget.links.item(r, c).text() for c in range(7)]
             for r in range(widget.links.rowCount())}
    assert links["Buy 100 ACME"][1:5] == ["$99.95", "Buy 20 (20 filled)", "$100.11", "+0.1600"]  # filled on the next quote
    assert links["Buy 10 ZZZ"][5] == "waiting"  # no quote of ZZZ yet
    assert widget.pause_button.isEnabled() and not widget.resume_button.isEnabled()
    ws.window.resize(1280, 800)
    qtbot.wait(100)
    assert ws.window.height() == 800  # the dock's form scrolls instead of growing the window
    _shot(ws.window, "copy-window.png", tmp_path)
    widget.resize(1280, 800)
    _shot(widget, "copy-dock.png", tmp_path)
    widget.max_open.setValue(7)
    widget.apply_button.click()
    qtbot.waitUntil(lambda: desk.engine.relationship(rel.id).settings.max_open == 7, timeout=10000)
    assert desk.engine.relationship(rel.id).settings.allocation == D("10000.00")  # the form's values
    widget.pause_button.click()
    qtbot.waitUntil(lambda: desk.engine.relationship(rel.id).status == "paused", timeout=10000)
    qtbot.waitUntil(lambda: widget.resume_button.isEnabled(), timeout=10000)
    widget.stop_button.click()
    qtbot.waitUntil(lambda: desk.engine.relationship(rel.id).status == "stopped", timeout=10000)
    qtbot.waitUntil(lambda: widget.table.item(0, 6).text().startswith("stopped"), timeout=10000)
    assert not widget.stop_button.isEnabled()
    # the close of the copied 20 ACME went to the account as a market sell
    assert any(o.side.value == "sell" and o.qty == 20 for o in session.broker.orders(account))


def test_social_dock_asks_to_sign_in_without_a_service(ws, qtbot, tmp_path):
    widget = ws.window.show_dock("social")
    qtbot.waitUntil(lambda: widget.message.text() != "", timeout=20000)
    assert "ign in" in widget.message.text() or "service" in widget.message.text().lower()
    assert [widget.tabs.tabText(i) for i in range(widget.tabs.count())] == ["Profile", "People", "Feed"]
    ws.window.resize(1280, 800)
    qtbot.wait(100)
    assert ws.window.height() == 800
    _shot(ws.window, "social-window.png", tmp_path)
    widget.tabs.setCurrentIndex(1)
    widget.resize(1280, 800)
    _shot(widget, "social-dock.png", tmp_path)


def test_social_dock_against_a_real_service_profile_people_follow_feed_and_copy(ws, qtbot, loopback, memory_keyring):
    """The workstation signed in to a loopback service: the profile loads and saves, People
    finds another user, Follow follows, the feed shows their published trade, Copy… fills the
    Copy trading form, and starting the copy begins after their last trade."""
    from app.features.account import hub
    from sync.client import ServiceClient, make_session
    from sync.social import SocialClient
    from sync.tokens import KeyringTokenStore
    from tests.sync.conftest import PASSWORD

    other = ServiceClient(loopback.url, KeyringTokenStore("other"), session=make_session(backoff_s=0.01))
    other.register("ann@example.com", PASSWORD)
    other.login("ann@example.com", PASSWORD)
    ann = SocialClient(other)
    ann.update_profile("Ann Leader", "momentum")
    ann.publish([{"key": "f1", "symbol": "ACME", "side": "buy", "qty": 100, "price": "101.5",
                  "position_after": 100, "time_ms": 1}])
    h = hub(ws.ctx)
    h.configure(loopback.url)
    h.client.register("me@example.com", PASSWORD)
    h.client.login("me@example.com", PASSWORD)

    widget = ws.window.show_dock("social")
    qtbot.waitUntil(lambda: "user id" in widget.counts.text(), timeout=20000)
    widget.name.setText("Me Trader")
    widget.bio.setPlainText("swing")
    widget.save_button.click()
    qtbot.waitUntil(lambda: widget.message.text() == "Profile saved.", timeout=10000)
    assert SocialClient(h.client).my_profile()["display_name"] == "Me Trader"

    widget.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: widget.people.rowCount() == 1, timeout=10000)
    assert widget.people.item(0, 0).text() == "Ann Leader"
    widget.people.selectRow(0)
    qtbot.waitUntil(lambda: "Not verified yet: 1 of 30" in widget.person.text(), timeout=10000)
    widget.follow_button.click()
    qtbot.waitUntil(lambda: widget.people.item(0, 2) is not None and widget.people.item(0, 2).text() == "yes",
                    timeout=10000)
    widget.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: widget.feed.count() == 1 and "Ann Leader: Buy 100 ACME at 101.5" in
                    widget.feed.item(0).text(), timeout=10000)

    copy = ws.window.show_dock("copytrading")
    widget.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: widget.people.rowCount() == 1, timeout=10000)
    widget.people.selectRow(0)
    widget.copy_button.click()
    assert copy.leader.text() == str(ann.my_profile()["id"]) and copy.leader_name == "Ann Leader"
    qtbot.waitUntil(lambda: copy.account.count() > 0, timeout=10000)
    copy.start_button.click()
    qtbot.waitUntil(lambda: copy.table.rowCount() == 1, timeout=15000)
    assert copy.table.item(0, 0).text() == "Ann Leader" and copy.message.text().startswith("Copying Ann Leader")
    from app.social import SocialDesk

    [rel] = ws.ctx.service(SocialDesk).relationships()
    assert rel.cursor == ann.my_trades()["last_id"]  # the trade published before is not copied
