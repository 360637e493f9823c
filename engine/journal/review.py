"""Period reviews of a trading journal, with rule-based recommendations.

A review covers one calendar period — an ISO week (Monday to Sunday), a month, a quarter or
a year, in the journal's time zone — and the round trips that *closed* in it. It holds the
trade statistics (``engine.performance.trades``), return metrics when a starting equity is
given, P&L by emotion, setup, tag, symbol, weekday and hour of entry, confidence and
mistake, plan adherence and what breaking the plan cost, the costliest mistakes, the best
and worst setups, and recommendations.

Definitions beyond ``engine.performance``:

* **plan adherence** = trips marked "followed my plan" / trips where the question was
  answered. **Cost of breaking the plan** = (expectancy on-plan − expectancy off-plan) ×
  number of off-plan trips: what those trips lost against trading them as the on-plan ones
  did (None without both kinds; may be negative when breaking the plan paid).
* **cost of a mistake** = −Σ net P&L of the trips tagged with it (positive = money lost).
* **best / worst setups**: setups with at least ``min_setup_trades`` trips, by expectancy;
  best have positive, worst negative expectancy (up to three each).
* **daily returns** (when ``starting_equity`` is given): realised net P&L booked on the
  local calendar day of each exit, over every weekday (Mon–Fri) of the period up to
  ``as_of`` (holidays count as flat days); return = day P&L / equity at the previous close.
* **exposure** = fraction of the period (up to ``as_of``) with at least one trip open.

Recommendations come from explicit rules (``DEFAULT_RULES``). Each has a ``min_trades``
that every group it compares must reach (the cited group *and* the one it is compared
with), so no recommendation ever rests on fewer trips; each cites the figures that
triggered it, e.g. ``win rate 38 % on 'breakout' trades entered while 'anxious', against
61 % otherwise; 14 trades``. Percentages are rounded to whole numbers, money to cents.
"""
from __future__ import annotations

import functools
import math
from itertools import chain
from operator import attrgetter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from engine.journal.roundtrips import RoundTrip
from engine.performance.metrics import ReturnMetrics, analyze_returns, time_in_market
from engine.performance.trades import (
    WEEKDAYS,
    TradeStats,
    coded_breakdown,
    group_stats,
    local_time_parts,
    r_histogram,
    r_ranks,
)

PeriodKind = Literal["week", "month", "quarter", "year"]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Emotions offered in the journal (users may add their own).
EMOTIONS: tuple[str, ...] = ("calm", "confident", "focused", "excited", "anxious", "fearful",
                             "greedy", "FOMO", "frustrated", "bored", "tired")


