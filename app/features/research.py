"""The research feature: parameter search, walk-forward analysis and the overfitting verdict.
CLI: ``stockscanner optimize`` (``app/research_cli.py``). Nothing heavy is imported here."""
from __future__ import annotations

import argparse

from app.features import CliVerb, Feature


def _add(parser: argparse.ArgumentParser) -> None:
    from app import research_cli

    research_cli.add_optimize(parser)


def _run(args: argparse.Namespace) -> int:
    from app import research_cli

    return research_cli.cmd_optimize(args)


FEATURE = Feature(
    id="research",
    title="Strategy research",
    cli_verbs=(
        CliVerb("optimize", "search strategy parameters (grid, random, Bayesian) with optional walk-forward",
                _add, _run,
                description="Optimise the {parameters} of entry/exit formulas over bar CSVs on a process pool "
                            "or a Dask cluster; with --walk-forward N, out-of-sample figures, the deflated "
                            "Sharpe ratio and the probability of backtest overfitting."),
    ),
)
