"""The news feature in the workstation: the first refresh (a worker) stores the demo
headlines so the dock is not empty; a Red news dock follows the Red chart's symbol; the
interval setting and the CLI verb are declared."""
from __future__ import annotations

import pytest

from app.links import LinkGroup
from app.main import build_workstation, open_workspace
from engine.news.service import NewsService


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


def test_news_sentiment_reaches_the_chart_pane_and_the_alerts(ws, qtbot):
    """In the workstation: + Indicator offers the pane; a refresh that stores headlines
    recomputes it; an alert on `sentiment(days)` reads the same stored news."""
    import numpy as np

    from app.features.alerts import alert_service
    from app.features.news import refresher
    from engine.alerts import AlertTemplate, Scope
    from widgets.chart.sentiment import STUDY_NAME

    ctx = ws.ctx
    chart = ctx.active_chart
    qtbot.waitUntil(lambda: chart.bars is not None, timeout=20000)
    chart._fill_indicator_menu()
    (action,) = [a for a in chart.indicator_menu.actions() if a.text() == STUDY_NAME]
    action.trigger()
    qtbot.waitUntil(lambda: STUDY_NAME in chart.panes, timeout=20000)
    values = lambda: chart.panes[STUDY_NAME].series[STUDY_NAME].y  # noqa: E731
    assert np.isnan(values()).all()  # nothing stored yet
    refresher(ctx).run()  # demo headlines stored in a worker → NewsUpdated → the pane recomputes
    qtbot.waitUntil(lambda: int(np.isfinite(values()).sum()) > 0, timeout=30000)
    assert np.nanmax(np.abs(values())) <= 1.0
    svc = alert_service(ctx)
    svc.save(AlertTemplate("news", ("sentiment(120) > -1",), Scope("symbol", chart.symbol)))
    svc.save(AlertTemplate("no news", ("sentiment(120) > -1",), Scope("symbol", "NO-NEWS-SYMBOL")))
    fired = svc.evaluate(svc._load_panel([chart.symbol], "1d", 130))
    assert [(e.alert_name, e.symbol) for e in fired] == [("news", chart.symbol)]
    assert -1.0 < fired[0].values["sentiment(120)"] <= 1.0
