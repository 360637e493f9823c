"""Vectorised evaluation of many alerts over a panel of symbols.

``AlertPlan(alerts, scope_symbols, custom, states)`` compiles once what every update reuses:

1. each distinct condition text is parsed once, all into one node table (equal
   sub-expressions such as ``rsi(close, 14)`` are one node, whichever alert wrote them);
2. every condition is split into its *bar-dependent leaves* (maximal sub-expressions with no
   number literal at their top: ``close``, ``sma(close, 50)``, ``crosses_above(macd(close),
   macd_signal(close))``) and a *shape* over them, with the literals of the top as slots
   (``close > 200`` and ``close > 150`` have one shape, ``L0 > $0``, and differ only in
   ``$0``);
3. alerts whose conditions have the same shapes and combine are one group; a group's
   *instances* are its (alert, symbol) pairs over the union of their scopes.

``evaluate(panel, now)`` then evaluates each leaf once over all symbols on the last bar (one
``engine.formula.Evaluator``, tail mode), gathers leaf values and slot constants per instance
and runs each group's shape once as numpy operations over all its instances — so 10,000
alerts cost a few numpy calls per *distinct shape*, not a loop over alerts. The trigger
rules (mode, cooldown, expiry, active hours, snooze) are masks over the instances too; only
the instances that fire are touched one by one, to record what they fired with.

The formula semantics are the formula language's own (``engine.formula.compute``): NaN
compares False, ``and``/``or`` read a number as true when non-zero and not NaN.

Conditions may also use ``sentiment`` / ``sentiment(days)`` (``functions.ALERT_FUNCTIONS``):
the mean compound score of the symbol's stored headlines over the last ``days`` sessions.
``evaluate(..., sentiment=fn)`` supplies it: ``fn(days)`` returns a symbols × time array
aligned to the panel (``NewsService.sentiment_panel``), NaN where there is no news, so a
symbol without news never matches ``sentiment > x`` (nor ``sentiment < x``).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import repeat
from typing import Any

import numpy as np

from engine.alerts.model import AlertTemplate, Fire, InstanceState
from engine.formula.compute import Evaluator, _arith, _as_float, _compare, _truth  # same semantics as formulas
from engine.formula.errors import FormulaError
from engine.formula.formula import Formula
from engine.formula.functions import ALERT_FUNCTIONS
from engine.formula.panel import Panel
from engine.formula.parser import Builder, Node, Parser

log = logging.getLogger(__name__)

_TOP = ("bin", "neg", "not")
_CMP = ("<", "<=", ">", ">=", "==", "!=")
_NEVER = np.iinfo(np.int64).min
_MODE = {"once": 0, "once_per_bar": 1, "every": 2}

Key = tuple[Any, ...]


def compile_conditions(texts: Sequence[str], custom: Mapping[str, str] | None = None,
                       builder: Builder | None = None) -> list[Formula | FormulaError]:
    """Parse every condition text into one shared node table: a ``Formula`` per text, or the
    ``FormulaError`` that text has (a number-valued formula is refused: a condition must be
    true or false). Never raises for bad text; raises ``TypeError`` for a non-string."""
    b = builder if builder is not None else Builder()
    shared: dict[str, Node] = {}
    out: list[Formula | FormulaError] = []
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"a condition must be text, not {type(text).__name__}")
        p = Parser(text, custom, b, custom_nodes=shared, extra=ALERT_FUNCTIONS)
        try:
            root = p.parse()
        except FormulaError as exc:
            out.append(exc)
            continue
        except RecursionError:
            out.append(FormulaError("formula is nested too deeply", 1, text=text))
            continue
        if not root.is_bool:
            out.append(FormulaError("a condition must be true or false: compare it, e.g. 'rsi(close) < 30'",
                                    1, text=text))
            continue
        out.append(Formula(text, root, frozenset(p.used_custom)))
    return out


SentimentSource = Callable[[int], np.ndarray]


class NewsEvaluator(Evaluator):
    """An ``Evaluator`` that also computes ``sentiment(days)``: ``sentiment(days)`` is asked
    once per distinct ``days`` and must return a float array of the panel's shape (NaN
    without news). Without a source every sentiment is NaN."""

    def __init__(self, panel: Panel, sentiment: SentimentSource | None = None) -> None:
        super().__init__(panel)
        self._sentiment = sentiment

    def _call_full(self, node: Node) -> Any:
        if node.op != "sentiment":
            return super()._call_full(node)
        if self._sentiment is None:
            return np.full(self.shape, np.nan)
        out = np.asarray(self._sentiment(int(node.params[0])), dtype=np.float64)
        if out.shape != self.shape:
            raise ValueError(f"the sentiment source gave shape {out.shape}, the panel is {self.shape}")
        return out


def sentiment_days(roots: Sequence[Node]) -> tuple[int, ...]:
    """The distinct ``days`` of every ``sentiment(days)`` under ``roots`` (sorted)."""
    seen: set[int] = set()
    out: set[int] = set()
    stack = list(roots)
    while stack:
        n = stack.pop()
        if n.uid in seen:
            continue
        seen.add(n.uid)
        if n.kind == "call" and n.op == "sentiment":
            out.add(int(n.params[0]))
        stack.extend(n.args)
    return tuple(sorted(out))


def _has_slot(node: Node, memo: dict[int, bool]) -> bool:
    hit = memo.get(node.uid)
    if hit is None:
        hit = node.kind == "num" or (node.kind in _TOP and any(_has_slot(a, memo) for a in node.args))
        memo[node.uid] = hit
    return hit


def _shape(node: Node, slots: list[float], leaves: list[Node], memo: dict[int, bool]) -> Key:
    """The shape key of ``node``: literals at its top become slots (values appended to
    ``slots``), bar-dependent sub-expressions become leaves (appended to ``leaves``)."""
    if node.kind == "num":
        slots.append(float(node.value))
        return ("$",)
    if node.kind in _TOP and _has_slot(node, memo):
        return (node.kind, node.op, *(_shape(a, slots, leaves, memo) for a in node.args))
    leaves.append(node)
    return ("L", node.uid)


@dataclass
class _Group:
    key: Key
    combine: str
    cond_keys: tuple[Key, ...]
    leaf_nodes: list[Node]  # in traversal order (as the shape keys reference them)
    alerts: list[int] = field(default_factory=list)  # plan alert indices
    slot_rows: list[list[float]] = field(default_factory=list)  # per alert, its slot values
    start: int = 0  # first global instance id
    parts: list[Node] = field(default_factory=list)  # recorded with a fire
    labels: list[str] = field(default_factory=list)  # "close", then one per part
    inst: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))  # global instance ids
    inst_alert: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))  # plan alert index
    inst_row: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))  # plan symbol row
    slots: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # instances × slots


class AlertPlan:
    """Many alerts compiled for vectorised evaluation (see the module docstring).

    ``alerts`` must carry ids; ``scope_symbols`` maps an alert id to the symbols its scope
    resolves to now; ``states`` holds what each (alert id, symbol) pair remembers from earlier
    evaluations (``InstanceState``). Alerts whose conditions do not parse are left out and
    listed in ``errors`` (alert id → message). ``symbols`` is the union of the scopes, the
    rows ``evaluate`` wants in its panel (``needed_bars`` columns are enough).
    """

    def __init__(self, alerts: Sequence[AlertTemplate], scope_symbols: Mapping[int, Sequence[str]],
                 custom: Mapping[str, str] | None = None,
                 states: Mapping[tuple[int, str], InstanceState] | None = None,
                 exchange_of: Any = None) -> None:
        states = states or {}
        self.errors: dict[int, str] = {}
        self.alerts: list[AlertTemplate] = []
        texts = list(dict.fromkeys(c for a in alerts for c in a.conditions))
        compiled = dict(zip(texts, compile_conditions(texts, custom)))
        for a in alerts:
            if a.id is None:
                raise ValueError(f"alert '{a.name}' has no id: store it before planning")
            bad = next(((i, compiled[c]) for i, c in enumerate(a.conditions)
                        if isinstance(compiled[c], FormulaError)), None)
            if bad is not None:
                i, exc = bad
                self.errors[a.id] = f"condition {i + 1}: {exc}"
                continue
            self.alerts.append(a)
        self.formulas = {t: f for t, f in compiled.items() if isinstance(f, Formula)}
        sym_index: dict[str, int] = {}
        for a in self.alerts:
            for s in scope_symbols.get(a.id or 0, ()):  # ids are set (checked above)
                sym_index.setdefault(s, len(sym_index))
        self.symbols: tuple[str, ...] = tuple(sym_index)
        self._sym_index = sym_index
        self._symbols_obj = np.array(self.symbols, dtype=object)
        self.alert_ids = np.array([a.id for a in self.alerts], dtype=np.int64)
        self.mode = np.array([_MODE[a.mode] for a in self.alerts], dtype=np.int8)
        self.cooldown = np.array([a.cooldown_s for a in self.alerts], dtype=np.float64)
        self.expires = np.array([math.inf if a.expires_at is None else a.expires_at for a in self.alerts],
                                dtype=np.float64)
        self.session_only = np.array([a.active_hours == "session" for a in self.alerts], dtype=bool)
        self.live = np.array([a.enabled and not a.done for a in self.alerts], dtype=bool)
        self.needed_bars = 2 + max((f.lookback for f in self.formulas.values()), default=0)
        #: the ``days`` of the sentiment the live conditions read (empty: no news needed)
        self.sentiment_days = sentiment_days([self.formulas[c].root for a in self.alerts for c in a.conditions])

        memo: dict[int, bool] = {}
        groups: dict[Key, _Group] = {}
        for ai, a in enumerate(self.alerts):
            slots: list[float] = []
            leaves: list[Node] = []
            keys = [_shape(self.formulas[c].root, slots, leaves, memo) for c in a.conditions]
            gkey = (a.combine, tuple(keys))
            g = groups.get(gkey)
            if g is None:
                g = groups[gkey] = _Group(gkey, a.combine, tuple(keys), leaves)
            g.alerts.append(ai)
            g.slot_rows.append(slots)
        self.groups = list(groups.values())
        for g in self.groups:  # what a fire records: the number-valued parts of the leaves, labelled once
            parts: dict[int, Node] = {}
            for node in g.leaf_nodes:
                for m in _numeric_parts(node):
                    parts.setdefault(m.uid, m)
            g.parts = list(parts.values())
            g.labels = ["close", *(_label(m) for m in g.parts)]
        self._row_cache: tuple[tuple[str, ...], np.ndarray] | None = None
        self._names_obj = np.array([a.name for a in self.alerts], dtype=object)
        self._messages_obj = np.array([a.message or f"{a.name}: {a.formula_text()}" for a in self.alerts],
                                      dtype=object)

        # instances: (alert, symbol) pairs, numbered group by group
        total = 0
        inst_alert_all, inst_row_all = [], []
        for g in self.groups:
            rows_per_alert = [np.fromiter((sym_index[s] for s in scope_symbols.get(self.alerts[ai].id or 0, ())),
                                          dtype=np.intp) for ai in g.alerts]
            counts = np.array([len(r) for r in rows_per_alert], dtype=np.intp)
            n = int(counts.sum())
            local = np.repeat(np.arange(len(g.alerts), dtype=np.intp), counts)
            g.start = total
            g.inst = np.arange(total, total + n, dtype=np.intp)
            g.inst_alert = np.asarray(g.alerts, dtype=np.intp)[local] if n else np.zeros(0, np.intp)
            g.inst_row = np.concatenate(rows_per_alert) if n else np.zeros(0, np.intp)
            width = len(g.slot_rows[0]) if g.slot_rows else 0
            slot_mat = np.array(g.slot_rows, dtype=np.float64).reshape(len(g.alerts), width)
            g.slots = slot_mat[local] if n else np.zeros((0, width))
            inst_alert_all.append(g.inst_alert)
            inst_row_all.append(g.inst_row)
            total += n
        self.n_instances = total
        self.inst_alert = np.concatenate(inst_alert_all) if inst_alert_all else np.zeros(0, np.intp)
        self.inst_row = np.concatenate(inst_row_all) if inst_row_all else np.zeros(0, np.intp)
        self.last_bar = np.full(total, _NEVER, dtype=np.int64)
        self.cooldown_until = np.full(total, -math.inf)
        self.snoozed_until = np.full(total, -math.inf)
        self._inst_of: dict[tuple[int, str], int] = {}
        ids = self.alert_ids
        for i in range(total):
            key = (int(ids[self.inst_alert[i]]), self.symbols[self.inst_row[i]])
            self._inst_of[key] = i
            st = states.get(key)
            if st is not None:
                self._load_state(i, st)
        # exchange of each symbol, for active hours (cheap: a suffix rule, no calendar built)
        if exchange_of is None:
            from engine.market.calendar import exchange_for as exchange_of
        self._exchange = [exchange_of(s) for s in self.symbols] if self.session_only.any() else []

    # ------------------------------------------------------------------ state
    def _load_state(self, i: int, st: InstanceState) -> None:
        if st.last_bar_time is not None:
            self.last_bar[i] = st.last_bar_time
        if st.cooldown_until is not None:
            self.cooldown_until[i] = st.cooldown_until
        if st.snoozed_until is not None:
            self.snoozed_until[i] = st.snoozed_until

    def snooze(self, alert_id: int, symbol: str, until: int) -> None:
        """Keep (alert, symbol) quiet until ``until`` (UTC epoch seconds)."""
        i = self._inst_of.get((int(alert_id), symbol))
        if i is not None:
            self.snoozed_until[i] = until

    def commit(self, fires: Sequence[Fire]) -> None:
        """Remember that ``fires`` were recorded (call after they were stored, so a failed
        write leaves them to fire again rather than be lost)."""
        done_alerts = set()
        for f in fires:
            i = self._inst_of.get((f.alert_id, f.symbol))
            if i is None:
                continue
            ai = int(self.inst_alert[i])
            self.last_bar[i] = f.bar_time
            self.cooldown_until[i] = f.at + self.cooldown[ai]
            if self.mode[ai] == _MODE["once"]:
                done_alerts.add(ai)
        for ai in done_alerts:
            self.live[ai] = False

    def state_of(self, f: Fire) -> InstanceState:
        """The state (alert, symbol) has after ``f`` (what the store keeps)."""
        ai = self._alert_index(f.alert_id)
        cool = f.at + int(self.cooldown[ai]) if ai is not None and self.cooldown[ai] else None
        return InstanceState(last_fired_at=f.at, last_bar_time=f.bar_time, cooldown_until=cool)

    def _alert_index(self, alert_id: int) -> int | None:
        hit = np.flatnonzero(self.alert_ids == alert_id)
        return int(hit[0]) if hit.size else None

    # ------------------------------------------------------------------ evaluation
    def _rows_in(self, panel: Panel) -> np.ndarray:
        """Panel row of each plan symbol (-1 when the panel has none); the mapping of the
        last panel layout is kept, since every update brings the same symbols."""
        if panel.symbols == self.symbols:
            return np.arange(len(self.symbols), dtype=np.intp)
        cached = self._row_cache
        if cached is not None and cached[0] == panel.symbols:
            return cached[1]
        where = {s: i for i, s in enumerate(panel.symbols)}
        rows = np.array([where.get(s, -1) for s in self.symbols], dtype=np.intp)
        self._row_cache = (panel.symbols, rows)
        return rows

    def _open_now(self, now: float) -> np.ndarray:
        """Per plan symbol: is its exchange in a regular session at ``now``."""
        from engine.market.calendar import get_calendar

        out = np.zeros(len(self.symbols), dtype=bool)
        if not self._exchange:
            return out
        opened: dict[str, bool] = {}
        for i, ex in enumerate(self._exchange):
            o = opened.get(ex)
            if o is None:
                try:
                    o = get_calendar(ex).is_open(now)
                except ValueError:  # outside the calendar's years: treat as closed
                    o = False
                opened[ex] = o
            out[i] = o
        return out

    def evaluate(self, panel: Panel, now: float, evaluator: Evaluator | None = None,
                 sentiment: SentimentSource | None = None) -> list[Fire]:
        """The alerts that trigger on the last bar of ``panel`` at time ``now`` (UTC epoch s).

        ``sentiment(days)``: the news sentiment of the panel's symbols (see the module
        docstring); asked only when a condition reads it. Nothing is remembered until
        ``commit(fires)``. Symbols missing from the panel (or with no bar) do not trigger.
        Raises ``ValueError`` for a non-finite ``now``.
        """
        if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
            raise ValueError(f"now must be finite epoch seconds, not {now!r}")
        if not self.n_instances or not len(panel) or panel.shape[1] == 0:
            return []
        ev = evaluator if evaluator is not None else (
            NewsEvaluator(panel, sentiment) if self.sentiment_days else Evaluator(panel))
        prow = self._rows_in(panel)
        leaf_cache: dict[int, np.ndarray] = {}

        def leaf(node: Node) -> np.ndarray:
            v = leaf_cache.get(node.uid)
            if v is None:
                v = leaf_cache[node.uid] = ev.last(node, 1)[:, 0]
            return v

        bar_time_p = panel.last_time
        open_now = self._open_now(now) if self.session_only.any() else None
        alert_ok = self.live & (now < self.expires)
        out: list[Fire] = []
        for g in self.groups:
            if not g.inst.size:
                continue
            rows = prow[g.inst_row]
            ok = (rows >= 0) & alert_ok[g.inst_alert]
            if not ok.any():
                continue
            safe = np.where(rows >= 0, rows, 0)
            leaf_vals = [leaf(n)[safe] for n in g.leaf_nodes]
            pos = [0, 0]  # next slot, next leaf while walking the shape

            def run(key: Key) -> Any:
                tag = key[0]
                if tag == "$":
                    j = pos[0]
                    pos[0] += 1
                    return g.slots[:, j]
                if tag == "L":
                    j = pos[1]
                    pos[1] += 1
                    return leaf_vals[j]
                kind, op, *kids = key
                vals = [run(k) for k in kids]
                if kind == "neg":
                    return -_as_float(vals[0])
                if kind == "not":
                    return ~np.asarray(_truth(vals[0]), dtype=bool)
                if op == "and":
                    return np.asarray(_truth(vals[0]), bool) & np.asarray(_truth(vals[1]), bool)
                if op == "or":
                    return np.asarray(_truth(vals[0]), bool) | np.asarray(_truth(vals[1]), bool)
                if op in _CMP:
                    return _compare(op, vals[0], vals[1])
                return _arith(op, vals[0], vals[1])

            hit: np.ndarray | None = None
            for ck in g.cond_keys:
                v = np.broadcast_to(np.asarray(_truth(run(ck)), dtype=bool), rows.shape)
                hit = v if hit is None else (hit & v if g.combine == "and" else hit | v)
            assert hit is not None
            hit = hit & ok
            if not hit.any():
                continue
            inst = g.inst[hit]
            ai = g.inst_alert[hit]
            bt = bar_time_p[safe[hit]]
            mode = self.mode[ai]
            keep = now >= self.snoozed_until[inst]
            keep &= np.where(mode == _MODE["once_per_bar"], bt != self.last_bar[inst], True)
            keep &= np.where(mode == _MODE["every"], now >= self.cooldown_until[inst], True)
            if open_now is not None:
                keep &= ~self.session_only[ai] | open_now[g.inst_row[hit]]
            if keep.any():
                out += self._fires(g, inst[keep], safe[hit][keep], panel, leaf, int(now))
        return out

    def _fires(self, g: _Group, inst: np.ndarray, prows: np.ndarray, panel: Panel, leaf: Any,
               now: int) -> list[Fire]:
        """Fire records of ``inst`` (fired instances of group ``g`` at panel rows ``prows``):
        the recorded values are gathered per part as arrays, then zipped per fire."""
        cols = [panel.close[prows, -1], *(np.asarray(leaf(m), dtype=np.float64)[prows] for m in g.parts)]
        values = np.column_stack(cols).tolist()
        ai = self.inst_alert[inst]
        # thousands of fires per update: every step below runs in C (numpy gathers, map/zip,
        # tuple.__new__ for the NamedTuple) rather than a Python loop body per fire
        dicts = map(dict, map(zip, repeat(g.labels), values))
        return list(map(_new_fire, zip(self.alert_ids[ai].tolist(), self._names_obj[ai].tolist(),
                                       self._symbols_obj[self.inst_row[inst]].tolist(), repeat(now),
                                       panel.last_time[prows].tolist(), dicts, self._messages_obj[ai].tolist())))


_new_fire = partial(tuple.__new__, Fire)


def _numeric_parts(node: Node) -> list[Node]:
    """The number-valued sub-expressions a user reads a condition by: ``close > shift(close)``
    → ``close``, ``shift(close)``; ``crosses_above(a, b)`` → ``a``, ``b``."""
    if node.kind == "num":
        return []
    if not node.is_bool:
        return [node]
    out: list[Node] = []
    for a in node.args:
        out += _numeric_parts(a)
    return out


def _label(node: Node) -> str:
    if node.kind == "call" and node.op == "sentiment" and node.params == (1.0,):
        return "sentiment"  # as it is written; sentiment(3) keeps its days
    try:
        text = node.to_text(limit=200)
    except ValueError:
        return f"#{node.uid}"
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return text
