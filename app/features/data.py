"""The data feature: the data source and proxy preferences, CSV import (menu and
``stockscanner import``)."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from app.features import ActionSpec, CliVerb, Feature, SettingKey, legacy_cli_adder

if TYPE_CHECKING:
    from app.context import AppContext
    from app.mainwindow import MainWindow

SOURCES = ("demo", "yahoo")


def valid_url(text: str, schemes: tuple[str, ...]) -> bool:
    u = urlparse(text)
    return u.scheme in schemes and bool(u.netloc)


def _proxy_problem(value: str) -> str | None:
    if value.strip() and not valid_url(value.strip(), ("http", "https", "socks5", "socks5h")):
        return "Proxy must look like http://host:port (or empty)."
    return None


def _apply_source(ctx: "AppContext", value: Any) -> None:
    ctx.data.set_source(str(value))


def _apply_proxy(ctx: "AppContext", _value: Any) -> None:
    ctx.settings.apply_proxy()


def _import(ctx: "AppContext", window: "MainWindow") -> None:
    from PySide6.QtWidgets import QFileDialog

    path, _ = QFileDialog.getOpenFileName(window, "Import bars from CSV", "", "CSV files (*.csv *.txt);;All files (*)")
    if path:
        window.import_csv(path)


def show_import_report(window: "MainWindow", path: str, *, result: Any = None,
                       exc: BaseException | None = None) -> Any:
    """Open the import report beside the window (not modal): every problem of a failed
    import with its line, or the notes of a successful one. Returns the dialog."""
    from widgets.import_report import ImportReportDialog

    old = getattr(window, "import_report", None)
    if old is not None:
        old.close()
    dlg = (ImportReportDialog.for_error(path, exc, parent=window) if exc is not None
           else ImportReportDialog.for_result(path, result, parent=window))
    window.import_report = dlg  # type: ignore[attr-defined]  # the latest one, kept alive and testable
    dlg.show()
    return dlg


def _add_import(sub: Any) -> None:
    from app import cli

    cli._add_import(sub)


def _run_import(args: argparse.Namespace) -> int:
    from app import cli

    return cli.cmd_import(args)


FEATURE = Feature(
    id="data",
    title="Market data",
    settings=(
        SettingKey("data/source", str, "demo", "where bars come from: demo (offline) or yahoo",
                   choices=SOURCES, apply=_apply_source),
        SettingKey("network/proxy", str, "", "proxy for outgoing HTTP(S), e.g. http://proxy:3128; empty = none",
                   validator=_proxy_problem, apply=_apply_proxy),
    ),
    actions=(ActionSpec("data.import", "&Import CSV…", _import, "Ctrl+I", menu="&File"),),
    cli_verbs=(
        CliVerb("import", "import a bar CSV (Yahoo, Stooq or generic OHLCV) into the local store",
                legacy_cli_adder(_add_import), _run_import),
    ),
)
