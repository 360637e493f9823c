"""The research feature: parameter search, walk-forward analysis, universe portfolios and the
overfitting verdict. The Optimizer dock (``widgets/research``) over ``ResearchService``; CLI:
``stockscanner optimize`` (``app/research_cli.py``; ``backtest --universe`` goes there too).
Nothing heavy is imported here."""
from __future__ import annotations

import argparse

from typing import TYPE_CHECKING

from app.features import Area, CliVerb, DockSpec, Feature, ServiceSpec

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.context import AppContext

DOCK_ID = "optimizer"


def _service(ctx: "AppContext") -> object:
    from engine.research.service import ResearchService

    return ResearchService(ctx.db, ctx.data)


def _dock(ctx: "AppContext", instance_id: str) -> "QWidget":
    from engine.research.service import ResearchService
    from widgets.research import OptimizerWidget

    return OptimizerWidget(ctx.service(ResearchService), ctx.tasks)


def _add(parser: argparse.ArgumentParser) -> None:
    from app import research_cli

    research_cli.add_optimize(parser)


def _run(args: argparse.Namespace) -> int:
    from app import research_cli

    return research_cli.cmd_optimize(args)


FEATURE = Feature(
    id="research",
    title="Strategy research",
    services=(ServiceSpec("engine.research.service:ResearchService", _service),),
    docks=(DockSpec(DOCK_ID, "Optimizer", _dock, Area.BOTTOM, visible=False, size=520),),
    cli_verbs=(
        CliVerb("optimize", "search strategy parameters (grid, random, Bayesian) with optional walk-forward",
                _add, _run,
                description="Optimise the {parameters} of entry/exit formulas over bar CSVs on a process pool "
                            "or a Dask cluster; with --walk-forward N, out-of-sample figures, the deflated "
                            "Sharpe ratio and the probability of backtest overfitting."),
    ),
)
