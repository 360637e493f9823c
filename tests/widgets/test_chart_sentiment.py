"""The chart's "News sentiment" study: its own pane with the daily mean compound of the
symbol's stored headlines, zero and ±0.05 levels, empty on days without news, saved with
the chart's state, recomputed after a news refresh."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from engine.events import EventBus
from engine.news.model import Headline
from engine.news.service import NewsService
from tests.widgets.stubs import FakeData, SyncTasks, make_bars
from widgets.chart import ChartWidget
from widgets.chart.sentiment import STUDY_NAME, SentimentBarsItem, attach_news_sentiment, refresh_news_sentiment

NOON_NY = 16 * 3600  # 12:00 in New York (UTC-4 in summer; make_bars starts 2020-09-13)


@pytest.fixture
def news(db):
    return NewsService(db, EventBus(), is_demo_symbol=lambda s: False)


def store(news, symbol, day_time, scores):
    rows = [(Headline.make(f"{symbol} {day_time} {k}", f"https://example.com/{symbol}/{day_time}/{k}", "Wire",
                           int(day_time) + NOON_NY + 60 * k, "rss", [symbol]), v, "neutral")
            for k, v in enumerate(scores)]
    news.store.add(rows)


def chart_with_study(qtbot, news):
    w = ChartWidget(FakeData(), SyncTasks())
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.set_formula_source(lambda t: None)
    attach_news_sentiment(w, lambda symbol, bars: news.daily_sentiment(symbol, bars).mean)
    w.show()
    qtbot.waitExposed(w)
    return w


def pick_from_menu(chart, label):
    chart._fill_indicator_menu()
    (action,) = [a for a in chart.indicator_menu.actions() if a.text() == label]
    action.trigger()


def test_pane_shows_the_daily_mean_with_levels_and_gaps(qtbot, news):
    bars = make_bars("ACME", seed=sum(map(ord, "ACME")))
    store(news, "ACME", bars.time[-1], [0.6, 0.2])  # last day: mean 0.4
    store(news, "ACME", bars.time[-3], [-0.5])
    chart = chart_with_study(qtbot, news)
    chart.open_symbol("ACME")
    pick_from_menu(chart, STUDY_NAME)
    pane = chart.panes[STUDY_NAME]
    assert pane.kind == "study" and chart.overlay_pane(STUDY_NAME) == "lower"
    assert sorted(pane.level_values()) == [-0.05, 0.0, 0.05]
    item = pane.series[STUDY_NAME]
    assert isinstance(item, SentimentBarsItem)
    y = item.y
    assert len(y) == len(bars)
    assert y[-1] == pytest.approx(0.4) and y[-3] == pytest.approx(-0.5)
    assert np.isnan(y[:-3]).all() and np.isnan(y[-2])  # days without news are empty
    import re

    legend = re.sub(r"<[^>]+>", "", pane.legend.text())  # the legend's entries are links
    assert "News sentiment 0.4" in legend
    lo, hi = pane.vb.viewRange()[1]
    assert lo < -0.5 and hi > 0.4  # the pane fits the bars and the levels


def test_a_symbol_without_news_still_gets_its_own_empty_pane(qtbot, news):
    chart = chart_with_study(qtbot, news)
    chart.open_symbol("QUIET")
    pick_from_menu(chart, STUDY_NAME)
    assert chart.overlay_pane(STUDY_NAME) == "lower"  # not on the price scale
    assert np.isnan(chart.panes[STUDY_NAME].series[STUDY_NAME].y).all()


def test_state_restores_the_pane_and_a_news_refresh_recomputes_it(qtbot, news):
    chart = chart_with_study(qtbot, news)
    chart.open_symbol("ACME")
    pick_from_menu(chart, STUDY_NAME)
    state = chart.state()
    assert state["news_sentiment"] is True
    again = chart_with_study(qtbot, news)
    again.restore_state(state)
    assert again.overlay_pane(STUDY_NAME) == "lower"
    last = again.bars.time[-1]
    assert np.isnan(again.panes[STUDY_NAME].series[STUDY_NAME].y[-1])
    store(news, "ACME", last, [-0.3])  # a refresh stored a headline
    refresh_news_sentiment(again)
    assert again.panes[STUDY_NAME].series[STUDY_NAME].y[-1] == pytest.approx(-0.3)
    chart.set_overlay(STUDY_NAME, None)  # "Remove" in the menu
    assert STUDY_NAME not in chart.panes and chart.state()["news_sentiment"] is False


def test_bars_are_coloured_by_label(qtbot, news):
    from widgets import style

    bars = make_bars("ACME", seed=sum(map(ord, "ACME")))
    store(news, "ACME", bars.time[-2], [0.8])
    store(news, "ACME", bars.time[-6], [-0.8])
    chart = chart_with_study(qtbot, news)
    chart.open_symbol("ACME")
    pick_from_menu(chart, STUDY_NAME)
    pane = chart.panes[STUDY_NAME]
    chart.price.setXRange(len(bars) - 30, len(bars) + 1, padding=0)
    qtbot.wait(30)
    img = pane.view.grab().toImage()

    def colour_at(i, v):
        at = pane.view.mapFromScene(pane.vb.mapViewToScene(QPointF(i, v)))
        return img.pixelColor(at.x(), at.y()).name().lower()

    assert colour_at(len(bars) - 2, 0.4) == style.CHART.up.lower()
    assert colour_at(len(bars) - 6, -0.4) == style.CHART.down.lower()
    assert colour_at(len(bars) - 4, 0.4) not in (style.CHART.up.lower(), style.CHART.down.lower())