def _trades(n: int) -> str:
    """"1 trade", "14 trades"."""
    return f"{n} trade" if n == 1 else f"{n} trades"


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar period [start, end) of local dates, e.g. ``Period.of("week", day)``."""

    kind: PeriodKind
    start: date
    end: date

    @classmethod
    def of(cls, kind: PeriodKind, day: date) -> Period:
        """The period of ``kind`` that contains ``day`` (weeks are ISO weeks, Monday first).

        Raises ``ValueError`` for an unknown kind."""
        if isinstance(day, datetime):
            day = day.date()
        if kind == "week":
            start = day - timedelta(days=day.weekday())
            return cls(kind, start, start + timedelta(days=7))
        if kind == "month":
            start = day.replace(day=1)
            end = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
            return cls(kind, start, end)
        if kind == "quarter":
            m = 3 * ((day.month - 1) // 3) + 1
            start = date(day.year, m, 1)
            end = date(day.year + (m == 10), (m + 2) % 12 + 1, 1)
            return cls(kind, start, end)
        if kind == "year":
            return cls(kind, date(day.year, 1, 1), date(day.year + 1, 1, 1))
        raise ValueError(f"period must be 'week', 'month', 'quarter' or 'year', not {kind!r}")

    @property
    def label(self) -> str:
        """"2024-W07", "2024-03", "2024-Q1" or "2024"."""
        if self.kind == "week":
            y, w, _ = self.start.isocalendar()
            return f"{y}-W{w:02d}"
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)


def _day_number(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _local_midnight_ms(d: date, tz: str | None) -> int:
    zone = UTC if tz is None or tz.upper() == "UTC" else ZoneInfo(tz)
    return int(datetime(d.year, d.month, d.day, tzinfo=zone).timestamp() * 1000)


# --------------------------------------------------------------------------- entries


def _labels(value: Sequence[str], what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    out = []
    for v in value:
        if not isinstance(v, str) or not v.strip():
            raise ValueError(f"{what} must be non-empty strings, not {v!r}")
        out.append(v.strip())
    return tuple(dict.fromkeys(out))


def _label(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string or None, not {value!r}")
    return value.strip()


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A round trip with what the trader added. ``confidence`` 1–5 or None;
    ``followed_plan`` None when not answered. Raises ``ValueError`` for invalid fields."""

    trip: RoundTrip
    setups: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    emotion_before: str | None = None
    emotion_after: str | None = None
    confidence: int | None = None
    followed_plan: bool | None = None
    mistakes: tuple[str, ...] = ()
    notes: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.trip, RoundTrip):
            raise ValueError("trip must be a RoundTrip")
        object.__setattr__(self, "setups", _labels(self.setups, "setup tags"))
        object.__setattr__(self, "tags", _labels(self.tags, "tags"))
        object.__setattr__(self, "mistakes", _labels(self.mistakes, "mistake tags"))
        object.__setattr__(self, "emotion_before", _label(self.emotion_before, "emotion before"))
        object.__setattr__(self, "emotion_after", _label(self.emotion_after, "emotion after"))
        c = self.confidence
        if c is not None and (isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= 5):
            raise ValueError(f"confidence must be 1 to 5 or None, not {c!r}")
        if self.followed_plan is not None and not isinstance(self.followed_plan, bool):
            raise ValueError("followed_plan must be True, False or None")
        if not isinstance(self.notes, str):
            raise ValueError("notes must be text")


# --------------------------------------------------------------------------- columns


def _codes_one(values: list[str | None]) -> tuple[IntArray, list[str]]:
    """Integer codes (−1 for None) and names, first-seen order (pandas' C hash table)."""
    import pandas as pd

    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), [str(u) for u in uniques]


def _codes_many(values: list[tuple[str, ...]]) -> tuple[IntArray, IntArray, list[str]]:
    """(rows, codes, names) of multi-valued labels; rows ascending."""
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    rows = np.repeat(np.arange(len(values), dtype=np.int64), lengths)
    flat: list[str | None] = list(chain.from_iterable(values))
    codes, names = _codes_one(flat)
    return rows, codes, names


@dataclass
class _Table:
    """The period's trips as columns, in exit-time order."""

    pnl: FloatArray
    r: FloatArray
    entry_ms: IntArray
    exit_ms: IntArray
    exit_day: IntArray
    weekday: IntArray
    hour: IntArray
    symbol: IntArray
    symbols: list[str]
    emo_before: IntArray
    emo_after: IntArray
    emotions: list[str]
    confidence: IntArray
    followed: IntArray  # 1 yes, 0 no, -1 not answered
    setup_rows: IntArray
    setup_codes: IntArray
    setups: list[str]
    tag_rows: IntArray
    tag_codes: IntArray
    tags: list[str]
    mistake_rows: IntArray
    mistake_codes: IntArray
    mistakes: list[str]

    @property
    def n(self) -> int:
        return int(self.pnl.size)

    @functools.cached_property
    def ranks(self) -> IntArray:
        """R ranks, shared by every breakdown's medians."""
        return r_ranks(self.r)


