"""The journal feature: the journal store, zero-entry from the paper broker, the Journal dock,
and the ``analyze``, ``journal`` and ``review`` CLI verbs (``app/journal_cli.py``).

Zero-entry wiring: every paper ``FillOccurred`` (through the Qt bridge, on the GUI thread)
asks ``JournalSync`` for a sync; the sync itself — FIFO round trips from the broker's fills,
bars, MFE/MAE and the PNG snapshot — runs in a worker (``ctx.tasks``), never on the GUI
thread. Requests while one runs are folded into one more run. The dock asks for one sync
when it opens (round trips closed while it was not wired are picked up: idempotent).

``journal/review_min_trades`` (0 = each rule's own minimum, else 1–10000 for every rule) is
read by the dock and by the ``review`` verb.

Reviews at period end (``AutoReviews``, ``journal/auto_reviews``, default on): a minute after
the app starts and once a day after, each week, month, quarter and year that ended since the last
check (``engine.journal.periods.periods_ended``; the day of the check is kept in the kv store
as ``ui.journal.reviews_done``) is reviewed in a worker with the dock's engine call and
written to ``<data dir>/reviews/<period>-<start>.html`` (self-contained, as the ``review``
verb writes it), with an info notification. A period with no trades gives neither. The first
start only records the day.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.features import Area, CliVerb, DockSpec, Feature, ServiceSpec, SettingKey, Subscription

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.context import AppContext
    from engine.journal.review import Period, Rule


class JournalSync:
    """Runs ``engine.journal.paper.sync_paper`` in a worker, one at a time."""

    def __init__(self, ctx: "AppContext") -> None:
        self.ctx = ctx
        self._running = False
        self._again = False
        self.runs = 0
        self.docks: list[Any] = []  # the open Journal widgets (settings changes reach them)

    def request(self) -> None:
        if self._running:
            self._again = True
            return
        self._running = True
        from engine.journal.paper import sync_paper
        from engine.journal.store import JournalStore

        journal = self.ctx.service(JournalStore)
        broker = self.ctx.broker
        data = self.ctx.data

        def bars_for(symbol: str, timeframe: str) -> Any:
            return data.get_bars(symbol, timeframe)

        self.ctx.tasks.submit(sync_paper, journal, broker, bars_for, label="Journal: new round trips",
                              on_finished=self._on_sync_finished)

    def _on_sync_finished(self) -> None:
        self.runs += 1
        self._running = False
        if self._again:
            self._again = False
            self.request()


AUTO_REVIEWS_KEY = "journal/auto_reviews"
REVIEWS_DONE = "journal.reviews_done"  # ui state: the ISO day of the last period-end check
_ADJECTIVE = {"week": "Weekly", "month": "Monthly", "quarter": "Quarterly", "year": "Yearly"}


def review_title(period: "Period") -> str:
    """"Monthly review for November 2026", "Weekly review for week 48 of 2026", …"""
    what = {"week": lambda s: f"week {s.isocalendar()[1]} of {s.isocalendar()[0]}",
            "month": lambda s: s.strftime("%B %Y"),
            "quarter": lambda s: f"Q{(s.month - 1) // 3 + 1} {s.year}",
            "year": lambda s: str(s.year)}[period.kind](period.start)
    return f"{_ADJECTIVE[period.kind]} review for {what}"


def write_period_reviews(store: Any, periods: list["Period"], rules: "tuple[Rule, ...]",
                         folder: Path) -> list[tuple["Period", Path]]:
    """Review each of ``periods`` (worker thread) into ``folder/<kind>-<start>.html``; the
    ones with no trades are skipped. Returns the written (period, path) pairs."""
    from engine.journal.report import review_html
    from engine.journal.review import review

    frame = store.frame()
    written: list[tuple[Period, Path]] = []
    for period in periods:
        rv = review(frame, period, rules=rules)
        if rv.stats.n == 0:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"{period.kind}-{period.start.isoformat()}.html"
        tmp = out.with_name(out.name + ".part")
        tmp.write_text(review_html(rv), encoding="utf-8")
        tmp.replace(out)
        written.append((period, out))
    return written


class AutoReviews:
    """Generates the reviews of the periods that ended (at start and once a day); ``today``
    is the clock (tests pass a fake one)."""

    DAY_MS = 24 * 3600 * 1000

    def __init__(self, ctx: "AppContext", today: Callable[[], date] = date.today) -> None:
        from PySide6.QtCore import QTimer

        self.ctx = ctx
        self.today = today
        self.busy = False
        self.closed = False
        self.written: list[Path] = []
        # the only timer: the first check is this timer's first interval (no singleShot with a
        # Python callable, which can fire after its context died); no Qt parent: owned here and
        # stopped by ``close`` (AppContext.close), never deleted by Qt under a callback that still
        # uses it (see app/features/alerts.py _Runner)
        self.timer = QTimer()
        self.timer.setInterval(self.DAY_MS)
        self.timer.timeout.connect(self._on_timer)

    def start(self, first_ms: int) -> None:
        """The first check after ``first_ms``, then one a day."""
        self.timer.start(first_ms)

    def _on_timer(self) -> None:
        self.timer.setInterval(self.DAY_MS)
        self.run()

    def last_done(self) -> date | None:
        raw = self.ctx.ui.get(REVIEWS_DONE)
        try:
            return date.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            return None

    def run(self) -> None:
        """Check once: submit the reviews of the periods that ended since the last check."""
        from engine import paths
        from engine.journal.periods import periods_ended
        from engine.journal.store import JournalStore

        if self.busy or self.closed or self.ctx.window is None:
            return  # closed, or headless
        if not bool(self.ctx.settings.get(AUTO_REVIEWS_KEY)):
            return
        today = self.today()
        last = self.last_done()
        periods = periods_ended(last, today)
        if not periods:
            if last is None or last < today:
                self.ctx.ui.set(REVIEWS_DONE, today.isoformat())
            return
        self.busy = True
        self.ctx.tasks.submit(write_period_reviews, self.ctx.service(JournalStore), periods,
                              review_rules(self.ctx.settings), paths.data_dir() / "reviews",
                              label="Journal: period reviews",
                              on_result=lambda res: self._on_result(today, res), on_finished=self._on_finished)

    def _on_result(self, today: date, written: list[tuple["Period", Path]]) -> None:
        if self.closed:
            return
        self.ctx.ui.set(REVIEWS_DONE, today.isoformat())
        for period, path in written:
            self.written.append(path)
            self.ctx.notifier.notify("Journal", f"{review_title(period)} is ready", "info")

    def _on_finished(self) -> None:
        self.busy = False

    def close(self) -> None:
        """Stop the daily check (``AppContext.close`` calls it)."""
        from shiboken6 import isValid

        self.closed = True
        if isValid(self.timer):
            self.timer.stop()


def _auto_reviews(ctx: "AppContext") -> object:
    return AutoReviews(ctx)


#: the first check waits this long after start: the first frame imports no engine.journal
FIRST_CHECK_MS = 60_000


def _start(ctx: "AppContext") -> None:
    ctx.service(AutoReviews).start(FIRST_CHECK_MS)


def _apply_auto_reviews(ctx: "AppContext", value: Any) -> None:
    if value:
        ctx.service(AutoReviews).run()


def _journal(ctx: "AppContext") -> object:
    from engine.journal.store import JournalStore

    return JournalStore(ctx.db, ctx.bus)


def _sync(ctx: "AppContext") -> object:
    return JournalSync(ctx)


def _on_fill(ctx: "AppContext", _event: Any) -> None:
    ctx.service(JournalSync).request()


MIN_TRADES_KEY = "journal/review_min_trades"


def min_trades_problem(value: Any) -> str | None:
    """Why ``value`` is not a valid ``journal/review_min_trades`` (None when it is)."""
    from engine.journal.review import MAX_MIN_TRADES

    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MIN_TRADES:
        return f"must be a whole number of trades from 0 (each rule's own minimum) to {MAX_MIN_TRADES}"
    return None


def review_rules(settings: Any) -> Any:
    """The review's rules with the minimum trade count of ``settings`` (``MIN_TRADES_KEY``)."""
    from engine.journal.review import rules_with_min_trades

    return rules_with_min_trades(int(settings.get(MIN_TRADES_KEY)))


