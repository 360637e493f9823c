"""``AlertService``: the one object the app, the CLI and tests use for alerts.

It keeps the alerts in the store, compiles them into one ``AlertPlan`` per timeframe
(rebuilt only when alerts, watchlists or custom indicators change), evaluates them on a
panel, records what fired (history + state + pending deliveries in one transaction), then
delivers: "app" at once (``AlertTriggered`` on the bus), webhook / e-mail / SMS from
``deliver_due`` (the app runs it in a worker), retried with backoff and announced as
``AlertDeliveryFailed`` after the last try.

Sentiment as a condition source: conditions may read ``sentiment`` / ``sentiment(days)``
(the symbol's daily news sentiment, ``engine.alerts.evaluate``). The values come from the
``sentiment`` hook, ``(panel, days) -> symbols × time array`` (the app passes
``NewsService.sentiment_panel``); without a hook every sentiment is NaN (never true).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.alerts.delivery import DeliveryConfig, DeliveryError, Senders, deliver_once
from engine.alerts.evaluate import AlertPlan, compile_conditions
from engine.alerts.events import AlertDeliveryFailed, AlertsChanged, AlertTriggered
from engine.alerts.model import AlertError, AlertTemplate, HistoryEntry, Scope
from engine.alerts.store import AlertStore, Delivery
from engine.events import EventBus
from engine.formula.errors import FormulaError
from engine.formula.panel import Panel
from engine.store.db import Database

log = logging.getLogger(__name__)
CONFIG_KEY = "alerts/delivery"

ScopeResolver = Callable[[Scope], Sequence[str]]
BarsLoader = Callable[[Sequence[str], str, int], Panel]


@dataclass(frozen=True, slots=True)
class CycleResult:
    """What one ``run_cycle`` did."""

    fired: int
    delivered: int
    failed: int
    errors: dict[int, str]


class AlertService:
    """Alerts of one workstation (see the module docstring).

    ``custom``: the custom indicators (a mapping or a callable returning one, e.g.
    ``FormulaService.custom_map``). ``resolve_scope(scope)`` lists a scope's symbols (raise
    ``AlertError``/``KeyError`` for an unknown watchlist or universe). ``load_panel(symbols,
    timeframe, length)`` returns their bars as a right-aligned ``Panel``. ``clock`` returns
    UTC epoch seconds. ``senders`` replaces the network functions (tests). ``sentiment(panel,
    days)`` gives the news sentiment conditions read (see the module docstring).
    """

    def __init__(self, db: Database, bus: EventBus, *, custom: Mapping[str, str] | Callable[[], Mapping[str, str]]
                 | None = None, resolve_scope: ScopeResolver | None = None, load_panel: BarsLoader | None = None,
                 clock: Callable[[], float] = time.time, senders: Senders | None = None,
                 sentiment: Callable[[Panel, int], Any] | None = None) -> None:
        self.db = db
        self.bus = bus
        self.store = AlertStore(db)
        self._custom = custom
        self._resolve = resolve_scope
        self._load_panel = load_panel
        self.clock = clock
        self.senders = senders or Senders()
        self.sentiment = sentiment
        self._lock = threading.RLock()
        self._deliver_lock = threading.Lock()
        self._plans: dict[str, AlertPlan] | None = None
        self.scope_errors: dict[int, str] = {}

    # ------------------------------------------------------------------ helpers
    def custom(self) -> dict[str, str]:
        c = self._custom
        if c is None:
            return {}
        return dict(c() if callable(c) else c)

    def _now(self, now: float | None) -> int:
        return int(self.clock() if now is None else now)

    def invalidate(self) -> None:
        """Rebuild the plans before the next evaluation (alerts, watchlists or custom
        indicators changed)."""
        with self._lock:
            self._plans = None

    def _changed(self) -> None:
        self.invalidate()
        self.bus.publish(AlertsChanged())

    # ------------------------------------------------------------------ templates
    def alerts(self) -> list[AlertTemplate]:
        return self.store.list()

    def validate_condition(self, text: str) -> list[FormulaError]:
        """Problems of one condition (empty when valid), for an editor on every keystroke."""
        out = compile_conditions([text], self.custom())[0]
        return [out] if isinstance(out, FormulaError) else []

    def condition_words(self) -> list[tuple[str, str]]:
        """What a condition may name, for an editor's completion: (word, what it is) for the
        bar fields, the functions (with ``sentiment``, alerts only), the custom indicators
        and the keywords, sorted by word."""
        from engine.formula.functions import ALERT_FUNCTIONS, FIELDS, FUNCTIONS, KEYWORDS

        out = {f: "bar field" for f in FIELDS}
        out.update({k: "keyword" for k in KEYWORDS})
        for spec in (*FUNCTIONS.values(), *ALERT_FUNCTIONS.values()):
            out[spec.name] = f"{spec.signature()}: {spec.doc}"
        out.update({n.lower(): "custom indicator" for n in self.custom()})
        return sorted(out.items())

    def save(self, alert: AlertTemplate) -> AlertTemplate:
        """Check and store ``alert`` (new when its id is None). Raises ``AlertError`` naming
        the first bad field or condition (with the formula's column)."""
        a = alert.checked()
        for i, res in enumerate(compile_conditions(list(a.conditions), self.custom())):
            if isinstance(res, FormulaError):
                raise AlertError(f"Condition {i + 1}: {res}.")
        saved = self.store.save(a, now=self._now(None))
        self._changed()
        return saved

    def delete(self, alert_id: int) -> None:
        self.store.delete(alert_id)
        self._changed()

    def set_enabled(self, alert_id: int, enabled: bool) -> AlertTemplate:
        from dataclasses import replace

        return self.save(replace(self.store.get(alert_id), enabled=bool(enabled)))

    def status(self, alert: AlertTemplate, now: float | None = None) -> str:
        """"active", "disabled", "done", "expired" or the reason it cannot run."""
        t = self._now(now)
        if alert.id is not None and alert.id in self.scope_errors:
            return self.scope_errors[alert.id]
        if alert.done:
            return "done"
        if not alert.enabled:
            return "disabled"
        if alert.expired(t):
            return "expired"
        return "active"

    # ------------------------------------------------------------------ planning
    def resolve(self, scope: Scope) -> tuple[str, ...]:
        """The symbols of ``scope`` now. Raises ``AlertError`` when it cannot be resolved."""
        if scope.kind == "symbol":
            return (scope.value,)
        if self._resolve is None:
            raise AlertError(f"{scope.describe()} cannot be resolved here (no scope resolver).")
        try:
            syms = tuple(dict.fromkeys(s.strip().upper() for s in self._resolve(scope) if s and s.strip()))
        except (KeyError, ValueError) as exc:
            raise AlertError(f"{scope.describe()} cannot be resolved: {exc}") from None
        return syms

    def plans(self) -> dict[str, AlertPlan]:
        """One plan per timeframe of the live alerts (cached until ``invalidate``)."""
        with self._lock:
            if self._plans is not None:
                return self._plans
            alerts = [a for a in self.store.list() if a.enabled and not a.done]
            states = self.store.states()
            custom = self.custom()
            scopes: dict[int, tuple[str, ...]] = {}
            errors: dict[int, str] = {}
            cache: dict[Scope, tuple[str, ...]] = {}
            for a in alerts:
                try:
                    syms = cache.get(a.scope)
                    if syms is None:
                        syms = cache[a.scope] = self.resolve(a.scope)
                    scopes[a.id or 0] = syms
                except AlertError as exc:
                    errors[a.id or 0] = str(exc)
            plans = {}
            for tf in sorted({a.timeframe for a in alerts}):
                plan = AlertPlan([a for a in alerts if a.timeframe == tf and a.id in scopes], scopes, custom, states)
                errors.update(plan.errors)
                plans[tf] = plan
            self.scope_errors = errors
            self._plans = plans
            return plans

    def uses_sentiment(self) -> bool:
        """Whether a live alert reads news sentiment (so new news is worth an evaluation).
        From the built plans, else from the stored conditions' text."""
        plans = self._plans
        if plans is not None:
            return any(p.sentiment_days for p in plans.values())
        return any("sentiment" in c.lower() for a in self.store.list() if a.enabled and not a.done
                   for c in a.conditions)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, panel: Panel, now: float | None = None, timeframe: str | None = None) -> list[HistoryEntry]:
        """Evaluate the alerts of ``timeframe`` (default: the panel's) on the last bar of
        ``panel``; record and announce what fired. Returns the new history entries."""
        t = self._now(now)
        tf = timeframe or panel.timeframe
        with self._lock:
            plan = self.plans().get(tf)
            if plan is None:
                return []
            hook = self.sentiment
            fires = plan.evaluate(panel, t, sentiment=None if hook is None else (lambda d: hook(panel, d)))
            if not fires:
                return []
            by_id = {a.id: a for a in plan.alerts}
            states = [plan.state_of(f) for f in fires]
            channels = {a.id or 0: a.channels for a in plan.alerts}
            done = sorted({f.alert_id for f in fires if by_id[f.alert_id].mode == "once"})
            ids = self.store.record(fires, states, channels, done)
            plan.commit(fires)
        entries = [HistoryEntry(hid, f.alert_id, f.alert_name, f.symbol, f.at, f.bar_time, f.values, f.message)
                   for hid, f in zip(ids, fires)]
        self.deliver_due(t, channels=("app",))
        self.bus.publish(AlertsChanged())
        return entries

    def run_cycle(self, now: float | None = None) -> CycleResult:
        """Load the bars every plan needs, evaluate, then deliver what is due (for a worker)."""
        t = self._now(now)
        fired = 0
        if self._load_panel is None:
            raise AlertError("This alert service has no bar loader.")
        for tf, plan in self.plans().items():
            if not plan.symbols:
                continue
            panel = self._load_panel(plan.symbols, tf, plan.needed_bars)
            fired += len(self.evaluate(panel, t, tf))
        delivered, failed = self.deliver_due(t)
        return CycleResult(fired, delivered, failed, dict(self.scope_errors))

    # ------------------------------------------------------------------ history
    def history(self, limit: int = 500) -> list[HistoryEntry]:
        return self.store.history(limit)

    def acknowledge(self, history_ids: Sequence[int]) -> None:
        self.store.acknowledge(history_ids, now=self._now(None))
        self.bus.publish(AlertsChanged())

    def snooze(self, history_id: int, seconds: int) -> None:
        """Quiet the entry's (alert, symbol) for ``seconds``. Raises ``AlertError``."""
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 < seconds <= 366 * 86400:
            raise AlertError("A snooze lasts from 1 second to a year.")
        t = self._now(None)
        aid, sym = self.store.snooze(history_id, t + seconds, now=t)
        with self._lock:
            if self._plans is not None:
                for plan in self._plans.values():
                    plan.snooze(aid, sym, t + seconds)
        self.bus.publish(AlertsChanged())

    # ------------------------------------------------------------------ delivery
    def config(self) -> DeliveryConfig:
        from engine.store.kv import KeyValueStore

        try:
            return DeliveryConfig.from_dict(KeyValueStore(self.db).get(CONFIG_KEY, {}))
        except AlertError:
            log.warning("ignoring unreadable alert delivery settings")
            return DeliveryConfig()

    def set_config(self, cfg: DeliveryConfig) -> DeliveryConfig:
        """Check and store the delivery settings. Raises ``AlertError``."""
        from engine.store.kv import KeyValueStore

        c = cfg.checked()
        KeyValueStore(self.db).set(CONFIG_KEY, c.to_dict())
        return c

    def deliver_due(self, now: float | None = None, channels: Sequence[str] | None = None) -> tuple[int, int]:
        """Try every pending delivery whose time has come (of ``channels``, default all).
        Returns (delivered, failed for good). Never raises for a failing channel."""
        t = self._now(now)
        cfg = self.config()
        delivered = failed = 0
        with self._deliver_lock:
            due = [d for d in self.store.due(t) if channels is None or d.channel in channels]
            sound: dict[int, bool] = {}
            if due:
                sound = {a.id or 0: a.sound for a in self.store.list()}
            for d in due:
                try:
                    entry = self.store.entry(d.history_id)
                except KeyError:
                    self.store.mark(d.id, "failed", d.attempts, t, error="its history entry is gone")
                    failed += 1
                    continue
                outcome = self._try(d, entry, cfg, t, sound.get(entry.alert_id, False))
                delivered += outcome == "sent"
                failed += outcome == "failed"
        if delivered or failed:
            self.bus.publish(AlertsChanged())
        return delivered, failed

    def _try(self, d: Delivery, entry: HistoryEntry, cfg: DeliveryConfig, now: int, sound: bool) -> str:
        """One try; returns the delivery's status after it ("sent", "pending", "failed")."""
        attempts = d.attempts + 1
        try:
            if d.channel == "app":
                self.bus.publish(AlertTriggered(entry, sound))
            else:
                deliver_once(d.channel, entry, cfg, d.id, now, self.senders)
        except DeliveryError as exc:
            err = str(exc)
        except Exception as exc:  # noqa: BLE001 - a channel bug must be recorded, not lose the alert
            log.exception("alert delivery %s crashed", d.id)
            err = f"{type(exc).__name__}: {exc}"
        else:
            self.store.mark(d.id, "sent", attempts, now)
            return "sent"
        if attempts >= cfg.max_attempts:
            self.store.mark(d.id, "failed", attempts, now, error=err)
            log.warning("alert delivery %s (%s) failed after %d tries: %s", d.id, d.channel, attempts, err)
            self.bus.publish(AlertDeliveryFailed(d.id, d.channel, entry.alert_name, entry.symbol, err, attempts))
            return "failed"
        nxt = now + max(1, int(round(cfg.delay_after(attempts))))
        self.store.mark(d.id, "pending", attempts, now, next_try_at=nxt, error=err)
        return "pending"

    def deliveries(self, status: str | None = None, limit: int = 500) -> list[Delivery]:
        return self.store.deliveries(status, limit)

    def retry(self, delivery_id: int) -> None:
        """Queue a failed delivery again."""
        self.store.retry(delivery_id, now=self._now(None))
        self.bus.publish(AlertsChanged())
