"""Period reviews on constructed journals: each rule fires with its exact text, and never
below its minimum number of trades."""
from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import pytest

from engine.journal.review import DEFAULT_RULES, JournalEntry, Period, Rule, review
from tests.engine.journal.stubs import entry, ms

MARCH = Period.of("month", date(2024, 3, 15))


def _day(i: int, hour: int = 11) -> int:
    """Trading days of March 2024 (weekdays), exits at ``hour``:i UTC, cycling."""
    days = [d for d in range(1, 32) if date(2024, 3, d).weekday() < 5]
    return ms(2024, 3, days[i % len(days)], hour, i % 60)


def _fired(entries: list[JournalEntry], rule: str, min_trades: int | None = None) -> list[str]:
    rules = tuple(r if min_trades is None or r.name != rule else replace(r, min_trades=min_trades)
                  for r in DEFAULT_RULES)
    rv = review(entries, MARCH, rules=rules)
    return [f"{r.evidence} | {r.advice}" for r in rv.recommendations if r.rule == rule]


def test_periods_by_calendar() -> None:
    w = Period.of("week", date(2024, 12, 31))  # ISO week 1 of 2025 starts Mon 2024-12-30
    assert (w.start, w.end, w.label) == (date(2024, 12, 30), date(2025, 1, 6), "2025-W01")
    q = Period.of("quarter", date(2024, 11, 2))
    assert (q.start, q.end, q.label) == (date(2024, 10, 1), date(2025, 1, 1), "2024-Q4")
    m = Period.of("month", date(2024, 12, 9))
    assert (m.start, m.end, m.label) == (date(2024, 12, 1), date(2025, 1, 1), "2024-12")
    assert Period.of("year", date(2024, 6, 1)).label == "2024"
    with pytest.raises(ValueError, match="period must be"):
        Period.of("decade", date(2024, 1, 1))  # type: ignore[arg-type]


def test_only_trips_closed_in_the_period_count_and_local_time_zone() -> None:
    entries = [entry(10, ms(2024, 2, 29, 23)), entry(20, ms(2024, 3, 1, 1)),
               entry(40, ms(2024, 3, 31, 23)), entry(80, ms(2024, 4, 1, 0))]
    rv = review(entries, MARCH)
    assert rv.stats.n == 2 and rv.stats.net_pnl == 60.0
    # in New York (EST UTC−5 until Mar 10, then EDT UTC−4): Mar 1 01:00 UTC is Feb 29 20:00
    # (out), Apr 1 00:00 UTC is Mar 31 20:00 (in)
    rv_ny = review(entries, MARCH, tz="America/New_York")
    assert rv_ny.stats.net_pnl == 120.0  # 40 + 80
    with pytest.raises(ValueError, match="time zone"):
        review(entries, MARCH, tz="Nowhere/Else")


def test_rule_emotion_setup_win_rate() -> None:
    entries = []
    for i in range(13):  # anxious breakouts: 5 of 13 win → 38 %
        entries.append(entry(100 if i < 5 else -50, _day(i), setups=("breakout",), emotion_before="anxious"))
    for i in range(18):  # other breakouts: 11 of 18 win → 61 %
        entries.append(entry(100 if i < 11 else -50, _day(i + 13), setups=("breakout",), emotion_before="calm"))
    assert _fired(entries, "emotion_setup_win_rate") == [
        "win rate 38 % on 'breakout' trades entered while 'anxious', against 61 % otherwise; 13 trades"
        " | Skip 'breakout' trades while 'anxious', or take them smaller"]
    assert _fired(entries, "emotion_setup_win_rate", min_trades=14) == []


def test_rule_emotion_expectancy() -> None:
    entries = [entry(-25, _day(i), emotion_before="FOMO") for i in range(10)]
    entries += [entry(40, _day(i + 10)) for i in range(10)]
    assert _fired(entries, "emotion_expectancy") == [
        "expectancy -$25.00 per trade on trades entered while 'FOMO', against +$40.00 otherwise;"
        " 10 trades | Pause before entering while 'FOMO'"]
    assert _fired(entries, "emotion_expectancy", min_trades=11) == []


