"""The scanner feature: universes, conditions, results; a click opens the symbol in the
scanner's link group. CLI: ``stockscanner scan``."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.features import Area, CliVerb, DockSpec, Feature, ServiceSpec, Subscription, legacy_cli_adder

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.context import AppContext

DOCK_ID = "scanner"


def _scan_store(ctx: "AppContext") -> object:
    from engine.scanner.store import ScanStore

    return ScanStore(ctx.db)


def _scanner_service(ctx: "AppContext") -> object:
    from engine.scanner.scanner import Scanner

    return Scanner.from_service(ctx.data, ctx.scan_store, ctx.formulas)


def _scanner(ctx: "AppContext", instance_id: str) -> "QWidget":
    from app.indicators import open_indicator_builder
    from widgets.scanner import ScannerWidget

    w = ScannerWidget(ctx.scanner, ctx.scan_store, ctx.formulas, ctx.watchlists, ctx.data, ctx.tasks)
    w.symbol_activated.connect(lambda s, i=instance_id: ctx.open_symbol(s, i))
    w.indicator_builder_requested.connect(lambda: open_indicator_builder(ctx, w.window()))
    # the dock's setup survives a crash too: saved with the layout when a scan starts
    host = ctx.window
    if host is not None:
        w.scan_started.connect(host.save_dock_states)
    return w


def _open(ctx: "AppContext") -> list[Any]:
    return ctx.window.contents(DOCK_ID) if ctx.window is not None else []


def _on_watchlist_changed(ctx: "AppContext", _event: Any) -> None:
    for w in _open(ctx):
        w.reload_universes()


def _on_settings(ctx: "AppContext", event: Any) -> None:
    if getattr(event, "key", "") == "data/source":  # the index lists need Yahoo, not demo data
        for w in _open(ctx):
            w.reload_universes()


def _on_custom_indicators(ctx: "AppContext", _event: Any) -> None:
    for w in _open(ctx):
        w.revalidate()


def _add_scan(sub: Any) -> None:
    from app import cli

    cli._add_scan(sub)


def _run_scan(args: argparse.Namespace) -> int:
    from app import cli

    return cli.cmd_scan(args)


FEATURE = Feature(
    id="scanner",
    title="Scanner",
    services=(
        ServiceSpec("engine.scanner.store:ScanStore", _scan_store),
        ServiceSpec("engine.scanner.scanner:Scanner", _scanner_service),
    ),
    docks=(DockSpec(DOCK_ID, "Scanner", _scanner, Area.RIGHT, shortcut="Ctrl+3", linkable=True),),
    cli_verbs=(
        CliVerb("scan", "scan a folder of SYMBOL.csv files for a formula on the last bar",
                legacy_cli_adder(_add_scan), _run_scan),
    ),
    subscriptions=(
        Subscription("engine.watchlists:WatchlistChanged", _on_watchlist_changed),
        Subscription("engine.formula.events:CustomIndicatorsChanged", _on_custom_indicators),
        Subscription("engine.events:SettingsChanged", _on_settings),
    ),
)
