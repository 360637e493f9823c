"""The custom-indicators feature: the formula service, the indicator builder, and
``stockscanner compute``."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.features import ActionSpec, CliVerb, Feature, ServiceSpec, legacy_cli_adder

if TYPE_CHECKING:
    from app.context import AppContext
    from app.mainwindow import MainWindow


def _formulas(ctx: "AppContext") -> object:
    from engine.formula.service import FormulaService

    return FormulaService(ctx.db, ctx.bus)


def _builder_host(_ctx: "AppContext") -> object:
    from app.indicators import IndicatorBuilderHost

    return IndicatorBuilderHost()


def _open_builder(ctx: "AppContext", window: "MainWindow") -> object:
    from app.indicators import open_indicator_builder

    return open_indicator_builder(ctx, window)


def _add_compute(sub: Any) -> None:
    from app import cli

    cli._add_compute(sub)


def _run_compute(args: argparse.Namespace) -> int:
    from app import cli

    return cli.cmd_compute(args)


FEATURE = Feature(
    id="indicators",
    title="Custom indicators",
    services=(
        ServiceSpec("engine.formula.service:FormulaService", _formulas),
        ServiceSpec("app.indicators:IndicatorBuilderHost", _builder_host),
    ),
    actions=(ActionSpec("indicators.builder", "&Custom indicators…", _open_builder, "Ctrl+Shift+I", menu="&Indicators"),),
    cli_verbs=(
        CliVerb("compute", "evaluate formulas over a bar CSV and write them as CSV columns",
                legacy_cli_adder(_add_compute), _run_compute),
    ),
)