@dataclass(frozen=True, eq=False)
class JournalFrame:
    """A journal as columns, in exit-time order: what reviews compute over.

    Build it once with ``from_entries`` (or, in the store, straight from its columns) and
    keep it; building touches every entry in Python, the review itself is vectorised.
    Codes index the name lists (−1 = none); multi-valued fields are (row, code) pairs.
    ``confidence`` 0 = not given; ``followed`` 1 yes, 0 no, −1 not answered.
    """

    pnl: FloatArray
    r: FloatArray
    entry_ms: IntArray
    exit_ms: IntArray
    symbol: IntArray
    symbols: list[str]
    emo_before: IntArray
    emo_after: IntArray
    emotions: list[str]
    confidence: IntArray
    followed: IntArray
    setup_rows: IntArray
    setup_codes: IntArray
    setups: list[str]
    tag_rows: IntArray
    tag_codes: IntArray
    tags: list[str]
    mistake_rows: IntArray
    mistake_codes: IntArray
    mistakes: list[str]

    @property
    def n(self) -> int:
        return int(self.pnl.size)

    @classmethod
    def from_entries(cls, entries: Sequence[JournalEntry]) -> JournalFrame:
        """The columns of ``entries`` (sorted by exit time, ties in the given order)."""
        trips = list(map(_TRIP, entries))
        exit_all = np.fromiter((t.exits[-1].time_ms for t in trips), dtype=np.int64, count=len(trips))
        order = np.argsort(exit_all, kind="stable")
        if (order == np.arange(order.size)).all():
            es, ts = list(entries), trips
        else:
            es = [entries[i] for i in order.tolist()]
            ts = [trips[i] for i in order.tolist()]
        n = len(es)
        pnl = np.fromiter(map(_PNL, ts), dtype=np.float64, count=n)
        r = np.fromiter(map(_R, ts), dtype=np.float64, count=n)
        entry_ms = np.fromiter((t.entries[0].time_ms for t in ts), dtype=np.int64, count=n)
        symbol, symbols = _codes_one(list(map(_SYMBOL, ts)))
        before: list[str | None] = list(map(_BEFORE, es))
        after: list[str | None] = list(map(_AFTER, es))
        emo, emotions = _codes_one(before + after)
        confidence = np.fromiter((c or 0 for c in map(_CONF, es)), dtype=np.int64, count=n)
        followed = np.fromiter((-1 if f is None else int(f) for f in map(_PLAN, es)),
                               dtype=np.int64, count=n)
        s_rows, s_codes, setups = _codes_many(list(map(_SETUPS, es)))
        t_rows, t_codes, tags = _codes_many(list(map(_TAGS, es)))
        m_rows, m_codes, mistakes = _codes_many(list(map(_MISTAKES, es)))
        return cls(pnl, r, entry_ms, exit_all[order], symbol, symbols, emo[:n], emo[n:], emotions,
                   confidence, followed, s_rows, s_codes, setups, t_rows, t_codes, tags,
                   m_rows, m_codes, mistakes)

    def between(self, start_ms: int, end_ms: int) -> JournalFrame:
        """The trips that closed in [start_ms, end_ms) (name lists kept)."""
        lo, hi = np.searchsorted(self.exit_ms, [start_ms, end_ms], side="left").tolist()
        if lo == 0 and hi == self.n:
            return self

        def multi(rows: IntArray, codes: IntArray) -> tuple[IntArray, IntArray]:
            keep = (rows >= lo) & (rows < hi)
            return rows[keep] - lo, codes[keep]

        sr, sc = multi(self.setup_rows, self.setup_codes)
        tr, tc = multi(self.tag_rows, self.tag_codes)
        mr, mc = multi(self.mistake_rows, self.mistake_codes)
        sl = slice(lo, hi)
        return JournalFrame(self.pnl[sl], self.r[sl], self.entry_ms[sl], self.exit_ms[sl],
                            self.symbol[sl], self.symbols, self.emo_before[sl], self.emo_after[sl],
                            self.emotions, self.confidence[sl], self.followed[sl], sr, sc,
                            self.setups, tr, tc, self.tags, mr, mc, self.mistakes)


def _build(journal: Sequence[JournalEntry] | JournalFrame, start_ms: int, end_ms: int,
           tz: str | None) -> _Table:
    f = journal if isinstance(journal, JournalFrame) else JournalFrame.from_entries(journal)
    f = f.between(start_ms, end_ms)
    exit_day, _, _ = local_time_parts(f.exit_ms, tz)
    _, weekday, hour = local_time_parts(f.entry_ms, tz)
    return _Table(f.pnl, f.r, f.entry_ms, f.exit_ms, exit_day, weekday, hour, f.symbol, f.symbols,
                  f.emo_before, f.emo_after, f.emotions, f.confidence, f.followed, f.setup_rows,
                  f.setup_codes, f.setups, f.tag_rows, f.tag_codes, f.tags, f.mistake_rows,
                  f.mistake_codes, f.mistakes)