def test_rule_plan_breaks_and_adherence() -> None:
    entries = [entry(-20, _day(i), followed_plan=False) for i in range(5)]
    entries += [entry(35, _day(i + 5), followed_plan=True) for i in range(6)]
    entries.append(entry(0, _day(11)))  # not answered
    # cost = (35 − (−20)) × 5 off-plan trades = 275
    assert _fired(entries, "plan_breaks") == [
        "breaking the plan cost $275.00: expectancy -$20.00 on 5 off-plan trades, against"
        " +$35.00 on 6 on-plan trades | Follow your plan: write the entry, stop and target down"
        " before the order"]
    plan = review(entries, MARCH).plan
    assert (plan.answered, plan.followed) == (11, 6)
    assert plan.rate == pytest.approx(6 / 11) and plan.cost == pytest.approx(275.0)
    assert _fired(entries[1:], "plan_breaks") == []  # only 4 off-plan trades


def test_rule_costly_mistake_and_top_mistakes() -> None:
    entries = [entry(-100, _day(i), mistakes=("moved stop",)) for i in range(3)]
    entries += [entry(-200, _day(3)), entry(50, _day(4), mistakes=("early exit",)),
                entry(300, _day(5))]
    # losses 300 + 200 = 500; 'moved stop' cost 300 → 60 %
    assert _fired(entries, "costly_mistake") == [
        "'moved stop' cost $300.00 over 3 trades (60 % of this period's losses)"
        " | Work on 'moved stop' first: it is your costliest mistake"]
    top = review(entries, MARCH).top_mistakes
    assert [(m.name, m.trades, m.cost) for m in top] == [("moved stop", 3, 300.0), ("early exit", 1, -50.0)]
    assert _fired(entries[1:], "costly_mistake") == []  # two trades < 3


def test_rule_losing_setup_and_best_worst() -> None:
    entries = [entry(50 if i < 4 else -60, _day(i), setups=("gap fill",)) for i in range(10)]
    entries += [entry(30, _day(i + 10), setups=("pullback",)) for i in range(5)]
    # net 4 × 50 − 6 × 60 = −160, expectancy −16, profit factor 200 / 360 = 0.56
    assert _fired(entries, "losing_setup") == [
        "'gap fill' trades lost $160.00: expectancy -$16.00, profit factor 0.56; 10 trades"
        " | Review the 'gap fill' setup, or stop trading it"]
    rv = review(entries, MARCH)
    assert [k for k, _ in rv.best_setups] == ["pullback"] and [k for k, _ in rv.worst_setups] == ["gap fill"]
    assert _fired(entries, "losing_setup", min_trades=11) == []


def test_rule_weak_hour() -> None:
    # held 55 minutes: exits at 16:0i → entries at 15:xx; exits at 11:1i → entries at 10:xx
    entries = [entry(-10, _day(i, 16), entry_ms=_day(i, 16) - 3_300_000) for i in range(10)]
    entries += [entry(20, _day(i + 10), entry_ms=_day(i + 10) - 3_300_000) for i in range(10)]
    assert _fired(entries, "weak_hour") == [
        "expectancy -$10.00 per trade on trades entered 15:00–16:00, against +$20.00 otherwise;"
        " 10 trades | Avoid new entries 15:00–16:00"]
    assert review(entries, MARCH).by_hour["15:00"].n == 10
    assert _fired(entries, "weak_hour", min_trades=11) == []


def test_rule_payoff() -> None:
    entries = [entry(10 if i < 12 else -40, _day(i)) for i in range(20)]
    assert _fired(entries, "payoff") == [
        "average loss $40.00 against an average win of $10.00 (payoff ratio 0.25) at a 60 % win"
        " rate; 20 trades | Cut losing trades sooner: the losses outweigh a good win rate"]
    assert _fired(entries[1:], "payoff") == []  # 19 trades


