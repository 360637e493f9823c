"""News sentiment as an alert condition: stored headlines → per-symbol daily series →
``sentiment`` / ``sentiment(days)`` in conditions, evaluated with the other conditions."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.alerts import AlertTemplate, Scope
from engine.alerts.evaluate import AlertPlan
from engine.alerts.service import AlertService
from engine.events import EventBus
from engine.formula import FormulaError, parse
from engine.news.model import Headline
from engine.news.series import window_sentiment
from engine.news.service import NewsService
from engine.store import open_database
from tests.engine.alerts.stubs import DAY, T0, alert, panel

NOON_NY = 17 * 3600  # 12:00 in New York in January (UTC-5)


def add_news(news: NewsService, symbol: str, day: int, scores: list[float]) -> None:
    """Store headlines about ``symbol`` published on bar day ``day`` with these compounds."""
    rows = []
    for k, v in enumerate(scores):
        h = Headline.make(f"{symbol} story {day}-{k} {v}", f"https://example.com/{symbol}/{day}/{k}", "Wire",
                          T0 + day * DAY + NOON_NY + k * 60, "rss", [symbol])
        rows.append((h, v, "positive" if v >= 0.05 else "negative" if v <= -0.05 else "neutral"))
    news.store.add(rows)


def services(db, clock=lambda: T0 + 10 * DAY):
    bus = EventBus()
    news = NewsService(db, bus, is_demo_symbol=lambda s: False)
    alerts = AlertService(db, bus, clock=clock, sentiment=news.sentiment_panel)
    return news, alerts


def template(conditions, symbol="AAA", **kw):
    return AlertTemplate(kw.pop("name", "news"), tuple(conditions), Scope("symbol", symbol), **kw)


PRICES = {"AAA": [10.0, 11.0, 12.0], "BBB": [10.0, 11.0, 12.0]}


def test_sentiment_alert_fires_once_with_the_value_that_triggered_it(db):
    news, svc = services(db)
    add_news(news, "AAA", 2, [0.5, 0.7])  # the last bar's day: mean 0.6
    add_news(news, "AAA", 0, [-0.9])  # an older day does not count for sentiment(1)
    svc.save(template(["sentiment > 0.3"], mode="once_per_bar"))
    p = panel(PRICES)
    (e,) = svc.evaluate(p)
    assert e.symbol == "AAA"
    assert e.values["sentiment"] == pytest.approx(0.6)
    assert svc.evaluate(p) == []  # the same bar: not again
    (h,) = svc.history()
    assert h.values["sentiment"] == pytest.approx(0.6)  # stored with the history


def test_a_symbol_without_news_never_matches_either_way(db):
    news, svc = services(db)
    add_news(news, "AAA", 2, [0.6])
    svc.save(template(["sentiment > 0.3"], symbol="BBB", name="up"))
    svc.save(template(["sentiment < 0.3"], symbol="BBB", name="down"))
    svc.save(template(["not (sentiment > 0.3)"], symbol="BBB", name="negated"))  # NaN: not false → true
    fired = svc.evaluate(panel(PRICES))
    assert [(e.alert_name, e.symbol) for e in fired] == [("negated", "BBB")]
    assert math.isnan(fired[0].values["sentiment"])


def test_no_news_source_at_all_means_nan_not_a_crash(db):
    svc = AlertService(db, EventBus(), clock=lambda: T0 + 10 * DAY)  # no sentiment hook
    svc.save(template(["sentiment > -1"]))
    assert svc.evaluate(panel(PRICES)) == []


def test_and_with_a_price_condition(db):
    news, svc = services(db)
    add_news(news, "AAA", 2, [0.6])
    add_news(news, "BBB", 2, [0.6])
    svc.save(template(["sentiment > 0.3", "close > 11.5"], name="both", symbol="AAA"))
    svc.save(template(["sentiment > 0.3", "close > 13"], name="price too low", symbol="BBB"))
    svc.save(template(["sentiment < 0", "close > 11.5"], name="news too good", symbol="AAA"))
    svc.save(template(["sentiment < 0", "close > 11.5"], name="or", symbol="AAA", combine="or"))
    fired = svc.evaluate(panel(PRICES))
    assert sorted(e.alert_name for e in fired) == ["both", "or"]
    both = next(e for e in fired if e.alert_name == "both")
    assert both.values["close"] == 12.0 and both.values["sentiment"] == pytest.approx(0.6)


def test_window_of_days_and_restart_resumes(home):
    db1 = open_database()
    news1, svc1 = services(db1)
    add_news(news1, "AAA", 1, [0.2, 0.4])
    add_news(news1, "AAA", 2, [0.9])
    svc1.save(template(["sentiment(3) > 0.4"], mode="once_per_bar"))
    p = panel(PRICES)
    (e,) = svc1.evaluate(p)
    assert e.values["sentiment(3)"] == pytest.approx((0.2 + 0.4 + 0.9) / 3)  # mean per headline
    db1.dispose()

    db2 = open_database()  # restarted: the same bar stays quiet, the next one fires
    news2, svc2 = services(db2)
    assert svc2.evaluate(p) == []
    p4 = panel({"AAA": [10.0, 11.0, 12.0, 12.5]})  # day 3 has no news; days 1-3 still do
    (e2,) = svc2.evaluate(p4)
    assert e2.values["sentiment(3)"] == pytest.approx(0.5)
    p6 = panel({"AAA": [10.0, 11.0, 12.0, 12.5, 12.6, 12.7]})  # days 3-5: no news left in the window
    assert svc2.evaluate(p6) == []
    db2.dispose()


def test_editor_validation_knows_sentiment(db):
    _news, svc = services(db)
    assert svc.validate_condition("sentiment > 0.2") == []
    assert svc.validate_condition("sentiment(5) < -0.1 and close > sma(close, 20)") == []
    assert svc.validate_condition("sma(sentiment(3), 5) > 0") == []
    (e,) = svc.validate_condition("sentiment(0) > 0")
    assert "at least 1" in e.message
    (e,) = svc.validate_condition("sentimnt > 0")
    assert e.suggestion == "sentiment"


def test_scans_and_charts_refuse_sentiment_with_a_clear_error():
    with pytest.raises(FormulaError, match="only available in alert conditions") as info:
        parse("close > 10 and sentiment > 0.2")
    assert info.value.column == 16


def test_plan_asks_the_source_once_per_distinct_window():
    asked: list[int] = []
    p = panel(PRICES)

    def source(days: int) -> np.ndarray:
        asked.append(days)
        return np.full(p.shape, 0.5)

    alerts = [alert("sentiment > 0.1", id=1), alert("sentiment > 0.2", id=2, symbol="BBB"),
              alert("sentiment(3) > 0.2", id=3)]
    plan = AlertPlan(alerts, {1: ["AAA"], 2: ["BBB"], 3: ["AAA"]})
    assert plan.sentiment_days == (1, 3)
    assert len(plan.evaluate(p, T0 + 10 * DAY, sentiment=source)) == 3
    assert sorted(asked) == [1, 3]
    assert AlertPlan([alert("close > 1", id=4)], {4: ["AAA"]}).sentiment_days == ()


def test_window_sentiment_weighs_headlines_and_maps_intraday_bars():
    t = T0 + np.arange(4) * DAY
    pts = [(T0 + NOON_NY, 0.2), (T0 + DAY + NOON_NY, 0.8), (T0 + DAY + NOON_NY + 60, 0.5)]
    one = window_sentiment(pts, t, "1d", 1)
    assert np.allclose(one.mean[:2], [0.2, 0.65]) and np.isnan(one.mean[2:]).all()
    two = window_sentiment(pts, t, "1d", 2)
    assert np.allclose(two.mean[:3], [0.2, 0.5, 0.65]) and np.isnan(two.mean[3])
    assert list(two.count) == [1, 3, 2, 0]
    # 60-minute bars of the first two days (14:30-20:30 UTC): each gets its day's mean
    hours = np.concatenate([T0 + d * DAY + 14 * 3600 + 1800 + 3600 * np.arange(7) for d in (0, 1)])
    intra = window_sentiment(pts, hours, "60m", 1)
    assert np.allclose(intra.mean, [0.2] * 7 + [0.65] * 7)
    # without the first day's bars its headline counts on the next session present
    assert np.allclose(window_sentiment(pts, hours[7:], "60m", 1).mean, 0.5)
    with pytest.raises(ValueError):
        window_sentiment(pts, t, "1d", 0)


def test_intraday_alerts_count_sessions_not_loaded_bars(db):
    """A few 60-minute bars of one session still see `days` sessions of news (the market
    calendar's sessions before the first loaded bar)."""
    from engine.formula import Panel

    news, svc = services(db)
    add_news(news, "AAA", 1, [0.9])  # Tue 2024-01-02 (Mon 1 Jan is a NYSE holiday)
    t = T0 + 3 * DAY + 15 * 3600 + 1800 + 3600 * np.arange(3, dtype=np.int64)  # Thu 2024-01-04, 3 bars
    c = np.array([[10.0, 10.5, 11.0]])
    p = Panel.from_arrays(["AAA"], t, c, c, c, c, np.ones_like(c), timeframe="60m")
    svc.save(template(["sentiment(3) > 0.5"], name="3 sessions", timeframe="60m"))
    svc.save(template(["sentiment(2) > 0.5"], name="2 sessions", timeframe="60m"))
    assert [e.alert_name for e in svc.evaluate(p)] == ["3 sessions"]  # Tue, Wed, Thu; not just Wed, Thu


def test_uses_sentiment_says_whether_news_is_worth_an_evaluation(db):
    _news, svc = services(db)
    assert not svc.uses_sentiment()
    svc.save(template(["close > 1"]))
    assert not svc.uses_sentiment()
    svc.save(template(["sentiment(2) > 0.1"], name="news"))
    assert svc.uses_sentiment()  # plans not built yet: from the stored text
    svc.plans()
    assert svc.uses_sentiment()  # from the plans