_TRIP = attrgetter("trip")
_PNL = attrgetter("net_pnl_f")
_R = attrgetter("r_f")
_SYMBOL = attrgetter("symbol")
_BEFORE = attrgetter("emotion_before")
_AFTER = attrgetter("emotion_after")
_CONF = attrgetter("confidence")
_PLAN = attrgetter("followed_plan")
_SETUPS = attrgetter("setups")
_TAGS = attrgetter("tags")
_MISTAKES = attrgetter("mistakes")


def _multi(t: _Table, rows: IntArray, codes: IntArray, names: list[str]) -> dict[str, TradeStats]:
    stats = group_stats(t.pnl, t.r, rows, codes, len(names), t.ranks)
    return {names[i]: s for i, s in enumerate(stats) if s.n}


# --------------------------------------------------------------------------- formatting


def fmt_pct(x: float) -> str:
    """0.384 → "38 %" (whole percent, half-even as Python rounds)."""
    return f"{round(x * 100):d} %"


def fmt_money(x: float, currency: str = "$") -> str:
    """-1234.5 → "-$1,234.50"."""
    return f"{'-' if x < 0 else ''}{currency}{abs(x):,.2f}"


def fmt_signed(x: float, currency: str = "$") -> str:
    """12.3 → "+$12.30", -4 → "-$4.00", 0 → "$0.00"."""
    return ("+" if x > 0 else "") + fmt_money(x, currency)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One recommendation: ``evidence`` cites the figures, ``advice`` says what to do;
    ``trades`` is the size of the cited group (≥ the rule's ``min_trades``)."""

    rule: str
    evidence: str
    advice: str
    trades: int

    @property
    def text(self) -> str:
        return f"{self.advice} ({self.evidence})"


@dataclass(frozen=True, slots=True)
class Rule:
    """A recommendation rule: ``name`` (one of ``RULES``), the minimum number of trips each
    compared group needs (``min_trades``) and the rule's threshold (``threshold``; its
    meaning is in ``RULES``' docstrings)."""

    name: str
    min_trades: int
    threshold: float = 0.0

    def __post_init__(self) -> None:
        if self.name not in RULES:
            raise ValueError(f"unknown rule {self.name!r}; rules are {', '.join(RULES)}")
        if isinstance(self.min_trades, bool) or not isinstance(self.min_trades, int) or self.min_trades < 1:
            raise ValueError(f"min_trades must be a positive integer, not {self.min_trades!r}")
        if not math.isfinite(self.threshold):
            raise ValueError("threshold must be finite")


@dataclass
class _Ctx:
    t: _Table
    currency: str
    stats: TradeStats
    by_setup: dict[str, TradeStats]


def _rule_emotion_setup_win_rate(c: _Ctx, rule: Rule) -> list[Recommendation]:
    """Win rate on a setup entered in one emotion at least ``threshold`` (a fraction, e.g.
    0.15 = 15 points) below the same setup's win rate in any other state."""
    t = c.t
    ne = len(t.emotions)
    ns = len(t.setups)
    if not ne or not ns:
        return []
    rows, s = t.setup_rows, t.setup_codes
    win = (t.pnl[rows] > 0).astype(np.float64)
    n_s = np.bincount(s, minlength=ns)
    w_s = np.bincount(s, weights=win, minlength=ns)
    e = t.emo_before[rows]
    has = e >= 0
    key = s[has] * ne + e[has]
    n_c = np.bincount(key, minlength=ns * ne)
    w_c = np.bincount(key, weights=win[has], minlength=ns * ne)
    out = []
    for k in np.flatnonzero(n_c >= rule.min_trades).tolist():
        si, ei = divmod(k, ne)
        n_rest = int(n_s[si] - n_c[k])
        if n_rest < rule.min_trades:
            continue
        wr = w_c[k] / n_c[k]
        wr_rest = (w_s[si] - w_c[k]) / n_rest
        if wr <= wr_rest - rule.threshold and wr < wr_rest:
            setup, emotion = t.setups[si], t.emotions[ei]
            out.append(Recommendation(
                rule.name,
                f"win rate {fmt_pct(wr)} on '{setup}' trades entered while '{emotion}', "
                f"against {fmt_pct(wr_rest)} otherwise; {_trades(int(n_c[k]))}",
                f"Skip '{setup}' trades while '{emotion}', or take them smaller", int(n_c[k])))
    return out


def _compare_groups(c: _Ctx, rule: Rule, codes: IntArray, names: Sequence[str], what: Callable[[str], str],
                    advice: Callable[[str], str]) -> list[Recommendation]:
    """Groups with negative expectancy that trail the rest of the trips."""
    t = c.t
    valid = codes >= 0
    g = codes[valid]
    n_g = np.bincount(g, minlength=len(names))
    s_g = np.bincount(g, weights=t.pnl[valid], minlength=len(names))
    total_n, total_s = t.n, float(t.pnl.sum())
    out = []
    for i in np.flatnonzero(n_g >= rule.min_trades).tolist():
        n_rest = total_n - int(n_g[i])
        if n_rest < rule.min_trades:
            continue
        exp = float(s_g[i] / n_g[i])
        exp_rest = (total_s - float(s_g[i])) / n_rest
        if exp < rule.threshold and exp < exp_rest:
            out.append(Recommendation(
                rule.name,
                f"expectancy {fmt_signed(exp, c.currency)} per trade on trades {what(names[i])}, "
                f"against {fmt_signed(exp_rest, c.currency)} otherwise; {_trades(int(n_g[i]))}",
                advice(names[i]), int(n_g[i])))
    return out


def _rule_emotion_expectancy(c: _Ctx, rule: Rule) -> list[Recommendation]:
    """Trips entered in one emotion have an expectancy below ``threshold`` (money, 0 by
    default) and below the other trips'."""
    return _compare_groups(c, rule, c.t.emo_before, c.t.emotions, lambda e: f"entered while '{e}'",
                           lambda e: f"Pause before entering while '{e}'")


def _rule_weak_hour(c: _Ctx, rule: Rule) -> list[Recommendation]:
    """Trips entered in one clock hour have an expectancy below ``threshold`` and below the rest."""
    names = [f"{h:02d}:00–{(h + 1) % 24:02d}:00" for h in range(24)]
    return _compare_groups(c, rule, c.t.hour, names, lambda h: f"entered {h}",
                           lambda h: f"Avoid new entries {h}")


def _rule_weak_weekday(c: _Ctx, rule: Rule) -> list[Recommendation]:
    """Trips entered on one weekday have an expectancy below ``threshold`` and below the rest."""
    names = ["Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays"]
    return _compare_groups(c, rule, c.t.weekday, names, lambda d: f"entered on {d}",
                           lambda d: f"Trade less on {d}")


def _rule_plan_breaks(c: _Ctx, rule: Rule) -> list[Recommendation]:
    """Off-plan trips' expectancy trails on-plan trips' by more than ``threshold`` (money)."""
    t = c.t
    on, off = t.followed == 1, t.followed == 0
    n_on, n_off = int(on.sum()), int(off.sum())
    if n_on < rule.min_trades or n_off < rule.min_trades:
        return []
    e_on, e_off = float(t.pnl[on].mean()), float(t.pnl[off].mean())
    if not e_on - e_off > rule.threshold:
        return []
    cost = (e_on - e_off) * n_off
    return [Recommendation(
        rule.name,
        f"breaking the plan cost {fmt_money(cost, c.currency)}: expectancy "
        f"{fmt_signed(e_off, c.currency)} on {n_off} off-plan trades, against "
        f"{fmt_signed(e_on, c.currency)} on {n_on} on-plan trades",
        "Follow your plan: write the entry, stop and target down before the order", n_off)]


def _rule_costly_mistake(c: _Ctx, rule: Rule) -> list[Recommendation]:
    """The mistake that cost the most, when it cost more than ``threshold`` (money)."""
    t = c.t
    if not t.mistakes:
        return []
    n_m = np.bincount(t.mistake_codes, minlength=len(t.mistakes))
    cost = -np.bincount(t.mistake_codes, weights=t.pnl[t.mistake_rows], minlength=len(t.mistakes))
    ok = (n_m >= rule.min_trades) & (cost > max(rule.threshold, 0.0))
    if not ok.any():
        return []
    i = int(np.flatnonzero(ok)[np.argmax(cost[ok])])
    losses = -float(t.pnl[t.pnl < 0].sum())
    name = t.mistakes[i]
    return [Recommendation(
        rule.name,
        f"'{name}' cost {fmt_money(float(cost[i]), c.currency)} over {_trades(int(n_m[i]))} "
        f"({fmt_pct(float(cost[i]) / losses)} of this period's losses)",
        f"Work on '{name}' first: it is your costliest mistake", int(n_m[i]))]


def _rule_losing_setup(c: _Ctx, rule: Rule) -> list[Recommendation]:
    """A setup whose trips lost money in total (net P&L below ``threshold``, 0 by default)."""
    t = c.t
    out = []
    for name, s in c.by_setup.items():
        if s.n >= rule.min_trades and s.net_pnl < rule.threshold and s.net_pnl < 0:
            pf = "n/a" if math.isnan(s.profit_factor) else f"{s.profit_factor:.2f}"
            out.append(Recommendation(
                rule.name,
                f"'{name}' trades lost {fmt_money(-s.net_pnl, c.currency)}: expectancy "
                f"{fmt_signed(s.expectancy, c.currency)}, profit factor {pf}; {_trades(s.n)}",
                f"Review the '{name}' setup, or stop trading it", s.n))
    return out


def _rule_payoff(c: _Ctx, rule: Rule) -> list[Recommendation]:
    """Losing overall although at least half the trips win: the average loss outweighs the
    average win (payoff ratio below ``threshold``, 1 by default when 0 is given)."""
    t = c.t
    if t.n < rule.min_trades:
        return []
    s = c.stats
    limit = rule.threshold or 1.0
    if not (s.win_rate >= 0.5 and s.expectancy < 0 and s.payoff_ratio < limit):
        return []
    return [Recommendation(
        rule.name,
        f"average loss {fmt_money(-s.avg_loss, c.currency)} against an average win of "
        f"{fmt_money(s.avg_win, c.currency)} (payoff ratio {s.payoff_ratio:.2f}) at a "
        f"{fmt_pct(s.win_rate)} win rate; {_trades(s.n)}",
        "Cut losing trades sooner: the losses outweigh a good win rate", s.n)]


RULES: dict[str, Callable[[_Ctx, Rule], list[Recommendation]]] = {
    "emotion_setup_win_rate": _rule_emotion_setup_win_rate,
    "emotion_expectancy": _rule_emotion_expectancy,
    "plan_breaks": _rule_plan_breaks,
    "costly_mistake": _rule_costly_mistake,
    "losing_setup": _rule_losing_setup,
    "weak_hour": _rule_weak_hour,
    "weak_weekday": _rule_weak_weekday,
    "payoff": _rule_payoff,
}

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("emotion_setup_win_rate", min_trades=10, threshold=0.15),
    Rule("emotion_expectancy", min_trades=10),
    Rule("plan_breaks", min_trades=5),
    Rule("costly_mistake", min_trades=3),
    Rule("losing_setup", min_trades=10),
    Rule("weak_hour", min_trades=10),
    Rule("weak_weekday", min_trades=10),
    Rule("payoff", min_trades=20, threshold=1.0),
)

