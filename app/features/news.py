"""The news feature: the news service, the News dock (linkable: it follows its group's
chart), refresh from Yahoo Finance and the user's feeds in a worker every
``news/refresh_min`` minutes, demo headlines so the dock is never empty, and the headless
``stockscanner sentiment`` verb (``app/sentiment_cli.py``)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from app.features import ActionSpec, Area, CliVerb, DockSpec, Feature, ServiceSpec, SettingKey, Subscription

if TYPE_CHECKING:
    import argparse

    from PySide6.QtWidgets import QWidget

    from app.context import AppContext
    from app.mainwindow import MainWindow
    from engine.news.service import NewsService, RefreshReport

log = logging.getLogger(__name__)
DOCK_ID = "news"


def _interval_problem(v: Any) -> str | None:
    return None if 1 <= int(v) <= 1440 else "The news refresh interval must be 1 to 1440 minutes."


def _all_watchlist_symbols(ctx: "AppContext") -> list[str]:
    out: dict[str, None] = {}
    for name in ctx.watchlists.names():
        out.update(dict.fromkeys(ctx.watchlists.symbols(name)))
    return list(out)


def _service(ctx: "AppContext") -> object:
    from engine.news.service import NewsService

    return NewsService(ctx.db, ctx.bus, known_symbols=lambda: _all_watchlist_symbols(ctx))


def news_service(ctx: "AppContext") -> "NewsService":
    from engine.news.service import NewsService

    return ctx.service(NewsService)


def _refresh_job(svc: "NewsService", symbols: list[str], demo: bool) -> "RefreshReport":
    from dataclasses import replace

    added = svc.ensure_demo() if demo else 0
    report = svc.refresh(symbols)
    return replace(report, new=report.new + added) if added else report


class _Refresher:
    """Refreshes news in a worker: when the News dock is first built, then every
    ``news/refresh_min`` minutes, and on demand. One refresh at a time."""

    def __init__(self, ctx: "AppContext") -> None:
        from PySide6.QtCore import QTimer

        self.ctx = ctx
        self.busy = False
        self.closed = False
        # no Qt parent: owned here and stopped by ``close`` (AppContext.close), never deleted by Qt
        # under a callback that still uses it (see app/features/alerts.py _Runner)
        self.timer = QTimer()
        self.set_interval(int(ctx.settings.get("news/refresh_min", 15)))
        self.timer.timeout.connect(self.run)
        self.timer.start()

    def set_interval(self, minutes: int) -> None:
        self.timer.setInterval(int(minutes) * 60_000)

    def run(self) -> None:
        from shiboken6 import isValid

        if self.busy or self.closed or not isValid(self.timer):
            return
        self.busy = True
        ctx = self.ctx
        demo = ctx.data.source == "demo"
        ctx.tasks.submit(_refresh_job, news_service(ctx), _all_watchlist_symbols(ctx), demo,
                         label="Refreshing news", on_result=self._on_result, on_finished=self._on_finished)

    def close(self) -> None:
        """Stop refreshing (``AppContext.close`` calls it when the workstation ends)."""
        from shiboken6 import isValid

        self.closed = True
        if isValid(self.timer):
            self.timer.stop()

    def _on_result(self, report: "RefreshReport") -> None:
        import time

        if self.closed:
            return
        when = time.strftime("%H:%M")
        text = f"refreshed {when}: {report.new} new"
        if report.errors:
            text += f", {len(report.errors)} source(s) failed: {report.errors[0]}"
            for e in report.errors:
                log.info("news refresh: %s", e)
        for w in _open(self.ctx):
            w.set_refresh_result(text)

    def _on_finished(self) -> None:
        self.busy = False


_REFRESHER_KEY = "app.features.news:_Refresher"


def refresher(ctx: "AppContext") -> _Refresher:
    """The news refresh scheduler of this workstation (kept with its services)."""
    r = ctx._services.get(_REFRESHER_KEY)
    if not isinstance(r, _Refresher):
        r = _Refresher(ctx)
        ctx._services[_REFRESHER_KEY] = r
    return r


def _start(ctx: "AppContext") -> None:
    refresher(ctx)  # the schedule; the first refresh comes when the News dock is first built


def _dock(ctx: "AppContext", instance_id: str) -> "QWidget":
    from app.chart_registry import ChartFollower
    from widgets.news import NewsWidget

    w = NewsWidget(news_service(ctx), ctx.watchlists.names, ctx.watchlists.symbols)
    w.symbol_activated.connect(lambda s: ctx.open_symbol(s, instance_id))
    w.refresh_requested.connect(lambda: refresher(ctx).run())
    ChartFollower(ctx.chart_registry, instance_id, w, w.set_symbol, lambda _p: None)
    from PySide6.QtCore import QTimer

    r = refresher(ctx)
    # the dock's first show: a refresh (and, in demo mode, the demo headlines) in a worker;
    # the refresher's timer is the context, so it never fires once the window is gone
    QTimer.singleShot(0, r.timer, r.run)
    return w


def _open(ctx: "AppContext") -> list[Any]:
    from shiboken6 import isValid

    # a refresh can finish after the window was closed (quit, or the tray's Quit)
    if ctx.window is None or not isValid(ctx.window):
        return []
    try:
        return [w for w in ctx.window.contents(DOCK_ID) if isValid(w)]
    except RuntimeError:  # a dock deleted while the window goes away
        return []


def attach_sentiment_study(ctx: "AppContext", chart: Any) -> None:
    """Offer the "News sentiment" pane on ``chart`` (``widgets/chart/sentiment.py``), its
    values the stored news' daily sentiment (computed in the chart's study worker)."""
    from widgets.chart.sentiment import attach_news_sentiment

    attach_news_sentiment(chart, lambda symbol, bars: news_service(ctx).daily_sentiment(symbol, bars).mean)


def _on_news_updated(ctx: "AppContext", event: Any) -> None:
    for w in _open(ctx):
        w.reload()
    if not getattr(event, "new", 0):
        return  # only read states changed
    from widgets.chart.sentiment import refresh_news_sentiment

    for chart in ctx.charts:  # new headlines: the sentiment panes recompute
        refresh_news_sentiment(chart)


def _on_watchlist_changed(ctx: "AppContext", _event: Any) -> None:
    for w in _open(ctx):
        w.reload_scopes()
        w.reload()


def _apply_interval(ctx: "AppContext", value: Any) -> None:
    refresher(ctx).set_interval(int(value))


def _refresh_action(ctx: "AppContext", _win: "MainWindow") -> None:
    refresher(ctx).run()


def _feeds_action(ctx: "AppContext", win: "MainWindow") -> None:
    from widgets.news.dock import FeedsDialog

    FeedsDialog(news_service(ctx), win).exec()


def _configure_sentiment(parser: "argparse.ArgumentParser") -> None:
    from app.sentiment_cli import configure

    configure(parser)


def _run_sentiment(args: "argparse.Namespace") -> int:
    from app.sentiment_cli import run

    return run(args)


FEATURE = Feature(
    id="news",
    title="News",
    services=(ServiceSpec("engine.news.service:NewsService", _service),),
    docks=(DockSpec(DOCK_ID, "News", _dock, Area.BOTTOM, visible=False, shortcut="Ctrl+4",
                   linkable=True),),
    actions=(
        ActionSpec("news.refresh", "&Refresh news", _refresh_action, "Ctrl+Shift+U", menu="&News"),
        ActionSpec("news.feeds", "News &feeds…", _feeds_action, None, menu="&News"),
    ),
    settings=(
        SettingKey("news/refresh_min", int, 15, "minutes between news refreshes (1-1440)",
                   validator=_interval_problem, apply=_apply_interval, label="Refresh every (minutes)"),
    ),
    cli_verbs=(
        CliVerb("sentiment", "finance-aware sentiment of a text or a CSV column", _configure_sentiment,
                _run_sentiment,
                description="Score text with finance-aware sentiment (VADER plus a finance layer): "
                            "--text TEXT, or --csv PATH --column NAME; --json prints "
                            '[{"compound": …, "label": …}] in input order.'),
    ),
    subscriptions=(
        Subscription("engine.news.events:NewsUpdated", _on_news_updated),
        Subscription("engine.watchlists:WatchlistChanged", _on_watchlist_changed),
    ),
    start=_start,
)
