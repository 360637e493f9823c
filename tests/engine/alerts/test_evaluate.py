"""Vectorised alert evaluation: trigger modes, cooldown, expiry, active hours, AND/OR, and
equality with evaluating each alert on its own."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engine.alerts import AlertError, AlertTemplate, Scope
from engine.alerts.evaluate import AlertPlan
from engine.formula import parse
from tests.engine.alerts.stubs import DAY, T0, alert, panel


def plan_of(*alerts: AlertTemplate, scopes: dict[int, tuple[str, ...]] | None = None, states=None) -> AlertPlan:
    sc = scopes or {a.id: (a.scope.value,) for a in alerts}
    return AlertPlan(list(alerts), sc, states=states)


def fired(plan: AlertPlan, p, now: float) -> list[tuple[int, str]]:
    fires = plan.evaluate(p, now)
    plan.commit(fires)
    return sorted((f.alert_id, f.symbol) for f in fires)


def test_once_fires_a_single_time_then_is_done():
    p = panel({"AAA": [10, 11, 12]})
    plan = plan_of(alert("close > 11", mode="once"))
    assert fired(plan, p, T0 + 3 * DAY) == [(1, "AAA")]
    assert fired(plan, panel({"AAA": [10, 11, 12, 13]}), T0 + 4 * DAY) == []  # still true, next bar: done


def test_once_per_bar_fires_again_only_on_a_new_bar():
    plan = plan_of(alert("close > 11", mode="once_per_bar"))
    p3 = panel({"AAA": [10, 11, 12]})
    assert fired(plan, p3, T0 + 3 * DAY) == [(1, "AAA")]
    assert fired(plan, p3, T0 + 3 * DAY + 60) == []  # same bar (a live quote later)
    assert fired(plan, panel({"AAA": [10, 11, 12, 13]}), T0 + 4 * DAY) == [(1, "AAA")]
    assert fired(plan, panel({"AAA": [10, 11, 12, 13, 9]}), T0 + 5 * DAY) == []  # false on the new bar


def test_every_time_respects_the_cooldown():
    plan = plan_of(alert("close > 11", mode="every", cooldown_s=300))
    p = panel({"AAA": [10, 11, 12]})
    now = T0 + 10 * DAY
    assert fired(plan, p, now) == [(1, "AAA")]
    assert fired(plan, p, now + 299) == []
    assert fired(plan, p, now + 300) == [(1, "AAA")]  # same bar, cooldown over
    assert fired(plan, p, now + 301) == []


def test_every_time_without_cooldown_fires_every_evaluation():
    plan = plan_of(alert("close > 11", mode="every"))
    p = panel({"AAA": [10, 11, 12]})
    assert [len(plan.evaluate(p, T0 + i)) for i in range(3)] == [1, 1, 1]


def test_expiry_stops_an_alert():
    expires = T0 + 5 * DAY
    plan = plan_of(alert("close > 11", mode="every", expires_at=expires))
    p = panel({"AAA": [10, 11, 12]})
    assert fired(plan, p, expires - 1) == [(1, "AAA")]
    assert fired(plan, p, expires) == []


def test_active_hours_follow_the_market_calendar():
    # Wednesday 2024-07-03 is an early close on NYSE (13:00 New York = 17:00 UTC); July 4 a holiday.
    plan = plan_of(alert("close > 11", mode="every", active_hours="session"))
    p = panel({"AAA": [10, 11, 12]})

    def at(y, m, d, h, mi=0):
        return dt.datetime(y, m, d, h, mi, tzinfo=dt.timezone.utc).timestamp()

    assert fired(plan, p, at(2024, 7, 3, 14, 0)) == [(1, "AAA")]  # 10:00 New York, open
    assert fired(plan, p, at(2024, 7, 3, 17, 30)) == []  # 13:30 New York: after the early close
    assert fired(plan, p, at(2024, 7, 4, 15, 0)) == []  # Independence Day
    assert fired(plan, p, at(2024, 7, 6, 15, 0)) == []  # Saturday
    always = plan_of(alert("close > 11", mode="every"))
    assert fired(always, p, at(2024, 7, 6, 15, 0)) == [(1, "AAA")]


@pytest.mark.parametrize("combine, expected", [("and", []), ("or", [(1, "AAA")])])
def test_and_or(combine, expected):
    p = panel({"AAA": [10, 11, 12]})
    plan = plan_of(alert(("close > 11", "close > 100"), combine=combine))
    assert fired(plan, p, T0) == expected


def test_and_needs_every_condition():
    p = panel({"AAA": [10, 11, 12]})
    plan = plan_of(alert(("close > 11", "change_pct(close) > 5"), combine="and"))  # 12/11 - 1 = 9.1 %
    assert fired(plan, p, T0) == [(1, "AAA")]


def test_fire_records_the_values_that_triggered_it():
    p = panel({"AAA": [10, 11, 12]})
    plan = plan_of(alert("close > shift(close) and change_pct(close) > 5"))
    (f,) = plan.evaluate(p, T0)
    assert f.values["close"] == 12.0
    assert f.values["shift(close, 1)"] == 11.0
    assert f.values["change_pct(close, 1)"] == pytest.approx(100 / 11)
    assert f.bar_time == T0 + 2 * DAY


def test_scope_of_many_symbols_fires_per_symbol():
    p = panel({"AAA": [10, 12], "BBB": [10, 9], "CCC": [10, 13]})
    a = AlertTemplate("up", ("close > shift(close)",), Scope("watchlist", "W"), id=7).checked()
    plan = AlertPlan([a], {7: ("AAA", "BBB", "CCC", "ZZZ")})  # ZZZ has no bars: silently nothing
    assert fired(plan, p, T0) == [(7, "AAA"), (7, "CCC")]


def test_state_from_the_store_prevents_a_second_fire_on_the_same_bar():
    from engine.alerts import InstanceState

    p = panel({"AAA": [10, 11, 12]})
    st = {(1, "AAA"): InstanceState(last_bar_time=T0 + 2 * DAY)}
    assert fired(plan_of(alert("close > 11"), states=st), p, T0) == []


def test_shared_shapes_equal_each_alert_evaluated_on_its_own():
    rng = np.random.default_rng(3)
    syms = [f"S{i}" for i in range(40)]
    closes = {s: list(50 * np.exp(np.cumsum(rng.normal(0, 0.03, 80)))) for s in syms}
    p = panel(closes)
    texts = ["close > {x}", "rsi(close) < {x}", "crosses_above(close, sma(close, 5))",
             "not (close < {x}) and volume > 10", "(close - open) / open * 100 > {x} or close > 60"]
    alerts, scopes = [], {}
    for i in range(200):
        t = texts[i % len(texts)].format(x=round(float(rng.uniform(20, 70)), 2))
        cond = (t,) if i % 3 else (t, f"close < {round(float(rng.uniform(40, 80)), 1)}")
        a = AlertTemplate(f"a{i}", cond, Scope("symbol", syms[i % 40]), combine="or" if i % 7 == 0 else "and",
                          mode="every", id=i + 1).checked()
        alerts.append(a)
        scopes[a.id] = (a.scope.value,) if i % 5 else tuple(syms[:10])
    plan = AlertPlan(alerts, scopes)
    assert len(plan.groups) <= len(texts) * 2 * 2  # literals differ, shapes are shared (× conds × combine)
    got = sorted((f.alert_id, f.symbol) for f in plan.evaluate(p, T0))
    want = []
    for a in alerts:
        text = a.formula_text()
        truth = parse(text).evaluate_panel(p)[:, -1]
        want += [(a.id, s) for s in scopes[a.id] if truth[p.index(s)]]
    assert got == sorted(want)
    assert len(got) > 20  # the comparison is not trivially empty


def test_a_bad_condition_is_reported_not_raised():
    good = alert("close > 1", id=1)
    bad = AlertTemplate("bad", ("rsii(close) < 30",), Scope("symbol", "AAA"), id=2).checked()
    number = AlertTemplate("num", ("close + 1",), Scope("symbol", "AAA"), id=3).checked()
    plan = AlertPlan([good, bad, number], {1: ("AAA",), 2: ("AAA",), 3: ("AAA",)})
    assert "did you mean 'rsi'" in plan.errors[2]
    assert "true or false" in plan.errors[3]
    assert fired(plan, panel({"AAA": [1, 2]}), T0) == [(1, "AAA")]


@pytest.mark.parametrize("kw, message", [
    ({"mode": "sometimes"}, "Unknown trigger mode"),
    ({"cooldown_s": -1}, "between 0"),
    ({"cooldown_s": float("nan")}, "finite"),
    ({"expires_at": float("inf")}, "finite"),
    ({"channels": ("pigeon",)}, "Unknown channel"),
    ({"combine": "xor"}, "Unknown combine"),
    ({"conditions": ()}, "at least one condition"),
    ({"name": " "}, "needs a name"),
])
def test_bad_templates_are_refused_with_a_sentence(kw, message):
    base = dict(name="x", conditions=("close > 1",), scope=Scope("symbol", "AAA"))
    base.update(kw)
    with pytest.raises(AlertError, match=message):
        AlertTemplate(**base).checked()


def test_bad_symbol_scope_is_refused():
    with pytest.raises(AlertError, match="is not a symbol"):
        AlertTemplate("x", ("close > 1",), Scope("symbol", "A A; drop")).checked()


def test_json_round_trip():
    a = alert(("close > 1", "rsi(close) < 30"), combine="or", mode="every", cooldown_s=60,
              expires_at=T0, active_hours="session", channels=("webhook", "app"), message="hi")
    b = AlertTemplate.from_json(a.to_json(), id=1)
    assert b == a and b.channels == ("app", "webhook")
