"""Feature modules: each capability declares, in one place, what it adds to the shell.

After vn.py's ``BaseApp`` (one object registers an app's engine, widgets and menu) and
napari's npe2 manifest (contributions listed in one place). A ``Feature`` names:

* ``services`` -- engine (or shell) service objects, each built on first use by
  ``AppContext.service(Type)``;
* ``docks`` -- the dock types it contributes (single or multi-instance);
* ``actions`` -- menu entries and shortcuts;
* ``settings`` -- the preference keys it owns, with type, default and validator (the
  settings schema is the union of every feature's keys);
* ``cli_verbs`` -- headless ``stockscanner VERB`` sub-commands;
* ``subscriptions`` -- bus events it reacts to on the GUI thread.

The main window, the View menu, the other menus, the settings schema and the CLI parser
are built from ``FEATURES``; nothing else names a dock or a feature. Adding a capability is
one module under ``app/features/`` plus one line in ``FEATURES`` (see docs/architecture.md).

This module and the feature modules import no Qt and no heavy library at import time:
the CLI reads them to build its parser, and ``stockscanner --version`` must stay fast.
Everything heavy is imported inside the factories.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.context import AppContext
    from app.mainwindow import MainWindow
    from engine.events import Event


class Area(str, Enum):
    """Where a dock goes in the default layout (mapped to ``Qt.DockWidgetArea`` by the shell)."""

    LEFT = "left"
    RIGHT = "right"
    TOP = "top"
    BOTTOM = "bottom"


@dataclass(frozen=True)
class ServiceSpec:
    """A service a feature provides. ``type_path`` is ``"module:QualName"`` of the object
    ``factory(ctx)`` returns, so the class need not be imported until it is asked for."""

    type_path: str
    factory: Callable[["AppContext"], object]


@dataclass(frozen=True)
class DockSpec:
    """One dock type.

    ``id`` is a stable ASCII identifier: the dock's ``objectName`` (what ``saveState`` keys
    on, never the translated title). A ``multi`` dock may be opened several times; its
    instances are ``id``, ``id-2``, ``id-3``, ... and ``new_text``/``new_shortcut`` name the
    "New …" action. ``linkable`` docks get a link-group button in their title bar (see
    ``app/links.py``). ``factory(ctx, instance_id)`` builds the content on first show; when
    the content has ``state() -> dict`` and ``restore_state(dict)`` the shell saves and
    restores it with the layout.
    """

    id: str
    title: str
    factory: Callable[["AppContext", str], "QWidget"]
    area: Area = Area.RIGHT
    visible: bool = True  # in the default layout
    shortcut: str | None = None
    icon: str = ""  # a resources/icons name; empty = none
    tabify_with: str | None = None  # id of a dock to share a tab group with by default
    split_with: str | None = None  # id of a dock to sit beside (to its right) by default
    size: int | None = None  # default width (left/right/split) or height (top/bottom), px
    multi: bool = False
    new_text: str = ""
    new_shortcut: str | None = None
    linkable: bool = False

    def __post_init__(self) -> None:
        if not (self.id.isascii() and self.id.isidentifier()):
            raise ValueError(f"dock id {self.id!r} must be an ASCII identifier")


@dataclass(frozen=True)
class ActionSpec:
    """A menu entry. ``menu`` is the top-level menu's title ("File", "View", "Help" or a
    menu of the feature's own, created in ``FEATURES`` order between View and Help)."""

    id: str
    text: str
    callback: Callable[["AppContext", "MainWindow"], object]
    shortcut: str | None = None
    menu: str = "&View"


@dataclass(frozen=True)
class SettingKey:
    """A preference the user edits (settings.ini). ``validator(value)`` returns ``None`` when
    the value is fine, else a one-sentence reason; values are converted with ``type`` first."""

    key: str
    type: type
    default: Any
    description: str
    validator: Callable[[Any], str | None] | None = None
    choices: tuple[Any, ...] = ()
    #: called on the GUI thread after the user changed the value in Settings
    apply: Callable[["AppContext", Any], None] | None = None
    #: the field's label in the Settings dialog (default: from the key's last part)
    label: str = ""


