"""The social feature in the workstation: the Copy trading dock lists a copy with its
settings, status and tracking figures and the copied trades next to their originals (a real
engine over the app's paper session); pause/resume/stop from the buttons; the Social dock
says to sign in when nobody is (the tests run without a service)."""
from __future__ import annotations

import os
import time
from decimal import Decimal as D
from pathlib import Path


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
    widget.tabs.setCurrentIndex(1)
    widget.resize(1280, 800)
    _shot(widget, "social-dock.png", tmp_path)
