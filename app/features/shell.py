"""The workstation itself: appearance preferences, ``stockscanner screenshot`` (the service
preferences are the service feature's, ``app/features/service.py``)."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.features import CliVerb, Feature, SettingKey, legacy_cli_adder

if TYPE_CHECKING:
    from app.context import AppContext

THEMES = ("dark", "light")


def _apply_theme(ctx: "AppContext", value: Any) -> None:
    window = ctx.window
    if window is not None:
        window.set_theme(str(value))


def _add_screenshot(sub: Any) -> None:
    from app import cli

    cli._add_screenshot(sub)


def _run_screenshot(args: argparse.Namespace) -> int:
    from app import cli

    return cli.cmd_screenshot(args)


FEATURE = Feature(
    id="shell",
    title="Workstation",
    settings=(
        SettingKey("ui/theme", str, "dark", "colour theme: dark or light", choices=THEMES, apply=_apply_theme),
    ),
    cli_verbs=(
        CliVerb("screenshot", "render the main window offscreen to a PNG",
                legacy_cli_adder(_add_screenshot), _run_screenshot),
    ),
)