#: The largest minimum trade count a rule may be given (``rules_with_min_trades``).
MAX_MIN_TRADES = 10_000


def rules_with_min_trades(min_trades: int, rules: Sequence[Rule] = DEFAULT_RULES) -> tuple[Rule, ...]:
    """``rules`` with every rule's minimum number of trades set to ``min_trades`` (a whole
    number of trades, 1–``MAX_MIN_TRADES``); 0 keeps each rule's own minimum (the
    ``journal/review_min_trades`` setting). Raises ``ValueError`` for any other value."""
    if isinstance(min_trades, bool) or not isinstance(min_trades, int) or not 0 <= min_trades <= MAX_MIN_TRADES:
        raise ValueError(f"the review's minimum number of trades must be a whole number from 0 (each rule's own) "
                         f"to {MAX_MIN_TRADES}, not {min_trades!r}")
    if min_trades == 0:
        return tuple(rules)
    return tuple(replace(r, min_trades=min_trades) for r in rules)


# --------------------------------------------------------------------------- review


@dataclass(frozen=True, slots=True)
class PlanAdherence:
    """Plan adherence (see the module docstring); ``rate`` NaN when nobody answered."""

    answered: int
    followed: int
    rate: float
    on_plan: TradeStats | None
    off_plan: TradeStats | None
    cost: float | None