@dataclass(frozen=True)
class CliVerb:
    """A headless sub-command: ``configure(parser)`` adds its arguments, ``run(args)`` returns
    the exit status (0 ok, 1 user error)."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None


@dataclass(frozen=True)
class Subscription:
    """``handler(ctx, event)`` runs on the GUI thread for every published ``event`` (or
    subclass) through the Qt bridge, once per event. ``event`` is the class or its
    ``"module:QualName"`` (imported when the window wires it, so the CLI stays light)."""

    event: "type[Event] | str"
    handler: Callable[["AppContext", Any], None]

    def event_class(self) -> "type[Event]":
        return self.event if isinstance(self.event, type) else resolve(self.event)


@dataclass(frozen=True)
class Feature:
    id: str
    title: str
    services: tuple[ServiceSpec, ...] = ()
    docks: tuple[DockSpec, ...] = ()
    actions: tuple[ActionSpec, ...] = ()
    settings: tuple[SettingKey, ...] = ()
    cli_verbs: tuple[CliVerb, ...] = ()
    subscriptions: tuple[Subscription, ...] = field(default=())
    #: called once on the GUI thread when the main window is built (long-lived timers, ...)
    start: Callable[["AppContext"], None] | None = None


def resolve(type_path: str) -> Any:
    """The object named by ``"package.module:QualName"``."""
    import importlib

    module, _, name = type_path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def legacy_cli_adder(add: Callable[[Any], None]) -> Callable[[argparse.ArgumentParser], None]:
    """Adapt an ``app.cli._add_<verb>(subparsers)`` function to ``CliVerb.configure``: it
    configures the one parser it is given (its own ``add_parser`` call is answered with that
    parser; a ``description`` passed there is kept)."""

    class _One:
        def __init__(self, parser: argparse.ArgumentParser) -> None:
            self.parser = parser

        def add_parser(self, _name: str, **kwargs: Any) -> argparse.ArgumentParser:
            if kwargs.get("description"):
                self.parser.description = kwargs["description"]
            return self.parser

    def configure(parser: argparse.ArgumentParser) -> None:
        add(_One(parser))

    return configure


def _features() -> tuple[Feature, ...]:
    from app.features import alerts, chart, data, indicators, news, scanner, shell, trading, watchlist

    return (
        chart.FEATURE,
        watchlist.FEATURE,
        scanner.FEATURE,
        trading.FEATURE,
        resolve("app.features.options:FEATURE"),
        resolve("app.features.journal:FEATURE"),
        resolve("app.features.research:FEATURE"),
        resolve("app.features.strategies:FEATURE"),
        resolve("app.features.social:FEATURE"),
        indicators.FEATURE,
        alerts.FEATURE,
        news.FEATURE,
        data.FEATURE,
        resolve("app.features.service:FEATURE"),
        resolve("app.features.account:FEATURE"),
        resolve("app.features.subscription:FEATURE"),
        resolve("app.features.workspaces:FEATURE"),
        resolve("app.features.palette:FEATURE"),
        resolve("app.features.health:FEATURE"),
        resolve("app.features.updates:FEATURE"),
        resolve("app.features.education:FEATURE"),
        shell.FEATURE,
    )


#: The one list of capabilities, in menu and default-layout order.
FEATURES: list[Feature] = list(_features())


def dock_specs(features: list[Feature] | None = None) -> Iterator[DockSpec]:
    for f in features if features is not None else FEATURES:
        yield from f.docks


def setting_keys(features: list[Feature] | None = None) -> Iterator[SettingKey]:
    for f in features if features is not None else FEATURES:
        yield from f.settings


def cli_verbs(features: list[Feature] | None = None) -> Iterator[CliVerb]:
    for f in features if features is not None else FEATURES:
        yield from f.cli_verbs
