"""The workstation itself: appearance and service preferences, ``stockscanner screenshot``."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.features import CliVerb, Feature, SettingKey, legacy_cli_adder
from app.features.data import valid_url

if TYPE_CHECKING:
    from app.context import AppContext

THEMES = ("dark", "light")


def _service_problem(value: str) -> str | None:
    if value.strip() and not valid_url(value.strip(), ("http", "https")):
        return "Service URL must be an http(s) URL such as https://api.example.com (or empty)."
    return None


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
        SettingKey("service/url", str, "", "the REST service; empty = the embedded one on 127.0.0.1",
                   validator=_service_problem),
    ),
    cli_verbs=(
        CliVerb("screenshot", "render the main window offscreen to a PNG",
                legacy_cli_adder(_add_screenshot), _run_screenshot),
    ),
)