@dataclass(frozen=True, slots=True)
class MistakeCost:
    name: str
    trades: int
    net_pnl: float
    cost: float


@dataclass(frozen=True, slots=True)
class Review:
    """One period's review (definitions in the module docstring). Breakdown keys: setup /
    tag / symbol / emotion names, "Mon"… for weekdays, "09:00" for hours of entry, "1"…"5"
    for confidence."""

    period: Period
    stats: TradeStats
    returns: ReturnMetrics | None
    exposure: float
    daily_pnl: dict[date, float]
    by_setup: dict[str, TradeStats]
    by_tag: dict[str, TradeStats]
    by_symbol: dict[str, TradeStats]
    by_emotion_before: dict[str, TradeStats]
    by_emotion_after: dict[str, TradeStats]
    by_weekday: dict[str, TradeStats]
    by_hour: dict[str, TradeStats]
    by_confidence: dict[str, TradeStats]
    by_mistake: dict[str, TradeStats]
    plan: PlanAdherence
    top_mistakes: tuple[MistakeCost, ...]
    best_setups: tuple[tuple[str, TradeStats], ...]
    worst_setups: tuple[tuple[str, TradeStats], ...]
    r_histogram: list[tuple[float, float, int]]
    recommendations: tuple[Recommendation, ...] = field(default=())