def test_small_journal_gives_no_recommendation_at_default_minimums() -> None:
    entries = [entry(-50, _day(0), emotion_before="FOMO", mistakes=("FOMO",)),
               entry(30, _day(1)), entry(20, _day(2))]
    rv = review(entries, MARCH)
    assert rv.recommendations == ()
    assert rv.by_emotion_before["FOMO"].net_pnl == -50.0
    # a rule may be configured down to one trade; then it cites that one trade
    rv1 = review(entries, MARCH, rules=(Rule("costly_mistake", min_trades=1),))
    assert [r.evidence for r in rv1.recommendations] == [
        "'FOMO' cost $50.00 over 1 trade (100 % of this period's losses)"]


def test_breakdowns_daily_pnl_and_returns() -> None:
    entries = [entry(100, ms(2024, 3, 4, 15), symbol="AAPL", tags=("swing",), confidence=4,
                     emotion_after="calm"),
               entry(-50, ms(2024, 3, 4, 16), symbol="MSFT", confidence=2),
               entry(200, ms(2024, 3, 6, 15), symbol="AAPL", tags=("swing",))]
    rv = review(entries, MARCH, starting_equity=10_000.0)
    assert rv.daily_pnl == {date(2024, 3, 4): 50.0, date(2024, 3, 6): 200.0}
    assert rv.by_symbol["AAPL"].n == 2 and rv.by_symbol["MSFT"].net_pnl == -50.0
    assert rv.by_tag["swing"].net_pnl == 300.0 and rv.by_confidence["4"].n == 1
    assert rv.by_weekday["Mon"].n == 2 and rv.by_weekday["Wed"].n == 1
    assert rv.by_emotion_after == {"calm": rv.by_emotion_after["calm"]}
    assert rv.returns is not None
    # 21 weekdays in March 2024; equity 10,000 → 10,050 (Mar 4) → 10,250 (Mar 6)
    assert rv.returns.n == 21
    assert rv.returns.total_return == pytest.approx(0.025, rel=1e-12)
    assert rv.returns.max_drawdown == 0.0 and math.isnan(rv.returns.calmar)
    assert 0 < rv.exposure < 0.01  # three one-hour holdings in a 31-day month


def test_invalid_journal_fields() -> None:
    with pytest.raises(ValueError, match="confidence"):
        entry(1, _day(0), confidence=6)
    with pytest.raises(ValueError, match="setup tags"):
        entry(1, _day(0), setups=("",))
    with pytest.raises(ValueError, match="unknown rule"):
        Rule("astrology", 1)
    with pytest.raises(ValueError, match="min_trades"):
        Rule("payoff", 0)
    with pytest.raises(ValueError, match="starting equity"):
        review([], MARCH, starting_equity=-1.0)


def test_empty_period() -> None:
    rv = review([], MARCH, starting_equity=1000.0)
    assert rv.stats.n == 0 and rv.recommendations == () and rv.exposure == 0.0
    assert rv.returns is not None and rv.returns.total_return == 0.0


def test_frame_and_entries_give_the_same_review() -> None:
    from engine.journal.review import JournalFrame

    entries = [entry(10 if i % 3 else -25, _day(i), setups=("a",) if i % 2 else ("a", "b"),
                     emotion_before="FOMO" if i % 4 == 0 else "calm", followed_plan=i % 5 != 0,
                     mistakes=("chased",) if i % 4 == 0 else ())
               for i in reversed(range(40))]  # given out of exit order on purpose
    a = review(entries, MARCH, starting_equity=5000.0)
    b = review(JournalFrame.from_entries(entries), MARCH, starting_equity=5000.0)
    assert repr(a) == repr(b)  # NaN fields (no R) make == false even for identical reviews
    assert a.stats.n == 40 and a.recommendations != ()
