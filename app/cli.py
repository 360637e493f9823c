"""The ``stockscanner`` command: no verb opens the workstation, a verb runs headless.

One function per verb (``cmd_<verb>``), each registered by ``_add_<verb>`` on the parser.
Verbs call the same engine functions as the widgets. Imports are lazy so that
``stockscanner --version`` and the window start fast.
Exit codes: 0 ok, 1 user error (bad input, clear message on stderr), 2 usage error.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from engine import __version__


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 1."""


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=None, default=str))


# --------------------------------------------------------------------------- verbs

def cmd_gui(args: argparse.Namespace) -> int:
    from app.main import run_gui

    return run_gui(args)


def _add_import(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import a bar CSV (Yahoo, Stooq or generic OHLCV) into the local store")
    p.add_argument("path")
    p.add_argument("--symbol", help="symbol (default: from the file name)")
    p.add_argument("--timeframe", default=None, help="1d, 1m, 5m, ... (default: detected)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    from engine.data.service import DataService

    svc = DataService.open_default()
    result = svc.import_csv(args.path, symbol=args.symbol, timeframe=args.timeframe)
    if args.json:
        _print_json(result.to_dict())
    else:
        print(
            f"Imported {result.rows} bars of {result.symbol} ({result.timeframe}) "
            f"from {result.first} to {result.last}."
        )
    return 0


def _add_screenshot(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("screenshot", help="render the main window offscreen to a PNG")
    p.add_argument("out")
    p.add_argument("--size", default="1600x1000", help="WIDTHxHEIGHT (default 1600x1000)")
    p.set_defaults(func=cmd_screenshot)


def cmd_screenshot(args: argparse.Namespace) -> int:
    from app.main import screenshot

    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError as exc:
        raise CliError(f"--size must look like 1600x1000, not {args.size!r}") from exc
    screenshot(args.out, w, h)
    print(args.out)
    return 0


# --------------------------------------------------------------------------- parser

_VERBS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_import,
    _add_screenshot,
]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stockscanner", description="Stock Scanner trading workstation")
    p.add_argument("--version", action="version", version=f"stockscanner {__version__}")
    p.add_argument("--data-dir", metavar="DIR", help="keep every file in DIR (also: STOCKSCANNER_HOME)")
    p.add_argument("--verbose", "-v", action="store_true", help="log debug messages to stderr")
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    for add in _VERBS:
        add(sub)
    p.set_defaults(func=cmd_gui)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from engine import paths

    if args.data_dir:
        paths.set_data_dir(args.data_dir)
    from app.logging_setup import setup_logging

    setup_logging(verbose=args.verbose, console=args.verb is not None)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ValueError, OSError, RuntimeError) as exc:
        # Engine errors carry user-facing messages (bad CSV, unwritable folder, ...).
        if args.verb is None:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