def review(entries: Sequence[JournalEntry] | JournalFrame, period: Period, *, tz: str | None = None,
           starting_equity: float | None = None, as_of: date | None = None,
           rules: Sequence[Rule] = DEFAULT_RULES, min_setup_trades: int = 5,
           currency: str = "$") -> Review:
    """The review of ``period`` over the round trips of ``entries`` that closed in it.

    ``entries`` a list of ``JournalEntry`` or, faster for big journals, a ``JournalFrame``.
    ``tz`` the IANA time zone for calendar days, weekdays and hours (None = UTC);
    ``starting_equity`` (money, > 0) enables the return metrics; ``as_of`` ends a review
    taken before the period is over (defaults to the period's last day). Raises
    ``ValueError`` for an invalid argument.
    """
    if not isinstance(period, Period):
        raise ValueError("period must be a Period (Period.of(kind, day))")
    if starting_equity is not None and not (math.isfinite(starting_equity) and starting_equity > 0):
        raise ValueError(f"starting equity must be a positive amount, not {starting_equity!r}")
    if isinstance(min_setup_trades, bool) or not isinstance(min_setup_trades, int) or min_setup_trades < 1:
        raise ValueError("min_setup_trades must be a positive integer")
    last = period.end - timedelta(days=1)
    if as_of is not None:
        if as_of < period.start:
            raise ValueError(f"as_of {as_of} is before the period starts ({period.start})")
        last = min(last, as_of)
    try:
        start_ms = _local_midnight_ms(period.start, tz)
        end_ms = _local_midnight_ms(last + timedelta(days=1), tz)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc
    t = _build(entries, start_ms, end_ms, tz)
    n = t.n
    all_rows = np.arange(n, dtype=np.int64)
    stats = group_stats(t.pnl, t.r, all_rows, np.zeros(n, dtype=np.int64), 1, t.ranks)[0]

    # daily P&L and returns
    first_day = _day_number(period.start)
    n_days = _day_number(last) - first_day + 1
    day_pnl = np.bincount(t.exit_day - first_day, weights=t.pnl, minlength=n_days)[:n_days]
    days = [period.start + timedelta(days=i) for i in range(n_days)]
    traded = np.bincount(t.exit_day - first_day, minlength=n_days)[:n_days] > 0
    daily = {days[i]: float(day_pnl[i]) for i in np.flatnonzero(traded).tolist()}
    metrics = None
    if starting_equity is not None:
        weekdays = np.asarray([d.weekday() < 5 for d in days]) | traded
        pnl_d = day_pnl[weekdays]
        equity = starting_equity + np.cumsum(pnl_d)
        if pnl_d.size and (equity > 0).all():
            prev = np.concatenate(([starting_equity], equity[:-1]))
            metrics = analyze_returns(pnl_d / prev, start_value=starting_equity)
    expo = time_in_market(t.entry_ms, t.exit_ms, start_ms, end_ms)

    weekday_names = list(WEEKDAYS)
    hour_names = [f"{h:02d}:00" for h in range(24)]
    conf_names = ["none", "1", "2", "3", "4", "5"]
    by_conf = coded_breakdown(t.pnl, t.r, np.where(t.confidence > 0, t.confidence, -1), conf_names, t.ranks)
    by_setup = _multi(t, t.setup_rows, t.setup_codes, t.setups)
    by_mistake = _multi(t, t.mistake_rows, t.mistake_codes, t.mistakes)

    on, off = t.followed == 1, t.followed == 0
    answered = int(on.sum() + off.sum())
    plan_groups = group_stats(t.pnl, t.r, all_rows, np.where(t.followed >= 0, t.followed, 2), 3, t.ranks)
    off_s, on_s = plan_groups[0], plan_groups[1]
    cost = (on_s.expectancy - off_s.expectancy) * off_s.n if on_s.n and off_s.n else None
    plan = PlanAdherence(answered, int(on.sum()), on.sum() / answered if answered else math.nan,
                         on_s if on_s.n else None, off_s if off_s.n else None, cost)

    mistakes = sorted((MistakeCost(k, s.n, s.net_pnl, -s.net_pnl) for k, s in by_mistake.items()),
                      key=lambda m: -m.cost)[:5]
    ranked = sorted(((k, s) for k, s in by_setup.items() if s.n >= min_setup_trades),
                    key=lambda ks: -ks[1].expectancy)
    best = tuple(ks for ks in ranked if ks[1].expectancy > 0)[:3]
    worst = tuple(ks for ks in reversed(ranked) if ks[1].expectancy < 0)[:3]

    ctx = _Ctx(t, currency, stats, by_setup)
    recs: list[Recommendation] = []
    for rule in rules:
        for rec in RULES[rule.name](ctx, rule):
            if rec.trades >= rule.min_trades:  # the guarantee, whatever a rule computes
                recs.append(rec)

    return Review(
        period=period, stats=stats, returns=metrics, exposure=expo, daily_pnl=daily,
        by_setup=by_setup, by_tag=_multi(t, t.tag_rows, t.tag_codes, t.tags),
        by_symbol=coded_breakdown(t.pnl, t.r, t.symbol, t.symbols, t.ranks),
        by_emotion_before=coded_breakdown(t.pnl, t.r, t.emo_before, t.emotions, t.ranks),
        by_emotion_after=coded_breakdown(t.pnl, t.r, t.emo_after, t.emotions, t.ranks),
        by_weekday=coded_breakdown(t.pnl, t.r, t.weekday, weekday_names, t.ranks),
        by_hour=coded_breakdown(t.pnl, t.r, t.hour, hour_names, t.ranks),
        by_confidence=by_conf, by_mistake=by_mistake, plan=plan, top_mistakes=tuple(mistakes),
        best_setups=best, worst_setups=worst, r_histogram=r_histogram(t.r),
        recommendations=tuple(recs))
