"""The alerts feature: the alert service, the Alerts dock, evaluation in a worker on every
bar update and on a timer (live quotes), also while the window is closed to the tray;
triggered alerts shown in the tray (or the notification centre), with an optional sound;
failed deliveries shown as errors."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from app.features import Area, DockSpec, Feature, ServiceSpec, SettingKey, Subscription

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.context import AppContext
    from engine.alerts.service import AlertService
    from engine.formula.panel import Panel

DOCK_ID = "alerts"
DEBOUNCE_MS = 1000  # bar updates arrive in bursts (a refresh of many symbols): evaluate once after


def _interval_problem(v: Any) -> str | None:
    return None if 5 <= int(v) <= 3600 else "The alert interval must be 5 to 3600 seconds."


def _resolver(ctx: "AppContext") -> Any:
    from engine.alerts import AlertError, Scope
    from engine.scanner.universe import BUNDLED, bundled_universe, demo_universe, imported_universe
    from engine.watchlists import watchlist_symbols

    def resolve(scope: Scope) -> Sequence[str]:
        if scope.kind == "watchlist":
            return watchlist_symbols(ctx.db, scope.value)
        key = scope.value.lower()
        if key == "demo":
            return demo_universe(ctx.data).symbols
        if key == "imported":
            return imported_universe(ctx.data).symbols
        if key in BUNDLED:
            return bundled_universe(key).symbols
        raise AlertError(f"unknown universe '{scope.value}' (demo, imported, {', '.join(BUNDLED)})")

    return resolve


def _loader(ctx: "AppContext") -> Any:
    def load(symbols: Sequence[str], timeframe: str, length: int) -> "Panel":
        from engine.formula.panel import Panel

        bars = []
        for s in symbols:
            try:
                b = ctx.data.get_bars(s, timeframe=timeframe)
            except Exception:  # noqa: BLE001 - a symbol without data does not trigger; the rest go on
                continue
            if len(b):
                bars.append(b)
        return Panel.from_bars(bars, length=max(2, length), align="right")

    return load


def _service(ctx: "AppContext") -> object:
    from engine.alerts.service import AlertService

    def sentiment(panel: "Panel", days: int) -> Any:  # conditions' `sentiment(days)`, from stored news
        from app.features.news import news_service

        return news_service(ctx).sentiment_panel(panel, days)

    return AlertService(ctx.db, ctx.bus, custom=ctx.formulas.custom_map, resolve_scope=_resolver(ctx),
                        load_panel=_loader(ctx), sentiment=sentiment)


def alert_service(ctx: "AppContext") -> "AlertService":
    from engine.alerts.service import AlertService

    return ctx.service(AlertService)


class _Runner:
    """Schedules evaluation cycles: debounced after bar updates, and every
    ``alerts/interval_s`` seconds. One cycle at a time, in a worker."""

    def __init__(self, ctx: "AppContext") -> None:
        from PySide6.QtCore import QTimer

        self.ctx = ctx
        self.busy = False
        self.again = False
        self.closed = False
        # Timers without a Qt parent, owned here and stopped by ``close`` (AppContext.close runs
        # it): a window-parented timer could be deleted by Qt while a cycle was still running,
        # and the cycle's finished callback then started a dead timer (a segfault seen in the
        # app tests).
        self.debounce = QTimer()
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(DEBOUNCE_MS)
        self.debounce.timeout.connect(self.run)
        self.timer = QTimer()
        self.timer.setInterval(int(ctx.settings.get("alerts/interval_s", 60)) * 1000)
        self.timer.timeout.connect(self.run)
        self.timer.start()

    def schedule(self) -> None:
        if not self.closed:
            self.debounce.start()

    def close(self) -> None:
        """Stop scheduling (the workstation is closing); a cycle still running finishes unseen."""
        self.closed = True
        self.debounce.stop()
        self.timer.stop()

    def run(self) -> None:
        if self.closed:
            return
        if self.busy:
            self.again = True
            return
        self.busy = True
        svc = alert_service(self.ctx)
        self.ctx.tasks.submit(svc.run_cycle, label="Evaluating alerts", on_finished=self._on_finished)

    def _on_finished(self) -> None:
        self.busy = False
        if self.closed:
            return
        if self.again:
            self.again = False
            self.schedule()


_RUNNER_KEY = "app.features.alerts:_Runner"


def runner(ctx: "AppContext") -> _Runner:
    """The evaluation scheduler of this workstation (kept with its services)."""
    r = ctx._services.get(_RUNNER_KEY)
    if not isinstance(r, _Runner):
        r = _Runner(ctx)
        ctx._services[_RUNNER_KEY] = r
    return r


def _start(ctx: "AppContext") -> None:
    # a first evaluation shortly after start-up: after the first frame (issue 8), not during it
    after = getattr(ctx.window, "after_start_up", None)
    (after or (lambda fn: fn()))(runner(ctx).schedule)


def _dock(ctx: "AppContext", instance_id: str) -> "QWidget":
    from widgets.alerts import AlertsWidget

    w = AlertsWidget(alert_service(ctx), ctx.watchlists.names)
    w.symbol_activated.connect(lambda s: ctx.open_symbol(s, instance_id))
    return w


def _open(ctx: "AppContext") -> list[Any]:
    return ctx.window.contents(DOCK_ID) if ctx.window is not None else []


def _on_bars_updated(ctx: "AppContext", _event: Any) -> None:
    runner(ctx).schedule()


def _on_news_updated(ctx: "AppContext", event: Any) -> None:
    from engine.alerts.service import AlertService

    # new headlines change `sentiment`: evaluate again, if an alert reads it
    if getattr(event, "new", 0) and ctx.has_service(AlertService) and alert_service(ctx).uses_sentiment():
        runner(ctx).schedule()


def _on_triggered(ctx: "AppContext", event: Any) -> None:
    e = event.entry
    ctx.notifier.notify(f"Alert: {e.alert_name} — {e.symbol}", e.message, "info")
    if event.sound or ctx.settings.get("alerts/sound", False):
        from PySide6.QtWidgets import QApplication

        QApplication.beep()


def _on_delivery_failed(ctx: "AppContext", event: Any) -> None:
    ctx.notifier.notify(f"Alert delivery failed ({event.channel})",
                        f"{event.alert_name} — {event.symbol}: {event.error} (after {event.attempts} tries; "
                        "Retry is in the Alerts dock, Delivery tab)", "error")


def _on_alerts_changed(ctx: "AppContext", _event: Any) -> None:
    for w in _open(ctx):
        w.reload()


def _on_scope_inputs_changed(ctx: "AppContext", _event: Any) -> None:
    from engine.alerts.service import AlertService

    if ctx.has_service(AlertService):
        alert_service(ctx).invalidate()
        runner(ctx).schedule()


def _apply_interval(ctx: "AppContext", value: Any) -> None:
    runner(ctx).timer.setInterval(int(value) * 1000)


FEATURE = Feature(
    id="alerts",
    title="Alerts",
    services=(ServiceSpec("engine.alerts.service:AlertService", _service),),
    docks=(DockSpec(DOCK_ID, "Alerts", _dock, Area.BOTTOM, visible=False, shortcut="Ctrl+Shift+A"),),
    settings=(
        SettingKey("app/close_to_tray", bool, False,
                   "closing the window keeps Stock Scanner running in the tray (alerts keep being evaluated)",
                   label="Close to the tray"),
        SettingKey("alerts/sound", bool, False, "play a sound for every triggered alert", label="Play a sound"),
        SettingKey("alerts/interval_s", int, 60, "evaluate alerts on live quotes every N seconds (5-3600)",
                   validator=_interval_problem, apply=_apply_interval, label="Evaluate every (s)"),
    ),
    subscriptions=(
        Subscription("engine.data.events:BarsUpdated", _on_bars_updated),
        Subscription("engine.news.events:NewsUpdated", _on_news_updated),
        Subscription("engine.alerts.events:AlertTriggered", _on_triggered),
        Subscription("engine.alerts.events:AlertDeliveryFailed", _on_delivery_failed),
        Subscription("engine.alerts.events:AlertsChanged", _on_alerts_changed),
        Subscription("engine.watchlists:WatchlistChanged", _on_scope_inputs_changed),
        Subscription("engine.formula.events:CustomIndicatorsChanged", _on_scope_inputs_changed),
    ),
    start=_start,
)
