"""Journey: three round trips in the paper broker → three journal entries with chart
snapshots, by themselves → tag one "FOMO" in the Journal dock's editor (autosaved) → the
monthly review shows the FOMO breakdown and its recommendation; exports as PDF and HTML.

Fills go through the app's path (broker → bus → bridge → the journal feature's
subscription → a worker syncs the journal); the round trips are made with the broker's own
commands and scripted quotes, after the live quote timer is stopped."""
from decimal import Decimal as D

from PySide6.QtCore import QThread

from app.main import build_workstation, open_workspace
from app.trading import trading_session
from engine.journal.review import DEFAULT_RULES, Rule
from engine.journal.store import JournalStore
from engine.paper.orders import OrderRequest, OrderType, Side


def test_three_round_trips_become_entries_tagged_and_reviewed(home, qtbot, tmp_path):
    ws = build_workstation()
    win, ctx = ws.window, ws.ctx
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    open_workspace(ws)
    session = trading_session(ctx)
    session.stop()
    qtbot.waitUntil(lambda: not session.busy, timeout=5000)
    broker = ctx.broker
    sym = ctx.data.demo_symbols()[0]
    journal = ctx.service(JournalStore)
    dock = win.show_dock("journal")
    assert dock.objectName() == "journal_widget" and dock.entries == []

    # the journal's sync must run off the GUI thread
    from engine.journal import paper as paper_mod
    threads = []
    real_sync = paper_mod.sync_paper

    def spy(*a, **k):
        threads.append(QThread.currentThread())
        return real_sync(*a, **k)

    paper_mod.sync_paper = spy
    import app.features.journal  # noqa: F401 - the worker resolves sync_paper at request time
    try:
        for buy_at, sell_at in (("100", "103"), ("100", "96"), ("100", "101")):
            broker.on_quote(sym, D(buy_at) - D("0.05"), D(buy_at))
            broker.submit("Paper", OrderRequest(sym, Side.BUY, 10, OrderType.MARKET))
            broker.on_quote(sym, D(buy_at) - D("0.05"), D(buy_at))
            broker.submit("Paper", OrderRequest(sym, Side.SELL, 10, OrderType.MARKET))
            broker.on_quote(sym, D(sell_at), D(sell_at) + D("0.05"))
        qtbot.waitUntil(lambda: journal.count() == 3, timeout=15000)
    finally:
        paper_mod.sync_paper = real_sync
    assert threads and all(t is not QThread.currentThread() for t in threads)
    qtbot.waitUntil(lambda: len(dock.entries) == 3, timeout=5000)
    assert all(e.has_snapshot for e in dock.entries)
    assert all(journal.snapshot(e.id).startswith(b"\x89PNG") for e in dock.entries)
    # gross -40 / +10 / +30, net of the default commission (IBKR Pro fixed: the $1.00 minimum
    # on each 10-share fill, $2.00 a round trip)
    assert sorted(float(e.trip.net_pnl) for e in dock.entries) == [-42.0, 8.0, 28.0]

    # --- tag the losing trade "FOMO" in the editor, as a user would
    loser = next(e for e in dock.entries if e.trip.net_pnl < 0)
    dock.select_entry(loser.id)
    assert dock.editor.isEnabled() and sym in dock.editor.title.text()
    dock.editor.emotion_before.setEditText("FOMO")
    qtbot.keyClicks(dock.editor.tags, "FOMO")
    qtbot.keyClicks(dock.editor.notes, "Chased the open.")
    qtbot.waitUntil(lambda: journal.get(loser.id).fields.notes == "Chased the open.", timeout=3000)  # autosaved
    saved = journal.get(loser.id).fields
    assert saved.emotion_before == "FOMO" and saved.tags == ("FOMO",)
    win.grab().save(str(tmp_path / "journal-dock.png"))

    # --- the monthly review: with the default minimums three trades recommend nothing
    dock.tabs.setCurrentIndex(2)
    dock.period.setCurrentText("month")
    dock.review_btn.click()
    qtbot.waitUntil(lambda: dock.last_review is not None, timeout=10000)
    assert dock.last_review.recommendations == ()
    assert dock.last_review.by_emotion_before["FOMO"].n == 1
    # rules lowered to one trade (a setting of the review, shown in the report): FOMO is named
    dock.rules = tuple(Rule(r.name, 1, r.threshold) for r in DEFAULT_RULES)
    dock.last_review = None
    dock.review_btn.click()
    qtbot.waitUntil(lambda: dock.last_review is not None, timeout=10000)
    rv = dock.last_review
    fomo = rv.by_emotion_before["FOMO"]
    assert (fomo.n, fomo.net_pnl) == (1, -42.0)
    advice = [r for r in rv.recommendations if "FOMO" in r.advice]
    assert advice and "expectancy -$42.00 per trade on trades entered while 'FOMO'" in advice[0].evidence
    text = dock.report.toPlainText()
    assert "Pause before entering while 'FOMO'" in text and "FOMO" in text.split("P&L by emotion")[1]
    win.grab().save(str(tmp_path / "journal-review.png"))
    pdf = dock.export_report(tmp_path / "review.pdf")
    html = dock.export_report(tmp_path / "review.html")
    assert pdf.read_bytes().startswith(b"%PDF") and "FOMO" in html.read_text()
