"""The journal feature: the journal store, zero-entry from the paper broker, the Journal dock,
and the ``analyze``, ``journal`` and ``review`` CLI verbs (``app/journal_cli.py``).

Zero-entry wiring: every paper ``FillOccurred`` (through the Qt bridge, on the GUI thread)
asks ``JournalSync`` for a sync; the sync itself — FIFO round trips from the broker's fills,
bars, MFE/MAE and the PNG snapshot — runs in a worker (``ctx.tasks``), never on the GUI
thread. Requests while one runs are folded into one more run. The dock asks for one sync
when it opens (round trips closed while it was not wired are picked up: idempotent).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.features import Area, CliVerb, DockSpec, Feature, ServiceSpec, Subscription

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


def _dock(ctx: "AppContext", _instance_id: str) -> "QWidget":
    from engine.journal.store import JournalStore
    from widgets.journal import JournalWidget

    w = JournalWidget(ctx.service(JournalStore), ctx.tasks, ctx.bridge)
    ctx.service(JournalSync).request()
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
    subscriptions=(Subscription("engine.paper.events:FillOccurred", _on_fill),),
)
