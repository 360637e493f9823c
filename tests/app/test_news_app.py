"""The news feature in the workstation: the first refresh (a worker) stores the demo
headlines so the dock is not empty; a Red news dock follows the Red chart's symbol; the
interval setting and the CLI verb are declared."""
from __future__ import annotations

import pytest

from app.links import LinkGroup
from app.main import build_workstation, open_workspace
from engine.news.service import NewsService


@pytest.fixture
def ws(home, qtbot):
    w = build_workstation()
    qtbot.addWidget(w.window)
    w.window.resize(1280, 800)
    w.window.show()
    open_workspace(w)
    yield w
    qtbot.waitUntil(lambda: not w.ctx.tasks.active, timeout=20000)
    from shiboken6 import isValid

    if isValid(w.window):
        w.window._really_quit = True
    w.close()


def test_refresh_in_a_worker_fills_the_demo_dock_and_it_follows_the_red_chart(ws, qtbot):
    ctx = ws.ctx
    from app.features.news import refresher

    chart = ctx.active_chart
    qtbot.waitUntil(lambda: chart.bars is not None, timeout=20000)
    dock = ctx.window.show_dock("news")
    assert ctx.window.docks["news"].objectName() == "news"
    assert ctx.links.group("news") is LinkGroup.RED
    refresher(ctx).run()
    qtbot.waitUntil(lambda: len(dock.rows()) > 0, timeout=30000)  # NewsUpdated → reload, on the GUI thread
    assert dock.symbol == chart.symbol
    assert {r.symbols for r in dock.rows()} == {(chart.symbol,)}
    other = next(s for s in ctx.data.demo_symbols() if s != chart.symbol)
    chart.open_symbol(other)
    qtbot.waitUntil(lambda: dock.symbol == other, timeout=20000)
    assert dock.rows() and all(other in r.symbols for r in dock.rows())
    # a Blue news dock does not follow the Red chart
    ctx.links.set_group("news", LinkGroup.BLUE)
    chart.open_symbol(chart.symbol if chart.symbol != other else ctx.data.demo_symbols()[0])
    qtbot.wait(200)
    assert dock.symbol == other
    qtbot.waitUntil(lambda: not ctx.tasks.active, timeout=20000)
    assert ctx.service(NewsService).unread_count() == 448


def test_feature_declares_the_dock_setting_and_verb():
    from app.features import FEATURES

    f = next(f for f in FEATURES if f.id == "news")
    assert [d.id for d in f.docks] == ["news"] and f.docks[0].linkable
    key = next(k for k in f.settings if k.key == "news/refresh_min")
    assert key.default == 15 and key.validator(0) and key.validator(1441) and key.validator(15) is None
    assert [v.name for v in f.cli_verbs] == ["sentiment"]
