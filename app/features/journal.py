"""The journal feature: the journal store, zero-entry from the paper broker, the Journal dock,
and the ``analyze``, ``journal`` and ``review`` CLI verbs (``app/journal_cli.py``).

Zero-entry wiring: every paper ``FillOccurred`` (through the Qt bridge, on the GUI thread)
asks ``JournalSync`` for a sync; the sync itself — FIFO round trips from the broker's fills,
bars, MFE/MAE and the PNG snapshot — runs in a worker (``ctx.tasks``), never on the GUI
thread. Requests while one runs are folded into one more run. The dock asks for one sync
when it opens (round trips closed while it was not wired are picked up: idempotent).

``journal/review_min_trades`` (0 = each rule's own minimum, else 1–10000 for every rule) is
read by the dock and by the ``review`` verb.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.features import Area, CliVerb, DockSpec, Feature, ServiceSpec, SettingKey, Subscription

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.context import AppContext


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
                   "minimum; 1-10000)", validator=min_trades_problem, apply=_apply_min_trades),
    ),
    subscriptions=(Subscription("engine.paper.events:FillOccurred", _on_fill),),
)
