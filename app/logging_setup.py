"""Logging: a rotating file in the log dir, plus stderr for headless verbs."""
from __future__ import annotations

import logging
import logging.handlers
import sys

from engine import paths

_configured = False


def setup_logging(verbose: bool = False, console: bool = False) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    try:
        d = paths.log_dir()
        d.mkdir(parents=True, exist_ok=True)
        fh = logging.handlers.RotatingFileHandler(
            d / "stockscanner.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
        fh.setFormatter(fmt)
        root.addHandler(fh)
    except OSError as exc:
        print(f"warning: cannot write the log file ({exc}); logging to stderr only", file=sys.stderr)
        console = True
    if console or verbose:
        sh = logging.StreamHandler(sys.stderr)
        sh.setLevel(logging.DEBUG if verbose else logging.WARNING)
        sh.setFormatter(fmt)
        root.addHandler(sh)
    # yfinance logs its failures instead of raising; keep its noise out of stderr.
    logging.getLogger("yfinance").setLevel(logging.CRITICAL)