def _apply_min_trades(ctx: "AppContext", _value: Any) -> None:
    rules = review_rules(ctx.settings)
    for w in ctx.service(JournalSync).docks:
        w.rules = rules


def _dock(ctx: "AppContext", _instance_id: str) -> "QWidget":
    from engine.journal.store import JournalStore
    from widgets.journal import JournalWidget

    w = JournalWidget(ctx.service(JournalStore), ctx.tasks, ctx.bridge, rules=review_rules(ctx.settings))
    sync = ctx.service(JournalSync)
    sync.docks.append(w)
    w.destroyed.connect(lambda *_a: sync.docks.remove(w) if w in sync.docks else None)
    sync.request()
    return w


def _verb(name: str) -> Any:
    def run(args: Any) -> int:
        from app import journal_cli

        return int(journal_cli.wrap(getattr(journal_cli, f"run_{name}"))(args))

    def configure(parser: Any) -> None:
        from app import journal_cli

        getattr(journal_cli, f"configure_{name}")(parser)

    return configure, run


FEATURE = Feature(
    id="journal",
    title="Journal",
    services=(
        ServiceSpec("engine.journal.store:JournalStore", _journal),
        ServiceSpec("app.features.journal:JournalSync", _sync),
        ServiceSpec("app.features.journal:AutoReviews", _auto_reviews),
    ),
    docks=(
        DockSpec("journal", "Journal", _dock, Area.BOTTOM, visible=False, tabify_with="positions",
                 shortcut="Ctrl+J"),
    ),
    cli_verbs=(
        CliVerb("analyze", "return metrics of a CSV series (Sharpe, Sortino, Calmar, CAGR, volatility, drawdown)",
                *_verb("analyze")),
        CliVerb("journal", "export or import the trading journal (CSV, JSON, Excel; broker CSVs)", *_verb("journal")),
        CliVerb("review", "a period review of the journal as PDF or HTML", *_verb("review")),
    ),
    settings=(
        SettingKey(MIN_TRADES_KEY, int, 0,
                   "the fewest trades a review recommendation may rest on, for every rule (0 = each rule's own "
                   "minimum; 1-10000)", validator=min_trades_problem, apply=_apply_min_trades,
                   label="Fewest trades behind a recommendation"),
        SettingKey(AUTO_REVIEWS_KEY, bool, True,
                   "write the weekly, monthly, quarterly and yearly reviews to <data dir>/reviews when a period "
                   "ends, with a notification", apply=_apply_auto_reviews,
                   label="Write period reviews when a period ends"),
    ),
    subscriptions=(Subscription("engine.paper.events:FillOccurred", _on_fill),),
    start=_start,
)
