"""The news dock over a real store with the demo headlines: never empty, filtered by symbol,
watchlist and search text, read state that persists, articles opened in the browser."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices

from engine.events import EventBus
from engine.news.service import NewsService
from engine.store import open_database
from tests.engine.news.stubs import headline
from widgets.news import NewsWidget, sentiment_colour


def _service(db):
    svc = NewsService(db, EventBus(), yahoo=lambda s: [], fetch=lambda u: b"")
    svc.ensure_demo()
    return svc


@pytest.fixture
def svc(db):
    return _service(db)


def _dock(qtbot, svc, lists=None):
    lists = lists or {"Tech": ["INITK", "TYRLL"]}
    w = NewsWidget(svc, lambda: list(lists), lambda n: lists[n])
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    return w


def test_demo_dock_is_not_empty_and_labelled(qtbot, svc):
    w = _dock(qtbot, svc)
    assert w.scope.currentData() == "symbol" and w.symbol == ""
    rows = w.rows()
    assert len(rows) == 448 and all(r.demo for r in rows)
    assert "448 headlines for all symbols, 448 unread" in w.status.text()
    assert "demo headlines are generated" in w.status.text()
    src = w.model.columns[[c.title for c in w.model.columns].index("Source")]
    assert src.text(rows[0]).startswith("Demo · ")


def test_filter_by_symbol_watchlist_and_search(qtbot, svc):
    w = _dock(qtbot, svc)
    w.set_symbol("acme")
    assert w.rows() and {r.symbols for r in w.rows()} == {("ACME",)}
    assert len(w.rows()) == 8
    w.set_scope("watchlist:Tech")
    assert {r.symbols[0] for r in w.rows()} == {"INITK", "TYRLL"} and len(w.rows()) == 16
    w.set_scope("symbol")
    w.search.setText("guidance")
    assert all("guidance" in r.title.lower() for r in w.rows())
    assert all(r.symbols == ("ACME",) for r in w.rows())
    w.search.setText("no such words anywhere")
    assert w.rows() == [] and w.status.text().startswith("No headlines for ACME.")


def test_marking_read_persists(qtbot, home):
    db = open_database()
    w = _dock(qtbot, _service(db))
    w.set_symbol("ACME")
    w.table.selectRow(0)
    first = w.table.selected_rows()[0]
    assert not first.read
    font = Qt.ItemDataRole.FontRole
    assert w.model.data(w.model.index(w.model.rows.index(first), 3), font).bold()  # unread is bold
    w.mark_selected(True)
    i = next(i for i, r in enumerate(w.rows()) if r.id == first.id)
    assert w.rows()[i].read and w.model.data(w.model.index(i, 3), font) is None
    w.unread_only.setChecked(True)
    assert first.id not in [r.id for r in w.rows()] and len(w.rows()) == 7
    db.dispose()
    w2 = _dock(qtbot, _service(open_database()))  # a restart
    w2.set_symbol("ACME")
    assert next(r for r in w2.rows() if r.id == first.id).read


def test_open_article_uses_the_system_browser_and_marks_read(qtbot, svc, monkeypatch):
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True))
    svc.store.add([(headline("Initech wins a contract", "https://wire.example/initech", ["INITK"]), 0.6,
                    "positive")])
    w = _dock(qtbot, svc)
    w.set_symbol("INITK")
    real = next(i for i, r in enumerate(w.rows()) if not r.demo)
    w.table.selectRow(real)
    w.open_selected()
    assert [u.toString() for u in opened] == ["https://wire.example/initech"]
    assert next(r for r in w.rows() if not r.demo).read
    # a demo headline has no article: nothing opened, the status says why
    demo = next(i for i, r in enumerate(w.rows()) if r.demo)
    w.table.selectRow(demo)
    w.open_selected()
    assert len(opened) == 1 and "no article" in w.status.text()


def test_sentiment_badge_colour_follows_the_score():
    assert sentiment_colour(0.8).name() == "#26a69a"
    assert sentiment_colour(-0.8).name() == "#ef5350"
    assert sentiment_colour(0.0).name() == "#5f6672"
    assert sentiment_colour(0.1).alphaF() < sentiment_colour(0.9).alphaF()


def test_state_round_trip(qtbot, svc):
    w = _dock(qtbot, svc)
    w.set_scope("watchlist:Tech")
    w.unread_only.setChecked(True)
    w2 = _dock(qtbot, svc)
    w2.restore_state(w.state())
    assert w2.scope.currentData() == "watchlist:Tech" and w2.unread_only.isChecked()
